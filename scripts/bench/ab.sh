#!/usr/bin/env bash
# Two builds (or two settings) side by side on the suite's step: both serve the suite's
# database at once, on two ports, and wrk steps one then the other in short runs, BENCH_RUNS
# pairs (A first in odd pairs, B first in even ones, so that neither always runs second), each
# run on fresh toy cases (scripts/bench/step.lua). The machine's minute-to-minute drift, which
# moves one build's figures by a fifth, then falls on both builds of a pair alike: the script
# prints every pair, each build's median, and the median of the pairs' ratios B / A, the figure
# to compare builds by (docs/benchmarks.md, session 24).
#
#   scripts/bench/ab.sh BIN_A BIN_B [CLIENTS ...]     # 1 4 16 clients when none are given
#
# A binary may be a script that sets the environment and runs the real one (`exec env
# TOKIO_WORKER_THREADS=1 …/memberflow "$@"`), to compare settings of one build.
# Run `scripts/bench/suite.sh steps` first: it builds BENCH_DB, the bench account and the toy
# workflow's schemas under BENCH_WORK.
#
# Environment (defaults): BENCH_PG (postgres://postgres@127.0.0.1:5432), BENCH_DB (mfbench),
# BENCH_WORK ($XDG_CACHE_HOME/memberflow-bench), BENCH_SECONDS (3, per run), BENCH_RUNS (8),
# BENCH_PORT (18480; the builds listen on +5 and +6), BENCH_SSLMODE (disable). Needs wrk, curl,
# psql.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
pg="${BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
export PGSSLMODE="${BENCH_SSLMODE:-disable}"
db="${BENCH_DB:-mfbench}"
work="${BENCH_WORK:-${XDG_CACHE_HOME:-$HOME/.cache}/memberflow-bench}"
secs="${BENCH_SECONDS:-3}"
runs="${BENCH_RUNS:-8}"
first_port=$((${BENCH_PORT:-18480} + 5))
password='memberflow bench password 2026'
schemas="$work/schemas"
[ $# -ge 2 ] || { echo "usage: $0 BIN_A BIN_B [CLIENTS ...]" >&2 && exit 2; }
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_RUNS must be 1 or more" >&2 && exit 2; }
for tool in wrk curl psql; do command -v "$tool" >/dev/null || { echo "needs $tool" >&2 && exit 2; }; done
[ -d "$schemas" ] || { echo "no $schemas: run scripts/bench/suite.sh steps first" >&2 && exit 2; }
# shellcheck source=scripts/bench/common.sh
. "$here/common.sh"
bench_place

bins=("$1" "$2")
shift 2
clients=("$@")
[ ${#clients[@]} -eq 0 ] && clients=(1 4 16)
labels=(A B)
pids=()
tokens=()
mf_pid=""
trap 'for p in "${pids[@]}" $mf_pid; do kill "$p" 2>/dev/null || true; done' EXIT

# Both servers, each with its own log and token; `base` and `token` are what common.sh's
# helpers (login, open_cases) use.
for i in 0 1; do
  bin="$(cd "$(dirname "${bins[$i]}")" && pwd)/$(basename "${bins[$i]}")"
  port=$((first_port + i))
  base="http://127.0.0.1:$port"
  start_mf "$pg/$db?sslmode=$PGSSLMODE" "$work/ab-${labels[$i]}.log"
  pids+=("$mf_pid")
  login
  [ -n "$token" ] || { echo "could not log in as bench on ${labels[$i]}" >&2 && exit 1; }
  tokens+=("$token")
  echo "${labels[$i]}: ${bins[$i]} ($("$bin" --version 2>/dev/null || echo '?'))"
done
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M') UTC"
echo "runs: $runs pairs of ${secs} s, A first in odd pairs, B first in even ones"

for c in "${clients[@]}"; do
  rates=("" "")
  ratios=""
  for r in $(seq "$runs"); do
    pair=(0 0)
    order=(0 1)
    [ $((r % 2)) -eq 1 ] || order=(1 0)
    for i in "${order[@]}"; do
      base="http://127.0.0.1:$((first_port + i))"
      token="${tokens[$i]}"
      cases="$(open_cases "$c")"
      [ "$(wc -w <<<"$cases")" = "$c" ] || { echo "could not open $c cases on ${labels[$i]}" >&2 && exit 1; }
      # shellcheck disable=SC2086
      out="$(wrk -t "$c" -c "$c" -d "${secs}s" --timeout 30s -s "$here/step.lua" "$base/graphql" -- "$token" 1 $cases)"
      grep '^first error' <<<"$out" >&2 || true
      res="$(grep '^RESULT' <<<"$out")" || { echo "wrk printed no result for ${labels[$i]}:" >&2 && echo "$out" >&2 && exit 1; }
      n="$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' <<<"$res")"
      [ "${n:-0}" = "0" ] || echo "  ($n requests of ${labels[$i]} answered with an error, not counted)" >&2
      ok="$(sed -n 's/.*ok_per_s=\([0-9.]*\).*/\1/p' <<<"$res")"
      pair[i]="$ok"
      rates[i]+="$ok "
    done
    if awk -v a="${pair[0]}" 'BEGIN { exit !(a > 0) }'; then
      ratio="$(awk -v a="${pair[0]}" -v b="${pair[1]}" 'BEGIN { printf "%.3f", b / a }')"
      ratios+="$ratio "
    else
      ratio="- (A served no step: the pair is left out)"
    fi
    printf '  %2d client(s), pair %d: A %9.1f  B %9.1f steps/s  B/A %s\n' "$c" "$r" "${pair[0]}" "${pair[1]}" "$ratio"
  done
  ma="$(median <<<"${rates[0]}")"
  mb="$(median <<<"${rates[1]}")"
  [ -n "$ratios" ] || { echo "A served no step in any pair at $c client(s)" >&2 && exit 1; }
  mr="$(median <<<"$ratios")"
  lo="$(tr ' ' '\n' <<<"$ratios" | grep . | sort -g | head -1)"
  hi="$(tr ' ' '\n' <<<"$ratios" | grep . | sort -g | tail -1)"
  printf 'RESULT clients=%s a_median=%.1f b_median=%.1f b_over_a=%.3f (pairs %s to %s)\n' "$c" "$ma" "$mb" "$mr" "$lo" "$hi"
done

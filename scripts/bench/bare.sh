#!/usr/bin/env bash
# The benchmark's step through the least an HTTP front can do (scripts/bench/bare: axum,
# sqlx, the six statements of step.pgbench, no GraphQL, rules, logging or authentication)
# against the same step as plain SQL (pgbench), interleaved: 1, 4 and 16 clients, the ratio
# bare / plain SQL, and the front's own CPU a step (user and system time, /proc/<pid>/stat). A
# yardstick for memberflow's own per-request work: run after `scripts/bench/suite.sh steps`,
# which builds the copy of the database both step on (BENCH_DB_raw, 16 cases with fixed ids)
# and prints memberflow's figures on the same step (its CPU a step: `scripts/bench/cpu.sh`).
#
# Environment (defaults): BENCH_PG (postgres://postgres@127.0.0.1:5432), BENCH_DB (mfbench),
# BENCH_SECONDS (10), BENCH_ROUNDS (3), BENCH_PORT (18480; the front listens on +2),
# BENCH_WORK ($XDG_CACHE_HOME/memberflow-bench: the front's build). Needs cargo, wrk, pgbench,
# psql.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
pg="${BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
export PGSSLMODE="${BENCH_SSLMODE:-disable}"
raw="${BENCH_DB:-mfbench}_raw"
secs="${BENCH_SECONDS:-10}"
rounds="${BENCH_ROUNDS:-3}"
port=$((${BENCH_PORT:-18480} + 2))
work="${BENCH_WORK:-${XDG_CACHE_HOME:-$HOME/.cache}/memberflow-bench}"
for tool in cargo wrk pgbench psql; do command -v "$tool" >/dev/null || { echo "needs $tool" >&2 && exit 2; }; done
if ! psql -X -q -A -t "$pg/$raw" -c "SELECT 1 FROM bench_template" >/dev/null 2>&1; then
  echo "no $raw database: run scripts/bench/suite.sh steps first" >&2 && exit 2
fi

echo "building the bare front…"
CARGO_TARGET_DIR="$work/bare-target" cargo build -q --release --locked --manifest-path "$here/bare/Cargo.toml"
bin="$work/bare-target/release/bare"

# shellcheck source=scripts/bench/common.sh
. "$here/common.sh"

DATABASE_URL="$pg/$raw" BARE_PORT="$port" "$bin" >"$work/bare.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
sleep 1
kill -0 "$pid" 2>/dev/null || { cat "$work/bare.log" >&2 && exit 1; }

declare -A front plain
for r in $(seq "$rounds"); do
  for c in 1 4 16; do
    reset_raw
    ids=""
    for n in $(seq 0 $((c - 1))); do ids+="00000000-0000-4000-8000-$(printf %012d "$n") "; done
    t0="$(awk '{ print $14, $15 }' "/proc/$pid/stat")"
    # shellcheck disable=SC2086
    out="$(wrk -t "$c" -c "$c" -d "${secs}s" --timeout 30s -s "$here/step.lua" "http://127.0.0.1:$port/graphql" -- none 1 $ids)"
    t1="$(awk '{ print $14, $15 }' "/proc/$pid/stat")"
    grep '^first error' <<<"$out" >&2 || true
    f="$(sed -n 's/.*ok_per_s=\([0-9.]*\).*/\1/p' <<<"$out")"
    cpu="$(awk -v a="$t0" -v b="$t1" -v hz="$(getconf CLK_TCK)" -v ok="$f" -v s="$secs" 'BEGIN {
      split(a, x, " "); split(b, y, " "); m = (ok > 0) ? 1e6 / hz / (ok * s) : 0
      printf "%.0f µs of its CPU a step: user %.0f, system %.0f", (y[1] + y[2] - x[1] - x[2]) * m, (y[1] - x[1]) * m, (y[2] - x[2]) * m }')"
    reset_raw
    t="$(pgbench_steps "$c")"
    front[$c]+="$f "
    plain[$c]+="$t "
    echo "  round $r, $c client(s): bare front $f steps/s ($cpu), plain SQL $t tx/s"
  done
done
echo
echo "Steps on PostgreSQL: the bare front over HTTP vs plain SQL in one transaction (pgbench -M prepared)"
printf '%-10s %16s %16s %8s\n' clients "bare front/s" "plain SQL tx/s" ratio
for c in 1 4 16; do
  a="$(median <<<"${front[$c]}")"
  b="$(median <<<"${plain[$c]}")"
  printf '%-10s %16s %16s %8s\n' "$c" "$a" "$b" "$(ratio "$a" "$b")"
done

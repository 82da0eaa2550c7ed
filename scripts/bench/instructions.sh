#!/usr/bin/env bash
# The server's own work for one step, counted in instructions by valgrind's callgrind: unlike
# seconds, the count moves by a percent or two at most from run to run for the same binary and
# requests, whatever else the machine is doing (what moves it: how often a future is polled
# before its I/O is ready), so two builds can be compared on a busy machine, one run each.
#
#   scripts/bench/instructions.sh [BIN ...]      # each binary in turn; MEMBERFLOW by default
#
# Each binary serves the suite's database (run `scripts/bench/suite.sh steps` first: it builds
# BENCH_DB, the bench account and the toy workflow's schemas under BENCH_WORK) under callgrind;
# one client logs in, opens a toy case and steps it BENCH_WARMUP times (not counted), then
# BENCH_STEPS times more over one kept-alive connection (`fireTransition`, the `note` step, the
# body scripts/bench/step.lua sends, without an expected version). The figure is the
# instructions of the tasks serving the connection (`memberflow_server::accept::serve`: HTTP,
# GraphQL, authentication, the step and its statements through sea-orm and sqlx, the access
# log) divided by the steps; the worker's background jobs are left out. The binary needs its
# symbols: build it with CARGO_PROFILE_RELEASE_STRIP=false.
#
# What callgrind counts is not time: a copy by `rep movsb` counts one instruction per byte
# copied, and SHA-256 runs its portable code (valgrind hides the CPU's SHA extensions), so
# large moves of futures and the hashes weigh more here than in a profile of the real run.
# Use it to compare builds, and the suite's seconds for what a client sees.
#
# Environment (defaults): MEMBERFLOW (target/release/memberflow), BENCH_PG
# (postgres://postgres@127.0.0.1:5432), BENCH_DB (mfbench), BENCH_PORT (18480; the server
# listens on +3), BENCH_WORK ($XDG_CACHE_HOME/memberflow-bench), BENCH_STEPS (300),
# BENCH_WARMUP (30), BENCH_TOP (25: the functions listed, by instructions spent in them and
# in what they call). Needs valgrind (callgrind_control, callgrind_annotate), curl, psql.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
pg="${BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
export PGSSLMODE="${BENCH_SSLMODE:-disable}"
db="${BENCH_DB:-mfbench}"
port=$((${BENCH_PORT:-18480} + 3))
work="${BENCH_WORK:-${XDG_CACHE_HOME:-$HOME/.cache}/memberflow-bench}"
steps="${BENCH_STEPS:-300}"
warmup="${BENCH_WARMUP:-30}"
top="${BENCH_TOP:-25}"
base="http://127.0.0.1:$port"
password='memberflow bench password 2026'
[ "$steps" -ge 1 ] && [ "$warmup" -ge 1 ] || { echo "BENCH_STEPS and BENCH_WARMUP must be 1 or more" >&2 && exit 2; }
for tool in valgrind callgrind_control callgrind_annotate curl psql; do
  command -v "$tool" >/dev/null || { echo "needs $tool" >&2 && exit 2; }
done
[ -d "$work/schemas" ] || { echo "no $work/schemas: run scripts/bench/suite.sh steps first" >&2 && exit 2; }
# shellcheck source=scripts/bench/common.sh
. "$here/common.sh"
bench_place

pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null || true' EXIT

# POST one GraphQL body N times over one connection (curl reuses it for repeated URLs); the
# responses, one per line.
post() {
  local body="$1" n="$2" urls=()
  for _ in $(seq "$n"); do urls+=("$base/graphql"); done
  curl -s -H 'content-type: application/json' ${token:+-H "authorization: Bearer $token"} \
    -d "$body" -w '\n' "${urls[@]}"
}
# Fails unless all N responses are free of GraphQL errors.
all_ok() {
  local out="$1" n="$2" good
  good="$(grep -c '"data"' <<<"$out" || true)"
  if grep -q '"errors"' <<<"$out" || [ "$good" != "$n" ]; then
    echo "a request failed: $(grep -m1 '"errors"' <<<"$out")" >&2 && exit 1
  fi
}

count() {
  local bin out cg log
  bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
  cg="$work/callgrind.$$.out"
  log="$work/callgrind.$$.log"
  rm -f "$cg"*
  MEMBERFLOW_DATABASE_URL="$pg/$db?sslmode=$PGSSLMODE" MEMBERFLOW_LISTEN="127.0.0.1:$port" \
    MEMBERFLOW_SCHEMAS_DIR="$work/schemas" MEMBERFLOW_LIMITS__MUTATIONS_PER_ACCOUNT=0 \
    MEMBERFLOW_LIMITS__MUTATIONS_PER_ADDRESS=0 \
    valgrind --tool=callgrind --callgrind-out-file="$cg" "$bin" serve >"$log" 2>&1 &
  pid=$!
  local ready=""
  for _ in $(seq 600); do
    curl -sf "$base/readyz" >/dev/null && ready=1 && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  [ -n "$ready" ] || { echo "the server did not start under valgrind; $log:" >&2 && tail -20 "$log" >&2 && exit 1; }
  token=""
  out="$(post "{\"query\":\"mutation(\$u: String!, \$p: String!) { login(username: \$u, password: \$p) { token } }\",\"variables\":{\"u\":\"bench\",\"p\":\"$password\"}}" 1 || true)"
  token="$(sed -n 's/.*"token":"\([0-9a-f]*\)".*/\1/p' <<<"$out")"
  [ -n "$token" ] || { echo "could not log in as bench: ${out:0:300}" >&2 && exit 1; }
  local case
  out="$(post "{\"query\":\"mutation(\$i: OpenCaseInput!) { openCase(input: \$i) { case { id } } }\",\"variables\":{\"i\":{\"definitionId\":\"toy\",\"unitId\":\"$branch\",\"title\":\"instructions\",\"inputs\":{\"title\":\"bench\",\"owner\":\"$member\"}}}}" 1 || true)"
  case="$(sed -n 's/.*"id":"\([0-9a-f-]*\)".*/\1/p' <<<"$out")"
  [ -n "$case" ] || { echo "could not open a case: ${out:0:300}" >&2 && exit 1; }
  local step="{\"query\":\"mutation(\$i: FireInput!) { fireTransition(input: \$i) { case { version } } }\",\"variables\":{\"i\":{\"caseId\":\"$case\",\"transition\":\"note\",\"inputs\":{\"text\":\"bench\"}}}}"
  out="$(post "$step" "$warmup" || true)"
  all_ok "$out" "$warmup"
  out="$(callgrind_control -z "$pid" 2>&1)" || { echo "$out" >&2 && exit 1; }
  out="$(post "$step" "$steps" || true)"
  all_ok "$out" "$steps"
  out="$(callgrind_control -d "$pid" 2>&1)" || { echo "$out" >&2 && exit 1; }
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=""
  local dump report serving
  dump="$cg.1" # the first dump asked for (`-d`); "$cg" itself is written at the exit
  [ -s "$dump" ] || { echo "callgrind wrote no dump $dump; $log:" >&2 && tail -20 "$log" >&2 && exit 1; }
  report="$(callgrind_annotate --inclusive=yes --threshold=100 "$dump")"
  serving="$(awk '/memberflow_server::accept::serve::\{\{closure\}\}::\{\{closure\}\} / { gsub(",", "", $1); print $1; exit }' <<<"$report")"
  [ -n "$serving" ] || { echo "no symbols in $bin: build it with CARGO_PROFILE_RELEASE_STRIP=false" >&2 && exit 1; }
  echo "$bin ($("$bin" --version 2>/dev/null || echo '?'))"
  awk -v s="$serving" -v n="$steps" 'BEGIN { printf "  %.0f instructions per step serving the connection (%d steps)\n", s / n, n }'
  echo "  the functions that spend most, with what they call (instructions per step):"
  grep -E '^ *[0-9,]+ \(' <<<"$report" |
    grep -E 'memberflow_|async_graphql::(validation::check_rules|schema::Schema)|sea_orm::|sqlx_core::executor|tracing_core::dispatcher|hyper::proto::h1::conn|serde_json::(de|ser)::|mi_malloc|mi_free|__memcpy' |
    grep -v 'accept::serve\|memberflow_worker' |
    awk -v n="$steps" -v top="$top" 'NR <= top { c = $1; gsub(",", "", c); sub(/^ *[0-9,]+ \( *[0-9.]+%\) +/, ""); sub(/^\?\?\?:/, ""); sub(/ \[.*$/, ""); printf "  %9.0f  %s\n", c / n, substr($0, 1, 150) }'
  rm -f "$cg"* "$log"
}

bins=("$@")
[ ${#bins[@]} -eq 0 ] && bins=("${MEMBERFLOW:-$repo/target/release/memberflow}")
for b in "${bins[@]}"; do count "$b"; done

#!/usr/bin/env bash
# Builds compared run against run: each binary in turn serves the suite's database alone while
# wrk sends it what BENCH_WHAT names: `steps`, the suite's step (scripts/bench/step.lua, on
# fresh toy cases, 1, 4 and 16 clients); `reads`, its three reads (scripts/bench/read.lua, 32
# connections: one member by id, a branch's first 50 members, the unit with the most
# children); `floor`, `{ __typename }` with the bench account's token (32 connections), the
# least a request costs through HTTP, authentication, GraphQL and the access line. For each
# run, per request: requests per second, p99, the server's CPU (user + system time of its
# process from /proc/<pid>/stat, before and after, divided by the requests served) and its
# split into user and system time, the CPU the rest of the machine spent meanwhile (PostgreSQL
# and wrk, on a machine doing nothing else; /proc/stat), its idle time, and the times the
# server's threads were preempted (involuntary context switches). With BENCH_STRACE=1, also the system calls per request of
# the one-client step and of a one-connection member read (`strace -c -f`, divided by the
# responses: one `writev` each; strace slows those runs down, so their rate and CPU are not
# comparable with the others'). The machine's minute-to-minute drift moves the figures as much
# as a change often does, so the binaries take turns, round after round.
#
#   scripts/bench/cpu.sh BIN [BIN ...]
#
# Run `scripts/bench/suite.sh steps` first: it builds BENCH_DB, the bench account and the toy
# workflow's schemas under BENCH_WORK. The binaries need no symbols.
#
# Environment (defaults): BENCH_PG (postgres://postgres@127.0.0.1:5432), BENCH_DB (mfbench),
# BENCH_WORK ($XDG_CACHE_HOME/memberflow-bench), BENCH_SECONDS (5, per run, after 2 s of
# warm-up), BENCH_ROUNDS (2), BENCH_PORT (18480; the server listens on +4), BENCH_WHAT
# ("steps reads"; also `floor`), BENCH_STRACE (unset). Needs wrk, curl, psql (and strace with
# BENCH_STRACE).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
pg="${BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
export PGSSLMODE="${BENCH_SSLMODE:-disable}"
db="${BENCH_DB:-mfbench}"
work="${BENCH_WORK:-${XDG_CACHE_HOME:-$HOME/.cache}/memberflow-bench}"
secs="${BENCH_SECONDS:-5}"
rounds="${BENCH_ROUNDS:-2}"
port=$((${BENCH_PORT:-18480} + 4))
what="${BENCH_WHAT:-steps reads}"
base="http://127.0.0.1:$port"
password='memberflow bench password 2026'
[ $# -ge 1 ] || { echo "usage: $0 BIN [BIN ...]" >&2 && exit 2; }
for tool in wrk curl psql ${BENCH_STRACE:+strace}; do
  command -v "$tool" >/dev/null || { echo "needs $tool" >&2 && exit 2; }
done
[ -d "$work/schemas" ] || { echo "no $work/schemas: run scripts/bench/suite.sh steps first" >&2 && exit 2; }
# shellcheck source=scripts/bench/common.sh
. "$here/common.sh"
bench_place
bloc="$(psql -X -q -A -t -v ON_ERROR_STOP=1 "$pg/$db" -c "SELECT parent_id FROM unit_parent WHERE valid_to IS NULL GROUP BY parent_id ORDER BY COUNT(*) DESC, parent_id LIMIT 1")"
bodies="$work/cpu-bodies"
mkdir -p "$bodies"
printf '{"query":"query($id: ID!) { member(id: $id) { id fullName dateOfBirth sex ethnicity officialDate } }","variables":{"id":"%s"}}' "$member" >"$bodies/member.json"
printf '{"query":"query($id: ID!) { unit(id: $id) { id code name members(first: 50) { nodes { id fullName dateOfBirth } } } }","variables":{"id":"%s"}}' "$branch" >"$bodies/branch.json"
printf '{"query":"query($id: ID!) { unit(id: $id) { id code name children { id code name kind } } }","variables":{"id":"%s"}}' "$bloc" >"$bodies/children.json"
printf '{"query":"{ __typename }"}' >"$bodies/floor.json"

schemas="$work/schemas"
mf_pid=""
trap '[ -n "$mf_pid" ] && kill "$mf_pid" 2>/dev/null || true' EXIT
hz="$(getconf CLK_TCK)"

# The server's user and system ticks, its threads' involuntary context switches, and the
# machine's idle and busy ticks (all cores).
cpu_ticks() {
  local own switches
  own="$(awk '{ print $14, $15 }' "/proc/$mf_pid/stat")" || return 1
  switches="$(cat /proc/"$mf_pid"/task/*/status 2>/dev/null |
    awk '/^nonvoluntary_ctxt_switches/ { n += $2 } END { print n + 0 }')"
  echo "$own $switches $(awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat)"
}

gone() { echo "the server is gone; $work/server.log:" >&2 && tail -20 "$work/server.log" >&2 && exit 1; }

# One measured run: LABEL, then wrk's arguments. Prints the figures per request (above); with
# BENCH_STRACE and one connection, the system calls per request too.
measure() {
  local label="$1" one="" out res ok c0 c1 sp=""
  shift
  [[ " $* " == *" -c 1 "* ]] && [[ "$label" == *"1 client"* || "$label" == *"(strace)"* ]] && one=1
  c0="$(cpu_ticks)" || gone
  if [ -n "${BENCH_STRACE:-}" ] && [ -n "$one" ]; then
    strace -c -f -p "$mf_pid" -o "$work/cpu-strace.out" 2>/dev/null &
    sp=$!
    sleep 0.5
  fi
  out="$(wrk "$@")"
  [ -n "$sp" ] && kill -INT "$sp" && wait "$sp" 2>/dev/null || true
  c1="$(cpu_ticks)" || gone
  grep '^first error' <<<"$out" >&2 || true
  res="$(grep '^RESULT' <<<"$out")"
  ok="$(sed -n 's/.*ok_per_s=\([0-9.]*\).*/\1/p' <<<"$res")"
  awk -v l="$label" -v ok="$ok" -v r="$res" -v a="$c0" -v b="$c1" -v hz="$hz" -v s="$secs" 'BEGIN {
    match(r, /p99_ms=[0-9.]+/); p99 = substr(r, RSTART + 7, RLENGTH - 7)
    split(a, x, " "); split(b, y, " "); n = ok * s; f = (n > 0) ? 1e6 / hz / n : 0
    own = y[1] + y[2] - x[1] - x[2]
    printf "    %-22s %10.1f /s  p99 %7s ms  %6.0f µs CPU a request (user %.0f, system %.0f); the rest of the machine %.0f µs, idle %.0f µs, %.1f preemptions\n",
      l, ok, p99, own * f, (y[1] - x[1]) * f, (y[2] - x[2]) * f, (y[5] - x[5] - own) * f, (y[4] - x[4]) * f,
      (n > 0) ? (y[3] - x[3]) / n : 0 }'
  if [ -n "$sp" ]; then
    awk '$NF ~ /^(writev|sendto|recvfrom|epoll_wait|futex|write|getrandom)$/ { n[$NF] = $4 }
      END { w = n["writev"]; if (w > 0) printf "      per request: %.1f sendto, %.1f recvfrom, %.1f epoll_wait, %.1f futex, %.1f write, %.1f getrandom\n",
        n["sendto"] / w, n["recvfrom"] / w, n["epoll_wait"] / w, n["futex"] / w, n["write"] / w, n["getrandom"] / w }' "$work/cpu-strace.out"
  fi
}

for r in $(seq "$rounds"); do
  for b in "$@"; do
    bin="$(cd "$(dirname "$b")" && pwd)/$(basename "$b")"
    echo "round $r: $b"
    start_mf "$pg/$db?sslmode=$PGSSLMODE"
    login
    if [[ " $what " == *" steps "* ]]; then
      for c in 1 4 16; do
        warm="$(open_cases "$c")"
        cases="$(open_cases "$c")"
        # shellcheck disable=SC2086
        wrk -t "$c" -c "$c" -d 2s -s "$here/step.lua" "$base/graphql" -- "$token" 1 $warm >/dev/null
        # shellcheck disable=SC2086
        measure "step, $c client(s)" -t "$c" -c "$c" -d "${secs}s" --timeout 30s -s "$here/step.lua" "$base/graphql" -- "$token" 1 $cases
      done
    fi
    reads=()
    [[ " $what " == *" reads "* ]] && reads+=(member branch children)
    [[ " $what " == *" floor "* ]] && reads+=(floor)
    if [ ${#reads[@]} -gt 0 ]; then
      for q in "${reads[@]}"; do
        wrk -t 2 -c 32 -d 2s -s "$here/read.lua" "$base/graphql" -- "$bodies/$q.json" "$token" >/dev/null
        measure "$q, 32 connections" -t 2 -c 32 -d "${secs}s" --timeout 30s -s "$here/read.lua" "$base/graphql" -- "$bodies/$q.json" "$token"
        if [ -n "${BENCH_STRACE:-}" ] && [ "$q" = member ]; then
          measure "$q, 1 conn. (strace)" -t 1 -c 1 -d "${secs}s" --timeout 30s -s "$here/read.lua" "$base/graphql" -- "$bodies/$q.json" "$token"
        fi
      done
    fi
    stop_mf
  done
done

#!/usr/bin/env bash
# Builds compared run against run: each binary in turn serves the suite's database alone while
# wrk sends it the suite's step (scripts/bench/step.lua, on fresh toy cases, 1, 4 and 16
# clients) and its three reads (scripts/bench/read.lua, 32 connections: one member by id, a
# branch's first 50 members, the unit with the most children); for each run, requests per
# second and the server's CPU per request (user + system time of its process from
# /proc/<pid>/stat, before and after, divided by the requests served), split into user and
# system time, beside PostgreSQL's CPU (all its processes), the machine's idle time and the
# times the server's threads were preempted (involuntary context switches), all per request.
# BENCH_WHAT may also name `floor`: `{ __typename }` with the bench account's token, the
# least a request costs through HTTP, authentication, GraphQL and the access line. With BENCH_STRACE=1,
# also the system calls per request of a one-client run (`strace -c -f`, divided by the
# responses: one `writev` each; strace slows that run down, so its rate and CPU are not
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
# ("steps reads"; also `floor`), BENCH_STRACE (unset). Needs wrk, curl, psql (and strace with BENCH_STRACE).
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

# The server's user and system ticks, its threads' involuntary context switches, the
# machine's idle ticks, then each PostgreSQL process's ticks as PID:TICKS (a run counts the
# processes alive at both ends: the server's backends outlive it).
cpu_ticks() {
  local p
  echo "$(awk '{ print $14, $15 }' "/proc/$mf_pid/stat")" \
    "$(cat /proc/"$mf_pid"/task/*/status | awk '/^nonvoluntary_ctxt_switches/ { n += $2 } END { print n }')" \
    "$(awk '/^cpu / { print $5 }' /proc/stat)" \
    "$(for p in $(pgrep -x postgres); do awk -v p="$p" '{ printf "%s:%d ", p, $14 + $15 }' "/proc/$p/stat" 2>/dev/null; done)"
}

# One measured run: LABEL, then wrk's arguments. Prints the rate, p99 and CPU per request;
# with BENCH_STRACE and one connection, the system calls per request too.
measure() {
  local label="$1" one="" out res ok c0 c1 sp=""
  shift
  [[ " $* " == *" -c 1 "* ]] && [[ "$label" == *"1 client"* || "$label" == *"(strace)"* ]] && one=1
  c0="$(cpu_ticks)"
  if [ -n "${BENCH_STRACE:-}" ] && [ -n "$one" ]; then
    strace -c -f -p "$mf_pid" -o "$work/cpu-strace.out" 2>/dev/null &
    sp=$!
    sleep 0.5
  fi
  out="$(wrk "$@")"
  [ -n "$sp" ] && kill -INT "$sp" && wait "$sp" 2>/dev/null || true
  c1="$(cpu_ticks)"
  grep '^first error' <<<"$out" >&2 || true
  res="$(grep '^RESULT' <<<"$out")"
  ok="$(sed -n 's/.*ok_per_s=\([0-9.]*\).*/\1/p' <<<"$res")"
  awk -v l="$label" -v ok="$ok" -v r="$res" -v a="$c0" -v b="$c1" -v hz="$hz" -v s="$secs" 'BEGIN {
    match(r, /p99_ms=[0-9.]+/); p99 = substr(r, RSTART + 7, RLENGTH - 7)
    nx = split(a, x, " "); ny = split(b, y, " "); n = ok * s; f = (n > 0) ? 1e6 / hz / n : 0
    for (i = 5; i <= nx; i++) { split(x[i], kv, ":"); before[kv[1]] = kv[2] }
    for (i = 5; i <= ny; i++) { split(y[i], kv, ":"); if (kv[1] in before) db += kv[2] - before[kv[1]]; else fresh++ }
    pgcpu = fresh ? "? (backends started during the run)" : sprintf("%.0f µs", db * f)
    printf "    %-22s %10.1f /s  p99 %7s ms  %6.0f µs CPU a request (user %.0f, system %.0f); PostgreSQL %s, idle %.0f µs, %.1f preemptions\n",
      l, ok, p99, (y[1] + y[2] - x[1] - x[2]) * f, (y[1] - x[1]) * f, (y[2] - x[2]) * f, pgcpu, (y[4] - x[4]) * f,
      (n > 0) ? (y[3] - x[3]) / n : 0 }'
  if [ -n "$sp" ]; then
    awk '$NF ~ /^(writev|sendto|recvfrom|epoll_wait|futex)$/ { n[$NF] = $4 }
      END { w = n["writev"]; if (w > 0) printf "      per request: %.1f sendto, %.1f recvfrom, %.1f epoll_wait, %.1f futex\n",
        n["sendto"] / w, n["recvfrom"] / w, n["epoll_wait"] / w, n["futex"] / w }' "$work/cpu-strace.out"
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
    reads=""
    [[ " $what " == *" reads "* ]] && reads="member branch children"
    [[ " $what " == *" floor "* ]] && reads+=" floor"
    if [ -n "$reads" ]; then
      for q in $reads; do
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

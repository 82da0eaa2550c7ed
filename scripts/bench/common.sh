# Sourced by suite.sh, bare.sh, cpu.sh, instructions.sh, ab.sh and roundtrips.sh: what they do
# with figures, with the plain-SQL side and with the server under test. Uses $pg (the server's
# URL), $raw (the copy of the database pgbench steps in), $here (this folder) and $secs; the
# server's helpers use $bin, $port, $base, $work, $schemas and $password, and set $mf_pid and
# $token.

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }

# The raw cases back to their first step, like the fresh cases the server's clients step.
reset_raw() {
  psql -X -q -v ON_ERROR_STOP=1 "$pg/$raw" \
    -c "DELETE FROM case_event WHERE case_id::text LIKE '00000000-0000-4000-8000-%' AND seq > 1" \
    -c "UPDATE cases SET version = 1, snapshot = (SELECT snapshot::json FROM bench_template)
          WHERE id::text LIKE '00000000-0000-4000-8000-%'" \
    -c "VACUUM ANALYZE cases" -c "VACUUM ANALYZE case_event" >/dev/null
}
# The step as plain SQL with CLIENTS clients for D seconds: transactions/s. SCRIPT is
# step.pgbench and MODE (pgbench's protocol) `prepared` unless given.
#   pgbench_steps CLIENTS [D] [SCRIPT] [MODE]
pgbench_steps() {
  local clients="$1" d="${2:-$secs}" script="${3:-$here/step.pgbench}" mode="${4:-prepared}" out
  out="$(pgbench -n -M "$mode" -c "$clients" -j "$clients" -T "$d" -f "$script" "$pg/$raw" 2>&1)" ||
    { echo "$out" >&2 && exit 1; }
  if grep -q 'failed: [1-9]' <<<"$out"; then echo "$out" >&2 && exit 1; fi
  sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$out" | awk '{ printf "%.1f\n", $1 }'
}

# The server: the binary under test ($bin) with the toy workflow, no rate limit on mutations,
# on $port (answering at $base), its output in LOG (server.log under $work by default).
#   start_mf DATABASE_URL [LOG]
start_mf() {
  local log="${2:-$work/server.log}"
  MEMBERFLOW_DATABASE_URL="$1" MEMBERFLOW_LISTEN="127.0.0.1:$port" \
    MEMBERFLOW_SCHEMAS_DIR="$schemas" MEMBERFLOW_LIMITS__MUTATIONS_PER_ACCOUNT=0 \
    MEMBERFLOW_LIMITS__MUTATIONS_PER_ADDRESS=0 "$bin" serve >"$log" 2>&1 &
  mf_pid=$!
  for _ in $(seq 300); do
    curl -sf "$base/readyz" >/dev/null && return 0
    kill -0 "$mf_pid" 2>/dev/null || break
    sleep 0.5
  done
  echo "the server did not start; $log:" >&2
  tail -20 "$log" >&2
  exit 1
}
stop_mf() {
  kill "$mf_pid"
  wait "$mf_pid" 2>/dev/null || true
  mf_pid=""
}

# POST a GraphQL body; the response, or an exit on HTTP or GraphQL errors.
gql() {
  local out
  out="$(curl -sf "$base/graphql" -H 'content-type: application/json' \
    ${token:+-H "authorization: Bearer $token"} -d "$1")" || { echo "request failed: $1" >&2 && exit 1; }
  if grep -q '"errors"' <<<"$out"; then echo "GraphQL errors: $out" >&2 && exit 1; fi
  printf '%s' "$out"
}
login() {
  token=""
  token="$(gql "{\"query\":\"mutation(\$u: String!, \$p: String!) { login(username: \$u, password: \$p) { token } }\",\"variables\":{\"u\":\"bench\",\"p\":\"$password\"}}" |
    sed -n 's/.*"token":"\([0-9a-f]*\)".*/\1/p')"
}
# N fresh toy cases at the branch, their ids on one line.
open_cases() {
  local ids=""
  for i in $(seq "$1"); do
    ids+="$(gql "{\"query\":\"mutation(\$i: OpenCaseInput!) { openCase(input: \$i) { case { id } } }\",\"variables\":{\"i\":{\"definitionId\":\"toy\",\"unitId\":\"$branch\",\"title\":\"bench $i\",\"inputs\":{\"title\":\"bench\",\"owner\":\"$member\"}}}}" |
      sed -n 's/.*"id":"\([0-9a-f-]*\)".*/\1/p') "
  done
  echo "$ids"
}

# The branch the suite's template case is at (the one the bench account steps in) and its
# first member: sets $branch and $member, or exits when `suite.sh steps` has not run. Uses $db.
bench_place() {
  local q=(psql -X -q -A -t -v ON_ERROR_STOP=1 "$pg/$db" -c)
  branch="$("${q[@]}" "SELECT unit_id FROM cases WHERE definition_id = 'toy' AND title = 'bench template' LIMIT 1")"
  [ -n "$branch" ] || { echo "no bench template case in $db: run scripts/bench/suite.sh steps first" >&2 && exit 2; }
  member="$("${q[@]}" "SELECT member_id FROM member_unit WHERE unit_id = '$branch' ORDER BY member_id LIMIT 1")"
}

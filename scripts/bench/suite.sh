#!/usr/bin/env bash
# The comparisons of issue 14, on this machine, interleaved (docs/benchmarks.md "The benchmark
# suite"):
#
#   scripts/bench/suite.sh [steps] [reads] [sqlite] [statements]   # all when none is named
#
# - steps (PostgreSQL): `fireTransition` of the toy workflow's `note` step over HTTP to the
#   real binary (wrk, scripts/bench/step.lua), beside the rows one step writes as plain SQL in
#   one transaction (pgbench -M prepared, scripts/bench/step.pgbench) in a copy of the same
#   database; 1, 4 and 16 clients, each on its own fresh case; the ratio memberflow / raw, of
#   the medians and paired (the median of the rounds' own ratios).
# - reads (PostgreSQL, needs node and npm): three reads through memberflow and through
#   PostGraphile v5 over the same database, 32 connections (wrk, scripts/bench/read.lua):
#   one member by id, a branch's first 50 members, the unit with the most children with them
#   (97 in the demo province); the ratio of requests per second, memberflow / PostGraphile.
# - sqlite: the same step at 4 and 16 clients on SQLite, with its latencies (p50, p99, max).
# - statements (PostgreSQL, needs its server log readable: BENCH_PG_LOG, by default the newest
#   /var/log/postgresql/postgresql-*.log): what one step sends, counted from the lines
#   PostgreSQL logs with `log_statement = 'all'` set on BENCH_DB for the run (the fewest of
#   three steps, so that a background poll of the server's worker is not counted): the
#   messages (a line each) and the statements in them (a message may hold several), and the
#   messages themselves.
#
# The data is the demo province (`memberflow demo hau-giang-2023`), built once per database
# and kept (BENCH_DB on BENCH_PG, and a SQLite file under BENCH_WORK); the suite adds an
# account `bench` (admin and organization_department everywhere, secretary of the branch
# read), the toy workflow (tests/data/toy.toml, in a copy of schemas/) and the cases it steps.
# The plain-SQL steps write into BENCH_DB_raw, a copy of BENCH_DB made for each run of the
# suite, so the server's case histories stay verifiable (`memberflow check --history`).
# PostGraphile is installed with npm under BENCH_WORK (scripts/bench/postgraphile/package.json,
# pinned versions), never in the repository.
#
# Every client of PostgreSQL here (memberflow, pgbench, psql, PostGraphile) connects with the
# same BENCH_SSLMODE (disable: plain TCP on the loopback, as PostGraphile's client does by
# default; the others would otherwise negotiate TLS with a server that offers it).
#
# Environment (defaults): MEMBERFLOW (target/release/memberflow), BENCH_PG
# (postgres://postgres@127.0.0.1:5432), BENCH_SSLMODE (disable), BENCH_DB (mfbench), BENCH_SECONDS (10, per run),
# BENCH_ROUNDS (3), BENCH_PORT (18480; PostGraphile on the next port), BENCH_WORK
# ($XDG_CACHE_HOME/memberflow-bench). Needs wrk, pgbench, psql, curl (and sqlite3 for the
# SQLite phase). Prints figures; stops on a failed setup. A request answered with an HTTP
# error or GraphQL `errors` is reported and not counted as served.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bin="${MEMBERFLOW:-$repo/target/release/memberflow}"
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
pg="${BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
sslmode="${BENCH_SSLMODE:-disable}"
export PGSSLMODE="$sslmode"
db="${BENCH_DB:-mfbench}"
raw="${db}_raw"
secs="${BENCH_SECONDS:-10}"
rounds="${BENCH_ROUNDS:-3}"
port="${BENCH_PORT:-18480}"
pgl_port=$((port + 1))
work="${BENCH_WORK:-${XDG_CACHE_HOME:-$HOME/.cache}/memberflow-bench}"
password='memberflow bench password 2026'
base="http://127.0.0.1:$port"

phases=("$@")
[ ${#phases[@]} -eq 0 ] && phases=(steps reads sqlite statements)
for p in "${phases[@]}"; do
  case "$p" in steps | reads | sqlite | statements) ;; *) echo "unknown phase: $p" >&2 && exit 2 ;; esac
done
for tool in wrk curl; do command -v "$tool" >/dev/null || { echo "needs $tool" >&2 && exit 2; }; done
mkdir -p "$work"

sql() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$pg/$1" -c "$2"; }
# shellcheck source=scripts/bench/common.sh
. "$here/common.sh"
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }

# The server: the binary under test with the toy workflow, no rate limit on mutations.
mf_pid=""
pgl_pid=""
cleanup() {
  [ -n "${logging:-}" ] && sql postgres "ALTER DATABASE $db RESET log_statement" >/dev/null 2>&1
  [ -n "$mf_pid" ] && kill "$mf_pid" 2>/dev/null || true
  [ -n "$pgl_pid" ] && kill "$pgl_pid" 2>/dev/null || true
}
trap cleanup EXIT

schemas="$work/schemas"
rm -rf "$schemas"
cp -r "$repo/schemas" "$schemas"
cp "$repo/tests/data/toy.toml" "$schemas/workflows/toy.toml"

# Requests answered with an error are not counted as served; they are reported.
errors_seen() {
  local n
  n="$(field errors "$(grep '^RESULT' <<<"$1")")"
  if [ "${n:-0}" != "0" ]; then echo "  ($n requests answered with an error, not counted)" >&2; fi
}
# wrk on the step: CLIENTS clients, each on one of CASES; the RESULT line.
wrk_steps() {
  local clients="$1" cases="$2" d="${3:-$secs}" out
  if [ "$(wc -w <<<"$cases")" != "$clients" ]; then echo "could not open $clients cases" >&2 && exit 1; fi
  # shellcheck disable=SC2086
  out="$(wrk -t "$clients" -c "$clients" -d "${d}s" --timeout 30s -s "$here/step.lua" "$base/graphql" -- "$token" 1 $cases)"
  grep '^first error' <<<"$out" >&2 || true
  errors_seen "$out"
  grep '^RESULT' <<<"$out"
}
wrk_read() {
  local url="$1" body="$2" tok="$3" d="${4:-$secs}" out
  out="$(wrk -t 2 -c 32 -d "${d}s" --timeout 30s -s "$here/read.lua" "$url" -- "$body" "$tok")"
  grep '^first error' <<<"$out" >&2 || true
  errors_seen "$out"
  grep '^RESULT' <<<"$out"
}

# The demo province in a database (built once), the bench account, and what the reads and
# steps use: the largest branch whose memberships are all current (so that PostGraphile's
# plain relation and memberflow's members on a date list the same members), its first member,
# the unit with the most children.
prepare() {
  local url="$1" kind="$2" q
  export MEMBERFLOW_DATABASE_URL="$url"
  "$bin" migrate >/dev/null 2>&1
  if [ "$(dbq "SELECT COUNT(*) FROM unit")" = "0" ]; then
    echo "building the demo province into $kind ($bin demo hau-giang-2023)…"
    local t0=$SECONDS
    "$bin" demo hau-giang-2023 2>&1 | tail -1
    echo "  built in $((SECONDS - t0)) s"
  fi
  q="SELECT u.code FROM member_unit m JOIN unit u ON u.id = m.unit_id WHERE u.kind = 'BRANCH'
     GROUP BY u.code HAVING COUNT(*) = COUNT(*) FILTER (WHERE m.valid_to IS NULL)
     ORDER BY COUNT(*) DESC, u.code LIMIT 1"
  branch_code="$(dbq "$q")"
  local b="(SELECT id FROM unit WHERE code = '$branch_code')"
  branch="$(dbq "SELECT $(uuid_text id) FROM unit WHERE code = '$branch_code'")"
  branch_size="$(dbq "SELECT COUNT(*) FROM member_unit WHERE unit_id = $b AND valid_to IS NULL")"
  member="$(dbq "SELECT $(uuid_text member_id) FROM member_unit WHERE unit_id = $b ORDER BY member_id LIMIT 1")"
  q="SELECT u.code FROM unit_parent p JOIN unit u ON u.id = p.parent_id WHERE p.valid_to IS NULL
     GROUP BY u.code ORDER BY COUNT(*) DESC, u.code LIMIT 1"
  bloc_code="$(dbq "$q")"
  bloc="$(dbq "SELECT $(uuid_text id) FROM unit WHERE code = '$bloc_code'")"
  bloc_children="$(dbq "SELECT COUNT(*) FROM unit_parent WHERE parent_id = (SELECT id FROM unit WHERE code = '$bloc_code') AND valid_to IS NULL")"
  if [ "$(dbq "SELECT COUNT(*) FROM account WHERE username = 'bench'")" = "0" ]; then
    MEMBERFLOW_NEW_PASSWORD="$password" "$bin" user add bench --member "$member" >/dev/null 2>&1
    "$bin" user role bench admin >/dev/null 2>&1
    "$bin" user role bench organization_department >/dev/null 2>&1
    "$bin" user role bench secretary --unit "$branch_code" >/dev/null 2>&1
  fi
  unset MEMBERFLOW_DATABASE_URL
}

sqlite_file="$work/sqlite/$db.db"
sqlite_url="sqlite://$sqlite_file?mode=rwc"
# A uuid column as text (SQLite keeps uuids as 16-byte blobs).
uuid_text() {
  case "$MEMBERFLOW_DATABASE_URL" in
    sqlite:*) echo "lower(substr(hex($1), 1, 8) || '-' || substr(hex($1), 9, 4) || '-' || substr(hex($1), 13, 4) || '-' || substr(hex($1), 17, 4) || '-' || substr(hex($1), 21))" ;;
    *) echo "$1::text" ;;
  esac
}
dbq() {
  case "$MEMBERFLOW_DATABASE_URL" in
    sqlite:*) sqlite3 -batch -noheader "$sqlite_file" "$1" ;;
    *) sql "$db" "$1" ;;
  esac
}

# `CREATE DATABASE raw TEMPLATE db` (nobody may be connected to db), then 16 cases with fixed
# ids for pgbench's clients, copies of a case the server opened, with its first event.
make_raw_copy() {
  sql postgres "DROP DATABASE IF EXISTS $raw" >/dev/null 2>&1
  sql postgres "CREATE DATABASE $raw TEMPLATE $db" >/dev/null
  sql "$raw" "
    INSERT INTO cases (id, definition_id, definition_version, unit_id, subject_member_id, title,
        state, version, terminal, snapshot, next_due, created_at, updated_at)
      SELECT ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, definition_id,
        definition_version, unit_id, subject_member_id, 'raw ' || n, state, version, terminal,
        snapshot, next_due, created_at, updated_at
      FROM cases, generate_series(0, 15) AS n WHERE id = '$template_case';
    CREATE TABLE bench_template AS SELECT snapshot::text AS snapshot FROM cases WHERE id = '$template_case';
    INSERT INTO case_event (case_id, seq, kind, transition, actor, inputs, from_state, to_state,
        rule_set, definition_version, payload, idempotency_key, effective_date, occurred_at,
        prev_hash, hash)
      SELECT ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, seq, kind,
        transition, actor, inputs, from_state, to_state, rule_set, definition_version, payload,
        NULL, effective_date, occurred_at, prev_hash, hash
      FROM case_event, generate_series(0, 15) AS n WHERE case_id = '$template_case' AND seq = 1;" >/dev/null
}

echo "memberflow benchmark suite: $("$bin" --version 2>/dev/null || echo "$bin")"
echo "binary: $bin"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "runs: $rounds rounds of ${secs} s each, interleaved; medians"
echo

want() { [[ " ${phases[*]} " == *" $1 "* ]]; }

if want steps || want reads || want statements; then
  command -v psql >/dev/null || { echo "needs psql" >&2 && exit 2; }
  if [ "$(sql postgres "SELECT COUNT(*) FROM pg_database WHERE datname = '$db'")" = "0" ]; then
    sql postgres "CREATE DATABASE $db" >/dev/null
  fi
  prepare "$pg/$db?sslmode=$sslmode" "PostgreSQL ($db)"
  echo "PostgreSQL $db: branch $branch_code ($branch_size members), unit $bloc_code ($bloc_children children)"
fi

if want steps; then
  command -v pgbench >/dev/null || { echo "needs pgbench" >&2 && exit 2; }
  template_case="$(sql "$db" "SELECT id FROM cases WHERE definition_id = 'toy' AND title = 'bench template' LIMIT 1")"
  if [ -z "$template_case" ]; then
    start_mf "$pg/$db?sslmode=$sslmode"
    login
    template_case="$(gql "{\"query\":\"mutation(\$i: OpenCaseInput!) { openCase(input: \$i) { case { id } } }\",\"variables\":{\"i\":{\"definitionId\":\"toy\",\"unitId\":\"$branch\",\"title\":\"bench template\",\"inputs\":{\"title\":\"bench\",\"owner\":\"$member\"}}}}" |
      sed -n 's/.*"id":"\([0-9a-f-]*\)".*/\1/p')"
    stop_mf
  fi
  make_raw_copy
  start_mf "$pg/$db?sslmode=$sslmode"
  login
  # Warm-up: both sides, not counted.
  wrk_steps 4 "$(open_cases 4)" 3 >/dev/null
  reset_raw
  pgbench_steps 4 3 >/dev/null
  declare -A mf raw_tps p99 paired
  for r in $(seq "$rounds"); do
    for c in 1 4 16; do
      res="$(wrk_steps "$c" "$(open_cases "$c")")"
      mf[$c]+="$(field ok_per_s "$res") "
      p99[$c]+="$(field p99_ms "$res") "
      reset_raw
      t="$(pgbench_steps "$c")"
      raw_tps[$c]+="$t "
      paired[$c]+="$(ratio "$(field ok_per_s "$res")" "$t") "
      echo "  round $r, $c client(s): memberflow $(field ok_per_s "$res") steps/s (p99 $(field p99_ms "$res") ms), plain SQL $t tx/s"
    done
  done
  stop_mf
  echo
  echo "Steps on PostgreSQL: fireTransition over HTTP vs the same rows as plain SQL in one transaction (pgbench -M prepared)"
  printf '%-10s %16s %16s %14s %14s %12s\n' clients "memberflow/s" "plain SQL tx/s" "ratio" "paired ratio" "mf p99 ms"
  for c in 1 4 16; do
    a="$(median <<<"${mf[$c]}")"
    b="$(median <<<"${raw_tps[$c]}")"
    printf '%-10s %16s %16s %14s %14s %12s\n' "$c" "$a" "$b" "$(ratio "$a" "$b")" \
      "$(median <<<"${paired[$c]}" | awk '{ printf "%.2f", $1 }')" "$(median <<<"${p99[$c]}")"
  done
  echo "(ratio: of the medians; paired ratio: the median of each round's ratio, its two runs back"
  echo " to back, which the machine's drift moves least)"
  echo
fi

if want reads; then
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "reads: skipped (needs node and npm for PostGraphile)"
  else
    pgl="$work/postgraphile"
    mkdir -p "$pgl"
    if ! cmp -s "$here/postgraphile/package.json" "$pgl/package.json" || [ ! -d "$pgl/node_modules/postgraphile" ]; then
      cp "$here/postgraphile/package.json" "$pgl/package.json"
      echo "installing PostGraphile into $pgl (npm install)…"
      (cd "$pgl" && npm install --no-audit --no-fund --omit=dev --loglevel=error >/dev/null)
    fi
    cp "$here/postgraphile/server.mjs" "$pgl/server.mjs"
    (cd "$pgl" && DATABASE_URL="$pg/$db?sslmode=$sslmode" PORT="$pgl_port" NODE_ENV=production exec node server.mjs) >"$work/postgraphile.log" 2>&1 &
    pgl_pid=$!
    start_mf "$pg/$db?sslmode=$sslmode"
    login
    for _ in $(seq 120); do
      curl -sf "http://127.0.0.1:$pgl_port/graphql" -H 'content-type: application/json' -d '{"query":"{ __typename }"}' >/dev/null && break
      sleep 0.5
    done
    echo "PostGraphile $(cd "$pgl" && node -p 'require("./node_modules/postgraphile/package.json").version') on port $pgl_port (pool of 16, no authorization)"
    b="$work/bodies"
    mkdir -p "$b"
    printf '{"query":"query($id: ID!) { member(id: $id) { id fullName dateOfBirth sex ethnicity officialDate } }","variables":{"id":"%s"}}' "$member" >"$b/mf-member.json"
    printf '{"query":"query($id: UUID!) { memberByRowId(rowId: $id) { rowId fullName dateOfBirth sex ethnicity officialDate } }","variables":{"id":"%s"}}' "$member" >"$b/pgl-member.json"
    printf '{"query":"query($id: ID!) { unit(id: $id) { id code name members(first: 50) { nodes { id fullName dateOfBirth } } } }","variables":{"id":"%s"}}' "$branch" >"$b/mf-branch.json"
    printf '{"query":"query($id: UUID!) { unitByRowId(rowId: $id) { rowId code name memberUnitsByUnitId(first: 50) { nodes { memberByMemberId { rowId fullName dateOfBirth } } } } }","variables":{"id":"%s"}}' "$branch" >"$b/pgl-branch.json"
    printf '{"query":"query($id: ID!) { unit(id: $id) { id code name children { id code name kind } } }","variables":{"id":"%s"}}' "$bloc" >"$b/mf-children.json"
    printf '{"query":"query($id: UUID!) { unitByRowId(rowId: $id) { rowId code name unitParentsByParentId(condition: { validTo: null }) { nodes { unitByUnitId { rowId code name kind } } } } }","variables":{"id":"%s"}}' "$bloc" >"$b/pgl-children.json"
    # The same answer from both, checked once: as many member and unit ids.
    for q in member branch children; do
      n_mf="$(token="$token" gql "$(cat "$b/mf-$q.json")" | grep -o '"id":"' | wc -l)"
      n_pgl="$(curl -sf "http://127.0.0.1:$pgl_port/graphql" -H 'content-type: application/json' -d @"$b/pgl-$q.json" | grep -o '"rowId":"' | wc -l)"
      echo "  $q: memberflow answers $n_mf ids, PostGraphile $n_pgl"
    done
    for q in member branch children; do
      wrk_read "$base/graphql" "$b/mf-$q.json" "$token" 2 >/dev/null
      wrk_read "http://127.0.0.1:$pgl_port/graphql" "$b/pgl-$q.json" "" 2 >/dev/null
    done
    declare -A rmf rpgl
    for r in $(seq "$rounds"); do
      for q in member branch children; do
        a="$(wrk_read "$base/graphql" "$b/mf-$q.json" "$token")"
        c="$(wrk_read "http://127.0.0.1:$pgl_port/graphql" "$b/pgl-$q.json" "")"
        rmf[$q]+="$(field ok_per_s "$a") "
        rpgl[$q]+="$(field ok_per_s "$c") "
        echo "  round $r, $q: memberflow $(field ok_per_s "$a") req/s (p99 $(field p99_ms "$a") ms), PostGraphile $(field ok_per_s "$c") req/s (p99 $(field p99_ms "$c") ms)"
      done
    done
    stop_mf
    kill "$pgl_pid" && wait "$pgl_pid" 2>/dev/null || true
    pgl_pid=""
    echo
    echo "Reads on PostgreSQL, 32 connections: memberflow vs PostGraphile v5, requests/s"
    printf '%-44s %14s %14s %8s\n' read "memberflow/s" "PostGraphile/s" ratio
    for q in member branch children; do
      case "$q" in
        member) label="one member by id" ;;
        branch) label="a branch's first 50 members ($branch_size)" ;;
        children) label="a unit with its $bloc_children children" ;;
      esac
      a="$(median <<<"${rmf[$q]}")"
      c="$(median <<<"${rpgl[$q]}")"
      printf '%-44s %14s %14s %8s\n' "$label" "$a" "$c" "$(ratio "$a" "$c")"
    done
    echo
  fi
fi

if want sqlite; then
  command -v sqlite3 >/dev/null || { echo "needs sqlite3" >&2 && exit 2; }
  mkdir -p "$work/sqlite"
  prepare "$sqlite_url" "SQLite ($sqlite_file)"
  start_mf "$sqlite_url"
  login
  wrk_steps 4 "$(open_cases 4)" 3 >/dev/null
  declare -A sp50 sp99 smax srate
  for r in $(seq "$rounds"); do
    for c in 4 16; do
      res="$(wrk_steps "$c" "$(open_cases "$c")")"
      srate[$c]+="$(field ok_per_s "$res") "
      sp50[$c]+="$(field p50_ms "$res") "
      sp99[$c]+="$(field p99_ms "$res") "
      smax[$c]+="$(field max_ms "$res") "
      echo "  round $r, $c clients: $(field ok_per_s "$res") steps/s, p50 $(field p50_ms "$res") ms, p99 $(field p99_ms "$res") ms"
    done
  done
  stop_mf
  echo
  echo "Steps on SQLite: fireTransition over HTTP, each client on its own case (medians of the rounds)"
  printf '%-10s %10s %10s %10s %10s\n' clients "steps/s" "p50 ms" "p99 ms" "max ms"
  for c in 4 16; do
    printf '%-10s %10s %10s %10s %10s\n' "$c" "$(median <<<"${srate[$c]}")" "$(median <<<"${sp50[$c]}")" \
      "$(median <<<"${sp99[$c]}")" "$(median <<<"${smax[$c]}")"
  done
fi

if want statements; then
  log="${BENCH_PG_LOG:-$(ls -t /var/log/postgresql/postgresql-*.log 2>/dev/null | head -1)}"
  if [ -z "$log" ] || [ ! -r "$log" ]; then
    echo "statements: skipped (PostgreSQL's log is not readable here; set BENCH_PG_LOG)"
  else
    logging=1
    sql postgres "ALTER DATABASE $db SET log_statement = 'all'" >/dev/null
    start_mf "$pg/$db?sslmode=$sslmode"
    login
    case_id="$(open_cases 1 | tr -d ' ')"
    fire() {
      gql "{\"query\":\"mutation(\$i: FireInput!) { fireTransition(input: \$i) { case { version } } }\",\"variables\":{\"i\":{\"caseId\":\"$case_id\",\"transition\":\"note\",\"expectedVersion\":$1,\"inputs\":{\"text\":\"bench\"}}}}" >/dev/null
    }
    fire 1
    fire 2
    best=""
    for v in 3 4 5; do
      sleep 0.5
      n0="$(wc -l <"$log")"
      fire "$v"
      sleep 0.5
      lines="$(tail -n +"$((n0 + 1))" "$log" | grep -E "@$db (LOG|STATEMENT):  (statement|execute)" || true)"
      n="$(grep -c . <<<"$lines" || true)"
      if [ -z "$best" ] || [ "$n" -lt "$best" ]; then
        best="$n"
        best_lines="$lines"
      fi
    done
    stop_mf
    sql postgres "ALTER DATABASE $db RESET log_statement" >/dev/null
    logging=""
    # A logged line is a message; one of several statements (services/store/src/batch.rs:
    # `BEGIN; EXECUTE mf_1(…); …`) counts each `BEGIN`, `COMMIT`, `ROLLBACK`, `PREPARE`,
    # `EXECUTE` and `DEALLOCATE` of ours in it.
    stmts="$(sed -E 's/.*(LOG|STATEMENT):  (statement|execute[^:]*): //' <<<"$best_lines" | python3 -c '
import re, sys
total = 0
for line in sys.stdin:
    if "EXECUTE mf_" in line or line.startswith("BEGIN; "):
        total += len(re.findall(r"(?:^|; )(?:BEGIN|COMMIT|ROLLBACK|(?:PREPARE|EXECUTE|DEALLOCATE) mf_[0-9]+)\b", line))
    elif line.strip():
        total += 1
print(total)')"
    echo "Messages one step sends (PostgreSQL log_statement, the fewest of 3 steps): $best, holding $stmts statements"
    sed -E 's/.*(LOG|STATEMENT):  //' <<<"$best_lines" | cut -c1-150 | sed 's/^/  /'
  fi
fi

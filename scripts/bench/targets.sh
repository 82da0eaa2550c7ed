#!/usr/bin/env bash
# The admission-target reads, side by side with plain SQL on the same data (docs/benchmarks.md).
#
#   scripts/bench/targets.sh sqlite:///tmp/bench.db?mode=rwc [members] [runs]
#   scripts/bench/targets.sh postgres://postgres@127.0.0.1:5432/bench [members] [runs]
#
# Builds `memberflow demo national --members N` into the database if it has no unit yet, then
# runs, interleaved, `runs` times each: memberflow's target report of the whole country
# (`--unit TW`), of one grassroots organization and of one district, and the plain-SQL
# equivalents — the subtree aggregate's row read directly (the floor any implementation
# pays) and the country's sums over every unit's counters (what a report without the
# aggregates reads at least). Prints medians and the ratios. Prints figures only; fails on
# nothing but errors. MEMBERFLOW (the binary, default target/release/memberflow) may be set.
set -euo pipefail

url="${1:?database URL}"
members="${2:-500000}"
runs="${3:-5}"
bin="${MEMBERFLOW:-target/release/memberflow}"
export MEMBERFLOW_DATABASE_URL="$url"

sql() {
  case "$url" in
    sqlite:*)
      local file="${url#sqlite://}"
      file="${file%%\?*}"
      sqlite3 -batch -noheader "$file" "$1"
      ;;
    *) psql -X -q -A -t "$url" -c "$1" ;;
  esac
}

# Milliseconds of a plain SQL statement, measured by the client around it.
sql_ms() {
  case "$url" in
    sqlite:*)
      local file="${url#sqlite://}"
      file="${file%%\?*}"
      printf '.timer on\n%s\n' "$1" | sqlite3 -batch "$file" 2>&1 |
        awk '/^Run Time/ { printf "%.2f\n", $4 * 1000 }'
      ;;
    *)
      printf '\\timing on\n%s\n' "$1" | psql -X -q -A -t "$url" 2>&1 |
        awk '/^Time:/ { print $2 }'
      ;;
  esac
}

# Milliseconds of a memberflow report, as it prints them (its query time, start-up excluded).
mf_ms() {
  "$bin" report targets --year 2022 --at-risk 0 "$@" 2>&1 |
    sed -n 's/.*query \([0-9.]*\) ms.*/\1/p' | tail -1
}

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

"$bin" migrate >/dev/null
if [ "$(sql "SELECT COUNT(*) FROM unit")" = "0" ]; then
  /usr/bin/time -v "$bin" demo national --members "$members" 2>&1 |
    grep -E 'demo national|Elapsed|Maximum resident'
fi
grassroots="$(sql "SELECT code FROM unit WHERE kind = 'GRASSROOTS_COMMITTEE' ORDER BY code LIMIT 1")"
district="$(sql "SELECT code FROM unit WHERE kind = 'DISTRICT' ORDER BY code LIMIT 1")"
tw="$(sql "SELECT id FROM unit WHERE code = 'TW'")"
# Warm the caches and build anything built on first use.
mf_ms --unit TW >/dev/null

row_sql="SELECT base, admitted FROM stat_rollup WHERE anchor = '12-31' AND year = 2022 AND unit_id = (SELECT id FROM unit WHERE code = 'TW');"
sums_sql="SELECT (SELECT SUM(members) FROM stat_membership WHERE anchor = '12-31' AND year = 2021), (SELECT SUM(admitted) FROM stat_admission WHERE year = 2022);"
: "$tw"

declare -A t
for _ in $(seq "$runs"); do
  t[country]+="$(mf_ms --unit TW) "
  t[row]+="$(sql_ms "$row_sql") "
  t[grassroots]+="$(mf_ms --unit "$grassroots" --depth 0) "
  t[sums]+="$(sql_ms "$sums_sql") "
  t[district]+="$(mf_ms --unit "$district") "
done
med() { tr ' ' '\n' <<<"${t[$1]}" | grep -v '^$' | median; }
printf '%-52s %10s\n' "what (median of $runs, ms)" "ms"
printf '%-52s %10s\n' "memberflow: the country (TW, depth 1)" "$(med country)"
printf '%-52s %10s\n' "memberflow: one grassroots organization ($grassroots)" "$(med grassroots)"
printf '%-52s %10s\n' "memberflow: one district ($district, depth 1)" "$(med district)"
printf '%-52s %10s\n' "SQL: the country's aggregate row" "$(med row)"
printf '%-52s %10s\n' "SQL: sums over every unit's counters" "$(med sums)"
awk -v a="$(med country)" -v b="$(med sums)" -v c="$(med row)" 'BEGIN {
  printf "ratio memberflow (country) / SQL sums over the counters: %.2f\n", a / b;
  printf "ratio memberflow (country) / SQL aggregate row:          %.2f\n", a / c }'

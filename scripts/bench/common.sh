# Sourced by suite.sh and bare.sh: what both do with figures and with the plain-SQL side.
# Uses $pg (the server's URL), $raw (the copy of the database pgbench steps in), $here (this
# folder) and $secs.

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
# The step as plain SQL (step.pgbench) with CLIENTS clients for D seconds: transactions/s.
pgbench_steps() {
  local clients="$1" d="${2:-$secs}" out
  out="$(pgbench -n -M prepared -c "$clients" -j "$clients" -T "$d" -f "$here/step.pgbench" "$pg/$raw" 2>&1)" ||
    { echo "$out" >&2 && exit 1; }
  if grep -q 'failed: [1-9]' <<<"$out"; then echo "$out" >&2 && exit 1; fi
  sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$out" | awk '{ printf "%.1f\n", $1 }'
}

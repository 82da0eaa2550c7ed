#!/usr/bin/env bash
# What round trips cost the plain-SQL side of the suite's step: the statements of
# scripts/bench/step.pgbench, unchanged, sent in 6, 4 and 2 round trips with pgbench's simple
# protocol, whose `\;` sends several statements in one message (pgbench's pipeline mode, the
# extended protocol's way, refuses `\gset`): 6, each statement alone; 4, `BEGIN` with the locked
# read and the event's `INSERT` with `COMMIT`; 2, `BEGIN` with both reads, then the `UPDATE`, the
# `INSERT` and `COMMIT` together. Beside them the suite's own reference, the six statements
# prepared (`-M prepared`). Interleaved, BENCH_ROUNDS rounds of BENCH_SECONDS at 1, 4 and 16
# clients, the cases taken back to their first step before each run as the suite does; prints
# each run, the medians and each variant over the simple protocol's six round trips
# (docs/benchmarks.md, session 24). The variants are written from step.pgbench at each run, so
# they follow it when it changes; the two-round-trip one is the order the server sends them in
# since session 25 (both reads under the lock, then the writes with the `COMMIT`).
#
#   scripts/bench/roundtrips.sh       # after `scripts/bench/suite.sh steps` (BENCH_DB_raw)
#
# Environment (defaults): BENCH_PG (postgres://postgres@127.0.0.1:5432), BENCH_DB (mfbench),
# BENCH_WORK ($XDG_CACHE_HOME/memberflow-bench), BENCH_SECONDS (4), BENCH_ROUNDS (4),
# BENCH_SSLMODE (disable). Needs pgbench, psql, python3.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
pg="${BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
export PGSSLMODE="${BENCH_SSLMODE:-disable}"
raw="${BENCH_DB:-mfbench}_raw"
secs="${BENCH_SECONDS:-4}"
rounds="${BENCH_ROUNDS:-4}"
work="${BENCH_WORK:-${XDG_CACHE_HOME:-$HOME/.cache}/memberflow-bench}"
for tool in pgbench psql python3; do command -v "$tool" >/dev/null || { echo "needs $tool" >&2 && exit 2; }; done
if ! psql -X -q -A -t "$pg/$raw" -c "SELECT 1 FROM bench_template" >/dev/null 2>&1; then
  echo "no $raw database: run scripts/bench/suite.sh steps first" >&2 && exit 2
fi
# shellcheck source=scripts/bench/common.sh
. "$here/common.sh"
mkdir -p "$work/roundtrips"

# The variants, from step.pgbench's statements: its hash variable quoted for the simple
# protocol (which puts a variable's text into the statement), nothing else changed.
python3 - "$here/step.pgbench" "$work/roundtrips" <<'PY'
import sys
src, out = sys.argv[1], sys.argv[2]
text = open(src).read()
body = text[text.index("BEGIN;"):].replace(":e_hash::text", "':e_hash'::text")

def cut(start, end):
    i = body.index(start)
    j = body.index(end, i) + len(end)
    return body[i:j]

lock = cut("SELECT id,", "LIMIT 1 FOR UPDATE")
update = cut("UPDATE cases", "lpad(:client_id::text, 12, '0'))::uuid")
last = cut("SELECT seq, hash", "ORDER BY seq DESC LIMIT 1")
insert = cut("INSERT INTO case_event", "'hex'))")
assert "\\gset c_" in body and "\\gset e_" in body and body.rstrip().endswith("COMMIT;")
variants = {
    "6": f"BEGIN;\n{lock} \\gset c_\n{update};\n{last} \\gset e_\n{insert};\nCOMMIT;\n",
    "4": f"BEGIN \\;\n{lock} \\gset c_\n{update};\n{last} \\gset e_\n{insert} \\;\nCOMMIT;\n",
    # \aset keeps the columns of both reads (their names differ), under one prefix.
    "2": f"BEGIN \\;\n{lock} \\;\n{last} \\aset c_\n{update} \\;\n"
         + insert.replace(":e_seq", ":c_seq").replace(":e_hash", ":c_hash") + " \\;\nCOMMIT;\n",
}
for n, v in variants.items():
    open(f"{out}/simple-{n}.pgbench", "w").write(v)
PY

echo "round trips of the step as plain SQL: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M') UTC"
echo "runs: $rounds rounds of ${secs} s each, interleaved; medians"
declare -A tps
for r in $(seq "$rounds"); do
  for c in 1 4 16; do
    line="  round $r, $c client(s):"
    for v in prepared-6 simple-6 simple-4 simple-2; do
      reset_raw
      if [ "$v" = prepared-6 ]; then
        t="$(pgbench_steps "$c")"
      else
        t="$(pgbench_steps "$c" "$secs" "$work/roundtrips/$v.pgbench" simple)"
      fi
      tps[$v,$c]+="$t "
      line+=" $v $t"
    done
    echo "$line tx/s"
  done
done
echo
echo "The step's statements as plain SQL in one transaction, by round trips (transactions/s, medians)"
printf '%-10s %12s %12s %12s %12s %14s %14s\n' clients "prepared 6" "simple 6" "simple 4" "simple 2" "4 / simple 6" "2 / simple 6"
for c in 1 4 16; do
  p6="$(median <<<"${tps[prepared-6,$c]}")"
  s6="$(median <<<"${tps[simple-6,$c]}")"
  s4="$(median <<<"${tps[simple-4,$c]}")"
  s2="$(median <<<"${tps[simple-2,$c]}")"
  printf '%-10s %12s %12s %12s %12s %14s %14s\n' "$c" "$p6" "$s6" "$s4" "$s2" "$(ratio "$s4" "$s6")" "$(ratio "$s2" "$s6")"
done

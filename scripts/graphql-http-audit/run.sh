#!/usr/bin/env bash
# Starts the debug binary on a throwaway SQLite database and a free loopback port, runs the
# graphql-http audit against its /graphql, stops it. Needs node (and npm) on the PATH: without
# them it says so and exits 0. Any warning or error of the audit fails it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "node/npm not found: skipping the GraphQL-over-HTTP audit"
  exit 0
fi
(cd "$here" && npm ci --no-audit --no-fund --silent)
bin="${CARGO_TARGET_DIR:-$root/target}/debug/memberflow"
[ -x "$bin" ] || (cd "$root" && cargo build --quiet -p memberflow-server)
work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 18089)"
(cd "$work" && MEMBERFLOW_DATABASE_URL="sqlite://$work/audit.db?mode=rwc" \
  MEMBERFLOW_LISTEN="127.0.0.1:$port" RUST_LOG=warn \
  exec "$bin") &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 60); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  sleep 0.5
done
node "$here/audit.mjs" "http://127.0.0.1:$port/graphql"

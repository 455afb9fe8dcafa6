#!/usr/bin/env bash
# Starts the server built by `cargo test` on the example schema and runs the real clients.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
(cd "$here" && npm ci --no-audit --no-fund --silent)
work="$(mktemp -d)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
key="ci-service-key-$(date +%s)-0123456789abcdef"
FERROBASE_SERVICE_KEY="$key" "$root/target/debug/ferrobase" --listen "127.0.0.1:$port" \
  --data-dir "$work/data" --schema "$root/schema" serve >"$work/log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.1
done
node "$here/audit.mjs" "http://127.0.0.1:$port/graphql"
node "$here/subscribe.mjs" "http://127.0.0.1:$port" "$key"

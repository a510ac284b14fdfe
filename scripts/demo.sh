#!/usr/bin/env bash
# `make demo`: a local source Redis seeded with an app keyspace from Fixtures/, then Upshift at work on it.
# Every process it starts is stopped on exit, also on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
UPSHIFT="${UPSHIFT_BIN:-$(swift build --show-bin-path)/upshift}"
OUT="${DEMO_OUT:-demo-out}"
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/upshift-demo.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start_redis() { # port
  redis-server --port "$1" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK" --daemonize no --loglevel warning >"$WORK/redis-$1.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do redis-cli -p "$1" ping >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "demo: redis-server on port $1 did not start" >&2; return 1
}
step() { printf '\n== %s\n' "$*"; }

SRC_PORT=$(free_port)
step "1. A source Redis on 127.0.0.1:$SRC_PORT, seeded with an app keyspace (Fixtures/demo-keyspace.redis)"
start_redis "$SRC_PORT"
redis-cli -p "$SRC_PORT" < Fixtures/demo-keyspace.redis >/dev/null
echo "   $(redis-cli -p "$SRC_PORT" dbsize) keys: cache entries, sessions, rate-limit counters, locks, queues, leaderboards, a stream, binary values"

step "2. upshift ping: is the source reachable?"
"$UPSHIFT" ping --source "redis://127.0.0.1:$SRC_PORT" | tee "$OUT/ping.txt"

echo
echo "Demo finished; outputs are in $OUT/."

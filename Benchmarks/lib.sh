# Shared by the benchmark scripts: sourced, not run. Sets BIN, WORK and PIDS; every process a
# script starts through these helpers (or adds to PIDS) is stopped on exit, and WORK removed.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN="${UPSHIFT_RELEASE_BIN:-$(swift build -c release --show-bin-path)/upshift}"
[ -x "$BIN" ] || swift build -c release --product upshift
WORK=$(mktemp -d /tmp/upshift-bench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

# A free TCP port on loopback.
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# redis PORT [redis-server options…]: a throwaway redis-server, ready when it returns.
redis() {
  local p="$1"; shift
  redis-server --port "$p" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK" --loglevel warning --daemonize no "$@" >/dev/null 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do redis-cli -p "$p" ping >/dev/null 2>&1 && return; sleep 0.05; done
  echo "bench: redis-server on $p did not start" >&2; return 1
}

# gateway GATEWAY-PORT REDIS-PORT: `upshift gateway` with token "bench" in front of a redis-server.
gateway() {
  "$BIN" gateway --listen "127.0.0.1:$1" --redis "redis://127.0.0.1:$2" --token bench --log-level error >/dev/null 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$1/ping?_token=bench" && return; sleep 0.05; done
  echo "bench: gateway on $1 did not start" >&2; return 1
}

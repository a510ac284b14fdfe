# Sourced by the benchmark scripts: the release binary, a scratch directory, and servers that are
# all stopped (and the directory removed) when the script exits.
BIN="${UPSHIFT_RELEASE_BIN:-$(swift build -c release --show-bin-path)/upshift}"
WORK=$(mktemp -d /tmp/upshift-bench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
redis() { # port [redis-server arguments…]
  local p="$1"
  shift
  mkdir -p "$WORK/$p"
  redis-server --port "$p" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK/$p" --loglevel warning --daemonize no "$@" >/dev/null 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do redis-cli -p "$p" ping >/dev/null 2>&1 && return; sleep 0.05; done
}
gateway() { # gw-port redis-port
  "$BIN" gateway --listen "127.0.0.1:$1" --redis "redis://127.0.0.1:$2" --token bench --log-level error >/dev/null 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$1/ping?_token=bench" && return; sleep 0.05; done
}

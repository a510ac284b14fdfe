#!/usr/bin/env bash
# The gateway's cost over redis-server itself, in one run on one machine:
#   wrk → upshift gateway (release) → redis-server, single commands and 100-command /pipeline bodies,
#   beside redis-benchmark straight to the same redis-server (without and with -P 100).
# Rewrites the "gateway" section of Benchmarks/README.md. Loopback only; bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-8}"
BIN="${UPSHIFT_RELEASE_BIN:-$(swift build -c release --show-bin-path)/upshift}"
WORK=$(mktemp -d /tmp/upshift-gwbench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill -9 "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RP=$(port)
redis-server --port "$RP" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK" --loglevel warning >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do redis-cli -p "$RP" ping >/dev/null 2>&1 && break; sleep 0.05; done
redis-cli -p "$RP" set k v >/dev/null
"$BIN" gateway --listen 127.0.0.1:0 --redis "redis://127.0.0.1:$RP" --token bench --log-level error >"$WORK/gw.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 200); do grep -q listening "$WORK/gw.out" 2>/dev/null && break; sleep 0.05; done
GW=$(grep -o 'http://127.0.0.1:[0-9]*' "$WORK/gw.out" | head -1)

lua() { # body-file
  cat <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer bench"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$1", "r"); wrk.body = f:read("*a"); f:close()
LUA
}
printf '["GET","k"]' >"$WORK/get.json"
printf '["SET","k","v"]' >"$WORK/set.json"
python3 -c 'import json; print(json.dumps([["GET","k"]]*100))' >"$WORK/pipe.json"
lua "$WORK/get.json" >"$WORK/get.lua"; lua "$WORK/set.json" >"$WORK/set.lua"; lua "$WORK/pipe.json" >"$WORK/pipe.lua"
wrk_rps() { # script path
  wrk -t2 -c50 -d"${DURATION}s" --latency -s "$1" "$GW$2" | awk '/Requests\/sec/ {print $2} /^ +50%/ {print "p50", $2} /^ +99%/ {print "p99", $2}' | tr '\n' ' '
}
G_GET=$(wrk_rps "$WORK/get.lua" /)
G_SET=$(wrk_rps "$WORK/set.lua" /)
G_PIPE=$(wrk_rps "$WORK/pipe.lua" /pipeline)
R_PLAIN=$(redis-benchmark -p "$RP" -t get,set -n 300000 -c 50 -q --csv)
R_PIPE=$(redis-benchmark -p "$RP" -t get -n 2000000 -c 50 -P 100 -q --csv)

python3 - "$G_GET" "$G_SET" "$G_PIPE" "$R_PLAIN" "$R_PIPE" >"$WORK/section.md" <<'PY'
import sys, subprocess
gget, gset, gpipe, rplain, rpipe = sys.argv[1:]
def rps_of(s):
    parts = s.split()
    vals = [p for p in parts if p.replace('.', '', 1).isdigit()]
    lat = {parts[i]: parts[i + 1] for i in range(len(parts) - 1) if parts[i] in ("p50", "p99")}
    return float(vals[-1]), lat
def bench(csv, test):
    for line in csv.splitlines():
        cells = [c.strip('"') for c in line.split(",")]
        if cells and cells[0].startswith(test):
            return float(cells[1])
    return float("nan")
g_get, l_get = rps_of(gget); g_set, l_set = rps_of(gset); g_pipe, l_pipe = rps_of(gpipe)
r_get, r_set, r_pipe = bench(rplain, "GET"), bench(rplain, "SET"), bench(rpipe, "GET")
cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
print("## gateway (`Benchmarks/gateway.sh`)\n")
print(f"wrk (2 threads, 50 connections) → `upshift gateway` (release) → redis-server, beside redis-benchmark "
      f"(50 clients) straight to the same redis-server, same run, {cores} cores shared by all processes.\n")
print("| workload | gateway commands/s | redis-server commands/s | ratio | gateway p50 / p99 |")
print("|---|---|---|---|---|")
print(f"| GET, one per request | {g_get:,.0f} | {r_get:,.0f} | {g_get / r_get:.0%} | {l_get.get('p50','?')} / {l_get.get('p99','?')} |")
print(f"| SET, one per request | {g_set:,.0f} | {r_set:,.0f} | {g_set / r_set:.0%} | {l_set.get('p50','?')} / {l_set.get('p99','?')} |")
print(f"| GET, 100 per /pipeline request (vs -P 100) | {g_pipe * 100:,.0f} | {r_pipe:,.0f} | {g_pipe * 100 / r_pipe:.0%} | {l_pipe.get('p50','?')} / {l_pipe.get('p99','?')} |")
sys.path.insert(0, "Benchmarks")
from summary import add
add("gateway: GET, one per request", f"{g_get:,.0f} commands/s", f"redis-server direct: {r_get:,.0f}", f"{g_get / r_get:.0%}")
add("gateway: GET, 100 per /pipeline", f"{g_pipe * 100:,.0f} commands/s", f"redis-server -P 100: {r_pipe:,.0f}", f"{g_pipe * 100 / r_pipe:.0%}")
PY
README=Benchmarks/README.md
python3 Benchmarks/section.py "$README" "$WORK/section.md" "gateway ("
cat "$WORK/section.md"

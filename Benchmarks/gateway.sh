#!/usr/bin/env bash
# The gateway beside its peer, in one run on one machine: wrk → `upshift gateway` (release) → redis-server,
# and wrk → webdis (Debian's C HTTP→Redis gateway, `UPSHIFT_SETUP_BENCH=1 scripts/setup.sh` installs it)
# → the same redis-server, same load: single commands one per request (the path form both serve, and the
# gateway's JSON body), then 100-command /pipeline bodies beside redis-benchmark -P 100.
# Rewrites the "gateway" section of Benchmarks/README.md. Loopback only; bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-8}"
BIN="${UPSHIFT_RELEASE_BIN:-$(swift build -c release --show-bin-path)/upshift}"
command -v webdis >/dev/null || { echo "gateway.sh: webdis is missing: UPSHIFT_SETUP_BENCH=1 bash scripts/setup.sh" >&2; exit 1; }
command -v wrk >/dev/null || { echo "gateway.sh: wrk is missing: UPSHIFT_SETUP_BENCH=1 bash scripts/setup.sh" >&2; exit 1; }
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
WP=$(port)
cat >"$WORK/webdis.json" <<JSON
{"redis_host": "127.0.0.1", "redis_port": $RP, "http_host": "127.0.0.1", "http_port": $WP, "threads": 2,
 "pool_size": 10, "daemonize": false, "database": 0, "verbosity": 0, "logfile": "$WORK/webdis.log"}
JSON
webdis "$WORK/webdis.json" >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$WP/PING" && break; sleep 0.05; done
WD="http://127.0.0.1:$WP"

lua() { # method body-file|-
  echo "wrk.method = \"$1\""
  echo 'wrk.headers["Authorization"] = "Bearer bench"'
  if [ "$2" != "-" ]; then
    echo 'wrk.headers["Content-Type"] = "application/json"'
    echo "local f = io.open(\"$2\", \"r\"); wrk.body = f:read(\"*a\"); f:close()"
  fi
}
printf '["GET","k"]' >"$WORK/get.json"
printf '["SET","k","v"]' >"$WORK/set.json"
python3 -c 'import json; print(json.dumps([["GET","k"]]*100))' >"$WORK/pipe.json"
lua GET - >"$WORK/path.lua"
lua POST "$WORK/get.json" >"$WORK/get.lua"; lua POST "$WORK/set.json" >"$WORK/set.lua"; lua POST "$WORK/pipe.json" >"$WORK/pipe.lua"
wrk_rps() { # script url
  wrk -t2 -c50 -d"${DURATION}s" --latency -s "$1" "$2" | awk '/Requests\/sec/ {print $2} /^ +50%/ {print "p50", $2} /^ +99%/ {print "p99", $2} /Non-2xx/ {print "non2xx", $4}' | tr '\n' ' '
}
# Each answer checked once, so a benchmark of errors cannot pass for one of replies.
[ "$(curl -s -H 'Authorization: Bearer bench' "$GW/get/k")" = '{"result":"v"}' ] || { echo "gateway.sh: the gateway does not answer GET" >&2; exit 1; }
[ "$(curl -s "$WD/GET/k")" = '{"GET":"v"}' ] || { echo "gateway.sh: webdis does not answer GET" >&2; exit 1; }
G_PATH_GET=$(wrk_rps "$WORK/path.lua" "$GW/get/k")
W_PATH_GET=$(wrk_rps "$WORK/path.lua" "$WD/GET/k")
G_PATH_SET=$(wrk_rps "$WORK/path.lua" "$GW/set/k/v")
W_PATH_SET=$(wrk_rps "$WORK/path.lua" "$WD/SET/k/v")
G_GET=$(wrk_rps "$WORK/get.lua" "$GW/")
G_SET=$(wrk_rps "$WORK/set.lua" "$GW/")
G_PIPE=$(wrk_rps "$WORK/pipe.lua" "$GW/pipeline")
R_PLAIN=$(redis-benchmark -p "$RP" -t get,set -n 300000 -c 50 -q --csv)
R_PIPE=$(redis-benchmark -p "$RP" -t get -n 2000000 -c 50 -P 100 -q --csv)

python3 - "$G_PATH_GET" "$W_PATH_GET" "$G_PATH_SET" "$W_PATH_SET" "$G_GET" "$G_SET" "$G_PIPE" "$R_PLAIN" "$R_PIPE" >"$WORK/section.md" <<'PY'
import sys, subprocess
gpg, wpg, gps, wps, gget, gset, gpipe, rplain, rpipe = sys.argv[1:]
def parse(s):
    parts = s.split()
    vals = [p for p in parts if p.replace('.', '', 1).isdigit()]
    lat = {parts[i]: parts[i + 1] for i in range(len(parts) - 1) if parts[i] in ("p50", "p99", "non2xx")}
    if "non2xx" in lat:
        sys.exit(f"gateway.sh: {lat['non2xx']} non-2xx replies in a run: not a benchmark of replies")
    return float(vals[0]), lat
def bench(csv, test):
    for line in csv.splitlines():
        cells = [c.strip('"') for c in line.split(",")]
        if cells and cells[0].startswith(test):
            return float(cells[1])
    return float("nan")
runs = {name: parse(v) for name, v in [("gpg", gpg), ("wpg", wpg), ("gps", gps), ("wps", wps), ("gget", gget), ("gset", gset), ("gpipe", gpipe)]}
r_get, r_set, r_pipe = bench(rplain, "GET"), bench(rplain, "SET"), bench(rpipe, "GET")
cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
lat = lambda k: f"{runs[k][1].get('p50', '?')} / {runs[k][1].get('p99', '?')}"
rps = lambda k: runs[k][0]
print("## gateway (`Benchmarks/gateway.sh`)\n")
print(f"wrk (2 threads, 50 connections, keep-alive) → `upshift gateway` (release, strict) → redis-server, and the same wrk → "
      f"webdis (Debian's C HTTP→Redis gateway, 2 threads) → the same redis-server, one after the other in one run; "
      f"redis-benchmark (50 clients) straight to that redis-server for scale. {cores} cores shared by every process "
      "(wrk, the gateway under test, redis-server).\n")
print("| workload | gateway requests/s | webdis requests/s | gateway ÷ webdis | gateway p50 / p99 | webdis p50 / p99 |")
print("|---|---|---|---|---|---|")
print(f"| GET, path form (`/get/k`), one per request | {rps('gpg'):,.0f} | {rps('wpg'):,.0f} | {rps('gpg') / rps('wpg'):.2f}× | {lat('gpg')} | {lat('wpg')} |")
print(f"| SET, path form (`/set/k/v`), one per request | {rps('gps'):,.0f} | {rps('wps'):,.0f} | {rps('gps') / rps('wps'):.2f}× | {lat('gps')} | {lat('wps')} |")
print()
print("| workload | gateway commands/s | baseline commands/s | ratio | gateway p50 / p99 |")
print("|---|---|---|---|---|")
print(f"| GET, JSON body (`POST /`), one per request | {rps('gget'):,.0f} | webdis path form: {rps('wpg'):,.0f} | {rps('gget') / rps('wpg'):.2f}× | {lat('gget')} |")
print(f"| SET, JSON body (`POST /`), one per request | {rps('gset'):,.0f} | webdis path form: {rps('wps'):,.0f} | {rps('gset') / rps('wps'):.2f}× | {lat('gset')} |")
print(f"| GET, 100 per `/pipeline` request | {rps('gpipe') * 100:,.0f} | redis-benchmark -P 100: {r_pipe:,.0f} | {rps('gpipe') * 100 / r_pipe:.0%} | {lat('gpipe')} |")
print(f"| (scale) redis-server direct, GET / SET | — | redis-benchmark: {r_get:,.0f} / {r_set:,.0f} | — | — |")
print()
print("webdis has no auth, no JSON bodies, no pipelines and no Upstash profile; the gateway checks a bearer token and "
      "every command against the strict profile on each request.")
sys.path.insert(0, "Benchmarks")
from summary import add
add("gateway: GET, one per request (path form)", f"{rps('gpg'):,.0f} requests/s", f"webdis: {rps('wpg'):,.0f}", f"{rps('gpg') / rps('wpg'):.2f}×")
add("gateway: GET, 100 per /pipeline", f"{rps('gpipe') * 100:,.0f} commands/s", f"redis-server -P 100: {r_pipe:,.0f}", f"{rps('gpipe') * 100 / r_pipe:.0%}")
PY
README=Benchmarks/README.md
python3 Benchmarks/section.py "$README" "$WORK/section.md" "gateway ("
cat "$WORK/section.md"

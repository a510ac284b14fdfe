#!/usr/bin/env bash
# redis-benchmark straight to Redis vs through `upshift shadow` (mirroring on), in one run, beside
# haproxy in TCP mode on the same path: what one proxy hop costs on this machine with no work at all.
# Writes a section into Benchmarks/README.md: throughput ratio and added p50/p99 per command.
# Usage: Benchmarks/shadow.sh [requests per test, default 100000]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-100000}"
BIN="$(swift build -c release --show-bin-path)/upshift"
[ -x "$BIN" ] || swift build -c release --product upshift
TMP="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
P1=$(free_port); P2=$(free_port)
for p in "$P1" "$P2"; do
  redis-server --port "$p" --bind 127.0.0.1 --save "" --appendonly no --daemonize no --loglevel warning >/dev/null &
  PIDS+=($!)
done
sleep 0.5
"$BIN" shadow --listen 127.0.0.1:0 --primary "redis://127.0.0.1:$P1" --target "redis://127.0.0.1:$P2" \
  --mirror reads,writes --read-sample 0.1 --mismatch-log "$TMP/mismatches.jsonl" >"$TMP/proxy.out" 2>"$TMP/proxy.err" &
PIDS+=($!)
for _ in $(seq 100); do grep -q "shadow listening" "$TMP/proxy.out" 2>/dev/null && break; sleep 0.1; done
PROXY=$(sed -n 's/.*127.0.0.1:\([0-9]*\)$/\1/p' "$TMP/proxy.out" | head -1)
HOP=$(free_port)
cat >"$TMP/haproxy.cfg" <<CFG
global
    maxconn 4000
    nbthread 1
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend hop
    bind 127.0.0.1:$HOP
    default_backend redis
backend redis
    server r 127.0.0.1:$P1
CFG
haproxy -f "$TMP/haproxy.cfg" -db >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.3

TESTS=set,get,incr,lpush,rpop,hset
run() { redis-benchmark -p "$1" -t "$TESTS" -c 50 -n "$N" $2 --csv 2>/dev/null | tail -n +2; }
for pipe in 1 16; do
  opt=""; [ "$pipe" = 16 ] && opt="-P 16"
  redis-cli -p "$P1" flushall >/dev/null </dev/null
  run "$P1" "$opt" >"$TMP/direct-$pipe.csv"
  redis-cli -p "$P1" flushall >/dev/null </dev/null
  run "$HOP" "$opt" >"$TMP/hop-$pipe.csv"
  redis-cli -p "$P1" flushall >/dev/null </dev/null
  run "$PROXY" "$opt" >"$TMP/proxy-$pipe.csv"
done
sleep 1
MISMATCHES=$(grep -c '"class":"diff"' "$TMP/mismatches.jsonl" 2>/dev/null || true)

python3 - "$TMP" "$N" "${MISMATCHES:-0}" <<'PY' >"$TMP/section.md"
import csv, sys, os, platform, subprocess
tmp, n, diffs = sys.argv[1], sys.argv[2], sys.argv[3]
def load(path):
    out = {}
    for row in csv.reader(open(path)):
        if len(row) >= 7: out[row[0].split()[0]] = (float(row[1]), float(row[4]), float(row[6]))
    return out
cpu = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
print("## shadow proxy (`Benchmarks/shadow.sh`)\n")
print(f"redis-benchmark, 50 clients, {n} requests per test, direct to redis-server 7 vs through `upshift shadow` "
      f"(release build, mirroring writes and 10% of reads to a second redis-server), same machine ({cpu} cores), one run. "
      f"Beside it, haproxy 2.6 in TCP mode on the same path: one proxy hop doing no work, the floor for any proxy here. "
      f"`diff` records during the run: {diffs}.\n")
print("| test | pipeline | direct rps | haproxy hop | shadow rps | shadow / direct | shadow / haproxy | p50 direct / added (ms) | p99 direct / added (ms) |")
print("|---|---|---|---|---|---|---|---|---|")
for pipe in ("1", "16"):
    d, h, p = (load(os.path.join(tmp, f"{k}-{pipe}.csv")) for k in ("direct", "hop", "proxy"))
    for t in d:
        if t not in p or t not in h: continue
        (dr, d50, d99), (hr, _, _), (pr, p50, p99) = d[t], h[t], p[t]
        print(f"| {t} | {pipe} | {dr:,.0f} | {hr:,.0f} ({hr/dr:.0%}) | {pr:,.0f} | {pr/dr:.0%} | {pr/hr:.0%} | {d50:.3f} / {p50-d50:+.3f} | {d99:.3f} / {p99-d99:+.3f} |")
    shared = [t for t in d if t in p and t in h]
    if shared:
        sys.path.insert(0, "Benchmarks")
        from summary import add
        ratios = [p[t][0] / d[t][0] for t in shared]
        hops = [h[t][0] / d[t][0] for t in shared]
        added = [p[t][2] - d[t][2] for t in shared]
        add(f"shadow proxy, mirroring on, pipeline {pipe} ({len(shared)} commands)", f"{min(ratios):.0%}–{max(ratios):.0%} of direct rps, "
            f"p99 +{min(added):.1f}–{max(added):.1f} ms", f"haproxy hop (no work): {min(hops):.0%}–{max(hops):.0%} of direct",
            f"{min(r / x for r, x in zip(ratios, hops)):.0%}–{max(r / x for r, x in zip(ratios, hops)):.0%} of haproxy")
PY
README=Benchmarks/README.md
[ -f "$README" ] || printf '# Benchmarks\n\nReproducible measurements; each script writes its own section below.\n\n' >"$README"
python3 Benchmarks/section.py "$README" "$TMP/section.md" "shadow proxy"
cat "$TMP/section.md"

#!/usr/bin/env bash
# Where the machine's CPU goes per request, twemproxy beside `upshift shadow` in one run: the
# redis-benchmark client, the primary redis-server, the mirror's redis-server and the proxy, each
# from its /proc clock ticks (the client's from its rusage). On a machine where all of them share the
# cores, throughput is CPU per request of the whole set, so this says what a ratio to twemproxy can
# reach: the mirror's server is work twemproxy's setup does not have. Two alternating rounds.
# Writes the "shadow: CPU per request" section of Benchmarks/README.md.
# Usage: Benchmarks/shadow-cpu.sh [requests per test at pipeline 1, default 100000]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
N="${1:-100000}"
TMP=$WORK
P1=$(port); P2=$(port); TWEM=$(port)
redis "$P1"
PRIMARY_PID=${PIDS[-1]}
redis "$P2"
MIRROR_PID=${PIDS[-1]}
cat >"$TMP/nutcracker.yml" <<CFG
shadow:
  listen: 127.0.0.1:$TWEM
  redis: true
  servers:
   - 127.0.0.1:$P1:1
CFG
nutcracker -c "$TMP/nutcracker.yml" -s "$(port)" -o "$TMP/nutcracker.log" >/dev/null 2>&1 &
TWEM_PID=$!; PIDS+=($!)
"$BIN" shadow --listen 127.0.0.1:0 --primary "redis://127.0.0.1:$P1" --target "redis://127.0.0.1:$P2" \
  --mirror reads,writes --read-sample 0.1 --mismatch-log "$TMP/mismatches.jsonl" ${SHADOW_ARGS:-} >"$TMP/proxy.out" 2>"$TMP/proxy.err" &
PROXY_PID=$!; PIDS+=($!)
for _ in $(seq 100); do grep -q "shadow listening" "$TMP/proxy.out" 2>/dev/null && break; sleep 0.1; done
PROXY=$(sed -n 's/.*127.0.0.1:\([0-9]*\)$/\1/p' "$TMP/proxy.out" | head -1)
sleep 0.3

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
for round in 1 2; do
  for pipe in 1 16; do
    n=$N; [ "$pipe" = 16 ] && n=$((N * 5))
    for test in set get; do
      for who in twem proxy; do
        port=$TWEM; pid=$TWEM_PID; [ "$who" = proxy ] && port=$PROXY && pid=$PROXY_PID
        a=($(ticks "$PRIMARY_PID") $(ticks "$MIRROR_PID") $(ticks "$pid"))
        # The client's CPU from its rusage (python, so no time(1) is needed).
        client=$(python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[2:], stdout=open(sys.argv[1], "w"), stderr=subprocess.DEVNULL)
r = resource.getrusage(resource.RUSAGE_CHILDREN); print(r.ru_utime + r.ru_stime)' \
          "$TMP/rb.csv" redis-benchmark -p "$port" -t "$test" -c 50 -n "$n" -P "$pipe" --csv)
        b=($(ticks "$PRIMARY_PID") $(ticks "$MIRROR_PID") $(ticks "$pid"))
        echo "$who $test $pipe $n $(tail -n +2 "$TMP/rb.csv" | cut -d, -f2 | tr -d '"') $client $((b[0] - a[0])) $((b[1] - a[1])) $((b[2] - a[2]))" >>"$TMP/rows"
      done
    done
  done
done

python3 - "$TMP/rows" <<'PY' >"$TMP/section.md"
import os, statistics, sys
rows = {}
hz = os.sysconf("SC_CLK_TCK")
for line in open(sys.argv[1]):
    who, test, pipe, n, rps, client, primary, mirror, proxy = line.split()
    n = int(n)
    us = lambda ticks: int(ticks) * 1e6 / hz / n
    rows.setdefault((test.upper(), int(pipe), who), []).append(
        (float(rps), float(client) * 1e6 / n, us(primary), us(mirror), us(proxy)))
print("## shadow: CPU per request (`Benchmarks/shadow-cpu.sh`)\n")
print("Where the CPU of this machine goes per request, twemproxy and the shadow alternately, same redis-benchmark (-c 50), "
      "same primary; the shadow mirrors writes and 10% of reads to a second redis-server. Medians of 2 rounds, "
      "µs of CPU per request (user + system).\n")
print("| test | pipeline | who | rps | client | primary | mirror server | proxy | all |")
print("|---|---|---|---|---|---|---|---|---|")
for (test, pipe, who), vals in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][0], kv[0][2] != "twem")):
    med = [statistics.median(v[i] for v in vals) for i in range(5)]
    name = "twemproxy" if who == "twem" else "shadow"
    print(f"| {test} | {pipe} | {name} | {med[0]:,.0f} | {med[1]:.1f} | {med[2]:.1f} | {med[3]:.1f} | {med[4]:.1f} | **{sum(med[1:]):.1f}** |")
print("\nAt pipeline 1 every process is busy and rps is about the cores divided by the `all` column, so for the shadow to "
      "reach 0.9x twemproxy its `all` may be at most 1.11x twemproxy's, and the mirror server's share counts against it: "
      "what is left for the proxy is about what twemproxy itself spends, while the shadow also mirrors. At pipeline 16 "
      "twemproxy is held by its one thread (its `proxy` column times its rps is about one core), the shadow by the cores.")
PY
python3 Benchmarks/section.py Benchmarks/README.md "$TMP/section.md" "shadow: CPU per request"
cat "$TMP/section.md"

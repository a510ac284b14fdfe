#!/usr/bin/env bash
# Targets and shards, on one mixed keyspace, in one run:
#   - the same copy into a REST target (the gateway), a RESP target, and a RESP target over TLS
#     (how Upstash's rediss://default:TOKEN@host:6379 endpoint is reached);
#   - one process vs two `--shard i/2` processes running at once, into RESP targets;
#   - the same from a 3-master Redis Cluster source (every master read; a shard reads only its masters).
# Rewrites the "targets and shards" section of Benchmarks/README.md. Loopback only.
set -euo pipefail
KEYS_N="${KEYS_N:-100000}"
source "$(dirname "$0")/lib.sh"

# A CA and a server certificate for localhost, for the TLS target.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/ca.key" -out "$WORK/ca.crt" -days 1 -subj "/CN=upshift-bench-ca" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$WORK/server.key" -out "$WORK/server.csr" -subj "/CN=localhost" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$WORK/san.ext"
openssl x509 -req -in "$WORK/server.csr" -CA "$WORK/ca.crt" -CAkey "$WORK/ca.key" -CAcreateserial -out "$WORK/server.crt" \
  -days 1 -extfile "$WORK/san.ext" 2>/dev/null

SRC=$(port); REST=$(port); GW=$(port); RESP=$(port); TLS_PLAIN=$(port); TLS=$(port); ONE=$(port); SH=$(port)
redis "$SRC"; redis "$REST"; redis "$RESP"; redis "$ONE"; redis "$SH"
redis "$TLS_PLAIN" --tls-port "$TLS" --tls-cert-file "$WORK/server.crt" --tls-key-file "$WORK/server.key" \
  --tls-ca-cert-file "$WORK/ca.crt" --tls-auth-clients no
gateway "$GW" "$REST"
python3 Benchmarks/seed_mixed.py "$SRC" "$KEYS_N" >/dev/null

# A 3-master cluster holding the same keyspace, seeded through redis-py's cluster client.
C1=$(port); C2=$(port); C3=$(port); CONE=$(port); CSH=$(port)
for p in "$C1" "$C2" "$C3"; do mkdir -p "$WORK/$p"; redis "$p" --cluster-enabled yes --cluster-port "$(port)" --dir "$WORK/$p"; done
redis "$CONE"; redis "$CSH"
redis-cli --cluster create "127.0.0.1:$C1" "127.0.0.1:$C2" "127.0.0.1:$C3" --cluster-yes >/dev/null
for _ in $(seq 200); do redis-cli -p "$C1" cluster info | grep -q cluster_state:ok && break; sleep 0.05; done
python3 Benchmarks/seed_mixed.py "$C1" "$KEYS_N" cluster >/dev/null

migrate() { # name target [options…]: one timed run, its JSON summary kept as $WORK/name.json
  local name="$1" target="$2"; shift 2
  "$BIN" migrate --source "${SOURCE:-redis://127.0.0.1:$SRC}" --target "$target" --token bench --json "$@" >"$WORK/$name.json"
}
seconds() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['seconds'])" "$WORK/$1.json"; }
copied() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['copied'])" "$WORK/$1.json"; }

migrate rest "http://127.0.0.1:$GW"
migrate resp "redis://127.0.0.1:$RESP"
migrate tls "rediss://localhost:$TLS?tls-ca=$WORK/ca.crt"
# Both sides of the shard comparison are timed by the wall clock, process start-up included.
now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$1" "$(now)"; }
# one_vs_two PREFIX ONE-PORT SHARD-PORT: one process into one target, then two shards at once into
# the other; sets ONE_WALL and TWO_WALL.
one_vs_two() {
  local prefix="$1" start s0 s1
  start=$(now)
  migrate "${prefix}one" "redis://127.0.0.1:$2"
  ONE_WALL=$(elapsed "$start")
  start=$(now)
  migrate "${prefix}shard0" "redis://127.0.0.1:$3" --shard 0/2 &
  s0=$!
  migrate "${prefix}shard1" "redis://127.0.0.1:$3" --shard 1/2 &
  s1=$!
  wait "$s0" "$s1"
  TWO_WALL=$(elapsed "$start")
}
one_vs_two "" "$ONE" "$SH"
ONE_WALL_LONE=$ONE_WALL
TWO=$TWO_WALL
SH_KEYS=$(redis-cli -p "$SH" dbsize)
ONE_KEYS=$(redis-cli -p "$ONE" dbsize)
# The cluster source, timed the same way.
export SOURCE="redis://127.0.0.1:$C1"
one_vs_two c "$CONE" "$CSH"
C_ONE=$ONE_WALL
C_TWO=$TWO_WALL
C_KEYS=$(redis-cli -p "$CSH" dbsize)

python3 - "$KEYS_N" "$(seconds rest)" "$(seconds resp)" "$(seconds tls)" "$ONE_WALL_LONE" "$TWO" \
  "$(copied shard0)" "$(copied shard1)" "$ONE_KEYS" "$SH_KEYS" "$C_ONE" "$C_TWO" "$(copied cshard0)" "$(copied cshard1)" "$C_KEYS" \
  >"$WORK/section.md" <<'PY'
import subprocess, sys
n = int(sys.argv[1]); rest, resp, tls, one, two = map(float, sys.argv[2:7]); c0, c1, one_keys, sh_keys = map(int, sys.argv[7:11])
cone, ctwo = map(float, sys.argv[11:13]); cc0, cc1, c_keys = map(int, sys.argv[13:16])
cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
print("## targets and shards (`Benchmarks/endpoints.sh`)\n")
print(f"{n} mixed keys (as in the migrate benchmark), release build, loopback, {cores} cores, one run; each copy into an empty "
      "redis-server. The TLS target is redis-server's own TLS port with a certificate made for the run, as Upshift reaches "
      "Upstash's `rediss://default:TOKEN@host:6379`.\n")
print("| run | wall time | keys/s | ratio |")
print("|---|---|---|---|")
print(f"| `migrate` → REST target (gateway) | {rest:.2f} s | {n/rest:,.0f} | 1.00 |")
print(f"| `migrate` → RESP target | {resp:.2f} s | {n/resp:,.0f} | {rest/resp:.2f}× REST |")
print(f"| `migrate` → RESP target over TLS | {tls:.2f} s | {n/tls:,.0f} | {rest/tls:.2f}× REST |")
print(f"| `migrate`, one process → RESP | {one:.2f} s | {n/one:,.0f} | 1.00 |")
print(f"| `migrate --shard 0/2` + `--shard 1/2` at once → RESP | {two:.2f} s | {n/two:,.0f} | {one/two:.2f}× one process |")
print(f"| 3-master cluster source, one process → RESP | {cone:.2f} s | {n/cone:,.0f} | 1.00 |")
print(f"| 3-master cluster source, `--shard 0/2` + `--shard 1/2` at once → RESP | {ctwo:.2f} s | {n/ctwo:,.0f} | {cone/ctwo:.2f}× one process |")
print(f"\nThe shards copied {c0:,} + {c1:,} = {c0 + c1:,} keys (one process: {one_keys:,}; the sharded target holds {sh_keys:,}): "
      "every key exactly once. On this machine both shards share two cores with the source and target servers, "
      "so the gain is what one more process buys here; on n machines each shard has its own. "
      f"From the cluster the shards copied {cc0:,} + {cc1:,} keys and the target holds {c_keys:,}; each shard "
      "scanned only the masters owning slots of its half.")
sys.path.insert(0, "Benchmarks")
from summary import add
add("migrate → RESP target over TLS", f"{n/tls:,.0f} keys/s", f"REST target: {n/rest:,.0f} keys/s", f"{rest/tls:.2f}×")
add("migrate, 2 shards at once", f"{n/two:,.0f} keys/s", f"one process: {n/one:,.0f} keys/s", f"{one/two:.2f}×")
add("migrate from a 3-master cluster, 2 shards at once", f"{n/ctwo:,.0f} keys/s", f"one process: {n/cone:,.0f} keys/s", f"{cone/ctwo:.2f}×")
PY
python3 Benchmarks/section.py Benchmarks/README.md "$WORK/section.md" "targets and shards"
cat "$WORK/section.md"

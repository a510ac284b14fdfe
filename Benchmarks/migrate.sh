#!/usr/bin/env bash
# migrate and compare throughput on one mixed keyspace, in one run, beside two baselines:
#   - the SDK baseline: redis-py reading, upstash-redis pipelines writing, through the gateway
#   - the MIGRATE reference: redis-server copying to redis-server (COPY REPLACE KEYS)
# Prints a Markdown table section. Loopback only; every process it starts is stopped on exit.
set -euo pipefail
KEYS_N="${KEYS_N:-100000}"
source "$(dirname "$0")/lib.sh"
rss() { grep "Maximum resident" "$1" | awk '{print $6}'; }

SRC=$(port); T1=$(port); T2=$(port); T3=$(port); G1=$(port); G2=$(port)
redis "$SRC"; redis "$T1"; redis "$T2"; redis "$T3"
gateway "$G1" "$T1"; gateway "$G2" "$T2"
python3 Benchmarks/seed_mixed.py "$SRC" "$KEYS_N" >/dev/null

/usr/bin/time -v "$BIN" migrate --source "redis://127.0.0.1:$SRC" --target "http://127.0.0.1:$G1" --token bench --json \
  >"$WORK/upshift.json" 2>"$WORK/upshift.time"
U_SEC=$(python3 -c "import json;print(json.load(open('$WORK/upshift.json'))['seconds'])")
U_CPK=$(python3 -c "import json;d=json.load(open('$WORK/upshift.json'));print(round(d['billedCommands']/max(1,d['copied']),2))")
U_RSS=$(rss "$WORK/upshift.time")

/usr/bin/time -v python3 Benchmarks/sdk_baseline.py "$SRC" "http://127.0.0.1:$G2" bench >"$WORK/sdk.txt" 2>"$WORK/sdk.time"
read -r S_KEYS S_SEC S_CMDS <"$WORK/sdk.txt"
S_RSS=$(rss "$WORK/sdk.time")

read -r M_KEYS M_SEC < <(python3 Benchmarks/migrate_reference.py "$SRC" "$T3")

/usr/bin/time -v "$BIN" compare --source "redis://127.0.0.1:$SRC" --target "http://127.0.0.1:$G1" --token bench --rounds 1 --json \
  >"$WORK/compare.json" 2>"$WORK/compare.time" || true
C_SEC=$(python3 -c "import json;print(json.load(open('$WORK/compare.json'))['seconds'])")
C_CLEAN=$(python3 -c "import json;print(sum(json.load(open('$WORK/compare.json'))['counts'].values())==0)")
C_RSS=$(rss "$WORK/compare.time")

python3 - "$KEYS_N" "$U_SEC" "$U_CPK" "$U_RSS" "$S_SEC" "$S_CMDS" "$S_RSS" "$M_SEC" "$C_SEC" "$C_CLEAN" "$C_RSS" >"$WORK/section.md" <<'PY'
import sys
n, u, ucpk, urss, s, scmds, srss, m, c, clean, crss = sys.argv[1:]
n = int(n); u, s, m, c = map(float, (u, s, m, c))
print(f"## migrate and compare (`Benchmarks/migrate.sh`)\n")
print(f"{n} mixed keys (70% strings of 100 B, half with a TTL; 30% hashes, lists, sets, sorted sets of 10), "
      "release build, loopback, one run; every row measured in the same run.\n")
print("| run | keys/s | billed commands/key | peak RSS | ratio |")
print("|---|---|---|---|---|")
print(f"| `upshift migrate` → gateway | {n/u:,.0f} | {ucpk} | {int(urss)//1024} MB | 1.00 |")
print(f"| SDK baseline (redis-py → upstash-redis pipelines) → gateway | {n/s:,.0f} | {int(scmds)/n:.2f} | {int(srss)//1024} MB | upshift is {s/u:.1f}× faster |")
print(f"| MIGRATE … COPY REPLACE (redis → redis, the reference limit) | {n/m:,.0f} | — | — | upshift reaches {m/u*100:.0f}% of it |")
print(f"| `upshift compare` (1 round, clean={clean}) | {n/c:,.0f} | — | {int(crss)//1024} MB | {u/c:.1f}× migrate's speed |")
sys.path.insert(0, "Benchmarks")
from summary import add
add("migrate → gateway", f"{n/u:,.0f} keys/s", f"SDK pipelines: {n/s:,.0f} keys/s", f"{s/u:.1f}×")
add("migrate → gateway", f"{n/u:,.0f} keys/s", f"MIGRATE COPY REPLACE: {n/m:,.0f} keys/s", f"{m/u:.0%}")
add("compare (1 round)", f"{n/c:,.0f} keys/s", f"migrate: {n/u:,.0f} keys/s", f"{u/c:.1f}×")
PY
README=Benchmarks/README.md
python3 Benchmarks/section.py "$README" "$WORK/section.md" "migrate and compare"
cat "$WORK/section.md"

# A cache of pickled (half zlib-compressed) values, beside the same keys with ASCII values of the
# same sizes, each copied into its own gateway in the same run: what binary values cost.
CACHE_N="${CACHE_N:-30000}"
B_SRC=$(port); T_SRC=$(port); B_T=$(port); T_T=$(port); B_G=$(port); T_G=$(port)
redis "$B_SRC"; redis "$T_SRC"; redis "$B_T"; redis "$T_T"
gateway "$B_G" "$B_T"; gateway "$T_G" "$T_T"
read -r _ B_BYTES < <(python3 Benchmarks/seed_cache.py "$B_SRC" "$CACHE_N" binary)
read -r _ T_BYTES < <(python3 Benchmarks/seed_cache.py "$T_SRC" "$CACHE_N" text)
# Three rounds, binary and text alternating into emptied targets: the median run of each, so a burst of
# other load on the machine lands on both sides alike.
for round in 1 2 3; do
  redis-cli -p "$B_T" flushall >/dev/null; redis-cli -p "$T_T" flushall >/dev/null
  "$BIN" migrate --source "redis://127.0.0.1:$B_SRC" --target "http://127.0.0.1:$B_G" --token bench --json >"$WORK/binary-$round.json"
  "$BIN" migrate --source "redis://127.0.0.1:$T_SRC" --target "http://127.0.0.1:$T_G" --token bench --json >"$WORK/text-$round.json"
done
python3 - "$CACHE_N" "$B_BYTES" "$T_BYTES" "$WORK" >"$WORK/cache.md" <<'PY'
import json, sys
n, bb, tb, work = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def median_run(kind):
    runs = sorted((json.load(open(f"{work}/{kind}-{r}.json")) for r in (1, 2, 3)), key=lambda d: d["seconds"])
    assert all(d["copied"] == n for d in runs), f"a {kind} run did not copy every key"
    return runs[1], [round(n / d["seconds"]) for d in runs]
(b, b_all), (t, t_all) = median_run("binary"), median_run("text")
def row(name, d, size):
    return (f"| {name} | {n / d['seconds']:,.0f} | {d['requests'] / n * 1000:.2f} | "
            f"{d['billedCommands'] / max(1, d['copied']):.3f} | {size / n:,.0f} B |")
ratio = (n / b["seconds"]) / (n / t["seconds"])
print("## migrate: a cache of binary values (`Benchmarks/migrate.sh`)\n")
print(f"{n} keys of a Django-style cache (`seed_cache.py`): pickles, half of them zlib-compressed, a third without a TTL; "
      "beside it the same keys with ASCII values of exactly the same sizes. Each copied by `upshift migrate` (release build) "
      "into its own gateway, loopback, in the same run.\n")
print("| keyspace | keys/s | requests per 1,000 keys | billed commands/key | mean value |")
print("|---|---|---|---|---|")
print(row("binary (pickle, zlib)", b, bb))
print(row("ASCII, same sizes", t, tb))
print(f"\nMedian of three alternating rounds (binary keys/s: {b_all}; text: {t_all}). Binary values copy at "
      f"**{ratio:.2f}×** the text run's keys/s (goal ≥ 0.8×): a batch's binary strings share one script call whose "
      "arguments go as one raw blob in the REST path form (no escaping, no request per key); text strings go as "
      "`SET … PXAT` in the `/pipeline`.")
sys.path.insert(0, "Benchmarks")
from summary import add
add("migrate a binary cache → gateway", f"{n / b['seconds']:,.0f} keys/s", f"same keys, ASCII values: {n / t['seconds']:,.0f} keys/s", f"{ratio:.2f}×")
PY
python3 Benchmarks/section.py "$README" "$WORK/cache.md" "migrate: a cache of binary values"
cat "$WORK/cache.md"

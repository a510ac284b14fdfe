#!/usr/bin/env bash
# `make bench`: every benchmark in one go. Each script measures its subject beside a baseline
# in the same run and rewrites its own section of Benchmarks/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product upshift
export UPSHIFT_RELEASE_BIN="$(swift build -c release --show-bin-path)/upshift"
python3 - <<'PY'
import re, subprocess, platform, datetime
path = "Benchmarks/README.md"
text = open(path).read()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
mem = subprocess.run(["free", "-g"], capture_output=True, text=True).stdout.split("\n")[1].split()[1]
machine = f"_Last `make bench`: {datetime.date.today()}, {cores} cores ({cpu}), {mem} GiB, {platform.platform()}._\n"
text = re.sub(r"_Last `make bench`:.*?\n", "", text)
text = text.replace("\n", "\n\n" + machine, 1) if text.startswith("# ") else machine + text
open(path, "w").write(text)
PY
export BENCH_SUMMARY="$(mktemp)"
trap 'rm -f "$BENCH_SUMMARY"' EXIT
for script in gateway.sh shadow.sh shadow-cpu.sh migrate.sh endpoints.sh; do
  if [ -x "Benchmarks/$script" ] || [ -f "Benchmarks/$script" ]; then
    echo "== $script"
    bash "Benchmarks/$script"
  fi
done
# One table at the top: each headline figure beside the baseline measured in the same run.
python3 - "$BENCH_SUMMARY" <<'PY'
import re, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
path = "Benchmarks/README.md"
text = re.sub(r"## Summary.*?(?=\n## )", "", open(path).read(), flags=re.S)
table = "## Summary\n\nEvery figure of this `make bench` run beside its baseline from the same run; the sections below have the detail.\n\n"
table += "| benchmark | measured | baseline (same run) | ratio |\n|---|---|---|---|\n"
table += "".join(f"| {b} | {m} | {base} | {r} |\n" for b, m, base, r in rows)
first = text.find("\n## ")
text = text[:first + 1] + table + "\n" + text[first + 1:] if first >= 0 else text + "\n" + table
open(path, "w").write(re.sub(r"\n{3,}", "\n\n", text))
PY

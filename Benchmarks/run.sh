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
for script in gateway.sh shadow.sh migrate.sh endpoints.sh; do
  if [ -x "Benchmarks/$script" ] || [ -f "Benchmarks/$script" ]; then
    echo "== $script"
    bash "Benchmarks/$script"
  fi
done

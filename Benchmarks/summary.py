"""One line per headline figure for the summary table `Benchmarks/run.sh` puts at the top of
Benchmarks/README.md; a benchmark script run alone (no BENCH_SUMMARY) writes none."""
import os


def add(benchmark, measured, baseline, ratio):
    """Records one figure beside the baseline it was measured against in the same run."""
    path = os.environ.get("BENCH_SUMMARY")
    if path:
        with open(path, "a") as f:
            f.write("\t".join((benchmark, measured, baseline, ratio)) + "\n")

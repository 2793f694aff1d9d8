"""Research-sized runs from Python, with no server policy: each run's time, peak memory and wil's estimate.

    python benchmarks/bench_research.py            # the runs of issue #10, one fresh process each
    python benchmarks/bench_research.py --large    # + depth 200, width 2048 and 100 networks
    python benchmarks/bench_research.py --only he2015

Every run is ``wil.compare`` from a plain ``import wil``, as a notebook would call it, in a child process
of its own, so that its peak resident memory (``ru_maxrss``) is its own. The child also reports the peak
NumPy and pandas allocated (``tracemalloc``, taken in a second, untimed call) beside ``Config.memory``'s
estimate, the figure ``wil.compare`` checks against the memory available before allocating anything.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

RUNS = {
    # issue #10's four runs, refused by the old in-library budgets even at 1 epoch
    "5x(10x512), 2000 samples": dict(config=dict(dataset="moons", n_samples=2000, depth=10, width=512, epochs=10),
                                     initializers=["he_normal"], seeds=[0, 1, 2, 3, 4]),
    "1x(50x256)": dict(config=dict(dataset="moons", n_samples=1000, depth=50, width=256, epochs=10),
                       initializers=["he_normal"], seeds=[0]),
    "50x(5x500)": dict(config=dict(dataset="moons", n_samples=1000, depth=5, width=500, epochs=10),
                       initializers=["he_normal"], seeds=list(range(50))),
    "he2015": dict(config=dict(dataset="moons", n_samples=1000, depth=30, width=64, epochs=30, batch_size=64,
                               learning_rate=0.05),
                   initializers=["glorot_normal", "he_normal", "random_normal(std=0.01)"], seeds=[0, 1, 2, 3, 4]),
}
LARGE = {
    "1x(200x64)": dict(config=dict(dataset="moons", n_samples=1000, depth=200, width=64, epochs=5),
                       initializers=["he_normal"], seeds=[0]),
    "1x(3x2048)": dict(config=dict(dataset="moons", n_samples=1000, depth=3, width=2048, epochs=5),
                       initializers=["he_normal"], seeds=[0]),
    "100x(5x32)": dict(config=dict(dataset="moons", n_samples=1000, depth=5, width=32, epochs=50),
                       initializers=["he_normal", "glorot_uniform", "lecun_normal", "orthogonal"],
                       seeds=list(range(25))),
}

CHILD = """
import json, resource, sys, time, tracemalloc
sys.path.insert(0, {root!r})
import wil

spec = json.loads({spec!r})
config = wil.Config(**spec["config"])
networks = len(spec["initializers"]) * len(spec["seeds"])
estimate = config.memory(networks)["peak"]
start = time.perf_counter()
result = wil.compare(config, spec["initializers"], spec["seeds"])
seconds = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
del result
tracemalloc.start()
wil.compare(config, spec["initializers"], spec["seeds"])
traced = tracemalloc.get_traced_memory()[1]
print(json.dumps(dict(seconds=seconds, rss=rss, traced=traced, estimate=estimate, networks=networks)))
"""


def measure(spec: dict) -> dict:
    out = subprocess.run([sys.executable, "-W", "error", "-c", CHILD.format(root=str(ROOT), spec=json.dumps(spec))],
                         capture_output=True, text=True)
    if out.returncode:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also depth 200, width 2048 and 100 networks")
    parser.add_argument("--only", action="append", help="run only this one (repeatable)")
    args = parser.parse_args()
    runs = {**RUNS, **(LARGE if args.large else {})}
    runs = {name: spec for name, spec in runs.items() if not args.only or name in args.only}
    header = f"{'run':<26} {'nets':>5} {'epochs':>6} {'time s':>7} {'peak RSS MB':>11} {'traced MB':>9} {'estimate MB':>11}"
    print(header)
    print("-" * len(header))
    for name, spec in runs.items():
        figures = measure(spec)
        if "error" in figures:
            print(f"{name:<26} FAILED: {figures['error']}")
            continue
        print(f"{name:<26} {figures['networks']:>5} {spec['config']['epochs']:>6} {figures['seconds']:>7.1f} "
              f"{figures['rss'] / 1e6:>11.0f} {figures['traced'] / 1e6:>9.0f} {figures['estimate'] / 1e6:>11.0f}",
              flush=True)


if __name__ == "__main__":
    main()

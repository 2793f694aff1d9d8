"""How close ``Config.memory()``'s estimate is to a run's real peak, over a few shapes.

Each case runs ``wil.compare`` in a fresh process (so peaks do not mix) and measures two peaks: the
traced allocations' (``tracemalloc``, which sees NumPy's and Python's) and the process's resident set
above what it held just before the run (``ru_maxrss`` minus the RSS after the imports and a warm-up).
The estimate is meant to stay above both (it refuses runs that would not fit): the ratio
estimate / peak says by how much it is conservative.

    python benchmarks/bench_memory_estimate.py
"""

from __future__ import annotations

import json
import subprocess
import sys

CASES = {  # name -> Config fields
    "demo": dict(n_samples=400, depth=8, width=32, epochs=150, compare=("zeros", "glorot_uniform", "he_normal",
                                                                         "random_normal(std=0.01)", "orthogonal")),
    "wide": dict(dataset="moons", n_samples=2000, depth=3, width=512, epochs=20),
    "deep": dict(dataset="moons", n_samples=500, depth=50, width=128, epochs=20, n_seeds=4),
    "many": dict(dataset="digits", depth=2, width=64, epochs=30, n_seeds=40),
    "adam_batches": dict(n_samples=3000, depth=4, width=256, epochs=10, optimizer="adam", batch_size=64,
                         n_seeds=8),
    "large": dict(n_samples=5000, depth=6, width=512, epochs=10, n_seeds=6),
}

CHILD = r"""
import json, resource, sys, tracemalloc
import numpy as np, pandas, sklearn.model_selection, sklearn.preprocessing
import wil
fields = json.loads(sys.argv[1])
fields["compare"] = tuple(fields.get("compare", ()))
config = wil.Config(**fields)
wil.compare(wil.Config(n_samples=40, depth=1, width=2, epochs=1))  # warm-up: imports, caches
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()
before = rss()
tracemalloc.start()
wil.compare(config)
traced = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"estimate": config.memory()["peak"], "traced": traced, "rss": peak_rss - before}))
"""


def measure(fields: dict) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(fields)], capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    print(f"{'case':14s} {'estimate MB':>11s} {'traced MB':>9s} {'RSS+ MB':>8s} {'est/traced':>10s} {'est/RSS+':>8s}")
    for name, fields in CASES.items():
        m = measure(fields)
        mb = 1 << 20
        print(f"{name:14s} {m['estimate'] / mb:11.0f} {m['traced'] / mb:9.0f} {m['rss'] / mb:8.0f} "
              f"{m['estimate'] / m['traced']:10.2f} {m['estimate'] / max(m['rss'], 1):8.2f}")


if __name__ == "__main__":
    main()

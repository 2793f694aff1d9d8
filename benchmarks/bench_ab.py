"""The engine's figures (S1-S4 and the demo, float32, diagnostics on) in two checkouts, alternated A B B A,
in fresh processes: the ratio of a change against the commit before it, measured in one run.

    git worktree add /tmp/old <commit>  &&  python benchmarks/bench_ab.py /tmp/old . [--rounds 4]

Prints per round the new/old time ratio of each case, then the medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

RELU = ["glorot_uniform", "he_normal", "random_normal(std=0.01)", "orthogonal"]
CASES = {  # name: (Config fields, initializers, seeds), as bench_engine.py's scenarios
    "S1": (dict(n_samples=1334, depth=5, width=64, epochs=200, activation="relu", learning_rate=0.05), RELU, 2),
    "S2": (dict(n_samples=1334, depth=20, width=64, epochs=20, batch_size=128, activation="relu",
                learning_rate=0.01), RELU, 2),
    "S3": (dict(n_samples=2000, depth=10, width=128, epochs=5, batch_size=256, activation="tanh",
                learning_rate=0.05), RELU, 6),
    "S4": (dict(n_samples=500, depth=50, width=256, epochs=20, activation="relu", learning_rate=0.01),
           ["he_normal"], 1),
    "demo": (dict(dataset="moons", depth=8, width=32, activation="relu", epochs=150, learning_rate=0.05),
             ["zeros", "random_normal(std=0.01)", "random_normal(std=1)", "glorot_uniform", "he_normal"], 1),
}


def time_cases(tree: str) -> dict[str, float]:
    """In this process, with ``tree``'s wil first on the path: each case's seconds after a 1-epoch warm-up."""
    sys.path.insert(0, tree)
    import wil

    out = {}
    for name, (fields, inits, seeds) in CASES.items():
        wil.compare(wil.Config(**{**fields, "epochs": 1}, dtype="float32"), inits, list(range(seeds)))
        start = time.perf_counter()
        wil.compare(wil.Config(**fields, dtype="float32"), inits, list(range(seeds)), diagnostics=True)
        out[name] = time.perf_counter() - start
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a child process: time one tree
    args = parser.parse_args()
    if args.one:
        print(json.dumps(time_cases(args.one)))
        return
    trees = {"old": str(Path(args.old).resolve()), "new": str(Path(args.new).resolve())}
    ratios, times = {}, {"old": {}, "new": {}}
    for r in range(args.rounds):
        got = {}
        for which in (["old", "new"] if r % 2 == 0 else ["new", "old"]):
            child = subprocess.run([sys.executable, __file__, args.old, args.new, "--one", trees[which]],
                                   capture_output=True, text=True, check=True)
            got[which] = json.loads(child.stdout.strip().splitlines()[-1])
        for name in CASES:
            ratios.setdefault(name, []).append(got["new"][name] / got["old"][name])
            for which in got:
                times[which].setdefault(name, []).append(got[which][name])
        print(f"round {r + 1}: " + ", ".join(f"{n} {v[-1]:.3f}" for n, v in ratios.items()), flush=True)
    for name in CASES:
        print(f"{name}: old {statistics.median(times['old'][name]):.2f} s, new {statistics.median(times['new'][name]):.2f} s, "
              f"new/old median {statistics.median(ratios[name]):.3f} "
              f"(rounds: {', '.join(f'{x:.3f}' for x in ratios[name])})")


if __name__ == "__main__":
    main()

"""Where the server's budgets come from: each move of the opening page (and the prepared lessons) trained
as the app trains it, timed, beside the counts the policy estimates its time and memory from.

Usage::

    python benchmarks/bench_budgets.py                 # every move and lesson, one run each, a table
    python benchmarks/bench_budgets.py --repeats 3     # the median of three

It fits ``seconds = SECONDS_PER_WORK x work + SECONDS_PER_STEP x steps`` (``wil_app.policy``: work is
networks x epochs x (samples + 8) x (parameters + 16 hidden units), steps is epochs x (batches + 2) x
layers) by least squares on the relative error, and prints the fit beside the constants the policy holds,
the policy's estimate of each run and its ``Config.memory`` peak against the process's peak RSS. The
defaults of ``max_seconds`` and ``max_memory_mb`` are set so that every move trains as asked.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import wil  # noqa: E402
from bench_engine import MOVES, load, machine  # noqa: E402
from wil_app.lessons import DEMO, LESSONS  # noqa: E402
from wil_app.policy import POLICY, SECONDS_PER_STEP, SECONDS_PER_WORK  # noqa: E402


def cases() -> dict[str, wil.Config]:
    runs = {f"move: {name}": dataclasses.replace(DEMO, **change) for name, change in MOVES.items()}
    runs.update({f"lesson: {name}": config for name, config in LESSONS.items() if config != DEMO})
    # mini-batches, where the steps (Python's per-call cost) outweigh the arithmetic
    runs["batches of 32"] = dataclasses.replace(DEMO, batch_size=32, epochs=300)
    runs["batches of 1"] = dataclasses.replace(DEMO, batch_size=1, epochs=10)
    return runs


def child(name: str) -> None:
    """Train one case as the app does (diagnostics on, the play control's snapshots) and print its time."""
    config = cases()[name]
    wil.compare(dataclasses.replace(config, epochs=2, n_seeds=1))  # imports, BLAS warm-up
    start = time.perf_counter()
    wil.compare(config, snapshots=POLICY.snapshots(config))
    seconds = time.perf_counter() - start
    print(f"{seconds} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--only", action="append", help="a case's name (default: all)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child)
    print(machine())
    print(f"start: {load()}", flush=True)
    rows = []
    print("\n| case | networks | epochs | work | steps | seconds | policy's estimate | est / measured "
          "| memory est (MB) | peak RSS (MB) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, config in cases().items():
        if args.only and name not in args.only:
            continue
        seconds, rss = [], []
        for _ in range(args.repeats):  # each in a fresh process: its peak RSS is the run's
            out = subprocess.run([sys.executable, __file__, "--child", name], capture_output=True, text=True,
                                 check=True, env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout.split()
            seconds.append(float(out[0]))
            rss.append(float(out[1]))
        work, steps = POLICY.work(config), POLICY.steps(config)
        measured, estimate = statistics.median(seconds), POLICY.seconds(config)
        memory = POLICY.memory_bytes(config)
        rows.append((work, steps, measured))
        print(f"| {name} | {config.n_networks()} | {config.epochs} | {work:.3g} | {steps:.3g} | {measured:.2f} "
              f"| {estimate:.2f} | {estimate / measured:.2f} | {memory / 2**20:.0f} | {max(rss) / 2**20:.0f} |",
              flush=True)
    if len(rows) >= 2:
        work, steps, measured = (np.array(column) for column in zip(*rows))
        # least squares on the relative error: each run weighs the same whatever its length
        design = np.stack([work / measured, steps / measured], axis=1)
        (a, b), *_ = np.linalg.lstsq(design, np.ones_like(measured), rcond=None)
        fitted = a * work + b * steps
        print(f"\nfit: SECONDS_PER_WORK = {a:.3g}, SECONDS_PER_STEP = {b:.3g} "
              f"(fitted / measured {np.min(fitted / measured):.2f}-{np.max(fitted / measured):.2f}); "
              f"the policy holds {SECONDS_PER_WORK:.3g} and {SECONDS_PER_STEP:.3g}")
    print(f"end: {load()}")


if __name__ == "__main__":
    main()

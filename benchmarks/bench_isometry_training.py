"""Does dynamical isometry train faster on wil's datasets? tanh networks of depth 64, orthogonal weights
against Gaussian ones at the same point (sigma_w2 = 1, sigma_b2 = 0) and Gaussian ones at the edge of chaos
with biases (sigma_w2 = 1.76, sigma_b2 = 0.05), same data, same mini-batches, same SGD learning rate.

    python benchmarks/bench_isometry_training.py                 # writes docs/isometry_training.csv
    python benchmarks/bench_isometry_training.py --epochs 10 --out /tmp/x.csv   # a quick look

Prints, per dataset and initializer, the epochs each seed needed to reach 90% training accuracy (the
median over seeds) and the training accuracy at a few epochs; the training and test curves go to the CSV
the app's isometry page draws (columns: dataset, initializer, seed, epoch, split, loss, accuracy).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import wil  # noqa: E402

INITIALIZERS = ["orthogonal", "mean_field(sigma_w2=1,sigma_b2=0)", "mean_field(sigma_w2=1.76096,sigma_b2=0.05)"]
BASE = dict(activation="tanh", depth=64, width=64, learning_rate=0.01, optimizer="sgd", batch_size=64,
            dtype="float32")
DATASETS = {"digits": dict(dataset="digits"), "moons": dict(dataset="moons", n_samples=1000, noise=0.2)}
TARGET = 0.9  # training accuracy whose first epoch is reported


def first_epoch(rows: pd.DataFrame, target: float = TARGET) -> float:
    """The first epoch whose training accuracy reaches ``target`` (inf if none)."""
    reached = rows[(rows["split"] == "train") & (rows["accuracy"] >= target)]["epoch"]
    return float(reached.min()) if len(reached) else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--out", default=str(ROOT / "docs" / "isometry_training.csv"))
    args = parser.parse_args()
    frames = []
    for name, data in DATASETS.items():
        config = wil.Config(**BASE, **data, epochs=args.epochs)
        start = time.perf_counter()
        history = wil.compare(config, INITIALIZERS, seeds=list(range(args.seeds)), diagnostics=False).history
        print(f"## {name}: depth {config.depth}, width {config.width}, SGD lr {config.learning_rate}, batches of "
              f"{config.batch_size}, {args.epochs} epochs, {args.seeds} seeds ({time.perf_counter() - start:.0f} s)")
        print(f"| initializer | epochs to {TARGET:.0%} train acc. (per seed) | train acc. at 5 / 10 / 20 / last |")
        print("|---|---|---|")
        train = history[history["split"] == "train"]
        for label, rows in history.groupby("initializer", observed=True, sort=False):
            epochs = [first_epoch(r) for _, r in rows.groupby("seed")]
            at = train[train["initializer"] == label].groupby("epoch")["accuracy"].median()
            marks = " / ".join(f"{at.get(e, float('nan')):.2f}" for e in (5, 10, 20, args.epochs))
            print(f"| {label} | {', '.join(f'{e:g}' for e in epochs)} | {marks} |", flush=True)
        frames.append(history.assign(dataset=name))
    out = pd.concat(frames, ignore_index=True)
    out["initializer"] = out["initializer"].astype(str)
    out[["dataset", "initializer", "seed", "epoch", "split", "loss", "accuracy"]].to_csv(args.out, index=False,
                                                                                      float_format="%.5g")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

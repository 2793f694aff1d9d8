"""One claim of each paper behind the other cures, reproduced at a size this machine trains in minutes
(docs/CURES.md): BatchNorm, LayerNorm, residual networks (He et al. 2016), Fixup, SkipInit, ReZero.

    python benchmarks/bench_cures_claims.py [--seeds 3] [--only fixup rezero]
    python benchmarks/bench_cures_claims.py --lesson [--seeds 5]   # the app's lesson: verdicts and accuracies

Every run: ReLU, width 32, moons (400 samples, noise 0.2, 300 training examples), SGD, float32, network seeds
0..seeds-1 on the same data. Per network: the final training loss, the first epoch whose training accuracy
reaches 90% ("epochs to 90%"; never: "-"), the final test accuracy and whether it diverged. Each line prints
the median and [min-max] over the seeds.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import wil  # noqa: E402

BASE = dict(dataset="moons", n_samples=400, noise=0.2, activation="relu", width=32, optimizer="sgd",
            dtype="float32")
TARGET = 0.9  # training accuracy for "epochs to 90%"
# claim -> (what the paper says, [(row name, Config fields, initializer)])
CLAIMS = {
    "batchnorm": ("Ioffe & Szegedy 2015: BatchNorm allows much higher learning rates (20 layers, lr 0.5, 100 epochs)", [
        ("plain He, lr 0.5", dict(depth=20, epochs=100, learning_rate=0.5), "he_normal"),
        ("plain He + BatchNorm, lr 0.5", dict(depth=20, epochs=100, learning_rate=0.5, normalization="batch"),
         "he_normal"),
        ("plain He, lr 0.05", dict(depth=20, epochs=100, learning_rate=0.05), "he_normal")]),
    "layernorm": ("Ba et al. 2016: LayerNorm does not depend on the batch, so it trains online, one example per "
                  "step, where BatchNorm cannot (6 layers, batches of 1, lr 0.01, 10 epochs)", [
        (f"{label}, batches of 1", dict(depth=6, epochs=10, learning_rate=0.01, normalization=normalization,
                                        batch_size=1), "he_normal")
        for label, normalization in (("BatchNorm", "batch"), ("LayerNorm", "layer"), ("no normalization", None))]),
    "residual": ("He et al. 2016: deeper plain networks train worse (degradation); residual ones do not "
                 "(BatchNorm in both, lr 0.05, 100 epochs)", [
        ("plain + BN, 10 layers", dict(depth=10, epochs=100, learning_rate=0.05, normalization="batch"), "he_normal"),
        ("plain + BN, 40 layers", dict(depth=40, epochs=100, learning_rate=0.05, normalization="batch"), "he_normal"),
        ("residual + BN, 10 layers", dict(depth=10, epochs=100, learning_rate=0.05, normalization="batch",
                                          residual=True), "he_normal"),
        ("residual + BN, 40 layers", dict(depth=40, epochs=100, learning_rate=0.05, normalization="batch",
                                          residual=True), "he_normal")]),
    "fixup": ("Zhang et al. 2019: Fixup trains a deep residual network without normalization at the rate of "
              "one with BatchNorm (60 layers, lr 0.05, 150 epochs)", [
        ("residual + BN (He)", dict(depth=60, epochs=150, learning_rate=0.05, normalization="batch",
                                    residual=True), "he_normal"),
        ("residual, Fixup", dict(depth=60, epochs=150, learning_rate=0.05, residual=True), "fixup"),
        ("residual, Fixup, lr 0.2", dict(depth=60, epochs=150, learning_rate=0.2, residual=True), "fixup"),
        ("residual, He (no scaling)", dict(depth=60, epochs=150, learning_rate=0.05, residual=True), "he_normal")]),
    "skipinit": ("De & Smith 2020: a branch scalar at 0 makes deep residual networks without normalization "
                 "trainable at any depth (lr 0.05, 100 epochs)", [
        *[(f"residual He, {depth} layers", dict(depth=depth, epochs=100, learning_rate=0.05, residual=True),
           "he_normal") for depth in (10, 30, 100)],
        *[(f"residual SkipInit, {depth} layers", dict(depth=depth, epochs=100, learning_rate=0.05, residual=True),
           "skipinit") for depth in (10, 30, 100)]]),
    "rezero": ("Bachlechner et al. 2020: ReZero converges faster than a residual network with LayerNorm "
               "(60 layers, lr 0.05, 150 epochs)", [
        ("residual + LayerNorm (He)", dict(depth=60, epochs=150, learning_rate=0.05, normalization="layer",
                                           residual=True), "he_normal"),
        ("residual, ReZero", dict(depth=60, epochs=150, learning_rate=0.05, residual=True), "rezero"),
        ("residual, ReZero, lr 0.2", dict(depth=60, epochs=150, learning_rate=0.2, residual=True), "rezero")]),
}


def spread(values: list[float], form: str = "{:.3f}") -> str:
    """median [min-max] of the finite values; "-" if none."""
    values = [v for v in values if np.isfinite(v)]
    if not values:
        return "-"
    return f"{form.format(np.median(values))} [{form.format(min(values))}-{form.format(max(values))}]"


def measure(fields: dict, initializer: str, seeds: list[int]) -> dict:
    """One row: the networks of ``initializer`` on ``fields`` for ``seeds``, summarized."""
    config = wil.Config(**BASE, **fields, initializer=initializer)
    start = time.perf_counter()
    result = wil.compare(config, seeds=seeds, diagnostics=False)
    seconds = time.perf_counter() - start
    train = result.history[result.history["split"] == "train"]
    status = result.status
    diverged = set(status.loc[status["diverged"].astype(bool), "seed"])
    reached, losses = [], []
    for seed, rows in train.groupby("seed"):
        hit = rows.loc[rows["accuracy"] >= TARGET, "epoch"]
        reached.append(float(hit.min()) if len(hit) else np.nan)
        if seed not in diverged:  # a diverged network's last loss is only how far it had flown
            losses.append(float(rows.sort_values("epoch")["loss"].iloc[-1]))
    return {"train loss": spread(losses), "epochs to 90%": spread(reached, "{:.0f}"),
            "reached": f"{int(np.isfinite(reached).sum())}/{len(seeds)}",
            "test accuracy": spread(list(status["final_test_accuracy"].astype(float))),
            "diverged": f"{int(status['diverged'].sum())}/{len(seeds)}", "seconds": f"{seconds:.1f}"}


def lesson(seeds: list[int]) -> None:
    """The app's lesson "The other cures" (``wil_app/lessons.py``), each network over ``seeds``: its verdicts
    and final test accuracy (as ``tests/test_cures_lesson.py`` trains it)."""
    from wil_app.lessons import CURES

    print(f"## the lesson: seeds 0-{seeds[-1]}; {CURES[0].config.n_samples} samples, lr "
          f"{CURES[0].config.learning_rate:g}, {CURES[0].config.epochs} epochs, {CURES[0].config.dtype}")
    for case in CURES:
        frame = wil.compare(case.config, seeds=seeds).verdicts()
        counts = frame["verdict"].astype(str).value_counts().to_dict()
        print(f"{case.title:32s} page says {case.verdict:10s} measured {counts}  test accuracy "
              f"{spread(list(frame['final_test_accuracy']))}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--only", nargs="+", choices=list(CLAIMS), default=list(CLAIMS))
    parser.add_argument("--lesson", action="store_true", help="the app's lesson instead of the claims")
    args = parser.parse_args()
    seeds = list(range(args.seeds))
    if args.lesson:
        lesson(seeds)
        return
    for name in args.only:
        claim, rows = CLAIMS[name]
        print(f"\n## {name}: {claim}; seeds 0-{seeds[-1]}")
        print(f"{'network':32s} {'train loss':24s} {'epochs to 90%':18s} {'reached':8s} {'test accuracy':24s} "
              f"{'diverged':9s} s")
        for row_name, fields, initializer in rows:
            row = measure(fields, initializer, seeds)
            print(f"{row_name:32s} {row['train loss']:24s} {row['epochs to 90%']:18s} {row['reached']:8s} "
                  f"{row['test accuracy']:24s} {row['diverged']:9s} {row['seconds']}", flush=True)


if __name__ == "__main__":
    main()

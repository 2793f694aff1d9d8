"""Dynamical isometry, measured against the theory: the mean and variance of the squared singular values
of the Jacobian of wil's own networks at initialization (``wil.jacobian_spectrum``, inputs at the
mean-field fixed point) beside the free-probability prediction (``wil.isometry.isometry_frame``), across
widths 128-1024 and L = 8-128 square layers (depth = L + 1 hidden layers).

    python benchmarks/bench_isometry.py            # the table of docs/ISOMETRY.md (~20 min on 2 cores)
    python benchmarks/bench_isometry.py --quick    # widths 128 and 256, L 8 and 32 (~1 min)

Each cell is the mean over seeds of each network's own mean and variance of lambda = s^2 (over its
``width`` eigenvalues); "err" is (measured - theory) / theory, "se" the standard error of that over the
seeds (std / sqrt(seeds), relative to the theory). One network per call, so the weights of one network
(L x width^2 x 8 bytes: 1 GB at width 1024, L 128) are all that is held at once.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import wil  # noqa: E402

TANH_EDGE = round(wil.theory.critical_sigma_w2("tanh", 0.05), 5)  # 1.76096
CASES = [  # (activation, initializer label, what it is)
    ("tanh", f"mean_field(sigma_w2={TANH_EDGE},sigma_b2=0.05)", "tanh, Gaussian, edge of chaos (σ_b² = 0.05)"),
    ("tanh", "mean_field(sigma_w2=1.05,sigma_b2=0)", "tanh, Gaussian, σ_w² = 1.05, σ_b² = 0"),
    ("tanh", f"orthogonal(gain={math.sqrt(1.05):.6f})", "tanh, orthogonal, σ_w² = 1.05, σ_b² = 0"),
    ("relu", "mean_field", "ReLU, Gaussian, σ_w² = 2"),
    ("relu", f"orthogonal(gain={math.sqrt(2):.6f})", "ReLU, orthogonal, σ_w² = 2"),
]
SEEDS = {128: 16, 256: 8, 512: 4, 1024: 3}


def measure(activation: str, label: str, width: int, layers: int, n_seeds: int) -> dict:
    """Each network's mean and variance of lambda, and the theory's, for one cell."""
    config = wil.Config(dataset="moons", activation=activation, depth=layers + 1, width=width)
    means, variances = [], []
    for seed in range(n_seeds):
        frame = wil.jacobian_spectrum(config, [label], seeds=[seed], inputs="fixed_point")
        lam = frame["singular_value"].to_numpy() ** 2  # (width,)
        means.append(lam.mean())
        variances.append(lam.var())
    theory = wil.isometry.isometry_frame(config, [label]).iloc[0]
    return dict(mean=np.mean(means), mean_se=np.std(means, ddof=1) / math.sqrt(n_seeds),
                var=np.mean(variances), var_se=np.std(variances, ddof=1) / math.sqrt(n_seeds),
                mean_theory=theory["mean"], var_theory=theory["variance"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="widths 128 and 256, L 8 and 32")
    args = parser.parse_args()
    widths = (128, 256) if args.quick else (128, 256, 512, 1024)
    depths = (8, 32) if args.quick else (8, 32, 128)
    print("| case | width | L | seeds | mean λ: measured (theory) | err ± se | var λ: measured (theory) | err ± se |")
    print("|---|---:|---:|---:|---|---|---|---|")
    for activation, label, what in CASES:
        for layers in depths:
            for width in widths:
                start = time.perf_counter()
                r = measure(activation, label, width, layers, SEEDS[width])
                mean_err, var_err = r["mean"] / r["mean_theory"] - 1, r["var"] / r["var_theory"] - 1
                print(f"| {what} | {width} | {layers} | {SEEDS[width]} | {r['mean']:.4g} ({r['mean_theory']:.4g}) | "
                      f"{mean_err:+.1%} ± {r['mean_se'] / r['mean_theory']:.1%} | {r['var']:.4g} ({r['var_theory']:.4g}) | "
                      f"{var_err:+.1%} ± {r['var_se'] / r['var_theory']:.1%} |", flush=True)
                print(f"<!-- {time.perf_counter() - start:.1f} s -->", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()

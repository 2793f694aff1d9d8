"""How fast wil trains the other cures (normalization, residual blocks) against PyTorch eager on the same
network: ``python benchmarks/bench_engine.py --cures`` (or this file alone).

    python benchmarks/bench_cures.py [--repeats 3] [--epochs 100]

Each case trains K networks of one architecture, full batch SGD on moons (375 training examples), float32,
diagnostics off and on, through ``wil.compare``; PyTorch trains the same K networks one after the other
(``nn.Sequential``-like modules written as wil's architecture, ``wil.spec.residual``), same data, same
epochs, with a forward pass over the test set per epoch as wil does. Times are medians of ``--repeats``
rounds run back to back (A B A B); the ratio is wil / torch (below 1: wil is faster).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import wil  # noqa: E402
from wil.spec.datasets import load_dataset  # noqa: E402
from wil.spec.residual import block_layers  # noqa: E402

CASES = [  # (name, Config fields, K networks)
    ("plain MLP", dict(), 4),
    ("BatchNorm", dict(normalization="batch"), 4),
    ("LayerNorm", dict(normalization="layer"), 4),
    ("residual", dict(residual=True), 4),
    ("residual + BatchNorm", dict(residual=True, normalization="batch"), 4),
    ("residual + BatchNorm, K=1", dict(residual=True, normalization="batch"), 1),
]
BASE = dict(dataset="moons", n_samples=500, depth=20, width=32, activation="relu", learning_rate=0.05,
            optimizer="sgd", dtype="float32")


def torch_network(torch, config: wil.Config, n_features: int, n_outputs: int):
    """wil's architecture (``wil.spec.residual``) as a PyTorch module."""
    nn = torch.nn
    closing = dict(block_layers(config.depth)) if config.residual else {}

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            sizes = [n_features] + [config.width] * config.depth + [n_outputs]
            self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
            norm = {"batch": nn.BatchNorm1d, "layer": nn.LayerNorm}.get(config.normalization)
            self.norms = nn.ModuleList(norm(config.width) for _ in range(config.depth)) if norm else None
            self.alphas = nn.Parameter(torch.ones(len(closing))) if closing else None

        def forward(self, x):
            streams, a = {}, x
            for layer in range(config.depth):
                h = self.linears[layer](a)
                if layer in closing:
                    h = streams[closing[layer]] + self.alphas[list(closing).index(layer)] * h
                streams[layer] = h
                a = torch.relu(self.norms[layer](h) if self.norms is not None else h)
            return self.linears[-1](a)

    return Net()


def time_torch(config: wil.Config, K: int, data) -> float:
    import torch

    torch.manual_seed(0)
    X, y = torch.from_numpy(data.X_train).float(), torch.from_numpy(data.y_train).long()
    X_test = torch.from_numpy(data.X_test).float()
    start = time.perf_counter()
    for _ in range(K):
        net = torch_network(torch, config, data.n_features, data.n_outputs)
        optimizer = torch.optim.SGD(net.parameters(), lr=config.learning_rate)
        for _ in range(config.epochs):
            net.train()
            loss = torch.nn.functional.cross_entropy(net(X), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            net.eval()
            with torch.no_grad():
                net(X_test)
    return time.perf_counter() - start


def time_wil(config: wil.Config, K: int, diagnostics: bool) -> float:
    start = time.perf_counter()
    wil.compare(config, [config.initializer], seeds=list(range(K)), diagnostics=diagnostics)
    return time.perf_counter() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=100)
    args = parser.parse_args(argv)
    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; depth {BASE['depth']}, width "
          f"{BASE['width']}, {args.epochs} epochs, full batch, float32, median of {args.repeats}")
    print("| case | K | wil diag off | wil diag on | torch eager | off / torch | on / torch |")
    print("|---|---|---|---|---|---|---|")
    for name, fields, K in CASES:
        config = wil.Config(**BASE, **fields, epochs=args.epochs)
        data = load_dataset(config.dataset, config.n_samples, config.noise, config.seed)
        time_wil(config, 1, False)  # warm-up
        off, on, eager = [], [], []
        for _ in range(args.repeats):
            off.append(time_wil(config, K, False))
            on.append(time_wil(config, K, True))
            eager.append(time_torch(config, K, data))
        t_off, t_on, t_torch = (statistics.median(t) for t in (off, on, eager))
        ratios = [statistics.median(a / b for a, b in zip(times, eager)) for times in (off, on)]
        print(f"| {name} | {K} | {t_off:.2f} s | {t_on:.2f} s | {t_torch:.2f} s | {ratios[0]:.2f} | "
              f"{ratios[1]:.2f} |")


if __name__ == "__main__":
    main()

"""How fast wil trains, against this machine's matrix-multiply peak and against PyTorch eager.

    python benchmarks/bench_engine.py                  # S1-S4 and the app's demo: time, nets x epochs/s,
                                                       #   GFLOP/s vs peak, diagnostics on/off, f32/f64
    python benchmarks/bench_engine.py --memory         # + peak memory of each run, in fresh processes
    python benchmarks/bench_engine.py --vs-torch       # + the same networks in PyTorch, alternated A B A B
    python benchmarks/bench_engine.py --threads        # 1 vs all BLAS threads over shapes: the thread rule
    python benchmarks/bench_engine.py --scaling        # time against depth, width, K, samples -> chart
    python benchmarks/bench_engine.py --scenario S1 --repeats 5
    python benchmarks/bench_engine.py --quick          # only the README's figures: wil float32, diagnostics on
    python benchmarks/bench_engine.py --cures          # normalization/residual networks vs PyTorch eager
    python benchmarks/bench_engine.py --moves --repeats 5   # diagnostics on / off per move of the opening page

Every run goes through the public API, ``wil.compare(config, initializers, seeds, diagnostics=...)``,
and is timed from the call to the returned ``Result`` (data, initialization, training and the frames),
after one warm-up run so that imports are not timed. The machine may be shared: timings are the median
of ``--repeats`` rounds, and every ratio is the median of per-round ratios of runs made back to back.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import wil  # noqa: E402
from wil_app.lessons import DEMO  # noqa: E402
from wil_app.policy import POLICY  # noqa: E402
import wil.engine.threads  # noqa: E402
import wil.spec.layout  # noqa: E402
from wil.spec.layout import ROW_PARTS  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402
from wil.engine.threads import Plan  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
RELU_INITS = ("he_normal", "he_uniform", "glorot_normal", "glorot_uniform")
TANH_INITS = ("glorot_normal", "glorot_uniform", "lecun_normal", "orthogonal")


# ---------------------------------------------------------------- scenarios

def samples_for(n_train: int) -> int:
    """``n_samples`` whose 75% training split holds ``n_train`` examples."""
    n = round(n_train / 0.75)
    while wil.Config(n_samples=n).n_train() < n_train:
        n += 1
    while wil.Config(n_samples=n).n_train() > n_train:
        n -= 1
    return n


@dataclass
class Scenario:
    name: str
    description: str
    config: dict  # Config fields
    initializers: tuple
    n_seeds: int
    compare_default: bool = False  # True: wil.compare(config) with the config's own list and seeds

    def make_config(self, **changes) -> wil.Config:
        return wil.Config(**{**self.config, **changes})

    @property
    def seeds(self) -> list[int]:
        return list(range(self.n_seeds))

    @property
    def n_networks(self) -> int:
        return len(self.initializers) * self.n_seeds

    def beyond_limits(self) -> str:
        """Why this run exceeds the app's server policy (``wil_app.policy.POLICY``), or '': the library
        itself trains it either way."""
        problem = POLICY.problem(wil.Config(**self.config), self.n_networks)
        return (problem or "").split(".")[0]

    def run(self, dtype: str = "float64", diagnostics: bool = True, **changes) -> "wil.Result":
        config = self.make_config(dtype=dtype, **changes)
        if self.compare_default:
            return wil.compare(config, diagnostics=diagnostics)
        return wil.compare(config, list(self.initializers), self.seeds, diagnostics=diagnostics)


def scenarios() -> dict[str, Scenario]:
    demo = dataclasses.replace(DEMO, dtype="float64")
    demo_fields = {f.name: getattr(demo, f.name) for f in dataclasses.fields(demo)}
    found = [
        Scenario("S1", "K=8, depth 5, width 64, 1000 train samples, full batch, ReLU",
                 dict(n_samples=samples_for(1000), depth=5, width=64, epochs=200, activation="relu",
                      learning_rate=0.05), RELU_INITS, 2),
        Scenario("S2", "K=8, depth 20, width 64, 1000 train samples, batch 128, ReLU",
                 dict(n_samples=samples_for(1000), depth=20, width=64, epochs=20, batch_size=128,
                      activation="relu", learning_rate=0.01), RELU_INITS, 2),
        Scenario("S3", "K=24, depth 10, width 128, 2000 samples (1500 train), batch 256, tanh",
                 dict(n_samples=2000, depth=10, width=128, epochs=5, batch_size=256, activation="tanh",
                      learning_rate=0.05), TANH_INITS, 6),
        Scenario("S4", "K=1, depth 50, width 256, 500 samples (375 train), full batch, ReLU",
                 dict(n_samples=500, depth=50, width=256, epochs=20, activation="relu", learning_rate=0.01),
                 ("he_normal",), 1),
        Scenario("demo", "the app's default comparison, wil_app.lessons.DEMO (K=5)", demo_fields,
                 demo.labels, demo.n_seeds, compare_default=True),
    ]
    return {s.name: s for s in found}


def lifted_limits(reason: str = ""):
    """A no-op kept for the blocks below: the library has no run-size budgets any more (the server's
    policy is ``wil_app.policy``), so a scenario beyond the app's policy trains as it is."""
    return contextlib.nullcontext()


# ---------------------------------------------------------------- arithmetic

def layer_sizes(config: wil.Config) -> list[int]:
    spec = wil.DATASETS[config.dataset]
    return [spec.n_features] + [config.width] * config.depth + [spec.n_outputs]


def matmul_flops(config: wil.Config, n_networks: int, diagnostics: bool, engine: str = "wil") -> float:
    """Floating-point operations of the matrix products a run performs (2 per multiply-add).

    Per epoch: the record pass (forward over the training and the test split), the training steps
    (forward, weight gradients, and deltas for every layer but the first), and for wil with diagnostics
    the gradient ``grad_norm`` reports after the last epoch (over the training split in full batch,
    else one mini-batch; before, it is the step's own). Elementwise work, reductions and the
    decision-boundary grid are not counted.
    """
    sizes = layer_sizes(config)
    pairs = list(zip(sizes[:-1], sizes[1:]))
    forward_row = sum(fi * fo for fi, fo in pairs)
    backward_row = forward_row + sum(fi * fo for fi, fo in pairs[1:])
    n_train = config.n_train()
    n_test = (wil.DATASETS[config.dataset].size or config.n_samples) - n_train
    full = config.batch_size is None or config.batch_size >= n_train
    batches = [] if full else [min(config.batch_size, n_train - s) for s in range(0, n_train, config.batch_size)]
    macs = 0.0
    for epoch in range(config.epochs + 1):
        macs += (n_train + n_test) * forward_row
        training = epoch < config.epochs
        last_gradient = not training and diagnostics and engine == "wil"
        if full and (training or last_gradient):
            macs += n_train * backward_row
        if not full and training:
            macs += sum(b * (forward_row + backward_row) for b in batches)
        if not full and last_gradient:
            macs += batches[0] * (forward_row + backward_row)
    return 2.0 * macs * n_networks


def products_floor(config: wil.Config, n_networks: int, dtype: str = "float32", lean: bool = False,
                   repeats: int = 3) -> float:
    """Seconds the run's matrix products alone take on this machine: ``matmul_flops``' products without
    diagnostics (the record pass, the training steps), with the same shapes, into preallocated arrays,
    split over every core (by networks, or by rows for one network), each core's share run start to end
    with no barrier between epochs and nothing else. The best of ``repeats``. No engine that does these
    products at this machine's speed trains faster; PyTorch's loop does them too.

    ``lean`` adds the elementwise work no training step can skip, each as one in-place NumPy call: the
    bias, ReLU and its mask in the backward pass, and the SGD update (no loss, no record, no
    diagnostics): a floor for a NumPy engine."""
    sizes = layer_sizes(config)
    n_train = config.n_train()
    n_test = (wil.DATASETS[config.dataset].size or config.n_samples) - n_train
    full = config.batch_size is None or config.batch_size >= n_train
    batches = [n_train] if full else [min(config.batch_size, n_train - s) for s in range(0, n_train, config.batch_size)]
    cores = wil.engine.threads.available_cores()
    if n_networks >= cores:
        shares = [(n_networks * i // cores, n_networks * (i + 1) // cores, 1) for i in range(cores)]
    else:
        shares = [(0, n_networks, cores)] * cores  # every core: all networks, 1/cores of the rows

    def share(first: int, stop: int, row_split: int) -> None:
        k, rng = stop - first, np.random.default_rng(first)
        rows = [max(1, n // row_split) for n in (n_train, n_test, *batches)]
        n_max = max(rows)
        X = rng.standard_normal((n_max, sizes[0])).astype(dtype)
        # weights of unit gain and random deltas: values stay normal numbers (denormals would slow BLAS)
        W = [(rng.standard_normal((k, fi, fo)) / np.sqrt(fi)).astype(dtype) for fi, fo in zip(sizes[:-1], sizes[1:])]
        B = [np.zeros((k, 1, fo), dtype) for fo in sizes[1:]]
        W_t = [np.ascontiguousarray(w.swapaxes(1, 2)) for w in W]
        G = [np.empty_like(w) for w in W]
        Z = [np.empty((k, n_max, fo), dtype) for fo in sizes[1:]]
        A = [np.empty((k, n_max, fo), dtype) for fo in sizes[1:]]
        D = [rng.standard_normal((k, n_max, fo)).astype(dtype) for fo in sizes[1:]]

        def forward(n):
            a = X[:n]
            for layer, (w, z, out) in enumerate(zip(W, Z, A)):
                np.matmul(a, w, out=z[:, :n])
                if lean:
                    z[:, :n] += B[layer]
                    np.maximum(z[:, :n], 0.0, out=out[:, :n])
                    a = out[:, :n]
                else:
                    a = z[:, :n]

        def backward(n):
            for layer in range(len(W) - 1, 0, -1):
                np.matmul(A[layer - 1][:, :n].swapaxes(1, 2), D[layer][:, :n], out=G[layer])
                np.matmul(D[layer][:, :n], W_t[layer], out=D[layer - 1][:, :n])
                if lean:
                    D[layer - 1][:, :n] *= Z[layer - 1][:, :n] > 0
            np.matmul(X[:n].T, D[0][:, :n], out=G[0])
            if lean:
                for w, g in zip(W, G):
                    w -= 0.01 * g

        train, test, steps = rows[0], rows[1], rows[2:]
        with np.errstate(all="ignore"):
            for epoch in range(config.epochs + 1):
                forward(train)  # full batch: the record's training pass is the step's
                forward(test)
                if epoch < config.epochs:
                    if full:
                        backward(train)
                    else:
                        for n in steps:
                            forward(n)
                            backward(n)

    from concurrent.futures import ThreadPoolExecutor

    best = float("inf")
    with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(len(shares)) as pool:
        for _ in range(repeats):
            start = time.perf_counter()
            for future in [pool.submit(share, *s) for s in shares]:
                future.result()
            best = min(best, time.perf_counter() - start)
    return best


def measure_peak(size: int = 1024, repeats: int = 5) -> dict:
    """GFLOP/s of one square matmul, float64 and float32, on 1 thread and on every core: this machine's
    practical peak (the best of ``repeats``)."""
    rng = np.random.default_rng(0)
    peak = {}
    for dtype in ("float64", "float32"):
        a = rng.standard_normal((size, size)).astype(dtype)
        b = rng.standard_normal((size, size)).astype(dtype)
        for threads in sorted({1, wil.engine.threads.available_cores()}):
            with threadpool_limits(threads, user_api="blas"):
                a @ b
                best = min(_timed(lambda: a @ b) for _ in range(repeats))
            peak[(dtype, threads)] = 2.0 * size**3 / best / 1e9
    return peak


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# ---------------------------------------------------------------- the main table

VARIANTS = (("float64", True), ("float64", False), ("float32", True), ("float32", False))


def quick_times(scenario: Scenario, repeats: int) -> list[float]:
    """Seconds of ``repeats`` runs of ``scenario`` in float32 with diagnostics, after one warm-up run."""
    scenario.run("float32", True)  # warm-up: imports, caches
    return [_timed(lambda: scenario.run("float32", True)) for _ in range(repeats)]


def bench_quick(names: list[str], repeats: int) -> None:
    """The README's headline figures only (wil float32, diagnostics on): the median of ``repeats`` runs."""
    all_scenarios = scenarios()
    for name in names:
        samples = quick_times(all_scenarios[name], repeats)
        print(f"{name}: f32 on {statistics.median(samples):.3f} s (median of {repeats}: "
              + ", ".join(f"{t:.3f}" for t in samples) + ")", flush=True)


def bench_scenario(scenario: Scenario, repeats: int, peak: dict, torch_runner=None) -> dict:
    scenario.run("float64", True)  # warm-up: imports, caches
    diverged = int(scenario.run("float64", True).status["diverged"].sum())
    times = {variant: [] for variant in VARIANTS}
    torch_times = []
    for _ in range(repeats):
        for variant in VARIANTS:
            times[variant].append(_timed(lambda: scenario.run(*variant)))
        if torch_runner is not None:
            torch_times.append(torch_runner.time_once())
    config = scenario.make_config()
    K = scenario.n_networks
    row = {"scenario": scenario.name, "K": K, "epochs": config.epochs, "diverged": diverged,
           "beyond_limits": scenario.beyond_limits()}
    for (dtype, diagnostics), samples in times.items():
        key = f"{dtype[-2:]}_{'on' if diagnostics else 'off'}"
        seconds = statistics.median(samples)
        row[f"t_{key}"] = seconds
        row[f"gflops_{key}"] = matmul_flops(config, K, diagnostics) / seconds / 1e9
    row["nets_epochs_per_s"] = K * config.epochs / row["t_64_on"]
    row["nets_epochs_per_s_32"] = K * config.epochs / row["t_32_on"]
    row["diag_cost_64"] = _median_ratio(times[("float64", True)], times[("float64", False)])
    row["diag_cost_32"] = _median_ratio(times[("float32", True)], times[("float32", False)])
    row["f32_speedup"] = _median_ratio(times[("float64", True)], times[("float32", True)])
    with lifted_limits(scenario.beyond_limits()):
        row["t_products"] = products_floor(config, K)
        row["t_lean"] = products_floor(config, K, lean=True)
    row["peak_64"] = max(v for (d, _), v in peak.items() if d == "float64")
    row["peak_32"] = max(v for (d, _), v in peak.items() if d == "float32")
    n_test = (wil.DATASETS[config.dataset].size or config.n_samples) - config.n_train()
    how = wil.engine.threads.plan(K, config.width, config.depth, config.n_train(), n_test, config.batch_size)
    row["threads"] = (f"{how.groups} group{'s' if how.groups > 1 else ''}"
                      + (f", rows in {how.row_parts} blocks on {how.threads} threads" if how.row_parts > 1 else "")
                      + (f", BLAS {how.blas}" if how.blas > 1 else ""))
    if torch_runner is not None:
        row["torch_threads"] = torch_runner.threads
        row["t_torch"] = statistics.median(torch_times)
        row["gflops_torch"] = matmul_flops(config, K, False, "torch") / row["t_torch"] / 1e9
        row["ratio_32_on"] = _median_ratio(times[("float32", True)], torch_times)
        row["ratio_64_on"] = _median_ratio(times[("float64", True)], torch_times)
        row["ratio_32_off"] = _median_ratio(times[("float32", False)], torch_times)
        row["torch_loss_gap"] = torch_runner.loss_gap
        row["torch_loss_gap_0"] = torch_runner.loss_gap_0
        row["torch_probe"] = {str(t): round(v, 3) for t, v in torch_runner.probe.items()}
    return row


# ---------------------------------------------------------------- diagnostics' cost per move (issue 17)

# The opening page's configuration (wil_app.lessons.DEMO) moved as a presenter moves it, one control at a time.
TWELVE = ("zeros", "constant", "random_normal", "random_uniform", "truncated_normal", "glorot_uniform",
          "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal", "orthogonal")
MOVES = {"demo": {}, "depth 30": {"depth": 30}, "depth 50": {"depth": 50}, "digits": {"dataset": "digits"},
         "tanh": {"activation": "tanh"}, "sigmoid": {"activation": "sigmoid"}, "12 initializers": {"compare": TWELVE},
         "10 seeds": {"n_seeds": 10}, "width 256": {"width": 256}, "width 512": {"width": 512}}
DIAGNOSTICS_TARGET = 1.3  # issue 17: diagnostics cost at most 1.3x the training without them


def bench_moves(names: list[str], repeats: int) -> list[dict]:
    """Per move, ``wil.compare(config)`` with and without diagnostics, alternated (off, on, off, on, ...)
    after one warm-up of each: the medians and the median of the per-round ratios on / off."""
    rows = []
    print(f"\n| move | networks | epochs | diagnostics off (s) | on (s) | on / off | target <= {DIAGNOSTICS_TARGET} |")
    print("|---|---|---|---|---|---|---|")
    for name in names:
        config = dataclasses.replace(DEMO, **MOVES[name])
        n_networks = len(config.labels) * config.n_seeds
        times = {False: [], True: []}
        for diagnostics in (False, True):
            wil.compare(config, diagnostics=diagnostics)  # warm-up
        for _ in range(repeats):
            for diagnostics in (False, True):
                times[diagnostics].append(_timed(lambda: wil.compare(config, diagnostics=diagnostics)))
        ratio = _median_ratio(times[True], times[False])
        row = {"move": name, "networks": n_networks, "epochs": config.epochs, "off": statistics.median(times[False]),
               "on": statistics.median(times[True]), "ratio": ratio,
               "ratios": [round(on / off, 3) for on, off in zip(times[True], times[False])]}
        rows.append(row)
        print(f"| {name} | {n_networks} | {config.epochs} | {row['off']:.2f} | {row['on']:.2f} | {ratio:.2f} "
              f"(rounds: {', '.join(f'{r:.2f}' for r in row['ratios'])}) | {'yes' if ratio <= DIAGNOSTICS_TARGET else 'NO'} |",
              flush=True)
    return rows


FIRST_VIEW_TARGET = 1.0  # issue 17: each move's first live chart within 1 s


def bench_first_view(names: list[str], repeats: int) -> list[dict]:
    """Per move, as the app's trainer runs it (``wil_app.policy.POLICY``'s live views and play snapshots): the
    seconds from ``wil.compare`` to its first live view, and to its end; medians of ``repeats`` after a
    warm-up. The page adds the view's trip to the browser and its drawing (``bench_app.py --moves-widgets``)."""
    from wil_app.policy import POLICY

    rows = []
    print(f"\n| move | networks | first live view (s) | whole run (s) | first view <= {FIRST_VIEW_TARGET} s |")
    print("|---|---|---|---|---|")
    for name in names:
        config = dataclasses.replace(DEMO, **MOVES[name])
        snapshots = POLICY.snapshots(config)
        firsts, totals = [], []
        for attempt in range(repeats + 1):
            seen = []
            start = time.perf_counter()
            wil.compare(config, live=lambda partial: seen or seen.append(time.perf_counter() - start),
                        live_every=POLICY.live_every, live_share=POLICY.live_share, snapshots=snapshots)
            if attempt:  # the first is the warm-up
                totals.append(time.perf_counter() - start)
                firsts.append(seen[0] if seen else float("nan"))
        row = {"move": name, "networks": len(config.labels) * config.n_seeds, "snapshots": snapshots,
               "first_view": statistics.median(firsts), "total": statistics.median(totals), "firsts": firsts}
        rows.append(row)
        print(f"| {name} | {row['networks']} | {row['first_view']:.2f} ({', '.join(f'{f:.2f}' for f in firsts)}) | "
              f"{row['total']:.2f} | {'yes' if row['first_view'] <= FIRST_VIEW_TARGET else 'NO'} |", flush=True)
    return rows


# Issue #4's targets: wil's time (float32, diagnostics on) at most this multiple of the PyTorch loop's.
TARGETS = {"S1": 0.5, "S2": 0.5, "S3": 1.0, "S4": 1.0}


def _median_ratio(a: list[float], b: list[float]) -> float:
    return statistics.median(x / y for x, y in zip(a, b))


def print_rows(rows: list[dict]) -> None:
    print("\n| scenario | K | epochs | f64 diag on | f64 diag off | f32 diag on | f32 diag off | "
          "diag cost f64 / f32 | f32 speed-up | nets x epochs/s (f64, f32) | GFLOP/s f64 (% of peak) | "
          "GFLOP/s f32 (% of peak) | threads |")
    print("|---" * 14 + "|")
    for r in rows:
        print(f"| {r['scenario']} | {r['K']} | {r['epochs']} | {r['t_64_on']:.3f} s | {r['t_64_off']:.3f} s | "
              f"{r['t_32_on']:.3f} s | {r['t_32_off']:.3f} s | "
              f"x{r['diag_cost_64']:.2f} / x{r['diag_cost_32']:.2f} | x{r['f32_speedup']:.2f} | "
              f"{r['nets_epochs_per_s']:,.0f}, {r['nets_epochs_per_s_32']:,.0f} | "
              f"{r['gflops_64_on']:.1f} ({100 * r['gflops_64_on'] / r['peak_64']:.0f}%) | "
              f"{r['gflops_32_on']:.1f} ({100 * r['gflops_32_on'] / r['peak_32']:.0f}%) | {r['threads']} |")
    for r in rows:
        if r["diverged"]:
            print(f"  {r['scenario']}: {r['diverged']} of {r['K']} networks diverge (as the lesson intends)")
        if r["beyond_limits"]:
            print(f"  {r['scenario']}: beyond the app's limits, run with them lifted: {r['beyond_limits']}")
    print("\nThe floor (float32, every core): the run's matrix products alone, and a lean NumPy loop (those "
          "products plus bias, ReLU, its mask and the SGD update; no loss, record or diagnostics)")
    with_torch = any("t_torch" in r for r in rows)
    print("| scenario | products alone | lean NumPy loop | wil diag off | wil diag on |"
          + (" PyTorch | target | lean loop / target | wil diag on / target |" if with_torch else ""))
    print("|---" * (9 if with_torch else 5) + "|")
    for r in rows:
        line = (f"| {r['scenario']} | {r['t_products']:.3f} s | {r['t_lean']:.3f} s | {r['t_32_off']:.3f} s | "
                f"{r['t_32_on']:.3f} s |")
        if with_torch and r["scenario"] in TARGETS:
            target = TARGETS[r["scenario"]] * r["t_torch"]
            line += (f" {r['t_torch']:.3f} s | {target:.3f} s (x{TARGETS[r['scenario']]:g}) | "
                     f"{r['t_lean'] / target:.2f} | {r['t_32_on'] / target:.2f} |")
        elif with_torch:
            line += f" {r['t_torch']:.3f} s | | | |"
        print(line)
    if with_torch:
        print("\n| scenario | torch (f32, threads) | wil f32 diag on / torch | wil f64 diag on / torch | "
              "wil f32 diag off / torch | torch GFLOP/s | max loss gap, epoch 0 / last | torch probe (s) by threads |")
        print("|---" * 8 + "|")
        for r in rows:
            if "t_torch" in r:
                print(f"| {r['scenario']} | {r['t_torch']:.3f} s ({r['torch_threads']}) | {r['ratio_32_on']:.2f} | "
                      f"{r['ratio_64_on']:.2f} | {r['ratio_32_off']:.2f} | {r['gflops_torch']:.1f} | "
                      f"{r['torch_loss_gap_0']:.1e} / {r['torch_loss_gap']:.1e} | {r['torch_probe']} |")


# ---------------------------------------------------------------- PyTorch, the peer

class TorchRunner:
    """Times the PyTorch loop on one scenario's networks (built outside the timed region)."""

    def __init__(self, scenario: Scenario, import_torch_peer):
        import torch
        from wil.spec.datasets import load_dataset
        from wil.engine.draw import initialize_networks

        self.torch, self.peer, self.scenario = torch, import_torch_peer, scenario
        config = scenario.make_config(dtype="float64")
        with lifted_limits(scenario.beyond_limits()):
            self.data = load_dataset(config.dataset, config.n_samples, config.noise, config.seed)
            labels = list(config.labels) if scenario.compare_default else [
                wil.make_label(*wil.parse_entry(e)) for e in scenario.initializers]
            seeds = config.seeds if scenario.compare_default else scenario.seeds
            net = initialize_networks(config, self.data, labels, seeds)
        self.weights = [w.copy() for w in net.weights]
        self.biases = [b.copy() for b in net.biases]
        self.config = config
        t = torch.from_numpy
        self.tensors = (t(self.data.X_train.astype(np.float32)), t(self.data.y_train.astype(np.int64)),
                        t(self.data.X_test.astype(np.float32)), t(self.data.y_test.astype(np.int64)))
        self.threads = self._best_threads()
        wil_history = scenario.run("float32", False).history
        torch_history = self._train()[1]
        self.loss_gap = _loss_gap(wil_history, torch_history, config)
        self.loss_gap_0 = _loss_gap(wil_history, torch_history, config, 0)

    def _train(self, epochs: int | None = None):
        models = self.peer.build_models(self.weights, self.biases, self.config.activation)
        start = time.perf_counter()
        history = self.peer.train(models, *self.tensors, epochs=epochs or self.config.epochs,
                                  learning_rate=self.config.learning_rate, batch_size=self.config.batch_size,
                                  order_seed=self.config.seed)
        return time.perf_counter() - start, history

    def _best_threads(self) -> int:
        """The faster of 1 thread and every core, by the median of three short alternated runs (on a
        shared machine a lucky run says little: the timed runs must live with the setting)."""
        options = sorted({1, wil.engine.threads.available_cores()})
        short = max(1, self.config.epochs // 4)
        seconds = {t: [] for t in options}
        for _ in range(3):
            for t in options:
                self.torch.set_num_threads(t)
                seconds[t].append(self._train(short)[0])
        self.probe = {t: statistics.median(v) for t, v in seconds.items()}
        best = min(options, key=lambda t: self.probe[t])
        self.torch.set_num_threads(best)
        return best

    def time_once(self) -> float:
        self.torch.set_num_threads(self.threads)
        return self._train()[0]


def _loss_gap(wil_history, torch_history: np.ndarray, config, epoch: int | None = None) -> float:
    """Largest |train loss difference| at ``epoch`` (default: the last) between wil (float32) and the
    PyTorch loop, over the networks wil still trains then: the check that the peer trains the same
    networks the same way (at epoch 0 they hold the same weights)."""
    epoch = config.epochs if epoch is None else epoch
    rows = wil_history[(wil_history["epoch"] == epoch) & (wil_history["split"] == "train")]
    seeds = sorted(wil_history["seed"].unique())
    k = rows["initializer"].cat.codes.to_numpy() * len(seeds) + np.searchsorted(seeds, rows["seed"].to_numpy())
    return float(np.nanmax(np.abs(rows["loss"].to_numpy() - torch_history[k, epoch, 0, 0])))


# ---------------------------------------------------------------- memory, in fresh processes

def memory_rows(names: list[str], with_torch: bool) -> list[dict]:
    rows = []
    for name in names:
        row = {"scenario": name}
        for engine, dtype, diagnostics in (("wil", "float64", True), ("wil", "float32", True),
                                           ("wil", "float64", False)) + ((("torch", "float32", False),)
                                                                        if with_torch else ()):
            args = [sys.executable, __file__, "--child-memory", json.dumps([name, engine, dtype, diagnostics])]
            out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
            row[f"{engine}_{dtype[-2:]}_{'on' if diagnostics else 'off'}"] = json.loads(out.splitlines()[-1])
        rows.append(row)
    print("\nPeak memory: the rise of the process's peak resident set during one run, over its size after "
          "imports and data (fresh process each).\n")
    keys = [k for k in rows[0] if k != "scenario"]
    print("| scenario | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for row in rows:
        print(f"| {row['scenario']} | " + " | ".join(f"{row[k]:.0f} MB" for k in keys) + " |")
    return rows


def child_memory(spec: str) -> None:
    name, engine, dtype, diagnostics = json.loads(spec)
    import pandas  # noqa: F401  (imported before the baseline: not part of a run's memory)
    import sklearn.datasets  # noqa: F401
    import sklearn.model_selection  # noqa: F401

    scenario = scenarios()[name]
    if engine == "torch":
        import torch
        import torch_peer
        from wil.spec.datasets import load_dataset
        from wil.engine.draw import initialize_networks
        config = scenario.make_config(dtype="float64")
        with lifted_limits(scenario.beyond_limits()):
            data = load_dataset(config.dataset, config.n_samples, config.noise, config.seed)
            labels = list(config.labels) if scenario.compare_default else list(scenario.initializers)
            net = initialize_networks(config, data, labels, config.seeds if scenario.compare_default
                                      else scenario.seeds)
        t = torch.from_numpy
        tensors = (t(data.X_train.astype(np.float32)), t(data.y_train.astype(np.int64)),
                   t(data.X_test.astype(np.float32)), t(data.y_test.astype(np.int64)))
        models = torch_peer.build_models(net.weights, net.biases, config.activation)
        del net
        before = _peak_rss_mb()
        torch_peer.train(models, *tensors, epochs=config.epochs, learning_rate=config.learning_rate,
                         batch_size=config.batch_size, order_seed=config.seed)
    else:
        before = _peak_rss_mb()
        scenario.run(dtype, diagnostics)
    print(json.dumps(_peak_rss_mb() - before))


def _peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM). Not ``ru_maxrss``: Linux carries that across ``exec``,
    so a child of a large process would inherit its parent's peak."""
    try:
        line = next(line for line in open("/proc/self/status") if line.startswith("VmHWM"))
        return int(line.split()[1]) / 1024.0
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ---------------------------------------------------------------- BLAS threads

THREAD_MODES = {"1 thread": lambda cores: Plan(1, 1, 1, 1),
                "networks split": lambda cores: Plan(cores, 1, 1, 1),
                "row blocks": lambda cores: Plan(1, ROW_PARTS, min(cores, ROW_PARTS), 1),
                "BLAS threads": lambda cores: Plan(1, 1, 1, cores)}


def bench_threads(repeats: int) -> list[dict]:
    """Whole training runs under each thread mode, over widths, rows per product and K; then deeper
    networks with mini-batches, split or not."""
    cores = wil.engine.threads.available_cores()
    modes = {name: mode(cores) for name, mode in THREAD_MODES.items()}
    rows = []
    for mode in modes.values():  # warm-up: the first runs pay imports and the thread pool's start
        with forced_plan(mode):
            Scenario("warm-up", "", dict(n_samples=samples_for(128), depth=3, width=32, epochs=2), ("he_normal",),
                     2).run("float64", True)
    print(f"\nThread modes: speed-up over 1 thread (time at 1 thread / time in the mode; >1: the mode wins) "
          f"with {cores} cores; depth 3, full batch, diagnostics on, median of {repeats} alternated rounds.\n")
    print("| rows (n) | width | K | K x n x width^2 | dtype | networks split | row blocks | BLAS threads | rule |")
    print("|---" * 9 + "|")
    for width in THREAD_WIDTHS:
        for n_train in THREAD_ROWS:
            for K in THREAD_KS:
                fields = dict(n_samples=samples_for(n_train), depth=3, width=width, epochs=1)
                scenario = Scenario("threads", "", fields, ("he_normal",), K)
                work = K * n_train * width * width
                scenario.config["epochs"] = int(min(100, max(3, 1.5e8 / (3 * work))))
                for dtype in ("float64", "float32"):
                    seconds = {name: [] for name in modes}
                    for _ in range(repeats):
                        for name, mode in modes.items():
                            if K == 1 and name == "networks split":
                                continue
                            with forced_plan(mode):
                                seconds[name].append(_timed(lambda: scenario.run(dtype, True)))
                    speedup = {name: _median_ratio(seconds["1 thread"], seconds[name]) if seconds[name] else
                               float("nan") for name in modes}
                    config = scenario.make_config()
                    n_test = (wil.DATASETS[config.dataset].size or config.n_samples) - config.n_train()
                    rule = wil.engine.threads.plan(K, width, config.depth, config.n_train(), n_test, None)
                    rows.append({"n": n_train, "width": width, "K": K, "dtype": dtype, **speedup,
                                 "rule": tuple(rule)})
                    print(f"| {n_train} | {width} | {K} | {work:,} | {dtype} | {speedup['networks split']:.2f} | "
                          f"{speedup['row blocks']:.2f} | {speedup['BLAS threads']:.2f} | {tuple(rule)} |", flush=True)
    print("\nDeeper networks and mini-batches (1000 training samples, float32, 4 epochs): networks split into "
          "groups against one thread.\n")
    print("| depth | width | batch | K | work per call | networks split | rule |")
    print("|---" * 7 + "|")
    for depth, width, batch, K in DEEP_CASES:
        fields = dict(n_samples=samples_for(1000), depth=depth, width=width, batch_size=batch, epochs=4,
                      learning_rate=0.01)
        scenario = Scenario("threads", "", fields, ("he_normal",), K)
        seconds = {name: [] for name in ("1 thread", "networks split")}
        for _ in range(repeats):
            for name in seconds:
                with forced_plan(modes[name]):
                    seconds[name].append(_timed(lambda: scenario.run("float32", True)))
        config = scenario.make_config()
        n_test = (wil.DATASETS[config.dataset].size or config.n_samples) - config.n_train()
        work = wil.spec.layout.work_per_call(K, width, depth, config.n_train(), n_test, batch)
        rule = wil.engine.threads.plan(K, width, depth, config.n_train(), n_test, batch)
        speedup = _median_ratio(seconds["1 thread"], seconds["networks split"])
        rows.append({"depth": depth, "width": width, "batch": batch, "K": K, "networks split": speedup,
                     "rule": tuple(rule)})
        print(f"| {depth} | {width} | {batch or 'full'} | {K} | {work:.3g} | {speedup:.2f} | {tuple(rule)} |",
              flush=True)
    return rows


THREAD_WIDTHS, THREAD_ROWS, THREAD_KS = (32, 64, 128, 256), (128, 375, 1000, 3000), (1, 4, 8)  # the sweep's grid
# (depth, width, batch size, K): S2's shape and its neighbours
DEEP_CASES = ((20, 64, 128, 8), (5, 64, 128, 8), (20, 64, 128, 4), (20, 32, 128, 8), (20, 64, 32, 8),
              (10, 128, 64, 4), (3, 64, None, 8), (20, 64, None, 4))


@contextlib.contextmanager
def forced_plan(mode: "Plan"):
    """Train with the thread plan ``mode`` whatever the rule says."""
    import wil.analysis.compare
    original = wil.analysis.compare.plan
    wil.analysis.compare.plan = lambda *args: mode
    try:
        yield
    finally:
        wil.analysis.compare.plan = original


# ---------------------------------------------------------------- growth

SCALING_BASE = dict(n_samples=samples_for(1000), depth=5, width=64, epochs=20, activation="relu")
SCALING_AXES = {"depth": (1, 2, 5, 10, 20, 40), "width": (16, 32, 64, 128, 256),
                "K": (1, 2, 4, 8, 16, 32), "train samples": (100, 300, 1000, 3000)}


def bench_scaling(repeats: int) -> list[dict]:
    """Time per epoch as one of depth, width, K, samples grows from the base (S1's shape, K=8)."""
    rows = []
    for axis, values in SCALING_AXES.items():
        for value in values:
            fields, K = dict(SCALING_BASE), 8
            if axis == "K":
                K = value
            elif axis == "train samples":
                fields["n_samples"] = samples_for(value)
            else:
                fields[axis] = value
            scenario = Scenario("scaling", "", fields, ("he_normal", "glorot_uniform"), K // 2 or 1)
            if axis == "K" and value == 1:
                scenario = Scenario("scaling", "", fields, ("he_normal",), 1)
            config = scenario.make_config()
            for dtype in ("float64", "float32"):
                scenario.run(dtype, True)
                seconds = statistics.median(_timed(lambda: scenario.run(dtype, True)) for _ in range(repeats))
                flops = matmul_flops(config, scenario.n_networks, True)
                rows.append({"axis": axis, "value": value, "dtype": dtype,
                             "ms_per_epoch": 1000 * seconds / (config.epochs + 1),
                             "gflops": flops / seconds / 1e9})
                print(f"{axis:>13} = {value:<5} {dtype}: {rows[-1]['ms_per_epoch']:8.2f} ms/epoch "
                      f"{rows[-1]['gflops']:6.1f} GFLOP/s", flush=True)
    _scaling_chart(rows)
    return rows


def _scaling_chart(rows: list[dict]) -> None:
    import altair as alt
    import pandas as pd

    OUT.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(rows)
    base = alt.Chart(frame).encode(
        x=alt.X("value:Q", scale=alt.Scale(type="log"), title=None),
        y=alt.Y("ms_per_epoch:Q", scale=alt.Scale(type="log"), title="ms per epoch (diagnostics on)"),
        color=alt.Color("dtype:N", title="dtype"),
        tooltip=["axis", "value", "dtype", alt.Tooltip("ms_per_epoch:Q", format=".2f"),
                 alt.Tooltip("gflops:Q", format=".1f", title="GFLOP/s")])
    chart = (base.mark_line() + base.mark_point()).properties(width=210, height=170).facet(
        facet=alt.Facet("axis:N", title=None, sort=list(SCALING_AXES)), columns=4
    ).resolve_scale(x="independent").properties(
        title="wil: time per epoch as one size grows (base: K=8, depth 5, width 64, 1000 samples, full batch)")
    chart.save(OUT / "scaling.html")
    frame.to_csv(OUT / "scaling.csv", index=False)
    print(f"wrote {OUT / 'scaling.html'}")
    try:
        chart.save(OUT / "scaling.png", scale_factor=1.0)
        print(f"wrote {OUT / 'scaling.png'}")
    except Exception as error:  # a PNG needs vl-convert-python (benchmarks/requirements.txt)
        print(f"no PNG ({type(error).__name__}: {error})")


# ---------------------------------------------------------------- import time

def bench_import(repeats: int = 5) -> None:
    code = ("import sys, time; t = time.perf_counter(); import wil; t = time.perf_counter() - t; "
            "print(t, [m for m in ('pandas', 'sklearn', 'streamlit', 'altair') if m in sys.modules])")
    seconds, heavy = [], None
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             cwd=ROOT).stdout.split(" ", 1)
        seconds.append(float(out[0]))
        heavy = out[1].strip()
    print(f"import wil: {statistics.median(seconds):.3f} s (median of {repeats}); heavy modules loaded: {heavy}")


# ---------------------------------------------------------------- main

def load() -> str:
    """The load average: the machine may be shared, and its other work slows every figure."""
    try:
        return "load average " + " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "load average unknown"


def machine() -> str:
    blas = [f"{i['internal_api']} {i.get('version', '')} ({i.get('architecture', '')}, {i['num_threads']} threads)"
            for i in threadpool_info() if i["user_api"] == "blas"]
    cpu = platform.processor() or "?"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{cpu}, {wil.engine.threads.available_cores()} cores; Python {platform.python_version()}, "
            f"NumPy {np.__version__}, BLAS {', '.join(blas)}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", action="append", help="S1, S2, S3, S4 or demo (repeatable; default all)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--vs-torch", action="store_true", help="time the PyTorch loop too, alternated")
    parser.add_argument("--memory", action="store_true", help="peak memory per run, in fresh processes")
    parser.add_argument("--memory-only", action="store_true", help="only the peak memory (with --vs-torch: of both)")
    parser.add_argument("--threads", action="store_true", help="1 vs all BLAS threads over shapes")
    parser.add_argument("--scaling", action="store_true", help="time against depth, width, K, samples")
    parser.add_argument("--quick", action="store_true", help="only the README's figures (f32, diagnostics on)")
    parser.add_argument("--cures", action="store_true",
                        help="normalization and residual networks against PyTorch eager (benchmarks/bench_cures.py)")
    parser.add_argument("--moves", nargs="*", metavar="MOVE",
                        help="diagnostics on vs off for the opening page's moves (default all of MOVES)")
    parser.add_argument("--first-view", nargs="*", metavar="MOVE",
                        help="seconds to the first live view per move, as the app's trainer runs it (default all)")
    parser.add_argument("--child-memory", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_memory:
        return child_memory(args.child_memory)

    print(machine())
    print(f"start: {load()}", flush=True)
    if args.threads:
        bench_threads(args.repeats)
        return
    if args.scaling:
        bench_scaling(args.repeats)
        return
    if args.memory_only:
        memory_rows(args.scenario or list(scenarios()), args.vs_torch)
        return
    if args.cures:
        import bench_cures

        bench_cures.main(["--repeats", str(args.repeats)])
        return
    if args.quick:
        bench_quick(args.scenario or list(scenarios()), args.repeats)
        return
    if args.first_view is not None:
        bench_first_view(args.first_view or list(MOVES), args.repeats)
        print(f"end: {load()}")
        return
    if args.moves is not None:
        rows = bench_moves(args.moves or list(MOVES), args.repeats)
        print(f"end: {load()}")
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "moves.json").write_text(json.dumps(rows, indent=1))
        return
    bench_import()
    peak = measure_peak()
    print("matmul peak (1024 x 1024, best of 5): " + ", ".join(
        f"{d} {t} thread{'s' if t > 1 else ''} {v:.1f} GFLOP/s" for (d, t), v in peak.items()))
    all_scenarios = scenarios()
    names = args.scenario or list(all_scenarios)
    peer = None
    if args.vs_torch:
        import torch
        import torch_peer as peer
        print(f"PyTorch {torch.__version__}, float32, eager; threads chosen per scenario from 1 and "
              f"{wil.engine.threads.available_cores()}")
    rows = []
    for name in names:
        scenario = all_scenarios[name]
        runner = TorchRunner(scenario, peer) if peer is not None else None
        rows.append(bench_scenario(scenario, args.repeats, peak, runner))
        r = rows[-1]
        print(f"{name}: f64 on {r['t_64_on']:.3f} s, off {r['t_64_off']:.3f} s; f32 on {r['t_32_on']:.3f} s"
              + (f"; torch {r['t_torch']:.3f} s, wil f32 / torch {r['ratio_32_on']:.2f}" if runner else ""),
              flush=True)
    print(f"end: {load()}")
    print_rows(rows)
    if args.memory:
        memory_rows(names, args.vs_torch)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "engine.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()

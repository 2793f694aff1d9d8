"""The engine against the plain reference (``tests/reference.py``), and its exactness.

Training runs ``forward`` / ``backward`` over a ``Stack`` and a ``Workspace``, the activations' in-place
kernels, layer statistics over many layers per call, a mask-free histogram path, row blocks, and drops
diverged networks from the computation. Each is checked here against the plain reference.

Where two computations sum the same products in different orders (the engine and the reference; a pass
cut into row blocks and an uncut one), results may differ by rounding, and by how much depends on the
CPU's BLAS kernel. Those comparisons use a bound derived from the rounding error of a sum (``gamma``),
never bit-equality. Bit-equality is asserted only where the operations are the same by construction:
the same network alone or in any comparison, on one thread or two.
"""

from __future__ import annotations

import subprocess
import warnings
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import wil
from reference import backward as reference_backward
from reference import forward as reference_forward
from reference import optimizer_step
from wil.spec.activations import ACTIVATIONS
from wil.spec.layout import LAYER_STATS
from wil.engine.statistics import distinct_units, histograms, layer_statistics
from wil.engine.model import Network, backward, forward, loss_and_gradient
from wil.spec.optimizers import OPTIMIZERS, take
from wil.engine.threads import Plan
from wil.engine.workspace import MIN_PART_ROWS, Stack, Workspace

UNIT_ROUNDOFF = np.finfo(np.float64).eps / 2


def gamma(n: int) -> float:
    """Higham's gamma_n = n u / (1 - n u): a sum of n products computed in any order is within
    gamma_n * sum(|products|) of the exact sum (Accuracy and Stability of Numerical Algorithms, 3.1)."""
    return n * UNIT_ROUNDOFF / (1 - n * UNIT_ROUNDOFF)


def forward_bounds(net, X: np.ndarray) -> list[np.ndarray]:
    """For each layer, an elementwise bound on how far two evaluations of its pre-activations (and, the
    activations being 1-Lipschitz here, of its activations) can be apart when each sums its products in
    its own order: each is within gamma_(d+1) (|a| @ |W| + |b|) of the exact value given its inputs, and
    the inputs' own difference ``delta`` moves the product by at most |delta| @ |W|."""
    bounds, delta, a = [], np.zeros_like(X), X
    for layer, (W, b) in enumerate(zip(net.weights, net.biases)):
        d = W.shape[-2] + 1  # products and the bias
        bound = np.abs(delta) @ np.abs(W) + 2 * gamma(d) * ((np.abs(a) + np.abs(delta)) @ np.abs(W) + np.abs(b))
        bounds.append(bound)
        z = a @ W + b
        a, delta = (z, bound) if layer == net.n_layers - 1 else (net.activation.f(z), bound)
    return bounds


def gradient_bounds(net, X: np.ndarray, state, doutput: np.ndarray) -> list[np.ndarray]:
    """A bound on how far two evaluations of each weight gradient can be apart: a sum over n examples of
    products a_i delta_i whose factors each carry the pass's rounding (at most ``layers`` sums of length
    d + 1 forward and back), summed in its own order: (2 gamma_n + 4 L gamma_(d+1)) sum_i |a_i| |delta_i|."""
    L = net.n_layers
    d = max(W.shape[-2] for W in net.weights) + 1
    factor = 2 * gamma(X.shape[0]) + 4 * L * gamma(d)
    grads = reference_backward(_absolute(net), np.abs(X), _absolute_pass(state), np.abs(doutput))
    return [factor * g for g in grads[:L]]


def _absolute(net):
    from dataclasses import replace

    return replace(net, weights=[np.abs(W) for W in net.weights], biases=[np.abs(b) for b in net.biases],
                   activation=ACTIVATIONS["linear"], stack=None)


def _absolute_pass(state):
    from reference import Pass

    return Pass([np.abs(z) for z in state.preactivations], [np.abs(a) for a in state.activations])

SIZES = [3, 7, 7, 7, 2]


def random_network(activation: str, sizes=SIZES, K: int = 3, seed: int = 0, dtype=np.float64) -> Network:
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0, 1 / np.sqrt(fi), (K, fi, fo)).astype(dtype) for fi, fo in zip(sizes[:-1], sizes[1:])]
    biases = [rng.normal(0, 0.1, (K, 1, fo)).astype(dtype) for fo in sizes[1:]]
    return Network(weights, biases, ACTIVATIONS[activation])


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_buffered_pass_equals_plain_pass(name, task):
    sizes = SIZES if task == "classification" else SIZES[:-1] + [1]
    plain = random_network(name, sizes)
    net = Network.stacked(plain.weights, plain.biases, plain.activation)
    rng = np.random.default_rng(1)
    workspace = Workspace(net, max_rows=20)
    for n in (20, 13):  # the whole buffer, and fewer rows than it holds (strided views)
        X = rng.standard_normal((n, sizes[0]))
        y = rng.integers(0, 2, n) if task == "classification" else rng.standard_normal(n)
        reference = reference_forward(plain, X)
        fast = forward(net, X, workspace)
        for got, want in zip(fast.preactivations + fast.activations,
                             reference.preactivations + reference.activations):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
        _, doutput, _ = loss_and_gradient(task, reference.output, y)
        want = reference_backward(plain, X, reference, doutput)
        got = backward(net, X, fast, doutput, workspace)
        for g, w in zip(got.weights + got.biases, want):
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_kernels_work_in_place_on_strided_buffers(name, dtype):
    """The engine calls the registry's kernels on views of its buffers (rows of a block, in float32):
    there they give what the allocating ``f`` and ``df`` give, and keep the buffer's dtype."""
    with np.errstate(over="ignore"):  # exp of 800 in the ELU family's unused branch
        activation = ACTIVATIONS[name]
        values = np.concatenate([np.random.default_rng(2).normal(0, 3, 500), [0.0, -0.0, 1e-30, -40.0, 40.0, 80.0]])
        z = np.zeros((2, 1012), dtype)[:, ::2]  # strided
        z[...] = values.astype(dtype)
        a = np.zeros((2, 1012), dtype)[:, 1::2]
        activation.apply(z, a)
        assert a.dtype == dtype
        np.testing.assert_array_equal(a, activation.f(z))
        back = np.random.default_rng(3).standard_normal(z.shape).astype(dtype)
        expected = back * activation.df(z, a)
        activation.scale_grad(back, z, a, np.empty_like(z))
        assert back.dtype == dtype
        np.testing.assert_allclose(back, expected, rtol=4 * np.finfo(dtype).eps, atol=0)


def test_stack_views_share_one_array():
    plain = random_network("relu")
    net = Network.stacked(plain.weights, plain.biases, plain.activation)
    stack = net.stack
    assert stack.flat.shape == (3, sum((fi + 1) * fo for fi, fo in zip(SIZES[:-1], SIZES[1:])))
    for view in stack.weights + stack.biases:
        assert np.shares_memory(view, stack.flat)
    stack.flat[1] = 7.0
    assert all((w[1] == 7.0).all() for w in net.weights + net.biases)
    kept = net.take(np.array([True, False, True]))
    assert kept.n_networks == 2 and not np.shares_memory(kept.stack.flat, stack.flat)
    np.testing.assert_array_equal(kept.weights[2], net.weights[2][[0, 2]])


@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid", "linear", "gelu"])
def test_layer_statistics_fast_path_equals_plain_and_the_definitions(name):
    plain = random_network(name, [3, 9, 9, 9, 9, 2], K=4)
    net = Network.stacked(plain.weights, plain.biases, plain.activation)
    X = np.random.default_rng(4).standard_normal((30, 3))
    y = np.random.default_rng(5).integers(0, 2, 30)
    state = reference_forward(plain, X)
    _, doutput, _ = loss_and_gradient("classification", state.output, y)
    grads = reference_backward(plain, X, state, doutput)
    projections = [np.random.default_rng(l).standard_normal(W.shape[1] + 1) for l, W in enumerate(plain.weights)]
    expected = _reference_statistics(plain, state, grads[:plain.n_layers], projections)
    slow = layer_statistics(plain, state, grads[:plain.n_layers], projections)
    workspace = Workspace(net, 30)
    fast_state = forward(net, X, workspace)
    fast = layer_statistics(net, fast_state, backward(net, X, fast_state, doutput, workspace), projections)
    np.testing.assert_allclose(slow, expected, rtol=1e-12, atol=1e-15, equal_nan=True)
    np.testing.assert_allclose(fast, expected, rtol=1e-12, atol=1e-15, equal_nan=True)


def _reference_statistics(net, state, grad_weights, projections):
    """Every statistic layer by layer, from its definition."""
    activation = net.activation
    out = np.full((net.n_networks, net.n_layers, 7), np.nan)
    for layer in range(net.n_layers):
        z, a, W, b = state.preactivations[layer], state.activations[layer], net.weights[layer], net.biases[layer]
        hidden = layer < net.n_layers - 1
        out[:, layer, 0], out[:, layer, 1] = a.mean(axis=(1, 2)), a.std(axis=(1, 2))
        if hidden and activation.family == "relu":
            out[:, layer, 2] = 1.0 - (z > 0).any(axis=1).mean(axis=1)
        if hidden and activation.saturation_z is not None:
            out[:, layer, 3] = (np.abs(z) > activation.saturation_z).mean(axis=(1, 2))
        out[:, layer, 4] = np.sqrt((grad_weights[layer] ** 2).sum(axis=(1, 2)))
        out[:, layer, 5] = W.std(axis=(1, 2))
        keys = np.sort(projections[layer][:-1] @ W + projections[layer][-1] * b[:, 0, :], axis=1)
        scale = np.abs(keys).max(axis=1, keepdims=True)
        out[:, layer, 6] = 1 + (np.diff(keys, axis=1) > 1e-7 * np.maximum(scale, 1e-300)).sum(axis=1)
    return out


def test_distinct_units_counts_equal_units_once():
    rng = np.random.default_rng(6)
    W = rng.standard_normal((2, 4, 6))
    W[0, :, 3] = W[0, :, 1]  # network 0: units 1 and 3 are the same unit
    b = np.zeros((2, 1, 6))
    projection = rng.standard_normal(5)
    np.testing.assert_array_equal(distinct_units(W, b, projection), [5, 6])
    stacked = distinct_units(np.stack([W, W], axis=1), np.stack([b[:, 0], b[:, 0]], axis=1),
                             np.stack([projection, projection]))
    np.testing.assert_array_equal(stacked, [[5, 5], [6, 6]])


@np.errstate(all="ignore")  # its inputs include overflowing ranges, as the engine's
def _reference_histograms(values, bounds=None, n_bins=30):
    """The masked general path, for every input: the bin of (value - low) / width, clipped, on edges
    low + width x i (the last one ``high``)."""
    K = values.shape[0]
    flat = values.reshape(K, -1)
    finite = np.isfinite(flat)
    if bounds is None:
        low = np.where(finite, flat, np.inf).min(axis=1)
        high = np.where(finite, flat, -np.inf).max(axis=1)
        empty = ~np.isfinite(low)
        low[empty], high[empty] = 0.0, 1.0
    else:
        low, high = np.full(K, bounds[0], flat.dtype), np.full(K, bounds[1], flat.dtype)
    flat_range = high - low <= 1e-12 * np.maximum(np.abs(high), 1.0)
    low, high = np.where(flat_range, low - 0.5, low), np.where(flat_range, high + 0.5, high)
    width = (high - low) / n_bins
    position = (np.where(finite, flat, low[:, None]) - low[:, None]) / width[:, None]
    bins = np.clip(np.nan_to_num(position, nan=0.0, posinf=n_bins - 1, neginf=0.0), 0, n_bins - 1)
    index = bins.astype(np.int64) + (np.arange(K) * n_bins)[:, None]
    counts = np.bincount(index[finite], minlength=K * n_bins).reshape(K, n_bins)
    edges = low[:, None] + width[:, None] * np.arange(n_bins + 1, dtype=low.dtype)
    edges[:, -1] = high
    return counts, edges[:, :-1], edges[:, 1:]


def assert_np_histogram(counts, edges, values):
    """``counts`` on ``edges`` are np.histogram's, but for values within rounding of an edge: the bin of
    a division (x - low) / width may differ from an exact comparison with the edge only for a value a few
    units in the last place from it, so the counts may differ by at most the number of such values."""
    want, _ = np.histogram(values, bins=edges)
    eps = np.finfo(values.dtype).eps
    near = np.abs(values[:, None] - edges[None, 1:-1]) <= 16 * eps * np.maximum(np.abs(edges).max(), 1.0)
    slack = int(near.any(axis=1).sum())
    assert counts.sum() == want.sum()
    assert np.abs(counts - want).sum() <= 2 * slack, (counts, want, slack)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", ["normal", "constant", "bounded", "outside_bounds", "nan", "inf", "edges",
                                  "range_overflows", "constant_and_huge"])
def test_histograms_equal_the_general_path(case, dtype):
    rng = np.random.default_rng(7)
    values, bounds = rng.standard_normal((3, 40, 5)), None
    if case == "constant":
        values[1] = 2.5
    elif case == "bounded":
        values, bounds = np.tanh(values), (-1.0, 1.0)
    elif case == "outside_bounds":
        bounds = (-1.0, 1.0)
    elif case == "nan":
        values[0, 3, 1] = np.nan
    elif case == "inf":
        values[2, 0, 0] = np.inf
    elif case == "edges":  # values on bin edges, the top edge included
        values = np.linspace(0.0, 3.0, 3 * 200).reshape(3, 200, 1)
    elif case == "range_overflows":  # finite values whose range is not (in float32)
        values[1, 0, 0], values[1, 1, 0] = 3e38, -3e38
    elif case == "constant_and_huge":  # a constant row where +-0.5 vanishes in float32 rounding
        values[2] = 1.2e8
    values = values.astype(dtype)
    with np.errstate(all="ignore"):  # as in training: overflowing ranges are part of the cases
        got, want = histograms(values, bounds), _reference_histograms(values, bounds)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    assert got[0].sum() == np.isfinite(values).sum()


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_one_update_over_the_stack_equals_the_papers_step_per_parameter(name):
    """The registry's (init, update) pair over the whole (K, P) stack against the textbook step applied to
    each layer's arrays on their own (elementwise arithmetic: equal up to the order of a few operations)."""
    plain = random_network("relu")
    net = Network.stacked(plain.weights, plain.biases, plain.activation)
    rng = np.random.default_rng(8)
    optimizer = OPTIMIZERS[name]
    state = optimizer.init(net.stack.flat)
    per_layer = [p.copy() for p in plain.parameters()]
    states = [{} for _ in per_layer]
    for _ in range(3):
        grads = [rng.standard_normal(p.shape) for p in per_layer]
        grad_stack = Stack.zeros(3, net.sizes, np.float64)
        for view, g in zip(grad_stack.weights + grad_stack.biases, grads):
            view[...] = g
        state = optimizer.update(net.stack.flat, grad_stack.flat, state, 0.1, np.empty_like(net.stack.flat))
        for p, g, s in zip(per_layer, grads, states):
            optimizer_step(name, p, g, s, 0.1)
    assert state.step == 3
    for got, want in zip(net.parameters(), per_layer):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)
    kept = take(state, np.array([True, False, True]))
    assert all(buffer.shape[0] == 2 for buffer in kept.buffers)


def _rows_of(result, label):
    frames = {}
    for name in ("history", "layers", "histograms", "status", "grid"):
        frame = getattr(result, name)
        frame = frame[frame["initializer"].astype(str) == label].reset_index(drop=True)
        frames[name] = frame.assign(initializer=frame["initializer"].astype(str))
    return frames


@pytest.mark.parametrize("batch_size", [None, 32])
def test_a_diverging_network_changes_nothing_for_the_others(batch_size):
    """Diverged networks are dropped from the computation; the survivors' results stay exactly the same."""
    config = wil.Config(dataset="moons", n_samples=200, depth=4, width=16, epochs=12, batch_size=batch_size,
                        learning_rate=0.5)
    together = wil.compare(config, ["he_normal", ("random_normal", {"std": 3.0})], [0, 1])
    assert together.status["diverged"].sum() >= 1
    alone = wil.compare(config, ["he_normal"], [0, 1])
    for name, frame in _rows_of(together, "he_normal").items():
        pd.testing.assert_frame_equal(frame, _rows_of(alone, "he_normal")[name], check_exact=True)


def test_same_seed_gives_identical_frames():
    config = wil.Config(dataset="circles", n_samples=150, depth=3, width=8, epochs=6, batch_size=25,
                        dtype="float32")
    first = wil.compare(config, ["he_normal", "zeros"], [0, 1])
    second = wil.compare(config, ["he_normal", "zeros"], [0, 1])
    for name in ("history", "layers", "histograms", "status", "grid"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name), check_exact=True)


def test_import_stays_light():
    code = "import sys, wil; print([m for m in ('pandas', 'sklearn', 'streamlit') if m in sys.modules])"
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("batch_size", [None, 16])
def test_networks_split_over_threads_give_the_same_frames(monkeypatch, batch_size):
    """Groups of networks trained in parallel threads: frames identical to one group, divergence included."""
    config = wil.Config(dataset="moons", n_samples=160, depth=3, width=8, epochs=10, batch_size=batch_size,
                        learning_rate=0.5)
    entries = ["he_normal", ("random_normal", {"std": 3.0}), "zeros", "glorot_uniform", "lsuv"]
    monkeypatch.setattr(wil.analysis.compare, "plan", lambda *args: Plan(1, 1, 1, 1))
    one = wil.compare(config, entries, [0, 1])
    monkeypatch.setattr(wil.analysis.compare, "plan", lambda *args: Plan(3, 1, 1, 1))
    split = wil.compare(config, entries, [0, 1])
    assert one.status["diverged"].any()
    for name in ("history", "layers", "histograms", "status", "grid"):
        pd.testing.assert_frame_equal(getattr(one, name), getattr(split, name), check_exact=True)


@pytest.mark.parametrize("n", [200, 129, 127, 40])
def test_a_pass_cut_into_row_blocks_equals_the_plain_pass(n):
    """Blocks of rows on a thread pool against the reference's uncut pass: within the rounding bounds
    (``forward_bounds``, ``gradient_bounds``); below MIN_PART_ROWS per block, one block."""
    from concurrent.futures import ThreadPoolExecutor

    plain = random_network("tanh", [3, 9, 9, 9, 2], K=2)
    net = Network.stacked(plain.weights, plain.biases, plain.activation)
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((n, 3)), rng.integers(0, 2, n)
    reference = reference_forward(plain, X)
    _, doutput, _ = loss_and_gradient("classification", reference.output, y)
    want = reference_backward(plain, X, reference, doutput)
    bounds = forward_bounds(plain, X)
    with ThreadPoolExecutor(2) as pool:
        workspace = Workspace(net, max_rows=200, row_parts=3, pool=pool)
        assert len(workspace.parts(n)) == min(3, max(1, n // MIN_PART_ROWS))
        state = forward(net, X, workspace)
        for got, expected, bound in zip(state.preactivations, reference.preactivations, bounds):
            assert (np.abs(got - expected) <= bound).all()
        got = backward(net, X, state, doutput, workspace)
        for g, w, bound in zip(got.weights, want, gradient_bounds(plain, X, reference, doutput)):
            assert (np.abs(g - w) <= bound).all()


@pytest.mark.parametrize("batch_size", [None, 100])
def test_row_blocks_give_the_same_numbers_on_one_thread_or_two(monkeypatch, batch_size):
    """A single network's passes cut into row blocks: the frames do not depend on the threads that run
    the blocks (reproducible on any machine), and equal the uncut run's up to rounding. Eight epochs of
    full-batch descent at rate 0.1 on a smooth loss: each step moves a rounding difference (relative
    ~1e-15 per pass, ``gradient_bounds``) by a factor of about (1 + lr x curvature) < 2, so after 8 epochs
    it stays below ~1e-12; rtol 1e-8 leaves a margin of 10^4 for ill-conditioned entries."""
    config = wil.Config(dataset="moons", n_samples=400, depth=3, width=16, epochs=8, batch_size=batch_size)
    runs = {}
    for how in (Plan(1, 2, 1, 1), Plan(1, 2, 2, 1), Plan(1, 1, 1, 1)):
        monkeypatch.setattr(wil.analysis.compare, "plan", lambda *args, how=how: how)
        runs[how] = wil.compare(config, ["he_normal"], [0])
    cut_one, cut_two, uncut = runs.values()
    for name in ("history", "layers", "histograms", "status", "grid"):
        pd.testing.assert_frame_equal(getattr(cut_one, name), getattr(cut_two, name), check_exact=True)
    pd.testing.assert_frame_equal(cut_one.history, uncut.history, check_exact=False, rtol=1e-9)
    pd.testing.assert_frame_equal(cut_one.layers, uncut.layers, check_exact=False, rtol=1e-8)


def test_the_thread_plan_follows_the_shapes(monkeypatch):
    import wil.engine.threads as threads
    import wil.spec.layout as layout

    monkeypatch.setattr(threads, "available_cores", lambda: 2)
    assert threads.plan(8, 64, 5, 1000, 333, None) == Plan(2, 1, 1, 1)  # S1: the networks split over the cores
    assert threads.plan(8, 64, 20, 1000, 333, 128) == Plan(2, 1, 1, 1)  # S2
    assert threads.plan(1, 256, 50, 375, 125, None) == Plan(1, 2, 2, 1)  # S4: one network, its rows cut in two
    assert threads.plan(5, 32, 8, 300, 100, None) == Plan(1, 1, 1, 1)  # the demo: too little work per call
    assert threads.plan(4, 32, 3, 128, 42, None) == Plan(1, 1, 1, 1)
    monkeypatch.setattr(threads, "available_cores", lambda: 1)
    assert threads.plan(8, 64, 5, 1000, 333, None) == Plan(1, 1, 1, 1)
    assert threads.plan(1, 256, 50, 375, 125, None) == Plan(1, 2, 1, 1)  # the same blocks, so the same numbers
    # the public form, from a Config: its networks, shapes and splits (digits: 1,347 training, 450 test rows)
    monkeypatch.setattr(threads, "available_cores", lambda: 2)
    digits = wil.Config(dataset="digits", depth=5, width=64, compare=("zeros", "he_normal"), n_seeds=4,
                        batch_size=128)
    assert wil.cores_plan(digits) == threads.plan(8, 64, 5, 1347, 450, 128) == Plan(2, 1, 1, 1)
    assert wil.cores_plan(digits, n_networks=1) == threads.plan(1, 64, 5, 1347, 450, 128)
    # the estimate: full batch, 3 passes of 4 layers; mini-batches, 2 + 2 x 8 passes
    assert layout.work_per_call(2, 10, 4, 100, 30, None) == 2 * 100 * 4 * 330 / (60 + 5 * 4 * 3)
    assert layout.work_per_call(2, 10, 4, 100, 30, 13) == 2 * 100 * 4 * 430 / (60 + 5 * 4 * 18)


@pytest.mark.parametrize("files, quota", [
    ({"cpu.max": "150000 100000\n"}, 1.5), ({"cpu.max": "max 100000\n"}, None),
    ({"cpu/cpu.cfs_quota_us": "50000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 0.5),
    ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
    ({"cpu.max": "garbage here\n"}, None), ({}, None)])
def test_a_containers_cpu_quota_caps_the_cores(tmp_path, monkeypatch, files, quota):
    import wil.engine.threads as threads

    for name, text in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    assert threads.cpu_quota(str(tmp_path)) == quota
    monkeypatch.setattr(threads, "cpu_quota", lambda: quota)
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    assert threads.available_cores() == (4 if quota is None else max(1, int(quota)))


@pytest.mark.parametrize("batch_size", [None, 100])
def test_row_blocks_on_a_pool_thread_keep_overflow_warnings_silent(monkeypatch, batch_size):
    """A pass overflowing float32 in the block a pool thread runs: the run's np.errstate holds there too."""
    monkeypatch.setattr(wil.analysis.compare, "plan", lambda *args: Plan(1, 2, 2, 1))
    config = wil.Config(dataset="moons", n_samples=400, depth=14, width=16, epochs=3, batch_size=batch_size,
                        dtype="float32")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        status = wil.compare(config, [("random_normal", {"std": 1000.0})], [0]).status
    assert status["diverged"].all() and status["diverged_epoch"].tolist() == [0]


@pytest.mark.parametrize("batch_size", [None, 100])
def test_a_single_network_in_row_blocks_diverges_as_uncut(monkeypatch, batch_size):
    config = wil.Config(dataset="moons", n_samples=400, depth=4, width=16, epochs=12, batch_size=batch_size,
                        learning_rate=0.5)
    status = {}
    for how in (Plan(1, 2, 2, 1), Plan(1, 1, 1, 1)):
        monkeypatch.setattr(wil.analysis.compare, "plan", lambda *args, how=how: how)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no floating-point warning leaks from the threads
            status[how] = wil.compare(config, [("random_normal", {"std": 3.0})], [0]).status
    cut, uncut = status.values()
    assert cut["diverged"].all() and uncut["diverged"].all()
    assert cut["diverged_epoch"].tolist() == uncut["diverged_epoch"].tolist()
    assert cut["reason"].tolist() == uncut["reason"].tolist()


@pytest.mark.parametrize("batch_size", [None, 50])
def test_a_network_is_the_same_bit_for_bit_alone_or_in_any_comparison(monkeypatch, batch_size):
    """The README's promise: network (initializer, seed) alone equals the same network inside a comparison,
    exactly, with its passes cut into row blocks (forced here for every shape) and the comparison split
    over threads. The cut depends only on one network's shapes, so each network runs the same BLAS calls,
    of the same shapes, whichever kernel the CPU picks."""
    import wil.engine.threads as threads
    import wil.spec.layout as layout

    monkeypatch.setattr(layout, "ROW_SPLIT_WORK", 0.0)  # every pass cut into blocks of rows
    monkeypatch.setattr(threads, "SPLIT_WORK", 0.0)  # every comparison split into groups on threads
    monkeypatch.setattr(threads, "available_cores", lambda: 2)
    config = wil.Config(dataset="moons", n_samples=300, depth=4, width=16, epochs=6, batch_size=batch_size)
    alone = wil.compare(config, ["lsuv"], [1])
    together = wil.compare(config, ["he_normal", "lsuv", ("random_normal", {"std": 0.1})], [0, 1, 2])
    assert threads.plan(1, 16, 4, 225, 75, batch_size) == Plan(1, 2, 2, 1)
    assert threads.plan(9, 16, 4, 225, 75, batch_size) == Plan(2, 2, 1, 1)
    mine = {name: frame[(frame["initializer"].astype(str) == "lsuv") & (frame["seed"] == 1)]
            for name, frame in _rows_of(together, "lsuv").items()}
    for name, frame in _rows_of(alone, "lsuv").items():
        pd.testing.assert_frame_equal(frame, mine[name].reset_index(drop=True), check_exact=True)


@pytest.mark.parametrize("name", ["relu", "tanh"])
def test_recorded_histograms_are_np_histogram_on_each_layers_own_range(name):
    """Each recorded bar is np.histogram of the layer's values on the recorded edges (up to values within
    rounding of an edge, ``assert_np_histogram``), and each layer is binned on its own range at an epoch
    (its smallest to its largest value), so that a vanishing layer keeps its shape and magnitude."""
    from wil.spec.layout import HISTOGRAM_ROWS

    config = wil.Config(dataset="moons", n_samples=400, depth=3, width=8, epochs=2, activation=name)
    result = wil.compare(config, ["he_normal", ("random_normal", {"std": 0.01})], [0])
    frame = result.histograms
    for label in ("he_normal", "random_normal(std=0.01)"):
        values = epoch_zero_values(config, label, 0, HISTOGRAM_ROWS)  # layer -> {quantity: values}
        mine = frame[(frame["initializer"].astype(str) == label) & (frame["epoch"] == 0)]
        for quantity in ("activation", "preactivation", "weight"):
            for layer in range(1, config.depth + 2):
                bars = mine[(mine["quantity"] == quantity) & (mine["layer"] == layer)]
                edges = np.append(bars["bin_left"].to_numpy(), bars["bin_right"].to_numpy()[-1])
                own = values[layer][quantity]
                assert_np_histogram(bars["count"].to_numpy(), edges, own)
                if own.max() - own.min() > 1e-12 * max(abs(own.max()), 1.0):  # else a constant layer's +-0.5
                    np.testing.assert_allclose([edges[0], edges[-1]], [own.min(), own.max()], rtol=1e-5)


def epoch_zero_values(config, label, seed, rows):
    """Every layer's activations, pre-activations and weights at initialization, recomputed."""
    from wil.engine.draw import initialize_networks

    data = wil.load_dataset(config.dataset, config.n_samples, config.noise, config.seed)
    net = initialize_networks(config, data, [label], [seed])
    state = reference_forward(net, data.X_train[:rows].astype(config.dtype))
    return {layer + 1: {"activation": state.activations[layer].ravel(), "preactivation": state.preactivations[layer].ravel(),
                        "weight": net.weights[layer].ravel()} for layer in range(net.n_layers)}


def test_np_histogram_agreement_is_checked_strictly():
    """The comparison used above fails when a bar is wrong by more than rounding."""
    values = np.random.default_rng(4).standard_normal(1000)
    counts, left, right = histograms(values[None])
    edges = np.append(left[0], right[0, -1])
    assert_np_histogram(counts[0], edges, values)
    wrong = counts[0].copy()
    wrong[10] += 3
    wrong[11] -= 3
    with pytest.raises(AssertionError):
        assert_np_histogram(wrong, edges, values)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-9), (np.float32, 1e-3)])
def test_act_std_is_exact_where_the_mean_dwarfs_the_spread(dtype, rtol):
    """act_std sums squares in one pass where the mean is no larger than the spread; a layer whose mean dwarfs
    its spread (sigmoid at tiny weights: 0.5 +- 1e-6) or is constant (zero weights) takes two passes, as
    ``np.std``, where one pass would lose every digit (float32: a spread of ~8 ulps of 0.5, so the mean's own
    rounding leaves ~3e-4 of it; one pass would be off by a factor ~1e4)."""
    rng = np.random.default_rng(8)
    sizes = [3, 16, 16, 2]
    weights = [rng.standard_normal((2, i, o)).astype(dtype) * s for (i, o), s in
               zip(zip(sizes[:-1], sizes[1:]), (1e-6, 1.0, 1.0))]
    weights[1][1] = 0.0  # network 1, layer 2: every unit 0.5 whatever the input
    biases = [np.zeros((2, 1, o), dtype) for o in sizes[1:]]
    net = Network(weights, biases, ACTIVATIONS["sigmoid"])
    X = rng.standard_normal((40, 3)).astype(dtype)
    state = reference_forward(net, X)
    stats = layer_statistics(net, state, None, [rng.standard_normal(W.shape[1] + 1) for W in weights])
    act_std = stats[:, :, LAYER_STATS.index("act_std")]
    for layer, a in enumerate(state.activations[:2]):
        np.testing.assert_allclose(act_std[:, layer], a.astype(np.float64).std(axis=(1, 2)), rtol=rtol)
    assert 0 < act_std[0, 0] < 1e-5 and act_std[1, 1] == 0.0

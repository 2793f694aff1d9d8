"""The training loop: initialize K networks (LSUV too), train them at once, record, detect divergence."""

from __future__ import annotations

import threading
from typing import Callable, Iterable, Sequence

import numpy as np

from . import optimizers
from .activations import get_activation
from .config import LIMITS, Config
from .datasets import Dataset, load_dataset
from .diagnostics import HISTOGRAM_QUANTITIES, activation_bounds, histograms, layer_statistics
from .initializers import get_initializer, make_label, parse_entry
from .network import Network, backward, forward, loss_and_gradient
from .results import Records, Result, build_result
from .threads import blas_threads, cap_malloc_arenas, release_free_memory

# A loss above this is reported as an explosion: a million times the loss of guessing.
LOSS_BOUND = 1e6
GRID_SIZE = 40  # decision-boundary grid points per axis
LSUV_BATCH = 256  # examples LSUV measures variances on (Mishkin & Matas use one mini-batch)
# Runs that train at once in one process; the others wait their turn. A Streamlit server is one process
# for every visitor, on a fraction of a core: runs at once would not finish sooner, only hold more memory
# at once (a run may take ~300 MB within the limits; see docs/RELIABILITY.md and benchmarks/load.py).
MAX_CONCURRENT_RUNS = 1
_run_slots = threading.BoundedSemaphore(MAX_CONCURRENT_RUNS)
cap_malloc_arenas()  # a server's visitors' threads share two malloc arenas (see wil.threads)
PREDICT_CHUNK = 2**20  # values of one layer the decision-boundary grid is predicted in (8 MB in float64)

ProgressCallback = Callable[[float], None]
Entry = "str | tuple[str, dict]"


def train(config: Config, *, progress: ProgressCallback | None = None, diagnostics: bool = True) -> Result:
    """Train one network: ``config.initializer`` seeded with ``config.seed``."""
    return compare(config, [config.initializer], [config.seed], progress=progress, diagnostics=diagnostics)


def compare(config: Config, initializers: Sequence[Entry] | None = None, seeds: Iterable[int] | None = None,
            *, progress: ProgressCallback | None = None, diagnostics: bool = True) -> Result:
    """Train one network per (initializer, seed), all at once, on the same data and mini-batches.

    Parameters
    ----------
    config : the run; its ``compare`` (or ``initializer``) and ``seeds`` are the defaults below.
    initializers : entries, each a name, a ``(name, params)`` pair or a label ``"name(k=v)"``.
    seeds : the networks' seeds, shared by every initializer.
    progress : called with the fraction done, from 0 to 1.
    diagnostics : record per-layer statistics and histograms (off: losses and accuracies only).

    At most ``MAX_CONCURRENT_RUNS`` calls train at once in a process (a server's visitors share it);
    the others wait their turn, having reported progress 0.

    Returns
    -------
    Result with tidy frames; see ``wil.Result``.
    """
    labels = _labels(config.labels if initializers is None else initializers)
    seeds = _seeds(config.seeds if seeds is None else seeds)
    config.check_networks(len(labels) * len(seeds))
    if progress is not None:
        progress(0.0)  # before waiting for a slot, so a caller can show that its run is queued
    with _run_slots:
        data = load_dataset(config.dataset, config.n_samples, config.noise, config.seed)
        with np.errstate(all="ignore"), blas_threads(config, len(labels) * len(seeds), data.X_train.shape[0]):
            records = _run(config, data, labels, seeds, progress, diagnostics)
        result = build_result(config, data, records)
        del records, data
        release_free_memory()  # the run's arrays, and what other threads freed meanwhile
        return result


def _labels(entries) -> list[str]:
    if isinstance(entries, (str, bytes)) or not isinstance(entries, Sequence) or len(entries) == 0:
        raise ValueError(f"Invalid initializers: expected a non-empty list, got {entries!r}")
    labels = [make_label(*parse_entry(entry)) for entry in entries]
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    if repeated:
        raise ValueError(f"Invalid initializers: {repeated[0]!r} is listed twice")
    return labels


def _seeds(seeds) -> list[int]:
    seeds = list(seeds)
    low, high, _ = LIMITS["seed"]
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not low <= seed <= high:
            raise ValueError(f"Invalid seed {seed!r}: expected an integer in [0, {high}]")
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"Invalid seeds {seeds!r}: expected distinct integers, at least one")
    return [int(s) for s in seeds]


# ---------------------------------------------------------------- initialization

def initialize_networks(config: Config, data: Dataset, labels: list[str], seeds: list[int]) -> Network:
    """K = len(labels) x len(seeds) networks, label-major; each drawn from its own ``default_rng(seed)``,
    so a network's weights do not depend on what else is in the comparison. LSUV is finished on data."""
    activation = get_activation(config.activation)
    sizes = [data.n_features] + [config.width] * config.depth + [data.n_outputs]
    weights = [[] for _ in sizes[1:]]
    biases = [[] for _ in sizes[1:]]
    for label in labels:
        name, params = parse_entry(label)
        spec = get_initializer(name)
        for seed in seeds:
            rng = np.random.default_rng(seed)
            for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
                weights[layer].append(spec.sample(rng, fan_in, fan_out, params, config.activation))
                bias = np.zeros(fan_out) if spec.bias is None else spec.bias(
                    rng, fan_in, fan_out, params, config.activation)
                biases[layer].append(bias[None, :])
    dtype = np.dtype(config.dtype)
    net = Network([np.stack(w).astype(dtype) for w in weights],  # (K, fan_in, fan_out)
                  [np.stack(b).astype(dtype) for b in biases],  # (K, 1, fan_out)
                  activation)
    _finish_lsuv(net, data.X_train[:LSUV_BATCH].astype(dtype), labels, len(seeds))
    return net


def _finish_lsuv(net: Network, X: np.ndarray, labels: list[str], n_seeds: int) -> None:
    """Mishkin & Matas' LSUV for the networks whose initializer is ``lsuv``: layer by layer, divide the
    weights by the std of the layer's output on a batch until its variance is within ``tol`` of 1,
    then apply the entry's ``scale``."""
    entries = [parse_entry(label) for label in labels]
    is_lsuv = np.repeat([name == "lsuv" for name, _ in entries], n_seeds)  # (K,)
    if not is_lsuv.any():
        return
    tol = np.repeat([p.get("tol", 0.0) for _, p in entries], n_seeds)
    max_iter = np.repeat([p.get("max_iter", 0) for _, p in entries], n_seeds)
    scale = np.repeat([p["scale"] if name == "lsuv" else 1.0 for name, p in entries], n_seeds)
    a = X  # (n, d)
    for layer, (W, b) in enumerate(zip(net.weights, net.biases)):
        for iteration in range(int(max_iter.max())):
            variance = (np.matmul(a, W) + b).var(axis=(1, 2))  # (K,)
            todo = (is_lsuv & (iteration < max_iter) & (np.abs(variance - 1.0) >= tol)
                    & np.isfinite(variance) & (variance > 0))
            if not todo.any():
                break
            W *= np.where(todo, 1.0 / np.sqrt(np.where(todo, variance, 1.0)), 1.0)[:, None, None]
        z = np.matmul(a, W) + b  # (K, n, fan_out)
        a = z if layer == net.n_layers - 1 else net.activation.f(z)
    for W in net.weights:
        W *= np.where(is_lsuv, scale, 1.0)[:, None, None]


# ---------------------------------------------------------------- the loop

def _histogram_epochs(epochs: int) -> list[int]:
    """Epoch 0, the last, and three in between (10%, 30%, 60% of training)."""
    return sorted({0, epochs, *(int(round(epochs * f)) for f in (0.1, 0.3, 0.6))})


def _run(config: Config, data: Dataset, labels: list[str], seeds: list[int],
         progress: ProgressCallback | None, diagnostics: bool) -> Records:
    dtype = np.dtype(config.dtype)
    X_train, X_test = data.X_train.astype(dtype), data.X_test.astype(dtype)
    y_train = data.y_train if data.task == "classification" else data.y_train.astype(dtype)
    y_test = data.y_test if data.task == "classification" else data.y_test.astype(dtype)
    net = initialize_networks(config, data, labels, seeds)
    K, L, E = net.n_networks, net.n_layers, config.epochs
    records = Records.empty(labels, seeds, E, L, diagnostics, _histogram_epochs(E) if diagnostics else [])
    projections = [np.random.default_rng(layer).standard_normal(W.shape[1] + 1).astype(dtype)
                   for layer, W in enumerate(net.weights)]
    grid = _grid(data) if data.n_features == 2 else None
    state = optimizers.init(config.optimizer, net.parameters())
    shuffle_rng = np.random.default_rng([config.seed, 1])  # one mini-batch order for all K networks
    n_train = X_train.shape[0]
    full_batch = config.batch_size is None or config.batch_size >= n_train
    report_every = max(1, E // 100)

    for epoch in range(E + 1):
        # the full training set: the record of this epoch, and the gradient of a full-batch step
        need_grads = diagnostics or (full_batch and epoch < E)
        state_train = forward(net, X_train)
        loss, doutput, accuracy = loss_and_gradient(data.task, state_train.output, y_train)
        grads = backward(net, X_train, state_train, doutput) if need_grads else None
        records.history[:, epoch, 0] = np.stack([loss, accuracy], axis=1)
        if diagnostics:
            records.layers[:, epoch] = layer_statistics(net, state_train, grads[:L], projections)
            if epoch in records.histogram_epochs:
                _record_histograms(records, net, state_train, grads[:L], epoch, config.activation)
        test_loss, _, test_accuracy = loss_and_gradient(data.task, forward(net, X_test).output, y_test)
        records.history[:, epoch, 1] = np.stack([test_loss, test_accuracy], axis=1)
        if grid is not None and epoch in (0, E):
            records.grid[epoch] = _predict(net, grid, data.task)
        grad_ok = None if grads is None else _finite_grads(grads)
        _check_divergence(records, net, state, epoch, loss, grad_ok)
        if epoch == E:
            break
        if full_batch:
            state = optimizers.step(config.optimizer, net.parameters(), grads, state, config.learning_rate)
        else:
            state = _minibatch_epoch(config, data.task, net, state, X_train, y_train, shuffle_rng,
                                     records, epoch + 1)
        if progress is not None and (epoch + 1) % report_every == 0:
            progress(min((epoch + 1) / E, 1.0))
    records.grid_points = grid
    if progress is not None:
        progress(1.0)
    return records


def _minibatch_epoch(config, task, net, state, X, y, rng, records, epoch):
    """One pass over shuffled mini-batches; a batch whose loss explodes stops that network at ``epoch``."""
    order = rng.permutation(X.shape[0])
    for start in range(0, X.shape[0], config.batch_size):
        rows = order[start:start + config.batch_size]
        batch = forward(net, X[rows])
        loss, doutput, _ = loss_and_gradient(task, batch.output, y[rows])
        grads = backward(net, X[rows], batch, doutput)
        _check_divergence(records, net, state, epoch, loss, _finite_grads(grads), during_epoch=True)
        state = optimizers.step(config.optimizer, net.parameters(), grads, state, config.learning_rate)
    return state


def _finite_grads(grads: list[np.ndarray]) -> np.ndarray:
    """(K,) whether every gradient of a network is finite."""
    return np.logical_and.reduce([np.isfinite(g).all(axis=(1, 2)) for g in grads])


def _check_divergence(records: Records, net: Network, state, epoch: int, loss: np.ndarray,
                      grad_ok: np.ndarray | None, during_epoch: bool = False) -> None:
    """Mark networks whose loss or gradients blew up; freeze them (zero weights and optimizer buffers)."""
    alive = records.diverged_epoch < 0
    reasons = np.full(loss.shape, "", dtype=object)
    reasons[loss > LOSS_BOUND] = f"loss exploded past {LOSS_BOUND:g}"
    reasons[np.isinf(loss)] = "loss overflowed to infinity"
    reasons[np.isnan(loss)] = "loss became NaN"
    if grad_ok is not None:
        reasons[(reasons == "") & ~grad_ok] = "gradient overflowed (inf/NaN)"
    new = alive & (reasons != "")
    if not new.any():
        return
    for k in np.flatnonzero(new):
        where = f" during epoch {epoch}" if during_epoch else f" at epoch {epoch}"
        records.diverged_epoch[k] = epoch
        records.reason[k] = reasons[k] + where
        if during_epoch:
            records.stopped_mid_epoch[k] = True
            records.exploded_loss[k] = loss[k]
    for array in net.parameters():
        array[new] = 0.0
    optimizers.reset(state, new)


def _record_histograms(records, net, state, grad_weights, epoch, activation_name):
    bounds = activation_bounds(activation_name)
    for layer in range(net.n_layers):
        hidden = layer < net.n_layers - 1
        sources = {"activation": (state.activations[layer], bounds if hidden else None),
                   "preactivation": (state.preactivations[layer], None),
                   "weight": (net.weights[layer], None),
                   "gradient": (grad_weights[layer], None)}
        for quantity in HISTOGRAM_QUANTITIES:
            values, fixed = sources[quantity]
            records.histograms.append((epoch, layer + 1, quantity, *histograms(values, fixed)))


def _grid(data: Dataset) -> np.ndarray:
    """A GRID_SIZE x GRID_SIZE grid covering the data with a margin, (GRID_SIZE**2, 2)."""
    X = np.vstack([data.X_train, data.X_test])
    low, high = X.min(axis=0) - 0.5, X.max(axis=0) + 0.5
    x1, x2 = np.meshgrid(np.linspace(low[0], high[0], GRID_SIZE), np.linspace(low[1], high[1], GRID_SIZE))
    return np.column_stack([x1.ravel(), x2.ravel()])


def _outputs(net: Network, points: np.ndarray) -> np.ndarray:
    """The networks' outputs at ``points`` (m, d), (K, m, n_outputs), holding one layer of one chunk of
    points at a time: unlike ``forward``, nothing is kept for a backward pass, so the grid's memory
    stays near ``PREDICT_CHUNK`` values per layer however many networks and units there are."""
    K, width = net.n_networks, max(W.shape[2] for W in net.weights)
    chunk = max(1, PREDICT_CHUNK // (K * width))
    parts = []
    for start in range(0, points.shape[0], chunk):
        a = points[start:start + chunk]  # (m', d)
        for layer, (W, b) in enumerate(zip(net.weights, net.biases)):
            z = np.matmul(a, W)  # (K, m', fan_out)
            z += b
            a = z if layer == net.n_layers - 1 else net.activation.f(z)
        parts.append(a)
    return np.concatenate(parts, axis=1)  # (K, m, n_outputs)


def _predict(net: Network, points: np.ndarray, task: str) -> tuple[np.ndarray, np.ndarray]:
    """Predicted class (or value) and its probability (NaN for regression) at each point, (K, m) each."""
    output = _outputs(net, points.astype(net.weights[0].dtype))  # (K, m, n_outputs)
    if task != "classification":
        return output[:, :, 0], np.full(output.shape[:2], np.nan)
    shifted = output - output.max(axis=2, keepdims=True)
    probability = np.exp(shifted)
    probability /= probability.sum(axis=2, keepdims=True)
    return output.argmax(axis=2), probability.max(axis=2)


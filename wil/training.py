"""The training loop: initialize K networks (LSUV too), train them at once, record, detect divergence."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import numpy as np

from . import optimizers
from .activations import get_activation
from .config import LIMITS, Config
from .datasets import Dataset, load_dataset
from .diagnostics import (GRAD_NORM, HISTOGRAM_QUANTITIES, activation_bounds, gradient_norms, histograms,
                          layer_statistics)
from .initializers import get_initializer, make_label, parse_entry
from .network import Network, Stack, Workspace, backward_into, forward_into, loss_and_gradient, weight_runs
from .results import Records, Result, build_result
from .threads import Plan, blas_threads, cap_malloc_arenas, plan, release_free_memory

# A loss above this is reported as an explosion: a million times the loss of guessing.
LOSS_BOUND = 1e6
GRID_SIZE = 40  # decision-boundary grid points per axis
LSUV_BATCH = 256  # examples LSUV measures variances on (Mishkin & Matas use one mini-batch)
# Training examples whose activations and pre-activations the histograms bin: the first ones, a random
# sample (the split is shuffled), the same at every epoch. Binning costs as much as a layer product.
HISTOGRAM_ROWS = 256
# Runs that train at once in one process; the others wait their turn. A Streamlit server is one process
# for every visitor, on a fraction of a core: runs at once would not finish sooner, only hold more memory
# at once (a run may take ~300 MB within the limits; see docs/RELIABILITY.md and benchmarks/load.py).
MAX_CONCURRENT_RUNS = 1
_run_slots = threading.BoundedSemaphore(MAX_CONCURRENT_RUNS)
cap_malloc_arenas()  # a server's visitors' threads share two malloc arenas (see wil.threads)

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
        how = plan(len(labels) * len(seeds), config.width, config.depth, data.X_train.shape[0],
                   data.X_test.shape[0], config.batch_size)
        with np.errstate(all="ignore"), blas_threads(how.blas):
            records = _run(config, data, labels, seeds, progress, diagnostics, how)
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
    net = Network.stacked([np.stack(w).astype(dtype) for w in weights],  # (K, fan_in, fan_out)
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


class _Live:
    """A group of networks still training: their stacked parameters, optimizer state and pass buffers,
    and their indices among all K. A network that diverges is dropped, so it costs nothing afterwards
    (its frames end at its ``diverged_epoch``, so nothing it would compute later is ever reported)."""

    def __init__(self, net: Network, optimizer: str, max_rows: int, index: np.ndarray, row_parts: int = 1,
                 pool=None):
        self.net, self.optimizer, self.max_rows = net, optimizer, max_rows
        self.row_parts, self.pool = row_parts, pool  # see wil.network.Workspace
        self.index = index  # (K_live,) positions in the records
        self.state = optimizers.init(optimizer, [net.stack.flat])
        self.workspace = Workspace(net, max_rows, row_parts, pool)

    def drop(self, keep: np.ndarray) -> None:
        """Keep only the networks selected by the boolean mask ``keep`` (K_live,)."""
        self.net = self.net.take(keep)
        self.index = self.index[keep]
        self.state = optimizers.take(self.state, keep)
        self.workspace = Workspace(self.net, self.max_rows, self.row_parts, self.pool) if keep.any() else None

    def step(self, grads: np.ndarray, learning_rate: float) -> None:
        """One optimizer update from the (K_live, P) gradient, which it overwrites."""
        flat = self.net.stack.flat
        temporary = self.workspace.temporaries.get("optimizer", flat.shape, flat.dtype)
        self.state = optimizers.step_in_place(self.optimizer, [flat], [grads], self.state, learning_rate,
                                              [temporary])

    def finite(self, grads: Stack) -> np.ndarray:
        """(K_live,) whether every gradient of a network is finite."""
        mask = self.workspace.temporaries.get("finite", grads.flat.shape, bool)
        return np.isfinite(grads.flat, out=mask).all(axis=1)


@dataclass
class _Setting:
    """What every group of networks trains on: read-only, shared by the groups' threads."""

    config: Config
    task: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    projections: list[np.ndarray]
    grid: np.ndarray | None
    diagnostics: bool
    histogram_epochs: list[int]


class _Sink:
    """Histograms and decision-boundary grids from every group, gathered into (K, ...) arrays; rows of
    networks that were not live stay empty (never reported)."""

    def __init__(self, n_networks: int):
        self.n_networks, self.lock = n_networks, threading.Lock()
        self.histograms: dict[tuple, tuple] = {}
        self.grid: dict[int, tuple] = {}

    def put(self, store: dict, key, index: np.ndarray, arrays: tuple, fills: tuple) -> None:
        with self.lock:
            if key not in store:
                store[key] = tuple(np.full((self.n_networks,) + a.shape[1:], fill, a.dtype)
                                   for a, fill in zip(arrays, fills))
        for whole, part in zip(store[key], arrays):
            whole[index] = part  # groups write disjoint rows

    def finish(self, records: Records) -> None:
        order = {quantity: i for i, quantity in enumerate(HISTOGRAM_QUANTITIES)}
        for key in sorted(self.histograms, key=lambda k: (k[0], k[1], order[k[2]])):
            records.histograms.append((*key, *self.histograms[key]))
        records.grid.update(sorted(self.grid.items()))


def _run(config: Config, data: Dataset, labels: list[str], seeds: list[int],
         progress: ProgressCallback | None, diagnostics: bool, how: Plan = Plan(1, 1, 1, 1)) -> Records:
    """Train all networks as ``how`` says: with ``groups`` > 1, split into that many groups trained in
    parallel threads (the networks are independent; NumPy releases the GIL in its heavy calls); with
    ``row_parts`` > 1, each pass cut into blocks of rows, on ``threads`` threads."""
    dtype = np.dtype(config.dtype)
    net = initialize_networks(config, data, labels, seeds)
    K, L, E = net.n_networks, net.n_layers, config.epochs
    records = Records.empty(labels, seeds, E, L, diagnostics, _histogram_epochs(E) if diagnostics else [])
    X_train, X_test = data.X_train.astype(dtype), data.X_test.astype(dtype)
    setting = _Setting(
        config, data.task, X_train, data.y_train if data.task == "classification" else data.y_train.astype(dtype),
        X_test, data.y_test if data.task == "classification" else data.y_test.astype(dtype),
        [np.random.default_rng(layer).standard_normal(W.shape[1] + 1).astype(dtype)
         for layer, W in enumerate(net.weights)],
        _grid(data) if data.n_features == 2 else None, diagnostics, records.histogram_epochs)
    sink = _Sink(K)
    parts = [part for part in np.array_split(np.arange(K), how.groups) if len(part)]
    workers = max(len(parts), how.threads) - 1
    if workers == 0:
        _train(setting, net, parts[0], records, sink, progress, how.row_parts)
    else:
        from concurrent.futures import ThreadPoolExecutor  # here: it imports logging, slow for `import wil`

        with ThreadPoolExecutor(workers) as pool:
            if len(parts) == 1:  # one group, its row blocks on the pool
                _train(setting, net, parts[0], records, sink, progress, how.row_parts, pool)
            else:
                others = [pool.submit(_train, setting, net.take(part), part, records, sink, None)
                          for part in parts[1:]]
                _train(setting, net.take(parts[0]), parts[0], records, sink, progress)  # this thread reports
                for other in others:
                    other.result()
    sink.finish(records)
    records.grid_points = setting.grid
    if progress is not None:
        progress(1.0)
    return records


def _train(setting: _Setting, net: Network, index: np.ndarray, records: Records, sink: _Sink,
           progress: ProgressCallback | None, row_parts: int = 1, pool=None) -> None:
    """The epochs of one group of networks, ``index`` their positions among all K (passes cut into
    ``row_parts`` blocks of rows, run on ``pool``: see ``wil.network.Workspace``).

    The record of epoch e holds the state after e epochs: losses and activation statistics from a pass
    over the whole training set, and the gradient at those weights. In full-batch mode that gradient is
    the step's own. With mini-batches it is the gradient of the next step, on its mini-batch (after the
    last epoch, on the first mini-batch of an order drawn as for one more epoch): the gradient the
    optimizer actually uses, at no extra pass over the training set.
    """
    config, X_train = setting.config, setting.X_train
    E = config.epochs
    n_train = X_train.shape[0]
    full_batch = config.batch_size is None or config.batch_size >= n_train
    shuffle_rng = np.random.default_rng([config.seed, 1])  # one mini-batch order for all K networks
    report_every = max(1, E // 100)
    live = _Live(net, config.optimizer, max(n_train, setting.X_test.shape[0]), index, row_parts, pool)
    history = records.history
    with np.errstate(all="ignore"):  # per thread
        for epoch in range(E + 1):
            # the full training set: the record of this epoch, and the gradient of a full-batch step
            state_train = forward_into(live.net, X_train, live.workspace)
            loss, doutput, accuracy = loss_and_gradient(setting.task, state_train.output, setting.y_train)
            grads = None
            if full_batch and (setting.diagnostics or epoch < E):
                grads = backward_into(live.net, X_train, state_train, doutput, live.workspace)
            k = live.index
            history[k, epoch, 0, 0], history[k, epoch, 0, 1] = loss, accuracy
            if setting.diagnostics:
                records.layers[k, epoch] = layer_statistics(
                    live.net, state_train, grads, setting.projections, live.workspace.temporaries)
                if epoch in setting.histogram_epochs:
                    _record_histograms(sink, live, state_train.rows(HISTOGRAM_ROWS), grads, epoch,
                                       config.activation)
            # the test set, into the same buffers: the training pass is no longer needed
            test_output = forward_into(live.net, setting.X_test, live.workspace).output
            test_loss, _, test_accuracy = loss_and_gradient(setting.task, test_output, setting.y_test)
            history[k, epoch, 1, 0], history[k, epoch, 1, 1] = test_loss, test_accuracy
            if setting.grid is not None and epoch in (0, E):
                sink.put(sink.grid, epoch, live.index, _predict(live, setting.grid, setting.task), (0, np.nan))
            if setting.diagnostics and not full_batch and epoch == E:  # the gradient at the final weights
                rows = shuffle_rng.permutation(n_train)[:config.batch_size]
                grads = _batch_gradient(setting.task, live, X_train[rows], setting.y_train[rows])[1]
                _record_gradients(setting, records, sink, live, grads, epoch)
            grad_ok = None if grads is None else live.finite(grads)
            keep = _check_divergence(records, live, epoch, loss, grad_ok)
            if epoch == E or live.workspace is None:
                return
            if full_batch:
                live.step(grads.flat if keep is None else grads.flat[keep], config.learning_rate)
            else:
                _minibatch_epoch(setting, live, shuffle_rng, records, sink, epoch + 1)
                if live.workspace is None:
                    return
            if progress is not None and (epoch + 1) % report_every == 0:
                progress(min((epoch + 1) / E, 1.0))


def _batch_gradient(task: str, live: _Live, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, Stack]:
    """The loss (K_live,) and the gradient of the live networks on one batch (in the pass buffers)."""
    batch = forward_into(live.net, X, live.workspace)
    loss, doutput, _ = loss_and_gradient(task, batch.output, y)
    return loss, backward_into(live.net, X, batch, doutput, live.workspace)


def _minibatch_epoch(setting: _Setting, live: _Live, rng, records: Records, sink: _Sink, epoch: int):
    """One pass over shuffled mini-batches; a batch whose loss explodes stops that network at ``epoch``.
    With diagnostics, the first batch's gradient is the record of the previous epoch's gradient."""
    config, X, y = setting.config, setting.X_train, setting.y_train
    order = rng.permutation(X.shape[0])
    for start in range(0, X.shape[0], config.batch_size):
        rows = order[start:start + config.batch_size]
        loss, grads = _batch_gradient(setting.task, live, X[rows], y[rows])
        if start == 0 and setting.diagnostics:
            _record_gradients(setting, records, sink, live, grads, epoch - 1)
        keep = _check_divergence(records, live, epoch, loss, live.finite(grads), during_epoch=True)
        if live.workspace is None:
            return
        live.step(grads.flat if keep is None else grads.flat[keep], config.learning_rate)


def _record_gradients(setting: _Setting, records: Records, sink: _Sink, live: _Live, grads: Stack,
                      epoch: int) -> None:
    """The gradient's part of the record of ``epoch``: its norms and, at histogram epochs, its histogram."""
    records.layers[live.index, epoch, :, GRAD_NORM] = gradient_norms(live.net, grads, live.workspace.temporaries)
    if epoch in setting.histogram_epochs:
        _record_histograms(sink, live, None, grads, epoch, setting.config.activation, ("gradient",))


def _check_divergence(records: Records, live: _Live, epoch: int, loss: np.ndarray,
                      grad_ok: np.ndarray | None, during_epoch: bool = False) -> np.ndarray | None:
    """Mark networks whose loss or gradients blew up and drop them from ``live``.

    Returns the boolean mask of the live networks kept, or None if none blew up.
    """
    blown = ~(loss <= LOSS_BOUND) | np.isinf(loss)  # NaN fails the comparison
    if grad_ok is not None:
        blown |= ~grad_ok
    if not blown.any():
        return None
    reasons = np.full(loss.shape, "", dtype=object)
    reasons[loss > LOSS_BOUND] = f"loss exploded past {LOSS_BOUND:g}"
    reasons[np.isinf(loss)] = "loss overflowed to infinity"
    reasons[np.isnan(loss)] = "loss became NaN"
    if grad_ok is not None:
        reasons[(reasons == "") & ~grad_ok] = "gradient overflowed (inf/NaN)"
    where = f" during epoch {epoch}" if during_epoch else f" at epoch {epoch}"
    for local in np.flatnonzero(blown):
        k = live.index[local]
        records.diverged_epoch[k] = epoch
        records.reason[k] = reasons[local] + where
        if during_epoch:
            records.stopped_mid_epoch[k] = True
            records.exploded_loss[k] = loss[local]
    keep = ~blown
    live.drop(keep)
    return keep


def _record_histograms(sink: _Sink, live: _Live, state, grads: Stack | None, epoch: int, activation_name: str,
                       quantities: tuple[str, ...] = HISTOGRAM_QUANTITIES):
    """Histograms of every layer's ``quantities`` for the live networks of one group, those that ``state``
    (a pass) and ``grads`` hold; each call bins many layers at once (a row per layer and network)."""
    net = live.net
    K, depth = net.n_networks, net.n_layers - 1

    def runs(block):  # the weights (or their gradients) as (run, K, fan_in x fan_out) per run of layers
        return [(first, W.transpose(1, 0, 2, 3)) for first, W in weight_runs(block, net.sizes)]

    sources = {"weight": [(first, W, None) for first, W in runs(net.stack.weight_block)]}
    if state is not None:
        Z, A = state.hidden  # (depth, K, n, width)
        output = state.output[None]  # (1, K, n, n_outputs)
        sources["activation"] = [(0, A, activation_bounds(activation_name)), (depth, output, None)]
        sources["preactivation"] = [(0, Z, None), (depth, output, None)]
    if grads is not None:
        sources["gradient"] = [(first, W, None) for first, W in runs(grads.weight_block)]
    for quantity in quantities:
        for first, values, bounds in sources.get(quantity, ()):
            layers = values.shape[0]
            counts, left, right = histograms(values.reshape(layers * K, -1), bounds,
                                             scratch=live.workspace.temporaries)  # rows (layer, network)
            for g in range(layers):
                rows = slice(g * K, (g + 1) * K)
                sink.put(sink.histograms, (epoch, first + g + 1, quantity), live.index,
                         (counts[rows], left[rows], right[rows]), (0, np.nan, np.nan))


def _grid(data: Dataset) -> np.ndarray:
    """A GRID_SIZE x GRID_SIZE grid covering the data with a margin, (GRID_SIZE**2, 2)."""
    X = np.vstack([data.X_train, data.X_test])
    low, high = X.min(axis=0) - 0.5, X.max(axis=0) + 0.5
    x1, x2 = np.meshgrid(np.linspace(low[0], high[0], GRID_SIZE), np.linspace(low[1], high[1], GRID_SIZE))
    return np.column_stack([x1.ravel(), x2.ravel()])


def _predict(live: _Live, points: np.ndarray, task: str) -> tuple[np.ndarray, np.ndarray]:
    """Predicted class (or value) and its probability (NaN for regression) at each point, (K, m) each.

    The points go through the live networks' pass buffers a few hundred at a time (the epoch's passes
    are done with them): a plain ``forward`` keeps every layer's arrays, and fresh arrays of many MB
    cost page faults that take longer than the arithmetic.
    """
    net, workspace = live.net, live.workspace
    points = points.astype(net.weights[0].dtype)
    rows = workspace.output.shape[1]
    output = np.empty((net.n_networks, points.shape[0], net.sizes[-1]), points.dtype)  # (K, m, n_outputs)
    for start in range(0, points.shape[0], rows):
        output[:, start:start + rows] = forward_into(net, points[start:start + rows], workspace).output
    if task != "classification":
        return output[:, :, 0], np.full(output.shape[:2], np.nan)
    shifted = output - output.max(axis=2, keepdims=True)
    probability = np.exp(shifted)
    probability /= probability.sum(axis=2, keepdims=True)
    return output.argmax(axis=2), probability.max(axis=2)

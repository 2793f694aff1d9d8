"""What a run records while it trains: losses, per-layer statistics, histograms and decision boundaries,
into arrays that ``wil.analysis.result`` turns into tidy frames. Their shapes, and which epochs are
recorded, are ``wil.spec.layout``'s.

Histograms are binned once, here: at each recorded epoch, each layer of each network on its own range
(its smallest to its largest finite value), so that a signal 1e-8 times smaller keeps its shape and its
magnitude (the log-magnitude chart puts it eight decades to the left). A chart that compares layers or
networks on one axis re-bins by exact overlap (``wil.charts.histograms.rebin``): there a layer whose
signal shrank shows as a spike beside its wider neighbours, as in Glorot & Bengio's Figure 6.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field

import numpy as np

from wil.engine.cures import EVAL, run_forward
from wil.engine.model import Network, Pass
from wil.engine.statistics import gradient_norms, histograms
from wil.engine.workspace import Stack, Workspace, weight_runs
from wil.spec.layout import GRAD_NORM, GRID_SIZE, HISTOGRAM_QUANTITIES, LAYER_STATS


@dataclass
class Records:
    """Raw arrays the training loop fills in; ``wil.analysis.result.build_result`` turns them into frames."""

    labels: list[str]
    seeds: list[int]
    history: np.ndarray  # (K, epochs + 1, split [train, test], metric [loss, accuracy])
    layers: np.ndarray | None  # (K, epochs + 1, n_layers, len(LAYER_STATS))
    histogram_epochs: list[int]
    histograms: list = field(default_factory=list)  # (epoch, layer, quantity, counts, left, right)
    grid: dict = field(default_factory=dict)  # epoch -> (prediction (K, m), probability (K, m))
    grid_points: np.ndarray | None = None  # (m, 2)
    diverged_epoch: np.ndarray = None  # (K,) -1 if the network never diverged
    reason: list = None
    stopped_mid_epoch: np.ndarray = None  # (K,) diverged on a mini-batch, not on the epoch's record pass
    exploded_loss: np.ndarray = None  # (K,) the mini-batch loss that exploded
    stopped_epoch: int | None = None  # the last epoch trained when the caller stopped the run early
    grid_epochs: list[int] = field(default_factory=list)  # the epochs whose decision boundary is recorded
    scalars: np.ndarray | None = None  # (K, epochs + 1, blocks) residual blocks' alpha; None without residual
    # each live group's state at its last epoch (wil.engine.checkpoint.GroupState), by its key; None in a snapshot
    groups: dict | None = field(default_factory=dict)

    def snapshot(self, sink: "Sink", epoch: int) -> "Records":
        """A copy of these records as if the run had stopped after ``epoch``, with the histograms and grids
        the sink holds so far, for a live view while training goes on. The big arrays are shared, not
        copied: ``wil.analysis.result.build_result`` copies what it keeps, up to ``epoch``."""
        with sink.lock:
            histograms = [(*key, *(a.copy() for a in sink.histograms[key])) for key in sorted(
                sink.histograms, key=lambda k: (k[0], k[1], HISTOGRAM_QUANTITIES.index(k[2]))) if key[0] <= epoch]
            # a grid every group has put (the first view comes before epoch 0's: ``Sink.recorded``)
            complete = min(epoch, min(sink.done.values(), default=epoch))
            grid = {e: tuple(a.copy() for a in arrays) for e, arrays in sorted(sink.grid.items()) if e <= complete}
        return dataclasses.replace(self, histograms=histograms, grid=grid, stopped_epoch=epoch, groups=None,
                                   diverged_epoch=self.diverged_epoch.copy(), reason=list(self.reason),
                                   stopped_mid_epoch=self.stopped_mid_epoch.copy(),
                                   exploded_loss=self.exploded_loss.copy())

    @classmethod
    def empty(cls, labels, seeds, epochs, n_layers, diagnostics, histogram_epochs) -> "Records":
        K = len(labels) * len(seeds)
        layers = np.full((K, epochs + 1, n_layers, len(LAYER_STATS)), np.nan) if diagnostics else None
        return cls(labels, seeds, np.full((K, epochs + 1, 2, 2), np.nan), layers, histogram_epochs,
                   diverged_epoch=np.full(K, -1), reason=[""] * K, stopped_mid_epoch=np.zeros(K, bool),
                   exploded_loss=np.full(K, np.nan))


class Sink:
    """Histograms and decision-boundary grids from every group of networks, gathered into (K, ...) arrays;
    rows of networks that were not live stay empty (never reported). Groups run on threads: one lock."""

    def __init__(self, n_networks: int):
        self.n_networks, self.lock = n_networks, threading.Lock()
        self.histograms: dict[tuple, tuple] = {}
        self.grid: dict[int, tuple] = {}
        self.done: dict[int, int] = {}  # group -> the last epoch whose records are complete (wil.engine.train)
        # group -> the last epoch recorded but for its decision-boundary grid: the run's first live view
        # comes as soon as every group has recorded epoch 0, before the grid's pass (wil.engine.train)
        self.recorded: dict[int, int] = {}
        self.changed = threading.Condition(self.lock)  # notified when ``recorded`` changes
        self.blown_at_start = False  # a network blew up at epoch 0: no view before its divergence is marked

    def put(self, store: dict, key, index: np.ndarray, arrays: tuple, fills: tuple) -> None:
        with self.lock:
            if key not in store:
                store[key] = tuple(np.full((self.n_networks,) + a.shape[1:], fill, a.dtype)
                                   for a, fill in zip(arrays, fills))
        for whole, part in zip(store[key], arrays):
            whole[index] = part  # groups write disjoint rows

    def put_layers(self, store: dict, keys: list, index: np.ndarray, arrays: tuple, fills: tuple) -> None:
        """``put`` of ``arrays[i][g]`` under ``keys[g]`` for every g: the keys not stored yet get views of
        one array per component (a histogram epoch puts dozens of small arrays, and making each one
        cost more than binning it)."""
        with self.lock:
            missing = [key for key in keys if key not in store]
            if missing:
                blocks = [np.full((len(missing), self.n_networks) + a.shape[2:], fill, a.dtype)
                          for a, fill in zip(arrays, fills)]
                for g, key in enumerate(missing):
                    store[key] = tuple(block[g] for block in blocks)
        for g, key in enumerate(keys):
            for whole, part in zip(store[key], arrays):
                whole[index] = part[g]  # groups write disjoint rows

    def finish(self, records: Records) -> None:
        order = {quantity: i for i, quantity in enumerate(HISTOGRAM_QUANTITIES)}
        for key in sorted(self.histograms, key=lambda k: (k[0], k[1], order[k[2]])):
            records.histograms.append((*key, *self.histograms[key]))
        records.grid.update(sorted(self.grid.items()))


def record_gradients(records: Records, sink: Sink, net: Network, index: np.ndarray, grads: Stack,
                     workspace: Workspace, epoch: int, histogram: bool) -> None:
    """The gradient's part of the record of ``epoch``: its norms and, if ``histogram``, its histograms."""
    records.layers[index, epoch, :, GRAD_NORM] = gradient_norms(net, grads, workspace.temporaries)
    if histogram:
        record_histograms(sink, net, index, workspace, None, grads, epoch, ("gradient",))


def record_histograms(sink: Sink, net: Network, index: np.ndarray, workspace: Workspace, state: Pass | None,
                      grads: Stack | None, epoch: int, quantities: tuple[str, ...] = HISTOGRAM_QUANTITIES):
    """Histograms of every layer's ``quantities`` for the networks of one group (positions ``index``),
    those that ``state`` (a pass) and ``grads`` hold, each (layer, network) on its own range (see the
    module). Each source bins many layers at once: a row per (layer, network)."""
    K, depth = net.n_networks, net.n_layers - 1

    def runs(block):  # the weights (or their gradients) as one group: (run, K, fan_in x fan_out) per run of layers
        return [[(first, W.transpose(1, 0, 2, 3).reshape(W.shape[1], K, -1))
                 for first, W in weight_runs(block, net.sizes)]]

    def hidden_and_output(hidden):  # the hidden layers as one group, the linear output as another
        return [[(0, hidden.reshape(depth, K, -1))], [(depth, state.output.reshape(1, K, -1))]]

    # each quantity's values are made when it is binned, so that only one quantity's copies exist at once
    sources = {"weight": lambda: runs(net.stack.weight_block)}
    if state is not None:
        # (depth, K, n, width) each
        sources["activation"] = lambda: hidden_and_output(state.hidden[1])
        sources["preactivation"] = lambda: hidden_and_output(state.hidden[0])
    if grads is not None:
        sources["gradient"] = lambda: runs(grads.weight_block)
    for quantity in quantities:
        if quantity not in sources:
            continue
        for group in sources[quantity]():
            for first, values in group:
                layers = values.shape[0]
                binned = histograms(values.reshape(layers * K, -1), None,  # each row's own range
                                    scratch=workspace.temporaries)  # rows (layer, network)
                sink.put_layers(sink.histograms, [(epoch, first + g + 1, quantity) for g in range(layers)], index,
                                tuple(a.reshape(layers, K, -1) for a in binned), (0, np.nan, np.nan))


def grid_points(X_train: np.ndarray, X_test: np.ndarray) -> np.ndarray:
    """A GRID_SIZE x GRID_SIZE grid covering the data with a margin, (GRID_SIZE**2, 2)."""
    X = np.vstack([X_train, X_test])
    low, high = X.min(axis=0) - 0.5, X.max(axis=0) + 0.5
    x1, x2 = np.meshgrid(np.linspace(low[0], high[0], GRID_SIZE), np.linspace(low[1], high[1], GRID_SIZE))
    return np.column_stack([x1.ravel(), x2.ravel()])


def predict(net: Network, workspace: Workspace, points: np.ndarray, task: str) -> tuple[np.ndarray, np.ndarray]:
    """Predicted class (or value) and its probability (NaN for regression) at each point, (K, m) each.

    The points go through the pass buffers a few hundred at a time (the epoch's passes are done with
    them): fresh arrays of many MB cost page faults that take longer than the arithmetic.
    """
    points = points.astype(net.weights[0].dtype)
    rows = workspace.output.shape[1]
    output = np.empty((net.n_networks, points.shape[0], net.sizes[-1]), points.dtype)  # (K, m, n_outputs)
    for start in range(0, points.shape[0], rows):
        output[:, start:start + rows] = run_forward(net, points[start:start + rows], workspace, EVAL).output
    if task != "classification":
        return output[:, :, 0], np.full(output.shape[:2], np.nan)
    shifted = output - output.max(axis=2, keepdims=True)
    probability = np.exp(shifted)
    probability /= probability.sum(axis=2, keepdims=True)
    return output.argmax(axis=2), probability.max(axis=2)

"""The training loop: K networks trained at once, epoch after epoch, recorded as they go.

``run`` trains every network of a run (split into groups on threads when that pays, see
``wil.threads``); ``train_group`` is the epochs of one group. The record of epoch e holds the state after
e epochs: losses and activation statistics from a pass over the whole training set, and the gradient at
those weights. In full-batch mode that gradient is the step's own. With mini-batches it is the gradient
of the next step, on its mini-batch (after the last epoch, on the first mini-batch of an order drawn as
for one more epoch): the gradient the optimizer actually uses, at no extra pass over the training set.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from wil.engine.divergence import blown_up, mark_diverged
from wil.engine.statistics import layer_statistics
from wil.engine.draw import initialize_networks
from wil.engine.model import Network, Stack, Workspace, backward, forward, loss_and_gradient
from wil.spec.optimizers import get_optimizer, take
from wil.engine.record import (HISTOGRAM_ROWS, Records, Sink, grid_epochs, grid_points, histogram_epochs, predict,
                        record_gradients, record_histograms)
from wil.engine.threads import Plan


class StopTraining(Exception):
    """Raised by a ``progress`` callback to end a run early: the result keeps every epoch trained so far."""


class _Live:
    """A group of networks still training: their stacked parameters, optimizer state and pass buffers,
    and their indices among all K. A network that diverges is dropped, so it costs nothing afterwards
    (its frames end at its ``diverged_epoch``, so nothing it would compute later is ever reported)."""

    def __init__(self, net: Network, optimizer: str, max_rows: int, index: np.ndarray, row_parts: int = 1,
                 pool=None):
        self.net, self.optimizer, self.max_rows = net, get_optimizer(optimizer), max_rows
        self.row_parts, self.pool = row_parts, pool  # see wil.engine.model.Workspace
        self.index = index  # (K_live,) positions in the records
        self.state = self.optimizer.init(net.stack.flat)
        self.workspace = Workspace(net, max_rows, row_parts, pool)

    def drop(self, keep: np.ndarray) -> None:
        """Keep only the networks selected by the boolean mask ``keep`` (K_live,)."""
        self.net = self.net.take(keep)
        self.index = self.index[keep]
        self.state = take(self.state, keep)
        self.workspace = Workspace(self.net, self.max_rows, self.row_parts, self.pool) if keep.any() else None

    def step(self, grads: np.ndarray, learning_rate: float) -> None:
        """One optimizer update from the (K_live, P) gradient, which it overwrites."""
        flat = self.net.stack.flat
        scratch = self.workspace.temporaries.get("optimizer", flat.shape, flat.dtype)
        self.state = self.optimizer.update(flat, grads, self.state, learning_rate, scratch)

    def finite(self, grads: Stack) -> np.ndarray:
        """(K_live,) whether every gradient of a network is finite."""
        mask = self.workspace.temporaries.get("finite", grads.flat.shape, bool)
        return np.isfinite(grads.flat, out=mask).all(axis=1)


@dataclass
class _Setting:
    """What every group of networks trains on: read-only, shared by the groups' threads."""

    config: object  # wil.Config
    task: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    projections: list[np.ndarray]
    grid: np.ndarray | None
    diagnostics: bool
    histogram_epochs: list[int]
    stop: threading.Event
    grid_epochs: tuple[int, ...] = ()
    live: Callable[[Records], None] | None = None  # given a snapshot of the records now and then
    live_every: float = 0.3  # seconds between two calls of ``live``


def run(config, data, labels: list[str], seeds: list[int], progress: Callable[[float], None] | None,
        diagnostics: bool, how: Plan = Plan(1, 1, 1, 1), *, live: Callable[[Records], None] | None = None,
        live_every: float = 0.3, snapshots: int | None = None) -> Records:
    """Train all networks as ``how`` says: with ``groups`` > 1, split into that many groups trained in
    parallel threads (the networks are independent; NumPy releases the GIL in its heavy calls); every pass
    cut into ``row_parts`` blocks of rows, run on ``threads`` threads. ``progress`` may raise
    ``StopTraining`` to end every group after the epoch it is in.

    ``live``, if given, is called from the first group's thread with ``Records.snapshot`` (the records up
    to the epoch just trained) at most every ``live_every`` seconds, and may raise ``StopTraining`` too.
    ``snapshots``: the number of epochs whose histograms and decision boundary are recorded
    (``histogram_epochs``; default five histograms, two boundaries)."""
    dtype = np.dtype(config.dtype)
    net = initialize_networks(config, data, labels, seeds)
    K, L, E = net.n_networks, net.n_layers, config.epochs
    records = Records.empty(labels, seeds, E, L, diagnostics, histogram_epochs(E, snapshots) if diagnostics else [])
    records.grid_epochs = grid_epochs(E, snapshots)
    classification = data.task == "classification"
    setting = _Setting(
        config, data.task, data.X_train.astype(dtype),
        data.y_train if classification else data.y_train.astype(dtype), data.X_test.astype(dtype),
        data.y_test if classification else data.y_test.astype(dtype),
        [np.random.default_rng(layer).standard_normal(W.shape[1] + 1).astype(dtype)
         for layer, W in enumerate(net.weights)],
        grid_points(data.X_train, data.X_test) if data.n_features == 2 else None, diagnostics,
        records.histogram_epochs, threading.Event(), tuple(records.grid_epochs), live, live_every)
    sink = Sink(K)
    records.grid_points = setting.grid
    parts = [part for part in np.array_split(np.arange(K), how.groups) if len(part)]
    sink.done = {int(part[0]): -1 for part in parts}  # every group, before any starts (live snapshots)
    workers = max(len(parts), how.threads) - 1
    if workers == 0:
        train_group(setting, net, parts[0], records, sink, progress, how.row_parts)
    else:
        from concurrent.futures import ThreadPoolExecutor  # here: it imports logging, slow for `import wil`

        with ThreadPoolExecutor(workers) as pool:
            if len(parts) == 1:  # one group, its row blocks on the pool
                train_group(setting, net, parts[0], records, sink, progress, how.row_parts, pool)
            else:
                others = [pool.submit(train_group, setting, net.take(part), part, records, sink, None,
                                      how.row_parts) for part in parts[1:]]
                try:
                    train_group(setting, net.take(parts[0]), parts[0], records, sink, progress, how.row_parts)
                finally:
                    for other in others:
                        other.result()
    sink.finish(records)
    if progress is not None and records.stopped_epoch is None:
        progress(1.0)
    return records


def train_group(setting: _Setting, net: Network, index: np.ndarray, records: Records, sink: Sink,
                progress: Callable[[float], None] | None, row_parts: int = 1, pool=None) -> None:
    """The epochs of one group of networks, ``index`` their positions among all K (passes cut into
    ``row_parts`` blocks of rows, run on ``pool``: see ``wil.engine.model.Workspace``)."""
    config, E = setting.config, setting.config.epochs
    shuffle_rng = np.random.default_rng([config.seed, 1])  # one mini-batch order for all K networks
    report_every = max(1, E // 100)
    live_clock = [time.perf_counter()]  # when ``live`` was last called
    live = _Live(net, config.optimizer, max(setting.X_train.shape[0], setting.X_test.shape[0]), index, row_parts,
                 pool)
    group = int(index[0])
    sink.done.setdefault(group, -1)
    try:
        _epochs(setting, live, group, records, sink, progress, live_clock, shuffle_rng, report_every)
    finally:
        sink.done[group] = E  # a group that is over never holds a snapshot back


def _epochs(setting: _Setting, live: _Live, group: int, records: Records, sink: Sink, progress, live_clock: list,
            shuffle_rng, report_every: int) -> None:
    """The epochs of ``train_group``, recording in ``sink.done[group]`` the last epoch whose records are
    complete (live snapshots and a stopped run end at the slowest group's)."""
    config, X_train = setting.config, setting.X_train
    E, n_train = config.epochs, X_train.shape[0]
    full_batch = config.batch_size is None or config.batch_size >= n_train
    history = records.history
    with np.errstate(all="ignore"):  # per thread
        for epoch in range(E + 1):
            # the full training set: the record of this epoch, and the gradient of a full-batch step
            state_train = forward(live.net, X_train, live.workspace)
            loss, doutput, accuracy = loss_and_gradient(setting.task, state_train.output, setting.y_train)
            grads = None
            stopping = setting.stop.is_set()
            last = epoch == E or stopping
            if full_batch and (setting.diagnostics or not last):
                grads = backward(live.net, X_train, state_train, doutput, live.workspace)
            k = live.index
            history[k, epoch, 0, 0], history[k, epoch, 0, 1] = loss, accuracy
            if setting.diagnostics:
                records.layers[k, epoch] = layer_statistics(
                    live.net, state_train, grads, setting.projections, live.workspace.temporaries)
                if epoch in setting.histogram_epochs or stopping:
                    record_histograms(sink, live.net, k, live.workspace, state_train.rows(HISTOGRAM_ROWS), grads,
                                      epoch)
            # the test set, into the same buffers: the training pass is no longer needed
            test_output = forward(live.net, setting.X_test, live.workspace).output
            test_loss, _, test_accuracy = loss_and_gradient(setting.task, test_output, setting.y_test)
            history[k, epoch, 1, 0], history[k, epoch, 1, 1] = test_loss, test_accuracy
            if setting.grid is not None and (epoch in setting.grid_epochs or stopping):
                sink.put(sink.grid, epoch, k, predict(live.net, live.workspace, setting.grid, setting.task),
                         (0, np.nan))
            if setting.diagnostics and not full_batch and last:  # the gradient at the final weights
                rows = shuffle_rng.permutation(n_train)[:config.batch_size]
                grads = _batch_gradient(setting.task, live, X_train[rows], setting.y_train[rows])[1]
                record_gradients(records, sink, live.net, k, grads, live.workspace, epoch,
                                 epoch in setting.histogram_epochs or stopping)
            keep = _check_divergence(records, live, epoch, loss, None if grads is None else live.finite(grads))
            if last or live.workspace is None:
                if stopping:  # groups on threads stop at their own epochs: the run ends at the earliest
                    with sink.lock:
                        records.stopped_epoch = epoch if records.stopped_epoch is None else min(
                            records.stopped_epoch, epoch)
                return
            if full_batch:
                live.step(grads.flat if keep is None else grads.flat[keep], config.learning_rate)
            else:
                _minibatch_epoch(setting, live, shuffle_rng, records, sink, epoch + 1)
                if live.workspace is None:
                    return
            sink.done[group] = epoch
            if progress is not None and (epoch + 1) % report_every == 0:
                try:
                    progress(min((epoch + 1) / E, 1.0))
                except StopTraining:
                    setting.stop.set()  # every group records this next epoch as its last
            # a live view: only the group that reports progress, after the epoch's records are complete
            if setting.live is not None and progress is not None and epoch < E - 1 and not setting.stop.is_set() \
                    and time.perf_counter() - live_clock[0] >= setting.live_every:
                complete = min(sink.done.values())  # the slowest group's last complete epoch
                if complete >= 0:
                    try:
                        setting.live(records.snapshot(sink, complete))
                    except StopTraining:
                        setting.stop.set()
                live_clock[0] = time.perf_counter()


def _batch_gradient(task: str, live: _Live, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, Stack]:
    """The loss (K_live,) and the gradient of the live networks on one batch (in the pass buffers)."""
    batch = forward(live.net, X, live.workspace)
    loss, doutput, _ = loss_and_gradient(task, batch.output, y)
    return loss, backward(live.net, X, batch, doutput, live.workspace)


def _minibatch_epoch(setting: _Setting, live: _Live, rng, records: Records, sink: Sink, epoch: int):
    """One pass over shuffled mini-batches; a batch whose loss explodes stops that network at ``epoch``.
    With diagnostics, the first batch's gradient is the record of the previous epoch's gradient."""
    config, X, y = setting.config, setting.X_train, setting.y_train
    order = rng.permutation(X.shape[0])
    for start in range(0, X.shape[0], config.batch_size):
        rows = order[start:start + config.batch_size]
        loss, grads = _batch_gradient(setting.task, live, X[rows], y[rows])
        if start == 0 and setting.diagnostics:
            record_gradients(records, sink, live.net, live.index, grads, live.workspace, epoch - 1,
                             epoch - 1 in setting.histogram_epochs)
        keep = _check_divergence(records, live, epoch, loss, live.finite(grads), during_epoch=True)
        if live.workspace is None:
            return
        live.step(grads.flat if keep is None else grads.flat[keep], config.learning_rate)


def _check_divergence(records: Records, live: _Live, epoch: int, loss: np.ndarray, grad_ok: np.ndarray | None,
                      during_epoch: bool = False) -> np.ndarray | None:
    """Mark networks whose loss or gradients blew up and drop them from ``live``.

    Returns the boolean mask of the live networks kept, or None if none blew up.
    """
    blown, reasons = blown_up(loss, grad_ok)
    if not blown.any():
        return None
    mark_diverged(records, live.index, epoch, loss, blown, reasons, during_epoch)
    keep = ~blown
    live.drop(keep)
    return keep

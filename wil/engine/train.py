"""The training loop: K networks trained at once, epoch after epoch, recorded as they go.

``run`` trains every network of a run (split into groups on threads when that pays, see
``wil.engine.threads``); ``train_group`` is the epochs of one group. The record of epoch e holds the state
after e epochs: losses and activation statistics from a pass over the whole training set, and the gradient
at those weights. In full-batch mode that gradient is the step's own. With mini-batches it is the gradient
of the next step, on its mini-batch (after the last epoch, on the first mini-batch of an order drawn as
for one more epoch): the gradient the optimizer actually uses, at no extra pass over the training set.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from wil.engine.divergence import blown_up
from wil.engine.draw import initialize_networks
from wil.engine.cures import EVAL, TRAIN, UPDATE, run_backward, run_forward
from wil.engine.live import Live, batch_gradient, check_divergence
from wil.engine.model import Network, loss_and_gradient
from wil.engine.record import Records, Sink, grid_points, predict, record_gradients, record_histograms
from wil.engine.statistics import layer_statistics
from wil.engine.threads import Plan
from wil.engine.workspace import Stack
from wil.spec.layout import HISTOGRAM_ROWS, grid_epochs, histogram_epochs
from wil.engine.checkpoint import Checkpoint, GroupState


FIRST_VIEW_WAIT = 1.0  # seconds the first group waits for the others' epoch 0 before the first live view


class StopTraining(Exception):
    """Raised by a ``progress`` callback to end a run early: the result keeps every epoch trained so far."""


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
    live_spacing: float = 0.0  # and at least this many times the last call's cost (``live_share``)


def run(config, data, labels: list[str], seeds: list[int], progress: Callable[[float], None] | None,
        diagnostics: bool, how: Plan = Plan(1, 1, 1, 1), *, live: Callable[[Records], None] | None = None,
        live_every: float = 0.3, live_share: float | None = None, snapshots: int | None = None) -> Records:
    """Train all networks as ``how`` says: with ``groups`` > 1, split into that many groups trained in
    parallel threads (the networks are independent; NumPy releases the GIL in its heavy calls); every pass
    cut into ``row_parts`` blocks of rows, run on ``threads`` threads. ``progress`` may raise
    ``StopTraining`` to end every group after the epoch it is in.

    ``live``, if given, is called from the first group's thread with ``Records.snapshot`` (the records up
    to the epoch just trained) at most every ``live_every`` seconds (and, with ``live_share``, so that the
    calls take at most that share of the first group's time), and may raise ``StopTraining`` too. The first
    call comes as soon as every group has recorded epoch 0, before that epoch's decision-boundary grid
    (``Sink.recorded``): its snapshot has no grid yet.
    ``snapshots``: the number of epochs whose histograms and decision boundary are recorded
    (``wil.spec.layout.histogram_epochs``; default five histograms, two boundaries)."""
    net = initialize_networks(config, data, labels, seeds)
    K, L, E = net.n_networks, net.n_layers, config.epochs
    records = Records.empty(labels, seeds, E, L, diagnostics, histogram_epochs(E, snapshots) if diagnostics else [])
    records.grid_epochs = grid_epochs(E, snapshots)
    if getattr(net.stack, "alphas", None) is not None:  # residual blocks: their scalars, epoch by epoch
        records.scalars = np.full((K, E + 1, net.stack.alphas.shape[1]), np.nan)
    setting = _setting(config, data, net, records, diagnostics, live, live_every, live_share)
    records.grid_points = setting.grid
    parts = [part for part in np.array_split(np.arange(K), how.groups) if len(part)]
    nets = [net] if len(parts) == 1 else [net.take(part) for part in parts]
    return _run_groups(setting, records, Sink(K), nets, parts, [None] * len(parts), progress, how)


def resume_run(checkpoint: Checkpoint, config, data, progress: Callable[[float], None] | None, *,
               live: Callable[[Records], None] | None = None, live_every: float = 0.3,
               live_share: float | None = None) -> Records:
    """Continue the run ``checkpoint`` holds up to ``config.epochs`` (its configuration but the epochs): each
    live group from its last epoch, with its optimizer state and mini-batch stream, as ``run`` would have."""
    records, sink = checkpoint.extended(config.epochs)
    nets = [group.network(config) for group in checkpoint.groups]
    setting = _setting(config, data, nets[0], records, checkpoint.diagnostics, live, live_every, live_share)
    return _run_groups(setting, records, sink, nets, [group.index for group in checkpoint.groups],
                       checkpoint.groups, progress, checkpoint.how)


def _run_groups(setting: _Setting, records: Records, sink: Sink, nets: list[Network], parts: list[np.ndarray],
                starts: list[GroupState | None], progress, how: Plan) -> Records:
    """Train the groups of networks ``nets`` (positions ``parts``), each from its start (None: epoch 0)."""
    # every group, before any starts (live snapshots)
    sink.done = {int(part[0]): -1 if start is None else start.epoch - 1 for part, start in zip(parts, starts)}
    sink.recorded = dict(sink.done)
    _train_groups(setting, nets, parts, starts, records, sink, progress, how)
    sink.finish(records)
    if progress is not None and records.stopped_epoch is None:
        progress(1.0)
    return records


def _setting(config, data, net: Network, records: Records, diagnostics: bool, live, live_every: float,
             live_share: float | None = None) -> _Setting:
    """What every group trains on: the data in the run's dtype, the projections that count distinct units,
    the decision-boundary grid (two features only) and the recorded epochs."""
    dtype = np.dtype(config.dtype)
    classification = data.task == "classification"
    return _Setting(
        config, data.task, data.X_train.astype(dtype),
        data.y_train if classification else data.y_train.astype(dtype), data.X_test.astype(dtype),
        data.y_test if classification else data.y_test.astype(dtype),
        [np.random.default_rng(layer).standard_normal(W.shape[1] + 1).astype(dtype)
         for layer, W in enumerate(net.weights)],
        grid_points(data.X_train, data.X_test) if data.n_features == 2 else None, diagnostics,
        records.histogram_epochs, threading.Event(), tuple(records.grid_epochs), live, live_every,
        0.0 if live_share is None else (1.0 - live_share) / live_share)


def _train_groups(setting: _Setting, nets: list[Network], parts: list[np.ndarray], starts: list, records: Records,
                  sink: Sink, progress: Callable[[float], None] | None, how: Plan) -> None:
    """Train the groups ``parts`` (positions among all K): the first on this thread, which alone reports
    ``progress``, the others on a pool; a single group's row blocks on the pool when ``how`` has threads."""
    workers = max(len(parts), how.threads) - 1
    if workers == 0:
        train_group(setting, nets[0], parts[0], records, sink, progress, how.row_parts, start=starts[0])
        return
    from concurrent.futures import ThreadPoolExecutor  # here: it imports logging, slow for `import wil`

    with ThreadPoolExecutor(workers) as pool:
        if len(parts) == 1:  # one group, its row blocks on the pool
            train_group(setting, nets[0], parts[0], records, sink, progress, how.row_parts, pool, starts[0])
            return
        others = [pool.submit(train_group, setting, net, part, records, sink, None, how.row_parts, None, start)
                  for net, part, start in zip(nets[1:], parts[1:], starts[1:])]
        try:
            train_group(setting, nets[0], parts[0], records, sink, progress, how.row_parts, start=starts[0])
        finally:
            for other in others:
                other.result()


def train_group(setting: _Setting, net: Network, index: np.ndarray, records: Records, sink: Sink,
                progress: Callable[[float], None] | None, row_parts: int = 1, pool=None,
                start: GroupState | None = None) -> None:
    """The epochs of one group of networks, ``index`` their positions among all K (passes cut into
    ``row_parts`` blocks of rows, run on ``pool``: see ``wil.engine.workspace.Workspace``), from epoch 0 or
    from ``start``, the group as a run left it."""
    config, E = setting.config, setting.config.epochs
    shuffle_rng = np.random.default_rng([config.seed, 1])  # one mini-batch order for all K networks
    if start is not None:
        shuffle_rng.bit_generator.state = start.shuffle
    live = Live(net, config.optimizer, max(setting.X_train.shape[0], setting.X_test.shape[0]), index, row_parts,
                 pool, None if start is None else start.optimizer_state())
    group = _Group(setting, live, records, sink, progress, key=int(index[0]), shuffle_rng=shuffle_rng,
                   full_batch=config.batch_size is None or config.batch_size >= setting.X_train.shape[0],
                   report_every=max(1, E // 100), live_next=time.perf_counter())  # a first view at once
    sink.done.setdefault(group.key, -1)
    try:
        with np.errstate(all="ignore"):  # per thread
            if start is not None and start.epoch >= E:  # nothing more to train
                records.groups[group.key] = start
            elif start is None or group.resume(start.epoch):
                for epoch in range(0 if start is None else start.epoch + 1, E + 1):
                    if not group.epoch(epoch):
                        break
    finally:
        sink.done[group.key] = E  # a group that is over never holds a snapshot back
        group.mark_recorded(E)


@dataclass
class _Group:
    """One group of networks in training, and what its epochs share. ``epoch`` records an epoch and trains
    the next, recording in ``sink.done[key]`` the last epoch whose records are complete (live snapshots
    and a stopped run end at the slowest group's)."""

    setting: _Setting
    live: Live
    records: Records
    sink: Sink
    progress: Callable[[float], None] | None  # only the first group's; None on the others
    key: int  # the group's key in ``sink.done``: its first network's position among all K
    shuffle_rng: np.random.Generator
    full_batch: bool
    report_every: int  # epochs between two calls of ``progress``
    live_next: float  # when ``setting.live`` may be called next (time.perf_counter())

    def epoch(self, epoch: int) -> bool:
        """Record ``epoch`` (the state after that many epochs), then train one more; False when this
        group is done (the last epoch, a stop, or every network diverged)."""
        setting, live = self.setting, self.live
        # the full training set: the record of this epoch, and the gradient of a full-batch step (whose pass
        # updates BatchNorm's running statistics; the record pass between mini-batch epochs does not)
        state_train = run_forward(live.net, setting.X_train, live.workspace, UPDATE if self.full_batch else TRAIN)
        loss, doutput, accuracy = loss_and_gradient(setting.task, state_train.output, setting.y_train)
        stopping = setting.stop.is_set()
        last = epoch == setting.config.epochs or stopping
        shuffle = self.shuffle_rng.bit_generator.state if last else None  # before the final gradient's draw
        grads = None
        if self.full_batch and (setting.diagnostics or not last):
            grads = run_backward(live.net, setting.X_train, state_train, doutput, live.workspace)
        self._record_train(epoch, state_train, loss, accuracy, grads, stopping)
        self._record_test(epoch)
        if epoch == 0:
            self._first_view(blown_up(loss, None if grads is None else live.finite(grads))[0].any())
        self._record_grid(epoch, stopping)
        if setting.diagnostics and not self.full_batch and last:
            grads = self._final_gradient(epoch, stopping)
        keep = check_divergence(self.records, live, epoch, loss, None if grads is None else live.finite(grads))
        if last or live.workspace is None:
            if stopping:
                self._record_stop(epoch)
            if live.workspace is not None:  # what ``wil.resume`` continues from
                self.records.groups[self.key] = GroupState.capture(live.net, live.index, epoch, live.state, shuffle)
            return False
        return self._step(epoch, grads, keep)

    def resume(self, epoch: int) -> bool:
        """Train the epoch after ``epoch``, whose record the run being continued holds, as ``epoch`` does;
        False if every network diverged. In full batch the step's gradient is computed again, in a pass that
        leaves BatchNorm's running statistics as the record pass left them."""
        setting, live, grads, keep = self.setting, self.live, None, None
        if self.full_batch:
            loss, grads = batch_gradient(setting.task, live, setting.X_train, setting.y_train, TRAIN)
            keep = check_divergence(self.records, live, epoch, loss, live.finite(grads))
            if live.workspace is None:
                return False
        return self._step(epoch, grads, keep)

    def _step(self, epoch: int, grads, keep) -> bool:
        """The update after ``epoch``'s record, then the epoch marked done and reported; False if every
        network diverged."""
        if not self._train(epoch, grads, keep):
            return False
        self.sink.done[self.key] = epoch
        self._report(epoch)
        return True

    def _record_train(self, epoch: int, state, loss: np.ndarray, accuracy: np.ndarray, grads: Stack | None,
                      stopping: bool) -> None:
        """The training set's losses and, with diagnostics, the layer statistics and histograms of ``epoch``."""
        setting, live, records, k = self.setting, self.live, self.records, self.live.index
        records.history[k, epoch, 0, 0], records.history[k, epoch, 0, 1] = loss, accuracy
        if records.scalars is not None:
            records.scalars[k, epoch] = live.net.stack.alphas  # (K_live, blocks)
        if not setting.diagnostics:
            return
        records.layers[k, epoch] = layer_statistics(live.net, state, grads, setting.projections,
                                                    live.workspace.temporaries)
        if epoch in setting.histogram_epochs or stopping:
            record_histograms(self.sink, live.net, k, live.workspace, state.rows(HISTOGRAM_ROWS), grads, epoch)

    def _record_test(self, epoch: int) -> None:
        """The test set's losses of ``epoch``."""
        setting, live, k = self.setting, self.live, self.live.index
        # the test set, into the same buffers: the training pass is no longer needed
        test_output = run_forward(live.net, setting.X_test, live.workspace, EVAL).output
        test_loss, _, test_accuracy = loss_and_gradient(setting.task, test_output, setting.y_test)
        self.records.history[k, epoch, 1, 0], self.records.history[k, epoch, 1, 1] = test_loss, test_accuracy

    def mark_recorded(self, epoch: int) -> None:
        """Every record of ``epoch`` but its decision-boundary grid is in (``Sink.recorded``)."""
        with self.sink.changed:
            self.sink.recorded[self.key] = epoch
            self.sink.changed.notify_all()

    def _first_view(self, blown: bool) -> None:
        """The run's first live view, of epoch 0, as soon as every group has recorded it and before the
        decision-boundary grid's pass (at width 512 that pass alone takes ~0.4 s): the first group waits
        up to ``FIRST_VIEW_WAIT`` seconds for the others (groups are of one size: they arrive together).
        ``blown``: a network of this group blew up at epoch 0; its divergence is marked only after the grid,
        so then no group sends this early view (the usual one, after the epoch, shows it diverged)."""
        setting, sink = self.setting, self.sink
        with sink.changed:
            sink.blown_at_start |= blown
        self.mark_recorded(0)
        if self.progress is None or setting.live is None or setting.stop.is_set():
            return
        with sink.changed:
            ready = sink.changed.wait_for(lambda: min(sink.recorded.values()) >= 0, timeout=FIRST_VIEW_WAIT)
            ready = ready and not sink.blown_at_start
        if ready:
            self._view(0)

    def _view(self, epoch: int) -> None:
        """A live view of the records up to ``epoch``; the next one after ``live_every`` seconds, or, with a
        live_share, after (1 - share) / share times what this one cost (its snapshot, the Result built from
        it, the caller's use of it) if that is longer."""
        setting, start = self.setting, time.perf_counter()
        try:
            setting.live(self.records.snapshot(self.sink, epoch))
        except StopTraining:
            setting.stop.set()
        now = time.perf_counter()
        self.live_next = now + max(setting.live_every, setting.live_spacing * (now - start))

    def _record_grid(self, epoch: int, stopping: bool) -> None:
        """At the grid's epochs, the decision boundary."""
        setting, live, k = self.setting, self.live, self.live.index
        if setting.grid is not None and (epoch in setting.grid_epochs or stopping):
            self.sink.put(self.sink.grid, epoch, k, predict(live.net, live.workspace, setting.grid, setting.task),
                          (0, np.nan))

    def _final_gradient(self, epoch: int, stopping: bool) -> Stack:
        """With mini-batches, the gradient at the final weights: on the first batch of one more epoch's order."""
        setting, live = self.setting, self.live
        rows = self.shuffle_rng.permutation(setting.X_train.shape[0])[:setting.config.batch_size]
        grads = batch_gradient(setting.task, live, setting.X_train[rows], setting.y_train[rows], TRAIN)[1]
        record_gradients(self.records, self.sink, live.net, live.index, grads, live.workspace, epoch,
                         epoch in setting.histogram_epochs or stopping)
        return grads

    def _record_stop(self, epoch: int) -> None:
        """Groups on threads stop at their own epochs: the run ends at the earliest."""
        with self.sink.lock:
            stopped = self.records.stopped_epoch
            self.records.stopped_epoch = epoch if stopped is None else min(stopped, epoch)

    def _train(self, epoch: int, grads: Stack | None, keep: np.ndarray | None) -> bool:
        """One epoch of training: a full-batch step, or a pass over mini-batches; False if every network
        diverged."""
        if self.full_batch:
            self.live.step(grads.flat if keep is None else grads.flat[keep], self.setting.config.learning_rate)
            return True
        self._minibatch_epoch(epoch + 1)
        return self.live.workspace is not None

    def _minibatch_epoch(self, epoch: int) -> None:
        """One pass over shuffled mini-batches; a batch whose loss explodes stops that network at ``epoch``.
        With diagnostics, the first batch's gradient is the record of the previous epoch's gradient."""
        setting, live = self.setting, self.live
        config, X, y = setting.config, setting.X_train, setting.y_train
        order = self.shuffle_rng.permutation(X.shape[0])
        for start in range(0, X.shape[0], config.batch_size):
            rows = order[start:start + config.batch_size]
            loss, grads = batch_gradient(setting.task, live, X[rows], y[rows])
            if start == 0 and setting.diagnostics:
                record_gradients(self.records, self.sink, live.net, live.index, grads, live.workspace, epoch - 1,
                                 epoch - 1 in setting.histogram_epochs)
            keep = check_divergence(self.records, live, epoch, loss, live.finite(grads), during_epoch=True)
            if live.workspace is None:
                return
            live.step(grads.flat if keep is None else grads.flat[keep], config.learning_rate)

    def _report(self, epoch: int) -> None:
        """Progress every ``report_every`` epochs and, at most every ``live_every`` seconds, a live view:
        only the group that reports progress, after the epoch's records are complete. Either callback may
        raise ``StopTraining``: every group then records its next epoch as its last."""
        setting, E = self.setting, self.setting.config.epochs
        if self.progress is None:
            return
        if (epoch + 1) % self.report_every == 0:
            try:
                self.progress(min((epoch + 1) / E, 1.0))
            except StopTraining:
                setting.stop.set()
        if setting.live is not None and epoch < E - 1 and not setting.stop.is_set() \
                and time.perf_counter() >= self.live_next:
            complete = min(self.sink.done.values())  # the slowest group's last complete epoch
            if complete >= 0:
                self._view(complete)
            else:
                self.live_next = time.perf_counter() + setting.live_every

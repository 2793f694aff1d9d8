"""What a run keeps to be continued (``wil.resume``): each group of networks' parameters, optimizer buffers and
mini-batch stream at its last epoch, beside the records so far. Arrays and plain values only, so a result that
holds it pickles (``st.cache_data``); the networks are rebuilt from the run's configuration."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wil.engine.cures import CureNetwork, CureStack
from wil.engine.model import Network
from wil.engine.record import Records, Sink
from wil.engine.threads import Plan
from wil.engine.workspace import Stack
from wil.spec.activations import get_activation
from wil.spec.layout import grid_epochs, histogram_epochs
from wil.spec.optimizers import OptimizerState
from wil.spec.residual import n_blocks


@dataclass
class GroupState:
    """One group of networks after the record of ``epoch``, before the training that follows it."""

    index: np.ndarray  # (K_live,) the live networks' positions among all K
    epoch: int  # the last epoch recorded
    flat: np.ndarray  # (K_live, P) every parameter (a CureStack's row with normalization and residual blocks)
    sizes: tuple[int, ...]
    running: np.ndarray | None  # BatchNorm's running statistics (K_live, depth, 2, width)
    trained_scalars: np.ndarray | None  # (K_live,) residual schemes that train their blocks' scalars
    optimizer: OptimizerState
    shuffle: dict  # the mini-batch order's generator state, before the next epoch's order is drawn

    @classmethod
    def capture(cls, net: Network, index: np.ndarray, epoch: int, optimizer: OptimizerState,
                shuffle: dict) -> GroupState:
        """The state of a group that stops training (its arrays are no longer written)."""
        cure = isinstance(net, CureNetwork)
        return cls(index, epoch, net.stack.flat, tuple(net.stack.sizes), net.running if cure else None,
                   net.trained_scalars if cure else None, optimizer, shuffle)

    def network(self, config) -> Network:
        """A copy of the group's networks, for ``config``'s architecture."""
        activation = get_activation(config.activation)
        if config.normalization is None and not config.residual:
            stack = Stack(self.flat.copy(), self.sizes)
            return Network(stack.weights, stack.biases, activation, stack)
        stack = CureStack(self.flat.copy(), self.sizes, config.normalization is not None,
                          n_blocks(config.depth) if config.residual else 0)
        running = None if self.running is None else self.running.copy()
        return CureNetwork(stack.weights, stack.biases, activation, stack, config.normalization, config.residual,
                           running, self.trained_scalars.copy())

    def optimizer_state(self) -> OptimizerState:
        """A copy of the optimizer's state (its buffers are updated in place)."""
        return OptimizerState(self.optimizer.step, tuple(b.copy() for b in self.optimizer.buffers))


@dataclass
class Checkpoint:
    """A run as it ended: its records and, per group of networks still live, a ``GroupState``."""

    records: Records
    groups: list[GroupState]
    how: Plan
    diagnostics: bool
    snapshots: int | None

    @property
    def last_epoch(self) -> int:
        """The last epoch any live group recorded (-1 if none is live)."""
        return max((group.epoch for group in self.groups), default=-1)

    @property
    def first_epoch(self) -> int:
        """The earliest epoch a live group resumes from."""
        return min(group.epoch for group in self.groups)

    def extended(self, epochs: int) -> tuple[Records, Sink]:
        """Records and sink for a run of ``epochs`` epochs holding everything recorded so far, but the
        histograms and boundaries from the first resumed epoch on that the new run would not record (a
        stopped run records them at the epoch it stops)."""
        old = self.records
        K, n_layers = old.history.shape[0], old.layers.shape[2] if old.layers is not None else 0
        shown = histogram_epochs(epochs, self.snapshots) if self.diagnostics else []
        new = Records.empty(old.labels, old.seeds, epochs, n_layers, self.diagnostics, shown)
        n = min(old.history.shape[1], epochs + 1)
        new.history[:, :n] = old.history[:, :n]
        if old.layers is not None:
            new.layers[:, :n] = old.layers[:, :n]
        if old.scalars is not None:
            new.scalars = np.full((K, epochs + 1, old.scalars.shape[2]), np.nan)
            new.scalars[:, :n] = old.scalars[:, :n]
        new.grid_epochs, new.grid_points = grid_epochs(epochs, self.snapshots), old.grid_points
        new.diverged_epoch, new.reason = old.diverged_epoch.copy(), list(old.reason)
        new.stopped_mid_epoch, new.exploded_loss = old.stopped_mid_epoch.copy(), old.exploded_loss.copy()
        sink, first = Sink(K), self.first_epoch
        for epoch, layer, quantity, *arrays in old.histograms:
            if epoch < first or epoch in shown:
                sink.histograms[(epoch, layer, quantity)] = tuple(a.copy() for a in arrays)
        for epoch, arrays in old.grid.items():
            if epoch < first or epoch in new.grid_epochs:
                sink.grid[epoch] = tuple(a.copy() for a in arrays)
        return new, sink

"""A group of networks in training (``Live``: their stacked parameters, optimizer state and pass buffers),
one batch's loss and gradient (``batch_gradient``) and the check that drops the networks that blew up
(``check_divergence``): what ``wil.engine.train``'s epochs are made of."""

from __future__ import annotations

import numpy as np

from wil.engine.cures import UPDATE, make_workspace, run_backward, run_forward
from wil.engine.divergence import blown_up, mark_diverged
from wil.engine.model import Network, loss_and_gradient
from wil.engine.record import Records
from wil.engine.workspace import Stack
from wil.spec.optimizers import OptimizerState, get_optimizer, take


class Live:
    """A group of networks still training: their stacked parameters, optimizer state and pass buffers,
    and their indices among all K. A network that diverges is dropped, so it costs nothing afterwards
    (its frames end at its ``diverged_epoch``, so nothing it would compute later is ever reported)."""

    def __init__(self, net: Network, optimizer: str, max_rows: int, index: np.ndarray, row_parts: int = 1,
                 pool=None, state: OptimizerState | None = None):
        self.net, self.optimizer, self.max_rows = net, get_optimizer(optimizer), max_rows
        self.row_parts, self.pool = row_parts, pool  # see wil.engine.workspace.Workspace
        self.index = index  # (K_live,) positions in the records
        self.state = self.optimizer.init(net.stack.flat) if state is None else state
        self.workspace = make_workspace(net, max_rows, row_parts, pool)

    def drop(self, keep: np.ndarray) -> None:
        """Keep only the networks selected by the boolean mask ``keep`` (K_live,)."""
        self.net = self.net.take(keep)
        self.index = self.index[keep]
        self.state = take(self.state, keep)
        self.workspace = make_workspace(self.net, self.max_rows, self.row_parts, self.pool) if keep.any() else None

    def step(self, grads: np.ndarray, learning_rate: float) -> None:
        """One optimizer update from the (K_live, P) gradient, which it overwrites."""
        flat = self.net.stack.flat
        scratch = self.workspace.temporaries.get("optimizer", flat.shape, flat.dtype)
        self.state = self.optimizer.update(flat, grads, self.state, learning_rate, scratch)

    def finite(self, grads: Stack) -> np.ndarray:
        """(K_live,) whether every gradient of a network is finite."""
        mask = self.workspace.temporaries.get("finite", grads.flat.shape, bool)
        return np.isfinite(grads.flat, out=mask).all(axis=1)


def batch_gradient(task: str, live: Live, X: np.ndarray, y: np.ndarray, mode: str = UPDATE
                    ) -> tuple[np.ndarray, Stack]:
    """The loss (K_live,) and the gradient of the live networks on one batch (in the pass buffers); ``mode``
    TRAIN for a gradient that makes no step (BatchNorm's running statistics stay)."""
    batch = run_forward(live.net, X, live.workspace, mode)
    loss, doutput, _ = loss_and_gradient(task, batch.output, y)
    return loss, run_backward(live.net, X, batch, doutput, live.workspace)


def check_divergence(records: Records, live: Live, epoch: int, loss: np.ndarray, grad_ok: np.ndarray | None,
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

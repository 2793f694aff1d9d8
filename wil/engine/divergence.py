"""Divergence: a network whose loss or gradients blow up stops there, with its epoch and cause.

Training runs under ``np.errstate(all="ignore")``: overflow is expected of a diverging network, and it is
reported here, in words, instead of as NumPy's warnings. The other networks go on.
"""

from __future__ import annotations

import numpy as np

# A loss above this is reported as an explosion: a million times the loss of guessing.
LOSS_BOUND = 1e6


def blown_up(loss: np.ndarray, grad_ok: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Which networks blew up, (K,) bool, and why, (K,) str ("" for the others).

    ``loss`` (K,) is each network's loss; ``grad_ok`` (K,) whether all its gradients are finite (None:
    no gradient to check). A NaN or infinite loss, a loss above ``LOSS_BOUND`` or a non-finite gradient
    blows a network up, in that order of causes.
    """
    blown = ~(loss <= LOSS_BOUND) | np.isinf(loss)  # NaN fails the comparison
    if grad_ok is not None:
        blown |= ~grad_ok
    reasons = np.full(loss.shape, "", dtype=object)
    if not blown.any():
        return blown, reasons
    reasons[loss > LOSS_BOUND] = f"loss exploded past {LOSS_BOUND:g}"
    reasons[np.isinf(loss)] = "loss overflowed to infinity"
    reasons[np.isnan(loss)] = "loss became NaN"
    if grad_ok is not None:
        reasons[(reasons == "") & ~grad_ok] = "gradient overflowed (inf/NaN)"
    return blown, reasons


def mark_diverged(records, index: np.ndarray, epoch: int, loss: np.ndarray, blown: np.ndarray,
                  reasons: np.ndarray, during_epoch: bool) -> None:
    """Record the networks ``blown`` (positions ``index`` among all K) as diverged at ``epoch``:
    ``during_epoch`` on a mini-batch (its loss kept as the one that exploded), else on the epoch's record."""
    where = f" during epoch {epoch}" if during_epoch else f" at epoch {epoch}"
    for local in np.flatnonzero(blown):
        k = index[local]
        records.diverged_epoch[k] = epoch
        records.reason[k] = reasons[local] + where
        if during_epoch:
            records.stopped_mid_epoch[k] = True
            records.exploded_loss[k] = loss[local]

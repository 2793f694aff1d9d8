"""Optimizers as ``(init, update)`` pairs over stacked parameters, optax-style, in one registry.

``state = spec.init(params)`` makes an optimizer's state for the ``(K, P)`` parameters of K networks;
``state = spec.update(params, grads, state, learning_rate, scratch)`` applies one step and returns the new
state. The functions keep no state of their own: everything a step needs is passed in and returned. Two
departures from optax, for large stacked arrays where a fresh temporary costs page faults that take as
long as the arithmetic: the update writes ``params`` in place, and it uses ``grads`` and ``scratch`` (an
array shaped like ``params``) as its workspace, overwriting them.

``take(state, keep)`` is the state of the networks ``keep`` selects (a network that diverged is dropped).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np

MOMENTUM = 0.9
ADAM_BETA1, ADAM_BETA2, ADAM_EPSILON = 0.9, 0.999, 1e-8  # Kingma & Ba's defaults


class OptimizerState(NamedTuple):
    """Step count and per-parameter buffers, each (K, P): velocity (momentum) or the two moments (Adam)."""

    step: int
    buffers: tuple[np.ndarray, ...]


Init = Callable[[np.ndarray], OptimizerState]
Update = Callable[[np.ndarray, np.ndarray, OptimizerState, float, np.ndarray], OptimizerState]


@dataclass(frozen=True)
class Optimizer:
    """One optimizer: its state's ``init``, its ``update``, and what to call it."""

    name: str
    label: str
    init: Init
    update: Update
    description: str


def _sgd_init(params: np.ndarray) -> OptimizerState:
    return OptimizerState(0, ())


def _sgd_update(params, grads, state, learning_rate, scratch) -> OptimizerState:
    """p <- p - lr g."""
    grads *= learning_rate
    params -= grads
    return OptimizerState(state.step + 1, ())


def _momentum_init(params: np.ndarray) -> OptimizerState:
    return OptimizerState(0, (np.zeros_like(params),))


def _momentum_update(params, grads, state, learning_rate, scratch) -> OptimizerState:
    """v <- 0.9 v + g; p <- p - lr v (PyTorch's SGD with momentum, no dampening)."""
    (velocity,) = state.buffers
    velocity *= MOMENTUM
    velocity += grads
    np.multiply(velocity, learning_rate, out=grads)
    params -= grads
    return OptimizerState(state.step + 1, state.buffers)


def _adam_init(params: np.ndarray) -> OptimizerState:
    return OptimizerState(0, (np.zeros_like(params), np.zeros_like(params)))


def _adam_update(params, grads, state, learning_rate, scratch) -> OptimizerState:
    """Kingma & Ba: m <- b1 m + (1 - b1) g; v <- b2 v + (1 - b2) g^2;
    p <- p - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)."""
    t = state.step + 1
    first, second = state.buffers
    correction1, correction2 = 1.0 - ADAM_BETA1**t, 1.0 - ADAM_BETA2**t
    first *= ADAM_BETA1
    np.multiply(grads, grads, out=scratch)  # the second moment first: it needs g itself
    grads *= 1.0 - ADAM_BETA1
    first += grads
    second *= ADAM_BETA2
    scratch *= 1.0 - ADAM_BETA2
    second += scratch
    np.divide(second, correction2, out=scratch)  # the denominator, sqrt(v / c2) + eps
    np.sqrt(scratch, out=scratch)
    scratch += ADAM_EPSILON
    np.divide(first, correction1, out=grads)  # lr (m / c1) / denominator
    grads *= learning_rate
    grads /= scratch
    params -= grads
    return OptimizerState(t, state.buffers)


OPTIMIZERS: dict[str, Optimizer] = {
    spec.name: spec
    for spec in [
        Optimizer("sgd", "SGD", _sgd_init, _sgd_update, "plain gradient descent"),
        Optimizer("momentum", "SGD + momentum (0.9)", _momentum_init, _momentum_update,
                  "heavy-ball momentum 0.9, as torch.optim.SGD(momentum=0.9)"),
        Optimizer("adam", "Adam", _adam_init, _adam_update, "Kingma & Ba (2015), betas 0.9 and 0.999"),
    ]
}


def get_optimizer(name: str) -> Optimizer:
    """Return the registry entry for ``name``; raise ``ValueError`` listing the valid names."""
    try:
        return OPTIMIZERS[name]
    except (KeyError, TypeError):
        raise ValueError(f"Invalid optimizer {name!r}; choose from {sorted(OPTIMIZERS)}") from None


def take(state: OptimizerState, keep: np.ndarray) -> OptimizerState:
    """The state of the networks selected by ``keep`` (boolean (K,) or indices), for a smaller stack."""
    return OptimizerState(state.step, tuple(buffer[keep] for buffer in state.buffers))

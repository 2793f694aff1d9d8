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

from wil.spec.snippets import OptimizerCode

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
    """One optimizer: its state's ``init``, its ``update``, what to call it (``label``, shown in the app),
    ``buffers``, the per-parameter arrays its state holds (memory estimates count them), and ``export``,
    its code in the PyTorch and Keras scripts."""

    name: str
    label: str
    init: Init
    update: Update
    description: str
    buffers: int  # (K, P) arrays in OptimizerState.buffers: 0 for SGD, the velocity, Adam's two moments
    export: OptimizerCode | None = None  # None: wil.to_pytorch and wil.to_keras refuse it


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


_EPSILON = f"{ADAM_EPSILON:.0e}".replace("e-0", "e-")  # 1e-8, as the scripts write it
# Adam for the Keras script, written out: Keras' own places epsilon differently
_KERAS_ADAM = '''

class WilAdam(keras.optimizers.Optimizer):
    """Adam as wil and torch.optim.Adam: p -= lr * m_hat / (sqrt(v_hat) + 1e-8). Keras' own Adam adds its
    epsilon (default 1e-7) to sqrt(v) before the bias correction, a slightly different step."""

    def __init__(self, learning_rate):
        super().__init__(learning_rate=learning_rate, name="wil_adam")

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.m = [self.add_variable_from_reference(v, name="m") for v in variables]
        self.v = [self.add_variable_from_reference(v, name="v") for v in variables]

    def update_step(self, gradient, variable, learning_rate):
        ops = keras.ops
        i = self._get_variable_index(variable)
        m, v = self.m[i], self.v[i]
        gradient = ops.cast(gradient, variable.dtype)
        lr = ops.cast(learning_rate, variable.dtype)
        t = ops.cast(self.iterations + 1, variable.dtype)
        self.assign(m, ops.add(ops.multiply(m, 0.9), ops.multiply(gradient, 0.1)))
        self.assign(v, ops.add(ops.multiply(v, 0.999), ops.multiply(ops.square(gradient), 0.001)))
        m_hat = ops.divide(m, ops.subtract(1.0, ops.power(ops.cast(0.9, variable.dtype), t)))
        v_hat = ops.divide(v, ops.subtract(1.0, ops.power(ops.cast(0.999, variable.dtype), t)))
        self.assign_sub(variable, ops.divide(ops.multiply(lr, m_hat), ops.add(ops.sqrt(v_hat), 1e-8)))'''

OPTIMIZERS: dict[str, Optimizer] = {
    spec.name: spec
    for spec in [
        Optimizer("sgd", "SGD", _sgd_init, _sgd_update, "plain gradient descent", buffers=0,
                  export=OptimizerCode(
                      "plain SGD", "torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)", "    # p -= lr g",
                      "keras.optimizers.SGD(learning_rate=LEARNING_RATE)", "    # p -= lr g")),
        Optimizer("momentum", "SGD + momentum (0.9)", _momentum_init, _momentum_update,
                  "heavy-ball momentum 0.9, as torch.optim.SGD(momentum=0.9)", buffers=1,
                  export=OptimizerCode(
                      f"SGD with momentum {MOMENTUM} (v = {MOMENTUM} v + g; p -= lr v)",
                      f"torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum={MOMENTUM})",
                      f"    # v = {MOMENTUM} v + g; p -= lr v: wil's rule",
                      f"keras.optimizers.SGD(learning_rate=LEARNING_RATE, momentum={MOMENTUM})",
                      f"    # Keras keeps u = {MOMENTUM} u - lr g; p += u. With a constant learning rate u = -lr v, "
                      f"for wil's\n    # v = {MOMENTUM} v + g; p -= lr v: the same steps, up to rounding.")),
        Optimizer("adam", "Adam", _adam_init, _adam_update, "Kingma & Ba (2015), betas 0.9 and 0.999", buffers=2,
                  export=OptimizerCode(
                      f"Adam ({ADAM_BETA1}, {ADAM_BETA2}, eps {_EPSILON} outside the square root)",
                      f"torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, betas=({ADAM_BETA1}, {ADAM_BETA2}), "
                      f"eps={_EPSILON})", "    # p -= lr m_hat / (sqrt(v_hat) + eps): wil's rule",
                      "WilAdam(LEARNING_RATE)", "    # written out above: Keras' own Adam places epsilon differently",
                      keras_helper=_KERAS_ADAM)),
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

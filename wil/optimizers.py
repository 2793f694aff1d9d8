"""SGD, momentum and Adam over stacked parameters, as small update functions (optax-style).

``state = init(name, params)`` makes the optimizer's state; ``state = step(name, params, grads, state,
learning_rate)`` updates ``params`` in place (they are large stacked arrays) and returns the new state.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

MOMENTUM = 0.9
ADAM_BETA1, ADAM_BETA2, ADAM_EPSILON = 0.9, 0.999, 1e-8  # Kingma & Ba's defaults


class OptimizerState(NamedTuple):
    """Step count and per-parameter buffers: velocity (momentum) or first/second moments (Adam)."""

    step: int
    first: list[np.ndarray]
    second: list[np.ndarray]


def init(name: str, params: list[np.ndarray]) -> OptimizerState:
    """Zero buffers for optimizer ``name`` (``sgd``, ``momentum`` or ``adam``)."""
    first = [np.zeros_like(p) for p in params] if name in ("momentum", "adam") else []
    second = [np.zeros_like(p) for p in params] if name == "adam" else []
    return OptimizerState(0, first, second)


def step(name: str, params: list[np.ndarray], grads: list[np.ndarray], state: OptimizerState,
         learning_rate: float) -> OptimizerState:
    """Apply one update to ``params`` in place; return the new state."""
    t = state.step + 1
    if name == "sgd":
        for p, g in zip(params, grads):
            p -= learning_rate * g
    elif name == "momentum":
        for p, g, v in zip(params, grads, state.first):
            v *= MOMENTUM
            v += g
            p -= learning_rate * v
    elif name == "adam":
        correction1 = 1.0 - ADAM_BETA1**t
        correction2 = 1.0 - ADAM_BETA2**t
        for p, g, m, v in zip(params, grads, state.first, state.second):
            m *= ADAM_BETA1
            m += (1.0 - ADAM_BETA1) * g
            v *= ADAM_BETA2
            v += (1.0 - ADAM_BETA2) * (g * g)
            p -= learning_rate * (m / correction1) / (np.sqrt(v / correction2) + ADAM_EPSILON)
    else:
        raise ValueError(f"Invalid optimizer {name!r}; choose from ['adam', 'momentum', 'sgd']")
    return OptimizerState(t, state.first, state.second)


def step_in_place(name: str, params: list[np.ndarray], grads: list[np.ndarray], state: OptimizerState,
                  learning_rate: float, temporaries: list[np.ndarray]) -> OptimizerState:
    """``step`` with no temporary arrays: the same arithmetic, in the same order, but ``grads`` are
    overwritten and Adam uses ``temporaries`` (arrays shaped like ``params``). For large stacks, where a
    fresh temporary costs page faults."""
    t = state.step + 1
    if name == "sgd":
        for p, g in zip(params, grads):
            g *= learning_rate
            p -= g
    elif name == "momentum":
        for p, g, v in zip(params, grads, state.first):
            v *= MOMENTUM
            v += g
            np.multiply(v, learning_rate, out=g)
            p -= g
    elif name == "adam":
        correction1 = 1.0 - ADAM_BETA1**t
        correction2 = 1.0 - ADAM_BETA2**t
        for p, g, m, v, tmp in zip(params, grads, state.first, state.second, temporaries):
            m *= ADAM_BETA1
            np.multiply(g, g, out=tmp)  # the second moment first: it needs g itself
            g *= 1.0 - ADAM_BETA1
            m += g
            v *= ADAM_BETA2
            tmp *= 1.0 - ADAM_BETA2
            v += tmp
            np.divide(v, correction2, out=tmp)  # the denominator, sqrt(v / c2) + eps
            np.sqrt(tmp, out=tmp)
            tmp += ADAM_EPSILON
            np.divide(m, correction1, out=g)  # learning_rate * (m / c1) / denominator
            g *= learning_rate
            g /= tmp
            p -= g
    else:
        raise ValueError(f"Invalid optimizer {name!r}; choose from ['adam', 'momentum', 'sgd']")
    return OptimizerState(t, state.first, state.second)


def reset(state: OptimizerState, networks: np.ndarray) -> None:
    """Zero the buffers of the networks selected by the boolean mask ``networks`` (K,)."""
    for buffer in state.first + state.second:
        buffer[networks] = 0.0


def take(state: OptimizerState, networks: np.ndarray) -> OptimizerState:
    """The state of the networks selected by ``networks`` (boolean (K,) or indices), for a smaller stack."""
    return OptimizerState(state.step, [b[networks] for b in state.first], [b[networks] for b in state.second])

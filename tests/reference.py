"""An independent, plain reference of the engine, the oracle the tests hold ``wil.network`` against.

Written for clarity, not speed: every array allocated fresh, each layer's gradient by the chain rule
as in a textbook, any list of layer sizes, no workspace, no row blocks, no in-place kernels (the
activation's ``f`` and ``df`` are used, themselves checked against finite differences in
``test_activations.py``). Optimizers are the papers' formulas, one parameter array at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Pass:
    preactivations: list
    activations: list
    hidden: tuple | None = None  # the engine's stacked hidden layers; the reference has none

    @property
    def output(self):
        return self.activations[-1]


def forward(net, X: np.ndarray) -> Pass:
    """All K networks on ``X`` (n, d): per layer z = a W + b, a = f(z) (the output layer linear)."""
    zs, acts = [], []
    a = X
    for layer, (W, b) in enumerate(zip(net.weights, net.biases)):
        z = np.matmul(a, W) + b  # (K, n, fan_out)
        a = z if layer == len(net.weights) - 1 else net.activation.f(z)
        zs.append(z)
        acts.append(a)
    return Pass(zs, acts)


def backward(net, X: np.ndarray, state: Pass, doutput: np.ndarray) -> list[np.ndarray]:
    """Gradients of the loss for every weight, then every bias, from d loss / d output (K, n, C)."""
    L = len(net.weights)
    grad_w, grad_b = [None] * L, [None] * L
    delta = doutput
    for layer in range(L - 1, -1, -1):
        inputs = X if layer == 0 else state.activations[layer - 1]
        grad_w[layer] = np.matmul(np.swapaxes(inputs, -1, -2), delta)  # (K, fan_in, fan_out)
        grad_b[layer] = delta.sum(axis=1, keepdims=True)  # (K, 1, fan_out)
        if layer > 0:
            delta = np.matmul(delta, np.swapaxes(net.weights[layer], 1, 2)) * net.activation.df(
                state.preactivations[layer - 1], state.activations[layer - 1])
    return grad_w + grad_b


def optimizer_step(name: str, p: np.ndarray, g: np.ndarray, state: dict, learning_rate: float) -> None:
    """One step of ``name`` on parameter ``p`` (in place), its buffers in ``state`` (a dict, in place)."""
    t = state["t"] = state.get("t", 0) + 1
    if name == "sgd":
        p -= learning_rate * g
    elif name == "momentum":  # PyTorch's SGD(momentum=0.9), no dampening
        state["v"] = 0.9 * state.get("v", 0.0) + g
        p -= learning_rate * state["v"]
    elif name == "adam":  # Kingma & Ba (2015), Algorithm 1
        state["m"] = 0.9 * state.get("m", 0.0) + 0.1 * g
        state["v"] = 0.999 * state.get("v", 0.0) + 0.001 * g * g
        m_hat, v_hat = state["m"] / (1 - 0.9**t), state["v"] / (1 - 0.999**t)
        p -= learning_rate * m_hat / (np.sqrt(v_hat) + 1e-8)
    else:
        raise ValueError(name)

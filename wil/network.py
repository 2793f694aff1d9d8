"""A batch of K multilayer perceptrons of one architecture, as stacked arrays.

Layer ``l`` holds weights ``(K, fan_in, fan_out)`` and biases ``(K, 1, fan_out)``, so one ``np.matmul``
per layer runs all K networks. Inputs ``X`` of shape ``(n, d)`` are shared: ``X @ W`` broadcasts to
``(K, n, fan_out)``. Hidden layers apply the activation; the output layer is linear, followed by a
softmax cross-entropy (classification) or a mean squared error (regression).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .activations import Activation


@dataclass
class Network:
    """K stacked MLPs. ``weights[l]``: (K, fan_in, fan_out); ``biases[l]``: (K, 1, fan_out)."""

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    activation: Activation

    @property
    def n_networks(self) -> int:
        return self.weights[0].shape[0]

    @property
    def n_layers(self) -> int:
        """Hidden layers plus the output layer."""
        return len(self.weights)

    def parameters(self) -> list[np.ndarray]:
        """Weights then biases, the order ``backward`` returns gradients in."""
        return self.weights + self.biases


@dataclass
class Pass:
    """What one forward pass holds: per layer, pre-activations and activations, each (K, n, units)."""

    preactivations: list[np.ndarray]
    activations: list[np.ndarray]  # the output layer's "activation" is its linear output

    @property
    def output(self) -> np.ndarray:
        return self.activations[-1]


def forward(net: Network, X: np.ndarray) -> Pass:
    """Run all K networks on inputs ``X`` of shape (n, d) (shared) or (K, n, d)."""
    f = net.activation.f
    zs, acts = [], []
    a = X
    last = net.n_layers - 1
    for layer, (W, b) in enumerate(zip(net.weights, net.biases)):
        z = np.matmul(a, W)  # (K, n, fan_out)
        z += b  # (K, 1, fan_out) broadcast over examples
        a = z if layer == last else f(z)  # (K, n, fan_out)
        zs.append(z)
        acts.append(a)
    return Pass(zs, acts)


def softmax_cross_entropy(logits: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean cross-entropy of softmax(logits) against integer classes, per network.

    Parameters
    ----------
    logits : (K, n, C)
    y : (n,) classes in 0..C-1

    Returns
    -------
    loss : (K,) mean over examples
    dlogits : (K, n, C) gradient of the loss
    accuracy : (K,)
    """
    n = logits.shape[1]
    shifted = logits - logits.max(axis=2, keepdims=True)  # (K, n, C), stable exponent
    exp = np.exp(shifted)
    total = exp.sum(axis=2, keepdims=True)  # (K, n, 1)
    rows = np.arange(n)
    log_p_true = shifted[:, rows, y] - np.log(total[:, :, 0])  # (K, n)
    loss = -log_p_true.mean(axis=1)  # (K,)
    dlogits = exp / total  # softmax, (K, n, C)
    dlogits[:, rows, y] -= 1.0
    dlogits /= n
    accuracy = (logits.argmax(axis=2) == y).mean(axis=1)  # (K,)
    return loss, dlogits, accuracy


def mean_squared_error(output: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean squared error of ``output`` (K, n, 1) against targets ``y`` (n,), per network.

    Returns loss (K,), its gradient (K, n, 1), and NaN accuracy (K,) (undefined for regression).
    """
    residual = output - y[None, :, None]  # (K, n, 1)
    loss = np.mean(residual[:, :, 0] ** 2, axis=1)  # (K,)
    doutput = residual * (2.0 / y.shape[0])  # (K, n, 1)
    return loss, doutput, np.full(loss.shape, np.nan)


def loss_and_gradient(task: str, output: np.ndarray, y: np.ndarray):
    """Dispatch on the task: ``softmax_cross_entropy`` or ``mean_squared_error``."""
    if task == "classification":
        return softmax_cross_entropy(output, y)
    return mean_squared_error(output, y)


def backward(net: Network, X: np.ndarray, state: Pass, doutput: np.ndarray) -> list[np.ndarray]:
    """Gradients of the loss with respect to every weight and bias, in ``net.parameters()`` order.

    ``doutput`` (K, n, n_outputs) is the loss's gradient with respect to the networks' outputs.
    """
    df = net.activation.df
    n_layers = net.n_layers
    grad_w: list[np.ndarray] = [None] * n_layers  # type: ignore[list-item]
    grad_b: list[np.ndarray] = [None] * n_layers  # type: ignore[list-item]
    delta = doutput  # (K, n, fan_out) gradient w.r.t. the layer's pre-activation
    for layer in range(n_layers - 1, -1, -1):
        inputs = X if layer == 0 else state.activations[layer - 1]  # (n, fan_in) or (K, n, fan_in)
        grad_w[layer] = np.matmul(np.swapaxes(inputs, -1, -2), delta)  # (K, fan_in, fan_out)
        grad_b[layer] = delta.sum(axis=1, keepdims=True)  # (K, 1, fan_out)
        if layer > 0:
            back = np.matmul(delta, np.swapaxes(net.weights[layer], 1, 2))  # (K, n, fan_in)
            back *= df(state.preactivations[layer - 1], state.activations[layer - 1])
            delta = back
    return grad_w + grad_b

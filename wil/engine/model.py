"""K multilayer perceptrons of one architecture, as stacked arrays: forward, loss and backward.

Layer ``l`` holds weights ``(K, fan_in, fan_out)`` and biases ``(K, 1, fan_out)``, so one ``np.matmul``
per layer runs all K networks. Inputs ``X`` of shape ``(n, d)`` are shared: ``X @ W`` broadcasts to
``(K, n, fan_out)``. Hidden layers apply the activation (its in-place kernels come from its registry
entry); the output layer is linear, followed by a softmax cross-entropy (classification) or a mean
squared error (regression).

Read it top down: ``forward``, the two losses, ``backward``, then what they run on (``Network``,
``Pass``). The buffers they write into, and the blocks of rows a pass may be cut into, are
``wil.engine.workspace``'s. This is the only implementation; ``tests/reference.py`` holds a plain,
independent one as the oracle.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from wil.spec.activations import Activation
from wil.engine.workspace import Stack, Views, Workspace


# ---------------------------------------------------------------- forward

def forward(net: Network, X: np.ndarray, workspace: Workspace | None = None) -> Pass:
    """Run all K networks on inputs ``X`` (n, d), into ``workspace`` (default: a new one for ``X``).

    The returned pass holds views of the workspace's buffers, valid until its next pass.
    """
    workspace = workspace if workspace is not None else Workspace(net, X.shape[0])
    views = workspace.views(X.shape[0])
    workspace.run([functools.partial(_forward_rows, net, X, views, rows) for rows in workspace.parts(X.shape[0])])
    return Pass(views.zs + [views.output], views.activations + [views.output], (views.Z, views.A))


def _forward_rows(net: Network, X: np.ndarray, views: Views, rows: slice) -> None:
    """The forward pass of the examples ``rows``, into their rows of the buffers."""
    apply = net.activation.apply
    a = X[rows]  # (n, n_features)
    for W, b, z, out in zip(net.weights, net.biases, views.zs, views.activations):  # the hidden layers
        z, out = z[:, rows], out[:, rows]
        np.matmul(a, W, out=z)  # (K, n, fan_in) @ (K, fan_in, width) -> (K, n, width); X broadcasts
        z += b  # (K, 1, width) broadcast over examples
        apply(z, out)  # (K, n, width): out = f(z)
        a = out
    output = views.output[:, rows]
    np.matmul(a, net.weights[-1], out=output)  # (K, n, width) @ (K, width, n_outputs) -> (K, n, n_outputs)
    output += net.biases[-1]  # (K, 1, n_outputs)


# ---------------------------------------------------------------- loss

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


# ---------------------------------------------------------------- backward

def backward(net: Network, X: np.ndarray, state: Pass, doutput: np.ndarray, workspace: Workspace) -> Stack:
    """The gradients of the loss with respect to every parameter, into ``workspace.grads`` (returned).

    ``state`` is the pass ``forward`` made of ``X`` into the same ``workspace``; ``doutput`` (K, n,
    n_outputs) is the loss's gradient with respect to the networks' outputs. Blocks of rows each sum
    their own gradients, added up in a fixed order.
    """
    views = workspace.views(X.shape[0])
    for layer in range(1, net.n_layers):
        np.copyto(workspace.weights_t[layer], net.weights[layer].swapaxes(1, 2))  # (K, fan_out, fan_in)
    parts = workspace.parts(X.shape[0])
    workspace.run([functools.partial(_backward_rows, net, X, state, doutput, views, workspace.weights_t, grads, rows)
                   for grads, rows in zip(workspace.part_grads, parts)])
    grads = workspace.grads
    for part in workspace.part_grads[1:len(parts)]:
        grads.flat += part.flat  # (K, P)
    return grads


def _backward_rows(net: Network, X: np.ndarray, state: Pass, doutput: np.ndarray, views: Views,
                   weights_t: list[np.ndarray], grads: Stack, rows: slice) -> None:
    """The gradients from the examples ``rows`` alone, into ``grads``."""
    scale_grad = net.activation.scale_grad
    ones = views.ones[:rows.stop - rows.start]  # (n,)
    delta = doutput[:, rows]  # (K, n, fan_out) gradient w.r.t. the layer's pre-activation
    for layer in range(net.n_layers - 1, 0, -1):
        z, a = state.preactivations[layer - 1][:, rows], state.activations[layer - 1][:, rows]  # (K, n, fan_in)
        np.matmul(a.swapaxes(1, 2), delta, out=grads.weights[layer])  # (K, fan_in, n) @ (K, n, fan_out)
        np.matmul(ones, delta, out=grads.biases[layer][:, 0])  # (n,) @ (K, n, fan_out) -> (K, fan_out)
        back = views.deltas[layer % 2][:, rows]  # (K, n, fan_in)
        np.matmul(delta, weights_t[layer], out=back)  # (K, n, fan_out) @ (K, fan_out, fan_in) -> (K, n, fan_in)
        scale_grad(back, z, a, views.scratch[:, rows])  # back *= f'(z): the gradient w.r.t. z
        delta = back
    np.matmul(X[rows].T, delta, out=grads.weights[0])  # (d, n) @ (K, n, width) -> (K, d, width)
    np.matmul(ones, delta, out=grads.biases[0][:, 0])  # (n,) @ (K, n, width) -> (K, width)


# ---------------------------------------------------------------- what they run on

@dataclass
class Network:
    """K stacked MLPs. ``weights[l]``: (K, fan_in, fan_out); ``biases[l]``: (K, 1, fan_out).

    ``stack`` is set when the arrays are views into one ``Stack`` (``Network.stacked``), as in training.
    """

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    activation: Activation
    stack: Stack | None = field(default=None, repr=False)

    @classmethod
    def stacked(cls, weights: list[np.ndarray], biases: list[np.ndarray], activation: Activation,
                dtype=None) -> Network:
        """The same networks with their parameters copied into one ``Stack`` (of ``dtype``, default the
        arrays' own); the layers are filled one at a time, so the copy needs no second full-size array."""
        sizes = [weights[0].shape[1]] + [W.shape[2] for W in weights]
        stack = Stack.zeros(weights[0].shape[0], sizes, dtype or np.result_type(*weights, *biases))
        for view, array in zip(stack.weights + stack.biases, weights + biases):
            view[...] = array
        return cls(stack.weights, stack.biases, activation, stack)

    def take(self, keep: np.ndarray) -> Network:
        """The networks selected by ``keep`` (boolean (K,) or indices), as a new stacked Network."""
        stack = (self.stack or Network.stacked(self.weights, self.biases, self.activation).stack).take(keep)
        return Network(stack.weights, stack.biases, self.activation, stack)

    @property
    def n_networks(self) -> int:
        return self.weights[0].shape[0]

    @property
    def sizes(self) -> tuple[int, ...]:
        """Units per layer, the inputs first."""
        if self.stack is not None:
            return self.stack.sizes
        return (self.weights[0].shape[1],) + tuple(W.shape[2] for W in self.weights)

    @property
    def n_layers(self) -> int:
        """Hidden layers plus the output layer."""
        return len(self.weights)

    def parameters(self) -> list[np.ndarray]:
        """Weights then biases, the order ``backward`` returns gradients in."""
        return self.weights + self.biases


@dataclass
class Pass:
    """What one forward pass holds: per layer, pre-activations and activations, each (K, n, units).

    ``hidden`` is set by ``forward``: the hidden layers' pre-activations and activations as two
    (depth, K, n, width) arrays, of which the lists hold views, so statistics can run over all at once.
    """

    preactivations: list[np.ndarray]
    activations: list[np.ndarray]  # the output layer's "activation" is its linear output
    hidden: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def output(self) -> np.ndarray:
        return self.activations[-1]

    def rows(self, stop: int) -> Pass:
        """The same pass restricted to its first ``stop`` examples (views)."""
        hidden = None if self.hidden is None else tuple(h[:, :, :stop] for h in self.hidden)
        return Pass([z[:, :stop] for z in self.preactivations], [a[:, :stop] for a in self.activations],
                    hidden)

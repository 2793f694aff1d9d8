"""A batch of K multilayer perceptrons of one architecture, as stacked arrays.

Layer ``l`` holds weights ``(K, fan_in, fan_out)`` and biases ``(K, 1, fan_out)``, so one ``np.matmul``
per layer runs all K networks. Inputs ``X`` of shape ``(n, d)`` are shared: ``X @ W`` broadcasts to
``(K, n, fan_out)``. Hidden layers apply the activation; the output layer is linear, followed by a
softmax cross-entropy (classification) or a mean squared error (regression).

Two ways to run them, with the same arithmetic. ``forward`` and ``backward`` are the reference: plain,
allocating, for any layer sizes. Training uses ``forward_into`` and ``backward_into``: the same
operations written into a ``Workspace`` allocated once per run, with the parameters and gradients of
all K networks in one ``(K, P)`` array each (``Stack``) and in-place kernels for the common activations.
``tests/test_buffered.py`` holds the two paths equal.
"""

from __future__ import annotations

import contextvars
import functools
import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from .activations import Activation


def layer_runs(sizes) -> tuple[tuple[int, int], ...]:
    """(first layer, number of layers) of each run of consecutive layers of one shape, for layer sizes
    ``sizes`` (the inputs first): their weights lie back to back in a ``Stack``."""
    return _layer_runs(tuple(sizes))


@functools.lru_cache(maxsize=64)
def _layer_runs(sizes: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    shapes = list(zip(sizes[:-1], sizes[1:]))
    runs, first = [], 0
    for layer in range(1, len(shapes) + 1):
        if layer == len(shapes) or shapes[layer] != shapes[first]:
            runs.append((first, layer - first))
            first = layer
    return tuple(runs)


def weight_runs(weights: np.ndarray, sizes) -> list[tuple[int, np.ndarray]]:
    """(first layer, (K, run, fan_in, fan_out) view) for each run of ``layer_runs(sizes)``, from the
    (K, sum of fan_in x fan_out) block of all weights (``Stack.weight_block``)."""
    out, start = [], 0
    for first, run in layer_runs(sizes):
        fan_in, fan_out = sizes[first], sizes[first + 1]
        out.append((first, weights[:, start:start + run * fan_in * fan_out].reshape(-1, run, fan_in, fan_out)))
        start += run * fan_in * fan_out
    return out


@dataclass
class Stack:
    """The weights and biases of K networks in one ``(K, P)`` array, and per-layer views into it.

    Each network's parameters are one row, so a whole-network operation (an optimizer step, a finite
    check, dropping a network) is one NumPy call. All weights come first, layer after layer, then all
    biases, so a per-layer reduction over the weights is one ``np.add.reduceat`` over ``weight_block``.
    """

    flat: np.ndarray  # (K, P)
    sizes: tuple[int, ...]  # units per layer, the inputs first
    weights: list[np.ndarray] = field(init=False, repr=False)  # (K, fan_in, fan_out) views
    biases: list[np.ndarray] = field(init=False, repr=False)  # (K, 1, fan_out) views
    weight_starts: np.ndarray = field(init=False, repr=False)  # (L,) first column of each layer's weights

    def __post_init__(self):
        K = self.flat.shape[0]
        shapes = list(zip(self.sizes[:-1], self.sizes[1:]))
        weight_ends = np.cumsum([fan_in * fan_out for fan_in, fan_out in shapes])
        bias_ends = weight_ends[-1] + np.cumsum([fan_out for _, fan_out in shapes])
        self.weight_starts = np.concatenate([[0], weight_ends[:-1]])
        self.weights = [self.flat[:, end - fi * fo:end].reshape(K, fi, fo)
                        for (fi, fo), end in zip(shapes, weight_ends)]
        self.biases = [self.flat[:, end - fo:end].reshape(K, 1, fo) for (_, fo), end in zip(shapes, bias_ends)]

    @classmethod
    def zeros(cls, n_networks: int, sizes, dtype) -> "Stack":
        shapes = list(zip(sizes[:-1], sizes[1:]))
        n_parameters = sum((fan_in + 1) * fan_out for fan_in, fan_out in shapes)
        return cls(np.zeros((n_networks, n_parameters), dtype=dtype), tuple(sizes))

    @property
    def weight_block(self) -> np.ndarray:
        """Every layer's weights, (K, sum of fan_in x fan_out), a view."""
        return self.flat[:, :int(self.weight_starts[-1]) + self.sizes[-2] * self.sizes[-1]]

    @property
    def bias_block(self) -> np.ndarray:
        """Every layer's biases, (K, sum of fan_out), a view."""
        return self.flat[:, self.weight_block.shape[1]:]

    def take(self, keep: np.ndarray) -> "Stack":
        """A new stack of the networks selected by ``keep`` (boolean (K,) or indices)."""
        return Stack(self.flat[keep], self.sizes)


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
    def stacked(cls, weights: list[np.ndarray], biases: list[np.ndarray], activation: Activation) -> "Network":
        """The same networks with their parameters copied into one ``Stack``."""
        sizes = [weights[0].shape[1]] + [W.shape[2] for W in weights]
        stack = Stack.zeros(weights[0].shape[0], sizes, np.result_type(*weights, *biases))
        for view, array in zip(stack.weights + stack.biases, weights + biases):
            view[...] = array
        return cls(stack.weights, stack.biases, activation, stack)

    def take(self, keep: np.ndarray) -> "Network":
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

    ``hidden`` is set by ``forward_into``: the hidden layers' pre-activations and activations as two
    (depth, K, n, width) arrays, of which the lists hold views, so statistics can run over all at once.
    """

    preactivations: list[np.ndarray]
    activations: list[np.ndarray]  # the output layer's "activation" is its linear output
    hidden: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def output(self) -> np.ndarray:
        return self.activations[-1]

    def rows(self, stop: int) -> "Pass":
        """The same pass restricted to its first ``stop`` examples (views)."""
        hidden = None if self.hidden is None else tuple(h[:, :, :stop] for h in self.hidden)
        return Pass([z[:, :stop] for z in self.preactivations], [a[:, :stop] for a in self.activations],
                    hidden)


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


# ---------------------------------------------------------------- the buffered path

class Scratch:
    """Temporaries reused from call to call: a fresh array of many MB costs page faults that take as long
    as the arithmetic on it. ``get`` returns a view of a buffer kept under ``name``, grown when needed."""

    def __init__(self):
        self._buffers: dict[tuple[str, np.dtype], np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        size, key = math.prod(shape), (name, np.dtype(dtype))
        buffer = self._buffers.get(key)
        if buffer is None or buffer.size < size:
            buffer = self._buffers[key] = np.empty(size, key[1])
        return buffer[:size].reshape(shape)

    def ones(self, size: int, dtype) -> np.ndarray:
        """A vector of ``size`` ones (kept filled)."""
        key = ("ones", np.dtype(dtype))
        buffer = self._buffers.get(key)
        if buffer is None or buffer.size < size:
            buffer = self._buffers[key] = np.ones(size, key[1])
        return buffer[:size]


class Workspace:
    """Buffers for passes of one stacked network over at most ``max_rows`` examples, reused each pass.

    Hidden layers must share one width (as every ``Config`` network does). ``grads`` is a ``Stack``
    laid out like the network's parameters, which ``backward_into`` fills.

    ``row_parts`` > 1 cuts each pass of at least ``MIN_PART_ROWS`` examples per part into that many
    blocks of rows. Examples do not mix until the weight gradient sums over them, so each block runs the
    whole pass on its rows of the shared buffers, with gradients of its own, added up at the end: blocks
    can run on parallel threads (``pool``, an executor; None runs them one after the other). The result
    depends on ``row_parts``, never on ``pool``: the same numbers on one core or many.
    """

    def __init__(self, net: Network, max_rows: int, row_parts: int = 1, pool=None):
        sizes = net.sizes
        hidden_widths = set(sizes[1:-1])
        if len(hidden_widths) != 1:
            raise ValueError(f"Workspace needs one hidden width, got layer sizes {sizes}")
        K, width, dtype = net.n_networks, sizes[1], net.weights[0].dtype
        depth = len(sizes) - 2
        self.preactivations = np.empty((depth, K, max_rows, width), dtype)  # (depth, K, n, width)
        self.activations = np.empty((depth, K, max_rows, width), dtype)
        self.output = np.empty((K, max_rows, sizes[-1]), dtype)  # (K, n, n_outputs)
        self.deltas = [np.empty((K, max_rows, width), dtype) for _ in range(2)]  # ping-pong, (K, n, width)
        self.scratch = np.empty((K, max_rows, width), dtype)
        self.grads = Stack.zeros(K, sizes, dtype)
        self.row_parts, self.pool = max(1, int(row_parts)), pool
        self.part_grads = [self.grads] + [Stack.zeros(K, sizes, dtype) for _ in range(self.row_parts - 1)]
        # each layer's weights transposed, copied before each backward pass: OpenBLAS multiplies by a
        # contiguous W^T faster than by a transposed view (for these shapes, by up to a third)
        self.weights_t = [np.empty((K, fan_out, fan_in), dtype) for fan_in, fan_out in zip(sizes[:-1], sizes[1:])]
        self.temporaries = Scratch()  # for the diagnostics
        self._views: dict[int, _Views] = {}

    def views(self, n: int) -> "_Views":
        """The buffers cut to ``n`` examples (made once per ``n``: a run uses two or three sizes)."""
        if n not in self._views:
            Z, A = self.preactivations[:, :, :n], self.activations[:, :, :n]
            self._views[n] = _Views(Z, A, list(Z), list(A), self.output[:, :n], [d[:, :n] for d in self.deltas],
                                    self.scratch[:, :n], np.ones(n, self.scratch.dtype))
        return self._views[n]

    def parts(self, n: int) -> list[slice]:
        """The blocks of rows a pass over ``n`` examples runs as (one, below ``MIN_PART_ROWS`` per part)."""
        count = min(self.row_parts, max(1, n // MIN_PART_ROWS))
        bounds = [n * i // count for i in range(count + 1)]
        return [slice(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:])]

    def run(self, tasks: list) -> None:
        """Call every task, the first on this thread and the others on ``pool`` when there is one, each in
        a copy of this thread's context: NumPy's floating-point error state (``np.errstate``) is a context
        variable, and a pool thread's own would let the warnings of a diverging network through."""
        if self.pool is None or len(tasks) == 1:
            for task in tasks:
                task()
            return
        others = [self.pool.submit(contextvars.copy_context().run, task) for task in tasks[1:]]
        tasks[0]()
        for other in others:
            other.result()


MIN_PART_ROWS = 32  # fewer rows per block, and the Python between products costs more than a thread gains


class _Views(NamedTuple):
    Z: np.ndarray  # (depth, K, n, width)
    A: np.ndarray
    zs: list[np.ndarray]  # per hidden layer, (K, n, width)
    activations: list[np.ndarray]
    output: np.ndarray  # (K, n, n_outputs)
    deltas: list[np.ndarray]
    scratch: np.ndarray
    ones: np.ndarray  # (n,): sums over examples as BLAS products


def _relu_forward(z, a):
    np.maximum(z, 0.0, out=a)


def _relu_backward(back, z, a, scratch):
    back *= z > 0


def _tanh_forward(z, a):
    np.tanh(z, out=a)


def _tanh_backward(back, z, a, scratch):
    np.multiply(a, a, out=scratch)  # 1 - a^2, in the order activations.py computes it
    np.subtract(1.0, scratch, out=scratch)
    back *= scratch


def _sigmoid_forward(z, a):
    np.multiply(z, 0.5, out=a)  # 0.5 * (1 + tanh(z / 2)), as activations.py
    np.tanh(a, out=a)
    a += 1.0
    a *= 0.5


def _sigmoid_backward(back, z, a, scratch):
    np.subtract(1.0, a, out=scratch)  # a * (1 - a)
    scratch *= a
    back *= scratch


def _linear_forward(z, a):
    np.copyto(a, z)


def _linear_backward(back, z, a, scratch):
    pass  # the derivative is 1


# In-place forms of activations.py's f and df for the common activations (the others use f and df);
# tests/test_buffered.py checks each against the registry's.
IN_PLACE = {"relu": (_relu_forward, _relu_backward), "tanh": (_tanh_forward, _tanh_backward),
            "sigmoid": (_sigmoid_forward, _sigmoid_backward), "linear": (_linear_forward, _linear_backward)}


def forward_into(net: Network, X: np.ndarray, workspace: Workspace) -> Pass:
    """``forward(net, X)`` computed into ``workspace``; the returned pass holds views of its buffers."""
    views = workspace.views(X.shape[0])
    workspace.run([functools.partial(_forward_rows, net, X, views, rows) for rows in workspace.parts(X.shape[0])])
    return Pass(views.zs + [views.output], views.activations + [views.output], (views.Z, views.A))


def _forward_rows(net: Network, X: np.ndarray, views: "_Views", rows: slice) -> None:
    """The forward pass of the examples ``rows``, into their rows of the buffers."""
    in_place = IN_PLACE.get(net.activation.name)
    f = net.activation.f
    a = X[rows]
    for W, b, z, out in zip(net.weights, net.biases, views.zs, views.activations):  # the hidden layers
        z, out = z[:, rows], out[:, rows]
        np.matmul(a, W, out=z)  # (K, n, width)
        z += b  # (K, 1, width) broadcast over examples
        if in_place is not None:
            in_place[0](z, out)
        else:
            out[...] = f(z)
        a = out
    output = views.output[:, rows]
    np.matmul(a, net.weights[-1], out=output)  # (K, n, n_outputs)
    output += net.biases[-1]


def backward_into(net: Network, X: np.ndarray, state: Pass, doutput: np.ndarray, workspace: Workspace) -> Stack:
    """``backward(net, X, state, doutput)`` computed into ``workspace``: returns ``workspace.grads``."""
    views = workspace.views(X.shape[0])
    for layer in range(1, net.n_layers):
        np.copyto(workspace.weights_t[layer], net.weights[layer].swapaxes(1, 2))  # (K, fan_out, fan_in)
    parts = workspace.parts(X.shape[0])
    workspace.run([functools.partial(_backward_rows, net, X, state, doutput, views, workspace.weights_t, grads, rows)
                   for grads, rows in zip(workspace.part_grads, parts)])
    grads = workspace.grads
    for part in workspace.part_grads[1:len(parts)]:
        grads.flat += part.flat
    return grads


def _backward_rows(net: Network, X: np.ndarray, state: Pass, doutput: np.ndarray, views: "_Views",
                   weights_t: list[np.ndarray], grads: Stack, rows: slice) -> None:
    """The gradients from the examples ``rows`` alone, into ``grads``."""
    in_place = IN_PLACE.get(net.activation.name)
    df = net.activation.df
    ones = views.ones[:rows.stop - rows.start]
    delta = doutput[:, rows]  # (K, n, fan_out) gradient w.r.t. the layer's pre-activation
    for layer in range(net.n_layers - 1, 0, -1):
        z, a = state.preactivations[layer - 1][:, rows], state.activations[layer - 1][:, rows]  # (K, n, fan_in)
        np.matmul(a.swapaxes(1, 2), delta, out=grads.weights[layer])  # (K, fan_in, fan_out)
        np.matmul(ones, delta, out=grads.biases[layer][:, 0])  # (K, fan_out): sums over examples
        back = views.deltas[layer % 2][:, rows]  # (K, n, fan_in)
        np.matmul(delta, weights_t[layer], out=back)
        if in_place is not None:
            in_place[1](back, z, a, views.scratch[:, rows])
        else:
            back *= df(z, a)
        delta = back
    np.matmul(X[rows].T, delta, out=grads.weights[0])  # (K, n_features, width)
    np.matmul(ones, delta, out=grads.biases[0][:, 0])

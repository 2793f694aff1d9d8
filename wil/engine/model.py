"""A batch of K multilayer perceptrons of one architecture, as stacked arrays, and the one engine that runs them.

Layer ``l`` holds weights ``(K, fan_in, fan_out)`` and biases ``(K, 1, fan_out)``, so one ``np.matmul``
per layer runs all K networks. Inputs ``X`` of shape ``(n, d)`` are shared: ``X @ W`` broadcasts to
``(K, n, fan_out)``. Hidden layers apply the activation; the output layer is linear, followed by a
softmax cross-entropy (classification) or a mean squared error (regression).

``forward`` and ``backward`` write into a ``Workspace`` allocated once per run, with the parameters and
gradients of all K networks in one ``(K, P)`` array each (``Stack``) and the activation's in-place kernels
from its registry entry. This is the only implementation; ``tests/reference.py`` holds a plain, independent
one as the oracle.

Exactness. A pass over many examples may be cut into blocks of rows (``Workspace.parts``); the cut
depends on the shapes of one network only (``wil.engine.threads.row_parts``), never on how many networks run
together or on the machine's cores, so network ``(initializer, seed)`` goes through the same sequence of
BLAS calls, of the same shapes, alone or in any comparison, and its numbers are the same bit for bit.
"""

from __future__ import annotations

import contextvars
import functools
import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from wil.spec.activations import Activation


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
    def stacked(cls, weights: list[np.ndarray], biases: list[np.ndarray], activation: Activation,
                dtype=None) -> "Network":
        """The same networks with their parameters copied into one ``Stack`` (of ``dtype``, default the
        arrays' own); the layers are filled one at a time, so the copy needs no second full-size array."""
        sizes = [weights[0].shape[1]] + [W.shape[2] for W in weights]
        stack = Stack.zeros(weights[0].shape[0], sizes, dtype or np.result_type(*weights, *biases))
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

    ``hidden`` is set by ``forward``: the hidden layers' pre-activations and activations as two
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


# ---------------------------------------------------------------- the engine

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
    laid out like the network's parameters, which ``backward`` fills.

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


def forward(net: Network, X: np.ndarray, workspace: "Workspace | None" = None) -> Pass:
    """Run all K networks on inputs ``X`` (n, d), into ``workspace`` (default: a new one for ``X``).

    The returned pass holds views of the workspace's buffers, valid until its next pass.
    """
    workspace = workspace if workspace is not None else Workspace(net, X.shape[0])
    views = workspace.views(X.shape[0])
    workspace.run([functools.partial(_forward_rows, net, X, views, rows) for rows in workspace.parts(X.shape[0])])
    return Pass(views.zs + [views.output], views.activations + [views.output], (views.Z, views.A))


def _forward_rows(net: Network, X: np.ndarray, views: "_Views", rows: slice) -> None:
    """The forward pass of the examples ``rows``, into their rows of the buffers."""
    apply = net.activation.apply
    a = X[rows]
    for W, b, z, out in zip(net.weights, net.biases, views.zs, views.activations):  # the hidden layers
        z, out = z[:, rows], out[:, rows]
        np.matmul(a, W, out=z)  # (K, n, width)
        z += b  # (K, 1, width) broadcast over examples
        apply(z, out)
        a = out
    output = views.output[:, rows]
    np.matmul(a, net.weights[-1], out=output)  # (K, n, n_outputs)
    output += net.biases[-1]


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
        grads.flat += part.flat
    return grads


def _backward_rows(net: Network, X: np.ndarray, state: Pass, doutput: np.ndarray, views: "_Views",
                   weights_t: list[np.ndarray], grads: Stack, rows: slice) -> None:
    """The gradients from the examples ``rows`` alone, into ``grads``."""
    scale_grad = net.activation.scale_grad
    ones = views.ones[:rows.stop - rows.start]
    delta = doutput[:, rows]  # (K, n, fan_out) gradient w.r.t. the layer's pre-activation
    for layer in range(net.n_layers - 1, 0, -1):
        z, a = state.preactivations[layer - 1][:, rows], state.activations[layer - 1][:, rows]  # (K, n, fan_in)
        np.matmul(a.swapaxes(1, 2), delta, out=grads.weights[layer])  # (K, fan_in, fan_out)
        np.matmul(ones, delta, out=grads.biases[layer][:, 0])  # (K, fan_out): sums over examples
        back = views.deltas[layer % 2][:, rows]  # (K, n, fan_in)
        np.matmul(delta, weights_t[layer], out=back)
        scale_grad(back, z, a, views.scratch[:, rows])
        delta = back
    np.matmul(X[rows].T, delta, out=grads.weights[0])  # (K, n_features, width)
    np.matmul(ones, delta, out=grads.biases[0][:, 0])

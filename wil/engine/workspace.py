"""The performance plumbing beside ``wil.engine.model``: where the K networks' numbers live, and how a
pass is cut into blocks of rows.

* ``Stack``: the parameters (or gradients) of K networks in one ``(K, P)`` array, with per-layer views;
  ``layer_runs`` and ``weight_runs`` group consecutive layers of one shape, so a per-layer reduction is
  one NumPy call over many layers.
* ``Workspace``: the buffers of every pass, allocated once per run and reused, and the blocks of rows a
  pass is cut into (``parts``), run one after the other or on a thread pool (``run``).
* ``Scratch``: temporaries reused from call to call, for the statistics and the optimizer.

Exactness. The cut into blocks of rows depends on the shapes of one network only
(``wil.spec.layout.row_parts``), never on how many networks run together or on the machine's cores, so
network ``(initializer, seed)`` goes through the same sequence of BLAS calls, of the same shapes, alone
or in any comparison, and its numbers are the same bit for bit.
"""

from __future__ import annotations

import contextvars
import functools
import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

MIN_PART_ROWS = 32  # fewer rows per block, and the Python between products costs more than a thread gains


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


class Views(NamedTuple):
    """A ``Workspace``'s buffers cut to the examples of one pass."""

    Z: np.ndarray  # (depth, K, n, width)
    A: np.ndarray
    zs: list[np.ndarray]  # per hidden layer, (K, n, width)
    activations: list[np.ndarray]
    output: np.ndarray  # (K, n, n_outputs)
    deltas: list[np.ndarray]
    scratch: np.ndarray
    ones: np.ndarray  # (n,): sums over examples as BLAS products


class Workspace:
    """Buffers for passes of one stacked network over at most ``max_rows`` examples, reused each pass.

    ``net`` is a ``wil.engine.model.Network``; its hidden layers must share one width (as every
    ``Config`` network does). ``grads`` is a ``Stack`` laid out like the network's parameters, which
    ``backward`` fills.

    ``row_parts`` > 1 cuts each pass of at least ``MIN_PART_ROWS`` examples per part into that many
    blocks of rows. Examples do not mix until the weight gradient sums over them, so each block runs the
    whole pass on its rows of the shared buffers, with gradients of its own, added up at the end: blocks
    can run on parallel threads (``pool``, an executor; None runs them one after the other). The result
    depends on ``row_parts``, never on ``pool``: the same numbers on one core or many.
    """

    def __init__(self, net, max_rows: int, row_parts: int = 1, pool=None):
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
        self._views: dict[int, Views] = {}

    def views(self, n: int) -> Views:
        """The buffers cut to ``n`` examples (made once per ``n``: a run uses two or three sizes)."""
        if n not in self._views:
            Z, A = self.preactivations[:, :, :n], self.activations[:, :, :n]
            self._views[n] = Views(Z, A, list(Z), list(A), self.output[:, :n], [d[:, :n] for d in self.deltas],
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

"""The other cures: K stacked networks with normalization layers (``wil.engine.norms``) and/or residual blocks,
forward and backward. The architecture is ``wil.spec.residual``'s; the run takes this path when
``Config.normalization`` or ``Config.residual`` is set, and plain MLPs keep ``wil.engine.model``'s (the
dispatch: ``run_forward``, ``run_backward``, ``make_workspace``).

Simpler than ``wil.engine.model``: no blocks of rows, and every layer's linear output ``H``, branch output
``U`` and standardized values ``XHAT`` are kept for the backward pass. Each network's parameters are one row
of a ``CureStack``: its weights and biases as a plain MLP's (so the statistics and histograms read them
alike), then the normalizations' ``gamma`` and ``beta`` (depth, width) and the blocks' scalars ``alpha``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from wil.engine import model
from wil.engine.model import Network, Pass
from wil.engine.norms import EVAL, TRAIN, UPDATE, normalize, normalize_backward
from wil.engine.workspace import Scratch, Stack, Workspace
from wil.spec.residual import BRANCH_LAST, block_layers, layer_roles, n_blocks

__all__ = ["CureNetwork", "CureStack", "CureWorkspace", "EVAL", "TRAIN", "UPDATE", "backward", "forward",
           "make_workspace", "run_backward", "run_forward"]


@dataclass
class CureStack(Stack):
    """A ``Stack`` with, after the biases, ``gammas`` and ``betas`` (K, depth, width) when ``normalized`` and
    ``alphas`` (K, blocks), one scalar per residual block."""

    normalized: bool = False
    blocks: int = 0
    gammas: np.ndarray | None = field(init=False, repr=False, default=None)
    betas: np.ndarray | None = field(init=False, repr=False, default=None)
    alphas: np.ndarray | None = field(init=False, repr=False, default=None)

    def __post_init__(self):
        super().__post_init__()
        K, depth, width = self.flat.shape[0], len(self.sizes) - 2, self.sizes[1]
        start = self.bias_end
        if self.normalized:
            size = depth * width
            self.gammas = self.flat[:, start:start + size].reshape(K, depth, width)
            self.betas = self.flat[:, start + size:start + 2 * size].reshape(K, depth, width)
            start += 2 * size
        if self.blocks:
            self.alphas = self.flat[:, start:start + self.blocks]  # (K, blocks)

    @property
    def bias_end(self) -> int:
        """The column after the last bias."""
        shapes = list(zip(self.sizes[:-1], self.sizes[1:]))
        return sum((fan_in + 1) * fan_out for fan_in, fan_out in shapes)

    @property
    def bias_block(self) -> np.ndarray:
        return self.flat[:, self.weight_block.shape[1]:self.bias_end]

    @classmethod
    def zeros(cls, n_networks: int, sizes, dtype, normalized: bool = False, blocks: int = 0) -> "CureStack":
        depth, width = len(sizes) - 2, sizes[1]
        plain = sum((fan_in + 1) * fan_out for fan_in, fan_out in zip(sizes[:-1], sizes[1:]))
        extra = (2 * depth * width if normalized else 0) + blocks
        return cls(np.zeros((n_networks, plain + extra), dtype=dtype), tuple(sizes), normalized, blocks)

    def take(self, keep: np.ndarray) -> "CureStack":
        return CureStack(self.flat[keep], self.sizes, self.normalized, self.blocks)


@dataclass
class CureNetwork(Network):
    """K stacked networks with ``normalization`` (None, "batch", "layer") and/or ``residual`` blocks.

    ``running`` (K, depth, 2, width): BatchNorm's running mean and variance (None otherwise), not trained.
    ``trained_scalars`` (K,): whether each network trains its blocks' ``alpha`` (else its gradient is 0).
    """

    normalization: str | None = None
    residual: bool = False
    running: np.ndarray | None = None
    trained_scalars: np.ndarray | None = None

    @classmethod
    def build(cls, weights, biases, activation, normalization: str | None, residual: bool, alphas=None,
              trained_scalars=None, dtype=None) -> "CureNetwork":
        """Networks from stacked weights (K, fan_in, fan_out) and biases (K, 1, fan_out), with gamma 1, beta 0,
        running mean 0 and variance 1, and the blocks' scalars ``alphas`` (K, blocks) (default 1, fixed)."""
        sizes = [weights[0].shape[1]] + [W.shape[2] for W in weights]
        K, depth, width = weights[0].shape[0], len(sizes) - 2, sizes[1]
        blocks = n_blocks(depth) if residual else 0
        stack = CureStack.zeros(K, sizes, dtype or np.result_type(*weights, *biases), normalization is not None,
                                blocks)
        for view, array in zip(stack.weights + stack.biases, weights + biases):
            view[...] = array
        if normalization is not None:
            stack.gammas[...] = 1.0
        if blocks:
            stack.alphas[...] = 1.0 if alphas is None else alphas
        running = None
        if normalization == "batch":
            running = np.zeros((K, depth, 2, width), stack.flat.dtype)
            running[:, :, 1] = 1.0
        trained = np.zeros(K, bool) if trained_scalars is None else np.asarray(trained_scalars, bool)
        return cls(stack.weights, stack.biases, activation, stack, normalization, residual, running, trained)

    def take(self, keep: np.ndarray) -> "CureNetwork":
        stack = self.stack.take(keep)
        running = None if self.running is None else self.running[keep]
        return CureNetwork(stack.weights, stack.biases, self.activation, stack, self.normalization, self.residual,
                           running, self.trained_scalars[keep])

    @property
    def depth(self) -> int:
        return self.n_layers - 1

    @property
    def roles(self) -> tuple[str, ...]:
        return layer_roles(self.depth, self.residual)

    @property
    def blocks(self) -> dict[int, tuple[int, int]]:
        """Layer (0-based) that closes a block -> (the block's index, the stream layer it adds to)."""
        return {last: (index, stream) for index, (last, stream) in enumerate(block_layers(self.depth))} \
            if self.residual else {}


class CureWorkspace:
    """The buffers of a ``CureNetwork``'s passes over at most ``max_rows`` examples, reused each pass:
    per hidden layer (depth, K, n, width) the linear outputs ``H`` (``Z`` is ``H`` without normalization),
    pre-activations ``Z``, activations ``A``, branch outputs ``U`` and standardized values ``XHAT``."""

    def __init__(self, net: CureNetwork, max_rows: int):
        sizes, K, dtype = net.sizes, net.n_networks, net.weights[0].dtype
        depth, width = len(sizes) - 2, sizes[1]
        shape = (depth, K, max_rows, width)
        self.H = np.empty(shape, dtype)
        normalized = net.normalization is not None
        self.Z = np.empty(shape, dtype) if normalized else self.H
        self.XHAT = np.empty(shape, dtype) if normalized else None
        self.inv: list[np.ndarray | None] = [None] * depth  # 1 / sqrt(var + eps) of each normalization
        self.A = np.empty(shape, dtype)
        self.U = np.empty(shape, dtype) if net.residual else None
        self.output = np.empty((K, max_rows, sizes[-1]), dtype)  # (K, n, n_outputs)
        self.deltas = [np.empty((K, max_rows, width), dtype) for _ in range(4)]
        self.grads = CureStack.zeros(K, sizes, dtype, normalized, n_blocks(depth) if net.residual else 0)
        self.temporaries = Scratch()


def forward(net: CureNetwork, X: np.ndarray, workspace: CureWorkspace | None = None, mode: str = TRAIN) -> Pass:
    """Run all K networks on ``X`` (n, d). ``mode``: ``TRAIN`` normalizes with the batch's statistics,
    ``UPDATE`` too and updates BatchNorm's running statistics (a pass that makes a step), ``EVAL`` uses them."""
    ws = workspace if workspace is not None else CureWorkspace(net, X.shape[0])
    n = X.shape[0]
    H, Z, A = ws.H[:, :, :n], ws.Z[:, :, :n], ws.A[:, :, :n]
    stack, blocks = net.stack, net.blocks
    a = X  # (n, d), broadcast over the K networks by matmul
    for layer in range(net.depth):
        h = H[layer]  # (K, n, width)
        if layer in blocks:  # h = stream + alpha * (a W + b)
            block, stream = blocks[layer]
            u = ws.U[layer, :, :n]
            np.matmul(a, net.weights[layer], out=u)  # (K, n, width) @ (K, width, width)
            u += net.biases[layer]
            np.multiply(u, stack.alphas[:, block, None, None], out=h)
            h += H[stream]
        else:
            np.matmul(a, net.weights[layer], out=h)  # (K, n, fan_in) @ (K, fan_in, width); X broadcasts
            h += net.biases[layer]
        if net.normalization is not None:
            running = None if net.running is None else net.running[:, layer]
            ws.inv[layer] = normalize(net.normalization, h, stack.gammas[:, layer], stack.betas[:, layer], Z[layer],
                                      ws.XHAT[layer, :, :n], running, mode)
        net.activation.apply(Z[layer], A[layer])  # (K, n, width): a = f(z)
        a = A[layer]
    output = ws.output[:, :n]
    np.matmul(a, net.weights[-1], out=output)  # (K, n, width) @ (K, width, n_outputs)
    output += net.biases[-1]
    return Pass(list(Z) + [output], list(A) + [output], (Z, A))


def backward(net: CureNetwork, X: np.ndarray, state: Pass, doutput: np.ndarray, workspace: CureWorkspace) -> CureStack:
    """The gradients of every parameter, into ``workspace.grads`` (returned), from the pass ``state`` that
    ``forward`` made of ``X`` in a training mode, and ``doutput`` (K, n, n_outputs) w.r.t. the outputs.

    Going down the layers: ``da`` is the gradient w.r.t. a layer's activation; ``dh`` w.r.t. its linear
    output, plus, for a stream layer, what the skip connection above brings (``pending``)."""
    ws, grads, n = workspace, workspace.grads, X.shape[0]
    A, Z = state.hidden[1], state.hidden[0]
    da, dz, pending, du = (d[:, :n] for d in ws.deltas)
    ones = ws.temporaries.ones(n, X.dtype)
    _linear_backward(A[-1], doutput, net.weights[-1], grads, net.depth, ones, da)
    blocks, streams = net.blocks, {stream for _, stream in net.blocks.values()}
    for layer in range(net.depth - 1, -1, -1):
        net.activation.scale_grad(da, Z[layer], A[layer], ws.temporaries.get("f'", da.shape, da.dtype))
        dh = dz
        if net.normalization is not None:
            normalize_backward(net.normalization, da, ws.XHAT[layer, :, :n], ws.inv[layer], net.stack.gammas[:, layer],
                               grads.gammas[:, layer], grads.betas[:, layer], dh)
        else:
            np.copyto(dh, da)
        if layer in streams:
            dh += pending  # the skip connection from the block above
        a_in = X if layer == 0 else A[layer - 1]
        if layer in blocks:  # h = stream + alpha * u: the stream gets dh, u gets alpha * dh
            block, _ = blocks[layer]
            u = ws.U[layer, :, :n]
            grads.alphas[:, block] = np.multiply(dh, u, out=du).sum(axis=(1, 2))  # (K,)
            np.copyto(pending, dh)
            np.multiply(dh, net.stack.alphas[:, block, None, None], out=du)
            dh = du
        _linear_backward(a_in, dh, net.weights[layer], grads, layer, ones, da if layer else None)
    if grads.alphas is not None:
        grads.alphas *= net.trained_scalars[:, None]  # fixed scalars: no update
    return grads


def _linear_backward(a_in: np.ndarray, dh: np.ndarray, W: np.ndarray, grads: CureStack, layer: int,
                     ones: np.ndarray, da: np.ndarray | None) -> None:
    """The weight and bias gradients of ``layer`` (h = a_in W + b) from ``dh`` (K, n, fan_out), and ``da``
    = dh W^T (K, n, fan_in), the gradient w.r.t. its input, unless None."""
    a_t = a_in.T if a_in.ndim == 2 else a_in.swapaxes(1, 2)
    np.matmul(a_t, dh, out=grads.weights[layer])  # (K, fan_in, n) @ (K, n, fan_out); X's (d, n) broadcasts
    np.matmul(ones, dh, out=grads.biases[layer][:, 0])  # (n,) @ (K, n, fan_out) -> (K, fan_out)
    if da is not None:
        np.matmul(dh, W.swapaxes(1, 2), out=da)  # (K, n, fan_out) @ (K, fan_out, fan_in)


# ---------------------------------------------------------------- the dispatch the training loop uses

def run_forward(net: Network, X: np.ndarray, workspace, mode: str = TRAIN) -> Pass:
    """``forward`` for a ``CureNetwork``, ``wil.engine.model.forward`` (which has no mode) for a plain one."""
    if isinstance(net, CureNetwork):
        return forward(net, X, workspace, mode)
    return model.forward(net, X, workspace)


def run_backward(net: Network, X: np.ndarray, state: Pass, doutput: np.ndarray, workspace) -> Stack:
    """``backward`` for a ``CureNetwork``, ``wil.engine.model.backward`` for a plain one."""
    if isinstance(net, CureNetwork):
        return backward(net, X, state, doutput, workspace)
    return model.backward(net, X, state, doutput, workspace)


def make_workspace(net: Network, max_rows: int, row_parts: int = 1, pool=None):
    """A ``CureWorkspace`` for a ``CureNetwork`` (no blocks of rows), else ``wil.engine.workspace.Workspace``."""
    if isinstance(net, CureNetwork):
        return CureWorkspace(net, max_rows)
    return Workspace(net, max_rows, row_parts, pool)

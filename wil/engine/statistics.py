"""Numbers from one forward/backward pass of K networks: per-layer statistics (``LAYER_STATS``) and
pre-binned histograms.

All reductions run over arrays the pass already holds; nothing here trains and nothing is stored (which
epochs are recorded, and where, is ``wil.engine.record``'s job). Shapes come from ``wil.spec.layout``.
"""

from __future__ import annotations

import functools

import numpy as np

from wil.engine.model import Network, Pass
from wil.engine.workspace import Scratch, Stack, weight_runs
from wil.spec.layout import GRAD_NORM, LAYER_STATS, N_BINS, STATISTICS_BLOCK, STATISTICS_CHUNK

try:  # np.count_nonzero without its Python wrapper (~0.5 us a call, in a loop over rows)
    from numpy._core.multiarray import count_nonzero as _count_nonzero
except ImportError:  # pragma: no cover - another NumPy layout
    _count_nonzero = np.count_nonzero

# the columns of LAYER_STATS filled from the activations (act_mean to saturated_fraction) and the weights
ACTIVATION_STATS = slice(LAYER_STATS.index("act_mean"), LAYER_STATS.index("saturated_fraction") + 1)
WEIGHT_STD, DISTINCT_UNITS = LAYER_STATS.index("weight_std"), LAYER_STATS.index("distinct_units")
# Two units are the same unit when their projections differ by less than this, relative to the layer's
# largest projection: far below the spread of any random init, far above float64 rounding.
_DISTINCT_TOLERANCE = 1e-7


def layer_statistics(net: Network, state: Pass, grads: list[np.ndarray] | Stack | None,
                     projections: list[np.ndarray], scratch: Scratch | None = None) -> np.ndarray:
    """Statistics of every layer of every network, shape (K, n_layers, len(LAYER_STATS)).

    ``grads`` holds the weight gradients: a list of (K, fan_in, fan_out), one per layer, or the
    ``Stack`` that ``wil.engine.model.backward`` fills; None leaves ``grad_norm`` NaN (training fills it
    from the next mini-batch, see ``gradient_norms``). ``projections[l]`` is a fixed random vector (fan_in + 1,)
    used to count distinct units; ``scratch`` holds temporaries from call to call.
    Dead fraction is defined for the ReLU family (units whose pre-activation is <= 0 on every example),
    saturated fraction for the saturating family (share of unit-example pairs beyond the 5% slope point);
    both are NaN elsewhere and on the output layer.

    Each statistic is computed for many layers per NumPy call: the hidden layers at once when the pass
    stacks them (``Pass.hidden``), and every layer's weights at once from their ``(K, P)`` block.
    """
    K, L = net.n_networks, net.n_layers
    scratch = scratch or Scratch()
    out = np.full((K, L, len(LAYER_STATS)), np.nan)
    if state.hidden is not None:
        groups = [(slice(0, L - 1), *state.hidden, True)]
    else:
        groups = [(slice(layer, layer + 1), state.preactivations[layer][None], state.activations[layer][None],
                   True) for layer in range(L - 1)]
    groups.append((slice(L - 1, L), state.output[None], state.output[None], False))
    for layers, z, a, hidden in groups:
        values = _activation_statistics(z, a, hidden, net.activation, scratch)  # (G, K, 4)
        out[:, layers, ACTIVATION_STATS] = values.transpose(1, 0, 2)
    weights, biases = _parameter_blocks(net)
    sizes = net.sizes
    if grads is not None:
        out[:, :, GRAD_NORM] = gradient_norms(net, grads, scratch)
    out[:, :, WEIGHT_STD] = _weight_std(weights, sizes, scratch)
    out[:, :, DISTINCT_UNITS] = _distinct_units(weights, biases, sizes, projections)
    return out


def gradient_norms(net: Network, grads: list[np.ndarray] | Stack, scratch: Scratch | None = None) -> np.ndarray:
    """The Euclidean norm of each layer's weight gradient, (K, n_layers): the ``grad_norm`` statistic.

    ``grads`` as in ``layer_statistics``. One ``np.add.reduceat`` over the squares of all weights.
    """
    scratch = scratch or Scratch()
    if isinstance(grads, Stack):
        grad_weights = grads.weight_block
    else:
        grad_weights = np.concatenate([g.reshape(net.n_networks, -1) for g in grads[:net.n_layers]], axis=1)
    counts, starts = _weight_counts(tuple(net.sizes))
    sums = np.empty((grad_weights.shape[0], len(starts)), grad_weights.dtype)
    for rows, squares in _row_blocks(grad_weights, scratch):
        np.add.reduceat(np.square(grad_weights[rows], out=squares), starts, axis=1, out=sums[rows])
    return np.sqrt(sums)


def _row_blocks(block: np.ndarray, scratch: Scratch):
    """(rows, a scratch of their shape) for blocks of rows (networks) of the (K, W) ``block`` of about
    ``STATISTICS_BLOCK`` elements: row by row, each row's arithmetic is the whole block's."""
    K, W = block.shape
    step = max(1, STATISTICS_BLOCK // max(W, 1))
    for first in range(0, K, step):
        rows = slice(first, min(first + step, K))
        yield rows, scratch.get("row block", (rows.stop - first, W), block.dtype)


def _activation_statistics(z: np.ndarray, a: np.ndarray, hidden: bool, activation, scratch: Scratch) -> np.ndarray:
    """act_mean, act_std, dead_fraction, saturated_fraction of G layers, (G, K, 4), from (G, K, n, units).

    One row per (layer, network), all rows in one call per pass: its sum (per unit for ReLU, whose column
    sums also tell which units fire), its deviations from the mean, their squares summed as a dot product
    and, for the saturating family, its share of pre-activations beyond the 5% slope point. Rows are taken
    ``STATISTICS_BLOCK`` elements at a time, so that temporaries stay in the cache between the pass that
    writes them and the one that reads them. Sums run as BLAS dot products, a row at a time whatever the
    block, so they accumulate in the run's dtype: relative error ~1e-15 in float64, ~1e-6 in float32.
    """
    G, K, n, units = a.shape
    rows, count = G * K, n * units
    a_rows = a.reshape(rows, count)  # each row's examples are contiguous: a view of the pass's buffer
    ones = scratch.ones(count, a.dtype)
    relu_sums = hidden and activation.name == "relu"
    saturating = hidden and activation.saturation_z is not None
    column_sums = np.empty((rows, units), a.dtype) if relu_sums else None
    mean, squares = np.empty(rows, a.dtype), np.empty(rows, a.dtype)
    beyond = np.empty(rows, np.intp) if saturating else None
    step = max(1, STATISTICS_BLOCK // count)
    for first in range(0, rows, step):
        block = slice(first, min(first + step, rows))
        if relu_sums:
            # a >= 0, so a unit's column sum is > 0 iff it fired
            sums = np.matmul(ones[:n], a_rows[block].reshape(-1, n, units), out=column_sums[block])
            mean[block] = sums.sum(axis=1) / count
        else:
            mean[block] = np.vecdot(a_rows[block], ones) / count
        centered = scratch.get("centered", a_rows[block].shape, a.dtype)
        np.subtract(a_rows[block], mean[block, None], out=centered)  # two passes, as np.std: exact for constants
        squares[block] = np.vecdot(centered, centered)
        if saturating:
            beyond[block] = _count_beyond(z.reshape(rows, count)[block], activation.saturation_z, scratch)
    out = np.full((rows, 4), np.nan)
    out[:, 0] = mean
    out[:, 1] = np.sqrt(squares / count)
    if hidden and activation.family == "relu":
        if relu_sums:
            fires = column_sums > 0
            # NaN sums hide which units fired: those rows ask the pre-activations
            unknown = np.flatnonzero(~np.isfinite(mean))
            if unknown.size:
                fires[unknown] = (z.reshape(rows, n, units)[unknown] > 0).any(axis=1)
        else:  # other ReLU-family members go negative
            fires = (z.reshape(rows, n, units) > 0).any(axis=1)
        out[:, 2] = 1.0 - fires.mean(axis=1)
    if saturating:
        out[:, 3] = beyond / count
    return out.reshape(G, K, 4)


def _count_beyond(z: np.ndarray, bound: float, scratch: Scratch) -> np.ndarray:
    """How many values of each row of the (r, m) z have |z| > bound (z > bound or z < -bound; NaN neither),
    counted row by row (a boolean sum along an axis is several times slower than ``count_nonzero`` on a
    whole row)."""
    magnitude = np.abs(z, out=scratch.get("magnitude", z.shape, z.dtype))
    mask = np.greater(magnitude, bound, out=scratch.get("mask", z.shape, bool))
    return np.fromiter(map(_count_nonzero, mask), np.intp, mask.shape[0])



def _parameter_blocks(net: Network) -> tuple[np.ndarray, np.ndarray]:
    """All weights (K, W) and all biases (K, B), layer after layer: views when the network is stacked,
    else concatenated copies."""
    K = net.n_networks
    if net.stack is not None:
        return net.stack.weight_block, net.stack.bias_block
    return (np.concatenate([W.reshape(K, -1) for W in net.weights], axis=1),
            np.concatenate([b.reshape(K, -1) for b in net.biases], axis=1))


def _weight_std(weights: np.ndarray, sizes, scratch: Scratch) -> np.ndarray:
    """weight_std of every layer, (K, L), from the (K, W) block of all weights."""
    counts, starts = _weight_counts(tuple(sizes))
    mean = np.add.reduceat(weights, starts, axis=1) / counts.astype(weights.dtype)  # (K, L); as np.std, two passes
    sums = np.empty_like(mean)
    for rows, centered in _row_blocks(weights, scratch):
        # each weight less its layer's mean: one call, whatever the layers' shapes
        np.subtract(weights[rows], np.repeat(mean[rows], counts, axis=1), out=centered)
        np.add.reduceat(np.square(centered, out=centered), starts, axis=1, out=sums[rows])
    std = np.sqrt(sums / counts)
    # A layer of equal weights has std 0, not the ~1e-17 rounding leaves (it would show on a log axis). Its
    # std is then |w - mean|, the mean's rounding error, well under |mean|: only such layers are compared.
    rows = np.flatnonzero((std <= np.abs(mean)).any(axis=1))  # networks with such a layer: rare but zeros
    if rows.size:
        some = weights[rows]  # (k, W)
        constant = np.maximum.reduceat(some, starts, axis=1) == np.minimum.reduceat(some, starts, axis=1)
        std[rows] = np.where(constant, 0.0, std[rows])
    return std


@functools.lru_cache(maxsize=64)
def _weight_counts(sizes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Weights per layer and where each layer's start in the block of all weights."""
    counts = np.array([fan_in * fan_out for fan_in, fan_out in zip(sizes[:-1], sizes[1:])])
    return counts, np.concatenate([[0], np.cumsum(counts)[:-1]])


def _distinct_units(weights: np.ndarray, biases: np.ndarray, sizes, projections) -> np.ndarray:
    """``distinct_units`` of every layer, (K, L), its arithmetic: consecutive layers of one shape project
    their units in one product, then every layer's keys are sorted and compared at once, each layer's row
    padded to the widest layer with NaN (which stays NaN, sorts last and makes no gap)."""
    sizes = tuple(sizes)
    bias_columns, last = _distinct_layout(sizes)
    keys = np.full((weights.shape[0],) + bias_columns.shape, np.nan, np.result_type(projections[0], weights))
    for first, W in weight_runs(weights, sizes):  # W: (K, run, fan_in, fan_out)
        run, fan_out = W.shape[1], W.shape[3]
        keys[:, first:first + run, :fan_out] = np.matmul(_stacked(projections, first, run)[:, None, :-1], W)[:, :, 0]
    keys += _bias_projections(projections) * biases[:, bias_columns]
    return _count_gaps(keys, last)


@functools.lru_cache(maxsize=64)
def _distinct_layout(sizes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """For layers padded to the widest: the (L, widest) column of each unit's bias in the block of all
    biases (0 in the padding), and each layer's last unit (L,)."""
    fan_outs = np.array(sizes[1:])
    units = np.arange(fan_outs.max())
    bias_columns = np.where(units < fan_outs[:, None], np.concatenate([[0], np.cumsum(fan_outs)[:-1]])[:, None] + units, 0)
    return bias_columns, fan_outs - 1


def _count_gaps(keys: np.ndarray, last) -> np.ndarray:
    """1 + the gaps wider than the tolerance between the (K, G, units) ``keys`` once sorted along their
    last axis (in place), ``last`` the position of each layer's last key before any padding ((G,) or -1)."""
    keys.sort(axis=2)
    largest = keys[:, np.arange(keys.shape[1]), last]
    scale = np.maximum(-keys[:, :, 0], largest)[:, :, None]  # the largest |key|: sorted, at an end
    gaps = np.subtract(keys[:, :, 1:], keys[:, :, :-1]) > _DISTINCT_TOLERANCE * np.maximum(scale, 1e-300)
    return 1 + np.count_nonzero(gaps, axis=2)


_STACKED: dict = {}  # (id of a projections list, what) -> (the list, an array made from it)


def _kept(projections: list[np.ndarray], what: tuple, make) -> np.ndarray:
    """``make()``, an array made from ``projections``, made once per list (a run's projections are fixed)."""
    key = (id(projections), what)
    kept = _STACKED.get(key)
    if kept is None or kept[0] is not projections:
        if len(_STACKED) > 64:
            _STACKED.clear()
        kept = _STACKED[key] = (projections, make())
    return kept[1]


def _stacked(projections: list[np.ndarray], first: int, run: int) -> np.ndarray:
    """``np.stack(projections[first:first + run])``."""
    return _kept(projections, (first, run), lambda: np.stack(projections[first:first + run]))


def _bias_projections(projections: list[np.ndarray]) -> np.ndarray:
    """(L, 1): the last component of each layer's projection, the one its biases are projected on."""
    return _kept(projections, "bias", lambda: np.stack([p[-1:] for p in projections]))


def distinct_units(W: np.ndarray, b: np.ndarray, projection: np.ndarray) -> np.ndarray:
    """How many units of a layer differ, per network: counts in 1..fan_out.

    A unit is its incoming weights and bias. Projecting each onto one random direction maps distinct
    units to distinct numbers (with probability 1) and equal units to equal numbers, so counting gaps in
    the sorted projections counts distinct units, for all K at once.

    Parameters
    ----------
    W : (K, fan_in, fan_out), or (K, G, fan_in, fan_out) for G layers of one shape
    b : (K, 1, fan_out), or (K, G, fan_out)
    projection : (fan_in + 1,), or (G, fan_in + 1)

    Returns
    -------
    (K,) counts, or (K, G)
    """
    if W.ndim == 3:
        return distinct_units(W[:, None], b, projection[None])[:, 0]
    keys = np.matmul(projection[:, None, :-1], W)[:, :, 0, :]  # (K, G, fan_out)
    keys += projection[:, -1:] * b
    return _count_gaps(keys, -1)


# NaN, infinities and ranges that overflow are this function's input (diverging networks): it handles
# them explicitly, so the floating-point warnings they raise on the way are noise.
@np.errstate(all="ignore")
def histograms(values: np.ndarray, bounds=None, n_bins: int = N_BINS,
               scratch: Scratch | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Histogram each row of values on ``N_BINS`` equal bins.

    A value's bin is ``floor((x - low) / width)``: the same as ``np.histogram(row, bins=edges)`` but for
    values within rounding of an edge (a few units in the last place), which a division may put on either
    side of it. (Comparing every value with its edges, as np.histogram does, cost 2.4x the binning.)

    Parameters
    ----------
    values : (K, ...) any shape after the first axis; non-finite values are left out.
    bounds : (low, high), each a number or a (K,) array: the range binned for every row, else each row's
        own finite min and max. Edges are computed in the values' floating-point precision.
    scratch : temporaries kept from call to call.

    Returns
    -------
    counts : (K, n_bins) int; values outside the bounds fall into the end bins
    left, right : (K, n_bins) bin edges; bins are [left, right), the last one closed
    """
    K = values.shape[0]
    flat = values.reshape(K, -1)
    smallest, largest = flat.min(axis=1), flat.max(axis=1)  # NaN if any is NaN
    plain = bool(np.isfinite(smallest).all() and np.isfinite(largest).all())
    if bounds is None:
        low, high = smallest, largest
        if not plain:
            finite = np.isfinite(flat)
            low = np.where(finite, flat, np.inf).min(axis=1)
            high = np.where(finite, flat, -np.inf).max(axis=1)
            empty = ~np.isfinite(low)
            low[empty], high[empty] = 0.0, 1.0
    else:
        # in the values' precision, as their own min and max would be: float32 arithmetic moves half
        # the bytes, and a value's bin changes only within rounding of an edge
        low = np.broadcast_to(np.asarray(bounds[0], flat.dtype), (K,)).copy()
        high = np.broadcast_to(np.asarray(bounds[1], flat.dtype), (K,)).copy()
        plain = plain and bool((smallest >= low).all() and (largest <= high).all())
    flat_range = high - low <= 1e-12 * np.maximum(np.abs(high), 1.0)
    low, high = np.where(flat_range, low - 0.5, low), np.where(flat_range, high + 0.5, high)
    width = (high - low) / n_bins  # (K,)
    edges = low[:, None] + width[:, None] * np.arange(n_bins + 1, dtype=low.dtype)  # (K, n_bins + 1)
    edges[:, -1] = high
    # the range itself may overflow (float32 values near +-3e38), or a constant row's +-0.5 vanish in
    # rounding (float32 values beyond ~1e7): then positions are NaN, which only the general path handles
    plain = plain and bool(np.isfinite(width).all() and (width > 0).all())
    if plain:
        return _plain_counts(flat, low, width, edges, n_bins, scratch or Scratch()), edges[:, :-1], edges[:, 1:]
    finite = np.isfinite(flat)
    position = (np.where(finite, flat, low[:, None]) - low[:, None]) / width[:, None]
    bins = np.clip(np.nan_to_num(position, nan=0.0, posinf=n_bins - 1, neginf=0.0), 0, n_bins - 1)
    index = bins.astype(np.intp) + (np.arange(K) * n_bins)[:, None]  # (K, m) global bin ids
    counts = np.bincount(index[finite], minlength=K * n_bins).reshape(K, n_bins)
    return counts, edges[:, :-1], edges[:, 1:]


def _plain_counts(flat: np.ndarray, low: np.ndarray, width: np.ndarray, edges: np.ndarray, n_bins: int,
                  scratch: Scratch) -> np.ndarray:
    """Counts when every value is finite and inside [low, high]: no masks, no clipping, rows taken a few
    at a time into reused buffers. The arithmetic (and so each value's bin) is the general path's."""
    K, m = flat.shape
    counts = np.empty((K, n_bins + 1), np.int64)  # the extra bin: values on the top edge
    step = max(1, STATISTICS_CHUNK // max(m, 1))
    dtype = np.result_type(flat, low)
    for first in range(0, K, step):
        rows = slice(first, min(first + step, K))
        position = np.subtract(flat[rows], low[rows, None], out=scratch.get("position", flat[rows].shape, dtype))
        position /= width[rows, None]
        index = scratch.get("index", position.shape, np.intp)
        np.copyto(index, position, casting="unsafe")  # truncation, as astype
        for row, bins in zip(range(rows.start, rows.stop), index):
            counts[row] = np.bincount(bins, minlength=n_bins + 1)
    counts[:, n_bins - 1] += counts[:, n_bins]
    return counts[:, :n_bins]

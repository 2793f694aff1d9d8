"""Per-layer statistics and pre-binned histograms from one forward/backward pass of K networks.

All reductions run over arrays the pass already holds; nothing here trains.
"""

from __future__ import annotations

import numpy as np

from .network import Network, Pass

LAYER_STATS = ("act_mean", "act_std", "dead_fraction", "saturated_fraction", "grad_norm", "weight_std",
               "distinct_units")
HISTOGRAM_QUANTITIES = ("activation", "preactivation", "weight", "gradient")
N_BINS = 30
# Two units are the same unit when their projections differ by less than this, relative to the layer's
# largest projection: far below the spread of any random init, far above float64 rounding.
_DISTINCT_TOLERANCE = 1e-7


def layer_statistics(net: Network, state: Pass, grad_weights: list[np.ndarray],
                     projections: list[np.ndarray]) -> np.ndarray:
    """Statistics of every layer of every network, shape (K, n_layers, len(LAYER_STATS)).

    ``projections[l]`` is a fixed random vector (fan_in + 1,) used to count distinct units.
    Dead fraction is defined for the ReLU family (units whose pre-activation is <= 0 on every example),
    saturated fraction for the saturating family (share of unit-example pairs beyond the 5% slope point);
    both are NaN elsewhere and on the output layer.
    """
    activation = net.activation
    K, L = net.n_networks, net.n_layers
    out = np.full((K, L, len(LAYER_STATS)), np.nan)
    for layer in range(L):
        z, a, W = state.preactivations[layer], state.activations[layer], net.weights[layer]
        out[:, layer, 0] = a.mean(axis=(1, 2))
        out[:, layer, 1] = a.std(axis=(1, 2))
        hidden = layer < L - 1
        if hidden and activation.family == "relu":
            fires = (z > 0).any(axis=1)  # (K, units)
            out[:, layer, 2] = 1.0 - fires.mean(axis=1)
        if hidden and activation.saturation_z is not None:
            out[:, layer, 3] = (np.abs(z) > activation.saturation_z).mean(axis=(1, 2))
        out[:, layer, 4] = np.sqrt(np.einsum("kij,kij->k", grad_weights[layer], grad_weights[layer]))
        out[:, layer, 5] = W.std(axis=(1, 2))
        out[:, layer, 6] = distinct_units(W, net.biases[layer], projections[layer])
    return out


def distinct_units(W: np.ndarray, b: np.ndarray, projection: np.ndarray) -> np.ndarray:
    """How many units of a layer differ, per network: (K,) counts in 1..fan_out.

    A unit is its incoming weights and bias. Projecting each onto one random direction maps distinct
    units to distinct numbers (with probability 1) and equal units to equal numbers, so counting gaps in
    the sorted projections counts distinct units, for all K at once.
    """
    keys = np.matmul(projection[:-1], W) + projection[-1] * b[:, 0, :]  # (K, fan_out)
    keys = np.sort(keys, axis=1)
    scale = np.abs(keys).max(axis=1, keepdims=True)  # (K, 1)
    gaps = np.diff(keys, axis=1) > _DISTINCT_TOLERANCE * np.maximum(scale, 1e-300)
    return 1 + gaps.sum(axis=1)


def histograms(values: np.ndarray, bounds: tuple[float, float] | None = None,
               n_bins: int = N_BINS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Histogram each network's values, all K in one ``np.bincount``.

    Parameters
    ----------
    values : (K, ...) any shape after the first axis; non-finite values are left out.
    bounds : fixed (low, high) for every network, else each network's own finite min and max.

    Returns
    -------
    counts : (K, n_bins) int; values outside fixed bounds fall into the end bins
    left, right : (K, n_bins) bin edges
    """
    K = values.shape[0]
    flat = values.reshape(K, -1)
    finite = np.isfinite(flat)
    if bounds is None:
        low = np.where(finite, flat, np.inf).min(axis=1)
        high = np.where(finite, flat, -np.inf).max(axis=1)
        empty = ~np.isfinite(low)
        low[empty], high[empty] = 0.0, 1.0
    else:
        low, high = np.full(K, float(bounds[0])), np.full(K, float(bounds[1]))
    flat_range = high - low <= 1e-12 * np.maximum(np.abs(high), 1.0)
    low, high = np.where(flat_range, low - 0.5, low), np.where(flat_range, high + 0.5, high)
    width = (high - low) / n_bins  # (K,)
    position = (np.where(finite, flat, low[:, None]) - low[:, None]) / width[:, None]
    bins = np.clip(np.nan_to_num(position, nan=0.0, posinf=n_bins - 1, neginf=0.0), 0, n_bins - 1)
    index = bins.astype(np.int64) + (np.arange(K) * n_bins)[:, None]  # (K, m) global bin ids
    counts = np.bincount(index[finite], minlength=K * n_bins).reshape(K, n_bins)
    left = low[:, None] + width[:, None] * np.arange(n_bins)  # (K, n_bins)
    return counts, left, left + width[:, None]


def activation_bounds(name: str) -> tuple[float, float] | None:
    """Fixed histogram range for bounded activations (as in Glorot & Bengio's Figure 6), else None."""
    return {"tanh": (-1.0, 1.0), "softsign": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}.get(name)

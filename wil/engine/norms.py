"""Normalization layers of K stacked networks, forward and backward side by side: BatchNorm (Ioffe &
Szegedy, 2015) and LayerNorm (Ba et al., 2016), as PyTorch's ``nn.BatchNorm1d`` and ``nn.LayerNorm`` compute
them (eps 1e-5; BatchNorm's running statistics with momentum 0.1 and the unbiased batch variance).

A layer's linear output ``h`` (K, n, width) becomes ``z = gamma * xhat + beta`` with ``xhat = (h - mean) /
sqrt(var + eps)``: BatchNorm takes mean and variance per unit over the ``n`` examples (axis 1), LayerNorm per
example over the ``width`` units (axis 2). ``gamma`` and ``beta`` (K, width) are per unit in both.
"""

from __future__ import annotations

import numpy as np

from wil.spec.residual import BN_MOMENTUM, NORM_EPS

TRAIN, UPDATE, EVAL = "train", "update", "eval"  # batch statistics; the same, updating the running ones; running
MODES = (TRAIN, UPDATE, EVAL)
AXIS = {"batch": 1, "layer": 2}  # the axis of (K, n, width) that the statistics run over


def normalize(kind: str, h: np.ndarray, gamma: np.ndarray, beta: np.ndarray, z: np.ndarray, xhat: np.ndarray,
              running: np.ndarray | None, mode: str) -> np.ndarray:
    """Write ``z`` = the normalization of ``h`` and ``xhat`` its standardized values, all (K, n, width);
    return ``inv`` = 1 / sqrt(var + eps), (K, 1, width) for BatchNorm, (K, n, 1) for LayerNorm.

    ``gamma``, ``beta``: (K, width). ``running`` (K, 2, width): BatchNorm's running mean and variance, used
    in ``EVAL`` mode and updated in place in ``UPDATE`` mode; LayerNorm has none (every mode is the same).
    """
    axis = AXIS[kind]
    if kind == "batch" and mode == EVAL:
        mean, var = running[:, None, 0], running[:, None, 1]  # (K, 1, width)
    else:
        mean = h.mean(axis=axis, keepdims=True)
        np.subtract(h, mean, out=xhat)
        var = np.mean(np.square(xhat, out=z), axis=axis, keepdims=True)  # biased, as PyTorch normalizes
        if kind == "batch" and mode == UPDATE:
            n = h.shape[1]
            running[:, 0] *= 1.0 - BN_MOMENTUM
            running[:, 0] += BN_MOMENTUM * mean[:, 0]
            running[:, 1] *= 1.0 - BN_MOMENTUM
            running[:, 1] += BN_MOMENTUM * var[:, 0] * (n / max(n - 1, 1))  # unbiased, as PyTorch's running
    inv = 1.0 / np.sqrt(var + NORM_EPS)
    if kind == "batch" and mode == EVAL:
        np.subtract(h, mean, out=xhat)
    xhat *= inv
    np.multiply(xhat, gamma[:, None, :], out=z)
    z += beta[:, None, :]
    return inv


def normalize_backward(kind: str, dz: np.ndarray, xhat: np.ndarray, inv: np.ndarray, gamma: np.ndarray,
                       dgamma: np.ndarray, dbeta: np.ndarray, dh: np.ndarray) -> None:
    """The gradients of a normalization in training mode: ``dh`` (K, n, width) w.r.t. its input, ``dgamma``
    and ``dbeta`` (K, width) w.r.t. its scale and shift, from ``dz`` w.r.t. its output.

    With g = dz * gamma: dh = inv * (g - mean(g) - xhat * mean(g * xhat)), the means over the statistics'
    axis (the batch statistics depend on every input, so each input's gradient has the two mean terms).
    """
    axis = AXIS[kind]
    np.multiply(dz, xhat, out=dh)
    dgamma[...] = dh.sum(axis=1)  # over the examples, for both kinds (gamma is per unit)
    dbeta[...] = dz.sum(axis=1)
    np.multiply(dz, gamma[:, None, :], out=dh)  # g
    mean_g = dh.mean(axis=axis, keepdims=True)
    mean_gx = np.mean(dh * xhat, axis=axis, keepdims=True)
    dh -= mean_g
    dh -= xhat * mean_gx
    dh *= inv

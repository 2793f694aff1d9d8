"""The draws the initializers are made of: Keras' variance scaling, its truncated normal, and orthogonal
matrices (``wil.spec.initializers`` holds the entries that use them).

Weights have shape ``(fan_in, fan_out)``: a layer computes ``z = a @ W + b``.
"""

from __future__ import annotations

import math

import numpy as np

# Keras divides the target std by this, the std of a unit normal truncated at +-2, so that the
# truncated draw has exactly the target variance.
TRUNCATED_STD_CORRECTION = 0.87962566103423978


def truncated_normal(rng: np.random.Generator, shape: tuple[int, ...], std: float) -> np.ndarray:
    """Normal(0, std) truncated at +-2 std by redrawing, as ``tf.random.truncated_normal``."""
    out = rng.standard_normal(shape)
    outside = np.abs(out) > 2.0
    while outside.any():
        out[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(out) > 2.0
    return out * std


def fan(fan_in: int, fan_out: int, mode: str) -> float:
    """The ``n`` of variance scaling: ``fan_in``, ``fan_out`` or their mean (``"fan_avg"``)."""
    return {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[mode]


def variance_scaling(rng: np.random.Generator, fan_in: int, fan_out: int, scale: float, mode: str,
                     distribution: str) -> np.ndarray:
    """Keras' ``VarianceScaling``: weights with variance ``scale / n``, n chosen by ``mode``.

    ``distribution`` is ``"truncated_normal"`` (rescaled so the variance is exact), ``"untruncated_normal"``
    or ``"uniform"`` (on +-sqrt(3 scale / n)).
    """
    variance = scale / fan(fan_in, fan_out, mode)
    shape = (fan_in, fan_out)
    if distribution == "uniform":
        limit = math.sqrt(3.0 * variance)
        return rng.uniform(-limit, limit, shape)
    if distribution == "truncated_normal":
        return truncated_normal(rng, shape, math.sqrt(variance) / TRUNCATED_STD_CORRECTION)
    return rng.standard_normal(shape) * math.sqrt(variance)


def orthogonal(rng: np.random.Generator, fan_in: int, fan_out: int, gain: float = 1.0) -> np.ndarray:
    """A (semi-)orthogonal matrix from the QR decomposition of a Gaussian one (Saxe et al., 2014).

    Its columns (fan_in >= fan_out) or rows (fan_in < fan_out) are orthonormal, times ``gain``.
    The sign correction makes the draw uniform over the orthogonal group, as Keras and PyTorch do.
    """
    rows, cols = max(fan_in, fan_out), min(fan_in, fan_out)
    q, r = np.linalg.qr(rng.standard_normal((rows, cols)))  # q: (rows, cols)
    q *= np.sign(np.diag(r))
    if fan_in < fan_out:
        q = q.T
    return gain * q


def sklearn_bound(fan_in: int, fan_out: int, activation: str | None) -> float:
    """scikit-learn's ``_init_coef`` bound: sqrt(factor / (fan_in + fan_out)), factor 2 for sigmoid, else 6."""
    return math.sqrt(sklearn_factor(activation) / (fan_in + fan_out))


def sklearn_factor(activation: str | None) -> float:
    """The numerator of scikit-learn's Glorot-uniform bound: 2 for the logistic activation, else 6."""
    return 2.0 if activation == "sigmoid" else 6.0


def torch_truncated_normal(params: dict | None = None) -> str:
    """``keras_truncated_normal_(w, std)``, the PyTorch port of ``variance_scaling``'s truncated normal,
    as the source of a script's function (PyTorch's own ``kaiming_normal_``/``xavier_normal_`` do not
    truncate)."""
    return f'''def keras_truncated_normal_(w, std):
    """Keras' truncated normal, as wil draws it: N(0, sigma^2) cut at +-2 sigma, with sigma chosen so that
    the cut distribution has exactly the std ``std`` (0.8796 is the std of a unit normal cut at +-2)."""
    sigma = std / {TRUNCATED_STD_CORRECTION!r}
    return nn.init.trunc_normal_(w, mean=0.0, std=sigma, a=-2.0 * sigma, b=2.0 * sigma)'''

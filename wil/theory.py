"""What the Glorot/He variance recursions predict for a network at initialization, to overlay on data.

For independent zero-mean weights of variance ``v_l`` and inputs with second moment ``q_{l-1}``, a unit's
pre-activation has variance ``Var(z_l) = fan_in * v_l * q_{l-1} + Var(b_l)``. Taking ``z_l`` Gaussian
(the wide-layer limit), the next second moment is ``q_l = E[f(z_l)^2]``, computed here by numerical
integration for any activation: ReLU gives ``q_l = Var(z_l) / 2``, hence He's ``v = 2 / fan_in``.
Standardized inputs have ``q_0 = 1``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import math

import numpy as np

from .activations import get_activation
from .config import Config

if TYPE_CHECKING:
    import pandas as pd  # imported where used: it takes longer to import than the rest of wil
from .datasets import DATASETS
from .initializers import get_initializer, parse_entry

# E[g(t)] for t ~ N(0, 1) as a dense trapezoid sum: exact enough for kinked g (ReLU), where
# Gauss-Hermite quadrature converges slowly.
_NODES = np.linspace(-12.0, 12.0, 24001)
_WEIGHTS = np.exp(-0.5 * _NODES**2) / math.sqrt(2.0 * math.pi) * (_NODES[1] - _NODES[0])


def gaussian_moments(f, variance: float) -> tuple[float, float]:
    """``E[f(z)]`` and ``E[f(z)^2]`` for ``z ~ N(0, variance)``."""
    values = f(math.sqrt(max(variance, 0.0)) * _NODES)
    return float(np.sum(_WEIGHTS * values)), float(np.sum(_WEIGHTS * values**2))


def expected_variances(layer_sizes: list[int], weight_variances: list[float], activation: str,
                       bias_variances: list[float] | None = None, input_second_moment: float = 1.0):
    """Predicted per-layer statistics at initialization.

    Parameters
    ----------
    layer_sizes : [n_inputs, width_1, ..., n_outputs]
    weight_variances : Var(w) of each layer (len(layer_sizes) - 1 entries)
    activation : the hidden layers' activation; the output layer is linear
    bias_variances : Var(b) of each layer (default zeros)

    Returns
    -------
    list of (preact_var, act_mean, act_var) per layer, layers 1..n
    """
    f = get_activation(activation).f
    bias_variances = bias_variances or [0.0] * len(weight_variances)
    second_moment = input_second_moment
    out = []
    for layer, (fan_in, variance, bias) in enumerate(zip(layer_sizes[:-1], weight_variances, bias_variances)):
        preact_var = fan_in * variance * second_moment + bias
        if layer == len(weight_variances) - 1:  # the linear output layer
            out.append((preact_var, 0.0, preact_var))
            break
        mean, second_moment = gaussian_moments(f, preact_var)
        out.append((preact_var, mean, second_moment - mean**2))
    return out


def theory_frame(config: Config, initializers=None) -> pd.DataFrame:
    """The predicted ``preact_var``, ``act_var`` and ``act_std`` of every layer for each initializer.

    Columns: initializer, layer, preact_var, act_mean, act_var, act_std. Initializers with no variance formula
    (constant, non-zero mean, LSUV) are left out.
    """
    import pandas as pd

    from .training import _labels  # one parser of entries for the whole library

    labels = _labels(config.labels if initializers is None else initializers)
    spec = DATASETS[config.dataset]
    sizes = [spec.n_features] + [config.width] * config.depth + [spec.n_outputs]
    rows = []
    for label in labels:
        name, params = parse_entry(label)
        entry = get_initializer(name)
        variances = [entry.variance(fan_in, fan_out, params) for fan_in, fan_out in zip(sizes[:-1], sizes[1:])]
        if any(v is None for v in variances):
            continue
        biases = [0.0 if entry.bias_variance is None else entry.bias_variance(fan_in, fan_out, params)
                  for fan_in, fan_out in zip(sizes[:-1], sizes[1:])]
        for layer, (preact_var, act_mean, act_var) in enumerate(
                expected_variances(sizes, variances, config.activation, biases), start=1):
            rows.append((label, layer, preact_var, act_mean, act_var, math.sqrt(max(act_var, 0.0))))
    columns = ["initializer", "layer", "preact_var", "act_mean", "act_var", "act_std"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["initializer"] = pd.Categorical(frame["initializer"], categories=labels, ordered=True)
    return frame

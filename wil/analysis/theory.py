"""What theory predicts for a network at initialization: the Glorot/He variance recursions per layer
(``theory_frame``, to overlay on measured layers), and the mean-field signal propagation of deep random
networks (``mean_field``, ``critical_sigma_w2``, ``phase_frame``: the edge of chaos and the depth scales
that bound trainability; see the note above ``MeanField``).

For independent zero-mean weights of variance ``v_l`` and inputs with second moment ``q_{l-1}``, a unit's
pre-activation has variance ``Var(z_l) = fan_in * v_l * q_{l-1} + Var(b_l)``. Taking ``z_l`` Gaussian
(the wide-layer limit), the next second moment is ``q_l = E[f(z_l)^2]``, computed here by numerical
integration for any activation: ReLU gives ``q_l = Var(z_l) / 2``, hence He's ``v = 2 / fan_in``.
Standardized inputs have ``q_0 = 1``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from wil.analysis.compare import check_config
from wil.analysis.residual_theory import (NO_PREDICTION, PLAIN_PREDICTION, RESIDUAL_PREDICTION,
                                         residual_variances)
from wil.analysis.offsets import output_covariance
from wil.spec.activations import get_activation
from wil.spec.config import Config, checked_labels
from wil.spec.datasets import DATASETS
from wil.spec.labels import get_initializer, parse_entry
from wil.spec.checks import check_callable, check_float, check_layer_lists, check_numbers
from wil.spec.resources import check_fits
from wil.spec.residual import layer_roles, n_blocks

if TYPE_CHECKING:
    import pandas as pd  # imported where used: it takes longer to import than the rest of wil

# E[g(t)] for t ~ N(0, 1) as a dense trapezoid sum: exact enough for kinked g (ReLU), where
# Gauss-Hermite quadrature converges slowly.
MAX_VARIANCE = 1e100  # a variance's bound: the fixed-point searches square it, and 1e200 stays a float
MAX_LAYERS = 100_000  # layers in one expected_variances (each ~0.3 ms of integration)
MAX_PHASE_POINTS = 100_000  # sigma_w2 values in one phase_frame (each costs ~1 ms of integration)
_NODES = np.linspace(-12.0, 12.0, 24001)
_WEIGHTS = np.exp(-0.5 * _NODES**2) / math.sqrt(2.0 * math.pi) * (_NODES[1] - _NODES[0])


def gaussian_moments(f, variance: float) -> tuple[float, float]:
    """``E[f(z)]`` and ``E[f(z)^2]`` for ``z ~ N(0, variance)`` (a negative variance counts as 0)."""
    variance = check_float("variance", variance, None, MAX_VARIANCE)
    values = check_callable("f", f)(math.sqrt(max(variance, 0.0)) * _NODES)
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
    layer_sizes, weight_variances, bias_variances = check_layer_lists(layer_sizes, weight_variances, bias_variances,
                                                                      MAX_LAYERS, MAX_VARIANCE)
    second_moment = _check_variance("input_second_moment", input_second_moment)
    out = []
    for layer, (fan_in, variance, bias) in enumerate(zip(layer_sizes[:-1], weight_variances, bias_variances)):
        preact_var = fan_in * variance * second_moment + bias
        if preact_var > MAX_VARIANCE:
            raise ValueError(f"Invalid weight_variances: layer {layer + 1}'s variance is {preact_var:.3g}")
        if layer == len(weight_variances) - 1:  # the linear output layer
            out.append((preact_var, 0.0, preact_var))
            break
        mean, second_moment = gaussian_moments(f, preact_var)
        out.append((preact_var, mean, second_moment - mean**2))
    return out


def theory_frame(config: Config, initializers=None) -> pd.DataFrame:
    """The predicted ``preact_var``, ``act_var`` and ``act_std`` of every layer for each initializer.

    Columns: initializer, layer, preact_var, act_mean, act_var, act_std, prediction. Initializers with no
    variance formula (constant, non-zero mean, LSUV) are left out. ``prediction`` says which recursion
    gave the numbers: a plain network's, a residual network's (``wil.analysis.residual_theory``: the
    branches' variances add to the stream's), or, with ``config.normalization``, none: those rows are NaN
    and say "no prediction".
    """
    import pandas as pd

    check_config(config)
    labels = list(config.labels if initializers is None else checked_labels("initializers", initializers))
    check_fits(f"A theory frame of {len(labels)} initializers x {config.depth + 1:,} layers",
               300.0 * len(labels) * (config.depth + 1), "reduce depth")
    spec = DATASETS[config.dataset]
    sizes = [spec.n_features] + [config.width] * config.depth + [spec.n_outputs]
    rows = []
    for label in labels:
        predicted = _predicted_layers(config, label, sizes)
        if predicted is None:
            continue
        kind, layers = predicted
        for layer, (preact_var, act_mean, act_var) in enumerate(layers, start=1):
            rows.append((label, layer, preact_var, act_mean, act_var, math.sqrt(max(act_var, 0.0)), kind))
    columns = ["initializer", "layer", "preact_var", "act_mean", "act_var", "act_std", "prediction"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["initializer"] = pd.Categorical(frame["initializer"], categories=labels, ordered=True)
    return frame


def _predicted_layers(config: Config, label: str, sizes: list[int]):
    """(which recursion, [(preact_var, act_mean, act_var) per layer]) for one initializer, or None when it
    has no variance formula."""
    name, params = parse_entry(label)
    entry = get_initializer(name)
    variances = [entry.variance(fan_in, fan_out, params) for fan_in, fan_out in zip(sizes[:-1], sizes[1:])]
    if any(v is None for v in variances):
        return None
    if config.normalization is not None:
        return NO_PREDICTION, [(math.nan, math.nan, math.nan)] * (len(sizes) - 1)
    biases = [0.0 if entry.bias_variance is None else entry.bias_variance(fan_in, fan_out, params, config.activation)
              for fan_in, fan_out in zip(sizes[:-1], sizes[1:])]
    if not config.residual:
        layers = expected_variances(sizes, variances, config.activation, biases)
        preact_var = layers[-1][0]  # the output layer: one network's std excludes its own offset (see below)
        f = get_activation(config.activation).f
        offset = output_covariance(sizes, variances, f, biases, layers, _expect_pair) / sizes[-1]
        return PLAIN_PREDICTION, [*layers[:-1], (preact_var, 0.0, max(preact_var - offset, 0.0))]
    roles, rule = layer_roles(config.depth, True), entry.residual
    if rule is not None:  # the role's factor on the draw: its variance times the factor squared
        variances = [v * rule.layer_factor(role, n_blocks(config.depth), params) ** 2
                     for v, role in zip(variances, roles)]
    alpha = 1.0 if rule is None else rule.branch_scalar(params)
    return RESIDUAL_PREDICTION, residual_variances(sizes, variances, config.activation, biases, roles, alpha,
                                                   gaussian_moments)


# ---------------------------------------------------------------- mean-field signal propagation
#
# Poole et al. (2016), "Exponential expressivity in deep neural networks through transient chaos", and
# Schoenholz et al. (2017), "Deep information propagation": for weights N(0, sigma_w2 / fan_in) and biases
# N(0, sigma_b2) in the wide limit, the pre-activations are Gaussian, and
#   length map       q_{l+1} = sigma_w2 E[f(sqrt(q_l) z)^2] + sigma_b2                        -> q*
#   correlation map  c_{l+1} = (sigma_w2 E[f(u1) f(u2)] + sigma_b2) / q*,  u1 = sqrt(q*) z1,
#                    u2 = sqrt(q*) (c_l z1 + sqrt(1 - c_l^2) z2)                              -> c*
#   chi1 = sigma_w2 E[f'(sqrt(q*) z)^2]: the slope of the correlation map at c = 1, and the factor by which
#   a gradient's squared norm grows per layer going backwards. Ordered phase chi1 < 1 (c* = 1), chaotic
#   chi1 > 1 (c* < 1); the edge of chaos chi1 = 1.
#   xi_q = -1 / ln(chi1 + sigma_w2 E[f''(sqrt(q*) z) f(sqrt(q*) z)]),  xi_c = -1 / ln(chi_c),
#   chi_c = sigma_w2 E[f'(u1) f'(u2)] at c* (chi_c = chi1 when c* = 1).
#
# Quadrature. Gauss-Hermite converges only algebraically on a kink, and ReLU, leaky ReLU, ELU, SELU and
# softsign (f, f' or f'' jump at 0) all have one at z = 0. So every Gaussian integral is split there:
# E[g(z)] = int_0^R (g(z) + g(-z)) phi(z) dz, and 2-D integrals in polar coordinates with the angle cut
# at the rays where u1 = 0 or u2 = 0. Each smooth piece is summed by composite Gauss-Legendre; the
# radius stops at R = 10 (Gaussian mass beyond: 2e-22); panels are finer near 0, so large q stays
# resolved. Achieved (tests/test_theory.py): ReLU's closed forms (E[relu^2] = q/2, the arc-cosine
# kernels) to 1e-14 relative; tanh against adaptive quadrature (scipy's quad) to 1e-14 for q from
# 0.01 to 1e4, and against 150-node Gauss-Hermite, which is exact enough there, to 1e-12 for q <= 1. The term E[f'' f] of xi_q needs no f'': by Gaussian integration by
# parts it is E[f(u) f'(u) z] / sqrt(q) - E[f'(u)^2] (u = sqrt(q) z), so xi_q's argument is the slope of
# the length map, dq_{l+1}/dq_l = sigma_w2 E[f(u) f'(u) z] / sqrt(q), from the registry's f and df alone.

_RADIUS = 10.0
_Q_TINY, _Q_HUGE = 1e-12, 1e12  # q* below or above these is reported as 0 or inf


class MeanField(NamedTuple):
    """The mean-field quantities of a random network; see ``mean_field``."""

    q_star: float  # fixed point of the length map (pre-activation variance deep in the network)
    chi1: float  # sigma_w2 E[f'(sqrt(q*) z)^2]; 1 at the edge of chaos
    c_star: float  # stable fixed point of the correlation map (1 in the ordered phase)
    xi_q: float  # depth scale over which q_l approaches q*
    xi_c: float  # depth scale over which correlations approach c*; diverges at chi1 = 1


def _composite_legendre(edges, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of Gauss-Legendre of ``order`` on each panel between consecutive ``edges``."""
    x, w = np.polynomial.legendre.leggauss(order)
    edges = np.asarray(edges, dtype=float)
    half = 0.5 * np.diff(edges)  # (panels,)
    nodes = (edges[:-1, None] + half[:, None] * (x[None, :] + 1.0)).ravel()  # (panels * order,)
    return nodes, (half[:, None] * w[None, :]).ravel()


# Panels on [0, R], finer near 0 so that f(sqrt(q) z) stays resolved for large q (tanh at q = 1e4 still
# has its turn at z ~ 0.01); 16 nodes each.
_EDGES = [0.0, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.2, 0.4, 0.7, 1.0, 1.5, 2.0, 3.0, 4.0, 5.5, 7.5, _RADIUS]
# 1-D: the half line [0, R], for E[g(z)] = int (g(z) + g(-z)) phi(z) dz
_HALF_NODES, _HALF_WEIGHTS = _composite_legendre(_EDGES, 16)
_HALF_WEIGHTS = _HALF_WEIGHTS * np.exp(-0.5 * _HALF_NODES**2) / math.sqrt(2.0 * math.pi)
# 2-D: radius on [0, R] with the weight r exp(-r^2 / 2) / (2 pi), coarser panels (a 2-D integral is
# evaluated ~20 times per fixed point c*, so nodes cost more: 26,000 here, 0.8 ms a call, within 5e-10 of
# 100,000 for tanh up to q = 50, and exact on ReLU); the angle per piece on [0, 1], scaled
_RADII, _RADIAL_WEIGHTS = _composite_legendre([0.0, 0.03, 0.1, 0.3, 0.7, 1.5, 2.5, 4.0, 6.0, _RADIUS], 12)
_RADIAL_WEIGHTS = _RADIAL_WEIGHTS * _RADII * np.exp(-0.5 * _RADII**2) / (2.0 * math.pi)
_ANGLE_UNIT, _ANGLE_UNIT_WEIGHTS = _composite_legendre([0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0], 10)


def _expect(g) -> float:
    """``E[g(z)]`` for ``z ~ N(0, 1)``, split at the kink z = 0 (see the note above)."""
    z = _HALF_NODES
    return float(np.sum(_HALF_WEIGHTS * (g(z) + g(-z))))


def _expect_pair(g, c: float) -> float:
    """``E[g(z1, c z1 + sqrt(1 - c^2) z2)]`` for independent standard normals, in polar coordinates
    with the angle cut where either argument is 0 (``g`` is smooth between those rays)."""
    s = math.sqrt(max(0.0, 1.0 - c * c))
    theta0 = math.atan2(-c, s) % math.pi  # c cos(t) + s sin(t) = 0
    cuts = np.unique(np.array([0.0, 0.5 * math.pi, 1.5 * math.pi, theta0, theta0 + math.pi, 2.0 * math.pi]))
    widths = np.diff(cuts)
    keep = widths > 1e-15
    angles = (cuts[:-1][keep, None] + widths[keep, None] * _ANGLE_UNIT[None, :]).ravel()  # (A,)
    angle_weights = (widths[keep, None] * _ANGLE_UNIT_WEIGHTS[None, :]).ravel()  # (A,)
    cos, sin = np.cos(angles), np.sin(angles)
    z1 = _RADII[:, None] * cos[None, :]  # (R, A)
    x2 = _RADII[:, None] * (c * cos + s * sin)[None, :]  # (R, A)
    return float(np.sum(_RADIAL_WEIGHTS[:, None] * angle_weights[None, :] * g(z1, x2)))


def _derivative(activation):
    """``f'(x)`` from the registry's ``df(z, a)``."""
    return lambda x: activation.df(x, activation.f(x))


def _length_map(activation, sigma_w2: float, sigma_b2: float, q: float) -> float:
    """``sigma_w2 E[f(sqrt(q) z)^2] + sigma_b2``."""
    root = math.sqrt(q)
    return sigma_w2 * _expect(lambda z: activation.f(root * z) ** 2) + sigma_b2


def _fixed_length(activation, sigma_w2: float, sigma_b2: float, q0: float = 1.0) -> float:
    """The fixed point q* the length map reaches from ``q0`` (standardized inputs: 1): the map is
    increasing, so the iterates move monotonically to the nearest fixed point in their direction, found
    by bracketing and Brent's method; 0 or inf when they vanish or grow without bound."""
    from scipy.optimize import brentq

    def gap(q):
        return _length_map(activation, sigma_w2, sigma_b2, q) - q

    start = gap(q0)
    if abs(start) <= 1e-14 * q0:
        return q0
    step = 2.0 if start > 0 else 0.5
    low = q0
    while True:
        high = low * step
        if high > _Q_HUGE:
            return math.inf
        if high < _Q_TINY:
            return 0.0
        if (gap(high) > 0) != (start > 0):
            a, b = sorted((low, high))
            return brentq(gap, a, b, xtol=1e-15, rtol=1e-14)
        low = high


def _check_variance(name: str, value: object) -> float:
    """A variance argument as a finite float in [0, ``MAX_VARIANCE``], or ValueError/TypeError naming it."""
    return check_float(name, value, 0.0, MAX_VARIANCE)


def mean_field(activation: str, sigma_w2: float, sigma_b2: float) -> MeanField:
    """The mean-field theory of a deep random network (Poole et al., 2016; Schoenholz et al., 2017).

    Parameters
    ----------
    activation : a key of ``wil.ACTIVATIONS``.
    sigma_w2 : weight variance times fan_in (the ``mean_field`` initializer's ``sigma_w2``), >= 0.
    sigma_b2 : bias variance, >= 0.

    Returns
    -------
    MeanField(q_star, chi1, c_star, xi_q, xi_c). ``q_star`` is the fixed point the length map reaches
    from q = 1 (0 or inf if the signal vanishes or grows without bound; the other quantities are then
    their limits, evaluated at q = 1e-12 or 1e12). ``xi_q`` and ``xi_c`` are inf where their map's slope
    is at least 1 (at the edge of chaos, chi1 = 1, xi_c diverges).

    Conventions where the signal vanishes or explodes (``sigma_b2 = 0`` in the ordered phase; ReLU above
    its critical line): ``xi_c`` is the correlation map's own depth scale, which is **inf** there, since the
    map's slope at c* = 1 tends to 1 (a vanishing tanh signal is in its linear regime, an exploding ReLU
    signal outgrows its bias: correlations are kept in both). The ordered-phase formula of Schoenholz et
    al., -1/ln chi1 (4.48 for tanh at sigma_w2 = 0.8, sigma_b2 = 0), is ``xi_q`` there.

    Raises
    ------
    ValueError : unknown activation (the message lists the valid names), negative or NaN variances.
    """
    spec = get_activation(activation)
    sigma_w2, sigma_b2 = _check_variance("sigma_w2", sigma_w2), _check_variance("sigma_b2", sigma_b2)
    f, df = spec.f, _derivative(spec)
    q_star = _fixed_length(spec, sigma_w2, sigma_b2)
    q = min(max(q_star, _Q_TINY), _Q_HUGE)
    root = math.sqrt(q)
    chi1 = sigma_w2 * _expect(lambda z: df(root * z) ** 2)
    # slope of the length map at q*: chi1 + sigma_w2 E[f'' f], by Gaussian integration by parts
    length_slope = sigma_w2 * _expect(lambda z: f(root * z) * df(root * z) * z) / root
    c_star = _fixed_correlation(f, sigma_w2, sigma_b2, q, chi1)
    # the correlation map's slope at c*: sigma_w2 E[f'(u1) f'(u2)] q / q_next, which is Schoenholz et al.'s
    # chi_c when q is the fixed point (q_next = q*) and stays the map's true slope when q* is 0 or inf
    growth = q / _length_map(spec, sigma_w2, sigma_b2, q) if sigma_w2 > 0 else 0.0
    if c_star >= 1.0:
        chi_c = chi1 * growth
    else:
        chi_c = sigma_w2 * growth * _expect_pair(lambda z1, x2: df(root * z1) * df(root * x2), c_star)
    if q_star in (0.0, math.inf) and c_star >= 1.0 and abs(chi_c - 1.0) < 1e-9:
        chi_c = 1.0  # the limit (see the docstring), not 1 - 1e-14 from evaluating at q = 1e12
    return MeanField(q_star, chi1, c_star, _depth_scale(length_slope), _depth_scale(chi_c))


def _depth_scale(slope: float) -> float:
    """``-1 / ln(slope)`` for a map's slope at its fixed point: inf from 1 up, 0 at 0."""
    if slope >= 1.0:
        return math.inf
    if slope <= 0.0:
        return 0.0
    return -1.0 / math.log(slope)


def _fixed_correlation(f, sigma_w2: float, sigma_b2: float, q: float, chi1: float) -> float:
    """The stable fixed point c* of the correlation map: 1 in the ordered phase (chi1 <= 1); else where
    the map crosses the diagonal from above, the largest such crossing below 1."""
    from scipy.optimize import brentq

    if chi1 <= 1.0:
        return 1.0
    root = math.sqrt(q)
    scale = sigma_w2 * _expect(lambda z: f(root * z) ** 2) + sigma_b2  # the map's value at c = 1

    def gap(c):
        covariance = sigma_w2 * _expect_pair(lambda z1, x2: f(root * z1) * f(root * x2), c) + sigma_b2
        return covariance / scale - c

    # just below 1 the map is under the diagonal (its slope there is chi1 > 1); find where that starts
    for epsilon in (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1):
        top = 1.0 - epsilon
        if gap(top) < -1e-12:
            break
    else:
        return 1.0
    grid = np.linspace(-1.0, top, 41)
    for low, high in zip(grid[-2::-1], grid[:0:-1]):  # from the top down
        if gap(low) > 0:
            return brentq(gap, low, high, xtol=1e-14)
    return -1.0


def critical_sigma_w2(activation: str, sigma_b2: float) -> float:
    """The weight variance sigma_w2 at the edge of chaos, where ``mean_field(...).chi1 == 1``.

    Parameters
    ----------
    activation : a key of ``wil.ACTIVATIONS``.
    sigma_b2 : bias variance, >= 0.

    Returns
    -------
    float, by Brent's method on chi1(sigma_w2) - 1 (to 1e-10 relative); e.g. 2 for ReLU with sigma_b2 = 0,
    about 1.76 for tanh with sigma_b2 = 0.05.

    Raises
    ------
    ValueError : unknown activation, negative or NaN ``sigma_b2``, or no crossing in [1e-3, 1e4].
    """
    from scipy.optimize import brentq

    get_activation(activation)
    sigma_b2 = _check_variance("sigma_b2", sigma_b2)

    def gap(sigma_w2):
        return mean_field(activation, sigma_w2, sigma_b2).chi1 - 1.0

    low, high = 1e-3, 1.0
    while gap(high) < 0:
        low, high = high, high * 2.0
        if high > 1e4:
            raise ValueError(f"No edge of chaos for activation {activation!r} with sigma_b2={sigma_b2!r}: "
                             f"chi1 stays below 1 for sigma_w2 up to 1e4")
    if gap(low) > 0:
        raise ValueError(f"No edge of chaos for activation {activation!r} with sigma_b2={sigma_b2!r}: "
                         f"chi1 is above 1 already at sigma_w2 = {low:g}")
    return brentq(gap, low, high, xtol=1e-12, rtol=1e-10)


def phase_frame(activation: str, sigma_b2: float, sigma_w2_values) -> pd.DataFrame:
    """``mean_field`` over a range of sigma_w2, as a frame to draw beside a measured phase diagram.

    Columns: sigma_w2, q_star, chi1, c_star, xi_q, xi_c (inf at the critical point itself).
    """
    import pandas as pd

    get_activation(activation)
    sigma_b2 = _check_variance("sigma_b2", sigma_b2)
    values = check_numbers("sigma_w2_values", sigma_w2_values, MAX_PHASE_POINTS, 0.0, MAX_VARIANCE)
    rows = [(v, *mean_field(activation, v, sigma_b2)) for v in values]
    return pd.DataFrame(rows, columns=["sigma_w2", *MeanField._fields])

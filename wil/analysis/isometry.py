"""Dynamical isometry: what free probability predicts for the singular values of a deep network's
input-output Jacobian at initialization (Pennington, Schoenholz & Ganguli, 2017, "Resurrecting the sigmoid
in deep learning through dynamical isometry"; Pennington, Schoenholz & Ganguli, 2018, "The emergence of
spectral universality in deep networks"; for linear networks Saxe, McClelland & Ganguli, 2014).

The network: ``L`` square layers of width ``N``, ``h_l = W_l x_{l-1} + b_l``, ``x_l = phi(h_l)``, weights of
variance ``sigma_w2 / N`` and biases of variance ``sigma_b2``. Its Jacobian is ``J = prod_l D_l W_l`` with
``D_l = diag(phi'(h_l))``. With every ``h_l`` at the mean-field fixed point (``h_l ~ N(0, q*)``, see
``wil.analysis.theory.mean_field``) and the ``D_l`` and ``W_l`` freely independent, the S-transforms
multiply (Pennington et al. 2017, eq. (12) of §2.3): ``S_{JJ^T} = S_{WW^T}^L S_{D^2}^L``. Expanding them
to first order in ``z`` gives the first two moments of the eigenvalues ``lambda = s^2`` of ``JJ^T``
(§2.5, "the moments of the spectrum")::

    mu_k   = E[phi'(sqrt(q*) z)^(2k)],  z ~ N(0, 1)        (the moments of D^2)
    chi    = sigma_w2 mu_1                                  (= chi1 of the mean-field theory)
    m_1    = E[lambda]      = chi^L
    var    = m_2 - m_1^2    = m_1^2 L (mu_2 / mu_1^2 - 1 - s_1)

where ``s_1`` is the first coefficient of the weights' S-transform ``S_{WW^T}(z) = sigma_w^-2 (1 + s_1 z +
...)``: ``-1`` for independent entries (Gaussian or any i.i.d. law: ``WW^T`` is Wishart, its S-transform
``1 / (sigma_w2 (1 + z))``, §2.4) and ``0`` for scaled orthogonal matrices (``S = sigma_w^-2``). A check
of the formula: for ReLU or hard-tanh with Gaussian weights, ``mu_1 = mu_2 = p`` (the share of active
units), so ``m_2 = m_1^2 (L + p) / p``, the paper's closed form for those networks.

The lesson. At the edge of chaos ``m_1 = 1``; the spectrum's *spread* is then ``L (mu_2/mu_1^2 - 1 - s_1)``.
Gaussian weights add ``L`` (``-s_1 = 1``) whatever the activation: a few directions carry the signal and
most shrink. Orthogonal weights add nothing, and for tanh ``mu_2 / mu_1^2 -> 1`` as ``q* -> 0`` (that is,
``sigma_b2 -> 0`` on the critical line), so every direction keeps its length: dynamical isometry. For ReLU
``mu_2 / mu_1^2 = 2`` always: no choice of weights makes a ReLU network isometric.

These are limits of infinite width at fixed depth; at finite width the corrections grow with ``L / N``
(docs/ISOMETRY.md measures how close they come, ``benchmarks/bench_isometry.py``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from wil.analysis.compare import check_config
from wil.analysis.theory import mean_field
from wil.spec.activations import get_activation
from wil.spec.checks import check_choice, check_float, check_int
from wil.spec.config import Config, checked_labels
from wil.spec.labels import get_initializer, parse_entry

if TYPE_CHECKING:
    import pandas as pd

# s_1 of each weight ensemble (``Initializer.weight_ensemble``): the first coefficient of S_{WW^T}
S1 = {"iid": -1.0, "orthogonal": 0.0}
MAX_LAYERS = 10**6
Q_LIMIT = 1e12  # the variance the theory stands at where q* is infinite (see ``fixed_point_variance``)


class JacobianMoments(NamedTuple):
    """The predicted moments of the squared singular values ``lambda = s^2`` of the Jacobian; see the module."""

    mean: float  # m_1 = chi^L
    variance: float  # m_2 - m_1^2 = m_1^2 L (mu_2 / mu_1^2 - 1 - s_1)
    chi: float  # sigma_w2 mu_1, the growth of m_1 per layer (1 at the edge of chaos)
    mu1: float  # E[phi'(h)^2], h ~ N(0, q*)
    mu2: float  # E[phi'(h)^4]
    s1: float  # -1 for i.i.d. weights, 0 for orthogonal ones
    q_star: float  # the pre-activations' variance at the fixed point
    layers: int  # L, the number of square layers


# E[g(z)], z ~ N(0, 1), split at 0 where phi' of ReLU-like activations jumps: composite Gauss-Legendre of
# 16 nodes on panels of [0, 10] (finer near 0, so that phi'(sqrt(q) z) stays resolved for large q), applied
# to g(z) + g(-z). The Gaussian mass beyond 10 is 2e-23.
def _panel_nodes(edges, order: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights (times the standard normal density) of Gauss-Legendre on each panel."""
    x, w = np.polynomial.legendre.leggauss(order)
    edges = np.asarray(edges, dtype=float)
    half = 0.5 * np.diff(edges)  # (panels,)
    nodes = (edges[:-1, None] + half[:, None] * (x[None, :] + 1.0)).ravel()  # (panels * order,)
    weights = (half[:, None] * w[None, :]).ravel() * np.exp(-0.5 * nodes**2) / math.sqrt(2.0 * math.pi)
    return nodes, weights


_NODES, _WEIGHTS = _panel_nodes([0.0, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.2, 0.4, 0.7, 1.0, 1.5, 2.0, 3.0, 4.0,
                                 5.5, 7.5, 10.0])


def derivative_moments(activation: str, q: float) -> tuple[float, float]:
    """``(mu_1, mu_2) = (E[phi'(h)^2], E[phi'(h)^4])`` for ``h ~ N(0, q)``; ``phi'(0)^2`` and its square at q = 0."""
    spec = get_activation(activation)
    q = check_float("q", q, 0.0, 1e12)
    slopes = spec.df(np.concatenate([_NODES, -_NODES]) * math.sqrt(q))  # (2 * nodes,)
    squared = slopes**2
    weights = np.concatenate([_WEIGHTS, _WEIGHTS])
    return float(np.sum(weights * squared)), float(np.sum(weights * squared**2))


def jacobian_moments(activation: str, sigma_w2: float, sigma_b2: float, layers: int,
                     ensemble: str = "iid") -> JacobianMoments:
    """The free-probability prediction of the mean and variance of ``lambda = s^2``, the squared singular
    values of the Jacobian of ``layers`` square layers at the mean-field fixed point (see the module).

    Parameters
    ----------
    activation : a key of ``wil.ACTIVATIONS``.
    sigma_w2 : weight variance times fan_in (for orthogonal weights: gain squared), >= 0.
    sigma_b2 : bias variance, >= 0.
    layers : L >= 1, the number of square weight matrices the Jacobian is a product of.
    ensemble : "iid" (Gaussian, uniform, truncated: s_1 = -1) or "orthogonal" (s_1 = 0).

    Returns
    -------
    JacobianMoments(mean, variance, chi, mu1, mu2, s1, q_star, layers); ``q_star`` as
    ``fixed_point_variance`` gives it.
    """
    ensemble = check_choice("ensemble", ensemble, S1)
    layers = check_int("layers", layers, 1, MAX_LAYERS)
    q_star = fixed_point_variance(activation, sigma_w2, sigma_b2)  # checks the activation and both variances
    mu1, mu2 = derivative_moments(activation, q_star)
    chi = float(sigma_w2) * mu1
    mean = chi**layers
    spread = mu2 / mu1**2 - 1.0 - S1[ensemble] if mu1 > 0 else math.nan
    return JacobianMoments(mean, mean**2 * layers * spread, chi, mu1, mu2, S1[ensemble], q_star, layers)


def fixed_point_variance(activation: str, sigma_w2: float, sigma_b2: float) -> float:
    """The variance of the pre-activations the theory evaluates ``D`` at: the mean-field fixed point ``q*``
    (``wil.analysis.theory.mean_field``), or ``Q_LIMIT`` where the signal grows without bound (``q*``
    infinite), as ``mean_field`` evaluates its limits. There is no finite fixed point then, but ReLU's and
    a linear network's ``phi'`` do not depend on the scale, so their spectra are the same at any ``q``: at
    ``sigma_w2 = 2`` exactly, ReLU's ``q`` is preserved, and the rounding of ``sigma_w2 = gain^2`` (2 +
    4e-16 for ``gain = sqrt(2)``) makes ``q*`` infinite."""
    q_star = mean_field(activation, sigma_w2, sigma_b2).q_star
    return q_star if math.isfinite(q_star) else Q_LIMIT


def mean_field_parameters(label: str, width: int, activation: str) -> tuple[float, float] | None:
    """``(sigma_w2, sigma_b2)`` of an initializer's square hidden layers of ``width`` units, from its
    registry entry's variance formulas (``sigma_w2 = width Var(w)``); None where it has no formula (LSUV,
    constant)."""
    name, params = parse_entry(label)
    entry = get_initializer(name)
    variance = entry.variance(width, width, params)
    if variance is None:
        return None
    bias = 0.0 if entry.bias_variance is None else entry.bias_variance(width, width, params, activation)
    return width * float(variance), float(bias)


def isometry_frame(config: Config, initializers=None) -> pd.DataFrame:
    """``jacobian_moments`` for each initializer of ``config``'s square hidden stack (``config.depth - 1``
    layers of ``config.width``): what ``wil.jacobian_spectrum`` measures, predicted.

    Columns: initializer, ensemble, sigma_w2, sigma_b2, and the fields of ``JacobianMoments`` (mean and
    variance of the squared singular values). Initializers without a variance formula are left out.
    """
    import pandas as pd

    check_config(config)
    if config.depth < 2:
        raise ValueError(f"Invalid depth: the Jacobian between hidden layers needs depth >= 2, got {config.depth}")
    labels = list(config.labels if initializers is None else checked_labels("initializers", initializers))
    rows = []
    for label in labels:
        parameters = mean_field_parameters(label, config.width, config.activation)
        if parameters is None:
            continue
        ensemble = get_initializer(parse_entry(label)[0]).weight_ensemble
        moments = jacobian_moments(config.activation, *parameters, config.depth - 1, ensemble)
        rows.append((label, ensemble, *parameters, *moments))
    frame = pd.DataFrame(rows, columns=["initializer", "ensemble", "sigma_w2", "sigma_b2", *JacobianMoments._fields])
    frame["initializer"] = pd.Categorical(frame["initializer"], categories=labels, ordered=True)
    return frame


def epochs_to_accuracy(history: pd.DataFrame, target: float = 0.9, split: str = "train") -> pd.DataFrame:
    """The first epoch at which each network's ``split`` accuracy reached ``target``: the training-speed
    measure of ``docs/ISOMETRY.md`` (dynamical isometry's promise is faster training).

    Parameters
    ----------
    history : a training history (``Result.history``, or ``docs/isometry_training.csv``): columns
        initializer, seed, epoch, split, accuracy, and any others that tell runs apart (``dataset``).
    target : the accuracy, in (0, 1].

    Returns
    -------
    DataFrame : one row per network (the history's other columns, initializer, seed) with ``epoch`` (NaN
        if it never got there) and ``epochs_trained``.
    """
    target = check_float("target", target, 0.0, 1.0)
    rows = history[history["split"] == split]
    keys = [c for c in rows.columns if c not in ("epoch", "split", "loss", "accuracy")]
    grouped = rows.groupby(keys, observed=True, sort=False)
    reached = rows[rows["accuracy"] >= target].groupby(keys, observed=True, sort=False)["epoch"].min()
    frame = grouped["epoch"].max().rename("epochs_trained").to_frame()
    frame["epoch"] = reached.reindex(frame.index)
    return frame.reset_index()[[*keys, "epoch", "epochs_trained"]]

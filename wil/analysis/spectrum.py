"""``wil.jacobian_spectrum``: the singular values of each network's Jacobian at initialization, measured on
the very networks ``wil.compare`` would train (``wil.engine.draw.initialize_networks``: same seeds, same
draws), for the free-probability theory of ``wil.analysis.isometry`` to be checked against.

Which Jacobian. A wil network maps ``n_features`` inputs through ``depth`` hidden layers of ``width`` units to
``n_outputs``; the first and last weight matrices are not square (2 x width for moons), so the Jacobian
of the whole map has at most ``min(n_features, n_outputs)`` singular values. The theory (Pennington et al.
2017) is about a product of square layers, so the Jacobian here is that of the hidden stack: the last
hidden layer's activations with respect to the first's, through the ``L = depth - 1`` square layers::

    J = d a_depth / d a_1 = D_depth W_depth^T ... D_2 W_2^T,   D_l = diag(phi'(z_l)),  z_l = a_{l-1} W_l + b_l

(wil's weights are ``(fan_in, fan_out)``: a layer computes ``z = a @ W + b``, so the column convention's
``W_l`` is wil's ``W_l^T``). Where the pre-activations ``z_l`` are taken:

- ``inputs="data"`` (the default): at the first ``n_inputs`` training examples, through the network's own
  first layer: the Jacobian that backpropagation multiplies gradients by at the start of training.
- ``inputs="fixed_point"``: at ``a_1 = phi(u)`` with ``u ~ N(0, q*)`` per unit, ``q*`` the mean-field fixed
  point of the initializer's ``(sigma_w2, sigma_b2)`` (``wil.analysis.isometry.fixed_point_variance``):
  every layer then sits at the fixed point, as the theory assumes. ``u`` is drawn from ``default_rng([seed, 1])``, apart from the weights' generator.

With data, the first layers' variance moves from its start to ``q*`` over a few layers (``xi_q``), and the
measured moments differ from the theory's by that transient (docs/ISOMETRY.md gives both).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from wil.analysis.compare import check_config
from wil.analysis.isometry import fixed_point_variance, mean_field_parameters
from wil.engine.draw import initialize_networks
from wil.engine.threads import blas_threads
from wil.spec.activations import get_activation
from wil.spec.checks import check_choice, check_int, check_seeds
from wil.spec.config import MAX_SEED, checked_labels
from wil.spec.datasets import load_dataset
from wil.spec.resources import check_fits

if TYPE_CHECKING:
    import pandas as pd

INPUTS = ("data", "fixed_point")
MAX_INPUTS = 1024  # inputs per network: each is an SVD of width x width
MAX_SEEDS = 10_000


def jacobian_spectrum(config, initializers=None, seeds=None, *, inputs: str = "data",
                      n_inputs: int = 1) -> pd.DataFrame:
    """The singular values of each network's hidden-stack Jacobian at initialization (see the module).

    Parameters
    ----------
    config : the architecture (``dataset``, ``activation``, ``depth`` >= 2, ``width``, ``dtype``); its
        ``compare`` (or ``initializer``) and ``seeds`` are the defaults below, as in ``wil.compare``.
    initializers : entries, each a name, a ``(name, params)`` pair or a label ``"name(k=v)"``.
    seeds : the networks' seeds, shared by every initializer.
    inputs : "data" or "fixed_point": where the Jacobian is taken (see the module).
    n_inputs : how many inputs per network (training examples, or draws at the fixed point).

    Returns
    -------
    DataFrame, one row per singular value: initializer (categorical, in the given order), seed, input
    (0..n_inputs-1), rank (1 = largest), singular_value. ``attrs["layers"]`` is L = depth - 1.

    Raises
    ------
    ValueError : an invalid argument; depth 1 (no square layer); normalization or residual blocks (the
        product above is a plain network's); ``inputs="fixed_point"`` for an
        initializer without a variance formula (LSUV); a computation that does not fit in memory.
    """
    import pandas as pd

    check_config(config)
    labels = list(config.labels if initializers is None else checked_labels("initializers", initializers))
    seeds = config.seeds if seeds is None else check_seeds("seeds", seeds, MAX_SEED, MAX_SEEDS)
    inputs = check_choice("inputs", inputs, INPUTS)
    n_inputs = check_int("n_inputs", n_inputs, 1, MAX_INPUTS)
    if config.depth < 2:
        raise ValueError(f"Invalid depth: the Jacobian between hidden layers needs depth >= 2, got {config.depth}")
    if getattr(config, "normalization", None) is not None or getattr(config, "residual", False):
        raise ValueError("Invalid config: the Jacobian spectrum covers plain networks (normalization=None, "
                         f"residual=False), got normalization={config.normalization!r}, residual={config.residual!r}")
    n_networks, width = len(labels) * len(seeds), config.width
    weights_bytes = 8.0 * n_networks * (config.depth + 2) * width * (width + 64)
    check_fits(f"The Jacobians of {n_networks} networks of {config.depth} x {width}",
               weights_bytes + 8.0 * 4 * n_networks * n_inputs * width * width, "reduce width, depth or networks")
    data = load_dataset(config.dataset, config.n_samples, config.noise, config.seed)
    with np.errstate(all="ignore"), blas_threads(1):  # one BLAS thread, as the engine (wil.engine.threads)
        net = initialize_networks(config, data, labels, seeds)
        if inputs == "data":
            first = _first_layer(net, data.X_train[:n_inputs])  # (K, n, width)
        else:
            first = _at_fixed_point(config, labels, seeds, n_inputs)  # (K, n, width)
        values = singular_values(net.weights[1:-1], net.biases[1:-1], first, config.activation)  # (K, n, width)
    n = first.shape[1]
    keys = [(label, seed) for label in labels for seed in seeds]  # (K,) label-major, as the engine's
    frame = pd.DataFrame({
        "initializer": np.repeat([label for label, _ in keys], n * width),
        "seed": np.repeat([seed for _, seed in keys], n * width),
        "input": np.tile(np.repeat(np.arange(n), width), n_networks),
        "rank": np.tile(np.arange(1, width + 1), n_networks * n),
        "singular_value": values.reshape(-1),
    })
    frame["initializer"] = pd.Categorical(frame["initializer"], categories=labels, ordered=True)
    frame.attrs["layers"] = config.depth - 1
    return frame


def singular_values(weights, biases, first: np.ndarray, activation: str) -> np.ndarray:
    """The singular values (descending) of ``J = d a_L / d a_1`` for each network and input.

    Parameters
    ----------
    weights, biases : the square hidden layers 2..depth, stacked: (K, width, width) and (K, 1, width) each
    first : a_1, the first hidden layer's activations, (K, n, width)
    activation : a key of ``wil.ACTIVATIONS``

    Returns
    -------
    (K, n, width) array. ``J^T = W_2 D_2 W_3 D_3 ... W_L D_L`` is built left to right, one batched
    ``np.matmul`` per layer: D_l scales the columns.
    """
    spec = get_activation(activation)
    a = np.asarray(first, dtype=np.float64)  # (K, n, width)
    transposed = None
    for W, b in zip(weights, biases):
        W = np.asarray(W, dtype=np.float64)
        z = np.matmul(a, W) + b  # (K, n, width) @ (K, width, width) + (K, 1, width)
        slope = spec.df(z)  # (K, n, width): phi'(z_l), the diagonal of D_l
        if transposed is None:
            transposed = W[:, None, :, :] * slope[:, :, None, :]  # (K, n, width, width)
        else:
            transposed = np.matmul(transposed, W[:, None, :, :])  # (K, n, width, width) @ (K, 1, width, width)
            transposed *= slope[:, :, None, :]  # columns times phi'(z_l)
        a = spec.f(z)
    return np.linalg.svd(transposed, compute_uv=False)  # (K, n, width), descending


def _first_layer(net, X: np.ndarray) -> np.ndarray:
    """a_1 = phi(X W_1 + b_1) for every network: (K, n, width)."""
    z = np.matmul(X.astype(np.float64), np.asarray(net.weights[0], dtype=np.float64)) + net.biases[0]  # (K, n, width)
    return net.activation.f(z)


def _at_fixed_point(config, labels: list[str], seeds: list[int], n_inputs: int) -> np.ndarray:
    """a_1 = phi(u), u ~ N(0, q*) per unit, q* of each initializer's (sigma_w2, sigma_b2): (K, n, width)."""
    spec = get_activation(config.activation)
    rows = []
    for label in labels:
        parameters = mean_field_parameters(label, config.width, config.activation)
        if parameters is None:
            raise ValueError(f"Invalid initializer {label!r} for inputs='fixed_point': it has no variance "
                             "formula, so no mean-field fixed point; use inputs='data'")
        q_star = fixed_point_variance(config.activation, *parameters)
        for seed in seeds:
            rng = np.random.default_rng([seed, 1])
            rows.append(spec.f(math.sqrt(q_star) * rng.standard_normal((n_inputs, config.width))))
    return np.stack(rows)  # (K, n, width)

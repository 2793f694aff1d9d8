"""Theory: the variance recursions against closed forms and against measured networks."""

import math

import numpy as np
import pytest

import wil
from wil.theory import expected_variances, gaussian_moments


def test_gaussian_moments_closed_forms():
    relu = lambda z: np.maximum(z, 0)  # noqa: E731
    mean, second = gaussian_moments(relu, 4.0)
    assert second == pytest.approx(2.0)  # E[relu(z)^2] = Var(z) / 2
    assert mean == pytest.approx(2.0 / math.sqrt(2 * math.pi))  # E[relu(z)] = sigma / sqrt(2 pi)
    assert gaussian_moments(np.tanh, 1.0)[0] == pytest.approx(0.0, abs=1e-12)


def test_he_relu_recursion_is_constant_and_glorot_halves():
    sizes = [100] + [100] * 5 + [2]
    he = expected_variances(sizes, [2 / 100] * 6, "relu")
    glorot = expected_variances(sizes, [1 / 100] * 6, "relu")
    assert [round(v, 9) for v, _, _ in he[1:5]] == [2.0] * 4  # Var(z_1) = 100 * 0.02 * 1, then constant
    ratios = [b[0] / a[0] for a, b in zip(glorot[:-2], glorot[1:-1])]
    assert ratios == pytest.approx([0.5] * len(ratios))


@pytest.mark.parametrize("name, activation", [("glorot_normal", "tanh"), ("he_uniform", "relu"),
                                              ("lecun_normal", "selu"), ("orthogonal", "sigmoid"),
                                              ("random_normal", "gelu")])
def test_recursion_matches_a_simulated_wide_network(name, activation):
    # the mean-field recursion holds in expectation over weights for many independent inputs per unit:
    # iid Gaussian data, width 512, measured statistics averaged over 4 independent networks. (Glorot
    # weights under ReLU would miss by 50% per layer; the tolerance is for finite-width fluctuations.)
    width, depth, draws = 512, 4, 4
    sizes = [width] * (depth + 1) + [2]
    params = wil.initializers.resolve_params(name)
    variances = [wil.INITIALIZERS[name].variance(a, b, params) for a, b in zip(sizes[:-1], sizes[1:])]
    predicted = np.array(expected_variances(sizes, variances, activation)[:depth])  # (depth, 3)
    f = wil.ACTIVATIONS[activation].f
    measured = np.zeros((depth, 3))
    for seed in range(draws):
        rng = np.random.default_rng(seed)
        a = rng.standard_normal((500, width))
        for layer in range(depth):
            z = a @ wil.initialize(name, width, width, rng=rng)
            a = f(z)
            measured[layer] += np.array([z.var(), a.mean(), a.var()]) / draws
    np.testing.assert_allclose(measured[:, 0], predicted[:, 0], rtol=0.12)  # Var(z); the error compounds with depth
    np.testing.assert_allclose(measured[:, 2], predicted[:, 2], rtol=0.12)  # Var(f(z))
    np.testing.assert_allclose(measured[:, 1], predicted[:, 1], atol=0.1 * np.sqrt(predicted[:, 2]).max())


def test_theory_frame_columns_and_exclusions():
    cfg = wil.Config(dataset="moons", depth=4, width=64, activation="relu",
                     compare=("glorot_normal", "he_normal", "lsuv", "constant", "random_normal(mean=1)"))
    theory = wil.theory_frame(cfg)
    assert list(theory.columns) == ["initializer", "layer", "preact_var", "act_mean", "act_var", "act_std"]
    assert set(theory["initializer"]) == {"glorot_normal", "he_normal"}  # no formula for the others
    he = theory[theory["initializer"] == "he_normal"]
    assert list(he["layer"]) == [1, 2, 3, 4, 5]
    assert he["preact_var"].iloc[:4].tolist() == pytest.approx([2.0] * 4)  # He + ReLU: constant


def test_theory_frame_reads_the_bias_variance_of_each_entry():
    # ReLU, sigma_w2 = 2: Var(z_l) = 2 * E[relu(z_{l-1})^2] + sigma_b2 = Var(z_{l-1}) + sigma_b2, so the
    # pre-activation variance grows by exactly sigma_b2 per layer; torch_default's biases add 1/(3 fan_in)
    cfg = wil.Config(dataset="moons", depth=4, width=64, activation="relu",
                     compare=("mean_field(sigma_b2=0.5)", "torch_default"))
    theory = wil.theory_frame(cfg)
    mean_field = theory[theory["initializer"] == "mean_field(sigma_b2=0.5)"]["preact_var"].to_numpy()
    np.testing.assert_allclose(np.diff(mean_field[:4]), [0.5] * 3, rtol=1e-4)  # quadrature error ~1e-6
    torch = theory[theory["initializer"] == "torch_default"]["preact_var"].to_numpy()
    # layer 2: 64 inputs of E[a^2] = Var(z_1)/2, weights 1/(3*64), bias 1/(3*64)
    expected = 64 * (1 / 192) * torch[0] / 2 + 1 / 192
    assert torch[1] == pytest.approx(expected, rel=1e-5)

"""Dynamical isometry: ``wil.jacobian_spectrum`` against finite differences, ``wil.isometry``'s moments against
closed forms and against measured networks, and the spectrum chart."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import wil
from wil.engine.draw import initialize_networks


def finite_difference_singular_values(config, label, seed, n_inputs, eps=1e-6):
    """The singular values of d a_depth / d a_1 at the first ``n_inputs`` training examples, by central
    differences through the hidden layers of the engine's own network: one column per perturbed unit."""
    data = wil.load_dataset(config.dataset, config.n_samples, config.noise, config.seed)
    net = initialize_networks(config, data, [label], [seed])
    f = wil.ACTIVATIONS[config.activation].f

    def hidden_stack(a):  # a_1 (width,) -> a_depth (width,), network 0
        for W, b in zip(net.weights[1:-1], net.biases[1:-1]):
            a = f(a @ W[0] + b[0, 0])
        return a

    values = []
    for x in data.X_train[:n_inputs]:
        a1 = f(x @ net.weights[0][0] + net.biases[0][0, 0])  # (width,)
        columns = []
        for unit in range(config.width):
            step = np.zeros(config.width)
            step[unit] = eps
            columns.append((hidden_stack(a1 + step) - hidden_stack(a1 - step)) / (2 * eps))
        values.append(np.linalg.svd(np.stack(columns, axis=1), compute_uv=False))
    return np.array(values)  # (n_inputs, width)


@pytest.mark.parametrize("activation", ["tanh", "relu", "selu", "sigmoid"])
def test_spectrum_matches_a_finite_difference_jacobian(activation):
    # float64 throughout: central differences err by eps^2 |f'''| ~ 1e-12 plus rounding ~ 1e-16 / eps = 1e-10
    # per entry, on singular values of order 0.01-10; 1e-7 leaves a wide margin (a ReLU kink within 1e-6 of a
    # pre-activation, the one way it could fail, has probability ~1e-6 per unit)
    config = wil.Config(dataset="moons", activation=activation, depth=5, width=7)
    frame = wil.jacobian_spectrum(config, ["orthogonal", "he_normal"], seeds=[3, 4], n_inputs=2)
    assert list(frame.columns) == ["initializer", "seed", "input", "rank", "singular_value"]
    assert len(frame) == 2 * 2 * 2 * 7 and frame.attrs["layers"] == 4
    for (label, seed), rows in frame.groupby(["initializer", "seed"], observed=True):
        measured = rows.sort_values(["input", "rank"])["singular_value"].to_numpy().reshape(2, 7)
        expected = finite_difference_singular_values(config, str(label), int(seed), 2)
        np.testing.assert_allclose(measured, expected, rtol=0, atol=1e-7)


def test_fixed_point_inputs_and_the_same_network_as_training():
    config = wil.Config(dataset="moons", activation="tanh", depth=3, width=5, initializer="orthogonal")
    a = wil.jacobian_spectrum(config, inputs="fixed_point", n_inputs=3)
    b = wil.jacobian_spectrum(config, inputs="fixed_point", n_inputs=3)
    pd.testing.assert_frame_equal(a, b)  # seeded: the same draw each time
    # orthogonal gain 1, no biases, tanh: q* = 0, so every D_l = I and J is a product of rotations
    np.testing.assert_allclose(a["singular_value"], 1.0, atol=1e-12)


def test_invalid_arguments_are_named():
    config = wil.Config(dataset="moons", depth=1, width=4)
    with pytest.raises(ValueError, match="depth >= 2"):
        wil.jacobian_spectrum(config)
    with pytest.raises(ValueError, match="inputs"):
        wil.jacobian_spectrum(wil.Config(depth=3), inputs="middle")
    with pytest.raises(ValueError, match="plain networks"):
        wil.jacobian_spectrum(wil.Config(depth=3, width=4, residual=True))
    with pytest.raises(ValueError, match="no variance formula"):
        wil.jacobian_spectrum(wil.Config(depth=3, width=4), ["lsuv"], inputs="fixed_point")


def test_moments_closed_forms():
    moments = wil.isometry.jacobian_moments
    # a linear network: D = I (mu1 = mu2 = 1); Gaussian products spread as L, orthogonal ones not at all
    assert moments("linear", 1.0, 0.0, 10, "iid")[:2] == pytest.approx((1.0, 10.0))
    assert moments("linear", 1.0, 0.0, 10, "orthogonal")[:2] == pytest.approx((1.0, 0.0), abs=1e-12)
    # ReLU at sigma_w2 = 2: mu1 = mu2 = p = 1/2, so m2 = m1^2 (L + p) / p (Pennington et al. 2017, Gaussian)
    relu = moments("relu", 2.0, 0.0, 16, "iid")
    assert relu.mu1 == pytest.approx(0.5, abs=1e-14) and relu.mu2 == pytest.approx(0.5, abs=1e-14)
    assert relu.variance + relu.mean**2 == pytest.approx(relu.mean**2 * (16 + 0.5) / 0.5, rel=1e-12)
    assert moments("relu", 2.0, 0.0, 16, "orthogonal").variance == pytest.approx(16.0)  # ReLU: never isometric
    # tanh at the edge of chaos: the mean is 1, and chi is mean_field's chi1
    edge = wil.theory.critical_sigma_w2("tanh", 0.05)
    tanh = moments("tanh", edge, 0.05, 32, "orthogonal")
    assert tanh.mean == pytest.approx(1.0, rel=1e-8)
    assert tanh.chi == pytest.approx(wil.theory.mean_field("tanh", edge, 0.05).chi1, rel=1e-10)
    # orthogonal tanh approaches isometry as q* -> 0 (sigma_b2 -> 0 on the critical line)
    spreads = [moments("tanh", wil.theory.critical_sigma_w2("tanh", b), b, 32, "orthogonal").variance
               for b in (0.05, 0.01, 0.0001)]
    assert spreads[0] > spreads[1] > spreads[2] and spreads[2] < 0.1 * spreads[0]


def test_isometry_frame_reads_the_registry():
    config = wil.Config(activation="tanh", depth=9, width=64)
    frame = wil.isometry.isometry_frame(config, ["orthogonal(gain=2)", "mean_field(sigma_w2=1.5,sigma_b2=0.1)", "lsuv"])
    assert list(frame["initializer"]) == ["orthogonal(gain=2)", "mean_field(sigma_w2=1.5, sigma_b2=0.1)"]  # no LSUV
    assert list(frame["ensemble"]) == ["orthogonal", "iid"]
    assert frame["sigma_w2"].tolist() == pytest.approx([4.0, 1.5]) and frame["sigma_b2"].tolist() == [0.0, 0.1]
    assert (frame["layers"] == 8).all()


@pytest.mark.parametrize("label, mean_tol, var_tol", [  # 1-2 s each: BLAS on one thread (spectrum.py)
    ("orthogonal(gain=1.0246950766)", 0.05, 0.12),
    ("mean_field(sigma_w2=1.05,sigma_b2=0)", 0.08, 0.20),
])
def test_theory_matches_measured_moments_at_moderate_width(label, mean_tol, var_tol):
    # width 256, L = 8 square layers, tanh at sigma_w2 = 1.05, sigma_b2 = 0 (q* = 0.025), inputs at the fixed
    # point, the eigenvalues of 4 networks pooled. The finite-width bias is O(L / N) = 3%. The statistical
    # error of the pooled mean, from benchmarks/bench_isometry.py (6-8 seeds, same cell): the seed-to-seed
    # standard error is 1.1% (orthogonal) and 1.7% (Gaussian) of the mean at 6-8 seeds, 2.4% at 4; of the
    # variance 3.2% and 4.3%, 6% at 4. Tolerances: about the bias plus 2 to 3 standard errors.
    config = wil.Config(dataset="moons", activation="tanh", depth=9, width=256)
    frame = wil.jacobian_spectrum(config, [label], seeds=[0, 1, 2, 3], inputs="fixed_point")
    lam = frame["singular_value"].to_numpy() ** 2
    per_network = lam.reshape(4, 256)
    theory = wil.isometry.isometry_frame(config, [label]).iloc[0]
    assert per_network.mean() == pytest.approx(theory["mean"], rel=mean_tol)
    assert per_network.var(axis=1).mean() == pytest.approx(theory["variance"], rel=var_tol)


def test_spectrum_chart_to_dict():
    from wil import charts

    config = wil.Config(dataset="moons", activation="tanh", depth=4, width=8)
    spectrum = wil.jacobian_spectrum(config, ["orthogonal", "glorot_normal"], seeds=[0, 1])
    both = pd.concat([spectrum.assign(panel="tanh"), spectrum.assign(panel="again")])
    spec = charts.singular_value_spectrum(both, fit_width=700).to_dict()
    assert spec["title"]["text"] == charts.VIEWS["spectrum"]["singular_value"].title
    assert spec["facet"]["column"]["sort"] == ["tanh", "again"]
    marks = [layer["mark"]["type"] for layer in spec["spec"]["layer"]]
    assert marks == ["line", "area", "rule"]
    rows = charts.spectrum_frame(both)
    assert len(rows) == 2 * 2 * 8 and rows["share"].between(0, 1).all()
    assert (rows["median"] >= charts.spectrum_frame.__globals__["FLOOR"]).all()
    single = charts.singular_value_spectrum(spectrum).to_dict()  # no panel column: one panel
    assert "facet" not in single and math.isclose(single["layer"][2]["encoding"]["y"]["datum"], 1.0)


def test_epochs_to_accuracy_reads_the_first_epoch_at_the_target():
    rows = [("a", 0, e, "train", 0.0, acc) for e, acc in enumerate([0.1, 0.5, 0.91, 0.85, 0.95])]
    rows += [("b", 0, e, "train", 0.0, acc) for e, acc in enumerate([0.1, 0.2, 0.3, 0.4, 0.5])]
    rows += [("b", 0, e, "test", 0.0, 0.99) for e in range(5)]  # another split: not read
    history = pd.DataFrame(rows, columns=["initializer", "seed", "epoch", "split", "loss", "accuracy"])
    reached = wil.isometry.epochs_to_accuracy(history, 0.9)
    assert reached["epoch"].iloc[0] == 2 and np.isnan(reached["epoch"].iloc[1])
    assert reached["epochs_trained"].tolist() == [4, 4]
    with pytest.raises(ValueError, match="target"):
        wil.isometry.epochs_to_accuracy(history, 1.5)

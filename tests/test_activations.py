"""Activations: derivatives against central differences, gains against their definitions."""

import math

import numpy as np
import pytest

import wil
from wil.spec.activations import get_activation, second_moment_gain

Z = np.linspace(-4.0, 4.0, 161)
Z = Z[np.abs(Z) > 1e-3]  # ReLU-family kinks at 0


@pytest.mark.parametrize("name", sorted(wil.ACTIVATIONS))
def test_derivative_matches_central_differences(name):
    act = get_activation(name)
    h = 1e-6
    numeric = (act.f(Z + h) - act.f(Z - h)) / (2 * h)
    np.testing.assert_allclose(act.df(Z, act.f(Z)), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", sorted(wil.ACTIVATIONS))
def test_entry_is_complete(name):
    act = get_activation(name)
    assert act.name == name and act.label and act.latex and act.description and act.gain > 0
    assert act.family in ("relu", "saturating", "smooth")
    assert (act.saturation_z is not None) == (act.family == "saturating")


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softsign"])
def test_bounded_activations_never_overflow(name):
    act = get_activation(name)
    big = np.array([-1e300, -1e5, 1e5, 1e300])
    with np.errstate(over="raise", invalid="raise"):
        a = act.f(big)
        slope = act.df(big, a)
    assert np.isfinite(a).all() and np.isfinite(slope).all()


def test_known_values():
    np.testing.assert_allclose(get_activation("sigmoid").f(np.array([0.0, 2.0])), [0.5, 1 / (1 + math.exp(-2))])
    np.testing.assert_allclose(get_activation("selu").f(np.array([1.0])), [1.0507009873554805])
    np.testing.assert_allclose(get_activation("leaky_relu").f(np.array([-2.0, 3.0])), [-0.02, 3.0])
    np.testing.assert_allclose(get_activation("softsign").f(np.array([1.0])), [0.5])


def test_gains_follow_pytorch():
    assert get_activation("relu").gain == pytest.approx(math.sqrt(2))
    assert get_activation("tanh").gain == pytest.approx(5 / 3)
    assert get_activation("selu").gain == 0.75
    assert get_activation("linear").gain == 1.0
    assert get_activation("leaky_relu").gain == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))


def test_second_moment_gain_gives_sqrt2_for_relu_and_1_for_linear():
    assert second_moment_gain(lambda z: np.maximum(z, 0)) == pytest.approx(math.sqrt(2), rel=1e-6)
    assert second_moment_gain(lambda z: z) == pytest.approx(1.0, rel=1e-9)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softsign"])
def test_saturation_point_is_where_slope_drops_to_five_percent(name):
    act = get_activation(name)
    z = np.array([act.saturation_z])
    peak = act.df(np.zeros(1), act.f(np.zeros(1)))[0]
    assert act.df(z, act.f(z))[0] == pytest.approx(0.05 * peak, rel=1e-9)


def test_unknown_activation_message():
    with pytest.raises(ValueError, match=r"Invalid activation 'softmax'; choose from \[.*'relu'"):
        get_activation("softmax")

"""Initializers against their formulas: variance, bounds, distribution shape, orthogonality, labels."""

import math

import numpy as np
import pytest

import wil
from wil.spec.labels import make_label, parse_entry, resolve_params
from wil.spec.samplers import TRUNCATED_STD_CORRECTION

FAN_IN, FAN_OUT = 400, 300  # 120,000 draws: sample variances within ~1% of their target


def draw(name, fan_in=FAN_IN, fan_out=FAN_OUT, seed=0, **params):
    return wil.initialize(name, fan_in, fan_out, seed=seed, **params)


# name -> (expected variance, bound or None, "uniform" | "truncated" | "normal")
VARIANCE_SCALING = {
    "glorot_uniform": (2.0 / (FAN_IN + FAN_OUT), math.sqrt(6.0 / (FAN_IN + FAN_OUT)), "uniform"),
    "glorot_normal": (2.0 / (FAN_IN + FAN_OUT), None, "truncated"),
    "he_uniform": (2.0 / FAN_IN, math.sqrt(6.0 / FAN_IN), "uniform"),
    "he_normal": (2.0 / FAN_IN, None, "truncated"),
    "lecun_uniform": (1.0 / FAN_IN, math.sqrt(3.0 / FAN_IN), "uniform"),
    "lecun_normal": (1.0 / FAN_IN, None, "truncated"),
    "torch_default": (1.0 / (3.0 * FAN_IN), 1.0 / math.sqrt(FAN_IN), "uniform"),
    "sklearn_default": (2.0 / (FAN_IN + FAN_OUT), math.sqrt(6.0 / (FAN_IN + FAN_OUT)), "uniform"),
    "random_uniform": (0.05**2 / 3.0, 0.05, "uniform"),
    "random_normal": (0.05**2, None, "normal"),
    "truncated_normal": ((0.05 * TRUNCATED_STD_CORRECTION) ** 2, 2 * 0.05, "truncated_raw"),
    "mean_field": (2.0 / FAN_IN, None, "normal"),  # sigma_w2 = 2 by default, untruncated
}


def kurtosis(x):
    x = x - x.mean()
    return float(np.mean(x**4) / np.mean(x**2) ** 2)


@pytest.mark.parametrize("name", sorted(VARIANCE_SCALING))
def test_variance_matches_formula(name):
    W = draw(name)
    variance, bound, shape = VARIANCE_SCALING[name]
    assert W.shape == (FAN_IN, FAN_OUT) and W.dtype == np.float64
    assert abs(W.mean()) < 4 * math.sqrt(variance / W.size)
    assert W.var() == pytest.approx(variance, rel=0.02)
    # the registry's own variance formula agrees with the draw
    spec = wil.INITIALIZERS[name]
    assert spec.variance(FAN_IN, FAN_OUT, resolve_params(name)) == pytest.approx(variance, rel=1e-12)
    if bound is not None:
        assert np.abs(W).max() <= bound
        assert np.abs(W).max() > 0.99 * bound  # the draw fills its interval
    # the distribution's shape: uniform kurtosis 1.8, normal 3, normal truncated at 2 sigma ~2.36
    expected_kurtosis = {"uniform": 1.8, "normal": 3.0, "truncated": 2.3633, "truncated_raw": 2.3633}[shape]
    assert kurtosis(W) == pytest.approx(expected_kurtosis, abs=0.06)


@pytest.mark.parametrize("name", ["glorot_normal", "he_normal", "lecun_normal"])
def test_truncated_normals_stop_at_two_std_of_the_rescaled_normal(name):
    W = draw(name)
    variance = VARIANCE_SCALING[name][0]
    std_before_truncation = math.sqrt(variance) / TRUNCATED_STD_CORRECTION
    assert np.abs(W).max() <= 2 * std_before_truncation
    assert np.abs(W).max() > 1.98 * std_before_truncation


def test_truncation_correction_is_the_std_of_a_unit_normal_truncated_at_two():
    # Var of N(0,1) truncated to [-2, 2] = 1 - 2 * 2 * phi(2) / (2 Phi(2) - 1)
    phi = math.exp(-2.0) / math.sqrt(2 * math.pi)
    mass = math.erf(2 / math.sqrt(2))
    assert math.sqrt(1 - 4 * phi / mass) == pytest.approx(TRUNCATED_STD_CORRECTION, rel=1e-12)


def test_sklearn_default_uses_factor_two_for_sigmoid():
    W = wil.initialize("sklearn_default", FAN_IN, FAN_OUT, seed=0, activation="sigmoid")
    assert np.abs(W).max() <= math.sqrt(2.0 / (FAN_IN + FAN_OUT))
    assert W.var() == pytest.approx(2.0 / (3 * (FAN_IN + FAN_OUT)), rel=0.02)


def test_zeros_and_constant():
    assert not draw("zeros").any()
    assert np.all(draw("constant", value=0.3) == 0.3)
    assert np.all(draw("constant") == 0.1)  # wil's default (Keras' 0 would equal zeros)


@pytest.mark.parametrize("fan_in, fan_out", [(64, 64), (100, 30), (30, 100)])
def test_orthogonal_is_orthogonal(fan_in, fan_out):
    W = draw("orthogonal", fan_in, fan_out, gain=2.0)
    small = min(fan_in, fan_out)
    gram = W.T @ W if fan_in >= fan_out else W @ W.T  # (small, small)
    np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-10)
    assert W.var() == pytest.approx(4.0 / max(fan_in, fan_out), rel=0.05)


def test_lsuv_without_data_is_its_orthogonal_start():
    np.testing.assert_array_equal(draw("lsuv", 50, 40), draw("orthogonal", 50, 40))


@pytest.mark.parametrize("name", sorted(wil.INITIALIZERS))
def test_scale_multiplies_the_weights(name):
    base = draw(name, 30, 20, seed=3)
    scaled = draw(name, 30, 20, seed=3, scale=10.0)
    np.testing.assert_allclose(scaled, 10.0 * base, rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", sorted(wil.INITIALIZERS))
def test_every_entry_is_complete(name):
    spec = wil.INITIALIZERS[name]
    assert spec.name == name and spec.label and spec.description and spec.latex
    assert spec.pytorch and spec.keras and "scale" in spec.params
    for key, param in spec.params.items():
        assert param.low <= param.default <= param.high, key


def test_same_seed_same_weights_other_seed_other_weights():
    np.testing.assert_array_equal(draw("he_normal", seed=5), draw("he_normal", seed=5))
    assert not np.array_equal(draw("he_normal", seed=5), draw("he_normal", seed=6))


def test_random_normal_takes_params_by_keyword():
    W = wil.initialize("random_normal", 64, 64, seed=1, std=0.01)
    assert W.std() == pytest.approx(0.01, rel=0.05)


@pytest.mark.parametrize("call, message", [
    (lambda: wil.initialize("xavier", 3, 3), r"Invalid initializer 'xavier'; choose from \[.*'he_normal'"),
    (lambda: wil.initialize("he_normal", 0, 3), r"Invalid fan_in: expected an integer >= 1, got 0"),
    (lambda: wil.initialize("he_normal", 3, 2.5), r"Invalid fan_out: expected an integer >= 1, got 2.5"),
    (lambda: wil.initialize("random_normal", 3, 3, sd=1), r"Invalid parameter 'sd' for initializer 'random_normal'"),
    (lambda: wil.initialize("random_normal", 3, 3, std=-1), r"std.*expected a number in \[1e-06, 1000\], got -1"),
    (lambda: wil.initialize("random_normal", 3, 3, std=float("nan")), r"std.*nan"),
    (lambda: wil.initialize("he_normal", 3, 3, scale="big"), r"expected a number in .*, got 'big'"),
    (lambda: wil.initialize("he_normal", 3, 3, seed=True), r"Invalid seed: expected an integer >= 0, got True"),
    (lambda: wil.initialize("he_normal", 3, 3, seed=-2), r"Invalid seed: expected an integer >= 0, got -2"),
    (lambda: wil.initialize("he_normal", 3, 3, rng=42), r"Invalid rng: expected a numpy.random.Generator, got 42"),
    (lambda: wil.initialize("sklearn_default", 3, 3, activation="nope"), r"Invalid activation 'nope'; choose from"),
    (lambda: wil.initialize(None, 3, 3), r"Invalid initializer: expected a name"),
    (lambda: wil.initialize("he_normal", 10**7, 10**7), r"A 10,000,000 x 10,000,000 weight matrix needs about "
                                                         r"4e\+03 TB of memory at its peak, and .* is available"),
    (lambda: wil.parse_entry("random_normal(std=0.01, std=0.5)"), r"'std' is given twice"),
    (lambda: wil.parse_entry(("he_normal", [1, 2])), r"expected a name or \(name, params\)"),
    (lambda: wil.parse_entry(3), r"expected a name or \(name, params\)"),
])
def test_bad_input_messages(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_labels_round_trip():
    assert make_label("random_normal", {"std": 0.01}) == "random_normal(std=0.01)"
    assert make_label("he_normal", {}) == "he_normal"
    assert make_label("he_normal", {"scale": 1.0}) == "he_normal"
    label = make_label("lsuv", {"tol": 0.05, "max_iter": 20, "scale": 3})
    name, params = parse_entry(label)
    assert name == "lsuv" and params["tol"] == 0.05 and params["max_iter"] == 20 and params["scale"] == 3
    assert make_label(name, params) == label
    assert parse_entry(("random_normal", {"std": 1.0}))[1]["std"] == 1.0


@pytest.mark.parametrize("text", ["random_normal(std)", "random_normal(std=abc)", "Robert'); DROP", "he_normal(",
                                  "random_normal(std=0.01, std2=1)"])
def test_malformed_labels_are_rejected(text):
    with pytest.raises(ValueError, match="Invalid"):
        parse_entry(text)


@pytest.mark.parametrize("sigma_w2, sigma_b2", [(1.76, 0.05), (4.0, 0.0), (0.5, 2.0)])
def test_mean_field_weights_and_biases_match_their_variances(sigma_w2, sigma_b2):
    W = draw("mean_field", sigma_w2=sigma_w2, sigma_b2=sigma_b2)
    assert W.var() == pytest.approx(sigma_w2 / FAN_IN, rel=0.02)  # 120,000 draws: ~0.4% std error
    assert kurtosis(W) == pytest.approx(3.0, abs=0.06)  # untruncated normal
    spec = wil.INITIALIZERS["mean_field"]
    params = resolve_params("mean_field", {"sigma_w2": sigma_w2, "sigma_b2": sigma_b2})
    assert spec.variance(FAN_IN, FAN_OUT, params) == pytest.approx(sigma_w2 / FAN_IN, rel=1e-12)
    biases = spec.bias(np.random.default_rng(0), 10, 100_000, params)  # (100000,)
    assert biases.var() == pytest.approx(sigma_b2, rel=0.02, abs=1e-12)  # ~0.45% std error
    assert spec.bias_variance(10, 100_000, params) == sigma_b2


# name -> Var(b) for schemes that draw biases (uniform on +-bound: bound^2 / 3)
BIAS_VARIANCES = {"torch_default": 1.0 / (3.0 * FAN_IN), "sklearn_default": 2.0 / (FAN_IN + FAN_OUT),
                  "mean_field": 0.0}


@pytest.mark.parametrize("name", sorted(wil.INITIALIZERS))
def test_bias_variance_matches_the_bias_sampler(name):
    spec = wil.INITIALIZERS[name]
    params = resolve_params(name)
    if spec.bias is None:
        assert spec.bias_variance is None  # zero biases
        return
    biases = np.concatenate([spec.bias(np.random.default_rng(seed), FAN_IN, FAN_OUT, params, "relu")
                             for seed in range(300)])  # 90,000 draws
    assert spec.bias_variance(FAN_IN, FAN_OUT, params) == pytest.approx(BIAS_VARIANCES[name], rel=1e-12)
    assert biases.var() == pytest.approx(BIAS_VARIANCES[name], rel=0.02, abs=1e-12)


def test_mean_field_labels_round_trip():
    assert make_label("mean_field", {"sigma_w2": 1.5}) == "mean_field(sigma_w2=1.5)"
    assert parse_entry("mean_field(sigma_w2=1.5, sigma_b2=0.05)")[1] == {
        "sigma_w2": 1.5, "sigma_b2": 0.05, "scale": 1.0}


def test_every_registered_initializer_has_a_short_name_of_its_own():
    """Legends and sentences name each scheme in words: a new registry entry must get its short name."""
    from wil.analysis.names import SHORT_NAMES

    assert set(SHORT_NAMES) == set(wil.INITIALIZERS)
    assert len(set(SHORT_NAMES.values())) == len(SHORT_NAMES)
    assert wil.short_name("fixup") == "Fixup" and wil.short_name("he_normal(scale=2)").startswith("He normal")

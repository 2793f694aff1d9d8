"""Config: validation messages, hashing, and the URL round trip."""

import dataclasses

import numpy as np
import pytest

import wil
from wil import Config


def test_defaults_are_valid_and_hashable():
    assert hash(Config()) == hash(Config())
    with pytest.raises(dataclasses.FrozenInstanceError):
        Config().depth = 3


def test_labels_are_canonicalized():
    cfg = Config(initializer="random_normal(std=0.050)", compare=[("random_normal", {"std": 0.01}), "he_normal"])
    assert cfg.initializer == "random_normal"  # std 0.05 is the default
    assert cfg.compare == ("random_normal(std=0.01)", "he_normal")
    assert cfg.labels == cfg.compare and Config(n_seeds=3, seed=7).seeds == [7, 8, 9]


@pytest.mark.parametrize("field, value, message", [
    ("dataset", "mnist", r"Invalid dataset 'mnist'; choose from \[.*'moons'"),
    ("activation", "softmax", r"Invalid activation 'softmax'; choose from"),
    ("activation", "nope", r"Invalid activation 'nope'; choose from"),
    ("optimizer", "rmsprop", r"Invalid optimizer 'rmsprop'; choose from \['adam', 'momentum', 'sgd'\]"),
    ("depth", 0, r"Invalid depth: expected an integer in \[1, 9,223,372,036,854,775,807\], got 0"),
    ("epochs", 10**30, r"Invalid epochs: expected an integer in \[1, 9,223,372,036,854,775,807\], got an integer of"),
    ("depth", 2.5, r"Invalid depth: expected an integer"),
    ("depth", True, r"Invalid depth: expected an integer"),
    ("depth", np.array([5]), r"Invalid depth: expected an integer in .*, got array\(\[5\]\)"),
    ("width", -3, r"Invalid width: expected an integer in \[1, .*\], got -3"),
    ("learning_rate", -0.1, r"Invalid learning_rate: expected a number > 0, got -0.1"),
    ("learning_rate", 0.0, r"Invalid learning_rate: expected a number > 0, got 0.0"),
    ("learning_rate", float("nan"), r"Invalid learning_rate: expected a number > 0, got nan"),
    ("learning_rate", float("inf"), r"Invalid learning_rate: expected a number > 0, got inf"),
    ("learning_rate", "fast", r"Invalid learning_rate: expected a number"),
    ("learning_rate", 10**400, r"Invalid learning_rate: expected a number > 0, got an integer of about"),
    ("noise", -1.0, r"Invalid noise: expected a number >= 0"),
    ("noise", 0.1 + 0.2j, r"Invalid noise: expected a number >= 0, got \(0.1\+0.2j\)"),
    ("noise", np.array([0.1]), r"Invalid noise: expected a number"),
    ("seed", -1, r"Invalid seed: expected an integer in \[0, 4,294,967,295\], got -1"),
    ("seed", True, r"Invalid seed: expected an integer"),
    ("seed", 2**32, r"Invalid seed: expected an integer in \[0, 4,294,967,295\]"),
    ("batch_size", 0, r"Invalid batch_size: expected an integer in \[1, .*\], got 0"),
    ("batch_size", 400, r"Invalid batch_size: got 400, but the training split has only 375 samples"),
    ("n_seeds", 0, r"Invalid n_seeds"),
    ("dtype", "float16", r"Invalid dtype 'float16'"),
    ("initializer", "xavier", r"Invalid initializer: Invalid initializer 'xavier'"),
    ("initializer", "random_normal(std=0.01, std=0.5)", r"Invalid initializer: .*'std' is given twice"),
    ("compare", "he_normal", r"Invalid compare: expected a list"),
    ("compare", ("he_normal", "he_normal(scale=1)"), r"'he_normal' is listed twice"),
    ("compare", ("random_normal(std=-1)",), r"Invalid compare: .*std.*expected a number in \[1e-06, 1000\], got -1.0"),
])
def test_bad_values_name_the_field(field, value, message):
    with pytest.raises(ValueError, match=message):
        Config(**{"n_samples": 500, field: value})


@pytest.mark.parametrize("field, value", [("depth", 2.5), ("depth", True), ("learning_rate", "fast"),
                                          ("noise", 1j), ("dataset", 3), ("compare", "he_normal"), ("seed", None)])
def test_a_wrong_type_is_a_type_error_too(field, value):
    with pytest.raises(TypeError, match=f"Invalid {field}"):
        Config(**{field: value})


def test_no_server_budget_binds_the_library():
    """What a small server refuses is valid here: deep, wide, long, many seeds and initializers."""
    config = Config(depth=200, width=2048, epochs=100_000, n_samples=10**6, n_seeds=100,
                    compare=tuple(f"he_normal(scale={1 + i / 10})" for i in range(30)))
    assert config.n_networks() == 3000
    assert config.memory()["peak"] > 1e12  # valid, but wil.compare would refuse it on this machine


def test_query_params_round_trip():
    cfg = Config(dataset="circles", n_samples=300, noise=0.05, compare=("zeros", "random_normal(std=0.01)"),
                 activation="tanh", depth=7, width=24, epochs=50, learning_rate=0.003, optimizer="adam",
                 batch_size=32, seed=11, n_seeds=3, dtype="float32")
    params = cfg.to_query_params()
    assert all(isinstance(v, str) for v in params.values())
    assert params["compare"] == "zeros;random_normal(std=0.01)" and params["batch_size"] == "32"
    assert Config.from_query_params(params) == cfg
    assert Config.from_query_params(Config().to_query_params()) == Config()
    assert Config.from_query_params({}) == Config()


@pytest.mark.parametrize("params, problem", [
    ({"depth": "abc"}, "Invalid depth: expected an integer, got 'abc'"),
    ({"depth": "0"}, "Invalid depth: expected an integer in [1, 9,223,372,036,854,775,807], got 0"),
    ({"learning_rate": "nan"}, "Invalid learning_rate: expected a number > 0, got nan"),
    ({"epochs": "1e9"}, "Invalid epochs: expected an integer"),
    ({"colour": "red"}, "unknown parameter 'colour'"),
    ({"compare": "he_normal;<script>alert(1)</script>"}, "Invalid compare"),
    ({"dataset": "x" * 5000}, "too long"),
])
def test_malformed_urls_are_rejected_whole_or_reported(params, problem):
    with pytest.raises(ValueError, match="Invalid URL parameters"):
        Config.from_query_params({"width": "8", **params})
    cfg, problems = Config.parse_query_params({"width": "8", **params})
    assert any(problem in p for p in problems), problems
    assert cfg.width == 8  # the valid part is kept


def test_lenient_parse_falls_back_to_defaults_when_the_whole_is_invalid():
    cfg, problems = Config.parse_query_params({"n_samples": "40", "batch_size": "100"})
    assert cfg == Config() and problems[-1].startswith("Invalid batch_size")
    assert problems[-1].endswith("using the default configuration")


def test_repeated_keys_take_the_last_value():
    cfg, problems = Config.parse_query_params({"depth": ["3", "4"]})
    assert cfg.depth == 4 and problems == ["depth was given 2 times; using the last"]


def test_sizes_and_parameter_counts():
    cfg = Config(dataset="moons", n_samples=400, depth=2, width=10)
    assert cfg.n_train() == 300 and cfg.n_test() == 100
    assert cfg.n_parameters() == (2 + 1) * 10 + (10 + 1) * 10 + (10 + 1) * 2
    assert Config(dataset="digits").n_train() == 1797 - 450


def test_ranges_are_documented_with_a_reason():
    for name, (low, high, why) in wil.RANGES.items():
        assert why and (low is None or high is None or low < high), name


def test_missing_url_fields_come_from_the_base():
    demo = Config(dataset="circles", depth=8, compare=("zeros", "he_normal"))
    assert Config.from_query_params({"depth": "3"}, base=demo) == dataclasses.replace(demo, depth=3)
    cfg, problems = Config.parse_query_params({"depth": "zero"}, base=demo)
    assert cfg == demo and len(problems) == 1

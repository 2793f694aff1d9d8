"""Config: validation messages, hashing, and the URL round trip."""

import dataclasses

import pytest

import wil
from wil import Config


def test_defaults_and_demo_are_valid_and_hashable():
    assert hash(Config()) == hash(Config())
    assert Config.demo().compare[0] == "zeros" and len(Config.demo().compare) == 5
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
    ("optimizer", "rmsprop", r"Invalid optimizer 'rmsprop'; choose from \['adam', 'momentum', 'sgd'\]"),
    ("depth", 0, r"Invalid depth: got 0, allowed \[1, 50\]"),
    ("depth", 51, r"Invalid depth: got 51, allowed \[1, 50\]"),
    ("depth", 2.5, r"Invalid depth: expected an integer"),
    ("depth", True, r"Invalid depth: expected an integer"),
    ("width", -3, r"Invalid width: got -3"),
    ("learning_rate", -0.1, r"Invalid learning_rate: got -0.1, allowed"),
    ("learning_rate", float("nan"), r"Invalid learning_rate: got nan"),
    ("learning_rate", float("inf"), r"Invalid learning_rate: got inf"),
    ("learning_rate", "fast", r"Invalid learning_rate: expected a number"),
    ("noise", -1.0, r"Invalid noise"),
    ("epochs", 100_000_000, r"Invalid epochs: got 100000000, allowed \[1, 2000\]"),
    ("seed", -1, r"Invalid seed: got -1"),
    ("batch_size", 0, r"Invalid batch_size: got 0"),
    ("batch_size", 400, r"Invalid batch_size: got 400, but the training split has only 375 samples"),
    ("n_seeds", 11, r"Invalid n_seeds"),
    ("dtype", "float16", r"Invalid dtype 'float16'"),
    ("initializer", "xavier", r"Invalid initializer: Invalid initializer 'xavier'"),
    ("compare", "he_normal", r"Invalid compare: expected a list"),
    ("compare", ("he_normal", "he_normal(scale=1)"), r"'he_normal' is listed twice"),
    ("compare", ("random_normal(std=-1)",), r"Invalid compare: .*std.*allowed"),
    ("compare", tuple(f"he_normal(scale={i + 2})" for i in range(13)), r"at most 12"),
])
def test_bad_values_name_the_field(field, value, message):
    with pytest.raises(ValueError, match=message):
        Config(**{"n_samples": 500, field: value})


def test_over_budget_names_the_knobs():
    with pytest.raises(ValueError, match=r"too much memory for its weights: .* Reduce width or depth"):
        Config(depth=50, width=512, epochs=2000, n_samples=5000)


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
    ({"depth": "0"}, "Invalid depth: got 0"),
    ({"learning_rate": "nan"}, "Invalid learning_rate: got nan"),
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
    cfg, problems = Config.parse_query_params({"depth": "50", "width": "512", "epochs": "2000", "n_samples": "5000"})
    assert cfg == Config() and problems[-1].startswith("This run")
    assert problems[-1].endswith("using the default configuration")


def test_repeated_keys_take_the_last_value():
    cfg, problems = Config.parse_query_params({"depth": ["3", "4"]})
    assert cfg.depth == 4 and problems == ["depth was given 2 times; using the last"]


def test_work_and_parameter_counts():
    cfg = Config(dataset="moons", n_samples=400, depth=2, width=10)
    assert cfg.n_train() == 300
    assert cfg.n_parameters() == (2 + 1) * 10 + (10 + 1) * 10 + (10 + 1) * 2
    # samples x parameters, plus the measured element-wise work (16 per hidden unit, 8 samples' worth)
    assert cfg.work() == 1 * 200 * (300 + 8) * (cfg.n_parameters() + 16 * 2 * 10)
    assert Config(dataset="digits").n_train() == 1797 - 450


def test_limits_are_documented():
    for name, (low, high, why) in wil.LIMITS.items():
        assert low < high and why, name


def test_missing_url_fields_come_from_the_base():
    demo = Config.demo()
    assert Config.from_query_params({"depth": "3"}, base=demo) == dataclasses.replace(demo, depth=3)
    cfg, problems = Config.parse_query_params({"depth": "zero"}, base=demo)
    assert cfg == demo and len(problems) == 1

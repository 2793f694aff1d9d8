"""Property-based tests (hypothesis) keeping issue 18's classes of hostile input closed, over the public
functions' arguments: every value is either accepted as a sane value (finite numbers, the right types) or
refused with a short ``ValueError``/``TypeError`` naming the argument; never another exception, NaN in
silence, a warning, or a number read from other scripts' digits or underscores.
(``benchmarks/probe_hostile.py`` tries the same classes on every public function, the CLI and the
environment.)"""

from __future__ import annotations

import dataclasses
import importlib
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wil
from wil.spec.checks import MAX_NUMBER_TEXT, check_float, check_int, parse_decimal, parse_integer

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
FEW = settings(FAST, max_examples=20)  # each accepted example integrates or makes a dataset (~50 ms)
TINY = wil.Config(n_samples=40, depth=1, width=3, epochs=2)
INT_FIELDS = ["n_samples", "depth", "width", "epochs", "seed", "n_seeds", "batch_size"]
FLOAT_FIELDS = ["noise", "learning_rate"]

# anything a careless or hostile caller may pass where a number, a name or a list is expected
hostile = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=2**62, max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True), st.complex_numbers(), st.text(max_size=30),
    st.text(alphabet="0123456789\u0660\u0661\u0662\u06f1\u0967\uff11\u00b2_.eE+- ", max_size=12),
    st.binary(max_size=8), st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(),
                                                                                max_size=2),
    st.just(np.nan), st.just(np.array([1, 2])), st.just(np.bool_(True)), st.just(object()))


def refused_naming(error: BaseException, name: str) -> None:
    """A clear refusal: a ValueError/TypeError naming ``name``, short and printable."""
    assert isinstance(error, (ValueError, TypeError)), repr(error)
    message = str(error)
    assert name in message and len(message) < 1500, message[:300]


def attempt(call, name: str):
    """``call()`` under warnings-as-errors: its value, or None after checking the refusal names ``name``."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return call()
        except Exception as error:  # noqa: BLE001 - the property is on what is raised
            refused_naming(error, name)
            return None


@FAST
@given(st.text(max_size=40))
def test_numbers_as_text_are_plain_ascii_decimals(text):
    number = attempt(lambda: parse_decimal("std", text), "std")
    if number is not None:
        stripped = text.strip(" ")
        assert stripped.isascii() and "_" not in stripped and len(stripped) <= MAX_NUMBER_TEXT
        assert math.isfinite(number) and number == float(stripped)
    integer = attempt(lambda: parse_integer("depth", text), "depth")
    if integer is not None:
        assert text.strip(" ").lstrip("+-").isdigit() and text.strip(" ").isascii() and integer == int(text)


@FAST
@given(hostile)
def test_numbers_are_real_finite_and_not_bools(value):
    number = attempt(lambda: check_float("noise", value, 0.0), "noise")
    if number is not None:
        assert type(number) is float and math.isfinite(number) and number >= 0
        assert not isinstance(value, (bool, np.bool_, str, bytes, complex))
    integer = attempt(lambda: check_int("width", value, 1), "width")
    if integer is not None:
        assert type(integer) is int and integer >= 1 and not isinstance(value, (bool, np.bool_, float))


@FAST
@given(st.sampled_from(INT_FIELDS + FLOAT_FIELDS + ["dataset", "initializer", "activation", "compare"]), hostile)
def test_a_config_keeps_only_sane_values(field, value):
    config = attempt(lambda: dataclasses.replace(TINY, **{field: value}), field)
    if config is not None:
        kept = getattr(config, field)
        if field in INT_FIELDS:
            assert type(kept) is int or (field == "batch_size" and kept is None)
        elif field in FLOAT_FIELDS:
            assert type(kept) is float and math.isfinite(kept)


@FAST
@given(st.sampled_from(["random_normal(std={})", "he_normal(scale={})", "mean_field(sigma_w2={})"]),
       st.one_of(st.text(max_size=12), st.floats().map(repr), st.sampled_from(["\u0661", "1_0", "\uff11", "0x1"])))
def test_labels_read_plain_numbers_only(template, text):
    label = template.format(text)
    parsed = attempt(lambda: wil.parse_entry(label), "initializer")
    if parsed is not None:
        name, params = parsed
        assert all(math.isfinite(v) for v in params.values())
        assert text.strip().isascii() and "_" not in text
        assert wil.parse_entry(wil.make_label(name, params)) == parsed


@FAST
@given(st.sampled_from(sorted(wil.INITIALIZERS)), st.integers(-2, 40), st.integers(-2, 40), hostile)
def test_initialize_gives_finite_weights_or_names_the_argument(name, fan_in, fan_out, seed):
    weights = attempt(lambda: wil.initialize(name, fan_in, fan_out, seed=seed), "")
    if weights is not None:
        assert weights.shape == (fan_in, fan_out) and np.isfinite(weights).all()


@FEW
@given(st.sampled_from(sorted(wil.ACTIVATIONS)), hostile, st.floats(allow_nan=True, allow_infinity=True))
def test_mean_field_is_finite_or_refused(activation, sigma_w2, sigma_b2):
    theory = attempt(lambda: wil.theory.mean_field(activation, sigma_w2, sigma_b2), "sigma_")
    if theory is not None:
        assert not any(isinstance(v, float) and math.isnan(v) for v in theory)


@FEW
@given(st.sampled_from(["moons", "circles", "xor", "friedman1"]), st.floats(allow_nan=True, allow_infinity=True))
def test_a_dataset_is_finite_or_its_noise_is_refused(name, noise):
    data = attempt(lambda: wil.load_dataset(name, n_samples=40, noise=noise), "noise")
    if data is not None:
        assert np.isfinite(data.X_train).all() and np.isfinite(data.X_test).all()


@FEW
@given(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.complex_numbers(max_magnitude=1e300),
                          st.integers(-2**70, 2**70)), min_size=40, max_size=40))
def test_user_data_trains_on_finite_numbers_or_is_refused(feature):
    frame = pd.DataFrame({"a": pd.Series(feature, dtype=object), "b": np.arange(40.0), "y": np.arange(40) % 2})
    name = attempt(lambda: wil.from_frame(frame, "y"), "frame")
    if name is not None:
        try:
            data = wil.load_dataset(name)
            assert np.isfinite(data.X_train).all() and np.isfinite(data.X_test).all()
        finally:
            wil.DATASETS.pop(name, None)


def _valid_seeds(seeds) -> bool:
    return (isinstance(seeds, list) and 0 < len(seeds) == len(set(seeds)) and all(
        type(s) is int and 0 <= s < 2**32 for s in seeds))


@FAST
@given(st.sampled_from(["seeds", "n_jobs", "progress", "out", "grid"]), hostile)
def test_a_sweep_refuses_bad_arguments_before_training(monkeypatch, tmp_path, argument, value):
    run = importlib.import_module("wil.sweep.run")

    def trained(*args, **kwargs):
        raise KeyboardInterrupt("reached training")  # not an Exception: attempt() does not swallow it

    monkeypatch.setattr(run, "run_task", trained)
    monkeypatch.chdir(tmp_path)
    options = {"grid": {"depth": [1]}, "seeds": [0], argument: value}
    grid = options.pop("grid")
    try:
        attempt(lambda: wil.sweep(TINY, grid, backend=None, **options), argument)
    except run.SweepStopped:  # accepted: only sane values may get there
        assert argument != "seeds" or _valid_seeds(value) or isinstance(value, np.ndarray)
        assert argument != "grid"
        assert argument != "n_jobs" or type(value) is int or value is None
        assert argument != "progress" or isinstance(value, (bool, np.bool_))
    assert not [p for p in tmp_path.iterdir()], "the sweep left files behind"


@FAST
@given(st.binary(max_size=600))
def test_load_refuses_any_bytes_with_a_value_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("bytes") / "run.zip"
    path.write_bytes(data)
    with pytest.raises(ValueError, match="run.zip"):
        wil.load(path)


@FAST
@given(st.sampled_from(["layer_sizes", "weight_variances"]), hostile)
def test_theory_recursions_name_their_arguments(argument, value):
    arguments = {"layer_sizes": [2, 3, 1], "weight_variances": [1.0, 0.5], argument: value}
    layers = attempt(lambda: wil.theory.expected_variances(arguments["layer_sizes"], arguments["weight_variances"],
                                                           "tanh"), argument)
    if layers is not None:
        assert all(math.isfinite(x) for layer in layers for x in layer)

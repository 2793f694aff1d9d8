"""Property-based tests (hypothesis) over the whole configuration space and over hostile URLs.

Training: any valid ``Config`` (small enough for CI) trains without raising, without leaking a NumPy
warning, and every network ends finite or ``diverged`` with its epoch and cause.
URLs: ``Config.parse_query_params`` never raises on any query, returns a valid ``Config``, and says
what it ignored, in short ASCII messages.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wil
import wil.analysis.compare
from wil.spec.config import Config, parse_field
from wil.spec.optimizers import OPTIMIZERS
from wil.engine.threads import Plan
from wil_app.policy import CAPS, POLICY
from wil_app.text import plain_text

LIMITS = CAPS  # the server's ranges: small configurations for CI
OPTIMIZERS = sorted(OPTIMIZERS)

FIELDS = [f.name for f in dataclasses.fields(Config)]
# what a message quoting a URL must never carry: autolinks survive a page's Markdown escaping
AUTOLINKS = ("://", "www.", "@")


# ---------------------------------------------------------------- strategies

@st.composite
def initializer_entries(draw) -> str:
    """An initializer label, with parameters anywhere in their allowed ranges (extremes included)."""
    name = draw(st.sampled_from(sorted(wil.INITIALIZERS)))
    params = {}
    for key, param in wil.INITIALIZERS[name].params.items():
        if not draw(st.booleans()):
            continue
        if param.integer:
            value = draw(st.integers(int(param.low), int(param.high)))
        elif param.log:
            value = 10 ** draw(st.floats(math.log10(param.low), math.log10(param.high)))
            value = min(max(value, param.low), param.high)
        else:
            value = draw(st.floats(param.low, param.high))
        params[key] = value
    return wil.make_label(name, params)


@st.composite
def small_configs(draw) -> Config:
    """A valid Config anywhere in the space of choices, with sizes kept small for CI."""
    dataset = draw(st.sampled_from(sorted(wil.DATASETS)))
    n_samples = draw(st.integers(int(LIMITS["n_samples"][0]), 120))
    n_seeds = draw(st.integers(1, 2))
    fields = dict(
        dataset=dataset, n_samples=n_samples, noise=draw(st.floats(*LIMITS["noise"][:2])),
        initializer=draw(initializer_entries()),
        compare=tuple(draw(st.lists(initializer_entries(), max_size=3, unique=True))),
        activation=draw(st.sampled_from(sorted(wil.ACTIVATIONS))),
        depth=draw(st.integers(1, 5)), width=draw(st.integers(1, 12)), epochs=draw(st.integers(1, 12)),
        learning_rate=10 ** draw(st.floats(-6, 1)),
        optimizer=draw(st.sampled_from(OPTIMIZERS)),
        seed=draw(st.one_of(st.integers(0, 1000),
                            st.integers(int(LIMITS["seed"][1]) - 1 - n_seeds, int(LIMITS["seed"][1]) + 1 - n_seeds))),
        n_seeds=n_seeds, dtype=draw(st.sampled_from(("float64", "float32"))),
    )
    fields["learning_rate"] = min(fields["learning_rate"], LIMITS["learning_rate"][1])
    # the architecture: normalization and residual blocks anywhere, made valid for the schemes drawn
    # (Fixup, SkipInit and ReZero need residual blocks; Fixup is for networks without normalization)
    entries = [fields["initializer"], *fields["compare"]]
    schemes = [wil.INITIALIZERS[entry.split("(")[0]].residual for entry in entries]
    fields["residual"] = draw(st.booleans()) or any(rule is not None for rule in schemes)
    fields["normalization"] = draw(st.sampled_from((None, None, "batch", "layer")))
    if any(rule is not None and not rule.allows_normalization for rule in schemes):
        fields["normalization"] = None
    if fields["residual"]:
        fields["depth"] = max(fields["depth"], 2)
    if fields["residual"] or fields["normalization"]:  # LSUV rescales the layers of a plain network only
        is_lsuv = lambda entry: entry.split("(")[0] == "lsuv"  # noqa: E731
        fields["compare"] = tuple(entry for entry in fields["compare"] if not is_lsuv(entry))
        if is_lsuv(fields["initializer"]):
            fields["initializer"] = "he_normal"
    n_train = Config(**{**fields, "batch_size": None}).n_train()
    fields["batch_size"] = draw(st.one_of(st.none(), st.integers(max(1, n_train // 4), n_train)))
    return Config(**fields)


# ---------------------------------------------------------------- training never fails

@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=small_configs(), diagnostics=st.booleans())
def test_training_never_raises_never_warns_and_ends_finite_or_diverged(config, diagnostics):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning (NumPy's RuntimeWarning, pandas', ...) fails
        result = wil.compare(config, diagnostics=diagnostics)
    status = result.status
    assert len(status) == config.n_networks()
    classification = wil.DATASETS[config.dataset].task == "classification"
    for row in status.itertuples():
        if row.diverged:
            assert 0 <= row.diverged_epoch <= config.epochs
            assert row.reason and f"epoch {row.diverged_epoch}" in row.reason, row.reason
        else:
            assert row.diverged_epoch is pd_na() and row.reason == ""
            assert np.isfinite([row.final_train_loss, row.final_test_loss]).all(), row
            if classification:
                assert 0.0 <= row.final_train_accuracy <= 1.0 and 0.0 <= row.final_test_accuracy <= 1.0
    # a network's history is finite up to its last epoch, or up to the epoch it diverged at
    history = result.history.merge(status[["initializer", "seed", "diverged_epoch"]], on=["initializer", "seed"])
    healthy = history[history["diverged_epoch"].isna()]
    assert np.isfinite(healthy["loss"].to_numpy(float)).all()
    assert len(healthy) == 2 * (config.epochs + 1) * int((~status["diverged"]).sum())
    stopped = history[history["diverged_epoch"].notna()]
    assert (stopped["epoch"] <= stopped["diverged_epoch"]).all()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=small_configs())
def test_row_blocks_never_warn_and_start_where_the_uncut_pass_starts(config):
    """Any configuration, its passes forced into row blocks on two threads: no warning, a finite or
    reported end, and at initialization the same losses and statistics as the uncut pass, up to
    rounding. Rounding that a nearly cancelling sum makes large relative to the result is measured
    against the terms' scale: a mean against the spread of the values, and the gradient's sum over
    examples (held to 1e-12 of its terms in tests/test_buffered.py) only by where it is finite. In
    float32, BLAS may round a product of a block of rows differently from the whole."""
    original = wil.analysis.compare.plan
    results = {}
    try:
        for how in (Plan(1, 2, 2, 1), Plan(1, 1, 1, 1)):
            wil.analysis.compare.plan = lambda *args, how=how: how
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                results[how.row_parts] = wil.compare(config)
    finally:
        wil.analysis.compare.plan = original
    cut, uncut = results[2], results[1]
    assert (cut.status["diverged"] | np.isfinite(cut.status["final_train_loss"].to_numpy(float))).all()
    rtol = 1e-9 if config.dtype == "float64" else 1e-4
    for frame in ("history", "layers"):
        a, b = (getattr(r, frame) for r in (cut, uncut))
        a, b = a[a["epoch"] == 0].reset_index(drop=True), b[b["epoch"] == 0].reset_index(drop=True)
        numbers = a.select_dtypes("number").columns.drop(["grad_norm", "act_mean"], errors="ignore")
        np.testing.assert_allclose(a[numbers].to_numpy(float), b[numbers].to_numpy(float), rtol=rtol, atol=0)
        if frame == "layers":
            assert (np.isfinite(a["grad_norm"]) == np.isfinite(b["grad_norm"])).all()
            spread = np.abs(b["act_mean"]) + b["act_std"]
            finite = np.isfinite(spread)
            assert (np.abs(a["act_mean"] - b["act_mean"])[finite] <= rtol * spread[finite]).all()


def pd_na():
    import pandas as pd

    return pd.NA


@settings(max_examples=15, deadline=None)
@given(config=small_configs(), scale=st.sampled_from([1e3, 1e4]))
def test_exploding_initializations_diverge_with_a_cause_and_an_epoch(config, scale):
    """Weights scaled far beyond any sane variance: each network either stays finite or is reported."""
    config = dataclasses.replace(config, compare=(f"he_normal(scale={scale:g})", "random_normal(std=1000)"),
                                 learning_rate=10.0, depth=max(config.depth, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = wil.compare(config)
    for row in result.status.itertuples():
        assert row.diverged or np.isfinite(row.final_train_loss)
        if row.diverged:
            assert any(cause in row.reason for cause in ("exploded", "overflowed", "NaN")), row.reason


# ---------------------------------------------------------------- the limits hold everywhere

@settings(max_examples=400, deadline=None)
@given(fields=st.fixed_dictionaries({
    "dataset": st.sampled_from(sorted(wil.DATASETS)),
    "n_samples": st.integers(*map(int, LIMITS["n_samples"][:2])),
    "depth": st.integers(*map(int, LIMITS["depth"][:2])),
    "width": st.integers(*map(int, LIMITS["width"][:2])),
    "epochs": st.integers(*map(int, LIMITS["epochs"][:2])),
    "n_seeds": st.integers(*map(int, LIMITS["n_seeds"][:2])),
    "batch_size": st.one_of(st.none(), st.integers(1, int(LIMITS["batch_size"][1]))),
    "compare": st.lists(st.sampled_from(sorted(wil.INITIALIZERS)), max_size=12, unique=True).map(tuple),
}))
def test_every_config_the_policy_passes_is_inside_every_budget(fields):
    try:
        config = Config(**fields)
    except ValueError as error:
        schemes = [wil.INITIALIZERS[name].residual for name in fields["compare"]]
        if any(rule is not None for rule in schemes):  # Fixup, SkipInit, ReZero: residual blocks only
            assert "needs residual=True" in str(error), error
            return
        assert str(error).startswith("Invalid batch_size"), error
        return
    message = POLICY.problem(config)
    if message is not None:
        assert message.startswith("This run"), message
        assert "Reduce" in message or "Increase" in message  # it names a knob to turn
        fitted, note = POLICY.fit(config)  # the app trains fewer epochs, seeds or samples instead, and says so
        assert fitted is None or (POLICY.problem(fitted) is None and fitted != config and note)
        if fitted is not None:  # the architecture and the initializers are never what it changes
            assert (fitted.depth, fitted.width, fitted.labels) == (config.depth, config.width, config.labels)
        return
    assert POLICY.seconds(config) <= POLICY.max_seconds
    assert POLICY.memory_bytes(config) <= POLICY.max_memory_bytes


# ---------------------------------------------------------------- hostile URLs

HOSTILE_TEXT = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e400", "-1e400", "1e-400", "0x10",
                     "9" * 400, "-" + "9" * 4299, "1_000", "\u0663", "\uff11\uff12", "", " ", "\x00", "None",
                     "full", "true", "[]", "{}", "5.0", "+5", " 7 ", "<script>alert(1)</script>",
                     "<img src=x onerror=alert(1)>", "![x](https://example.invalid/p.png)",
                     "[link](javascript:alert(1))", "**bold** _it_ `code`", "\u202eevil", "he_normal;" * 30,
                     "random_normal(std=nan)", "lsuv(max_iter=1e400)", "he_normal(scale=)", "a" * 5000]),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
# what st.query_params can hold, and what a Python caller might pass anyway
HOSTILE_VALUES = st.one_of(HOSTILE_TEXT, st.lists(HOSTILE_TEXT, max_size=3),
                           st.floats(allow_nan=True), st.integers(), st.none(), st.binary(max_size=10))
HOSTILE_KEYS = st.one_of(st.sampled_from(FIELDS), st.text(max_size=20))


@settings(max_examples=500, deadline=None)
@given(params=st.dictionaries(HOSTILE_KEYS, HOSTILE_VALUES, max_size=12))
def test_any_query_yields_a_valid_config_and_short_ascii_warnings(params):
    config, problems = Config.parse_query_params(params)
    assert isinstance(config, Config)
    assert Config(**{f: getattr(config, f) for f in FIELDS}) == config  # valid
    assert all(isinstance(p, str) and p.isascii() and p.isprintable() and len(p) <= 330 for p in problems)
    shown = [plain_text(p) for p in problems]  # what the app shows: no autolink survives
    assert not [p for p in shown if any(mark in p for mark in AUTOLINKS)], shown
    served, _ = POLICY.parse_url(params)  # and what the server reads of it trains, adapted if it must be
    fitted, _ = POLICY.fit(served)
    assert fitted is not None and POLICY.problem(fitted) is None
    assert sum(p.startswith("unknown parameter") for p in problems) == (
        1 if any(key not in FIELDS for key in params) else 0)
    fell_back = bool(problems) and problems[-1].endswith("using the default configuration")
    for key, value in params.items():
        if key not in FIELDS:
            continue
        shown = [p for p in problems if key in p]
        if fell_back or not shown:
            continue
        if isinstance(value, (list, tuple)) and len(value) > 1:
            assert any(f"{key} was given {len(value)} times" in p for p in shown)
    if not problems:
        assert Config.from_query_params(params) == config  # the strict reading agrees
    else:
        with pytest.raises(ValueError, match="^Invalid URL parameters: "):
            Config.from_query_params(params)


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(FIELDS), value=HOSTILE_TEXT)
def test_one_field_is_applied_or_keeps_its_default_with_a_warning_naming_it(field, value):
    config, problems = Config.parse_query_params({field: value})
    try:
        expected = Config(**{field: parse_field(field, value)})
    except ValueError:
        expected = None
    if expected is not None:
        assert (config, problems) == (expected, [])
    else:
        assert config == Config()
        # the message names the field (seed and n_seeds are checked together: "lower seed or n_seeds")
        assert len(problems) == 1 and (f"Invalid {field}" in problems[0] or "This run" in problems[0]
                                       or (field in problems[0] and "Invalid" in problems[0])), problems
        assert problems[0].endswith(("; using the default", "; using the default configuration"))


@settings(max_examples=150, deadline=None)
@given(config=small_configs())
def test_a_config_survives_its_own_url(config):
    params = config.to_query_params()
    assert Config.parse_query_params(params) == (config, [])
    assert Config.from_query_params(params) == config
    # and with every value wrapped in a one-element list (a repeated-key reader)
    assert Config.parse_query_params({k: [v] for k, v in params.items()}) == (config, [])

"""Every limit of ``Config``: the field ranges in ``LIMITS`` and the budgets on a whole run.

The same limits must hold from Python, from a URL and from the app, so these tests go through
``Config`` itself, ``Config.from_query_params`` / ``parse_query_params`` and ``wil.compare``.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import wil
from wil.config import (LIMITS, MAX_ACTIVATIONS, MAX_PARAMETERS, MAX_ROWS, MAX_STEPS, MAX_WORK, Config)

ROOT = Path(__file__).resolve().parents[1]
TWELVE = ("zeros", "constant", "random_normal", "random_uniform", "truncated_normal", "glorot_uniform",
          "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal", "orthogonal")
# a run small enough that any single field may go to its limit without breaking a budget
TINY = dict(dataset="moons", n_samples=20, depth=1, width=1, epochs=1)

INT_FIELDS = ("n_samples", "depth", "width", "epochs", "seed", "n_seeds")
FLOAT_FIELDS = ("noise", "learning_rate")


# ---------------------------------------------------------------- field ranges

@pytest.mark.parametrize("name", INT_FIELDS + FLOAT_FIELDS)
def test_each_field_accepts_both_ends_of_its_range(name):
    low, high, _ = LIMITS[name]
    kind = int if name in INT_FIELDS else float
    for value in (kind(low), kind(high)):
        assert getattr(Config(**{**TINY, name: value}), name) == value


@pytest.mark.parametrize("name", INT_FIELDS)
def test_integer_fields_reject_one_past_either_end(name):
    low, high, _ = LIMITS[name]
    for value in (int(low) - 1, int(high) + 1):
        with pytest.raises(ValueError, match=rf"^Invalid {name}: got {value}, allowed \["):
            Config(**{**TINY, name: value})


@pytest.mark.parametrize("name", FLOAT_FIELDS)
@pytest.mark.parametrize("value", ["below", "above", float("nan"), float("inf"), -float("inf")])
def test_float_fields_reject_out_of_range_and_non_finite(name, value):
    low, high, _ = LIMITS[name]
    value = {"below": low - max(abs(low), 1.0) * 1e-6, "above": high * (1 + 1e-9)}.get(value, value)
    with pytest.raises(ValueError, match=rf"^Invalid {name}: got .*allowed \["):
        Config(**{**TINY, name: value})


@pytest.mark.parametrize("name", INT_FIELDS)
@pytest.mark.parametrize("value", [2.5, 3.0, "5", True, None, [5]])
def test_integer_fields_reject_other_types(name, value):
    with pytest.raises(ValueError, match=rf"^Invalid {name}: expected an integer"):
        Config(**{**TINY, name: value})


def test_numpy_integers_are_integers():
    config = Config(**{**TINY, "depth": np.int64(3), "width": np.int32(4)})
    assert (config.depth, config.width) == (3, 4) and type(config.depth) is int


def test_batch_size_range_and_training_split():
    assert Config(**TINY, batch_size=1).batch_size == 1
    n_train = Config(**TINY).n_train()
    assert Config(**TINY, batch_size=n_train).batch_size == n_train
    with pytest.raises(ValueError, match=rf"^Invalid batch_size: got {n_train + 1}, but the training split "
                                         rf"has only {n_train} samples"):
        Config(**TINY, batch_size=n_train + 1)
    with pytest.raises(ValueError, match=r"^Invalid batch_size: got 0"):
        Config(**TINY, batch_size=0)


def test_compare_allows_twelve_initializers_not_thirteen():
    assert len(Config(**TINY, compare=TWELVE).compare) == 12
    with pytest.raises(ValueError, match=r"^Invalid compare: got 13 initializers, allowed at most 12"):
        Config(**TINY, compare=TWELVE + ("he_normal(scale=2)",))


def test_the_last_seed_of_a_run_must_fit_too():
    high = int(LIMITS["seed"][1])
    assert Config(**TINY, seed=high - 2, n_seeds=3).seeds[-1] == high
    with pytest.raises(ValueError, match=rf"^Invalid seed: networks are seeded {high - 1}\.\.{high + 1}, "
                                         rf"above {high}; lower seed or n_seeds$"):
        Config(**TINY, seed=high - 1, n_seeds=3)
    # and a run at the top seed trains (before this check, compare raised on a valid Config)
    assert len(wil.compare(Config(**TINY, seed=high - 1, n_seeds=2), diagnostics=False).status) == 2


# ---------------------------------------------------------------- budgets

# Each config breaks exactly one budget; the message must say which, and which knobs to turn.
OVER_BUDGET = {
    "parameters": (dict(n_samples=20, depth=11, width=512, epochs=1),
                   r"^This run needs too much memory for its weights: 1 network x 2,6\d\d,\d\d\d parameters "
                   r"= .* above the limit of 2\.5e\+06\. Reduce width or depth, or train fewer networks "
                   r"\(seeds, initializers\)\.$"),
    "activations": (dict(n_samples=5000, depth=4, width=512, epochs=1),
                    r"^This run needs too much memory for its activations: 1 network x 3750 training samples "
                    r"x 2,048 hidden units = 7\.68e\+06, above the limit of 6e\+06\. Reduce samples, width or "
                    r"depth, or train fewer networks \(seeds, initializers\)\.$"),
    "rows": (dict(n_samples=20, depth=1, width=1, epochs=2000, n_seeds=10, compare=TWELVE),
             r"^This run records too much: 120 networks x 2000 epochs x 2 layers make 1\.49e\+06 rows of "
             r"results, above the limit of 3e\+05\. Reduce epochs, depth, or train fewer networks"),
    "work": (dict(n_samples=400, depth=8, width=64, epochs=2000, compare=("zeros", "he_normal")),
             r"^This run is too long: 2 networks x 2000 epochs x \(300 training samples \+ 8\) x \(29,442 "
             r"parameters \+ 16 x 512 hidden units\) = 4\.64e\+10, above the limit of 1e\+10\. Reduce epochs "
             r"\(at most 431 fit with the rest unchanged\), samples, width or depth, or train fewer networks "
             r"\(seeds, initializers\)\.$"),
    "steps": (dict(n_samples=400, depth=1, width=2, epochs=200, batch_size=1),
              r"^This run takes too many steps: 200 epochs x \(300 batches \+ 2\) x 2 layers = 1\.21e\+05, "
              r"above the limit of 5e\+04\. Increase batch_size \(or use full batch\), reduce epochs "
              r"\(at most 82 fit with the rest unchanged\) or depth\.$"),
}


@pytest.mark.parametrize("budget", sorted(OVER_BUDGET))
def test_over_budget_message_names_the_budget_and_the_knobs(budget):
    fields, message = OVER_BUDGET[budget]
    with pytest.raises(ValueError, match=message):
        Config(**fields)


@pytest.mark.parametrize("budget", ["work", "steps"])
def test_the_epochs_a_message_promises_do_fit(budget):
    fields, _ = OVER_BUDGET[budget]
    with pytest.raises(ValueError) as error:
        Config(**fields)
    fit = int(re.search(r"at most (\d+) fit", str(error.value)).group(1))
    assert Config(**{**fields, "epochs": fit}).epochs == fit
    with pytest.raises(ValueError, match="^This run"):
        Config(**{**fields, "epochs": fit + 1})


@pytest.mark.parametrize("budget", sorted(OVER_BUDGET))
def test_budgets_hold_from_a_url_too(budget):
    fields, message = OVER_BUDGET[budget]
    params = {key: ";".join(value) if key == "compare" else str(value) for key, value in fields.items()}
    with pytest.raises(ValueError, match=r"^Invalid URL parameters: This run"):
        Config.from_query_params(params)
    config, warnings = Config.parse_query_params(params)
    assert config == Config()  # no silent clamp: the defaults, and the reason
    assert len(warnings) == 1 and warnings[0].endswith("; using the default configuration")
    assert re.search(message.lstrip("^").rstrip("$").removesuffix(r"\."), warnings[0])


def test_budgets_hold_for_the_networks_compare_is_given():
    config = Config(dataset="iris", depth=4, width=64, epochs=150)  # one network: well inside
    with pytest.raises(ValueError, match=r"^This run is too long: 60 networks x 150 epochs"):
        wil.compare(config, initializers=list(TWELVE[:6]), seeds=range(10))
    with pytest.raises(ValueError, match=r"^This run records too much: 120 networks"):
        wil.compare(config, initializers=list(TWELVE), seeds=range(10))


def test_a_run_exactly_at_a_budget_is_allowed():
    # work = networks x epochs x samples x parameters, with the epochs that land on MAX_WORK exactly
    config = Config(n_samples=20, depth=1, width=1, epochs=1)
    assert config.n_parameters() == 7 and config.n_train() == 15
    assert config.work() == 1 * 1 * (15 + 8) * (7 + 16 * 1)
    base = Config(dataset="digits", depth=1, width=100, epochs=1, n_seeds=2)
    epochs = int(MAX_WORK // base.work())
    assert Config(**{**dataclasses.asdict(base), "epochs": epochs}).work() <= MAX_WORK
    with pytest.raises(ValueError, match="^This run is too long"):
        Config(**{**dataclasses.asdict(base), "epochs": epochs + 1})


def test_default_and_demo_configs_are_well_inside_every_budget():
    for config in (Config(), Config.demo()):
        assert config.n_networks() * config.n_parameters() <= MAX_PARAMETERS / 10
        assert config.n_activations() <= MAX_ACTIVATIONS / 10
        assert config.n_rows() <= MAX_ROWS / 5
        assert config.work() <= MAX_WORK / 3
        assert config.n_steps() <= MAX_STEPS / 10


def test_the_lessons_fit_the_budgets():
    """What a workshop does with the demo: bands of three seeds, or every initializer at once."""
    demo = Config.demo()
    assert dataclasses.replace(demo, n_seeds=3).n_networks() == 15
    assert dataclasses.replace(demo, compare=TWELVE).n_networks() == 12
    assert dataclasses.replace(demo, depth=25).depth == 25  # a deep network for vanishing signals
    assert dataclasses.replace(demo, batch_size=32, epochs=300).n_batches() == 10


@pytest.mark.parametrize("fields", [
    dict(dataset="moons", epochs=7, depth=2, width=3, n_seeds=2),
    dict(dataset="iris", epochs=12, depth=3, width=4, compare=("zeros", "he_normal")),
    dict(dataset="diabetes", epochs=10, depth=1, width=5, batch_size=50, learning_rate=0.01),
])
def test_row_estimate_matches_the_result(fields):
    config = Config(**fields)
    result = wil.compare(config)
    assert not result.status["diverged"].any()  # a diverged network has fewer rows
    frames = (result.history, result.layers, result.histograms, result.grid, result.status)
    assert sum(len(frame) for frame in frames) == config.n_rows()
    # under 7 epochs, fewer distinct epochs carry histograms: the estimate is then an upper bound
    short = dataclasses.replace(config, epochs=3)
    frames = dataclasses.astuple(wil.compare(short))[1:6]
    assert sum(len(frame) for frame in frames) < short.n_rows()


def test_parameter_count_matches_the_network():
    config = Config(dataset="wine", depth=3, width=7)
    sizes = [13, 7, 7, 7, 3]
    assert config.n_parameters() == sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))


# ---------------------------------------------------------------- many visitors at once

def test_at_most_max_concurrent_runs_train_at_once(monkeypatch):
    """Six threads ask at once; the gate lets MAX_CONCURRENT_RUNS in, the rest wait, all finish."""
    from wil import training

    active, most, release = [0], [0], threading.Event()
    lock = threading.Lock()
    real_run = training._run

    def gated_run(*args, **kwargs):
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        release.wait(timeout=30)
        try:
            return real_run(*args, **kwargs)
        finally:
            with lock:
                active[0] -= 1

    monkeypatch.setattr(training, "_run", gated_run)
    queued = []
    results = []

    def visitor(seed):
        results.append(wil.compare(Config(**TINY, seed=seed), progress=lambda f: queued.append(f) if f == 0 else None))

    threads = [threading.Thread(target=visitor, args=(seed,)) for seed in range(6)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while (active[0] < training.MAX_CONCURRENT_RUNS or len(queued) < 6) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # room for a run that should be waiting to slip in, if the gate leaked
    assert most[0] == training.MAX_CONCURRENT_RUNS
    assert len(queued) == 6  # every visitor was told progress 0 while queued
    release.set()
    for thread in threads:
        thread.join(60)
    assert len(results) == 6 and most[0] == training.MAX_CONCURRENT_RUNS


def test_a_failing_run_gives_its_slot_back(monkeypatch):
    from wil import training

    def broken_run(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(training, "_run", broken_run)
    for _ in range(training.MAX_CONCURRENT_RUNS + 1):
        with pytest.raises(RuntimeError, match="boom"):
            wil.compare(Config(**TINY))
    slots = [training._run_slots.acquire(blocking=False) for _ in range(training.MAX_CONCURRENT_RUNS)]
    for taken in slots:
        if taken:
            training._run_slots.release()
    assert all(slots), "a run that raised kept its slot"


def test_each_run_hands_freed_memory_back(monkeypatch):
    from wil import training

    calls = []
    monkeypatch.setattr(training, "release_free_memory", lambda: calls.append(True) or True)
    wil.compare(Config(**TINY))
    assert calls == [True]


def test_the_malloc_helpers_work_where_there_is_glibc():
    import ctypes
    import sys

    from wil.threads import cap_malloc_arenas, release_free_memory

    try:
        glibc = sys.platform.startswith("linux") and hasattr(ctypes.CDLL("libc.so.6"), "mallopt")
    except OSError:
        glibc = False
    assert cap_malloc_arenas() is glibc and release_free_memory() is glibc


# ---------------------------------------------------------------- messages

@pytest.mark.parametrize("fields", [
    dict(dataset="<script>alert(1)</script>" * 50),
    dict(activation="r\u00e9lu\u202e" * 20),
    dict(depth=10**5000),
    dict(noise="x" * 1000),
    dict(compare="he_normal" * 100),
    dict(dataset="see https://example.invalid or www.example.invalid or me@example.invalid\n# title"),
])
def test_messages_echo_a_short_ascii_form_of_what_was_received(fields):
    with pytest.raises(ValueError) as error:
        Config(**fields)
    message = str(error.value)
    assert message.isascii() and message.isprintable() and "://" not in message
    assert message.count("<script>") <= 2 and message.count("he_normal") <= 4
    assert len(message) < 400


def test_the_limits_are_documented_with_their_reasons():
    for name, (low, high, why) in LIMITS.items():
        assert low < high and len(why) > 10, name
    text = (ROOT / "docs" / "RELIABILITY.md").read_text()
    for name, (low, high, _) in LIMITS.items():
        row = re.search(rf"^\| `{name}` \| ([^|]+) \| ([^|]+) \|", text, re.M)
        assert row, f"{name} is missing from the limits table"
        assert [float(cell.replace(",", "").replace(" ", "")) for cell in row.groups()] == [low, high], name
    for name, value in dict(MAX_WORK=MAX_WORK, MAX_ACTIVATIONS=MAX_ACTIVATIONS, MAX_PARAMETERS=MAX_PARAMETERS,
                            MAX_ROWS=MAX_ROWS, MAX_STEPS=MAX_STEPS).items():
        row = re.search(rf"^\| `{name}` \| ([^|]+) \|", text, re.M)
        assert row, f"{name} is missing from the budgets table"
        assert float(row.group(1).replace(",", "")) == value, name

"""The server's policy (``wil_app/policy.py``): its caps on fields, its budgets on a whole run; one run
at a time (``wil_app/run.py``), malloc (``wil_app/memory.py``), and what it shows of a URL
(``wil_app/text.py``).

The library sets none of these (``tests/test_memory.py`` checks what it does instead); the app applies
them to its widgets and to a URL through ``POLICY.check`` and ``POLICY.parse_url``.
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
from wil import Config
from wil.spec.config import FLOAT_FIELDS, INTEGER_FIELDS
from wil_app import policy as policy_module
from wil_app import run as run_module
from wil_app.lessons import DEMO
from wil_app.policy import CAPS, POLICY
from wil_app.run import run_within_policy
from wil_app.text import plain_text

LIMITS = CAPS
MAX_SECONDS, MAX_MEMORY_MB = POLICY.max_seconds, POLICY.max_memory_mb


def checked(**fields) -> Config:
    """A Config that the library builds and the policy then checks (ValueError if outside it)."""
    config = Config(**fields)
    POLICY.check(config)
    return config

ROOT = Path(__file__).resolve().parents[1]
TWELVE = ("zeros", "constant", "random_normal", "random_uniform", "truncated_normal", "glorot_uniform",
          "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal", "orthogonal")
# a run small enough that any single field may go to its limit without breaking a budget
TINY = dict(dataset="moons", n_samples=20, depth=1, width=1, epochs=1)

# the Config's numeric fields (one source: wil.spec.config); batch_size is bounded by the split (tested below)
INT_FIELDS = tuple(name for name in INTEGER_FIELDS if name != "batch_size")


# ---------------------------------------------------------------- field ranges

@pytest.mark.parametrize("name", INT_FIELDS + FLOAT_FIELDS)
def test_each_field_accepts_both_ends_of_its_range(name):
    low, high, _ = LIMITS[name]
    kind = int if name in INT_FIELDS else float
    for value in (kind(low), kind(high)):
        assert getattr(checked(**{**TINY, name: value}), name) == value


@pytest.mark.parametrize("name", INT_FIELDS)
def test_integer_fields_reject_one_past_either_end(name):
    low, high, _ = LIMITS[name]
    for value in (int(low) - 1, int(high) + 1):
        with pytest.raises(ValueError, match=rf"^Invalid {name}: (got {value}, allowed \[|expected an integer)"):
            checked(**{**TINY, name: value})


@pytest.mark.parametrize("name", FLOAT_FIELDS)
@pytest.mark.parametrize("value", ["below", "above", float("nan"), float("inf"), -float("inf")])
def test_float_fields_reject_out_of_range_and_non_finite(name, value):
    low, high, _ = LIMITS[name]
    value = {"below": low - max(abs(low), 1.0) * 1e-6, "above": high * (1 + 1e-9)}.get(value, value)
    with pytest.raises(ValueError, match=rf"^Invalid {name}: (got .*allowed \[|expected a number)"):
        checked(**{**TINY, name: value})


@pytest.mark.parametrize("name", INT_FIELDS)
@pytest.mark.parametrize("value", [2.5, 3.0, "5", True, None, [5]])
def test_integer_fields_reject_other_types(name, value):
    with pytest.raises(ValueError, match=rf"^Invalid {name}: expected an integer"):
        Config(**{**TINY, name: value})


def test_numpy_integers_are_integers():
    config = Config(**{**TINY, "depth": np.int64(3), "width": np.int32(4)})
    assert (config.depth, config.width) == (3, 4) and type(config.depth) is int


def test_batch_size_range_and_training_split():
    assert checked(**TINY, batch_size=1).batch_size == 1
    n_train = Config(**TINY).n_train()
    assert checked(**TINY, batch_size=n_train).batch_size == n_train
    with pytest.raises(ValueError, match=rf"^Invalid batch_size: got {n_train + 1}, but the training split "
                                         rf"has only {n_train} samples"):
        Config(**TINY, batch_size=n_train + 1)
    with pytest.raises(ValueError, match=r"^Invalid batch_size: expected an integer in \[1, .*\], got 0"):
        Config(**TINY, batch_size=0)


def test_compare_allows_twelve_initializers_not_thirteen():
    assert len(checked(**TINY, compare=TWELVE).compare) == 12
    with pytest.raises(ValueError, match=r"^Invalid compare: got 13 initializers, allowed at most 12"):
        checked(**TINY, compare=TWELVE + ("he_normal(scale=2)",))
    assert len(Config(**TINY, compare=TWELVE + ("he_normal(scale=2)",)).compare) == 13  # the library takes it


def test_the_last_seed_of_a_run_must_fit_too():
    high = int(LIMITS["seed"][1])
    assert checked(**TINY, seed=high - 2, n_seeds=3).seeds[-1] == high
    with pytest.raises(ValueError, match=rf"^Invalid seed: networks are seeded {high - 1}\.\.{high + 1}, "
                                         rf"above {high}; lower seed or n_seeds$"):
        checked(**TINY, seed=high - 1, n_seeds=3)
    # and a run at the top seed trains
    assert len(wil.compare(checked(**TINY, seed=high - 1, n_seeds=2), diagnostics=False).status) == 2


# ---------------------------------------------------------------- budgets

# Each config breaks exactly one budget; the message must say which, with its figures and the knobs.
OVER_BUDGET = {
    "memory": (dict(n_samples=20, depth=50, width=512, epochs=1, optimizer="adam"),
               r"^This run needs about ([\d,]+) MB of memory at its peak \(1 network of 12,872,706 parameters, "
               r"15 training samples through 25,600 hidden units, 1 epoch recorded\), above this server's "
               r"1,000 MB per run\. Reduce width, depth or samples, or train fewer networks "
               r"\(seeds, initializers\)\.$"),
    "seconds": (dict(n_samples=400, depth=8, width=64, epochs=2000, batch_size=1, compare=("zeros", "he_normal")),
                r"^This run would train for about ([\d,]+) s on this server \(2 networks, 2000 epochs of 300 steps "
                r"through 9 layers; estimated\), above its 60 s per run\. Reduce epochs \(at most (\d+) fit with "
                r"the rest unchanged\), samples, width or depth, use larger batches, or train fewer networks "
                r"\(seeds, initializers\)\.$"),
}


@pytest.mark.parametrize("budget", sorted(OVER_BUDGET))
def test_over_budget_message_names_the_budget_its_figures_and_the_knobs(budget):
    fields, message = OVER_BUDGET[budget]
    with pytest.raises(ValueError, match=message) as error:
        checked(**fields)
    estimate = float(re.match(message, str(error.value)).group(1).replace(",", ""))
    config = Config(**fields)
    # the figure is the policy's estimate, and the estimate is above the budget it names
    if budget == "memory":
        assert estimate == round(POLICY.memory_bytes(config) / 2**20) and estimate > MAX_MEMORY_MB
    else:
        assert estimate == round(POLICY.seconds(config)) and estimate > MAX_SECONDS


def test_the_estimates_follow_their_formulas():
    """seconds = SECONDS_PER_WORK x work + SECONDS_PER_STEP x steps, with work = networks x epochs x
    (samples + 8) x (parameters + 16 hidden units) and steps = epochs x (batches + 2) x layers; memory is
    the library's Config.memory peak with the play control's snapshots."""
    config = Config(n_samples=20, depth=1, width=1, epochs=1)
    assert config.n_parameters() == 7 and config.n_train() == 15
    assert POLICY.work(config) == 1 * 1 * (15 + 8) * (7 + 16 * 1)
    assert POLICY.steps(config) == 1 * (1 + 2) * 2
    batches = Config(n_samples=400, depth=3, width=16, epochs=7, batch_size=32, n_seeds=2,
                     compare=("zeros", "he_normal"))
    assert batches.n_batches() == 10 and POLICY.steps(batches) == 7 * 12 * 4
    assert POLICY.work(batches) == 4 * 7 * (300 + 8) * (batches.n_parameters() + 16 * 48)
    assert POLICY.seconds(batches) == pytest.approx(policy_module.SECONDS_PER_WORK * POLICY.work(batches)
                                                    + policy_module.SECONDS_PER_STEP * POLICY.steps(batches))
    snapshots = POLICY.snapshots(batches)
    assert snapshots == policy_module.PLAY_SNAPSHOTS[0]
    assert POLICY.memory_bytes(batches) == batches.memory(snapshots=snapshots)["peak"]
    assert POLICY.memory_bytes(batches, n_networks=40) > POLICY.memory_bytes(batches)


@pytest.mark.parametrize("budget", ["seconds"])
def test_the_epochs_a_message_promises_do_fit(budget):
    fields, _ = OVER_BUDGET[budget]
    with pytest.raises(ValueError) as error:
        checked(**fields)
    fit = int(re.search(r"at most (\d+) fit", str(error.value)).group(1))
    assert checked(**{**fields, "epochs": fit}).epochs == fit
    with pytest.raises(ValueError, match="^This run"):
        checked(**{**fields, "epochs": fit + 1})
    fitted, note = POLICY.fit(Config(**fields))  # what the app trains instead, and says so
    assert fitted == Config(**{**fields, "epochs": fit}) and f"at most {fit} of the" in note


@pytest.mark.parametrize("budget", sorted(OVER_BUDGET))
def test_budgets_hold_from_a_url_too(budget):
    fields, message = OVER_BUDGET[budget]
    params = {key: ";".join(value) if key == "compare" else str(value) for key, value in fields.items()}
    assert Config.from_query_params(params) == Config(**fields)  # valid for the library
    config, warnings = POLICY.parse_url(params, base=Config())
    if POLICY.fit(Config(**fields))[0] is not None:  # the app trains what fits of it, and says so itself
        assert config == Config(**fields) and warnings == []
        return
    assert config == Config()  # no silent clamp: the defaults, and the reason
    assert len(warnings) == 1 and warnings[0].endswith("; using the default configuration")
    assert re.search(message.lstrip("^").rstrip("$").removesuffix(r"\."), warnings[0])


def test_budgets_hold_for_the_networks_compare_is_given():
    config = checked(dataset="digits", depth=8, width=256, epochs=150)  # one network: well inside
    with pytest.raises(ValueError, match=r"^This run (would train for about|needs about)"):
        POLICY.check(config, n_networks=120)


def test_a_run_exactly_at_a_budget_is_allowed():
    base = Config(dataset="digits", depth=1, width=100, epochs=1, n_seeds=2, batch_size=1)
    epochs = POLICY.largest_epochs(dataclasses.replace(base, epochs=2000))
    assert 1 < epochs < 2000
    at = checked(**{**dataclasses.asdict(base), "epochs": epochs})
    assert POLICY.seconds(at) <= MAX_SECONDS < POLICY.seconds(at, epochs=epochs + 1)
    with pytest.raises(ValueError, match="^This run would train for about"):
        checked(**{**dataclasses.asdict(base), "epochs": epochs + 1})


# the opening page's moves (issue 17): each trains as asked under the default budgets
MOVES = {"depth 30": {"depth": 30}, "depth 50": {"depth": 50}, "digits": {"dataset": "digits"},
         "tanh": {"activation": "tanh"}, "sigmoid": {"activation": "sigmoid"}, "12 initializers": {"compare": TWELVE},
         "10 seeds": {"n_seeds": 10}, "width 256": {"width": 256}, "width 512": {"width": 512}}


@pytest.mark.parametrize("move", sorted(MOVES))
def test_every_move_of_the_opening_page_trains_as_asked(move):
    config = dataclasses.replace(DEMO, **MOVES[move])
    assert POLICY.problem(config) is None
    assert POLICY.fit(config) == (config, None)
    snapshots = POLICY.snapshots(config)  # play's frames: as many as keep the cached result small
    frames = config.memory(snapshots=snapshots)["frames"]
    assert snapshots is None or frames <= POLICY.max_result_mb * 2**20
    assert snapshots == policy_module.PLAY_SNAPSHOTS[0] or config.memory(
        snapshots=policy_module.PLAY_SNAPSHOTS[0])["frames"] > POLICY.max_result_mb * 2**20


def test_default_and_demo_configs_are_well_inside_every_budget():
    for config in (Config(), DEMO):
        assert POLICY.seconds(config) <= MAX_SECONDS / 50
        assert POLICY.memory_bytes(config) <= POLICY.max_memory_bytes / 5


def test_the_lessons_fit_the_budgets():
    """What a workshop does with the demo: bands of three seeds, or every initializer at once."""
    for changes in (dict(n_seeds=3), dict(compare=TWELVE), dict(depth=25), dict(batch_size=32, epochs=300)):
        POLICY.check(dataclasses.replace(DEMO, **changes))
    from wil_app.lessons import LESSONS

    for config in LESSONS.values():
        POLICY.check(config)


def test_parameter_count_matches_the_network():
    config = Config(dataset="wine", depth=3, width=7)
    sizes = [13, 7, 7, 7, 3]
    assert config.n_parameters() == sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))


# ---------------------------------------------------------------- many visitors at once

def test_at_most_concurrent_runs_train_at_once(monkeypatch, train_in_server):
    """Six threads ask at once; the gate lets ``concurrent_runs`` in, the rest wait, all finish."""
    active, most, release = [0], [0], threading.Event()
    lock = threading.Lock()
    real_compare = wil.compare

    def gated_compare(*args, **kwargs):
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        release.wait(timeout=30)
        try:
            return real_compare(*args, **kwargs)
        finally:
            with lock:
                active[0] -= 1

    monkeypatch.setattr(run_module.wil, "compare", gated_compare)
    queued, results = [], []

    def visitor(seed):
        results.append(run_within_policy(Config(**TINY, seed=seed), progress=lambda f: queued.append(f) if f == 0 else None))

    threads = [threading.Thread(target=visitor, args=(seed,)) for seed in range(6)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while (active[0] < POLICY.concurrent_runs or len(queued) < 6) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # room for a run that should be waiting to slip in, if the gate leaked
    assert most[0] == POLICY.concurrent_runs
    assert len(queued) >= 6  # every visitor was told progress 0 while queued
    release.set()
    for thread in threads:
        thread.join(60)
    assert len(results) == 6 and most[0] == POLICY.concurrent_runs


def test_the_library_has_no_gate():
    """From Python, runs in threads train at once: the gate is the server's, not the library's."""
    active, most, lock = [0], [0], threading.Lock()

    def progress(fraction):
        with lock:
            if fraction == 0.0:
                active[0] += 1
                most[0] = max(most[0], active[0])
            elif fraction == 1.0:
                active[0] -= 1
        time.sleep(0.01)

    threads = [threading.Thread(target=wil.compare, args=(Config(**{**TINY, "epochs": 50, "seed": seed}),),
                                kwargs=dict(progress=progress)) for seed in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert most[0] >= 2


def test_a_failing_run_gives_its_slot_back(monkeypatch, train_in_server):
    def broken_compare(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(run_module.wil, "compare", broken_compare)
    for _ in range(POLICY.concurrent_runs + 1):
        with pytest.raises(RuntimeError, match="boom"):
            run_within_policy(Config(**TINY))
    slots = [run_module.RUN_SLOTS.acquire(blocking=False) for _ in range(POLICY.concurrent_runs)]
    for taken in slots:
        if taken:
            run_module.RUN_SLOTS.release()
    assert all(slots), "a run that raised kept its slot"


def test_each_run_hands_freed_memory_back(monkeypatch):
    calls = []
    monkeypatch.setattr(run_module, "release_free_memory", lambda: calls.append(True) or True)
    run_within_policy(Config(**TINY))
    assert calls == [True]


def test_the_malloc_helpers_work_where_there_is_glibc():
    import ctypes
    import sys

    from wil_app.memory import cap_malloc_arenas, release_free_memory

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
    assert message.isascii() and message.isprintable()
    assert message.count("<script>") <= 2 and message.count("he_normal") <= 4
    assert len(message) < 400
    shown = plain_text(message)  # what the app shows of it: no autolink, no Markdown
    assert "://" not in shown and "www." not in shown and "@" not in shown
    assert not re.search(r"(?<!\\)[<>\[\]()`*_#]", shown)


def test_the_limits_are_documented_with_their_reasons():
    for name, (low, high, why) in LIMITS.items():
        assert low < high and len(why) > 10, name
    text = (ROOT / "docs" / "RELIABILITY.md").read_text()
    for name, (low, high, _) in LIMITS.items():
        row = re.search(rf"^\| `{name}` \| ([^|]+) \| ([^|]+) \|", text, re.M)
        assert row, f"{name} is missing from the limits table"
        assert [float(cell.replace(",", "").replace(" ", "")) for cell in row.groups()] == [low, high], name
    for name, value in dict(max_seconds=MAX_SECONDS, max_memory_mb=MAX_MEMORY_MB).items():
        row = re.search(rf"^\| `{name}` \| ([^|]+) \|", text, re.M)
        assert row, f"{name} is missing from the budgets table"
        assert float(row.group(1).replace(",", "")) == value, name


# ------------------------------------------------------------ an operator's budgets (WIL_POLICY)

def test_the_environment_sets_budgets_and_a_bigger_budget_trains_more_epochs():
    config = dataclasses.replace(DEMO, n_samples=2000, epochs=2000, width=128)
    assert POLICY.fit(config)[0].epochs < 2000  # the default budget trains fewer epochs, and says so
    roomy, problems = policy_module.from_environment({"WIL_POLICY": '{"max_seconds": 1e5, "max_memory_mb": 8000}'})
    assert problems == []
    assert (roomy.max_seconds, roomy.max_memory_mb, roomy.live_every) == (1e5, 8000, POLICY.live_every)
    fitted, note = roomy.fit(config)
    assert fitted == config and note is None
    assert policy_module.from_environment({}) == (POLICY, [])


@pytest.mark.parametrize("text, says", [
    ("{not json", "is not JSON"),
    ("[1, 2]", "must be a JSON object"),
    ('{"depth": 200}', "'depth' is not a budget"),
    ('{"max_seconds": -1}', "max_seconds must be a positive number"),
    ('{"max_seconds": "lots"}', "max_seconds must be a positive number"),
    ('{"max_memory_mb": NaN}', "max_memory_mb must be a positive number"),
    ('{"max_work": 1e12}', "'max_work' is not a budget"),  # the budgets before issue 17's: said, not silent
    ('{"max_upload_rows": 2.5}', "max_upload_rows must be a whole number"),
])
def test_a_mistyped_setting_is_ignored_with_a_message_and_the_server_still_serves(text, says):
    policy, problems = policy_module.from_environment({"WIL_POLICY": text})
    assert policy == POLICY
    assert len(problems) == 1 and says in problems[0], problems


def test_the_page_shows_an_ignored_setting(monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setattr(policy_module, "POLICY_PROBLEMS", ["WIL_POLICY: 'depth' is not a budget; ignored"])
    app = AppTest.from_file(str(Path(__file__).parents[1] / "wil_app" / "navigation.py"), default_timeout=120)
    app.run()
    assert not app.exception
    assert any("depth" in warning.value and "is not a budget" in warning.value for warning in app.warning)


def test_every_default_budget_lies_in_the_range_an_operator_may_set():
    defaults = policy_module.ServerPolicy()
    for name, (low, high) in policy_module.TUNABLE.items():
        assert low <= getattr(defaults, name) <= high, name


@pytest.mark.parametrize("text, says", [
    ("[" * 5000 + "]" * 5000, "nests 5,000 levels deep"),
    ('{"max_upload_mb": 1e300}', "using 200"),
    ('{"live_every": 1e-300}', "using 0.1"),
    ('{"max_seconds": ' + "9" * 5000 + "}", "5,000 digits"),
    ("\ufeff{\"max_seconds\": 20}", None),  # a byte-order mark before valid JSON is accepted
])
def test_an_operators_setting_of_any_shape_is_read_or_said_so(text, says):
    policy, problems = policy_module.from_environment({"WIL_POLICY": text})
    if says is None:
        assert problems == [] and policy.max_seconds == 20
    else:
        assert len(problems) == 1 and says in problems[0], problems
    assert 0.1 <= policy.live_every and policy.max_upload_mb <= 200

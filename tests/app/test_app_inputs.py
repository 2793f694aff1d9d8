"""Nothing breaks the page (issue 18, the app's half): every page input, a link, a CSV upload, a JSON
configuration, the operator's ``WIL_POLICY``, gives a configuration or a visible, quoted message; never an
exception, never a page that silently loses its charts. Pathological sizes are refused by their declared
size before anything parses them (``wil_app/inputs.py``).

The fast tier keeps one case of each kind; the rest of each class is under ``slow``. A cached page never
waits behind training (``test_a_cached_page_never_waits_for_a_run_slot``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

import wil
from wil_app import policy as policy_module
from wil_app import run as run_module
from wil_app.lessons import DEMO
from wil_app.tabs import PAGES
from wil_app.tabs.share import read_config_json

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "wil_app" / "page.py")
SMALL = wil.Config(dataset="moons", n_samples=100, noise=0.2, depth=2, width=8, epochs=5,
                   compare=("zeros", "he_normal"))
CHARTLESS_TABS = ("Learn", "Share & export", "Take it home")  # tabs that explain in words, not charts
DEEP_JSON = b"[" * 50_000 + b"]" * 50_000

pytestmark = pytest.mark.usefixtures("forget_user_datasets")


def run_page(query: dict | None = None, session: dict | None = None, timeout: float = 120) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=timeout)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    for key, value in (session or {}).items():
        at.session_state[key] = value
    return at.run()


def unescaped(text: str) -> str:
    return re.sub(r"\\([\x21-\x7e])", r"\1", text)


def messages(at: AppTest) -> str:
    """Everything the page says in words: alerts and the quoted problems (st.code)."""
    shown = [element.value for kind in ("warning", "error", "info", "success") for element in at.get(kind)]
    return unescaped(" ".join(shown + [block.value for block in at.code]))


def open_tab(at: AppTest) -> str | None:
    return at.session_state["tab"] if "tab" in at.session_state else None


def assert_config_or_message(at: AppTest) -> None:
    """The page's promise: no exception; charts, or a tab that explains in words, or a visible message."""
    assert not at.exception, [e.value for e in at.exception]
    assert (at.get("vega_lite_chart") or open_tab(at) in CHARTLESS_TABS or at.warning or at.error
            or at.info), "a page with no chart and no message"


# ---------------------------------------------------------------- links

@pytest.mark.parametrize("query, says", [
    ({"quiz": "1" * 4301}, "Invalid quiz"),
    ({"tour": "2" * 5000}, "Invalid tour"),
    ({"tour": ["1", "2"]}, "tour was given 2 times"),
    pytest.param({"quiz": "²"}, "Invalid quiz", marks=pytest.mark.slow),
    pytest.param({"epoch": "²", "slide": "9" * 5000}, "Invalid epoch", marks=pytest.mark.slow),
    pytest.param({"quiz": ["2", "9" * 4400]}, "quiz was given 2 times", marks=pytest.mark.slow),
    pytest.param({"tab": "Nope", "tour": "-1"}, "Invalid tab", marks=pytest.mark.slow),
])
def test_workshop_and_view_keys_of_any_size_are_messages(query, says):
    at = run_page(query)
    assert_config_or_message(at)
    assert says in messages(at), messages(at)
    assert at.get("vega_lite_chart")  # the default page, with its charts


@pytest.mark.parametrize("asked, opened", [
    ("Share & export", "Share & export"),
    pytest.param("Share ", "Share & export", marks=pytest.mark.slow),  # a link whose & was not encoded
    pytest.param("Take it home", "Take it home", marks=pytest.mark.slow),
    ("learn", "Learn"),
    pytest.param("dead-neurons", "Dead neurons", marks=pytest.mark.slow),
])
def test_a_link_opens_the_tab_it_names(asked, opened):
    at = run_page({"tab": asked})
    assert_config_or_message(at)
    assert open_tab(at) == opened
    assert "Invalid tab" not in messages(at)


def test_a_tab_that_does_not_exist_is_said_so_and_the_first_tab_shows():
    at = run_page({"tab": "<b>Secret</b>"})
    assert_config_or_message(at)
    assert "Invalid tab: got '<b>Secret</b>'" in messages(at) and open_tab(at) == next(iter(PAGES))
    assert at.get("vega_lite_chart")


KEYS = [f.name for f in dataclasses.fields(wil.Config)] + ["epoch", "layers", "quantity", "hist", "presenter",
                                                            "slide", "quiz", "tour", "tab", "data"]
VALUES = st.one_of(
    st.text(max_size=20),
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["9" * 4301, "1" * 5000, "²", "١", "1e400", "-0", "Share", "Learn", "full", "he_normal;zeros"]),
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=st.dictionaries(st.sampled_from(KEYS), st.one_of(VALUES, st.lists(VALUES, min_size=2, max_size=3)),
                             min_size=1, max_size=5))
def test_any_link_gives_a_configuration_or_a_message(query):
    assert_config_or_message(run_page(query))


# ---------------------------------------------------------------- CSV uploads

def upload_csv(content: bytes, name: str = "data.csv") -> AppTest:
    at = run_page(SMALL.to_query_params())
    at.file_uploader(key="upload_file").set_value((name, content, "text/csv"))
    return at.run()


@pytest.mark.parametrize("content, says", [
    (b"a,b\n" + (b",".join([b"1"] * 100_000) + b"\n") * 3, "100,000 columns"),
    (b"a,b,c\n", "no data rows"),
    pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 40, "not a text file",
                 marks=pytest.mark.slow),
    pytest.param(b'a,b\n"' + b"1," * 100_000 + b'",1\n', "field larger than field limit", marks=pytest.mark.slow),
    pytest.param(b"a,b\n1,2,3\n4,5,6\n", "more than the header's 2", marks=pytest.mark.slow),
    pytest.param(b"a,b\n\n\n", "no data rows", marks=pytest.mark.slow),
])
def test_a_hostile_csv_is_refused_at_once_with_its_reason(content, says):
    start = time.perf_counter()
    at = upload_csv(content)
    assert_config_or_message(at)
    assert says in messages(at), messages(at)
    assert at.get("vega_lite_chart") and time.perf_counter() - start < 60


# ---------------------------------------------------------------- JSON configurations (Share tab)

def import_json(content: bytes) -> AppTest:
    at = run_page({**SMALL.to_query_params(), "tab": "Share & export"})
    at.file_uploader(key="upload_config").set_value(("wil-config.json", content, "application/json"))
    return at.run()


def config_json(view: dict | None = None, **fields) -> bytes:
    document = {**dataclasses.asdict(SMALL), **fields}
    if view is not None:
        document["view"] = view
    return json.dumps(document).encode()


@pytest.mark.parametrize("content, says", [
    (DEEP_JSON, "nests 50,000 levels deep"),
    pytest.param(b'{"view": ' + b"[" * 40_000 + b"]" * 40_000 + b"}", "nests 40,001 levels deep",
                 marks=pytest.mark.slow),
    (config_json(depth={"a": 1}, width=[1, [2]]), "Invalid 'depth'"),
    pytest.param(b'{"depth": ' + b"9" * 5000 + b"}", "5,000 digits", marks=pytest.mark.slow),
    pytest.param(config_json(learning_rate=1e308 * 10, epochs=1e300), "Invalid learning_rate",
                 marks=pytest.mark.slow),
    pytest.param(b"[1, 2, 3]", "must be a JSON object", marks=pytest.mark.slow),
    pytest.param(b'{"depth": "\xff\xfe"}', "not UTF-8", marks=pytest.mark.slow),
    pytest.param(config_json(view={"tab": "Nope", "epoch": "x"}), "Invalid tab", marks=pytest.mark.slow),
    pytest.param(config_json(surprise=1), "unknown parameter 'surprise'", marks=pytest.mark.slow),
])
def test_a_hostile_configuration_file_is_said_so(content, says):
    at = import_json(content)
    assert_config_or_message(at)
    assert says in messages(at), messages(at)


def test_a_byte_order_mark_before_a_valid_configuration_is_accepted():
    at = import_json(b"\xef\xbb\xbf" + config_json(view={"tab": "Training"}, depth=3))
    assert_config_or_message(at)
    assert at.session_state["depth"] == 3 and "Loaded the configuration" in messages(at)
    assert open_tab(at) == "Training" and at.get("vega_lite_chart")


@pytest.mark.parametrize("content", [DEEP_JSON, b'{"a": ' * 20 + b"1" + b"}" * 20, b"\xff" * 10, b"",
                                     b"1e999", b'{"view": [1]}', b'{"compare": [[["x"]]]}'])
def test_reading_a_configuration_never_raises(content):
    config, view, problems = read_config_json(content)
    assert isinstance(config, wil.Config) and isinstance(view, dict) and problems


# ---------------------------------------------------------------- the operator's WIL_POLICY


def test_budgets_so_small_nothing_fits_show_a_message(server_policy):
    policy, problems = policy_module.from_environment(
        {"WIL_POLICY": '{"max_seconds": 0.01, "max_memory_mb": 1}'})
    assert problems == []
    server_policy(policy)
    at = run_page()
    assert_config_or_message(at)
    assert "too small for any run" in messages(at), messages(at)


def test_a_memory_refusal_is_a_message(server_policy, monkeypatch):
    huge, _ = policy_module.from_environment({"WIL_POLICY": json.dumps(
        {name: high for name, (low, high) in policy_module.TUNABLE.items()})})
    server_policy(dataclasses.replace(huge, trainer_process=False))  # the patch below is in this process

    def refuse(config, **kwargs):
        raise ValueError("training 120 networks needs about 4.35 GB of memory at its peak, and 4.05 GB is available")
    monkeypatch.setattr(run_module.wil, "compare", refuse)
    at = run_page({**SMALL.to_query_params(), "seed": "4242"})  # not in the cache
    assert_config_or_message(at)
    assert "cannot train on this server" in messages(at) and "4.35 GB" in messages(at)


@pytest.mark.parametrize("setting, says", [
    ('{"a":' * 5000 + "1" + "}" * 5000, "more than the 10,000"),
    ('{"a":' * 1500 + "1" + "}" * 1500, "nests 1,500 levels deep"),
    ('{"max_upload_mb": 1e300}', "max_upload_mb 1e+300 is outside [1, 200]; using 200"),
    ('{"live_every": 1e-300}', "live_every 1e-300 is outside [0.1, 60]; using 0.1"),
    ('{"max_memory_mb": ' + "9" * 5000 + "}", "5,000 digits"),
])
def test_an_operators_setting_never_raises_and_says_what_it_did(setting, says):
    policy, problems = policy_module.from_environment({"WIL_POLICY": setting})
    assert any(says in problem for problem in problems), problems
    assert 0.1 <= policy.live_every <= 60 and policy.max_upload_bytes <= 200 * 1024 * 1024


@pytest.mark.slow
def test_a_deeply_nested_setting_does_not_stop_the_server_from_importing():
    setting = "[" * 60_000 + "]" * 60_000  # near the longest environment string Linux passes (128 kB)
    code = "import wil_app.policy as p; print(len(p.POLICY_PROBLEMS), p.POLICY.max_seconds)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "WIL_POLICY": setting, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["1", str(policy_module.ServerPolicy().max_seconds)]


# ---------------------------------------------------------------- a cached page and the run slots

def test_a_cached_page_never_waits_for_a_run_slot():
    """While every run slot is held (other sessions training), a page whose result is cached shows at once:
    the cache is looked up before a run waits for a slot (wil_app/run.py)."""
    query = {**SMALL.to_query_params(), "seed": "7"}
    assert run_page(query).get("vega_lite_chart")  # now cached
    slots = [run_module.RUN_SLOTS.acquire(timeout=60) for _ in range(policy_module.POLICY.concurrent_runs)]
    try:
        assert all(slots)
        start = time.perf_counter()
        at = run_page(query, timeout=30)
        seconds = time.perf_counter() - start
    finally:
        for _ in slots:
            run_module.RUN_SLOTS.release()
    assert_config_or_message(at)
    # it drew while every slot was held: a page that waited for one would have timed out above
    assert at.get("vega_lite_chart"), seconds


def test_an_uncached_page_queues_while_the_slot_is_held_and_trains_once_it_is_free():
    query = {**SMALL.to_query_params(), "seed": "8"}
    run_module.RUN_SLOTS.acquire()
    released = threading.Timer(2.0, run_module.RUN_SLOTS.release)
    released.start()
    start = time.perf_counter()
    at = run_page(query)
    released.join()
    assert_config_or_message(at)
    assert at.get("vega_lite_chart") and time.perf_counter() - start >= 2.0

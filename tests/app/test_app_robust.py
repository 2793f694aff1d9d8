"""The app in front of an audience: hostile URLs, random query strings, sessions sharing the cache.

Through Streamlit's AppTest, on the page every session runs (``wil_app/page.py`` beside ``app.py``;
``WIL_APP=path/to/app.py`` points the tests at another checkout's). Every run here is a fresh session of
the same process, so they share ``st.cache_data`` as a server's visitors do.
"""

from __future__ import annotations

import dataclasses
import html
import os
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wil

ROOT = Path(__file__).resolve().parents[2]
APP = Path(os.environ.get("WIL_APP", ROOT / "app.py"))
PAGE = APP.parent / "wil_app" / "page.py"
if not PAGE.exists():  # a checkout from before app.py became the server's entry: the page was app.py
    PAGE = APP
if not APP.exists():
    pytest.skip(f"{APP} does not exist", allow_module_level=True)

from streamlit.testing.v1 import AppTest  # noqa: E402  (only once there is an app to test)
from wil_app.lessons import DEMO  # noqa: E402
from wil_app.policy import POLICY  # noqa: E402

FIELDS = [f.name for f in wil.Config.__dataclass_fields__.values()]
# what must never reach the page from a URL: HTML, links, images, autolinks, code spans, math, newlines
MARKUP = ("<", ">", "](", "![", "://", "www.", "@", "`", "$", "\n")


def run_app(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=120)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def html_rendered(at: AppTest) -> list[str]:
    """Text of every element the browser renders as HTML: st.html and Markdown with unsafe HTML."""
    bodies = [element.proto.body for element in at.get("html")]
    bodies += [element.value for element in at.get("markdown") if element.proto.allow_html]
    return bodies


def markdown_rendered(at: AppTest) -> list[str]:
    """Text of every element rendered as Markdown (where Streamlit's directives, :material/...: and
    :color[...], would draw): markdown, captions, alerts."""
    return [element.value for kind in ("markdown", "caption", "warning", "info", "error", "success")
            for element in at.get(kind)]


def url_warnings(at: AppTest) -> list[str]:
    """The warnings about the URL, in the app's own words (its problems are quoted below as plain text)."""
    return [w.value for w in at.warning]


def url_problems(at: AppTest) -> list[str]:
    """The problems a link had, quoted as plain text (st.code, never rendered as Markdown)."""
    return [line for block in at.code for line in block.value.splitlines()]


def assert_page_is_safe(at: AppTest, values: list[str]) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert at.get("vega_lite_chart"), "the page has no charts"
    for warning in url_warnings(at):
        unescaped = re.sub(r"\\[\x21-\x7e]", "", warning)  # a backslash-escaped character renders as itself
        assert not any(mark in unescaped for mark in MARKUP), warning
    for body in html_rendered(at):
        for value in values:
            # text with markup in it must never reach HTML as it is (the page's own HTML escapes what it
            # shows, e.g. an initializer's canonical name, which a URL may also spell out)
            if len(value) >= 4 and html.escape(value) != value:
                assert value not in body, f"URL text {value!r} rendered as HTML"
    for text in markdown_rendered(at):
        for value in values:
            if len(value) >= 4 and re.search(r":[a-z/_]+[:\[]", value):  # a directive's shape
                assert value not in text, f"URL text {value!r} rendered as Markdown"


# ---------------------------------------------------------------- hostile query strings

HOSTILE = {
    "huge epochs": {"epochs": "100000000"},
    "huge depth": {"depth": "100000"},
    "over the budget": {"depth": "50", "width": "512"},
    "over the budget together": {"epochs": "2000", "n_seeds": "10"},
    "not numbers": {"width": "wide", "noise": "loud", "learning_rate": "fast"},
    "non-finite": {"noise": "nan", "learning_rate": "inf", "seed": "-inf"},
    "overflow": {"learning_rate": "1e400", "seed": "9" * 5000},
    "negative": {"n_samples": "-5", "n_seeds": "-1", "batch_size": "-32"},
    "script": {"dataset": "<script>alert(1)</script>", "activation": "<img src=x onerror=alert(1)>"},
    "markdown": {"optimizer": "![x](https://example.invalid/p.png)", "dtype": "[click](javascript:alert(1))"},
    "autolinks": {"initializer": "https://example.invalid/login", "dataset": "www.example.invalid",
                  "activation": "someone@example.invalid"},
    "code and math": {"dataset": "`rm -rf /`", "activation": "$\\href{javascript:alert(1)}{x}$"},
    "bad initializers": {"compare": "he_normal;<b>x</b>;random_normal(std=nan);lsuv(max_iter=1e400)"},
    "unicode": {"dataset": "m\u00f6\u00f6ns \u202e\U0001f600", "\u00e9poques": "\u0663\u0660"},
    "unknown keys": {f"key{i}": "1" for i in range(40)},
    "repeated keys": {"depth": ["3", "4", "<script>"], "width": ["8", "16"]},
    "directives": {"dataset": ":material/warning:", "activation": ":color[red]{background}", "optimizer": ":streamlit:",
                   "compare": "he_normal;:material/home:", ":blue[x]": "1"},
    "empty": {"depth": "", "width": " ", "learning_rate": ""},
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_url_shows_warnings_never_an_exception(name, server_policy):
    # an operator's 2 s budget: a link over it is adapted (or refused) in seconds, not the default's minute
    server_policy(dataclasses.replace(POLICY, max_seconds=2.0))
    query = HOSTILE[name]
    at = run_app(query)
    values = [v for value in query.values() for v in (value if isinstance(value, list) else [value])]
    assert_page_is_safe(at, values + list(query))
    adapted = any("This server trains" in info.value for info in at.info)  # over a budget: trains what fits
    assert (url_warnings(at) and url_problems(at)) or adapted, "a bad URL must be said so"


@pytest.mark.slow
def test_a_url_over_the_budget_names_the_knob_and_shows_the_default_page():
    at = run_app({"depth": "50", "width": "512"})
    messages = " ".join(url_problems(at))
    assert "MB of memory at its peak" in messages and "Reduce width, depth or samples" in messages
    assert at.session_state["depth"] == DEMO.depth  # not clamped: the demo, untouched


@pytest.mark.slow
def test_the_valid_part_of_a_url_is_applied():
    at = run_app({"epochs": "20", "depth": "nan", "activation": "tanh"})
    assert not at.exception
    assert at.session_state["epochs"] == 20 and at.session_state["activation"] == "tanh"
    assert at.session_state["depth"] == DEMO.depth
    assert any("Invalid depth" in problem for problem in url_problems(at))


@pytest.mark.slow
def test_warnings_survive_a_url_the_widgets_normalize():
    at = run_app({"compare": ";;;", "depth": "deep"})
    assert not at.exception
    assert any("Invalid depth" in problem for problem in url_problems(at))


@pytest.mark.slow
def test_repeated_keys_warn_and_the_last_value_is_used():
    at = run_app({"depth": ["3", "4"], "epochs": ["5", "7"], "layers": ["1", "2"]})
    problems = url_problems(at)
    for key, times in (("depth", 2), ("epochs", 2), ("layers", 2)):
        assert any(f"{key} was given {times} times" in problem for problem in problems), (key, problems)
    assert at.session_state["depth"] == 4 and at.session_state["epochs"] == 7


def test_streamlit_directives_in_a_url_are_shown_as_plain_text():
    query = HOSTILE["directives"]
    at = run_app(query)
    problems = " ".join(url_problems(at))
    assert ":material/warning:" in problems and ":color[red]" in problems  # quoted, as received
    for text in markdown_rendered(at):
        assert ":material/warning:" not in text and ":color[" not in text and ":streamlit:" not in text


QUERY_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["nan", "inf", "-inf", "1e400", "9" * 400, "", "<script>alert(1)</script>",
                     "![x](https://example.invalid/p.png)", "\u202e", "he_normal;zeros", "full", "0", "-1"]),
    st.integers(-(10**12), 10**12).map(str),
)


@pytest.mark.slow
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(min_size=1, max_size=12)),
                             st.one_of(QUERY_TEXT, st.lists(QUERY_TEXT, min_size=1, max_size=3)),
                             min_size=1, max_size=4))
def test_a_random_query_string_never_shows_an_exception(query):
    at = run_app(query)
    values = [v for value in query.values() for v in (value if isinstance(value, list) else [value])]
    assert_page_is_safe(at, values)


# ---------------------------------------------------------------- isolation of the cache

VANDAL = f"""
import runpy
import streamlit as st

runpy.run_path({str(PAGE)!r})  # the app's page, as a visitor sees it
from wil_app.lessons import DEMO  # noqa: E402  (imported by the page)
from wil_app.run import run_comparison  # noqa: E402

result = run_comparison(DEMO)  # the cached result this session was served
if st.session_state.get("vandal"):  # change the frames in place, and the result object itself
    result.history.loc[:, "loss"] = -1.0
    result.status.loc[:, "reason"] = "vandalised"
    result.grid.loc[:, "prediction"] = -1
    result.layers = result.layers.iloc[0:0]
st.session_state["seen"] = {{name: getattr(result, name).copy() for name in ("history", "status", "layers")}}
"""


@pytest.mark.slow
def test_one_session_cannot_change_what_another_is_served():
    vandal = AppTest.from_string(VANDAL, default_timeout=120)
    vandal.session_state["vandal"] = True
    vandal.run()
    assert not vandal.exception, [e.value for e in vandal.exception]
    assert (vandal.session_state["seen"]["history"]["loss"] == -1.0).all()  # the vandal's copy changed
    assert vandal.session_state["seen"]["layers"].empty

    visitor = AppTest.from_string(VANDAL, default_timeout=120).run()  # another session, same cache
    assert not visitor.exception
    fresh = wil.compare(DEMO)  # what nobody touched (deterministic)
    seen = visitor.session_state["seen"]
    pd.testing.assert_frame_equal(seen["history"], fresh.history)
    pd.testing.assert_frame_equal(seen["status"], fresh.status)
    pd.testing.assert_frame_equal(seen["layers"], fresh.layers)
    # and the vandal's next run is served the pristine result again
    vandal.session_state["vandal"] = False
    vandal.run()
    pd.testing.assert_frame_equal(vandal.session_state["seen"]["history"], fresh.history)


def test_every_cache_in_the_app_is_bounded():
    """``st.cache_data`` without ``max_entries`` keeps every distinct configuration anyone asks for."""
    import ast

    caches = {}
    sources = [APP, *sorted((APP.parent / "wil_app").rglob("*.py"))]  # the page and its pieces
    for node in (node for source in sources for node in ast.walk(ast.parse(source.read_text()))):
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Call) and ast.unparse(decorator.func) in ("st.cache_data",
                                                                                      "st.cache_resource"):
                    options = {keyword.arg: keyword.value for keyword in decorator.keywords}
                    assert "max_entries" in options, f"line {node.lineno}: {node.name} is unbounded"
                    caches[node.name] = ast.literal_eval(options["max_entries"])
    # training results are large (up to ~20 MB each): a few; drawn charts are small (under ~0.5 MB)
    assert 1 <= caches.pop("run_comparison") <= 8
    assert caches and all(1 <= entries <= 200 for entries in caches.values()), caches

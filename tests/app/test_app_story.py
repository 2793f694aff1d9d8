"""The page tells its story whatever the visitor does (issue 11), through Streamlit's AppTest.

- The walk: from the opening page and from each prepared lesson, one control at a time through its
  values; every rerun shows charts and a verdict per initializer, never only an error.
- The link is the view: epoch, layers, quantity, tab, the histograms' axis, presenter mode.
- Slot choices survive changes of the count; the play control steps through the snapshots; presenter
  mode shows one chart per screen and walks the lessons.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import re

import pytest
from streamlit.testing.v1 import AppTest

import wil
from wil_app.lessons import LESSONS
from wil_app.lessons import DEMO
from wil_app.policy import POLICY

pytestmark = pytest.mark.slow  # many AppTest runs: the slow tier

APP = str(pathlib.Path(__file__).resolve().parents[2] / "wil_app" / "page.py")
SMALL = wil.Config(dataset="moons", n_samples=100, noise=0.2, depth=3, width=8, epochs=10,
                   compare=("zeros", "random_normal(std=1)", "he_normal"))


def open_app(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return run(at)


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [error.value for error in at.exception]
    return at


def verdict_labels(at: AppTest) -> list[str]:
    bodies = [h.proto.body for h in at.get("html") if "data-testid='wil-verdicts'" in h.proto.body]
    assert len(bodies) == 1, "one block of verdicts"
    return re.findall(r"data-initializer='([^']*)'", bodies[0])


def trained_labels(at: AppTest) -> list[str]:
    """The initializers of the run on screen: the summary's run, as the sidebar's swatches name them."""
    return [str(label) for label in at.session_state["last_config"].labels]


def assert_story(at: AppTest, where: str) -> None:
    """Charts, and a verdict for every initializer of the run shown; an error never alone."""
    assert not at.exception, (where, [e.value for e in at.exception])
    assert at.get("vega_lite_chart"), f"{where}: no chart"
    labels = verdict_labels(at)
    assert labels and len(labels) == len(set(labels)), where
    assert not at.error, (where, [e.value for e in at.error])


# control -> values to walk through: every value of the short lists, the ends and a spread of the long ones
WALK = {
    ("selectbox", "dataset"): list(wil.DATASETS),
    ("select_slider", "n_samples"): [50, 200, 1000, 5000],
    ("slider", "noise"): [0.0, 0.5, 2.0],
    ("slider", "depth"): [1, 2, 10, 30, 50],
    ("select_slider", "width"): [1, 8, 128, 512],
    ("selectbox", "activation"): list(wil.ACTIVATIONS),
    ("number_input", "n_initializers"): [1, 6, 12],
    ("selectbox", "optimizer"): ["sgd", "momentum", "adam"],
    ("select_slider", "learning_rate"): [1e-4, 0.01, 1.0, 10.0],
    ("select_slider", "epochs"): [1, 50, 500, 2000],
    ("select_slider", "batch_size"): ["full", 8, 64, 256],
    ("slider", "n_seeds"): [1, 3, 10],
    ("number_input", "seed"): [0, 12345],
    ("selectbox", "dtype"): ["float64", "float32"],
}
STARTS = ["the opening page", *[name for name in LESSONS if LESSONS[name] != DEMO]]


def _walk_from(start: str) -> None:
    at = open_app()
    if start in LESSONS:
        at.sidebar.selectbox(key="lesson").select(start)
        run(at)
    assert_story(at, start)
    for (kind, key), values in WALK.items():
        widget = getattr(at.sidebar, kind)(key=key)
        original = widget.value
        for value in values:
            getattr(at.sidebar, kind)(key=key).set_value(value)
            run(at)
            assert_story(at, f"{start}: {key} = {value!r}")
        getattr(at.sidebar, kind)(key=key).set_value(original)
        run(at)


@pytest.mark.parametrize("start", STARTS)
def test_the_walk_every_control_shows_charts_and_verdicts(start):
    _walk_from(start)


def test_an_adapted_run_says_how_in_one_line(server_policy):
    # an operator's budget that fits 140 of depth 30's 150 epochs (the default trains all 150)
    deep = dataclasses.replace(DEMO, depth=30)
    server_policy(dataclasses.replace(POLICY, max_seconds=POLICY.seconds(deep, epochs=140)))
    at = open_app()
    at.sidebar.slider(key="depth").set_value(30)
    run(at)
    notes = [info.value for info in at.info if "This server trains" in info.value]
    assert len(notes) == 1 and "at most 140 of the 150 epochs" in notes[0] and "\n" not in notes[0]
    assert at.session_state["depth"] == 30 and at.query_params["depth"] == "30"  # as asked
    assert set(verdict_labels(at)) == set(DEMO.compare)
    at.sidebar.selectbox(key="dataset").set_value("digits")
    run(at)
    assert any("This server trains" in info.value for info in at.info) and verdict_labels(at)


# ---------------------------------------------------------------- the link is the view

def test_the_view_round_trips_through_the_url():
    at = open_app({**SMALL.to_query_params(), "tab": "Activations"})
    epochs = sorted(int(e) for e in wil.compare(SMALL, snapshots=POLICY.snapshots(SMALL)).histograms["epoch"].unique())
    middle = epochs[len(epochs) // 2]
    at.select_slider(key="view_epoch").set_value(middle)
    at.multiselect(key="view_layers").set_value([2, 4])
    at.radio(key="act_quantity").set_value("preactivation")
    at.radio(key="hist_x").set_value("shared")  # the default is log magnitude
    run(at)
    link = dict(at.query_params)
    assert link["epoch"] == str(middle) and link["layers"] == "2,4" and link["quantity"] == "preactivation"
    assert link["hist"] == "shared" and link["tab"] == "Activations"
    assert wil.Config.from_query_params({k: v for k, v in link.items() if k in SMALL.to_query_params()}) == SMALL

    reopened = open_app(link)
    assert dict(reopened.query_params) == link
    assert reopened.select_slider(key="view_epoch").value == middle
    assert reopened.multiselect(key="view_layers").value == [2, 4]
    assert reopened.radio(key="act_quantity").value == "preactivation"
    assert reopened.radio(key="hist_x").value == "shared"
    histograms = next(json.loads(c.proto.spec) for c in reopened.get("vega_lite_chart")
                      if "Pre-activation histograms per layer" in json.dumps(json.loads(c.proto.spec)["title"]))
    assert next(p for p in histograms["params"] if p["name"] == "epoch")["value"] == middle
    assert "log10" not in json.dumps(histograms)

    presenter = open_app({**link, "presenter": "1", "slide": "2"})
    assert presenter.session_state["presenter"] is True
    assert presenter.query_params["presenter"] == "1" and presenter.query_params["slide"] == "2"
    # one chart per screen, as a strip of slides instead of the result tabs, opened on the link's slide
    assert [tab.label for tab in presenter.tabs][:3] == ["Loss", "Accuracy", "Signal"]
    assert presenter.session_state["slide_tabs"] == "Signal"
    assert len(presenter.get("vega_lite_chart")) == len(presenter.tabs)


@pytest.mark.parametrize("query, problem", [
    ({"epoch": "soon"}, "Invalid epoch"), ({"layers": "1,99"}, "Invalid layers"),
    ({"quantity": ":material/warning:"}, "Invalid quantity"), ({"presenter": "maybe"}, "Invalid presenter"),
    ({"hist": "[x](http://example.invalid)"}, "Invalid hist"),
])
def test_a_bad_view_in_a_link_is_reported_as_plain_text_and_ignored(query, problem):
    at = open_app({**SMALL.to_query_params(), **query})
    problems = [line for block in at.code for line in block.value.splitlines()]
    assert any(problem in line for line in problems), problems
    assert verdict_labels(at) and at.get("vega_lite_chart")
    for element in [*at.markdown, *at.warning, *at.info, *at.caption]:
        assert ":material/warning:" not in element.value and "example.invalid" not in element.value


def test_a_link_epoch_that_was_not_recorded_opens_on_the_nearest_one():
    config = wil.Config(**{**SMALL.__dict__, "epochs": 30})
    at = open_app({**config.to_query_params(), "tab": "Activations", "epoch": "7"})
    assert at.select_slider(key="view_epoch").value == 6  # 16 snapshots of 30 epochs: 0, 2, 4, 6, 8, ...


# ---------------------------------------------------------------- the sidebar keeps choices

def test_slot_choices_survive_changing_the_count():
    at = open_app()
    assert at.sidebar.number_input(key="n_initializers").value == 5
    at.sidebar.select_slider(key="init2_random_normal_std").set_value(2.0)
    run(at)
    at.sidebar.number_input(key="n_initializers").set_value(2)
    run(at)
    assert trained_labels(at) == ["zeros", "random_normal(std=0.01)"]
    at.sidebar.number_input(key="n_initializers").set_value(5)
    run(at)
    assert trained_labels(at) == ["zeros", "random_normal(std=0.01)", "random_normal(std=2)", "glorot_uniform",
                                  "he_normal"]
    # a lesson starts afresh: no slot remembers the choices before it
    at.sidebar.selectbox(key="lesson").select(STARTS[1])
    run(at)
    assert trained_labels(at) == list(LESSONS[STARTS[1]].compare)


# ---------------------------------------------------------------- play, presenter

def test_play_sends_every_snapshot_in_one_chart_with_its_own_epoch_slider():
    """Play runs in the browser (wil_app/tabs/controls.py): the boundary chart holds every recorded epoch's
    frame, and its slider starts at the epoch chosen on the page."""
    at = open_app({**SMALL.to_query_params(), "tab": "Decision boundary"})
    snapshots = POLICY.snapshots(SMALL)
    assert 10 <= snapshots <= 20
    expected = sorted({int(round(e)) for e in __import__("numpy").linspace(0, SMALL.epochs, snapshots)})
    spec = json.loads(at.get("vega_lite_chart")[-1].proto.spec)
    slider = next(p for p in spec["params"] if p["name"] == "epoch")
    assert slider["value"] == 0 and slider["bind"]["input"] in ("range", "select")
    assert f"indexof({expected}" in json.dumps(spec)
    at.select_slider(key="view_epoch").set_value(expected[-1])
    run(at)
    spec = json.loads(at.get("vega_lite_chart")[-1].proto.spec)
    assert next(p for p in spec["params"] if p["name"] == "epoch")["value"] == expected[-1]


def wil_app_tabs_cache_clear() -> None:
    from wil_app.tabs.drawing import draw_chart, draw_large_chart

    draw_chart.clear()
    draw_large_chart.clear()


def test_presenter_mode_shows_verdicts_one_chart_and_walks_the_lessons():
    at = open_app({"presenter": "1"})
    # the slides are a strip of tabs, every one drawn (a click shows the next at once, in the browser); the
    # result tabs are not there
    names = [tab.label for tab in at.tabs]
    assert at.session_state["presenter"] is True and names[:3] == ["Loss", "Accuracy", "Signal"]
    charts_shown = at.get("vega_lite_chart")
    assert len(charts_shown) == len(names) == 7  # one chart a slide
    for shown in charts_shown:
        spec = json.loads(shown.proto.spec)
        assert spec["config"]["axis"]["labelFontSize"] >= 16 and spec["config"]["title"]["fontSize"] >= 20
        assert spec["config"]["axis"]["titleFontSize"] >= 20
    assert set(verdict_labels(at)) == set(DEMO.compare)
    titles = [json.loads(shown.proto.spec)["title"]["text"] for shown in charts_shown]
    assert len(set(titles[:6])) == 6 and titles[0] == "Loss per epoch"
    at.session_state["slide"] = 3  # what the tab's callback records: the slide travels in the link
    run(at)
    assert at.session_state["slide_tabs"] == "Histograms" and at.query_params["slide"] == "3"
    lessons = list(LESSONS.values())
    for lesson in lessons[1:] + lessons[:1]:
        at.button(key="lesson_next").click()
        run(at)
        assert at.session_state["last_config"].compare == lesson.compare
        assert set(verdict_labels(at)) == set(lesson.compare)
    at.button(key="lesson_back").click()
    run(at)
    assert at.session_state["last_config"].compare == lessons[-1].compare
    at.toggle(key="presenter_main").set_value(False)
    run(at)
    assert at.tabs and "presenter" not in at.query_params


# ---------------------------------------------------------------- load a configuration

def test_the_exported_json_reads_back_as_the_configuration_and_the_view():
    from wil_app.tabs.share import read_config_json

    document = {**__import__("dataclasses").asdict(SMALL), "view": {"tab": "Weights", "epoch": "4", "layers": "1,2"}}
    config, view, problems = read_config_json(json.dumps(document).encode())
    assert config == SMALL and problems == [] and view == {"tab": "Weights", "epoch": "4", "layers": "1,2"}
    # as lenient as a link: a bad field keeps the default, with a message; garbage is not a configuration
    config, _, problems = read_config_json(json.dumps({**document, "depth": "deep"}).encode())
    assert config.depth == DEMO.depth and any("Invalid depth" in p for p in problems)
    for garbage in (b"\xff\xfe", b"[1, 2]", b"{", b" " * 200_000):
        config, view, problems = read_config_json(garbage)
        assert config == DEMO and view == {} and "not a configuration" in problems[0].lower()


def test_every_chart_of_every_lesson_gives_an_initializer_the_same_colour():
    seen: dict[str, set[str]] = {}
    for lesson in LESSONS.values():
        at = open_app({**lesson.to_query_params(), "epochs": "10"})
        for element in at.get("vega_lite_chart"):
            for domain, colours in _colour_scales(json.loads(element.proto.spec)):
                for label, colour in zip(domain, colours):
                    seen.setdefault(label, set()).add(colour)
    assert {"he_normal", "glorot_uniform", "random_normal(std=0.01)", "random_normal(std=1)"} <= set(seen)
    assert all(len(colours) == 1 for colours in seen.values()), seen


def _colour_scales(node):
    """Every (domain, range) pair of a spec whose range is a list of colours."""
    if isinstance(node, dict):
        if isinstance(node.get("domain"), list) and isinstance(node.get("range"), list) and all(
                isinstance(c, str) and c.startswith("#") for c in node["range"]):
            yield node["domain"], node["range"]
        for value in node.values():
            yield from _colour_scales(value)
    elif isinstance(node, list):
        for value in node:
            yield from _colour_scales(value)

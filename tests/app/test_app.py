"""The Streamlit page through ``AppTest``: it runs, every control reruns cleanly, URLs round-trip.

Most tests open the app on a small configuration through the URL, as a shared link would, so that each
rerun trains in milliseconds.
"""

import dataclasses
import json
import re
import pathlib
import sys
import urllib.parse

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import wil
from wil import charts

APP = str(pathlib.Path(__file__).resolve().parents[2] / "wil_app" / "page.py")  # the page each session runs
from wil_app.lessons import DEMO  # noqa: E402  (the app trains its demo in float32)
from wil_app.policy import POLICY  # noqa: E402
SMALL = wil.Config(dataset="moons", n_samples=100, noise=0.2, depth=3, width=8, epochs=5,
                   compare=("zeros", "random_normal(std=0.01)", "he_normal"))
# random_normal(std=1) at depth 6 explodes within a few epochs; He does not
DIVERGING = wil.Config(dataset="moons", n_samples=100, depth=6, width=16, epochs=5,
                       compare=("random_normal(std=1)", "he_normal"))
TABS = ["Training", "Activations", "Gradients", "Dead neurons", "Decision boundary", "Weights", "Learn",
        "Share & export", "Take it home"]  # issue 13: + Take it home
TITLES = ["Loss per epoch", "Accuracy per epoch", "Final test accuracy", "Activation spread per layer",
          "Activation histograms per layer", "Gradient norm per layer", "Gradient norm over training",
          "Dead units (never fire on the training set)", "Dead units over training", "Distinct units per layer",
          "Decision boundary", "Weight std per layer", "Weight histograms per layer"]


def open_app(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [error.value for error in at.exception]
    return at


def chart_titles(at: AppTest) -> list[str]:
    """The titles of the charts on the open tab (a playable chart's title is an expression that appends its
    epoch: its fixed part)."""
    titles = []
    for chart in at.get("vega_lite_chart"):
        text = json.loads(chart.proto.spec)["title"]["text"]
        if isinstance(text, dict):
            text = re.match(r'^"([^"]*)"', text["expr"]).group(1)
        titles.append(text)
    return titles


def open_tab(at: AppTest, label: str) -> AppTest:
    at.session_state["tab"] = label
    return run(at)


def every_chart_title(at: AppTest) -> list[str]:
    """Visit every tab (only the open one is drawn) and collect the chart titles, in tab order."""
    titles = []
    for label in TABS:
        titles += chart_titles(open_tab(at, label))
    open_tab(at, TABS[0])
    return titles


def url_config(at: AppTest) -> wil.Config:
    """The configuration the app wrote to the URL (strict: it must be a valid link)."""
    params = {key: value for key, value in at.query_params.items() if key != "tab"}
    return wil.Config.from_query_params(params, base=DEMO)


def verdicts(at: AppTest) -> dict[str, tuple[str, str]]:
    """The verdicts on the page: initializer label -> (verdict, colour), from their HTML block."""
    import re

    bodies = [element.proto.body for element in at.get("html") if "data-testid='wil-verdicts'" in element.proto.body]
    assert len(bodies) == 1, "one block of verdicts"
    return {label: (verdict, colour) for label, verdict, colour in
            re.findall(r"data-initializer='([^']*)' data-verdict='([^']*)' data-color='([^']*)'", bodies[0])}


def link_problems(at: AppTest) -> list[str]:
    """The problems a link had, quoted as plain text (st.code) below one warning."""
    assert sum(w.value.startswith("The link had") for w in at.warning) <= 1
    return [line for block in at.code for line in block.value.splitlines()] if any(
        w.value.startswith("The link had") for w in at.warning) else []


def status_rows(at: AppTest):
    table = next(frame for frame in at.dataframe if "Outcome" in frame.value.columns)
    return table.value


def test_default_page_runs_and_draws_every_chart():
    at = run(open_app())
    assert chart_titles(at) == TITLES[:3]  # the Training tab opens first; the others draw when opened
    assert dict(at.query_params) == DEMO.to_query_params()
    names = [at.selectbox(key=f"init{slot}_name").value for slot in range(len(DEMO.compare))]
    assert names == ["zeros", "random_normal", "random_normal", "glorot_uniform", "he_normal"]
    assert at.select_slider(key="init1_random_normal_std").value == 0.01
    assert at.select_slider(key="init2_random_normal_std").value == 1.0
    # the story of the first screen, in words first: std 1 diverges and says so, zeros stays at chance
    assert {label: verdict for label, (verdict, _) in verdicts(at).items()} == {
        "zeros": "symmetric", "random_normal(std=0.01)": "vanishing", "random_normal(std=1)": "exploding",
        "glorot_uniform": "learned", "he_normal": "learned"}
    assert not at.warning  # nothing above the verdicts but the title
    table = status_rows(at)
    assert table.loc[table["Initializer"] == "random_normal(std=1)", "Outcome"].str.contains("diverged").all()
    assert table.loc[table["Initializer"] == "he_normal", "Test accuracy"].iloc[0] > 0.8
    assert [tab.label for tab in at.tabs] == TABS
    assert every_chart_title(at) == TITLES
    open_tab(at, "Learn")
    assert len(at.get("latex")) >= len(DEMO.compare)  # a formula per compared initializer (+ activation)
    assert any("symmetry" in element.value for element in at.markdown)
    open_tab(at, "Share & export")
    assert any("network" in caption.value and "s one run may take" in caption.value for caption in at.sidebar.caption)
    assert [button.label for button in at.download_button] == ["Configuration (JSON)",
                                                               "All result frames (CSV, zip)", "history.csv"]
    assert not at.exception


# kind, key, new value, the Config field it sets, the value expected there
CONTROLS = [
    ("selectbox", "dataset", "circles", "dataset", "circles"),
    ("select_slider", "n_samples", 200, "n_samples", 200),
    ("slider", "noise", 0.35, "noise", 0.35),
    ("slider", "depth", 4, "depth", 4),
    ("select_slider", "width", 16, "width", 16),
    ("selectbox", "activation", "tanh", "activation", "tanh"),
    ("number_input", "n_initializers", 4, "compare", ("zeros", "random_normal(std=0.01)", "he_normal",
                                                      "glorot_uniform")),
    ("selectbox", "init0_name", "orthogonal", "compare", ("orthogonal", "random_normal(std=0.01)", "he_normal")),
    ("select_slider", "init1_random_normal_std", 0.1, "compare", ("zeros", "random_normal(std=0.1)", "he_normal")),
    ("number_input", "init1_random_normal_mean", 0.5, "compare",
     ("zeros", "random_normal(mean=0.5, std=0.01)", "he_normal")),
    ("select_slider", "init2_he_normal_scale", 2.0, "compare", ("zeros", "random_normal(std=0.01)",
                                                                "he_normal(scale=2)")),
    ("selectbox", "optimizer", "adam", "optimizer", "adam"),
    ("select_slider", "learning_rate", 0.01, "learning_rate", 0.01),
    ("select_slider", "epochs", 10, "epochs", 10),
    ("select_slider", "batch_size", 16, "batch_size", 16),
    ("slider", "n_seeds", 2, "n_seeds", 2),
    ("number_input", "seed", 7, "seed", 7),
    ("selectbox", "dtype", "float32", "dtype", "float32"),
]


@pytest.mark.slow
@pytest.mark.parametrize("kind, key, value, field, expected", CONTROLS, ids=[c[1] for c in CONTROLS])
def test_every_sidebar_control_reruns_cleanly(kind, key, value, field, expected):
    at = run(open_app(SMALL.to_query_params()))
    getattr(at.sidebar, kind)(key=key).set_value(value)
    run(at)
    assert getattr(url_config(at), field) == expected
    assert getattr(at.sidebar, kind)(key=key).value == value
    assert not at.error
    assert chart_titles(at) == TITLES[:3]


@pytest.mark.slow
def test_dataset_without_a_plane_and_without_noise():
    at = run(open_app(SMALL.to_query_params()))
    at.sidebar.selectbox(key="dataset").set_value("wine")
    run(at)
    assert url_config(at).dataset == "wine"
    assert at.sidebar.slider(key="noise").proto.disabled and at.sidebar.select_slider(key="n_samples").proto.disabled
    open_tab(at, "Decision boundary")
    assert not at.get("vega_lite_chart")
    assert any("no plane" in info.value for info in at.info)


@pytest.mark.slow
def test_reset_button_restores_the_demo():
    at = run(open_app(SMALL.to_query_params()))
    at.sidebar.button(key="reset").click()
    run(at)
    assert url_config(at) == DEMO
    assert at.sidebar.number_input(key="n_initializers").value == len(DEMO.compare)


def test_a_lesson_loads_its_comparison():
    at = run(open_app(SMALL.to_query_params()))
    lesson = "Tanh: too small fades, too large saturates, Glorot learns"
    at.sidebar.selectbox(key="lesson").set_value(lesson)
    run(at)
    expected = wil.Config(dataset="circles", n_samples=400, noise=0.1, activation="tanh", depth=8, width=32,
                          epochs=150, learning_rate=0.1, initializer=SMALL.initializer,
                          compare=("random_normal(std=0.01)", "random_normal(std=1)", "glorot_uniform", "he_normal"),
                          dtype="float32")
    assert url_config(at) == expected
    assert at.sidebar.selectbox(key="init1_name").value == "random_normal"
    assert at.sidebar.select_slider(key="init1_random_normal_std").value == 1.0
    assert at.sidebar.selectbox(key="lesson").value is None  # ready for the next one


@pytest.mark.slow
def test_a_repeated_initializer_is_compared_once():
    at = run(open_app(SMALL.to_query_params()))
    at.sidebar.selectbox(key="init2_name").set_value("zeros")
    run(at)
    assert url_config(at).compare == ("zeros", "random_normal(std=0.01)")
    assert any("repeats zeros" in info.value for info in at.info)


@pytest.mark.slow
def test_each_initializer_offers_its_parameters():
    at = run(open_app(SMALL.to_query_params()))
    plain = [name for name, spec in wil.INITIALIZERS.items() if spec.residual is None]
    made_for_blocks = [name for name, spec in wil.INITIALIZERS.items() if spec.residual is not None]
    for name in plain + made_for_blocks:  # Fixup, SkipInit, ReZero: offered once residual connections are on
        if name == made_for_blocks[0]:
            at.sidebar.checkbox(key="residual").check()
            run(at)
        at.sidebar.selectbox(key="init0_name").set_value(name)
        run(at)
        assert url_config(at).compare[0] == name
        for param in wil.INITIALIZERS[name].params:
            assert at.sidebar.get_by_key(f"init0_{name}_{param}") is not None, (name, param)
    assert url_config(at).residual
    at.sidebar.selectbox(key="init0_name").set_value("sklearn_default")
    run(at)
    at.sidebar.select_slider(key="init0_sklearn_default_scale").set_value(0.5)
    run(at)
    assert url_config(at).compare[0] == "sklearn_default(scale=0.5)"


@pytest.mark.slow
@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu"])  # one per family: relu, saturating, smooth
def test_every_initializer_renders_with_every_activation_family(activation):
    names = [name for name, spec in wil.INITIALIZERS.items() if spec.residual is None]
    made_for_blocks = tuple(name for name, spec in wil.INITIALIZERS.items() if spec.residual is not None)
    for group, residual in ((names[:8], False), (names[8:], False), (made_for_blocks, True)):
        config = wil.Config(dataset="moons", n_samples=80, depth=3, width=8, epochs=4, activation=activation,
                            compare=tuple(group), residual=residual)
        at = run(open_app(config.to_query_params()))
        titles = every_chart_title(at)
        assert len(status_rows(at)) == len(group)
        assert "Decision boundary" in titles and "Activation spread per layer" in titles
        family = wil.ACTIVATIONS[activation].family
        if family == "relu":
            assert "Dead units over training" in titles
        elif family == "saturating":
            assert "Saturated units over training" in titles
        else:
            assert not any(title.startswith(("Dead", "Saturated")) for title in titles)
            open_tab(at, "Dead neurons")
            assert any("no units die or saturate" in info.value for info in at.info)
        assert "Distinct units per layer" in titles


def test_url_round_trip_restores_the_same_configuration():
    # values off the widgets' usual steps, as a hand-edited link may carry
    config = wil.Config(dataset="circles", n_samples=123, noise=0.13, depth=4, width=12, activation="tanh",
                        compare=("glorot_normal", "random_uniform(limit=0.3)", "orthogonal(gain=2)"),
                        epochs=7, learning_rate=0.03, optimizer="momentum", batch_size=20, seed=5, n_seeds=2,
                        dtype="float32")
    at = run(open_app(config.to_query_params()))
    assert dict(at.query_params) == config.to_query_params()
    assert not at.warning
    assert at.sidebar.select_slider(key="n_samples").value == 123
    assert at.sidebar.select_slider(key="width").value == 12
    assert at.sidebar.select_slider(key="learning_rate").value == 0.03
    assert at.sidebar.select_slider(key="init1_random_uniform_limit").value == 0.3
    assert at.sidebar.select_slider(key="init2_orthogonal_gain").value == 2.0
    # change something, then open the link the app wrote: the same configuration and widgets
    at.sidebar.slider(key="depth").set_value(5)
    at.sidebar.select_slider(key="n_samples").set_value(200)
    run(at)
    link = dict(at.query_params)
    reopened = run(open_app(link))
    assert dict(reopened.query_params) == link
    assert url_config(reopened) == url_config(at) == wil.Config(**{**config.__dict__, "depth": 5, "n_samples": 200})
    for key in ("dataset", "activation", "optimizer", "dtype", "init0_name", "init1_name", "init2_name"):
        assert reopened.sidebar.selectbox(key=key).value == at.sidebar.selectbox(key=key).value
    assert reopened.sidebar.slider(key="depth").value == 5
    # the query string offered on the Share tab is the same link
    open_tab(reopened, "Share & export")
    shown = urllib.parse.parse_qs(reopened.code[0].value.lstrip("?"))
    assert wil.Config.from_query_params({k: v[-1] for k, v in shown.items()}) == url_config(at)


def test_garbage_url_parameters_warn_and_fall_back_to_defaults():
    garbage = {"depth": "abc", "width": "99999", "compare": "nonsense(x=1);he_normal", "learning_rate": "nan",
               "dataset": "<script>alert(1)</script>", "[x](http://example.invalid)": "1", "epochs": "12"}
    at = run(open_app(garbage))
    config = url_config(at)
    assert (config.depth, config.width, config.learning_rate, config.dataset) == (
        DEMO.depth, DEMO.width, DEMO.learning_rate, DEMO.dataset)
    assert config.epochs == 12  # the valid part of the link is kept
    assert config.compare == DEMO.compare
    problems = link_problems(at)
    assert len(problems) == 6
    # URL text is shown literally, as plain text (st.code): never Markdown, never HTML
    assert any("<script>" in problem for problem in problems)
    assert any("[x](http" in problem for problem in problems)
    assert not any("script" in element.value for element in [*at.markdown, *at.warning, *at.info])
    assert chart_titles(at) == TITLES[:3]
    # the URL is rewritten to the configuration actually shown
    assert dict(at.query_params) == config.to_query_params()


@pytest.mark.slow
def test_url_over_the_budget_warns_and_shows_the_demo():
    at = run(open_app({"depth": "50", "width": "512", "n_seeds": "10", "epochs": "2000"}))
    assert url_config(at) == DEMO
    assert any("MB of memory at its peak" in problem for problem in link_problems(at))


@pytest.mark.slow
def test_a_url_over_a_budget_that_fewer_epochs_fix_trains_what_fits(server_policy):
    # an operator's budget that fits 140 of depth 30's 150 epochs (the default trains all 150)
    deep = dataclasses.replace(DEMO, depth=30)
    server_policy(dataclasses.replace(POLICY, max_seconds=POLICY.seconds(deep, epochs=140)))
    at = run(open_app({**DEMO.to_query_params(), "depth": "30"}))
    assert url_config(at).depth == 30 and url_config(at).epochs == DEMO.epochs  # the link as asked
    assert not link_problems(at)
    assert any("at most 140 of the 150 epochs" in info.value for info in at.info)
    assert chart_titles(at) == TITLES[:3] and len(verdicts(at)) == len(DEMO.compare)


@pytest.mark.slow
def test_a_combination_that_cannot_train_keeps_the_last_results_beside_the_reason():
    at = run(open_app(SMALL.to_query_params()))
    at.sidebar.select_slider(key="width").set_value(512)
    at.sidebar.slider(key="depth").set_value(50)
    at.sidebar.select_slider(key="epochs").set_value(2000)
    run(at)
    assert not at.error
    message = next(w.value for w in at.warning if w.value.startswith("Showing the last results"))
    assert "MB of memory at its peak" in message and "Reduce" in message
    assert url_config(at) == SMALL  # the link keeps the last configuration that trained
    assert chart_titles(at) == TITLES[:3] and set(verdicts(at)) == set(SMALL.compare)


@pytest.mark.slow
def test_a_batch_larger_than_the_new_dataset_becomes_the_full_batch_with_a_note():
    at = run(open_app(SMALL.to_query_params()))
    at.sidebar.select_slider(key="n_samples").set_value(400)
    run(at)
    at.sidebar.select_slider(key="batch_size").set_value(256)
    run(at)
    assert url_config(at).batch_size == 256
    at.sidebar.selectbox(key="dataset").set_value("iris")
    run(at)
    assert url_config(at).batch_size is None and url_config(at).dataset == "iris"
    assert any("A batch of 256" in info.value and "full batch" in info.value for info in at.info)
    assert chart_titles(at) == TITLES[:3] and verdicts(at)


@pytest.mark.slow
def test_a_diverging_configuration_shows_as_diverged():
    at = run(open_app(DIVERGING.to_query_params()))
    assert verdicts(at)["random_normal(std=1)"][0] == "exploding"
    assert any("std 1</b>: exploded" in h.proto.body and "at epoch" in h.proto.body for h in at.get("html"))
    table = status_rows(at)
    bad = table[table["Initializer"] == "random_normal(std=1)"].iloc[0]
    assert "diverged" in bad["Outcome"] and bad["Diverged at epoch"] >= 1 and "loss" in bad["Cause"]
    good = table[table["Initializer"] == "he_normal"].iloc[0]
    assert "trained" in good["Outcome"]
    loss = next(c for c in at.get("vega_lite_chart") if json.loads(c.proto.spec)["title"]["text"] == "Loss per epoch")
    assert "triangle-up" in loss.proto.spec
    assert every_chart_title(at) == TITLES


@pytest.mark.slow
def test_view_only_controls_never_retrain(monkeypatch, train_in_server):
    calls = []
    compare = wil.compare

    def counting(config, *args, progress=None, **kwargs):
        reported = []
        calls.append(reported)
        return compare(config, *args, progress=lambda f: (reported.append(f), progress(f)), **kwargs)

    monkeypatch.setattr(wil, "compare", counting)
    st.cache_data.clear()
    config = wil.Config(**{**SMALL.__dict__, "seed": 4242})
    at = run(open_app(config.to_query_params()))
    assert len(calls) == 1 and calls[0] and calls[0][-1] == 1.0  # trained once, reporting progress
    open_tab(at, "Activations")
    at.select_slider(key="view_epoch").set_value(config.epochs)
    run(at)
    at.radio(key="act_quantity").set_value("preactivation")
    run(at)
    at.multiselect(key="view_layers").set_value([1])
    run(at)
    open_tab(at, "Share & export")
    at.selectbox(key="export_frame").set_value("layers")
    run(at)
    assert len(calls) == 1
    assert not at.get("progress")
    # a different configuration does train
    at.sidebar.number_input(key="seed").set_value(4243)
    run(at)
    assert len(calls) == 2


@pytest.mark.slow
def test_view_controls_follow_the_configuration_and_survive_tab_switches():
    at = open_tab(run(open_app(SMALL.to_query_params())), "Activations")
    assert at.multiselect(key="view_layers").value == [1, 2, 3]
    at.select_slider(key="view_epoch").set_value(SMALL.epochs)
    at.multiselect(key="view_layers").set_value([2, 4])
    run(at)
    open_tab(at, "Weights")  # the same choice on another tab, and after a trip to a tab without them
    assert at.select_slider(key="view_epoch").value == SMALL.epochs
    open_tab(at, "Training")
    open_tab(at, "Activations")
    assert at.select_slider(key="view_epoch").value == SMALL.epochs
    assert at.multiselect(key="view_layers").value == [2, 4]
    histograms = next(json.loads(c.proto.spec) for c in at.get("vega_lite_chart")
                      if "Activation histograms per layer" in json.dumps(json.loads(c.proto.spec)["title"]))
    assert next(p for p in histograms["params"] if p["name"] == "epoch")["value"] == SMALL.epochs
    at.sidebar.slider(key="depth").set_value(12)
    run(at)
    assert at.multiselect(key="view_layers").value == charts.pick_layers(12)
    at.sidebar.select_slider(key="epochs").set_value(30)
    run(at)
    # 16 snapshots of 30 epochs: 0, 2, 4, 6, ...; epoch 5 is no longer recorded, the nearest one is shown
    assert at.select_slider(key="view_epoch").value == 4


def test_a_link_opens_on_its_tab():
    query = {**SMALL.to_query_params(), "tab": "Gradients"}
    at = run(open_app(query))
    assert chart_titles(at) == ["Gradient norm per layer", "Gradient norm over training"]
    assert not at.warning  # the tab is not a configuration problem
    assert url_config(at) == SMALL


@pytest.mark.slow
def test_a_rerun_or_another_session_with_the_same_configuration_builds_no_chart(monkeypatch):
    built = []
    for name in ("loss_curves", "accuracy_curves", "final_scores", "layer_profile", "layer_heatmap",
                 "histogram_grid", "decision_boundary"):
        builder = getattr(charts, name)

        def counting(*args, _builder=builder, _name=name, **kwargs):
            built.append(_name)
            return _builder(*args, **kwargs)
        # the app calls the package's name; a builder calls another in the module that defines both
        monkeypatch.setattr(charts, name, counting)
        monkeypatch.setattr(sys.modules[builder.__module__], name, counting)
    st.cache_data.clear()
    config = wil.Config(**{**SMALL.__dict__, "seed": 4344})
    at = run(open_app(config.to_query_params()))
    # a set: a live view arriving while it trains also builds a loss chart (timing-dependent)
    assert set(built) == {"accuracy_curves", "final_scores", "loss_curves"}
    built.clear()
    run(at)  # a rerun of the same view: every chart is replayed from the cache
    assert built == [] and chart_titles(at) == TITLES[:3]
    open_tab(at, "Activations")
    assert "histogram_grid" in built  # a first visit builds the tab's charts
    built.clear()
    at.select_slider(key="view_epoch").set_value(config.epochs)
    run(at)
    assert built  # a new epoch is a new chart
    built.clear()
    at.select_slider(key="view_epoch").set_value(0)  # back to a view shown before
    run(at)
    open_tab(at, "Training")
    assert built == []
    other = run(open_app(config.to_query_params()))  # another visitor on the same link
    assert built == [] and chart_titles(other) == TITLES[:3]
    other.sidebar.slider(key="depth").set_value(4)  # a new configuration builds again
    run(other)
    assert set(built) == {"accuracy_curves", "final_scores", "loss_curves"}


# ---------------------------------------------------------------- the server's warm-up

@pytest.fixture
def trained(monkeypatch, train_in_server):
    """The arguments of every ``wil.compare`` call from here on (each still trains)."""
    calls = []
    compare = wil.compare
    monkeypatch.setattr(wil, "compare", lambda *args, **kwargs: calls.append(args) or compare(*args, **kwargs))
    return calls


@pytest.mark.slow
def test_the_warm_up_trains_what_the_default_page_asks_for(trained):
    """After ``warm_up`` (what ``app.py`` runs at server start), the default page is served from the
    cache: its first run trains nothing, so the warm-up's key is the page's."""
    from wil_app.run import run_comparison
    from wil_app.warm import warm_up

    run_comparison.clear()
    assert warm_up() > 0
    trained.clear()  # the warm-up's own training
    at = AppTest.from_file(APP, default_timeout=90).run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("vega_lite_chart")) == 3  # the default page, drawn
    assert trained == []
    at.sidebar.slider(key="n_seeds").set_value(2).run()  # and a configuration the warm-up did not train does
    assert len(trained) == 1 and trained[0][0].n_seeds == 2


@pytest.mark.slow
def test_the_lessons_warmed_up_ahead_start_without_training(trained):
    """After ``warm_up_lessons`` (the second half of the server's warm-up), picking any prepared lesson
    in the sidebar is served from the cache: the lesson's key is the one the page asks for."""
    from wil_app.lessons import LESSONS
    from wil_app.run import run_comparison
    from wil_app.warm import warm_up_lessons

    run_comparison.clear()
    assert warm_up_lessons() > 0
    trained.clear()  # the warm-up's own training
    at = AppTest.from_file(APP, default_timeout=90).run()
    for name, config in LESSONS.items():
        at.sidebar.selectbox(key="lesson").select(name).run()
        assert not at.exception, [e.value for e in at.exception]
        assert at.session_state["depth"] == config.depth and len(at.get("vega_lite_chart")) == 3, name
    assert trained == []


@pytest.mark.slow
def test_the_server_warm_up_trains_the_lessons_after_the_default_page(monkeypatch):
    import wil_app.warm as warm

    calls = []
    monkeypatch.setattr(warm, "warm_up", lambda: calls.append("page") or 1.0)
    monkeypatch.setattr(warm, "warm_up_lessons", lambda: calls.append("lessons") or 1.0)
    warm.warm_up_server(lesson_delay=0)
    assert calls == ["page", "lessons"]
    calls.clear()
    monkeypatch.setattr(warm, "warm_up", lambda: calls.append("page") and None)  # failed: no lessons
    warm.warm_up_server(lesson_delay=0)
    assert calls == ["page"]


def test_a_failed_warm_up_is_reported_and_leaves_the_page_to_train(monkeypatch, capsys):
    import wil_app.run
    from wil_app.warm import warm_up

    def broken(config, _progress=None):
        raise MemoryError("no room")

    monkeypatch.setattr(wil_app.run, "run_comparison", broken)
    assert warm_up() is None
    assert "the warm-up failed (MemoryError: no room)" in capsys.readouterr().err
    monkeypatch.undo()
    at = AppTest.from_file(APP, default_timeout=90).run()
    assert not at.exception and len(at.get("vega_lite_chart")) == 3


@pytest.mark.slow
def test_the_charts_are_built_for_the_column_the_browser_reports():
    """``wil_app/viewport.py``: the browser reports a main column narrower than the full 880 px (a 1024 px
    screen beside the open sidebar leaves 620); the page's charts are then built to fit it, and cached
    apart from the full-size ones. AppTest runs no browser, so the report is set as the component keeps it."""

    def loss_panel_width(at) -> int:
        spec = next(json.loads(c.proto.spec) for c in at.get("vega_lite_chart")
                    if json.loads(c.proto.spec)["title"]["text"] == "Loss per epoch")
        return spec["spec"]["width"]

    at = AppTest.from_file(APP, default_timeout=90).run()
    assert not at.exception
    full = loss_panel_width(at)
    at.session_state["_content_width"] = 600
    at.run()
    assert not at.exception and len(at.get("vega_lite_chart")) == 3
    assert loss_panel_width(at) < full and 2 * loss_panel_width(at) + 145 <= 600
    at.session_state["_content_width"] = 880  # wide again: the full-size charts
    at.run()
    assert loss_panel_width(at) == full

"""The other cures in the app (issue 20): the sidebar's Normalization and Residual connections (URL in and
out, the initializers offered), and the lesson page "The other cures" (``wil_app/cures.py``)."""

import dataclasses
import pathlib

import pytest
from streamlit.testing.v1 import AppTest

import wil
import wil_app.policy
from wil.analysis.verdicts import VERBS
from wil_app.lessons import CURES, CURES_TITLE
from test_app_story import open_app, run

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "wil_app" / "page.py")
CURES_PAGE = str(ROOT / "wil_app" / "cures.py")
SMALL = wil.Config(dataset="moons", n_samples=100, noise=0.2, depth=4, width=8, epochs=3, compare=("he_normal",))
MADE_FOR_RESIDUAL = [name for name, entry in wil.INITIALIZERS.items() if entry.residual is not None]


def opened(config: wil.Config, **changes) -> AppTest:
    return open_app(dataclasses.replace(config, **changes).to_query_params())


def url(at: AppTest) -> wil.Config:
    return wil.Config.from_query_params(dict(at.query_params))


def offered(at: AppTest, slot: int = 0) -> list[str]:
    return list(at.sidebar.selectbox(key=f"init{slot}_name").options)


def warnings(at: AppTest) -> str:
    """The warnings' text, Markdown's escapes removed."""
    return " ".join(w.value for w in at.warning).replace("\\", "")


def labels_of(names: list[str]) -> list[str]:
    return [wil.INITIALIZERS[name].label for name in names]


def test_a_link_with_normalization_and_residual_sets_the_widgets_and_stays_in_the_url():
    config = dataclasses.replace(SMALL, normalization="batch", residual=True, compare=("he_normal", "skipinit"))
    at = opened(config)
    assert at.sidebar.selectbox(key="normalization").value == "batch"
    assert at.sidebar.selectbox(key="normalization").options == ["none", "BatchNorm", "LayerNorm"]
    assert at.sidebar.checkbox(key="residual").value is True
    assert url(at) == config
    assert not at.warning and not at.error


def test_the_widgets_write_the_url_and_offer_the_residual_initializers_only_with_skips():
    at = opened(SMALL)
    assert not set(labels_of(MADE_FOR_RESIDUAL)) & set(offered(at))
    # the caption names them and says where they are offered
    caption = " ".join(c.value for c in at.sidebar.caption)
    assert all(wil.short_name(name) in caption for name in MADE_FOR_RESIDUAL) and "residual connections" in caption
    at.sidebar.checkbox(key="residual").check()
    run(at)
    assert url(at).residual is True
    assert set(labels_of(MADE_FOR_RESIDUAL)) <= set(offered(at))
    assert wil.INITIALIZERS["lsuv"].label not in offered(at)  # LSUV rescales plain networks only
    at.sidebar.selectbox(key="init0_name").select("fixup")
    run(at)
    assert url(at).compare == ("fixup",)
    # Fixup is for networks without normalization: with LayerNorm it is no longer offered to a new slot
    at.sidebar.selectbox(key="normalization").select("layer")
    run(at)
    assert wil.INITIALIZERS["fixup"].label in offered(at)  # the slot's own choice stays shown ...
    at.sidebar.number_input(key="n_initializers").set_value(2)
    run(at)
    assert wil.INITIALIZERS["fixup"].label not in offered(at, 1)  # ... but is not offered elsewhere


def test_an_invalid_combination_is_a_visible_message_never_an_exception():
    at = opened(SMALL, residual=True, compare=("fixup",))
    trained = url(at)
    at.sidebar.selectbox(key="normalization").select("batch")  # Fixup with BatchNorm: no such network
    run(at)
    shown = warnings(at)
    assert "'fixup' is for networks without normalization" in shown
    assert url(at) == trained  # the last results that trained stay, and their link
    at.sidebar.selectbox(key="normalization").select("none")
    at.sidebar.slider(key="depth").set_value(1)  # a residual network needs a projection and a block
    run(at)
    assert "residual=True needs depth >= 2" in warnings(at)


def test_a_link_with_an_invalid_combination_says_so_and_falls_back():
    at = AppTest.from_file(PAGE, default_timeout=90)
    for key, value in {**SMALL.to_query_params(), "compare": "fixup", "residual": "false"}.items():
        at.query_params[key] = value
    run(at)
    assert any("'fixup' needs residual=True" in code.value for code in at.code)
    assert "fixup" not in url(at).labels


def test_the_lesson_page_shows_a_message_for_runs_outside_the_budgets(monkeypatch):
    # an operator's tiny budgets refuse every network of the lesson: seven messages, no exception
    monkeypatch.setattr(wil_app.policy, "POLICY", dataclasses.replace(wil_app.policy.POLICY, max_seconds=1e-3))
    at = run(AppTest.from_file(CURES_PAGE, default_timeout=60))
    assert at.markdown[0].value == f"## {CURES_TITLE}"
    assert len(at.error) == len(CURES)
    assert all("would train for about" in error.value for error in at.error)
    assert not at.get("vega_lite_chart")


@pytest.mark.slow
def test_the_lesson_page_trains_every_network_and_gives_its_verdict():
    at = run(AppTest.from_file(CURES_PAGE, default_timeout=600))
    lines = [m.value for m in at.markdown if m.value.startswith("**")]
    assert [line.split("**")[1] for line in lines] == [case.title for case in CURES]
    for line, case in zip(lines, CURES):
        assert line.split("** — ")[1].startswith(VERBS[case.verdict]), line
    assert not at.warning and not at.error
    assert len(at.get("vega_lite_chart")) == 2

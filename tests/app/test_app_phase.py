"""The phase diagram page (Streamlit multipage): the theory at once, the shipped measured sweep beside it,
and a live coarse sweep refined step by step within the server's policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
PHASE = str(ROOT / "wil_app" / "phase.py")
NAVIGATION = str(ROOT / "wil_app" / "navigation.py")


def chart_titles(at) -> list[str]:
    titles = []
    for chart in at.get("vega_lite_chart"):
        title = json.loads(chart.proto.spec).get("title", "")
        titles.append(title.get("text", "") if isinstance(title, dict) else title)
    return titles


def test_the_theory_and_the_shipped_sweep_show_at_once():
    at = AppTest.from_file(PHASE, default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    titles = chart_titles(at)
    assert "Theory: the trainable depth" in titles
    assert "Measured: which networks trained" in titles
    assert any("Edge of chaos for Tanh" in caption.value and "1.761" in caption.value for caption in at.caption)
    assert any("What it shows" in block.value and "disagree" in block.value for block in at.markdown)
    # the fitted slope docs/phase_fit.py gives on the shipped sweep (not "follows c xi_c"), and xi_c's conventions
    assert any("β = 0.43" in block.value and "0.13 to 0.64" in block.value for block in at.markdown)
    assert any("ξ_c is ∞" in caption.value and "ξ_q" in caption.value for caption in at.caption)


def test_the_shipped_protocol_runs_show_with_their_fits_and_budget_curve():
    """Each shipped schoenholz2017 run: its diagram (the best rate per depth), the fits wil.trainability gives
    with their intervals, and the boundary against the step budget when the run recorded it."""
    import wil

    at = AppTest.from_file(PHASE, default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    datasets = at.radio(key="phase_protocol_dataset").options
    assert datasets[0] == "Digits"
    for label in datasets:
        at.radio(key="phase_protocol_dataset").set_value(label).run()
        assert not at.exception, [e.value for e in at.exception]
        name = next(n for n, spec in wil.DATASETS.items() if spec.label == label)
        frame, config = wil.trainability.read(ROOT / "docs" / ("phase_protocol.parquet" if name == "digits" else
                                                               f"phase_protocol_{name}.parquet"))
        kept = wil.trainability.protocol_rows(frame, config)
        fits = wil.trainability.bootstrap(kept, "tanh", 0.05)
        assert f"The protocol on {label}" in chart_titles(at)
        shown = next(block.value for block in at.markdown if block.value.startswith("**Fitted over"))
        assert f"**{fits['c']:.2f} ξ_c**" in shown and f"{fits['c_ci'][0]:.2f} to {fits['c_ci'][1]:.2f}" in shown
        assert f"**β = {fits['beta']:.2f}**" in shown
        budgets = [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")
                   if "The boundary as training lengthens" in chart.proto.spec]
        has_budgets = "train_accuracy_last10_half" in frame and frame["train_accuracy_last10_half"].notna().any()
        assert len(budgets) == has_budgets
        if has_budgets:
            panels = budgets[0].get("hconcat") or budgets[0]["vconcat"]
            assert panels[0]["title"]["text"] == "The boundary as training lengthens"
            curve = wil.trainability.budget_curve(frame, config, "tanh", 0.05).groupby("steps")[["c", "beta"]].first()
            told = next(block.value for block in at.markdown if block.value.startswith("**As training lengthens"))
            for steps in (curve.index[0], curve.index[-1]):
                assert f"at {steps:,} steps" in told and f"β = {curve['beta'][steps]:.2f}" in told, told
        short = next(block.value for block in at.markdown if block.value.startswith("**Where it falls short"))
        assert f"Width {config.width}, not ~300" in short


def test_the_shortfall_says_how_finely_each_boundary_is_placed():
    """Against the protocol's xi_c / 2: a column whose boundary lies between depths further apart is named
    with its two depths; when none is, the largest gap in units of xi_c."""
    import pandas as pd

    import wil
    from wil_app.phase import _shortfall_sentence

    config = wil.Config(width=64)
    steps = pd.DataFrame({"sigma_w2": [1.0, 4.0, 2.5], "boundary": [48.0, 40.0, 128.0], "failed": [49.0, 43.0, None],
                          "xi_c": [3.63, 6.98, 11.8]})  # 2.5: trainable to its deepest, no bracket
    fine = _shortfall_sentence(steps, config)
    assert f"placed within {3 / 6.98:.2f} ξ_c (the protocol asks for at most 0.5)" in fine
    coarse = _shortfall_sentence(steps.assign(failed=[49.0, 48.0, None]), config)  # 8 / 6.98 > 0.5
    assert "σ_w² = 4 (40-48)" in coarse and "σ_w² = 1" not in coarse and "Width 64, not ~300" in coarse


@pytest.mark.slow
def test_the_theory_follows_the_activation():
    at = AppTest.from_file(PHASE, default_timeout=120).run()
    at.sidebar.selectbox(key="phase_activation").select("relu")
    at.sidebar.select_slider(key="phase_sigma_b2").set_value(0.0)
    at.run()
    assert not at.exception
    assert any("Edge of chaos for ReLU" in caption.value and "2.000" in caption.value for caption in at.caption)


def coarse_sweep() -> AppTest:
    """A new session of the phase page that runs the live sweep's first step: moons, width 8."""
    at = AppTest.from_file(PHASE, default_timeout=300).run()
    at.sidebar.selectbox(key="phase_dataset").select("moons")
    at.sidebar.select_slider(key="phase_width").set_value(8)
    at.run()
    at.button(key="phase_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.slow
def test_a_live_sweep_runs_and_refines():
    at = coarse_sweep()
    first = [t for t in chart_titles(at) if t.startswith("Your sweep")]
    assert first == ["Your sweep: 16 networks"]
    assert at.button(key="phase_run").label == "Refine the sweep"
    at.button(key="phase_run").click().run()
    assert not at.exception
    assert [t for t in chart_titles(at) if t.startswith("Your sweep")] == ["Your sweep: 42 networks"]


@pytest.mark.slow
def test_a_second_visitor_gets_the_same_live_sweep_from_the_cache():
    """The sweep's progress bar is drawn from the caller's context: a cache hit in another session must not
    replay it onto a block of the first session (Streamlit's CacheReplayClosureError, seen in Chromium)."""
    sessions = []
    for _ in range(2):
        at = coarse_sweep()
        sessions.append([t for t in chart_titles(at) if t.startswith("Your sweep")])
    assert sessions == [["Your sweep: 16 networks"]] * 2


def test_the_app_has_both_pages():
    at = AppTest.from_file(NAVIGATION, default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.get("vega_lite_chart"), "the explorer is the default page"
    at.switch_page("phase.py").run()
    assert not at.exception
    assert "Theory: the trainable depth" in chart_titles(at)

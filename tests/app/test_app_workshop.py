"""The workshop kit through ``AppTest``: the "Take it home" tab, predict then reveal, and the guided tour."""

from __future__ import annotations

import ast
import json
import os
import pathlib
import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

import wil
from wil.analysis.verdicts import short_name
from wil_app.workshop import PREDICTIONS, QUESTIONS, TOUR, qr_png

pytestmark = pytest.mark.slow  # many AppTest runs: the slow tier

ROOT = pathlib.Path(__file__).resolve().parents[2]
APP = str(ROOT / "wil_app" / "page.py")
SMALL = wil.Config(dataset="moons", n_samples=100, noise=0.2, depth=3, width=8, epochs=5,
                   compare=("zeros", "random_normal(std=0.01)", "he_normal"))


def open_app(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return checked(at.run())


def checked(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def chart_titles(at: AppTest) -> list[str]:
    return [json.loads(chart.proto.spec).get("title", {}).get("text") for chart in at.get("vega_lite_chart")]


def config_of(at: AppTest) -> wil.Config:
    return wil.Config.from_query_params({key: at.query_params[key] for key in wil.Config().to_query_params()})


# ---------------------------------------------------------------- take it home

def test_take_it_home_shows_three_scripts_of_the_current_configuration(tmp_path):
    at = open_app(SMALL.to_query_params())
    at.session_state["tab"] = "Take it home"
    at = checked(at.run())
    assert [tab.label for tab in at.tabs][-3:] == ["Reproduce in PyTorch", "in Keras", "in wil"]
    picker = at.selectbox(key="takehome_initializer")
    assert picker.options == [f"{short_name(label)} ({label})" for label in SMALL.compare]
    scripts = [code.value for code in at.get("code")]
    assert len(scripts) == 3
    for source, framework in zip(scripts, ["PyTorch", "Keras 3", "wil"]):
        assert source.startswith(f'"""Reproduce in {framework}: he_normal weights, 3 hidden layers of 8 relu')
        ast.parse(source)
    expected = [to_code(SMALL, "he_normal") for to_code in (wil.to_pytorch, wil.to_keras, wil.to_wil)]
    assert scripts == [source.rstrip("\n") for source in expected]  # st.code drops the final newline
    assert [button.proto.label for button in at.get("download_button")][-3:] == [
        "Download wil_take_home_pytorch.py", "Download wil_take_home_keras.py", "Download wil_take_home_wil.py"]
    # another initializer: other code
    picker.set_value("random_normal(std=0.01)")
    at = checked(at.run())
    scripts = [code.value for code in at.get("code")]
    assert all("random_normal(std=0.01) weights" in source for source in scripts)
    assert "nn.init.normal_(" in scripts[0] and "keras.initializers.RandomNormal(" in scripts[1]
    # the wil script, as shown, runs and reports what the app trained
    path = tmp_path / "take_home.py"
    path.write_text(scripts[2])
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, str(path)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "final test accuracy" in done.stdout


# ---------------------------------------------------------------- predict, then reveal

def test_predict_then_reveal_runs_through_the_lessons():
    at = open_app({"quiz": "1"})
    question = QUESTIONS[0]
    assert config_of(at) == question.config and at.query_params["quiz"] == "1"
    assert any(question.question in m.value for m in at.markdown)
    assert not at.get("vega_lite_chart") and not at.tabs  # results hidden until Reveal
    radios = [radio for radio in at.radio if radio.key and radio.key.startswith("predict_0_")]
    assert [radio.label for radio in radios] == [short_name(label) for label in question.config.labels]
    assert all(radio.value is None and radio.options == list(PREDICTIONS.values()) for radio in radios)
    guesses = ["symmetric", "vanishing", "learned", "learned", "learned"]  # std 1 guessed wrong on purpose
    for radio, guess in zip(radios, guesses):
        radio.set_value(guess)
    at.button(key="quiz_reveal").click()
    at = checked(at.run())
    assert at.get("vega_lite_chart") and at.tabs  # revealed: trained and drawn
    answers = at.dataframe[0].value  # the first table: above the tabs
    measured = wil.compare(question.config).verdicts(by="initializer")
    assert list(answers["It did"]) == [PREDICTIONS[str(v)] for v in measured["verdict"]]
    assert list(answers["You predicted"]) == [PREDICTIONS[g] for g in guesses]
    right = sum(g == str(v) for g, v in zip(guesses, measured["verdict"]))
    assert right == 4  # the demo's story: zeros symmetric, 0.01 vanishes, 1 explodes, Glorot and He learn
    assert list(answers["Right"]) == [g == str(v) for g, v in zip(guesses, measured["verdict"])]
    sentences = next(m.value for m in at.markdown if m.value.startswith("- "))
    assert sentences.count("\n- ") == 4 and "exploded" in sentences  # a sentence per network, escaped
    assert any(m.value == f"#### Revealed: {right} of 5 predicted right" for m in at.markdown)
    # the next question: its lesson, blank predictions, hidden again
    at.button(key="quiz_next").click()
    at = checked(at.run())
    assert config_of(at) == QUESTIONS[1].config and at.query_params["quiz"] == "2"
    assert not at.get("vega_lite_chart")
    assert all(radio.value is None for radio in at.radio if radio.key and radio.key.startswith("predict_1_"))


def test_reveal_without_guesses_still_reveals():
    at = open_app({"quiz": "3"})
    at.button(key="quiz_reveal").click()
    at = checked(at.run())
    answers = at.dataframe[0].value  # the first table: above the tabs
    assert set(answers["You predicted"]) == {"(no guess)"} and answers["Right"].isna().all()
    assert at.button(key="quiz_next").proto.label == "Start again"


# ---------------------------------------------------------------- the guided tour

@pytest.mark.parametrize("step", range(1, len(TOUR) + 1))
def test_every_tour_step_is_linkable(step):
    at = open_app({"tour": str(step)})
    expected = TOUR[step - 1]
    assert config_of(at) == expected.config and at.query_params["tour"] == str(step)
    assert any(m.value == f"#### Step {step} of {len(TOUR)}: {expected.title}" for m in at.markdown)
    assert any(m.value == expected.sentence for m in at.markdown)
    assert any(expected.look in m.value for m in at.markdown)
    highlighted = {"profile": "Distinct units per layer", "activation_std": "Activation spread per layer",
                   "histograms": "Activation histograms per layer"}[expected.chart]
    assert chart_titles(at)[0] == highlighted  # the step's chart comes first, above the tabs
    assert at.button(key="tour_previous").disabled == (step == 1)
    assert at.button(key="tour_next").disabled == (step == len(TOUR))


def test_next_and_previous_move_through_the_tour_and_the_link_follows():
    at = open_app({"tour": "1"})
    at.button(key="tour_next").click()
    at = checked(at.run())
    assert at.query_params["tour"] == "2" and config_of(at) == TOUR[1].config
    at.button(key="tour_previous").click()
    at = checked(at.run())
    assert at.query_params["tour"] == "1" and config_of(at) == TOUR[0].config


def test_the_mode_picker_switches_modes_and_the_link():
    at = open_app(SMALL.to_query_params())
    assert at.get("vega_lite_chart") and "tour" not in at.query_params
    at.segmented_control(key="workshop_mode").set_value("tour")
    at = checked(at.run())
    assert at.query_params["tour"] == "1" and config_of(at) == TOUR[0].config
    at.segmented_control(key="workshop_mode").set_value("quiz")
    at = checked(at.run())
    assert at.query_params["quiz"] == "1" and "tour" not in at.query_params
    at.segmented_control(key="workshop_mode").set_value("explore")
    at = checked(at.run())
    assert "quiz" not in at.query_params and at.get("vega_lite_chart")


@pytest.mark.parametrize("query", [{"tour": "9"}, {"tour": "<b>1</b>"}, {"quiz": "0"}, {"quiz": "٣"}])
def test_a_bad_step_in_a_link_is_reported_and_ignored(query):
    at = open_app(query)
    param = next(iter(query))
    shown = [w.value for w in at.warning] + [c.value for c in at.code]  # the link's problems: quoted as code
    assert any(f"Invalid {param}" in text for text in shown), shown
    assert param not in at.query_params
    assert at.get("vega_lite_chart")  # the default page


def test_the_qr_code_is_a_png_of_the_link():
    png = qr_png("http://127.0.0.1:8501/?tour=3")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    import segno

    # the symbol encodes the link: a longer link needs a larger QR version
    assert segno.make("http://127.0.0.1:8501/?tour=3", error="m").version < segno.make(
        "http://127.0.0.1:8501/?" + "x=1&" * 40, error="m").version

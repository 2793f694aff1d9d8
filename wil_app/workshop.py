"""The workshop modes above the results: predict, then reveal; and the guided tour of the classic story.

- **Predict, then reveal** (``?quiz=1..3``): each prepared lesson opens with its question; the audience
  predicts, for every network, what will happen (learns, the signal vanishes, explodes, stays symmetric,
  dies, saturates, learns too slowly). The results stay hidden, and nothing trains, until Reveal; then the
  training runs and the measured verdicts (``Result.verdicts(by="initializer")``) stand beside the
  predictions. "Next question" runs through the lessons.
- **Guided tour** (``?tour=1..5``): zeros, tiny random weights, huge ones, Xavier with tanh, He with ReLU;
  each step one configuration, one sentence and one highlighted chart, with previous and next.

Both modes are part of the link (``quiz=`` or ``tour=`` beside the configuration), and a QR code of the
link lets an audience open the same view on their phones. The page calls ``workshop_init`` before the
sidebar, ``workshop_before`` once the configuration is known (it stops the page there until Reveal), and
``workshop_after`` once the result is there.
"""

from __future__ import annotations

import dataclasses
import io
import os
import urllib.parse
from typing import NamedTuple

import streamlit as st

import wil
from wil import charts

from .lessons import DEMO, LESSONS
from .state import QUIZ_PARAM, TOUR_PARAM, start_from
from .tabs.drawing import CHARTS
from .inputs import last_value, whole_number
from .text import literal, quoted

MODE_KEY = "workshop_mode"
MODES = {"explore": "Explore", "quiz": "Predict, then reveal", "tour": "Guided tour"}
# what the audience may predict, in the words of the verdicts (wil.analysis.verdicts.PRECEDENCE)
PREDICTIONS = {"learned": "learns", "vanishing": "signal vanishes", "exploding": "explodes",
               "symmetric": "stays symmetric", "dead": "units die", "saturated": "saturates",
               "slow": "learns too slowly"}


class Question(NamedTuple):
    question: str
    config: wil.Config


class Step(NamedTuple):
    title: str
    sentence: str
    config: wil.Config
    chart: str  # a key of wil_app.tabs.drawing.CHARTS
    options: dict
    look: str  # what to look at in the chart


LESSON_CONFIGS = list(LESSONS.values())
QUESTIONS = [
    Question("Which of these five networks will learn? For each, predict what happens.", LESSON_CONFIGS[0]),
    Question("Thirty ReLU layers deep: which initializers keep the signal alive to the output?", LESSON_CONFIGS[1]),
    Question("Tanh instead of ReLU: which networks learn, and what goes wrong with the others?", LESSON_CONFIGS[2]),
]
TOUR = [
    Step("All zeros", "With every weight zero, every unit of a layer computes the same thing and gets the same "
         "gradient, so each layer acts like one unit forever and the network cannot learn.",
         dataclasses.replace(DEMO, compare=("zeros",)), "profile",
         dict(field="distinct_units", epoch=DEMO.epochs, **charts.VIEWS["profile"]["distinct_units"].options),
         "One distinct unit in every hidden layer, even after training: 32 units act like one."),
    Step("Tiny random weights", "Weights drawn with std 0.01 shrink the signal at every layer (by about 25 times "
         "here), so after eight layers nothing is left of it and the gradients vanish the same way.",
         dataclasses.replace(DEMO, compare=("random_normal(std=0.01)",)), "activation_std", dict(epoch=0),
         "At initialization the activation spread falls by orders of magnitude from layer to layer."),
    Step("Huge random weights", "Weights drawn with std 1 multiply the signal by about 4 at every layer, so it "
         "explodes with depth, the first steps throw the weights away and the loss overflows.",
         dataclasses.replace(DEMO, compare=("random_normal(std=1)",)), "activation_std", dict(epoch=0),
         "At initialization the activation spread grows by orders of magnitude with depth."),
    Step("Xavier with tanh", "Glorot and Bengio's Xavier initialization keeps the variance of a tanh network's "
         "signal roughly the same from layer to layer: its activations stay spread out, while std 0.01 "
         "collapses them to zero and std 1 pins them at ±1, where tanh has no slope.",
         dataclasses.replace(LESSON_CONFIGS[2], compare=("random_normal(std=0.01)", "random_normal(std=1)",
                                                  "glorot_uniform")),
         "histograms", dict(quantity="activation", epoch=0, layers=[1, 4, 8]),
         "Glorot's histograms stay spread out at every depth (narrowing only slowly); std 0.01's collapse to a "
         "spike at 0 and std 1's pile up at ±1."),
    Step("He with ReLU", "ReLU zeroes half of its inputs, so He et al. double Xavier's variance: at 30 layers "
         "He's signal keeps its size while Glorot's halves in variance at every layer and fades away.",
         dataclasses.replace(LESSON_CONFIGS[1], compare=("glorot_uniform", "he_normal")), "activation_std",
         dict(epoch=0), "He's activation spread stays near the theory's dashed line over 30 layers (within the "
         "wobble of 32-unit layers); Glorot's shrinks by √2 per layer, to about 1/20,000 by layer 30."),
]


# ---------------------------------------------------------------- the URL and the mode

def workshop_init() -> None:
    """Before the sidebar, on a session's first run: a link's ``quiz=`` or ``tour=`` opens that question or
    step, its configuration loaded into the sidebar. A bad value is reported with the link's problems."""
    if "_workshop_init" in st.session_state:
        return
    st.session_state["_workshop_init"] = True
    st.session_state.setdefault(MODE_KEY, "explore")
    problems = st.session_state.setdefault("url_problems", [])
    for param, count, go in ((QUIZ_PARAM, len(QUESTIONS), _go_question), (TOUR_PARAM, len(TOUR), _go_step)):
        values = st.query_params.get_all(param)
        raw = last_value(param, values if len(values) > 1 else (values[0] if values else None), problems)
        if raw is None:
            continue
        number = whole_number(raw, 1, count)  # ASCII digits, never more than the count has (wil_app/inputs.py)
        if number is not None:
            go(number - 1)
            return
        problems.append(f"Invalid {param}: got {quoted(raw)}; expected a number from 1 to {count}; ignored")
        del st.query_params[param]


def _go_question(index: int) -> None:
    """Open question ``index``: its lesson in the sidebar, predictions blank, results hidden."""
    st.session_state[MODE_KEY] = "quiz"
    st.session_state["quiz_question"] = index
    st.session_state["quiz_revealed"] = False
    for key in [key for key in st.session_state if str(key).startswith("predict_")]:
        del st.session_state[key]
    st.session_state["quiz_predictions"] = {}
    start_from(QUESTIONS[index].config)
    _set_param(QUIZ_PARAM, index + 1)


def _go_step(index: int) -> None:
    """Open tour step ``index``: its configuration in the sidebar."""
    st.session_state[MODE_KEY] = "tour"
    st.session_state["tour_step"] = index
    start_from(TOUR[index].config)
    _set_param(TOUR_PARAM, index + 1)


def _set_param(param: str | None, value: int | None = None) -> None:
    """The URL holds ``param=value`` and not the other mode's key."""
    for key in (QUIZ_PARAM, TOUR_PARAM):
        if key != param and key in st.query_params:
            del st.query_params[key]
    if param is not None:
        st.query_params[param] = str(value)


def _mode_changed() -> None:
    """Callback of the mode picker."""
    mode = st.session_state.get(MODE_KEY) or "explore"
    if mode == "quiz":
        _go_question(st.session_state.get("quiz_question", 0))
    elif mode == "tour":
        _go_step(st.session_state.get("tour_step", 0))
    else:
        _set_param(None)


# ---------------------------------------------------------------- before and after training

def workshop_before(config: wil.Config) -> None:
    """The mode picker, then the question (stopping the page until Reveal) or the tour step."""
    st.segmented_control("Mode", options=list(MODES), format_func=MODES.get, key=MODE_KEY,
                         on_change=_mode_changed, label_visibility="collapsed", required=True)
    mode = st.session_state.get(MODE_KEY) or "explore"
    if mode == "quiz":
        _question(config)
    elif mode == "tour":
        _step(config)


def workshop_after(result: wil.Result) -> None:
    """After training: the verdicts beside the predictions, or the tour step's highlighted chart."""
    mode = st.session_state.get(MODE_KEY) or "explore"
    if mode == "quiz" and st.session_state.get("quiz_revealed"):
        _reveal(result)
    elif mode == "tour":
        _highlight(result)


def _question(config: wil.Config) -> None:
    index = st.session_state.get("quiz_question", 0)
    question = QUESTIONS[index]
    revealed = bool(st.session_state.get("quiz_revealed"))
    with st.container(border=True, key="quiz_box"):
        st.markdown(f"#### Question {index + 1} of {len(QUESTIONS)}: {question.question}")
        if config != question.config:
            st.caption("The sidebar changed this question's configuration: the answers will be about yours.")
        if not revealed:  # once revealed, the answers' table shows the predictions, kept by _reveal_now
            for label in config.labels:
                st.radio(wil.short_name(label), options=list(PREDICTIONS), format_func=PREDICTIONS.get, index=None,
                         horizontal=True, key=_prediction_key(index, label))
        left, right, qr = st.columns([1, 1, 2])
        if not revealed:
            left.button("Reveal", key="quiz_reveal", type="primary", on_click=_reveal_now, width="stretch")
        else:
            last = index + 1 == len(QUESTIONS)
            left.button("Start again" if last else "Next question →", key="quiz_next", type="primary",
                        on_click=_go_question, args=(0 if last else index + 1,), width="stretch")
            right.button("Ask again", key="quiz_again", on_click=_go_question, args=(index,), width="stretch")
        with qr:  # a short link (a sparser code, easier to scan off a projector) when the question is unchanged
            qr_code({QUIZ_PARAM: index + 1} if config == question.config else None)
    if not revealed:
        st.info("Commit to a guess for each network, then press Reveal: the networks train and the results "
                "appear.", icon=":material/psychology_alt:")
        st.stop()


def _prediction_key(index: int, label: str) -> str:
    return f"predict_{index}_{label}"


def _reveal_now() -> None:
    """Callback of Reveal: keep the predictions (their radios are not drawn again) and show the results."""
    st.session_state["quiz_predictions"] = {key: value for key, value in st.session_state.items()
                                            if str(key).startswith("predict_")}
    st.session_state["quiz_revealed"] = True


def _reveal(result: wil.Result) -> None:
    index = st.session_state.get("quiz_question", 0)
    verdicts = result.verdicts(by="initializer")
    rows, sentences, right = [], [], 0
    for record in verdicts.to_dict("records"):
        predicted = st.session_state.get("quiz_predictions", {}).get(_prediction_key(index, record["initializer"]))
        correct = None if predicted is None else predicted == str(record["verdict"])
        right += bool(correct)
        rows.append({"Right": correct, "Network": wil.short_name(record["initializer"]),
                     "You predicted": PREDICTIONS.get(predicted, "(no guess)"),
                     "It did": PREDICTIONS[str(record["verdict"])]})
        sentences.append(record["sentence"])
    st.markdown(f"#### Revealed: {right} of {len(rows)} predicted right")
    left, right_column = st.columns([1, 1])
    left.dataframe(rows, hide_index=True, key="quiz_answers", column_config={
        "Right": st.column_config.CheckboxColumn(help="Empty: no guess")})
    right_column.markdown("\n".join(f"- {literal(sentence)}" for sentence in sentences))


def _step(config: wil.Config) -> None:
    index = st.session_state.get("tour_step", 0)
    step = TOUR[index]
    with st.container(border=True, key="tour_box"):
        st.markdown(f"#### Step {index + 1} of {len(TOUR)}: {step.title}")
        st.markdown(step.sentence)
        if config != step.config:
            st.caption("The sidebar changed this step's configuration: the charts show yours.")
        previous, following, qr = st.columns([1, 1, 2])
        previous.button("← Previous", key="tour_previous", on_click=_go_step, args=(index - 1,),
                        disabled=index == 0, width="stretch")
        following.button("Next →", key="tour_next", on_click=_go_step, args=(index + 1,),
                         disabled=index + 1 == len(TOUR), type="primary", width="stretch")
        with qr:
            qr_code({TOUR_PARAM: index + 1} if config == step.config else None)


def _highlight(result: wil.Result) -> None:
    step = TOUR[st.session_state.get("tour_step", 0)]
    options = dict(step.options)
    if step.chart == "histograms":
        options["layers"] = [layer for layer in options["layers"] if layer <= result.config.depth + 1] or [1]
    if options.get("epoch", 0) > result.config.epochs:
        options["epoch"] = result.config.epochs
    with st.container(border=True, key="tour_chart"):
        st.markdown(f"**Look here:** {step.look}")
        st.altair_chart(CHARTS[step.chart](result, **options), width="content")


# ---------------------------------------------------------------- the link as a QR code

PUBLIC_URL = "WIL_PUBLIC_URL"  # the server operator's public address of the app (e.g. https://wil.example.org)
LOCAL_HOSTS = ("localhost", "127.0.0.1", "0.0.0.0", "::1")  # addresses only the presenter's own computer opens


def page_address() -> str | None:
    """The page's address for phones: the operator's ``WIL_PUBLIC_URL`` (http or https) if set, else the
    address the presenter's browser shows; None outside a browser."""
    public = os.environ.get(PUBLIC_URL, "").strip()
    if public.startswith(("http://", "https://")):
        return public.split("?")[0].rstrip("/")
    return st.context.url or None


def is_local(link: str) -> bool:
    """Whether ``link`` points at the presenter's own computer (a phone cannot open it)."""
    host = (urllib.parse.urlsplit(link).hostname or "").lower()
    return host in LOCAL_HOSTS or host.endswith(".localhost") or host.startswith("127.")


def current_link(short: dict | None = None) -> str | None:
    """The address of this view, or None outside a browser: the page's address (``page_address``) and
    ``short`` as its query (a question or step whose configuration is unchanged needs nothing else), else
    the whole query string."""
    base = page_address()
    if not base:
        return None
    return base + "?" + urllib.parse.urlencode(short or st.query_params.to_dict())


def qr_png(link: str) -> bytes:
    """A QR code of ``link`` as PNG bytes (segno, no other dependency)."""
    import segno

    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=4, border=2)
    return buffer.getvalue()


def qr_code(short: dict | None = None) -> None:
    """The QR code of the current link (``current_link``), in a popover: phones open the same view."""
    link = current_link(short)
    with st.popover("QR code: open this on your phone", width="stretch"):
        if link is None:
            st.caption("The QR code of this page's link appears in a browser.")
        else:
            if is_local(link):
                st.warning(f"This address ({urllib.parse.urlsplit(link).hostname}) is this computer's own: phones "
                           "cannot open it. Open the page at this computer's network address (or the server's "
                           f"operator sets {PUBLIC_URL}), and the code follows.", icon=":material/wifi_off:")
            st.image(qr_png(link), caption="Scan to open this view", width=220)
            st.code(link, language=None, wrap_lines=True)

"""The lesson "The other cures": normalization layers, residual connections and the initializations made for
them, on a 60-layer ReLU network (``wil_app/lessons.py``: ``CURES``).

A page of its own, not one of the explorer's lessons: the explorer shows one ``Config``, and a ``Config`` has
one architecture, while this lesson compares four (plain, plain + BatchNorm, residual, residual + BatchNorm).
Each network is its own run in the server's queue (``run_within_policy``), cached on its configuration; the
page lays them side by side: a verdict in words for each, the accuracy curves, the signal per layer at the
start. The claims in its text hold in each of seeds 0-4 (``tests/test_cures_lesson.py``).
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import pandas as pd
import streamlit as st

import wil
from wil import charts

from wil_app.lessons import CURES, CURES_BASE, CURES_TITLE
from wil_app.policy import POLICY
from wil_app.run import run_within_policy, summary
from wil_app.viewport import FULL_WIDTH, STYLE, fit_width, measure

# The explorer's depth cap bounds its slider; this prepared lesson's depth is its own, and every budget
# (work, memory, rows, steps) stays the server's: each network is one run well inside them.
LESSON_DEPTH = max(case.config.depth for case in CURES)
LESSON_POLICY = dataclasses.replace(POLICY, caps={**POLICY.caps, "depth": (1, LESSON_DEPTH, "the lesson's depth")})
PYTORCH = ("The issue's PyTorch figures on the same network (3 seeds): plain std 0.01 at 50%; BatchNorm alone "
           "45-79%; residual He without normalization NaN; residual + BatchNorm 94-95%; Fixup, SkipInit and "
           "ReZero 92-96%. wil, seeds 0-4 (float32): BatchNorm alone 65-93%, residual + BatchNorm 95-98%, the "
           "three residual initializations 93-95%, the others as in PyTorch. Learning rate 0.05, full batch: "
           "the demo's rate, at which every network below gets its verdict in each of the five seeds "
           "(docs/CURES.md).")


class Trained(NamedTuple):
    """What the page shows of one network: a few hundred rows, not its whole ``Result`` (histograms and
    decision boundaries of 60 layers), so that the cache holds the whole lesson in little memory."""

    history: pd.DataFrame
    status: pd.DataFrame
    layers: pd.DataFrame  # epoch 0 only
    verdict: dict  # its row of ``Result.verdicts()``


@st.cache_data(max_entries=16, show_spinner=False)  # the lesson's seven networks, twice over
def lesson_run(config: wil.Config) -> tuple:
    """One network of the lesson, trained in the server's queue; cached on its configuration, as the plain
    tuple of ``Trained``'s fields (the cache pickles it, and a class of a page script does not pickle)."""
    result = run_within_policy(config, policy=LESSON_POLICY)
    return (result.history, result.status, result.layers[result.layers["epoch"] == 0],
            result.verdicts().iloc[0].to_dict())


def train_all() -> dict[str, Trained | str]:
    """Every network's result (or the message saying why it could not train), by its title."""
    results = {}
    bar = st.progress(0.0, text="Training the lesson's networks…")
    for index, case in enumerate(CURES):
        bar.progress(index / len(CURES), text=f"Training {case.title} ({index + 1} of {len(CURES)})…")
        try:
            results[case.title] = Trained(*lesson_run(case.config))
        except (ValueError, MemoryError) as error:  # outside the server's budgets (WIL_POLICY), or no memory
            results[case.title] = str(error)
    bar.empty()
    return results


def retitled(frame: pd.DataFrame, title: str, titles: list[str]) -> pd.DataFrame:
    """``frame`` with its initializer column replaced by the network's title (the charts' legend)."""
    return frame.assign(initializer=pd.Categorical([title] * len(frame), categories=titles, ordered=True))


def side_by_side(results: dict) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The trained networks' history, status and layers frames, one frame each, labelled by title."""
    titles = [title for title, result in results.items() if not isinstance(result, str)]
    frames = {"history": [], "status": [], "layers": []}
    for title in titles:
        for name, parts in frames.items():
            parts.append(retitled(getattr(results[title], name).reset_index(drop=True), title, titles))
    return tuple(pd.concat(parts, ignore_index=True) for parts in frames.values())


def verdict_lines(results: dict) -> None:
    """Each network: its verdict in words, and why."""
    for case in CURES:
        result = results[case.title]
        if isinstance(result, str):
            st.error(f"**{case.title}** could not train on this server: {result}")
            continue
        row = result.verdict
        _, _, words = str(row["sentence"]).partition(": ")
        st.markdown(f"**{case.title}** — {words}.  \n{case.why}")
        if str(row["verdict"]) != case.verdict:
            st.warning(f"This run's verdict is {row['verdict']}; in each of seeds 0-4 wil measured {case.verdict} "
                       "for this network (a machine's rounding can tip a run; see docs/CURES.md).")


def main() -> None:
    st.set_page_config(page_title="wil · the other cures", page_icon="🩹", layout="wide")
    st.html(STYLE)
    st.markdown(f"## {CURES_TITLE}")
    st.markdown(
        "The right variance is one cure for vanishing and exploding signals. Every modern network also uses two "
        "others: **normalization layers** (BatchNorm, Ioffe & Szegedy 2015) and **residual connections** "
        "(He et al. 2016), with initializations made for them: **Fixup** (Zhang et al. 2019), **SkipInit** "
        "(De & Smith 2020), **ReZero** (Bachlechner et al. 2020). Why does a 60-layer network train with "
        "these? Seven networks of 60 ReLU layers, one run each:")
    st.caption(summary(CURES_BASE))  # the data, the depth and the training every network shares
    with st.sidebar:
        measure()  # the main column's width in the visitor's browser: the charts are built to fit it
    column = fit_width() or FULL_WIDTH
    results = train_all()
    verdict_lines(results)
    if all(isinstance(result, str) for result in results.values()):
        return
    history, status, layers = side_by_side(results)
    st.markdown("#### Accuracy during training")
    st.altair_chart(charts.accuracy_curves(history, status, fit_width=column, max_epochs=CURES_BASE.epochs),
                    width="content")
    diverged = status.loc[status["diverged"].astype(bool), ["initializer", "diverged_epoch"]]
    for title, epoch in diverged.itertuples(index=False):
        st.caption(f"{title} has no curve after epoch {int(epoch) - 1}: its loss was not a number at epoch {epoch}.")
    st.markdown("#### The signal per layer at the start")
    st.caption("Standard deviation of each hidden layer's activations at epoch 0 (log scale; a layer whose "
               "activations are exactly 0 has no point).")
    st.altair_chart(charts.activation_std_by_layer(layers, epoch=0, fit_width=column), width="content")
    with st.expander("wil against the issue's PyTorch figures, and the learning rate chosen"):
        st.markdown(PYTORCH)


main()

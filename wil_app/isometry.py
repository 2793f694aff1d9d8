"""The dynamical isometry page: the singular values of a deep network's Jacobian at initialization,
orthogonal against Gaussian weights, for tanh near the edge of chaos and for ReLU (Pennington, Schoenholz &
Ganguli, 2017; Saxe et al., 2014); the free-probability prediction beside the measurement; and the
training-speed lesson, measured (``benchmarks/bench_isometry_training.py``, shipped in
``docs/isometry_training.csv``) and, on request, trained here.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import streamlit as st

import wil
from wil import charts

from wil_app.run import run_slot
from wil_app.viewport import FULL_WIDTH, STYLE, fit_width, measure

SHIPPED = Path(__file__).resolve().parents[1] / "docs" / "isometry_training.csv"
# (panel, activation, [(initializer label, plain name)]): the tanh pair at sigma_w2 = 1, sigma_b2 = 0 (the edge
# of chaos as sigma_b2 -> 0, q* -> 0: wil's orthogonal weights have no biases), the ReLU pair at sigma_w2 = 2
PANELS = (
    ("tanh", "tanh", [("orthogonal", "orthogonal"), ("mean_field(sigma_w2=1,sigma_b2=0)", "Gaussian")]),
    ("ReLU", "relu", [(f"orthogonal(gain={math.sqrt(2)})", "orthogonal"), ("he_normal", "Gaussian (He)")]),
)
WIDTHS = (64, 128, 256)
DEPTHS = (16, 32, 64)
SEEDS = (0, 1)
# the live lesson: small enough for the server (a few seconds per epoch), deep enough for the lesson
LIVE = wil.Config(dataset="moons", n_samples=400, activation="tanh", depth=64, width=32, epochs=40,
                  learning_rate=0.05, optimizer="sgd", batch_size=32, dtype="float32")
LIVE_INITIALIZERS = ("orthogonal", "mean_field(sigma_w2=1,sigma_b2=0)")


@st.cache_data(max_entries=16, show_spinner=False)
def spectra(width: int, depth: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The measured singular values of every panel's networks at two inputs of moons; and per initializer
    the mean and variance of lambda = s^2, measured at the mean-field fixed point, beside the theory's."""
    frames, rows = [], []
    for panel, activation, entries in PANELS:
        config = wil.Config(dataset="moons", n_samples=200, activation=activation, depth=depth, width=width)
        spectrum = wil.jacobian_spectrum(config, [label for label, _ in entries], seeds=list(SEEDS), n_inputs=2)
        labels = [str(label) for label in spectrum["initializer"].cat.categories]  # canonical: "a=1, b=2"
        frames.append(spectrum.assign(panel=panel))
        theory = wil.isometry.isometry_frame(config, labels).set_index("initializer")
        at_fixed_point = wil.jacobian_spectrum(config, labels, seeds=list(SEEDS), inputs="fixed_point")
        squared = at_fixed_point.assign(lam=at_fixed_point["singular_value"] ** 2)
        measured = squared.groupby(["initializer", "seed"], observed=True)["lam"].agg(["mean", "var"])
        measured = measured.groupby(level="initializer", observed=True).mean()
        for label, (_, name) in zip(labels, entries):
            rows.append({"Panel": panel, "Weights": name, "Initializer": label,
                         "mean λ measured": measured.loc[label, "mean"], "mean λ theory": theory.loc[label, "mean"],
                         "var λ measured": measured.loc[label, "var"], "var λ theory": theory.loc[label, "variance"]})
    spectrum = pd.concat(frames, ignore_index=True)
    spectrum["initializer"] = pd.Categorical(spectrum["initializer"].astype(str))
    return spectrum, pd.DataFrame(rows)


@st.cache_data(max_entries=1, show_spinner=False)
def shipped_training(path: str, _mtime: float) -> pd.DataFrame:
    return pd.read_csv(path)


@st.cache_data(max_entries=1, show_spinner=False)
def live_training(config: wil.Config) -> pd.DataFrame:
    with run_slot():  # one run at a time, as every training on this server
        return wil.compare(config, list(LIVE_INITIALIZERS), seeds=[0], diagnostics=False).history


def main() -> None:
    st.set_page_config(page_title="wil · dynamical isometry", page_icon="⚖️", layout="wide")
    st.html(STYLE)
    st.markdown("## Dynamical isometry: orthogonal against Gaussian weights")
    st.markdown(
        "Backpropagation multiplies the gradient by the network's **Jacobian**, layer after layer. Its "
        "singular values say how much each direction is stretched. The edge of chaos keeps their *average* "
        "at 1; **dynamical isometry** asks for *all* of them near 1 (Saxe et al. 2014; Pennington, "
        "Schoenholz & Ganguli 2017). Below: the sorted singular values of networks as wil draws them, "
        "between the first and the last hidden layer, at two inputs of the moons dataset.")
    with st.sidebar:
        st.header("Spectrum")
        width = st.select_slider("Width", options=WIDTHS, value=128, key="isometry_width")
        depth = st.select_slider("Depth (hidden layers)", options=DEPTHS, value=32, key="isometry_depth")
        measure()  # the main column's width in the visitor's browser: the chart is built to fit it
    column = fit_width() or FULL_WIDTH
    with st.spinner("Measuring the Jacobians…"):
        spectrum, moments = spectra(int(width), int(depth))
    st.altair_chart(charts.singular_value_spectrum(spectrum, width=300, height=250, fit_width=column),
                    width="content")
    st.markdown(
        "**tanh, orthogonal, σ_b² → 0: every direction keeps its length.** With orthogonal weights of gain 1 "
        "and no biases, tanh sits at the edge of chaos with q* → 0, where tanh is nearly linear: the Jacobian "
        "is a product of rotations, and its singular values stay near 1. **Gaussian weights at the same "
        "σ_w²: a few directions carry the signal**, the rest shrink by orders of magnitude, although the "
        "*mean* squared singular value is the same. **ReLU cannot be isometric** with either: half the units "
        "are off at any input, so each layer discards about half the directions (the floor of the chart).")
    st.markdown("#### What free probability predicts")
    st.caption("Mean and variance of λ = s² (the squared singular values) over a network's spectrum, averaged "
               f"over {len(SEEDS)} seeds, measured with every layer at the mean-field fixed point q* (the "
               "theory's premise; for tanh here q* = 0, the limit σ_b² → 0, where tanh is linear). Theory: "
               "m₁ = χ^L, var = m₁² L (μ₂/μ₁² − 1 − s₁), s₁ = −1 for Gaussian and 0 for orthogonal weights "
               "(Pennington et al. 2017), L = depth − 1, in the limit of infinite width. At data inputs (the "
               "chart) the first layers are not yet at q*; how close the theory comes at widths 128–1024 and "
               "depths 8–128: docs/ISOMETRY.md.")
    st.dataframe(moments.round(4), hide_index=True, width="stretch")
    training_lesson(column)


def training_lesson(column: int) -> None:
    """Does isometry train faster here? The shipped measurement, and a small run on request."""
    st.divider()
    st.markdown("#### Does it train faster? Depth 64, tanh")
    if SHIPPED.exists():
        history = shipped_training(str(SHIPPED), SHIPPED.stat().st_mtime)
        for dataset, rows in history.groupby("dataset", sort=False):
            st.altair_chart(charts.accuracy_curves(rows.drop(columns="dataset"), fit_width=column,
                                                   max_epochs=int(rows["epoch"].max())), width="content")
            st.caption(f"{dataset}: shipped measurement (benchmarks/bench_isometry_training.py).")
        st.markdown(lesson(history))
    else:
        st.info("The measured training curves (docs/isometry_training.csv) are not in this copy of the repository.")
    st.caption(f"Train a small version here: tanh, depth {LIVE.depth}, width {LIVE.width}, moons, "
               f"{LIVE.epochs} epochs of SGD (learning rate {LIVE.learning_rate:g}, batches of {LIVE.batch_size}).")
    if st.button("Train orthogonal and Gaussian here", key="isometry_train"):
        with st.spinner("Training two networks of 64 layers…"):
            history = live_training(LIVE)
        st.altair_chart(charts.accuracy_curves(history, fit_width=column, max_epochs=LIVE.epochs), width="content")


LESSON_TARGET = 0.9  # the training accuracy whose first epoch measures the speed


def lesson(history: pd.DataFrame) -> str:
    """What the shipped curves show, in words, from their numbers (``wil.isometry.epochs_to_accuracy``): per
    dataset, the median epoch at which each initializer reached the target, and whether orthogonal was
    the fastest."""
    reached = wil.isometry.epochs_to_accuracy(history, LESSON_TARGET)
    parts = []
    for dataset, rows in reached.groupby("dataset", sort=False):
        median = rows.groupby("initializer", sort=False)["epoch"].median()  # NaN: some seed never reached it
        trained = int(rows["epochs_trained"].max())
        said = ", ".join(f"{wil.short_name(label)} {'never within ' + str(trained) if pd.isna(e) else f'{e:g}'}"
                         for label, e in median.items())
        others = median.drop("orthogonal", errors="ignore").fillna(math.inf)
        fastest = "orthogonal" in median and median["orthogonal"] < others.min()
        parts.append(f"**{dataset}**: {said} (epochs to {LESSON_TARGET:.0%} training accuracy, median of "
                     f"{rows['seed'].nunique()} seeds): isometry {'trains faster' if fastest else 'does not train faster'}")
    return ("**What it shows.** " + "; ".join(parts) + ". The speed-up the paper reports holds where the "
            "input has many directions to keep apart (digits: 64 features, 10 classes), not on a 2-D toy "
            "problem that a Gaussian network fits in a few epochs (docs/ISOMETRY.md).")

main()

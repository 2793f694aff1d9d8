"""The tabs' view-only controls: the epoch to inspect, the layers, the histograms' axis, and the play
control that steps the epoch-dependent charts through the recorded snapshots (``POLICY.snapshots``).
None of them retrains."""

from __future__ import annotations

import time

import streamlit as st
from streamlit.errors import StreamlitAPIException

import wil
from wil import charts

from ..state import HISTOGRAM_AXES, SESSION_KEYS, HISTOGRAM_X

PLAY_STEP = 0.7  # seconds per frame of the play control (16 frames: about 11 s)


def recorded_epochs(result: wil.Result) -> list[int]:
    """The epochs with histograms (and, for 2-D data, decision boundaries): the ones to inspect and play."""
    return sorted(int(e) for e in result.histograms["epoch"].unique()) or [0]


def epoch_control(result: wil.Result) -> int:
    """Which recorded epoch to inspect.

    Each tab that needs it draws its own copy under the same key; a shadow entry remembers the choice
    while the widget is off screen (Streamlit forgets the state of widgets it did not draw).
    """
    config = result.config
    epochs = recorded_epochs(result)
    if "_play_to" in st.session_state:  # the play control's last frame
        st.session_state["view_epoch"] = st.session_state.pop("_play_to")
    if st.session_state.get("view_epoch") not in epochs:
        remembered = st.session_state.get("_view_epoch", 0)
        # a link's epoch, or one of another run: the nearest recorded one
        st.session_state["view_epoch"] = min(epochs, key=lambda e: (abs(e - remembered), e))
    last = result.stopped_epoch if result.stopped_epoch is not None else config.epochs
    epoch = st.select_slider(
        "Epoch to inspect", options=epochs, key="view_epoch",
        format_func=lambda e: "0 · at initialization" if e == 0 else
        f"{e} · end of training" if e == last else f"{e} · {round(100 * e / config.epochs)}% of training")
    st.session_state["_view_epoch"] = epoch
    return int(epoch)


def play_button(key: str) -> bool:
    """A button that plays the epoch-dependent charts through training; True in the run it was clicked."""
    return st.button("▶ Play through training", key=key, help="Step through the recorded epochs (about "
                     f"{PLAY_STEP:g} s each); any click stops it.")


def play(result: wil.Result, draw_frame) -> None:
    """Call ``draw_frame(epoch)`` for every recorded epoch, ``PLAY_STEP`` seconds apart, then leave the
    view at the last one. Any click stops it (Streamlit interrupts the script to rerun)."""
    epochs = recorded_epochs(result)
    caption = st.empty()
    for epoch in epochs:
        caption.caption(f"▶ epoch {epoch} of {epochs[-1]}")
        draw_frame(epoch)
        time.sleep(PLAY_STEP)
    caption.empty()
    st.session_state["_play_to"] = st.session_state["_view_epoch"] = epochs[-1]
    try:  # the slider to the last frame: only the tabs again when this run is a fragment's, else the page
        st.rerun(scope="fragment")
    except StreamlitAPIException:
        st.rerun()


def layers_control(result: wil.Result) -> list[int]:
    """Which layers the histograms show (a spread of five by default)."""
    depth = result.config.depth
    options = list(range(1, depth + 2))
    if st.session_state.get("_view_layers_depth") != depth:  # a new depth: spread the layers again
        st.session_state["_view_layers"] = charts.pick_layers(depth)
        st.session_state["_view_layers_depth"] = depth
        st.session_state.pop("view_layers", None)
    if "view_layers" not in st.session_state:
        st.session_state["view_layers"] = st.session_state["_view_layers"]
    layers = st.multiselect("Layers in the histograms", options=options, key="view_layers",
                            format_func=lambda layer: "output" if layer == depth + 1 else f"layer {layer}")
    st.session_state["_view_layers"] = layers
    return sorted(layers) or charts.pick_layers(depth)


def histogram_axis() -> dict:
    """The histograms' x axis: shared by every initializer by default, since the lesson is scale; log
    magnitude; or each its own. Returns the options of ``charts.histogram_grid``."""
    axis = st.radio("Histogram x axis", options=list(HISTOGRAM_AXES), key=SESSION_KEYS[HISTOGRAM_X],
                    horizontal=True, format_func=HISTOGRAM_AXES.get)
    return {"shared_x": axis == "shared", "log_magnitude": axis == "log"}


def epoch_and_layers(result: wil.Result) -> tuple[int, list[int]]:
    """The epoch and the layers, side by side."""
    left, right = st.columns([3, 2])
    with left:
        epoch = epoch_control(result)
    with right:
        layers = layers_control(result)
    return epoch, layers

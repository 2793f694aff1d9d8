"""The Activations tab: each layer's signal spread against the variance recursion's prediction, and the
histograms of activations or pre-activations, playable through training."""

from __future__ import annotations

import streamlit as st

import wil

from ..state import QUANTITIES, QUANTITY, SESSION_KEYS
from .controls import epoch_and_layers, histogram_axis, play, play_button
from .drawing import chart

TITLE = "Activations"
QUANTITY_LABELS = {"activation": "activations f(z)", "preactivation": "pre-activations z"}


def activations_tab(result: wil.Result) -> None:
    """Draw the tab for ``result``."""
    epoch, layers = epoch_and_layers(result)
    st.markdown("Each layer should pass on a signal of about the same size. Too small and it fades to "
                "nothing with depth; too large and it blows up. The dashed lines are what the "
                "Glorot/He variance recursion predicts at initialization.")
    playing = play_button("play_activations")
    spread = st.empty()
    left, right = st.columns([1, 2])
    quantity = left.radio("Histogram of", options=list(QUANTITIES), horizontal=True,
                          key=SESSION_KEYS[QUANTITY], format_func=QUANTITY_LABELS.get)
    with right:
        axis = histogram_axis()
    histograms = st.empty()

    def frame(at: int) -> None:
        with spread.container():
            chart(result, "activation_std", epoch=at)
        with histograms.container():
            chart(result, "histograms", quantity=quantity, epoch=at, layers=layers, **axis)

    play(result, frame) if playing else frame(epoch)

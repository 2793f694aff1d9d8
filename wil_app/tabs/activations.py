"""The Activations tab: each layer's signal spread against the variance recursion's prediction, and the
histograms of activations or pre-activations, playable through training in the browser."""

from __future__ import annotations

import streamlit as st

import wil

from ..state import QUANTITIES, QUANTITY, SESSION_KEYS
from .controls import epoch_and_layers, histogram_axis, play_control, recorded_epochs
from .drawing import played

TITLE = "Activations"
QUANTITY_LABELS = {"activation": "activations f(z)", "preactivation": "pre-activations z"}


def activations_tab(result: wil.Result) -> None:
    """Draw the tab for ``result``."""
    epoch, layers = epoch_and_layers(result)
    st.markdown("Each layer should pass on a signal of about the same size. Too small and it fades to "
                "nothing with depth; too large and it blows up. The dashed lines are what the "
                "Glorot/He variance recursion predicts at initialization.")
    play_control("play_activations", result)
    epochs = recorded_epochs(result)
    played(result, "activation_std", epochs, epoch)
    left, right = st.columns([1, 2])
    quantity = left.radio("Histogram of", options=list(QUANTITIES), horizontal=True,
                          key=SESSION_KEYS[QUANTITY], format_func=QUANTITY_LABELS.get)
    with right:
        axis = histogram_axis()
    played(result, "histograms", epochs, epoch, quantity=quantity, layers=layers, **axis)

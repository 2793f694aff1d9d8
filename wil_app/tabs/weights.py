"""The Weights tab: each layer's weight spread and the weights' histograms."""

from __future__ import annotations

import streamlit as st

import wil

from .controls import epoch_and_layers, histogram_axis
from .drawing import chart, view_chart

TITLE = "Weights"


def weights_tab(result: wil.Result) -> None:
    """Draw the tab for ``result``."""
    epoch, layers = epoch_and_layers(result)
    st.markdown("The weights themselves: their spread per layer is what each initializer chooses.")
    view_chart(result, "profile", "weight_std", epoch=epoch)
    axis = histogram_axis()
    chart(result, "histograms", quantity="weight", epoch=epoch, layers=layers, **axis)

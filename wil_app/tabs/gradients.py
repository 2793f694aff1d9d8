"""The Gradients tab: the norm of each layer's weight gradient, at one epoch and over training."""

from __future__ import annotations

import streamlit as st

import wil

from .controls import epoch_control
from .drawing import view_chart

TITLE = "Gradients"


def gradients_tab(result: wil.Result) -> None:
    """Draw the tab for ``result``."""
    epoch = epoch_control(result)
    st.markdown("How much each layer's weights are pushed: the norm of the loss's gradient with respect to "
                "them. Orders of magnitude below the others means **vanishing** gradients (those weights "
                "barely move); far above means **exploding** ones (one step throws them away). A slope across "
                "layers means some layers learn much faster than others.")
    view_chart(result, "profile", "grad_norm", epoch=epoch)
    view_chart(result, "heatmap", "grad_norm")

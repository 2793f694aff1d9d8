"""The Decision boundary tab: the network's prediction over the plane, at initialization and at the epoch
chosen, playable through training in the browser (2-D datasets only)."""

from __future__ import annotations

import streamlit as st

import wil

from .controls import epoch_control, play_control, recorded_epochs
from .drawing import played

TITLE = "Decision boundary"


def boundary_tab(result: wil.Result) -> None:
    """Draw the tab for ``result``."""
    if result.grid.empty:
        st.info(f"{wil.DATASETS[result.config.dataset].label} has more than two features, so there is no "
                "plane to draw a decision boundary on. Pick a 2-D dataset such as two moons.")
        return
    epoch = epoch_control(result)
    st.markdown("The network's prediction over the plane at initialization and at the epoch chosen; "
                "the colour fades where it is unsure. The chart's own slider (under it) moves at once.")
    play_control("play_boundary", result)
    played(result, "boundary", recorded_epochs(result), epoch)

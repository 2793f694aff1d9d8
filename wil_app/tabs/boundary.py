"""The Decision boundary tab: the network's prediction over the plane, at initialization and at the epoch
chosen, playable through training (2-D datasets only)."""

from __future__ import annotations

import streamlit as st

import wil

from .controls import epoch_control, play, play_button
from .drawing import chart

TITLE = "Decision boundary"


def boundary_tab(result: wil.Result) -> None:
    """Draw the tab for ``result``."""
    if result.grid.empty:
        st.info(f"{wil.DATASETS[result.config.dataset].label} has more than two features, so there is no "
                "plane to draw a decision boundary on. Pick a 2-D dataset such as two moons.")
        return
    epoch = epoch_control(result)
    st.markdown("The network's prediction over the plane at initialization and at the epoch chosen above; "
                "the colour fades where it is unsure.")
    playing = play_button("play_boundary")
    boundary = st.empty()

    def frame(at: int) -> None:
        with boundary.container():
            chart(result, "boundary", epochs=[0, at] if at else [0])

    play(result, frame) if playing else frame(epoch)

"""The Dead neurons tab: units that never fire (ReLU family) or sit in their flat tails (saturating
activations), per layer and over training; and the distinct units that show symmetry."""

from __future__ import annotations

import streamlit as st

import wil
from wil import charts

from .controls import epoch_control
from .drawing import view_chart

TITLE = "Dead neurons"
# activation family -> what its units' failure is, in words (the chart is charts.VIEWS["dead_units"][family])
FAMILY_TEXTS = {
    "relu": "A ReLU unit whose input is negative for every example outputs 0 and gets no gradient: it is "
            "**dead** and stays dead.",
    "saturating": "A sigmoid or tanh unit driven far into its flat tails has almost no slope, so almost no "
                  "gradient passes through it: it is **saturated**.",
}


def dead_units_tab(result: wil.Result) -> None:
    """Draw the tab for ``result``."""
    epoch = epoch_control(result)
    activation = wil.ACTIVATIONS[result.config.activation]
    if activation.family in FAMILY_TEXTS:
        st.markdown(FAMILY_TEXTS[activation.family])
        quantity = charts.VIEWS["dead_units"][activation.family].quantity
        view_chart(result, "profile", quantity, epoch=epoch)
        view_chart(result, "heatmap", quantity)
    else:
        st.info(f"{activation.label} is smooth and has no flat region: no units die or saturate. Distinct units "
                "(below) still show symmetry.")
    st.markdown("**Symmetry.** Units that start equal get equal gradients and stay equal: with all-zero or "
                "constant weights a layer of many units acts like one.")
    view_chart(result, "profile", "distinct_units", epoch=epoch)

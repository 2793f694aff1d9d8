"""The Training tab: loss and accuracy per epoch, the final scores, and a table of every network."""

from __future__ import annotations

import streamlit as st

import wil
from wil import charts

from .drawing import chart

TITLE = "Training"


def training_tab(result: wil.Result) -> None:
    """Draw the tab for ``result``."""
    chart(result, "loss")
    if wil.DATASETS[result.config.dataset].task == "classification":
        chart(result, "accuracy")
    chart(result, "final_scores")
    st.subheader("Every network")
    st.dataframe(charts.status_table(result.status), hide_index=True, key="status_table", column_config={
        "Diverged at epoch": st.column_config.NumberColumn(format="%d"),
        "Final train loss": st.column_config.NumberColumn(format="%.4g"),
        "Final test loss": st.column_config.NumberColumn(format="%.4g"),
        "Train accuracy": st.column_config.NumberColumn(format="percent"),
        "Test accuracy": st.column_config.NumberColumn(format="percent"),
    })

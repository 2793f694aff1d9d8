"""The Learn tab: why initialization matters, the activation's formula and gain, and every initializer's
formula with its PyTorch and Keras equivalents (from the registries' entries)."""

from __future__ import annotations

import streamlit as st

import wil

from ..lessons import LESSON

TITLE = "Learn"


def learn_tab(result: wil.Result) -> None:
    """Draw the tab for ``result``."""
    st.markdown(LESSON)
    activation = wil.ACTIVATIONS[result.config.activation]
    st.markdown(f"#### The activation here: {activation.label}")
    st.latex(activation.latex)
    st.markdown(f"{activation.description} Recommended gain: **{activation.gain:.3g}** ({activation.gain_source}).")
    compared = list(dict.fromkeys(wil.parse_entry(label)[0] for label in result.config.labels))
    st.markdown("#### The initializers in this comparison")
    for name in compared:
        initializer_card(name)
    with st.expander("Every initializer in wil"):
        for name in wil.INITIALIZERS:
            if name not in compared:
                initializer_card(name)


def initializer_card(name: str) -> None:
    """One initializer: its label, description, formula and framework equivalents."""
    spec = wil.INITIALIZERS[name]
    st.markdown(f"**{spec.label}** (`{name}`): {spec.description}")
    st.latex(spec.latex)
    st.markdown(f"PyTorch: `{spec.pytorch}`  \nKeras: `{spec.keras}`")

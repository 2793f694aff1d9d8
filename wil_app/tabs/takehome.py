"""The "Take it home" tab: the current configuration, for one of its initializers, as a script to copy or
download, in PyTorch, Keras or wil (``wil.to_pytorch``, ``wil.to_keras``, ``wil.to_wil``)."""

from __future__ import annotations

import streamlit as st

import wil

TITLE = "Take it home"
# flavour -> (tab label, code writer, file name, what it needs)
FLAVOURS = {
    "pytorch": ("Reproduce in PyTorch", wil.to_pytorch, "wil_take_home_pytorch.py", "numpy, scikit-learn, torch"),
    "keras": ("in Keras", wil.to_keras, "wil_take_home_keras.py", "numpy, scikit-learn, keras 3 (any backend)"),
    "wil": ("in wil", wil.to_wil, "wil_take_home_wil.py", "wil (this repository) and its requirements"),
}


@st.cache_data(max_entries=64, show_spinner=False)
def script(flavour: str, config: wil.Config, initializer: str) -> str:
    """The source of one flavour's script (cached: the same for every visitor of the same view)."""
    return FLAVOURS[flavour][1](config, initializer)


def takehome_tab(result: wil.Result) -> None:
    """Draw the tab for ``result``."""
    config = result.config
    st.markdown("**Take it home.** One network of this comparison as a script you can run: the same "
                "scikit-learn data, network, initializer formula (the framework's own where one matches, "
                "written out where none does), optimizer and mini-batch order. Its weights are other draws "
                "from the same distribution, so its statistics match wil's within sampling error.")
    labels = list(config.labels)
    if st.session_state.get("takehome_initializer") not in labels:
        initial = config.initializer if config.initializer in labels else labels[-1]
        st.session_state["takehome_initializer"] = initial
    initializer = st.selectbox("Initializer", options=labels, key="takehome_initializer",
                               format_func=lambda label: f"{wil.short_name(label)} ({label})")
    if config.dataset.startswith(wil.USER_PREFIX):
        st.info("Your data is not in the code: save your CSV file as `your_data.csv` beside the script. The "
                "code reads it, with the same target and feature columns.", icon=":material/description:")
    tabs = st.tabs([label for label, *_ in FLAVOURS.values()])
    for tab, (flavour, (label, _, file_name, needs)) in zip(tabs, FLAVOURS.items()):
        with tab:
            source = script(flavour, config, initializer)
            left, right = st.columns([3, 1])
            left.caption(f"Needs {needs}. Run it with `python {file_name}`.")
            right.download_button(f"Download {file_name}", data=source, file_name=file_name, mime="text/x-python",
                                  key=f"takehome_download_{flavour}", on_click="ignore", width="stretch")
            st.code(source, language="python", line_numbers=False)

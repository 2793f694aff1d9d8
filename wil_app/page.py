"""wil's explorer, the page every visitor's session runs (``streamlit run app.py`` serves it).

The same network, the same data, the same mini-batches; only the initialization differs. This file wires
the page together: the sidebar's ``Config`` -> ``wil`` -> the tabs' ``wil.charts``. No math and no chart
building here, and the pieces live beside it in ``wil_app/`` (the sidebar and URL sync, the cached run,
the tabs, Share & export, the lessons). ``app.py`` at the repository root is the server's entry: it
serves this page and warms the server's caches at start-up (``wil_app/warm.py``).

State flows one way: the URL (first load) -> session state -> sidebar widgets -> ``Config`` -> URL.
"""

from __future__ import annotations

import streamlit as st

import wil
from wil_app.policy import POLICY
from wil_app.run import divergence_note, summary, train_with_progress
from wil_app.sidebar import init_from_url, plain_text, sidebar_config, sync_url
from wil_app.tabs import result_tabs
from wil_app.upload import data_notes, sync_url_with_data  # issue 13 hook: uploaded data stays out of the URL
from wil_app.workshop import workshop_after, workshop_before, workshop_init  # issue 13 hook: quiz and tour

st.set_page_config(page_title="wil · the weight-initialization lab", page_icon="⚖️", layout="wide",
                   initial_sidebar_state="expanded")


def main() -> None:
    init_from_url()
    workshop_init()  # issue 13 hook: ?quiz= or ?tour= loads its configuration
    config, errors, notes = sidebar_config()

    # a narrower side margin than Streamlit's wide layout: the charts fit a 1280 px projector beside the sidebar
    st.html("<style>[data-testid='stMainBlockContainer']{padding-left:2.5rem;padding-right:2.5rem}</style>")
    st.markdown("## wil · the weight-initialization lab")
    st.markdown("The same network, the same data, the same mini-batches: **only the initialization differs.**")
    # the link's problems stay on screen until the visitor changes the configuration the link opened
    # (compared with what the widgets made of it, which may normalize it, e.g. an empty compare=)
    st.session_state.setdefault("url_opened_config", config)
    if config is not None and config == st.session_state["url_opened_config"]:
        for problem in st.session_state["url_problems"]:
            st.warning("The link had a problem: " + plain_text(problem), icon=":material/link_off:")
    for note in notes:
        st.info(note)
    if config is None:
        for error in errors:
            st.error(error)
        st.stop()
    sync_url_with_data(config, sync_url)  # issue 13 hook: was sync_url(config)
    data_notes(config)  # issue 13 hook
    workshop_before(config)  # issue 13 hook: the mode, the question (stops here until Reveal) or the tour step
    networks = len(config.labels) * config.n_seeds
    st.sidebar.caption(f"{networks} network{'s' if networks > 1 else ''} to train, "
                       f"{POLICY.work(config) / POLICY.max_work:.0%} of the work one run may take.")

    result = train_with_progress(config)
    st.markdown(summary(config))
    divergence_note(result)
    workshop_after(result)  # issue 13 hook: the verdicts beside the predictions, or the tour's chart

    result_tabs(result)


main()

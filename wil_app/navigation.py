"""The app's pages (Streamlit multipage): the explorer, the default, the trainability phase diagram,
dynamical isometry and the other cures.
``app.py`` serves this script; each page is its own script beside it."""

import streamlit as st

from wil_app.policy import POLICY_PROBLEMS
from wil_app.runs import yield_to_training
from wil_app.text import plain_text

yield_to_training()  # this session's script yields the cores to the runs training (wil_app/runs.py)

for problem in POLICY_PROBLEMS:  # the operator's WIL_POLICY setting, where an entry of it was ignored
    st.warning(plain_text(problem))

st.navigation([
    # no icons: a Material icon is fetched from a font server the page must not depend on, and an emoji
    # shows as an empty box on a machine without an emoji font (a projector's laptop may be one)
    st.Page("page.py", title="Explorer", default=True),
    st.Page("phase.py", title="Phase diagram", url_path="phase"),
    st.Page("isometry.py", title="Dynamical isometry", url_path="isometry"),
    st.Page("cures.py", title="The other cures", url_path="cures"),
]).run()

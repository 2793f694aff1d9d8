"""The app's pages (Streamlit multipage): the explorer, the default, and the trainability phase diagram.
``app.py`` serves this script; each page is its own script beside it."""

import streamlit as st

st.navigation([
    st.Page("page.py", title="Explorer", icon=":material/science:", default=True),
    st.Page("phase.py", title="Phase diagram", icon=":material/grid_on:", url_path="phase"),
]).run()

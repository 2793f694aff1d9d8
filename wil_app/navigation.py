"""The app's pages (Streamlit multipage): the explorer, the default, and the trainability phase diagram.
``app.py`` serves this script; each page is its own script beside it."""

import streamlit as st

st.navigation([
    # emoji icons: a page's Material icon would be fetched from a font server the page must not depend on
    st.Page("page.py", title="Explorer", icon="🔬", default=True),
    st.Page("phase.py", title="Phase diagram", icon="🗺️", url_path="phase"),
]).run()

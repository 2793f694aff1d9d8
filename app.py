"""wil's explorer: ``streamlit run app.py``.

The server's entry. Every visitor's session runs the page, ``wil_app/page.py``; this file serves it as a
Streamlit ``App`` whose start-up, on a thread of its own, does what the first visitor would otherwise wait
for: it imports scikit-learn and the chart stack and trains the default page's networks into the
session-shared cache, then, a few seconds later, the prepared lessons (``wil_app/warm.py``). The server
answers at once; a visitor who arrives before the warm-up is over waits only for what is left of it.
"""

from __future__ import annotations

import threading
from contextlib import asynccontextmanager

import streamlit as st


@asynccontextmanager
async def _warm_up_in_background(_app):
    from wil_app.warm import warm_up_server

    threading.Thread(target=warm_up_server, name="wil-warm-up", daemon=True).start()
    yield


app = st.App("wil_app/navigation.py", lifespan=_warm_up_in_background)

"""The server's warm-up at start-up: what the first visitor of the default page would otherwise wait for.

A fresh server spends its first visitor's first second or two importing scikit-learn (through SciPy),
Altair and pandas, and training the default page's networks. ``app.py`` calls ``warm_up`` on a thread when
the server starts, while the visitor's browser is still loading Streamlit's front end: the training lands
in ``run_comparison``'s cache, shared by every session, under the key the default page asks for.
A session asking for it meanwhile waits on the cache's lock for this computation instead of starting
its own.
"""

from __future__ import annotations

import sys
import time


def warm_up() -> float | None:
    """Import what the page draws with and train the default page's run into the cache; print how long it
    took (or why it failed: the page then shows its own error). Returns the seconds, or None on failure."""
    start = time.perf_counter()
    try:
        from . import tabs  # noqa: F401  (wil.charts: Altair and pandas)
        from .lessons import DEMO
        from .run import run_comparison

        result = run_comparison(DEMO)  # scikit-learn's data and the training, into the shared cache
        del result
    except Exception as error:  # never take the server down: the page reports problems to its visitor
        print(f"  wil: the warm-up failed ({type(error).__name__}: {error}); the first visitor trains instead",
              file=sys.stderr, flush=True)
        return None
    seconds = time.perf_counter() - start
    print(f"  wil: warmed up in {seconds:.1f} s (imports and the default page's training)", flush=True)
    return seconds

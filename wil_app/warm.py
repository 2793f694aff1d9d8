"""The server's warm-up at start-up: what the first visitor of the default page would otherwise wait for.

A fresh server spends its first visitor's first second or two importing scikit-learn (through SciPy),
Altair and pandas, and training the default page's networks. ``app.py`` starts ``warm_up_server`` on a
thread when the server starts, while the visitor's browser is still loading Streamlit's front end:
``warm_up`` puts the default page's training in ``run_comparison``'s cache, shared by every session,
under the key the page asks for; a few seconds later, once that first page is drawn, ``warm_up_lessons``
adds the prepared lessons, so a presenter's "Start from a lesson" shows at once. A session asking for a
run meanwhile waits on the cache's lock for this computation instead of starting its own.
"""

from __future__ import annotations

import sys
import time

LESSON_DELAY = 5.0  # seconds between the default page's run and the lessons': the first page draws alone


def warm_up() -> float | None:
    """Import what the page draws with and train the default page's run into the cache; print how long it
    took (or why it failed: the page then shows its own error). Returns the seconds, or None on failure."""
    start = time.perf_counter()
    try:
        from .runs import start_trainers

        start_trainers()  # the trainer process imports the library meanwhile (wil_app/worker.py)
        from . import tabs  # noqa: F401  (wil.charts: Altair and pandas)
        from .lessons import DEMO
        from .run import run_comparison

        run_comparison(DEMO)  # scikit-learn's data and the training, into the shared cache
    except Exception as error:  # never take the server down: the page reports problems to its visitor
        _report_failure("the warm-up", "the first visitor trains instead", error)
        return None
    seconds = time.perf_counter() - start
    print(f"  wil: warmed up in {seconds:.1f} s (imports and the default page's training)", flush=True)
    return seconds


def warm_up_lessons() -> float | None:
    """Train every prepared lesson into the cache (the demo's is there already); print how long it took.
    Returns the seconds, or None on failure."""
    start = time.perf_counter()
    try:
        from .lessons import LESSONS
        from .run import run_comparison

        for config in LESSONS.values():
            run_comparison(config)
    except Exception as error:
        _report_failure("training the lessons ahead", "a lesson trains when it is picked", error)
        return None
    seconds = time.perf_counter() - start
    print(f"  wil: the prepared lessons are ready too ({seconds:.1f} s)", flush=True)
    return seconds


def warm_up_server(lesson_delay: float = LESSON_DELAY) -> None:
    """What ``app.py`` runs on its warm-up thread: ``warm_up``, a pause, then ``warm_up_lessons``."""
    if warm_up() is not None:
        time.sleep(lesson_delay)
        warm_up_lessons()


def _report_failure(what: str, instead: str, error: Exception) -> None:
    print(f"  wil: {what} failed ({type(error).__name__}: {error}); {instead}", file=sys.stderr, flush=True)

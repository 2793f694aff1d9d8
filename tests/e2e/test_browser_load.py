"""Issue 17, "a room of thirty", small: ``benchmarks/load.py`` with 3 sessions at once (one on the shared
link, two on links of their own) against a fresh server: all finish without error or traceback, and each
saw its own progress (a queue place, an epoch, verdicts or a chart) long before it was done. The room of
thirty itself: ``python benchmarks/load.py --sessions 30`` (figures in docs/PERFORMANCE.md)."""

from __future__ import annotations

import importlib.util
import os
import pathlib
import sys

import pytest
from conftest import CHROMIUM

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Chromium is not installed at {CHROMIUM}")]
ROOT = pathlib.Path(__file__).resolve().parents[2]


def load_script():
    spec = importlib.util.spec_from_file_location("wil_load", ROOT / "benchmarks" / "load.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["wil_load"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_a_small_room_all_finish_and_see_progress_first():
    pytest.importorskip("playwright.async_api")
    load = load_script()
    report = load.run(ROOT / "app.py", 3, timeout=300.0, chromium=CHROMIUM)
    visits = report["visits"]
    assert report["errors"] == 0 and report["completed"] == 3, [v.error for v in visits]
    assert report["tracebacks"] == 0
    for visit in visits:
        assert visit.progress_s is not None and visit.progress_s <= visit.chart_s <= visit.seconds, visit
    print(f"3 sessions: progress {[round(v.progress_s, 1) for v in visits]} s, first chart "
          f"{[round(v.chart_s, 1) for v in visits]} s, done {[round(v.seconds, 1) for v in visits]} s, "
          f"peak RSS {report['peak_rss_mb']:.0f} MB")


def test_a_small_room_of_moves_all_finish_at_the_size_asked():
    """Three sessions each making one of issue 17's moves (depth 30, depth 50, digits) at once: all finish
    without error, and none is told the server trained less than asked."""
    pytest.importorskip("playwright.async_api")
    load = load_script()
    report = load.run(ROOT / "app.py", 3, timeout=300.0, chromium=CHROMIUM, moves=True)
    visits = report["visits"]
    assert report["errors"] == 0 and report["completed"] == 3, [v.error for v in visits]
    assert report["tracebacks"] == 0
    assert {v.url.split("depth=")[1].split("&")[0] for v in visits} == {"30", "50", "8"}  # digits at depth 8
    for visit in visits:
        assert visit.progress_s <= visit.chart_s <= visit.seconds, visit
        assert not any("This server trains" in note for note in visit.notes + visit.warnings), visit.notes

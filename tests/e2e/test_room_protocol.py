"""Issue 17, "a room of thirty", on the server alone: ``benchmarks/load.py --clients protocol`` (visitors that
speak Streamlit's websocket protocol, no browser: ``benchmarks/room_client.py``). Twelve sessions at once,
four moves of the opening page three times over, each trio asking for the same run at the same moment (the
race that left a session on a blank page until its run ended, 78 s in a room of 30): every session sees its
own progress within seconds and long before it is done, all finish without error or traceback, each run
trains once. The room of thirty itself: ``python benchmarks/load.py --sessions 30 --moves --clients protocol
--after-warm-up`` (figures in docs/PERFORMANCE.md)."""

from __future__ import annotations

import pathlib

import pytest
from test_browser_load import load_script  # benchmarks/load.py as a module

pytestmark = pytest.mark.slow
ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_a_room_of_twelve_protocol_visitors_each_see_progress_at_once_and_finish():
    pytest.importorskip("websockets")
    load = load_script()
    moves = [load.move_query(i) for i in range(4)]  # depth 30, depth 50, digits, tanh: three visitors each
    original = load.move_query
    load.move_query = lambda index: moves[index % 4]
    try:
        report = load.run(ROOT / "app.py", 12, timeout=300.0, chromium="", moves=True, clients="protocol",
                          after_warm_up=True)
    finally:
        load.move_query = original
    visits = report["visits"]
    assert report["errors"] == 0 and report["completed"] == 12, [v.error for v in visits]
    assert report["tracebacks"] == 0
    for visit in visits:
        assert visit.progress_s is not None and visit.progress_s < 10.0, visit
        assert visit.progress_s <= visit.seconds and visit.charts >= 3, visit
    # the sessions of one move asked at once: one run each, followed by all three (no run twice, no blank wait)
    assert len(report["run_seconds"]) <= 4  # the four moves at most (a prepared lesson's may come from the cache)
    print(f"12 sessions: progress {sorted(round(v.progress_s, 1) for v in visits)} s, done "
          f"{sorted(round(v.seconds, 1) for v in visits)} s, runs {report['run_seconds']} s, "
          f"peak RSS {report['peak_rss_mb']:.0f} MB")

"""Issue 17, "every move in seconds": ▶ Play on the Decision boundary and Activations tabs steps the chart
in the browser (every frame is in the chart already): frames follow one another, and a click anywhere stops
it (no frame after the click). Frame times are printed, not asserted: the 0.5 s target is measured by
benchmarks/bench_app.py, as every speed target (a shared machine makes a timed test flaky)."""

from __future__ import annotations

import json
import os
import time

import pytest
from conftest import CHROMIUM

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Chromium is not installed at {CHROMIUM}")]
TIMEOUT_MS = 240_000
FINISHED = '[data-testid="stApp"][data-test-script-state="notRunning"]'


@pytest.mark.parametrize("tab", ["Decision+boundary", "Activations"])
@pytest.mark.parametrize("size", [(1024, 768), (1280, 800)], ids=["1024x768", "1280x800"])
def test_play_draws_each_frame_on_time_and_a_click_stops_it(server, browser, tab, size):
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    page.goto(f"{server.url}/?tab={tab}", timeout=TIMEOUT_MS)
    page.wait_for_selector(FINISHED, timeout=TIMEOUT_MS)
    time.sleep(2)  # the rerun after the browser reports the column's width
    page.wait_for_selector(FINISHED, timeout=TIMEOUT_MS)
    button = page.get_by_role("button", name="▶ Play through training").first
    button.wait_for(timeout=TIMEOUT_MS)
    button.click()
    page.wait_for_function("document.body.dataset.wilPlaying === '1'", timeout=5_000)
    time.sleep(2.2)  # four or five frames at 0.5 s each
    page.mouse.click(5, size[1] - 5)  # anywhere
    stopped_at = time.perf_counter()
    page.wait_for_function("document.body.dataset.wilPlaying === '0'", timeout=5_000)
    stop_s = time.perf_counter() - stopped_at
    frames = json.loads(page.evaluate("document.body.dataset.wilPlay || '[]'"))
    time.sleep(1.2)
    assert json.loads(page.evaluate("document.body.dataset.wilPlay || '[]'")) == frames  # no frame after the click
    print(f"play {tab} {size}: {len(frames)} frames drawn in {frames} ms; stopped {stop_s:.2f} s after the click")
    assert len(frames) >= 3, frames
    page.close()

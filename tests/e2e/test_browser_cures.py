"""Issue 20 in a real browser: the lesson page "The other cures" at 1280 x 800 trains its seven networks in the
server's queue, gives each its verdict in words, and draws its two charts within the main column. The
screenshots go to a temporary folder (their paths are printed, to look at). Skips only when Chromium is not
installed.
"""

from __future__ import annotations

import os

import pytest
from conftest import CHROMIUM
from test_browser import FITS
from test_browser_story import TIMEOUT_MS, settle, shot

from wil.analysis.verdicts import VERBS
from wil_app.lessons import CURES, CURES_TITLE

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Chromium is not installed at {CHROMIUM}")]


def test_the_lesson_page_gives_every_network_its_verdict_and_fits_the_screen(server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{server.url}/cures", timeout=TIMEOUT_MS)
    page.get_by_text(CURES_TITLE).wait_for(timeout=TIMEOUT_MS)
    assert page.get_by_role("link", name="The other cures").count() >= 1  # in the app's navigation
    settle(page, 2)  # seven runs of 60 layers, then the two charts
    main = page.locator('[data-testid="stMain"]').inner_text()
    for case in CURES:
        line = next(line for line in main.splitlines() if line.startswith(case.title + " — "))
        assert line.split(" — ")[1].startswith(VERBS[case.verdict]), line
    assert page.locator('[data-testid="stException"]').count() == 0
    try:
        page.wait_for_function(FITS, timeout=30_000)
    except Exception:
        pass
    assert page.evaluate(FITS), "a chart reaches past the main column"
    shot(page, tmp_path, "cures 1280 top")
    page.locator('[data-testid=stVegaLiteChart]').nth(0).scroll_into_view_if_needed()
    shot(page, tmp_path, "cures 1280 charts")
    page.close()

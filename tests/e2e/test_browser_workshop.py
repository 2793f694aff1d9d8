"""The workshop kit in a real browser (the Streamlit server, Debian's Chromium through Playwright): the
guided tour's Next and Previous and its link, predict then reveal, and a CSV upload, good and hostile.
Skips only when Chromium is not installed."""

import os
import re

import numpy as np
import pandas as pd
import pytest
from conftest import CHROMIUM

TIMEOUT_MS = 180_000  # a cold start imports scikit-learn and trains; shared CI machines are slow
FINISHED = '[data-testid="stApp"][data-test-script-state="notRunning"]'
DRAWN = '[data-testid="stVegaLiteChart"] :is(svg, canvas)'

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Chromium is not installed at {CHROMIUM}")]


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    assert page.locator('[data-testid="stException"]').count() == 0
    assert not errors, errors
    page.close()


def settle(page, charts: int = 0) -> None:
    """The script has finished and at least ``charts`` charts are drawn."""
    page.wait_for_timeout(300)  # a click's rerun starts a moment later
    page.wait_for_selector(FINISHED, timeout=TIMEOUT_MS)
    if charts:
        page.wait_for_function(f"document.querySelectorAll('{DRAWN}').length >= {charts}", timeout=TIMEOUT_MS)


def test_the_tour_moves_with_next_and_previous_and_its_link_follows(server, page):
    page.goto(f"{server.url}/?tour=1", timeout=TIMEOUT_MS)
    page.get_by_text("Step 1 of 5: All zeros").wait_for(timeout=TIMEOUT_MS)
    settle(page, charts=1)
    assert page.get_by_text("Look here:").count() == 1
    page.get_by_role("button", name="Next →").click()
    page.get_by_text("Step 2 of 5: Tiny random weights").wait_for(timeout=TIMEOUT_MS)
    page.wait_for_function("location.search.includes('tour=2')", timeout=TIMEOUT_MS)
    assert "compare=random_normal%28std%3D0.01%29" in page.url
    settle(page, charts=1)
    page.get_by_role("button", name="← Previous").click()
    page.get_by_text("Step 1 of 5: All zeros").wait_for(timeout=TIMEOUT_MS)
    page.wait_for_function("location.search.includes('tour=1')", timeout=TIMEOUT_MS)
    settle(page, charts=1)


def test_predict_then_reveal(server, page):
    page.goto(f"{server.url}/?quiz=1", timeout=TIMEOUT_MS)
    page.get_by_text("Question 1 of 3").wait_for(timeout=TIMEOUT_MS)
    settle(page)
    assert page.locator(DRAWN).count() == 0  # nothing shown before Reveal
    radios = page.get_by_test_id("stRadio")
    for index, guess in enumerate(["stays symmetric", "signal vanishes", "explodes", "learns", "learns"]):
        radios.nth(index).get_by_text(guess, exact=True).click()
        settle(page)
    page.get_by_role("button", name="Reveal").click()
    page.get_by_text("Revealed: 5 of 5 predicted right").wait_for(timeout=TIMEOUT_MS)
    settle(page, charts=3)
    page.get_by_role("button", name="Next question →").click()
    page.get_by_text("Question 2 of 3").wait_for(timeout=TIMEOUT_MS)
    page.wait_for_function("location.search.includes('quiz=2') && location.search.includes('depth=30')",
                           timeout=TIMEOUT_MS)


def test_a_csv_upload_trains_and_a_binary_file_is_refused(server, page, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    good = tmp_path / "rings.csv"
    pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "inside": np.hypot(*X.T) < 1.0}).to_csv(good, index=False)
    bad = tmp_path / "photo.csv"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)

    page.goto(server.url, timeout=TIMEOUT_MS)
    settle(page, charts=3)
    page.get_by_text("Your own data (CSV)").click()
    uploader = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    uploader.set_input_files(str(bad))
    page.get_by_text("This is not a text file").wait_for(timeout=TIMEOUT_MS)
    settle(page, charts=3)  # the page still shows its charts

    uploader.set_input_files(str(good))
    page.get_by_text("200 rows, 3 columns.").wait_for(timeout=TIMEOUT_MS)
    settle(page)
    page.get_by_role("button", name="Train on this data").click()
    page.get_by_text("Your data: rings.csv").first.wait_for(timeout=TIMEOUT_MS)
    page.wait_for_function("location.search.includes('data=uploaded')", timeout=TIMEOUT_MS)
    assert re.search(r"[?&]dataset=moons(&|$)", page.url) and "user%3A" not in page.url and "user:" not in page.url
    settle(page, charts=3)
    page.get_by_role("tab", name="Decision boundary").click()
    settle(page, charts=1)
    assert page.get_by_text("Decision boundary", exact=True).count() >= 1

"""A hostile link in a real browser: what the page renders, not what the script sends.

AppTest sees the Markdown the script sends; only a browser shows what becomes HTML. This opens one link
full of markup (HTML, Markdown links and images, autolinks, which Markdown escaping alone does not stop)
in Debian's Chromium against the real server and checks that nothing of it ran or loaded: no injected
element, no image or link pointing where the URL said, no script side effect, and the warnings visible
as plain text (quoted in a code block). Skips only when Chromium or app.py is missing.
"""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

import pytest
from conftest import CHROMIUM, CHROMIUM_FLAGS as FLAGS

ROOT = Path(__file__).resolve().parents[2]
APP = Path(os.environ.get("WIL_APP", ROOT / "app.py"))
TIMEOUT_MS = 180_000

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Chromium is not installed at {CHROMIUM}"),
              pytest.mark.skipif(not APP.exists(), reason=f"{APP} does not exist")]

HOSTILE = {
    "dataset": "<img src=x onerror=window.__pwned=1>",
    "activation": "![x](https://example.invalid/pixel.png)",
    "optimizer": "[click](javascript:window.__pwned=2)",
    "initializer": "https://example.invalid/login",
    "dtype": "<script>window.__pwned=3</script>",
    "compare": "he_normal;<b id=injected>bold</b>",
    "depth": "`code` $x$ \u202e",
    "unknown<i>": "1",
    "noise": "someone@example.invalid",
    "learning_rate": "www.example.invalid",
    "seed": "<https://example.invalid/x>",
}


def test_a_hostile_link_renders_as_plain_text(server):
    from playwright.sync_api import sync_playwright

    url, log = server
    requests = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda request: requests.append(request.url))
            page.goto(f"{url}/?{urllib.parse.urlencode(HOSTILE)}", timeout=TIMEOUT_MS)
            page.wait_for_selector('[data-testid="stVegaLiteChart"] :is(svg, canvas)', timeout=TIMEOUT_MS)
            page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]',
                                   timeout=TIMEOUT_MS)
            # one warning says the link had problems; they are quoted below it as plain text (st.code)
            warnings = page.locator('[data-testid="stAlertContentWarning"]').all_inner_texts()
            warnings += page.locator('[data-testid="stCode"]').all_inner_texts()
            assert page.evaluate("window.__pwned") is None  # no handler, link or script from the URL ran
            assert page.locator("#injected").count() == 0
            assert page.locator('[data-testid="stMain"] img[src="x"]').count() == 0
            assert page.locator('img[src*="example.invalid"]').count() == 0
            assert page.locator('a[href*="example.invalid"], a[href^="javascript:"], a[href^="mailto:"]').count() == 0
            assert page.locator('[data-testid="stException"]').count() == 0
        finally:
            browser.close()
    assert not [r for r in requests if urllib.parse.urlparse(r).hostname == "example.invalid"]
    text = " ".join(warnings)
    for field in ("dataset", "activation", "optimizer", "initializer", "dtype", "compare", "depth", "noise",
                  "learning_rate", "seed"):
        assert f"Invalid {field}" in text, (field, warnings)  # each refusal is visible, as text
    assert "unknown parameter" in text
    assert "Traceback" not in log.read_text()


# ---------------------------------------------------------------- the worst inputs of issue 18

IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def open_idle(browser, url: str):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url, timeout=TIMEOUT_MS)
    page.wait_for_selector('[data-testid="stMain"] [data-testid="stTab"]', timeout=TIMEOUT_MS)
    page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)
    return page


def shown_text(page) -> str:
    return " ".join(page.locator('[data-testid="stAlert"], [data-testid="stCode"]').all_inner_texts())


def test_a_5000_digit_tour_and_a_repeated_quiz_are_messages(server, browser):
    url, log = server
    page = open_idle(browser, f"{url}/?tour={'2' * 5000}&quiz=1&quiz={'9' * 4400}")
    try:
        page.wait_for_selector('[data-testid="stVegaLiteChart"] :is(svg, canvas)', timeout=TIMEOUT_MS)
        text = shown_text(page)
        assert "quiz was given 2 times" in text and "Invalid quiz" in text, text
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        page.close()
    assert "Traceback" not in log.read_text()


def test_a_link_with_an_unencoded_ampersand_opens_the_tab_it_meant(server, browser):
    url, _ = server
    page = open_idle(browser, f"{url}/?tab=Share & export")  # the browser sends tab=Share%20 and %20export=
    try:
        selected = page.locator('[data-testid="stMain"] [data-testid="stTab"][aria-selected="true"]')
        assert selected.first.inner_text().strip() == "Share & export"
        assert page.get_by_text("Share this view.").count() == 1
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        page.close()


def test_a_configuration_file_nested_50000_deep_is_refused_with_a_message(server, browser, tmp_path):
    url, log = server
    deep = tmp_path / "deep.json"
    deep.write_bytes(b"[" * 50_000 + b"]" * 50_000)
    page = open_idle(browser, f"{url}/?tab=Share%20%26%20export")
    try:
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').last.set_input_files(str(deep))
        page.get_by_text("nests 50,000 levels deep").first.wait_for(timeout=TIMEOUT_MS)
        page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert "Not a configuration" in shown_text(page)
    finally:
        page.close()
    assert "Traceback" not in log.read_text()

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

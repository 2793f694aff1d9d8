"""How fast the explorer feels: the real server, a real browser (Debian's Chromium through Playwright).

Prints, in seconds:
- server start: launching ``streamlit run app.py`` until ``/_stcore/health`` answers;
- cold page: a first visit to a fresh server until the last chart of the default page is drawn
  (imports scikit-learn, trains the demo's 5 networks, draws the Training tab);
- cached reload: a new session on the same URL (the result comes from ``st.cache_data``);
- view-only change: moving the "Epoch to inspect" slider on the Activations tab (never retrains);
- tab switch: opening the Gradients tab;
- new configuration: one more seed per initializer (trains again);
and the server's resident memory at the end.

    python benchmarks/bench_app.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import pathlib
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
FINISHED = '[data-testid="stApp"][data-test-script-state="notRunning"]'
DRAWN = '[data-testid="stVegaLiteChart"] :is(svg, canvas)'
TIMEOUT_MS = 300_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int) -> tuple[subprocess.Popen, float]:
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                return process, time.perf_counter() - start
        except OSError:
            if process.poll() is not None:
                raise SystemExit("the server exited")
            time.sleep(0.05)


def rss_mib(pid: int) -> float:
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def drawn(page, count: int) -> None:
    """Wait until the script is idle and ``count`` charts are painted."""
    page.wait_for_selector(FINISHED, timeout=TIMEOUT_MS)
    page.wait_for_function(f"document.querySelectorAll('{DRAWN}').length >= {count}", timeout=TIMEOUT_MS)


def rerun_done(page, action) -> float:
    """Time ``action`` until the rerun it starts has finished and its charts are painted again."""
    start = time.perf_counter()
    action()
    try:  # a fast rerun may be over before we look; then there is nothing more to wait for
        page.wait_for_selector('[data-testid="stApp"][data-test-script-state="running"]', timeout=5_000)
    except PlaywrightTimeout:
        pass
    drawn(page, 1)
    return time.perf_counter() - start


def measure_once(browser) -> dict[str, float]:
    port = free_port()
    server, start = start_server(port)
    url = f"http://127.0.0.1:{port}/"
    figures = {"server start": start}
    try:
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        t = time.perf_counter()
        page.goto(url, timeout=TIMEOUT_MS)
        drawn(page, 3)
        figures["cold page (last chart drawn)"] = time.perf_counter() - t
        link = page.url

        fresh = browser.new_page(viewport={"width": 1600, "height": 1000})
        t = time.perf_counter()
        fresh.goto(link, timeout=TIMEOUT_MS)
        drawn(fresh, 3)
        figures["cached reload (new session, same URL)"] = time.perf_counter() - t
        fresh.close()

        figures["tab switch (Activations)"] = rerun_done(
            page, lambda: page.get_by_role("tab", name="Activations").click())
        drawn(page, 2)
        slider = page.locator('.st-key-view_epoch input[type="range"]')
        figures["view-only change (epoch slider)"] = rerun_done(page, lambda: (slider.focus(), slider.press("End")))
        figures["tab switch (Gradients)"] = rerun_done(page, lambda: page.get_by_role("tab", name="Gradients").click())
        seeds = page.locator('.st-key-n_seeds input[type="range"]')
        figures["new configuration (2 seeds: retrains 10 networks)"] = rerun_done(
            page, lambda: (seeds.focus(), seeds.press("ArrowRight")))
        figures["server memory after (MiB)"] = rss_mib(server.pid)
        page.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="fresh servers to measure (default 3)")
    args = parser.parse_args()

    runs = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            for _ in range(args.repeat):
                runs.append(measure_once(browser))
        finally:
            browser.close()
    print(f"bench_app: {args.repeat} fresh servers, median (min-max); seconds unless stated")
    for name in runs[0]:
        values = [run[name] for run in runs]
        print(f"  {name:<52} {statistics.median(values):7.2f}  ({min(values):.2f}-{max(values):.2f})")


if __name__ == "__main__":
    main()

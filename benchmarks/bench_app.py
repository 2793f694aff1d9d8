"""How fast the explorer feels: the real server, a real browser (Debian's Chromium through Playwright).

Prints, in seconds, for each of ``--repeat`` rounds of two fresh servers (median, min-max):

- server start: launching ``streamlit run app.py`` until ``/_stcore/health`` answers;
- cold page: a first visit the moment a fresh server answers, until every chart of the default page is
  drawn, and the milestones on the way (the sidebar, the first chart). The server's warm-up
  (``wil_app/warm.py``: importing scikit-learn and the chart stack, training the demo's 5 networks) runs
  meanwhile, on the same cores as the browser; the page then builds and draws the Training tab's charts;
- cold page after the warm-up: the second server, opened once its log says the default page's
  warm-up is over (a presenter starting the server before the talk), and the warm-up's own time in
  both cases. The reruns below are timed once the first server has also trained the prepared lessons
  (``wil_app/warm.py`` does so a few seconds after the default page's run), so they are not timed
  beside that one-off work;
- new-session reload: another visitor opens the same link (the result and the charts come from the
  server's caches; the browser still loads Streamlit's front end and draws every chart);
- first visit to a tab (Activations, Gradients): the script reruns and builds that tab's charts;
- view-only change: the "Epoch to inspect" slider to its end (builds two charts at a new epoch);
- **cached rerun**: a rerun of the script in the same session whose result and charts are all cached,
  so it trains and builds nothing: the epoch slider back to a value shown before, and a switch back to
  a tab seen before (Training). Timed from the key press or click until the script is idle again and
  the tab's charts are drawn;
- new configuration: one more seed per initializer (trains 10 networks);
- live run: a link far over the budget (the server trains the most epochs that fit, ~10 s of training),
  opened in the same browser: the time until the first live update of its charts (the loss curves and the
  verdicts so far, drawn while it trains) and until the run is over;
and the server's resident memory at the end.

``--server`` adds the server side alone, through ``AppTest`` (no browser): the script's time per run
(first run, cached rerun, each tab first and again) and, per chart, its spec and data in bytes and its
data rows.

``--pin`` puts the server on core 0 and the browser on core 1, as when the browser runs on the visitor's
own machine (by default they share both cores, and each slows the other).

    python benchmarks/bench_app.py [--repeat 3] [--server] [--pin] [--root OTHER_CHECKOUT]
    python benchmarks/bench_app.py --moves     # issue 17's moves: the page's whole work vs the library's
    python benchmarks/bench_app.py --moves-browser [--pin]   # the same moves in Chromium: first chart, whole page
    python benchmarks/bench_app.py --moves-widgets [--pin]   # six of them made with the sidebar's widgets
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import os
import pathlib
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
FINISHED = '[data-testid="stApp"][data-test-script-state="notRunning"]'
DRAWN = '[data-testid="stVegaLiteChart"] :is(svg, canvas)'
TIMEOUT_MS = 300_000
# Records, in page time (ms since navigation), when each milestone first shows.
MILESTONES = """
window.__marks = {};
const mark = name => { if (!(name in window.__marks)) window.__marks[name] = performance.now(); };
new MutationObserver(() => {
    if (document.querySelector('[data-testid="stSidebar"] [data-testid="stSelectbox"]')) mark('sidebar');
    if (document.querySelector('[data-testid="stVegaLiteChart"] :is(svg, canvas)')) mark('first chart');
}).observe(document, {subtree: true, childList: true});
"""
# A live update is on screen: the verdicts "so far" and a chart, while the script still runs.
LIVE_UPDATE = """() => document.querySelector('[data-testid=stApp]').getAttribute('data-test-script-state') === 'running'
    && document.querySelector('[data-testid=stVegaLiteChart] :is(svg, canvas)')
    && [...document.querySelectorAll('.wil-note')].some(note => note.textContent.startsWith('So far'))"""
TABS = ["Training", "Activations", "Gradients", "Dead neurons", "Decision boundary", "Weights"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, root: pathlib.Path = ROOT, cpus: set[int] | None = None):
    """``streamlit run app.py`` of ``root``; returns the process, the seconds until ``/_stcore/health``
    answers, and the file its output goes to (where the warm-up reports). ``cpus``: the cores it may use."""
    start = time.perf_counter()
    log = tempfile.NamedTemporaryFile("w+", prefix="bench_app_server_", suffix=".log", delete=False)
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=root, stdout=log, stderr=subprocess.STDOUT,
        preexec_fn=None if cpus is None else lambda: os.sched_setaffinity(0, cpus))
    log.close()  # the server writes through its own copy of the file descriptor
    while True:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                return process, time.perf_counter() - start, pathlib.Path(log.name)
        except OSError:
            if process.poll() is not None:
                raise SystemExit(f"the server exited: see {log.name}")
            time.sleep(0.05)


WARMED = re.compile(r"wil: warmed up in ([0-9.]+) s")
LESSONS_READY = re.compile(r"wil: the prepared lessons are ready too")


def wait_for_log(log: pathlib.Path, pattern: re.Pattern, wait: float) -> bool:
    """Whether ``pattern`` shows in the server's log within ``wait`` seconds."""
    deadline = time.perf_counter() + wait
    while not pattern.search(log.read_text()):
        if time.perf_counter() >= deadline:
            return False
        time.sleep(0.05)
    return True


def warm_up_seconds(log: pathlib.Path, wait: float = 0.0) -> float:
    """The warm-up's own time, from the server's log, waiting up to ``wait`` seconds for it (NaN: none, as
    for a checkout from before the warm-up)."""
    wait_for_log(log, WARMED, wait)
    match = WARMED.search(log.read_text())
    return float(match.group(1)) if match else float("nan")


def rss_mib(pid: int) -> float:
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def drawn(page, count: int) -> None:
    """Wait until the script is idle and ``count`` charts are painted."""
    page.wait_for_selector(FINISHED, timeout=TIMEOUT_MS)
    page.wait_for_function(f"document.querySelectorAll('{DRAWN}').length >= {count}", timeout=TIMEOUT_MS)


WATCH_RERUN = """() => {
    window.__ran = false;
    const app = document.querySelector('[data-testid="stApp"]');
    const chart = '[data-testid="stVegaLiteChart"]';
    new MutationObserver((records) => {
        if (app.getAttribute('data-test-script-state') === 'running') window.__ran = true;
        for (const record of records) {  // a chart drawn anew: a replayed rerun can be too quick to be seen running
            const node = record.target.nodeType === 1 ? record.target : record.target.parentElement;
            if (node && node.closest(chart)) window.__ran = true;
            for (const added of record.addedNodes) {
                if (added.nodeType === 1 && (added.matches(chart) || added.querySelector(chart))) window.__ran = true;
            }
        }
    }).observe(app, {attributes: true, childList: true, subtree: true});
}"""


def rerun_done(page, action, count: int = 1) -> float:
    """Time ``action`` until the rerun it starts has finished and ``count`` charts are painted again.

    The rerun is seen by an observer installed before the action: the script state going to "running", or
    a chart drawn anew (a rerun whose charts are replayed from the cache can be over before the state
    shows it), so a rerun that is over in a few milliseconds is not missed."""
    page.evaluate(WATCH_RERUN)
    start = time.perf_counter()
    action()
    page.wait_for_function(
        f"""window.__ran && document.querySelector('{FINISHED}')
            && document.querySelectorAll('{DRAWN}').length >= {count}""", timeout=TIMEOUT_MS)
    return time.perf_counter() - start


def open_page(browser, url: str, figures: dict, name: str) -> object:
    """A new visitor on ``url``: the time to every chart drawn, and the milestones on the way."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    context.add_init_script(MILESTONES)
    page = context.new_page()
    t = time.perf_counter()
    page.goto(url, timeout=TIMEOUT_MS)
    drawn(page, 3)
    figures[name] = time.perf_counter() - t
    marks = page.evaluate("window.__marks")
    for milestone in ("sidebar", "first chart"):
        figures[f"  {name.split(' (')[0]}: {milestone} shown"] = marks.get(milestone, float("nan")) / 1000
    return page


def measure_once(browser, root: pathlib.Path = ROOT, server_cpus: set[int] | None = None) -> dict[str, float]:
    port = free_port()
    server, start, log = start_server(port, root, server_cpus)
    url = f"http://127.0.0.1:{port}/"
    figures = {"server start": start}
    try:
        page = open_page(browser, url, figures, "cold page (every chart drawn)")
        fresh = open_page(browser, page.url, figures, "new-session reload (same link, cached)")
        fresh.context.close()
        wait_for_log(log, LESSONS_READY, 60)  # the reruns below are timed once the warm-up is over


        slider = page.locator('.st-key-view_epoch input[type="range"]')
        figures["first visit to a tab (Activations)"] = rerun_done(
            page, lambda: page.get_by_role("tab", name="Activations").click(), 2)
        figures["view-only change (epoch slider to the end)"] = rerun_done(
            page, lambda: (slider.focus(), slider.press("End")), 2)
        figures["cached rerun (epoch slider back)"] = rerun_done(page, lambda: (slider.focus(), slider.press("Home")), 2)
        figures["first visit to a tab (Gradients)"] = rerun_done(
            page, lambda: page.get_by_role("tab", name="Gradients").click(), 2)
        figures["cached rerun (back to the Training tab)"] = rerun_done(
            page, lambda: page.get_by_role("tab", name="Training").click(), 3)
        seeds = page.locator('.st-key-n_seeds input[type="range"]')
        figures["new configuration (2 seeds: retrains 10 networks)"] = rerun_done(
            page, lambda: (seeds.focus(), seeds.press("ArrowRight")), 3)
        if (root / "wil_app" / "story.py").exists():  # a checkout with live runs
            live = page.context.new_page()
            t = time.perf_counter()
            live.goto(f"{url}?n_samples=2000&epochs=2000&seed=77", timeout=TIMEOUT_MS)
            live.wait_for_function(LIVE_UPDATE, timeout=TIMEOUT_MS)
            figures["live run: first live chart update"] = time.perf_counter() - t
            drawn(live, 3)
            figures["live run: over (trained in full, charts drawn)"] = time.perf_counter() - t
            live.close()
        figures["server memory after (MiB)"] = rss_mib(server.pid)
        figures["server warm-up, its own time (log; during the cold page)"] = warm_up_seconds(log)
        page.context.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.unlink()
    # A presenter starts the server, then opens the page: the first visitor after the warm-up.
    port = free_port()
    server, _, log = start_server(port, root, server_cpus)
    try:
        figures["server warm-up, its own time (log; server alone)"] = warm_up_seconds(log, wait=60)
        open_page(browser, f"http://127.0.0.1:{port}/", figures, "cold page after the warm-up").context.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.unlink()
    return figures


def server_side(root: pathlib.Path = ROOT) -> None:
    """The script alone through ``AppTest``: time per run, and what each chart sends to the browser."""
    import pyarrow.ipc
    from streamlit.testing.v1 import AppTest

    sys.path.insert(0, str(root))  # the checkout's own wil
    page = root / "wil_app" / "page.py"  # the page each session runs (app.py itself, in older checkouts)
    at = AppTest.from_file(str(page if page.exists() else root / "app.py"), default_timeout=120)
    print("server side (AppTest, one process; a first run pays the imports and the training):")
    charts = []
    t = time.perf_counter()
    at.run()
    print(f"  first run (imports, training, the Training tab) {time.perf_counter() - t:6.3f} s")
    for tab in TABS:
        at.session_state["tab"] = tab
        times = []
        for _ in range(3):
            t = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - t)
        assert not at.exception, [e.value for e in at.exception]
        print(f"  script run, {tab + ' tab':<24} first {times[0]:6.3f} s, then {times[1]:.3f} s and {times[2]:.3f} s")
        for chart in at.get("vega_lite_chart"):
            spec = json.loads(chart.proto.spec)
            rows = sum(pyarrow.ipc.open_stream(io.BytesIO(d.data.data)).read_all().num_rows
                       for d in chart.proto.datasets)
            data = sum(len(d.data.data) for d in chart.proto.datasets)
            charts.append((tab, spec.get("title", {}).get("text", "?"), len(chart.proto.spec), data, rows))
    print("  per chart: spec bytes, data bytes (Arrow), data rows")
    for tab, title, spec, data, rows in charts:
        print(f"    {tab:<18} {title:<42} {spec:>8,} {data:>10,} {rows:>7,}")


# issue 17's moves from the opening page: the link's changes to the demo's configuration
MOVES = {"depth 30": {"depth": 30}, "depth 50": {"depth": 50}, "digits": {"dataset": "digits"},
         "tanh": {"activation": "tanh"}, "sigmoid": {"activation": "sigmoid"}, "12 initializers": "twelve",
         "10 seeds": {"n_seeds": 10}, "width 256": {"width": 256}, "width 512": {"width": 512}}


def moves(root: pathlib.Path = ROOT) -> None:
    """Each move: the server's whole work for it (``AppTest``: policy, training in the queue, verdicts,
    the Training tab's charts) beside the library alone training the configuration the page trained, in
    this process, one after the other; and whether the page trained what was asked."""
    import dataclasses

    from streamlit.testing.v1 import AppTest

    sys.path.insert(0, str(root))
    import wil
    from wil_app.lessons import DEMO
    from wil_app.policy import POLICY

    print("moves from the opening page (AppTest, one process): page s, library s, ratio, trained as asked")
    for name, change in MOVES.items():
        if change == "twelve":
            change = {"compare": tuple(list(wil.INITIALIZERS)[:12])}
        asked = dataclasses.replace(DEMO, **change)
        fitted, note = POLICY.fit(asked)
        at = AppTest.from_file(str(root / "wil_app" / "page.py"), default_timeout=600)
        for key, value in asked.to_query_params().items():
            at.query_params[key] = value
        t = time.perf_counter()
        at.run()
        page_s = time.perf_counter() - t
        problem = [e.value for e in at.exception]
        t = time.perf_counter()
        if fitted is not None:
            wil.compare(fitted, snapshots=POLICY.snapshots(fitted))
        library_s = time.perf_counter() - t
        same = "yes" if fitted == asked else f"no: {note}" if fitted is not None else f"refused: {note}"
        print(f"  {name:<16} {page_s:7.2f} {library_s:7.2f} {page_s / max(library_s, 1e-9):6.2f}x  {same}"
              + (f"  EXCEPTION {problem[0][:120]}" if problem else ""), flush=True)


PROGRESS_MARKS = """
window.__marks = {};
const mark = name => { if (!(name in window.__marks)) window.__marks[name] = performance.now(); };
new MutationObserver(() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (app && app.getAttribute('data-test-script-state') === 'running') mark('running');
    if (document.querySelector('[data-testid="stProgress"], .wil-verdict')) mark('progress');
    if (document.querySelector('[data-testid="stVegaLiteChart"] :is(svg, canvas)')) mark('first chart');
}).observe(document, {subtree: true, childList: true, attributes: true});
"""


@contextlib.contextmanager
def warm_server(pin: bool, root: pathlib.Path = ROOT):
    """A server of ``root`` whose warm-up (the demo and the lessons) is over, as a presenter starts it before
    the talk: yields its port and its cores (``pin``: the server on core 0, this process and Chromium on 1)."""
    server_cpus = {0} if pin else None
    if pin:
        os.sched_setaffinity(0, {1})
    port = free_port()
    server, _, log = start_server(port, root, server_cpus)
    try:
        wait_for_log(log, LESSONS_READY, 120)
        yield port, server_cpus
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.unlink()


def _setting(pin: bool) -> str:
    """Where the server and the browser ran, and the load average at the end."""
    with open("/proc/loadavg") as file:
        load = " ".join(file.read().split()[:3])
    where = "server on core 0, browser on core 1" if pin else "server and browser share both cores"
    return f"{where}; load average at the end {load}"


def _met(first: float, done: float, target: float) -> str:
    """Issue 17's two targets of a move: the first chart within 1 s, the whole page within ``target``."""
    if first <= 1 and done <= target:
        return "yes"
    return "no" + (" (first chart)" if first > 1 else "") + (" (whole page)" if done > target else "")


def moves_browser(pin: bool, root: pathlib.Path = ROOT) -> None:
    """Each move opened as a link in Chromium on one warmed-up server, one after the other: the seconds
    to the first sign of progress (a progress bar or verdicts), to the first chart (live or final) and to
    the whole page, beside the library training the same configuration alone on the server's cores
    (a fresh process each, after a warm-up run), and issue 17's targets: first chart within 1 s, the whole
    page within 1.5x the library's time + 1 s."""
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(root))
    import wil
    from wil_app.lessons import DEMO

    rows = []
    with warm_server(pin, root) as (port, server_cpus):
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            for name, change in MOVES.items():
                if change == "twelve":
                    change = {"compare": tuple(list(wil.INITIALIZERS)[:12])}
                config = dataclasses.replace(DEMO, **change)
                query = urllib.parse.urlencode(config.to_query_params())
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                context.add_init_script(PROGRESS_MARKS)
                page = context.new_page()
                start = time.perf_counter()
                page.goto(f"http://127.0.0.1:{port}/?{query}", timeout=TIMEOUT_MS)
                drawn(page, 3)
                done = time.perf_counter() - start
                marks = page.evaluate("window.__marks")
                context.close()
                library = library_seconds(config, root, server_cpus)
                # from the script's start: what a move on an open page sees (a widget's rerun starts at
                # once), without the front end's own load (~1.5 s here) that a link adds
                running = marks.get("running", float("nan")) / 1000
                rows.append((name, running, marks.get("progress", float("nan")) / 1000 - running,
                             marks.get("first chart", float("nan")) / 1000 - running, done - running, library))
            browser.close()
    print(f"moves in Chromium ({_setting(pin)}); seconds from the script's start "
          "(the link's front-end load before it in the second column)")
    print("| move | front end loaded | first progress | first chart | whole page | library | target 1.5 x library + 1 | met |")
    print("|---|---|---|---|---|---|---|---|")
    for name, running, progress, first, done, library in rows:
        target = 1.5 * library + 1
        met = _met(first, done, target)
        print(f"| {name} | {running:.2f} | {progress:.2f} | {first:.2f} | {done:.2f} | {library:.2f} | {target:.2f} "
              f"| {met} |")


def library_seconds(config, root: pathlib.Path, cpus: set[int] | None) -> float:
    """``wil.compare`` of ``config`` as the page trains it (its snapshots), alone in a fresh process."""
    code = ("import dataclasses, sys, time, wil; from wil_app.policy import POLICY; "
            f"c = wil.Config.from_query_params({config.to_query_params()!r}); "
            "wil.compare(dataclasses.replace(c, epochs=2, n_seeds=1)); t = time.perf_counter(); "
            "wil.compare(c, snapshots=POLICY.snapshots(c)); print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(root)},
                         preexec_fn=None if cpus is None else lambda: os.sched_setaffinity(0, cpus))
    return float(out.stdout.split()[-1])


# A move's milestones, in ms after the action: the first sign of progress (a progress bar), the first chart
# drawn anew (a live update, or the finished page's) and the script's end.
WATCH_MOVE = """() => {
    window.__move = {start: performance.now()};
    const app = document.querySelector('[data-testid="stApp"]');
    const mark = name => { if (!(name in window.__move)) window.__move[name] = performance.now() - window.__move.start; };
    new MutationObserver((records) => {
        if (app.getAttribute('data-test-script-state') === 'running') mark('running');
        if (document.querySelector('[data-testid="stProgress"]')) mark('progress');
        for (const record of records) {
            const node = record.target.nodeType === 1 ? record.target : record.target.parentElement;
            const added = [...record.addedNodes].some(n => n.nodeType === 1 && (n.matches('svg, canvas') || n.querySelector('svg, canvas')));
            if (node && node.closest('[data-testid="stVegaLiteChart"]') && added) mark('chart');
        }
        if ('running' in window.__move && app.getAttribute('data-test-script-state') === 'notRunning') mark('done');
    }).observe(app, {attributes: true, childList: true, subtree: true});
}"""


def _select(page, key: str, label: str):
    """Pick ``label`` in the sidebar's selectbox ``key``."""
    def act():
        box = page.locator(f".st-key-{key} [role=combobox]")
        box.click()
        box.fill(label)  # the list filtered to it, then chosen
        page.keyboard.press("Enter")
    return act


def _slider_end(page, key: str):
    """Move the sidebar slider ``key`` to its largest value (one key press: one rerun)."""
    def act():
        page.locator(f".st-key-{key} input[type=range]").focus()
        page.keyboard.press("End")
    return act


def moves_by_widget(pin: bool, root: pathlib.Path = ROOT) -> None:
    """The moves a person makes with the sidebar's widgets on the open opening page (no new session):
    each from the demo, the seconds from the action to the first progress bar, the first chart drawn anew
    and the end of the script's run, beside the library's time for the configuration. The moves a widget
    makes in one action: activation tanh / sigmoid, dataset digits, depth 50, width 512 and 10 seeds (each
    slider's largest value); depth 30, width 256 and 12 initializers take several actions, each a rerun."""
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(root))
    from wil_app.lessons import DEMO

    actions = {"tanh": (lambda page: _select(page, "activation", "Tanh"), {"activation": "tanh"}),
               "sigmoid": (lambda page: _select(page, "activation", "Sigmoid"), {"activation": "sigmoid"}),
               "digits": (lambda page: _select(page, "dataset", "Digits"), {"dataset": "digits"}),
               "depth 50": (lambda page: _slider_end(page, "depth"), {"depth": 50}),
               "width 512": (lambda page: _slider_end(page, "width"), {"width": 512}),
               "10 seeds": (lambda page: _slider_end(page, "n_seeds"), {"n_seeds": 10})}
    rows = []
    with warm_server(pin, root) as (port, server_cpus):
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            for name, (action, change) in actions.items():
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(f"http://127.0.0.1:{port}/", timeout=TIMEOUT_MS)
                drawn(page, 3)
                time.sleep(1.0)  # the width the browser reports, and its rerun
                page.wait_for_selector(FINISHED, timeout=TIMEOUT_MS)
                page.evaluate(WATCH_MOVE)
                action(page)()
                page.wait_for_function("() => 'done' in window.__move", timeout=TIMEOUT_MS)
                marks = page.evaluate("window.__move")
                config = dataclasses.replace(DEMO, **change)
                asked = page.url.split("?", 1)[1] if "?" in page.url else ""
                rows.append((name, marks.get("progress", float("nan")) / 1000, marks.get("chart", float("nan")) / 1000,
                             marks["done"] / 1000, library_seconds(config, root, server_cpus),
                             all(f"{key}={value}" in asked for key, value in config.to_query_params().items()
                                 if key in change)))
                page.close()
            browser.close()
    print(f"moves by widget on the open page ({_setting(pin)}); seconds from the action")
    print("| move | first progress | first chart | whole page | library | 1.5 x library + 1 | link as asked | met |")
    print("|---|---|---|---|---|---|---|---|")
    for name, progress, first, done, library, as_asked in rows:
        target = 1.5 * library + 1
        met = _met(first, done, target)
        print(f"| {name} | {progress:.2f} | {first:.2f} | {done:.2f} | {library:.2f} | {target:.2f} | "
              f"{'yes' if as_asked else 'no'} | {met} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="fresh servers to measure (default 3)")
    parser.add_argument("--server", action="store_true", help="also time the script alone through AppTest")
    parser.add_argument("--pin", action="store_true",
                        help="the server on core 0 and the browser on core 1, as if the browser were on the "
                             "visitor's own machine (default: both share every core)")
    parser.add_argument("--root", type=pathlib.Path, default=ROOT,
                        help="the checkout whose app.py to serve (default this one), e.g. an older commit's")
    parser.add_argument("--moves", action="store_true",
                        help="only the moves from the opening page (AppTest beside the library; no browser)")
    parser.add_argument("--moves-browser", action="store_true",
                        help="the moves opened as links in Chromium: first progress, first chart, whole page")
    parser.add_argument("--moves-widgets", action="store_true",
                        help="the moves made with the sidebar's widgets on the open page, in Chromium")
    args = parser.parse_args()
    if args.moves:
        moves(args.root)
        return
    if args.moves_browser:
        moves_browser(args.pin, args.root)
        return
    if args.moves_widgets:
        moves_by_widget(args.pin, args.root)
        return
    from playwright.sync_api import sync_playwright

    with open("/proc/loadavg") as file:
        load = file.read().split()[:3]
    runs = []
    server_cpus = None
    if args.pin:
        server_cpus = {0}
        os.sched_setaffinity(0, {1})  # this process, Playwright's driver and Chromium: core 1
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            for _ in range(args.repeat):
                runs.append(measure_once(browser, args.root, server_cpus))
        finally:
            browser.close()
    print(f"bench_app: {args.repeat} rounds of two fresh servers, median (min-max); seconds unless stated; "
          f"load average {' '.join(load)}" + ("; server on core 0, browser on core 1" if args.pin else ""))
    for name in runs[0]:
        values = [run[name] for run in runs]
        print(f"  {name:<56} {statistics.median(values):7.2f}  ({min(values):.2f}-{max(values):.2f})")
    if args.server:
        server_side(args.root)


if __name__ == "__main__":
    main()

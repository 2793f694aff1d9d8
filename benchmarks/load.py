"""A workshop room opening wil at once: N Chromium sessions against the real Streamlit server.

Usage::

    python benchmarks/load.py                      # N = 1, 10, 20, a fresh server for each
    python benchmarks/load.py --sessions 20 --app path/to/app.py
    python benchmarks/load.py --sessions 10 --largest   # the own-link half asks for the largest runs
    python benchmarks/load.py --sessions 20 --largest --all-own   # everyone asks for a different one
    python benchmarks/load.py --sessions 30 --verbose   # per session: first progress / first chart / done
    python benchmarks/load.py --sessions 30 --moves --pin --verbose   # issue 17's room: a move each, browsers on core 1
    python benchmarks/load.py --sessions 30 --moves --clients protocol --verbose   # the same room, no browsers

For each N it starts ``streamlit run app.py`` (as Community Cloud does), waits for its health check,
then opens N pages at the same moment in one headless Debian Chromium (a browser context, so a cookie
jar and a websocket, per visitor). Half the visitors open the shared link (the default page), half a
link with a configuration of their own (another seed, dataset and activation; with ``--largest``, the
largest runs the limits allow, from ``bench_limits.py``), so the cache serves the first half and the
engine trains for the second. A session completes when the script has finished and every chart on the
page has drawn (an SVG or canvas inside each visible ``stVegaLiteChart``); it errors on an exception
element, an error alert, a crashed page or a timeout. Reported per N: sessions completed and errored,
the worst time to a first sign of progress (a queue place, an epoch, verdicts or a chart) and to a first
chart, the median and worst time from opening the page to its last chart, the server's peak memory (the most
of the summed VmRSS of its process tree, sampled every 50 ms, and its own VmHWM from the kernel),
tracebacks in its log, and the CPU seconds the server and the browser used: here they share two cores,
while on Community Cloud the browsers run on the visitors' machines.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# the visitors with a link of their own: each a configuration nobody else asks for (same cost as the demo)
DATASETS = ("moons", "circles", "xor", "spirals", "blobs")
ACTIVATIONS = ("relu", "tanh")

ALL_CHARTS_DRAWN = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    const charts = [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')]
        .filter(chart => chart.offsetParent !== null);  // the open tab's charts
    return charts.length > 0 && charts.every(chart => chart.querySelector('svg, canvas'));
}"""
FAILURE = ('[data-testid="stException"], [data-testid="stAlertContentError"]')
# the session sees its own progress: its place in the queue or its epoch (a progress bar), its verdicts so
# far, or a chart (a cache hit draws the charts at once)
PROGRESS = ('[data-testid="stProgress"], [data-testid="wil-verdicts"], '
            '[data-testid="stVegaLiteChart"] :is(svg, canvas)')
CHART = '[data-testid="stVegaLiteChart"] :is(svg, canvas)'


def distinct_query(index: int) -> str:
    """A valid configuration of its own for visitor ``index`` (different seed, data and activation)."""
    return (f"?seed={1000 + index}&dataset={DATASETS[index % len(DATASETS)]}"
            f"&activation={ACTIVATIONS[index // 2 % len(ACTIVATIONS)]}")


def largest_query(index: int) -> str:
    """One of the largest runs the limits allow (``bench_limits.cases()``) as a link, with a seed of its
    own so that no two visitors share a cache entry."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_limits import cases

    corners = list(cases().values())
    config = dataclasses.replace(corners[index // 2 % len(corners)], seed=2000 + index)
    return "?" + urllib.parse.urlencode(config.to_query_params())


def move_query(index: int) -> str:
    """Issue 17's moves from the opening page (``bench_engine.MOVES`` but the demo itself), in turn: the
    demo's configuration with one control moved, as a link."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.path.insert(0, str(ROOT))
    from bench_engine import MOVES
    from wil_app.lessons import DEMO

    names = [name for name in MOVES if name != "demo"]
    config = dataclasses.replace(DEMO, **MOVES[names[index % len(names)]])
    return "?" + urllib.parse.urlencode(config.to_query_params())


def training_seconds(queries: list[str], cpus: set[int] | None) -> float:
    """The library's own time to train each distinct configuration of ``queries`` (each alone in a fresh
    process on ``cpus``, as the page trains it): what a room's last session can be done after at best."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.path.insert(0, str(ROOT))
    import wil
    from bench_app import library_seconds

    return sum(library_seconds(wil.Config.from_query_params(dict(urllib.parse.parse_qsl(query.lstrip("/?")))),
                               ROOT, cpus) for query in sorted(set(queries)))


# ---------------------------------------------------------------- the server

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``streamlit run`` in a subprocess, with its memory sampled in a thread."""

    def __init__(self, app: Path, port: int, cpus: set[int] | None = None):
        self.app, self.port = app, port
        self.log = tempfile.NamedTemporaryFile("w+", prefix="wil-load-", suffix=".log", delete=False)
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", app.name, "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=app.parent, stdout=self.log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            preexec_fn=None if cpus is None else lambda: os.sched_setaffinity(0, cpus))
        self.peak_rss_mb = 0.0
        self.cpu: dict[tuple[str, int], float] = {}
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: {Path(self.log.name).read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/_stcore/health", timeout=2) as answer:
                    if answer.read().strip() == b"ok":
                        self._sampler.start()
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the server did not answer its health check")

    def wait_warm(self, timeout: float = 300.0) -> float:
        """Wait until the server has trained its prepared lessons into the cache (``wil_app/warm.py`` prints
        it), as a presenter's server has long before the room opens the link; the seconds waited."""
        began = time.monotonic()
        while time.monotonic() - began < timeout:
            if "the prepared lessons are ready" in Path(self.log.name).read_text():
                return time.monotonic() - began
            time.sleep(0.2)
        raise RuntimeError("the server did not finish warming up its lessons")

    def _sample(self) -> None:
        """Every 50 ms: the server tree's summed RSS (keep the peak) and every process's CPU seconds."""
        while not self._stop.is_set():
            children = _children()
            server = _tree(self.process.pid, children)
            total = sum(_status_kb(pid, "VmRSS") for pid in server)
            self.peak_rss_mb = max(self.peak_rss_mb, total / 1024)
            for pid in server:
                self.cpu[("server", pid)] = _cpu_seconds(pid) or self.cpu.get(("server", pid), 0.0)
            for pid in _tree(os.getpid(), children):  # this script's Playwright driver and Chromium
                if pid != os.getpid() and pid not in server:
                    self.cpu[("browser", pid)] = _cpu_seconds(pid) or self.cpu.get(("browser", pid), 0.0)
            self._stop.wait(0.05)

    def cpu_seconds(self, who: str) -> float:
        return sum(seconds for (kind, _), seconds in self.cpu.items() if kind == who)

    def high_water_mb(self) -> float:
        return _status_kb(self.process.pid, "VmHWM") / 1024

    def log_size(self) -> int:
        return len(Path(self.log.name).read_text())

    def run_seconds(self, since: int = 0) -> list[float]:
        """The seconds each run took in the server (from its log, ``wil_app/runs.py``), after ``since``
        characters of it (the warm-up's runs before)."""
        import re

        return [float(m) for m in re.findall(r"trained in ([0-9.]+) s after", Path(self.log.name).read_text()[since:])]

    def tracebacks(self) -> int:
        return Path(self.log.name).read_text().count("Traceback")

    def stop(self) -> None:
        self._stop.set()
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def _children() -> dict[int, list[int]]:
    """parent pid -> child pids, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return children


def _tree(root: int, children: dict[int, list[int]]) -> list[int]:
    """``root`` and its descendants."""
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _status_kb(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


# ---------------------------------------------------------------- the visitors

@dataclass
class Visit:
    url: str
    seconds: float | None = None  # to the last chart of the page drawn (done)
    progress_s: float | None = None  # to its first sign of progress (``PROGRESS``)
    chart_s: float | None = None  # to its first chart drawn
    error: str = ""
    charts: int = 0
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # the info lines (e.g. "This server trains ... of ...")


async def visit(browser, url: str, start: asyncio.Event, timeout: float) -> Visit:
    """One visitor: a fresh context, open the link when told, wait for the last chart."""
    result = Visit(url)
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = await context.new_page()
        crashed = []
        page.on("crash", lambda *_: crashed.append(True))
        await start.wait()
        began = time.perf_counter()
        await page.goto(url, wait_until="domcontentloaded", timeout=timeout * 1000)
        await page.wait_for_selector(PROGRESS, timeout=timeout * 1000)
        result.progress_s = time.perf_counter() - began
        await page.wait_for_selector(CHART, timeout=timeout * 1000)
        result.chart_s = time.perf_counter() - began
        remaining = max(1.0, timeout - (time.perf_counter() - began))
        await page.wait_for_function(ALL_CHARTS_DRAWN, timeout=remaining * 1000, polling=100)
        result.seconds = time.perf_counter() - began
        result.charts = await page.locator('[data-testid="stVegaLiteChart"]').count()
        failures = await page.locator(FAILURE).all_inner_texts()
        if failures or crashed:
            result.error = ("page crashed" if crashed else failures[0])[:200]
        result.warnings = await page.locator('[data-testid="stAlertContentWarning"]').all_inner_texts()
        result.notes = await page.locator('[data-testid="stAlertContentInfo"]').all_inner_texts()
    except Exception as error:  # a timeout or a dead page: this visitor did not get their charts
        result.error = f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"
    finally:
        await context.close()
    return result


def room_urls(base_url: str, n_sessions: int, largest: bool, all_own: bool, moves: bool) -> list[str]:
    """The link each visitor opens: a move each (``moves``), or half the default page and half their own."""
    if moves:
        return [base_url + "/" + move_query(i) for i in range(n_sessions)]
    own = largest_query if largest else distinct_query
    return [base_url + ("/" if i % 2 == 0 and not all_own else "/" + own(i)) for i in range(n_sessions)]


async def room(urls: list[str], timeout: float, chromium: str) -> list[Visit]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
        try:
            start = asyncio.Event()
            tasks = [asyncio.create_task(visit(browser, url, start, timeout)) for url in urls]
            await asyncio.sleep(0.5)  # every context is open: now they all click the link at once
            start.set()
            return await asyncio.gather(*tasks)
        finally:
            await browser.close()


# ---------------------------------------------------------------- report

def run(app: Path, n_sessions: int, timeout: float, chromium: str, largest: bool = False,
        all_own: bool = False, moves: bool = False, server_cpus: set[int] | None = None,
        clients: str = "chromium", after_warm_up: bool = False) -> dict:
    server = Server(app, free_port(), server_cpus)
    try:
        server.wait_ready()
        if after_warm_up:
            server.wait_warm()
        urls = room_urls(f"http://127.0.0.1:{server.port}", n_sessions, largest, all_own, moves)
        opened = server.log_size()
        if clients == "protocol":  # Streamlit's websocket protocol, no browser (benchmarks/room_client.py)
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            import room_client

            visits = asyncio.run(room_client.room(urls, timeout))
        else:
            visits = asyncio.run(room(urls, timeout, chromium))
        time.sleep(0.3)
        figures = {"peak_rss_mb": server.peak_rss_mb, "vm_hwm_mb": server.high_water_mb(),
                   "tracebacks": server.tracebacks(), "server_cpu_s": server.cpu_seconds("server"),
                   "run_seconds": server.run_seconds(opened),
                   "browser_cpu_s": server.cpu_seconds("browser")}
    finally:
        server.stop()
    times = [v.seconds for v in visits if v.seconds is not None and not v.error]
    progress = [v.progress_s for v in visits if v.progress_s is not None]
    first_chart = [v.chart_s for v in visits if v.chart_s is not None]
    return {"n": n_sessions, "completed": len(times), "errors": sum(bool(v.error) for v in visits),
            "worst_progress_s": max(progress) if progress else float("nan"),
            "worst_first_chart_s": max(first_chart) if first_chart else float("nan"),
            "median_s": statistics.median(times) if times else float("nan"),
            "worst_s": max(times) if times else float("nan"), "visits": visits, **figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 10, 20], help="values of N")
    parser.add_argument("--app", type=Path, default=ROOT / "app.py", help="the Streamlit script")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds a visitor waits at most")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--largest", action="store_true",
                        help="the visitors with links of their own ask for the largest runs the limits allow")
    parser.add_argument("--all-own", action="store_true", help="every visitor has a link of their own")
    parser.add_argument("--verbose", action="store_true", help="print every visit")
    parser.add_argument("--moves", action="store_true",
                        help="every visitor makes one of issue 17's moves from the opening page, in turn")
    parser.add_argument("--clients", choices=["chromium", "protocol"], default="chromium",
                        help="chromium: a headless browser context per visitor; protocol: a websocket speaking "
                             "Streamlit's protocol per visitor, no browser (benchmarks/room_client.py): the "
                             "server measured alone, as when the browsers run on the visitors' machines")
    parser.add_argument("--after-warm-up", action="store_true",
                        help="open the room once the server has warmed its prepared lessons (it trains them "
                             "after its start, ~40 s here), as a presenter's server has before the workshop")
    parser.add_argument("--pin", action="store_true",
                        help="the server on core 0, the browsers on core 1: as when the visitors' browsers run "
                             "on their own machines (the server then has one core)")
    args = parser.parse_args()
    app = args.app.resolve()
    server_cpus = {0} if args.pin else None
    if args.pin:
        os.sched_setaffinity(0, {1})  # this process, Playwright's driver and Chromium
    own = "the largest runs the limits allow" if args.largest else "links of their own"
    share = "every session" if args.all_own else "half the sessions on the default link, half"
    what = "every session makes one of issue 17's nine moves, in turn" if args.moves else f"{share} on {own}"
    where = "; server on core 0, browsers on core 1" if args.pin else ""
    where += "; protocol clients (no browser)" if args.clients == "protocol" else ""
    where += "; the room opens after the server's warm-up" if args.after_warm_up else ""
    print(f"app {app}; {os.cpu_count()} cores{where}; {what}; a fresh server for each N\n")
    header = (f"{'N':>3} {'completed':>9} {'errors':>6} {'progress s':>10} {'1st chart s':>11} "
              f"{'median s':>8} {'worst s':>7} "
              f"{'server peak RSS MB':>18} {'VmHWM MB':>8} {'tracebacks':>10} {'CPU s server':>12} "
              f"{'CPU s browser':>13}")
    print(header)
    print("-" * len(header))
    failed = False
    for n in args.sessions:
        report = run(app, n, args.timeout, args.chromium, args.largest, args.all_own, args.moves, server_cpus,
                     args.clients, args.after_warm_up)
        print(f"{n:>3} {report['completed']:>9} {report['errors']:>6} {report['worst_progress_s']:>10.1f} "
              f"{report['worst_first_chart_s']:>11.1f} {report['median_s']:>8.1f} "
              f"{report['worst_s']:>7.1f} {report['peak_rss_mb']:>18.0f} {report['vm_hwm_mb']:>8.0f} "
              f"{report['tracebacks']:>10} {report['server_cpu_s']:>12.0f} {report['browser_cpu_s']:>13.0f}",
              flush=True)
        for visit_ in report["visits"]:
            if args.verbose or visit_.error:
                took = " / ".join("-" if t is None else f"{t:.1f}" for t in
                                  (visit_.progress_s, visit_.chart_s, visit_.seconds))
                sent = f" {visit_.messages:>5} msgs" if hasattr(visit_, "messages") else ""
                print(f"      {took:>17} s {visit_.charts:>2} charts{sent} {visit_.url.split('/', 3)[-1] or '/'}"
                      f"{'  ERROR ' + visit_.error if visit_.error else ''}")
        if args.clients == "protocol":  # the time left each session was told, against the truth
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            import room_client

            errors = [room_client.time_left_errors(v) for v in report["visits"]]
            for name, values in (("queue wait", [e[0] for e in errors if e[0] is not None]),
                                 ("time left while training", [e[1] for e in errors if e[1] is not None])):
                if values:
                    within = sum(abs(v) <= 0.3 for v in values)
                    print(f"      {name}: told vs true {min(values):+.0%} to {max(values):+.0%}, median "
                          f"{statistics.median(values):+.0%}; within 30% for {within} of {len(values)} sessions")
        if args.moves:  # the bound: every distinct run trained alone, one after the other, on the same cores
            bound = training_seconds([visit_.url.split("/", 3)[-1] for visit_ in report["visits"]], server_cpus)
            print(f"      the runs' own training, summed: {bound:.1f} s (+10%: {1.1 * bound:.1f} s); the last "
                  f"session done after {report['worst_s']:.1f} s; the server's runs took "
                  f"{sum(report['run_seconds']):.1f} s ({len(report['run_seconds'])} runs, from its log)")
        failed |= report["errors"] > 0 or report["completed"] < n or report["tracebacks"] > 0
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

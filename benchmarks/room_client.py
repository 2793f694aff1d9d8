"""Visitors without a browser: each one Streamlit's own websocket protocol, as the browser speaks it.

``benchmarks/load.py --clients protocol`` uses these to measure a room of N sessions on the server alone:
a headless Chromium per visitor spends seconds of CPU loading Streamlit's front end, so 30 of them on this
2-core machine measure the browsers, not the server (docs/PERFORMANCE.md). A protocol visitor connects to
``/_stcore/stream``, asks for a script run with its link's query string (the ``rerun_script`` message a
browser sends on load), and reads the server's messages (``ForwardMsg``): the elements of each delta, the
script's status, its end. It draws nothing, so "first chart" here is the moment the server sent the first
chart's spec, not the moment a browser drew it (in Chromium, drawing a chart took 0.01-0.4 s more).

What it records per visitor, from the moment it sent its request:

- first progress: the first element that shows this session's own progress (a progress bar: its place in
  the queue or its epoch; the verdicts; or a chart);
- first chart: the first Vega-Lite chart;
- done: a script run that finished successfully with no other run starting within ``QUIET`` seconds;
- errors: an exception element or an error alert (its text), a websocket that closed early, a timeout.
"""

from __future__ import annotations

import asyncio
import time
import urllib.parse
from dataclasses import dataclass, field

QUIET = 1.5  # seconds without a new script run after one finished: the page is done


@dataclass
class ProtocolVisit:
    url: str
    seconds: float | None = None  # to the end of the last script run (done)
    progress_s: float | None = None  # to the first element showing its own progress
    chart_s: float | None = None  # to the first chart's spec
    error: str = ""
    charts: int = 0  # charts in the last script run
    runs: int = 0  # script runs the session saw (the page's own reruns included)
    messages: int = 0
    # the time left the page told, against the truth: (when told, the seconds it said) of the first queue
    # place with a wait and of the first "about N s left" of its training, and when its run started training
    queued_said: tuple[float, float] | None = None
    left_said: tuple[float, float] | None = None
    training_s: float | None = None
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # the info lines


def _element_kind(element) -> str:
    """The kind of one element the server sent, as this benchmark counts them."""
    kind = element.WhichOneof("type")
    if kind in ("vega_lite_chart", "progress", "exception"):
        return kind
    if kind == "alert":
        return {1: "error", 2: "warning", 3: "info"}.get(element.alert.format, "alert")
    if kind in ("markdown", "html") and "wil-verdicts" in (element.markdown.body if kind == "markdown"
                                                           else element.html.body):
        return "verdicts"
    return kind or ""


def _read(visit: ProtocolVisit, message, began: float, state: dict) -> None:
    """Record what one ``ForwardMsg`` says about the visit."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    now = time.perf_counter() - began
    visit.messages += 1
    kind = message.WhichOneof("type")
    if kind == "session_status_changed" and message.session_status_changed.script_is_running:
        state["running"], state["charts"] = True, 0
        visit.runs += 1
    elif kind == "script_finished":
        state["running"] = False
        if message.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
            state["finished_at"] = now
            visit.charts = state["charts"]
    elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
        element = message.delta.new_element
        what = _element_kind(element)
        if what == "progress":
            _read_time_left(visit, element.progress.text, now)
        if what == "vega_lite_chart":
            state["charts"] += 1
            visit.chart_s = visit.chart_s if visit.chart_s is not None else now
        if what in ("vega_lite_chart", "progress", "verdicts") and visit.progress_s is None:
            visit.progress_s = now
        if what == "exception" and not visit.error:
            visit.error = f"exception: {element.exception.message[:200]}"
        elif what == "error" and not visit.error:
            visit.error = element.alert.body[:200]
        elif what == "warning":
            visit.warnings.append(element.alert.body[:200])
        elif what == "info":
            visit.notes.append(element.alert.body[:200])


def _read_time_left(visit: ProtocolVisit, text: str, now: float) -> None:
    """The page's progress line: "Queued ...: 3rd in line, about 40 s before it starts (...)" or "Training 5
    networks: epoch 3 of 150 · about 12 s left"."""
    import re

    if text.startswith("Training") and visit.training_s is None:
        visit.training_s = now
    wait = re.search(r"about (\d+) s before it starts", text)
    if wait and visit.queued_said is None:
        visit.queued_said = (now, float(wait.group(1)))
    left = re.search(r"about (\d+) s left", text)
    if left and visit.left_said is None:
        visit.left_said = (now, float(left.group(1)))


def time_left_errors(visit: ProtocolVisit) -> tuple[float | None, float | None]:
    """The relative errors of the first queue wait and the first time left the page told: (said - true) /
    true, where true is the time from then to the run's start (the first "Training" line) or to done."""
    errors = []
    for said, until in ((visit.queued_said, visit.training_s), (visit.left_said, visit.seconds)):
        if said is None or until is None or until - said[0] < 3.0:  # under 3 s the text says "next" anyway
            errors.append(None)
        else:
            errors.append((said[1] - (until - said[0])) / (until - said[0]))
    return errors[0], errors[1]


async def visit(url: str, start: asyncio.Event, timeout: float) -> ProtocolVisit:
    """One visitor: connect, ask for the page of ``url`` when told, read until the page is done."""
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    result = ProtocolVisit(url)
    parts = urllib.parse.urlsplit(url)
    state = {"running": False, "charts": 0, "finished_at": None}
    try:
        async with websockets.connect(f"ws://{parts.netloc}/_stcore/stream", subprotocols=["streamlit"],
                                      origin=f"http://{parts.netloc}", max_size=None, open_timeout=timeout) as socket:
            await start.wait()
            began = time.perf_counter()
            request = BackMsg()
            request.rerun_script.query_string = parts.query
            request.rerun_script.page_script_hash = ""
            await socket.send(request.SerializeToString())
            while True:
                elapsed = time.perf_counter() - began
                if elapsed > timeout:
                    raise TimeoutError(f"not done within {timeout:g} s")
                finished = state["finished_at"]
                wait = timeout - elapsed if finished is None or state["running"] else max(
                    0.0, finished + QUIET - elapsed)
                try:
                    data = await asyncio.wait_for(socket.recv(), timeout=wait)
                except asyncio.TimeoutError:
                    if finished is not None and not state["running"]:
                        result.seconds = finished
                        break
                    raise
                _read(result, ForwardMsg.FromString(data), began, state)
    except Exception as error:  # a timeout or a closed socket: this visitor did not get its page
        if not result.error:
            result.error = f"{type(error).__name__}: {str(error).splitlines()[0][:200] if str(error) else ''}"
    return result


async def room(urls: list[str], timeout: float) -> list[ProtocolVisit]:
    """Every visitor connected first, then all ask for their page at the same moment."""
    start = asyncio.Event()
    tasks = [asyncio.create_task(visit(url, start, timeout)) for url in urls]
    await asyncio.sleep(1.0)  # every websocket is open: now they all load the link at once
    start.set()
    return list(await asyncio.gather(*tasks))

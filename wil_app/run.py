"""One run: all networks of a configuration trained at once (cached per configuration), live while it
trains, with a Stop button; and the lines above the tabs that describe it.

While a run trains, the page shows a progress line (the epoch running and the time left), a Stop
button, the verdicts so far and the loss curves growing (``wil.compare(live=...)``). Everything drawn
while training is drawn from the caller's context, outside the cached function, so a cache hit replays
none of it.

Stop: clicking the button (or any widget) asks Streamlit for a rerun, which interrupts the script at its
next Streamlit call, here one of the looks at the run it follows (``watch``). The run itself trains on a
thread of the server's (``wil_app/runs.py``: one queue for the server's cores, a run per configuration
followed by every session that asks for it), so an interruption only stops following it; the session's
next run takes it up again at once. If the rerun is the Stop button's, it stops the run (when no other
session follows it; else it keeps the latest epochs) and the page shows the stopped result, marked as
such, until the visitor asks for the whole run again. A stopped run is never put in the cache of full runs.
"""

from __future__ import annotations

import contextvars
import copy
import threading
import time

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

import wil

from . import runs
from .memory import cap_malloc_arenas, release_free_memory
from .policy import POLICY

STOP_KEY = "stop_run"
KEPT = "kept_runs"  # session key: config -> a stopped run's Result, at most KEPT_RUNS of them
KEPT_RUNS = 3
RESUME = "resume_run"  # session key: the configuration whose stopped run the visitor asked to train to the end
# session id -> (config, SharedRun) of the run a rerun interrupted. Not in session state: Streamlit starts
# the rerun at once on a new thread and disconnects the old one's session state, so the old run hands over here.
_INTERRUPTED: dict[str, tuple] = {}
_INTERRUPTED_LOCK = threading.Lock()
STOP_WAIT = 60.0  # seconds a Stop's rerun waits for the interrupted run to hand over what it trained
# s between two looks at a run still queued (its place and wait change by the second): 29 sessions of a room
# waiting on the one training run looked 5 times a second each, in the interpreter the training runs in
QUEUED_WATCH_EVERY = 1.0
cap_malloc_arenas()  # at import, before the visitors' threads allocate (see wil_app/memory.py)


RUN_SLOTS = runs.SLOTS


def run_slot() -> runs.Gate:
    """One of the server's run slots, in queue order, as a context: for any training the app does besides
    a page's run (the phase diagram's sweeps), so that ``POLICY.concurrent_runs`` is the limit."""
    return RUN_SLOTS


def run_within_policy(config: wil.Config, progress=None, live=None, policy=None) -> wil.Result:
    """``config``'s run in the server's queue (``progress(0.0)`` first, so a caller can show that its run
    is queued; then ``progress(fraction)`` and ``live(partial)`` as it trains), then hand the memory freed
    meanwhile back to the system. Raises ``ValueError`` if ``config`` is outside the policy (``policy``,
    default ``POLICY``: a prepared page may widen a cap of the explorer's widgets, never a budget)."""
    (policy or POLICY).check(config)
    if progress is not None:
        progress(0.0)
    seen = [-1]

    def watch(run: runs.SharedRun) -> None:
        if progress is not None and run.started is not None:
            progress(run.fraction)
        if live is not None and run.partial is not None and run.version != seen[0]:
            seen[0] = run.version
            live(run.partial)

    try:
        return follow(runs.start_or_follow(config, session=_session()), watch)
    finally:
        release_free_memory()


class Interrupted(Exception):
    """A session's wait on a run ended by a rerun request: carries the run and the request to raise again."""

    def __init__(self, run: runs.SharedRun, control: ScriptControlException):
        super().__init__("interrupted")
        self.run, self.control = run, control


def follow(run: runs.SharedRun, watch=None) -> wil.Result:
    """Wait for ``run`` (already followed), calling ``watch(run)`` every ``POLICY.watch_every`` s; its result, or
    ``Interrupted`` if ``watch`` met a rerun request (the run goes on for any other follower)."""
    try:  # watched at once (the page shows the run from the start), then every POLICY.watch_every s
        while watch is not None and not run.done.is_set():
            version = run.version  # before the watch: an update that comes while it draws wakes the next wait
            try:
                watch(run)
            except ScriptControlException as control:  # also the first watch: the follower always leaves
                raise Interrupted(run, control) from None
            if run.started is None:  # queued: its line changes by the second; woken at once when it starts
                run.begun.wait(QUEUED_WATCH_EVERY)
            else:  # its progress every watch_every s, a live view (or the end) at once
                run.wait_for_news(version, POLICY.watch_every)
        run.done.wait()
    finally:
        run.leave(_session())
    if run.error is not None:
        raise run.error
    return run.result


@st.cache_data(max_entries=6, show_spinner=False)
def run_comparison(config: wil.Config, _watch=None) -> wil.Result:
    """All of ``config.compare`` x ``config.n_seeds`` networks, trained at once in the server's queue
    (``runs``); cached on the config, each caller served a copy. A stopped run is never cached."""
    POLICY.check(config)
    while True:
        result = follow(runs.start_or_follow(config, session=_session()), _watch)
        if result.stopped_epoch is None:  # else another session stopped it while this one waited: again
            return result


def request_stop() -> None:
    """Callback of the Stop button (it runs first in the rerun the click starts)."""
    st.session_state["stop_requested"] = True
    st.session_state.pop(RESUME, None)


def kept_result(config: wil.Config) -> wil.Result | None:
    """The stopped run of ``config`` this session keeps, if any. A rerun started by the Stop button stops
    the run it interrupted (or, if other sessions follow it, keeps its latest epochs); any other
    interruption leaves the run to train on for whoever follows it."""
    stop = st.session_state.pop("stop_requested", False)
    if stop:  # the old thread hands over at its next look at the run (POLICY.watch_every)
        deadline = time.monotonic() + STOP_WAIT
        while _session() not in _INTERRUPTED and time.monotonic() < deadline:
            time.sleep(0.05)
    with _INTERRUPTED_LOCK:
        interrupted = _INTERRUPTED.pop(_session(), None)
    if stop and interrupted is not None:
        run = interrupted[1]
        run.wait_left(_session(), STOP_WAIT)  # the script run the click interrupted may still be leaving
        if run.followers <= 0:
            run.stop.set()
            run.done.wait(STOP_WAIT)
        stopped = run.result if run.result is not None else run.partial
        if stopped is not None:
            kept = st.session_state.setdefault(KEPT, {})
            kept[interrupted[0]] = stopped
            while len(kept) > KEPT_RUNS:
                kept.pop(next(iter(kept)))
    return st.session_state.get(KEPT, {}).get(config)


def _session() -> str:
    """The id of the visitor's session (the same on the thread of an interrupted run and of its rerun)."""
    ctx = get_script_run_ctx(suppress_warning=True)
    return ctx.session_id if ctx is not None else ""


def continue_kept(config: wil.Config) -> None:
    """Callback of "Train to the end": continue the stopped run of ``config`` from its last epoch."""
    st.session_state[RESUME] = config


def page_result(config: wil.Config, on_live=None, line=None) -> wil.Result:
    """What the page shows for ``config``: the session's stopped run of it (kept until the visitor asks
    for the rest), that run continued to the end (``wil.resume``: the same numbers as one whole run), or
    the whole run (``train_live``)."""
    kept = kept_result(config)
    if kept is None:
        return train_live(config, on_live, line)
    if kept.stopped_epoch is None or st.session_state.get(RESUME) != config:
        return kept
    if kept.resumable:
        whole = train_live(config, on_live, line, resume_from=kept)
    else:  # nothing to continue (the latest epochs of a run others still follow): train it whole
        st.session_state[KEPT].pop(config, None)
        whole = train_live(config, on_live, line)
    st.session_state[KEPT][config] = whole  # no longer stopped: the note and the button go
    st.session_state.pop(RESUME, None)
    return whole


def train_live(config: wil.Config, on_live=None, line=None, resume_from: wil.Result | None = None) -> wil.Result:
    """The result of ``config``: from the cache at once; else following its run (one already training for
    another session, or a new one), with a progress line (its place in the queue, then its epoch, and the
    time left) and a Stop button in ``line`` (an ``st.empty``), and ``on_live(partial_result)`` drawing
    the charts so far. With ``resume_from`` (a stopped Result of ``config``), that run continued."""
    line = st.empty() if line is None else line
    # the watch runs in the caller's context, outside the cached function: a cache hit draws nothing
    outside = contextvars.copy_context()
    n_networks = len(config.labels) * config.n_seeds
    slots, seen, next_draw = {}, [-1], [0.0]

    def watch(run: runs.SharedRun) -> None:
        outside.run(_progress_line, line, slots, run, n_networks)
        if on_live is not None and run.partial is not None and run.version != seen[0] \
                and time.perf_counter() >= next_draw[0]:
            seen[0] = run.version
            start = time.perf_counter()
            outside.run(on_live, run.partial)
            # the charts again only after (1 - share) / share times what drawing them took, times the
            # sessions that follow the run (each draws its own): all the drawing shares the interpreter with
            # the training, whose time it would otherwise double (issue 17; a room of 30, three per run)
            spent = time.perf_counter() - start
            next_draw[0] = start + spent * (1.0 + max(1, run.followers) * (1.0 - POLICY.live_share)
                                            / POLICY.live_share)

    try:
        if resume_from is not None:  # never cached: it is kept in the session, as the stopped run was
            return follow(runs.start_or_follow(config, resume_from, _session()), watch)
        return _cached_or_followed(config, watch)
    except Interrupted as interrupted:
        with _INTERRUPTED_LOCK:
            _INTERRUPTED[_session()] = (config, interrupted.run)
        raise interrupted.control from None
    finally:
        line.empty()


# configurations whose ``run_comparison`` call has begun but whose run is not yet in flight: another session
# asking for one then waits a moment for the run instead of entering the cached function, where it would
# wait on the cache's lock for the whole run with a blank page (seen in a room of 30: 78 s)
_ENTERING: set[wil.Config] = set()
_ENTERING_LOCK = threading.Lock()


def _cached_or_followed(config: wil.Config, watch) -> wil.Result:
    """The cached result of ``config``, or its run followed with ``watch``: another session's run of it
    (followed, never waited on behind the cache's lock), or a new one."""
    while True:
        shared = runs.in_flight(config)
        if shared is not None:  # another session's run of the same configuration: follow it
            shared.follow(_session())
            return copy.deepcopy(follow(shared, watch))
        with _ENTERING_LOCK:
            entering = config in _ENTERING
            _ENTERING.add(config)
        if entering:  # another session is starting this run (or reading it from the cache): a moment
            time.sleep(0.02)
            continue
        entered = [True]

        def watch_entered(run: runs.SharedRun) -> None:
            if entered[0]:  # the run is in flight now: others follow it from here
                entered[0] = False
                with _ENTERING_LOCK:
                    _ENTERING.discard(config)
            watch(run)

        try:
            return run_comparison(config, _watch=watch_entered)
        finally:
            if entered[0]:
                with _ENTERING_LOCK:
                    _ENTERING.discard(config)


def _progress_line(line, slots: dict, run: runs.SharedRun, n_networks: int) -> None:
    """The progress bar (its place in the queue, or the epoch running) and the time left, and the Stop
    button (drawn once: ``slots`` keeps the bar's place)."""
    config = run.config
    position = run.position()
    if position:
        wait = run.seconds_to_start()
        when = "" if wait is None else f", about {wait:.0f} s before it starts" if wait >= 1.5 else ", next"
        text = (f"Queued for the server's cores: {_ordinal(position)} in line{when} "
                f"({n_networks} networks to train).")
        fraction = 0.0
    else:
        fraction = run.fraction
        epoch = min(config.epochs, int(round(fraction * config.epochs)))
        left = run.seconds_left()
        eta = (" · timing it" if left is None and fraction < 1 else "" if left is None
               else f" · about {left:.0f} s left" if left >= 1.5 else " · almost done")
        text = f"Training {n_networks} networks: epoch {epoch} of {config.epochs}{eta}"
    if "bar" not in slots:
        left_column, right_column = line.container().columns([5, 1], vertical_alignment="center")
        slots["bar"] = left_column.empty()
        right_column.button("■ Stop", key=STOP_KEY, on_click=request_stop, width="stretch",
                            help="End the run after this epoch and keep what it trained.")
    shown = (round(min(max(fraction, 0.0), 1.0), 3), text)
    if slots.get("shown") != shown:  # a session polls 5 times a second: send only what changed
        slots["shown"] = shown
        slots["bar"].progress(shown[0], text=text)


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def summary(config: wil.Config) -> str:
    """One line of markdown: the data, the network and the training of ``config``."""
    dataset = wil.DATASETS[config.dataset]
    samples = (f"{config.n_samples} samples, noise {config.noise:g}" if dataset.uses_samples
               else f"{dataset.size} samples")
    batch = "full batch" if config.batch_size is None else f"batches of {config.batch_size}"
    seeds = "1 seed" if config.n_seeds == 1 else f"{config.n_seeds} seeds per initializer"
    return (f"**{dataset.label}** ({samples}) · **{config.depth} × {config.width} "
            f"{wil.ACTIVATIONS[config.activation].label}** · {wil.OPTIMIZERS[config.optimizer].label}, "
            f"learning rate {config.learning_rate:g}, {config.epochs} epochs, {batch} · {seeds}")

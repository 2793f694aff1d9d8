"""One run: all networks of a configuration trained at once (cached per configuration), live while it
trains, with a Stop button; and the lines above the tabs that describe it.

While a run trains, the page shows a progress line (the epoch running and the time left), a Stop
button, the verdicts so far and the loss curves growing (``wil.compare(live=...)``). Everything drawn
while training is drawn from the caller's context, outside the cached function, so a cache hit replays
none of it.

Stop: clicking the button (or any widget) asks Streamlit for a rerun, which interrupts the script at its
next Streamlit call, here one of the progress or live updates (Streamlit starts the new run at once on
another thread; a Stop's run waits for the old one to hand over what it trained). That call turns the interruption into
``wil.StopTraining``: the run ends after the epoch in progress and keeps what it trained. The partial
result is not put in the cache of full runs; it is handed over to the session's next run (``kept``), and
the interruption is raised again so that Streamlit reruns. If the rerun is the Stop button's, the page shows the stopped
result, marked as such, until the visitor asks for the whole run again.

One run at a time: every training the app does (a page's run, the phase diagram's sweeps) holds one of the
server's ``POLICY.concurrent_runs`` slots (``run_slot``), and hands the memory it freed back afterwards.
"""

from __future__ import annotations

import contextvars
import threading
import time

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

import wil

from .memory import cap_malloc_arenas, release_free_memory
from .policy import POLICY

STOP_KEY = "stop_run"
KEPT = "kept_runs"  # session key: config -> a stopped run's Result, at most KEPT_RUNS of them
KEPT_RUNS = 3
# session id -> (config, Result) of the run a rerun interrupted. Not in session state: Streamlit starts the
# rerun at once on a new thread and disconnects the old one's session state, so the old run hands over here.
_INTERRUPTED: dict[str, tuple] = {}
_INTERRUPTED_LOCK = threading.Lock()
STOP_WAIT = 60.0  # seconds a Stop's rerun waits for the interrupted run to hand over what it trained
RUN_SLOTS = threading.BoundedSemaphore(POLICY.concurrent_runs)  # held while a run trains
cap_malloc_arenas()  # at import, before the visitors' threads allocate (see wil_app/memory.py)


def run_slot() -> threading.BoundedSemaphore:
    """One of the server's run slots, as a context: held by ``run_within_policy`` while it trains, and by
    any other training the app does (the phase diagram's sweeps), so that ``POLICY.concurrent_runs`` is
    the limit."""
    return RUN_SLOTS


def run_within_policy(config: wil.Config, progress=None, live=None) -> wil.Result:
    """``wil.compare(config)`` once a run slot is free (``progress(0.0)`` first, so a caller can show that
    its run is queued), recording ``POLICY.snapshots(config)`` epochs for the play control and calling
    ``live`` with partial results every ``POLICY.live_every`` seconds, then hand the memory freed
    meanwhile back to the system. Raises ``ValueError`` if ``config`` is outside the policy."""
    POLICY.check(config)
    if progress is not None:
        progress(0.0)
    with RUN_SLOTS:
        try:
            return wil.compare(config, progress=progress, live=live, live_every=POLICY.live_every,
                               snapshots=POLICY.snapshots(config))
        finally:
            release_free_memory()


class Interrupted(Exception):
    """A run stopped by a rerun request: carries what it trained and the request to raise again."""

    def __init__(self, result: wil.Result, control: ScriptControlException):
        super().__init__("interrupted")
        self.result, self.control = result, control


@st.cache_data(max_entries=6, show_spinner=False)
def run_comparison(config: wil.Config, _progress=None, _live=None) -> wil.Result:
    """All of ``config.compare`` x ``config.n_seeds`` networks, trained at once; cached on the config. A
    run interrupted by the visitor raises ``Interrupted`` (never cached: it is not the whole run)."""
    pending = []

    def guarded(callback):
        if callback is None:
            return None

        def call(value):
            try:
                callback(value)
            except ScriptControlException as control:  # a rerun or stop request: end after this epoch
                pending.append(control)
                raise wil.StopTraining from None
        return call

    result = run_within_policy(config, progress=guarded(_progress), live=guarded(_live))
    if pending:
        raise Interrupted(result, pending[0])
    return result


def request_stop() -> None:
    """Callback of the Stop button (it runs first in the rerun the click starts)."""
    st.session_state["stop_requested"] = True


def kept_result(config: wil.Config) -> wil.Result | None:
    """The stopped run of ``config`` this session keeps, if any. A rerun started by the Stop button keeps
    the run it interrupted; any other interruption drops it (that run trains again)."""
    stop = st.session_state.pop("stop_requested", False)
    if stop:
        # Streamlit starts this rerun at once, on a new thread, while the interrupted run is still finishing
        # its epoch on the old one: wait for what it trained (a second or so; longer only for a huge epoch)
        deadline = time.monotonic() + STOP_WAIT
        while _session() not in _INTERRUPTED and time.monotonic() < deadline:
            time.sleep(0.05)
    with _INTERRUPTED_LOCK:
        interrupted = _INTERRUPTED.pop(_session(), None)
    if stop and interrupted is not None:
        kept = st.session_state.setdefault(KEPT, {})
        kept[interrupted[0]] = interrupted[1]
        while len(kept) > KEPT_RUNS:
            kept.pop(next(iter(kept)))
    return st.session_state.get(KEPT, {}).get(config)


def _session() -> str:
    """The id of the visitor's session (the same on the thread of an interrupted run and of its rerun)."""
    ctx = get_script_run_ctx(suppress_warning=True)
    return ctx.session_id if ctx is not None else ""


def forget_kept(config: wil.Config) -> None:
    """Callback of "Train to the end": drop the stopped run of ``config``, so that it trains whole."""
    st.session_state.get(KEPT, {}).pop(config, None)


def train_live(config: wil.Config, on_live=None, line=None) -> wil.Result:
    """``run_comparison`` with a progress line and a Stop button (in ``line``, an ``st.empty``; default
    here) and ``on_live(partial_result)`` (drawing the charts so far), all of which appear only when it
    actually trains."""
    line = st.empty() if line is None else line
    # updates come from inside the cached function; running them in the caller's context keeps them out
    # of the cache's element replay, so a cache hit draws nothing
    outside = contextvars.copy_context()
    n_networks = len(config.labels) * config.n_seeds
    start, shown, slots = time.perf_counter(), [-1.0], {}

    def report(fraction: float) -> None:
        now = time.perf_counter()
        if fraction < 1 and now - shown[0] < 0.2:  # a few updates a second are plenty
            return
        shown[0] = now
        outside.run(_progress_line, line, slots, config, n_networks, fraction, now - start)

    def live(partial: wil.Result) -> None:
        if on_live is not None:
            outside.run(on_live, partial)

    try:
        return run_comparison(config, _progress=report, _live=live)
    except Interrupted as interrupted:
        with _INTERRUPTED_LOCK:
            _INTERRUPTED[_session()] = (config, interrupted.result)
        raise interrupted.control from None
    finally:
        line.empty()


def _progress_line(line, slots: dict, config: wil.Config, n_networks: int, fraction: float, elapsed: float) -> None:
    """The progress bar, the epoch running and the time left, and the Stop button (drawn once: ``slots``
    keeps the bar's place)."""
    epoch = min(config.epochs, int(round(fraction * config.epochs)))
    if fraction <= 0:
        text = f"Training {n_networks} networks: waiting for the server's previous run…"
    else:
        left = elapsed / fraction * (1 - fraction) if fraction > 0.02 else None
        eta = "" if left is None else f" · about {left:.0f} s left" if left >= 1.5 else " · almost done"
        text = f"Training {n_networks} networks: epoch {epoch} of {config.epochs}{eta}"
    if "bar" not in slots:
        left_column, right_column = line.container().columns([5, 1], vertical_alignment="center")
        slots["bar"] = left_column.empty()
        right_column.button("■ Stop", key=STOP_KEY, on_click=request_stop, width="stretch",
                            help="End the run after this epoch and keep what it trained.")
    slots["bar"].progress(min(max(fraction, 0.0), 1.0), text=text)


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

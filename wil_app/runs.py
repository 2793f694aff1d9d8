"""How the server shares its cores between the sessions' runs (no Streamlit here; ``run.py`` draws them).

- **One queue, first come first served.** Every training (a page's run, the phase diagram's sweeps) holds
  one of ``POLICY.concurrent_runs`` slots (``SLOTS``), handed out in the order asked for, so the last of
  a room of thirty is done after the sum of the runs' training times: NumPy already uses both cores for
  one run, and two runs at once would each take twice as long, with nobody's results sooner.
- **A run trains in a process of its own** (``wil_app/worker.py``, one per slot, started at the warm-up and
  reused; ``POLICY.trainer_process``), not on a thread of the server: there it shared Python's interpreter
  lock with every session's script, and a room of 30 made runs 1.2-5x slower than the library alone.
- **A run belongs to the server, not to a session.** A thread of the server follows it (``SharedRun``),
  and any session asking for the same configuration while it trains follows it (its queue position, then
  its live curves) instead of waiting on a lock or training it twice. A run nobody follows any more (its
  visitors moved on) is stopped after ``ORPHAN_GRACE`` seconds.
- **Time left from measured paces.** A training run's time left is its own pace (elapsed per fraction
  done), told once it has trained ``MEASURED_FROM`` of its epochs. A queued run's wait is the time left of
  the runs ahead of it, those not yet measured estimated from the server's pace: each finished run
  updates the ratio of its measured time to ``POLICY.seconds`` (the policy's estimate; ``PACE``, kept apart
  for runs the engine splits over several cores, ``wil.cores_plan``).
"""

from __future__ import annotations

import collections
import os
import threading
import time

import wil

from .memory import release_free_memory
from .policy import POLICY
from .worker import Trainer

ORPHAN_GRACE = 3.0  # s: a run with no session following it for this long stops (a rerun re-follows at once)
_LOCK = threading.Condition()
_INFLIGHT: dict[wil.Config, "SharedRun"] = {}
_QUEUE: list["SharedRun"] = []  # waiting for a slot, in the order asked
_RUNNING: list["SharedRun"] = []


# a training run tells its time left from its own pace, measured from this share of its epochs over as much
# again and this many seconds (the server's estimate, ``PACE``, told a room of 30 0.4-2x the truth)
MEASURED_FROM, MEASURED_AFTER = 0.03, 0.5
# a run split over the cores takes this share of one core's time: the engine's measured median gain,
# 1.54x (wil/engine/threads.py), until this server has measured its own
SPLIT_TIME = 1 / 1.54


class Pace:
    """Measured seconds per second of ``POLICY.seconds`` (the policy's estimate, for one core), from the runs
    this server finished: an average weighted to the latest, kept apart for runs split over several cores
    (``wil.cores_plan``: in a room of 30 they took ~0.6x the estimate, the others 1-3x it); None before the
    first."""

    def __init__(self):
        self.seconds_per_estimated: dict[int, float] = {}  # cores a run is split over -> its measured ratio

    def record(self, config: wil.Config, seconds: float) -> None:
        rate = seconds / max(POLICY.seconds(config), 1e-3)
        cores = _cores(config)
        before = self.seconds_per_estimated.get(cores)
        self.seconds_per_estimated[cores] = rate if before is None else 0.5 * before + 0.5 * rate

    def expected(self, config: wil.Config) -> float | None:
        cores = _cores(config)
        rate = self.seconds_per_estimated.get(cores)
        if rate is None and self.seconds_per_estimated:  # from runs on another number of cores, scaled
            known, known_rate = next(iter(self.seconds_per_estimated.items()))
            rate = known_rate * (SPLIT_TIME if cores > 1 else 1.0) / (SPLIT_TIME if known > 1 else 1.0)
        return None if rate is None else rate * POLICY.seconds(config)


def _cores(config: wil.Config) -> int:
    """The cores ``wil.compare`` trains ``config`` on: its groups of networks, or a single network's threads."""
    plan = wil.cores_plan(config)
    return max(plan.groups, plan.threads)


PACE = Pace()


class SharedRun:
    """One configuration's training, followed by every session that asks for it while it trains."""

    def __init__(self, config: wil.Config, snapshots: int | None, resume_from: wil.Result | None = None):
        self.config, self.snapshots = config, snapshots
        self.resume_from = resume_from  # a stopped Result of ``config`` to continue (``wil.resume``), or None
        self.fraction, self.partial, self.version = 0.0, None, 0  # version: bumped at each live update
        self.result: wil.Result | None = None
        self.error: BaseException | None = None
        self.done, self.stop = threading.Event(), threading.Event()
        self.begun = threading.Event()  # set when it gets a slot (or ends): wakes its queued followers
        self.news = threading.Condition()  # notified at each live update and at the end: wakes its followers
        self.followers, self.alone_since = 0, None
        self.sessions: collections.Counter[str] = collections.Counter()  # followers per session id
        self.queued = time.perf_counter()  # when it was asked for
        self.started: float | None = None  # when it got a slot
        # when its training began (its first progress report; a trainer process may first start, ~1.5 s)
        self.training: float | None = None
        self.pace_from: tuple[float, float] | None = None  # (when, fraction) its pace is measured from
        self.done_before = 0.0  # the fraction of the epochs trained before it started (a resumed run's)
        self.expected = PACE.expected(config)

    # ---- what a follower reads
    def wait_for_news(self, version: int, timeout: float) -> None:
        """Until a live update newer than ``version`` has come or the run has ended, at most ``timeout`` s:
        a follower draws a live view the moment it arrives instead of at its next look."""
        with self.news:
            self.news.wait_for(lambda: self.version != version or self.done.is_set(), timeout)

    def position(self) -> int:
        """0 while training; else its place in the queue (1: next)."""
        with _LOCK:
            return _QUEUE.index(self) + 1 if self in _QUEUE else 0

    def seconds_left(self, guess: bool = False) -> float | None:
        """Time left of this run, from its own pace since it passed ``MEASURED_FROM`` of its epochs (its first
        epochs, with the start's recording, are slower), once measured over ``MEASURED_FROM`` more and
        ``MEASURED_AFTER`` seconds; before that None, or with ``guess`` the server's pace's estimate
        (``PACE``; None before the server has finished a run)."""
        now = time.perf_counter()
        if self.pace_from is not None:
            since, at = self.pace_from
            if self.fraction - at >= MEASURED_FROM and now - since >= MEASURED_AFTER:
                return (now - since) / (self.fraction - at) * (1 - self.fraction)
        if not guess or self.expected is None:
            return None
        before = self.done_before  # a resumed run: the estimate is of the epochs it trains itself
        fraction = max(0.0, (self.fraction - before) / (1 - before)) if before < 1 else 1.0
        elapsed = now - self.training if self.training is not None else 0.0
        expected = self.expected * (1 - before)
        return max(expected - elapsed, expected * (1 - fraction))

    def seconds_to_start(self) -> float | None:
        """The time left of the runs ahead (training, then queued before this one), or None if unknown."""
        with _LOCK:
            ahead = [*_RUNNING, *_QUEUE[:_QUEUE.index(self)]] if self in _QUEUE else []
        total = 0.0
        for run in ahead:
            left = run.seconds_left(guess=True) if run.started is not None else run.expected
            if left is None:
                return None
            total += left
        return total / max(1, POLICY.concurrent_runs)

    # ---- following
    def follow(self, session: str = "") -> None:
        with _LOCK:
            self.followers += 1
            self.sessions[session] += 1
            self.alone_since = None

    def leave(self, session: str = "") -> None:
        with _LOCK:
            self.followers -= 1
            self.sessions[session] -= 1
            if self.sessions[session] <= 0:
                del self.sessions[session]
            if self.followers <= 0:
                self.alone_since = time.perf_counter()
            _LOCK.notify_all()

    def wait_left(self, session: str, timeout: float) -> bool:
        """Until no script run of ``session`` follows this run any more (a rerun may start before the run
        it replaces has left: Streamlit's fast reruns); False after ``timeout`` seconds."""
        with _LOCK:
            return _LOCK.wait_for(lambda: session not in self.sessions, timeout)


def start_or_follow(config: wil.Config, resume_from: wil.Result | None = None, session: str = "") -> SharedRun:
    """The run of ``config`` in flight (followed by ``session``), or a new one queued for a slot and followed:
    from the start, or continuing ``resume_from`` (a stopped Result of ``config``: the same numbers either
    way)."""
    with _LOCK:
        run = _INFLIGHT.get(config)
        if run is None or run.stop.is_set():
            run = SharedRun(config, POLICY.snapshots(config), resume_from)
            _INFLIGHT[config] = run
            _QUEUE.append(run)
            threading.Thread(target=_train, args=(run,), name=f"wil-run-{id(run)}", daemon=True).start()
        run.follow(session)
    return run


def in_flight(config: wil.Config) -> SharedRun | None:
    with _LOCK:
        run = _INFLIGHT.get(config)
        return None if run is None or run.stop.is_set() else run


def _train(run: SharedRun) -> None:
    """The run's thread: wait for a slot in turn, train, hand the result to its followers."""
    try:
        with _LOCK:
            _LOCK.wait_for(lambda: _QUEUE[0] is run and len(_RUNNING) < POLICY.concurrent_runs or run.stop.is_set())
            _QUEUE.remove(run)
            if run.stop.is_set():
                raise wil.StopTraining
            _RUNNING.append(run)
        run.started = time.perf_counter()
        run.begun.set()
        if run.resume_from is not None:  # continues where it stopped, with its optimizer's state
            run.fraction = run.done_before = run.resume_from.stopped_epoch / run.config.epochs
        if POLICY.trainer_process:
            run.result = _train_in_a_trainer(run)
        elif run.resume_from is not None:
            run.result = wil.resume(run.resume_from, progress=lambda f: _progress(run, f),
                                    live=lambda p: _live(run, p), live_every=POLICY.live_every,
                                    live_share=POLICY.live_share)
        else:
            run.result = wil.compare(run.config, progress=lambda f: _progress(run, f),
                                     live=lambda p: _live(run, p), live_every=POLICY.live_every,
                                     live_share=POLICY.live_share,
                                     snapshots=run.snapshots)
        seconds = time.perf_counter() - (run.training or run.started)  # the pace of training, not of a start
        if run.result.stopped_epoch is None and run.resume_from is None:
            PACE.record(run.config, seconds)
        _log(run, seconds)
    except BaseException as error:  # handed to the followers, who raise it in their sessions
        run.error = error
    finally:
        with _LOCK:
            if run in _RUNNING:
                _RUNNING.remove(run)
            if run in _QUEUE:
                _QUEUE.remove(run)
            if _INFLIGHT.get(run.config) is run:
                del _INFLIGHT[run.config]
            _LOCK.notify_all()
        run.done.set()
        run.begun.set()
        with run.news:
            run.news.notify_all()
        release_free_memory()


def yield_to_training() -> None:
    """Make the calling thread (a session's script) ``POLICY.drawing_nice`` nicer than the process's main
    thread, so that on a busy server the trainers' threads get the cores first (a room drawing 30 pages
    slowed the runs training beside it). Linux gives each thread its own nice value; elsewhere, or if the
    system refuses, nothing changes."""
    if POLICY.drawing_nice <= 0 or not hasattr(os, "setpriority"):
        return
    try:
        thread = threading.get_native_id()
        target = min(19, os.getpriority(os.PRIO_PROCESS, os.getpid()) + int(POLICY.drawing_nice))
        if os.getpriority(os.PRIO_PROCESS, thread) < target:
            os.setpriority(os.PRIO_PROCESS, thread, target)
    except OSError:
        pass


def _log(run: SharedRun, seconds: float) -> None:
    """One line in the server's log per run: what it trained, how long it took and how long it queued (an
    operator's record of the room; ``benchmarks/load.py`` sums it)."""
    config = run.config
    print(f"  wil: run of {len(config.labels) * config.n_seeds} networks ({config.dataset}, {config.activation}, "
          f"depth {config.depth}, width {config.width}, {config.epochs} epochs) trained in {seconds:.2f} s after "
          f"{run.started - run.queued:.2f} s in the queue; {len(_QUEUE)} queued; expected "
          f"{'-' if run.expected is None else f'{run.expected:.2f} s'}", flush=True)


def _should_stop(run: SharedRun) -> bool:
    """Whether ``run`` must stop: asked to, or nobody has followed it for ``ORPHAN_GRACE`` seconds."""
    alone = run.alone_since
    if run.stop.is_set() or (alone is not None and time.perf_counter() - alone > ORPHAN_GRACE):
        run.stop.set()
        return True
    return False


def _check(run: SharedRun) -> None:
    """Stop a run that must stop (``_should_stop``), from the training's own callbacks."""
    if _should_stop(run):
        raise wil.StopTraining


def _progress(run: SharedRun, fraction: float) -> None:
    _progressed(run, fraction)
    _check(run)


def _progressed(run: SharedRun, fraction: float) -> None:
    now = time.perf_counter()
    if run.training is None:
        run.training = now
    run.fraction = float(fraction)
    if run.pace_from is None and run.fraction - run.done_before >= MEASURED_FROM:
        run.pace_from = (now, run.fraction)


def _live(run: SharedRun, partial: wil.Result) -> None:
    with run.news:
        run.partial, run.version = partial, run.version + 1
        run.news.notify_all()
    _check(run)


# the trainer processes (wil_app/worker.py), one per run slot, started at the first run (or the warm-up),
# and those training a run now
_TRAINERS: list[Trainer] = []
_BUSY: set[Trainer] = set()


def start_trainers() -> None:
    """Start the slots' trainer processes now (the warm-up does, so a visitor's first run does not wait for
    one to import the library); nothing when the policy trains in the server's process."""
    if POLICY.trainer_process:
        for trainer in _trainers(POLICY.concurrent_runs):
            trainer.start()


def _trainers(count: int) -> list[Trainer]:
    with _LOCK:
        while len(_TRAINERS) < count:
            _TRAINERS.append(Trainer(f"wil-trainer-{len(_TRAINERS)}"))
        return _TRAINERS[:count]


def _train_in_a_trainer(run: SharedRun) -> wil.Result:
    """``run`` trained in a trainer process (the first free one; a run holds a slot, so there is one)."""
    with _LOCK:
        trainers = _trainers(POLICY.concurrent_runs)
        trainer = next(t for t in trainers if t not in _BUSY)
        _BUSY.add(trainer)
    try:
        def progress(fraction: float) -> None:
            _progressed(run, fraction)

        def live(partial: wil.Result) -> None:
            run.partial, run.version = partial, run.version + 1

        return trainer.train(run.config, snapshots=run.snapshots, resume_from=run.resume_from, progress=progress,
                             live=live, live_every=POLICY.live_every, live_share=POLICY.live_share,
                             should_stop=lambda: _should_stop(run))
    finally:
        with _LOCK:
            _BUSY.discard(trainer)


class _Ticket:
    """A place in the queue for a training that is not a page's run (its time left is unknown)."""
    started = expected = None

    def seconds_left(self) -> None:
        return None


class Gate:
    """The server's run slots for trainings that are not a page's run (the phase diagram's sweeps): taken
    in queue order with the page's runs, as a context or by ``acquire``/``release``."""

    def __init__(self):
        self._held: list[_Ticket] = []

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        ticket = _Ticket()
        with _LOCK:
            _QUEUE.append(ticket)
            ready = _LOCK.wait_for(lambda: _QUEUE[0] is ticket and len(_RUNNING) < POLICY.concurrent_runs,
                                   timeout if blocking else 0)
            _QUEUE.remove(ticket)
            if ready:
                _RUNNING.append(ticket)
                self._held.append(ticket)
            _LOCK.notify_all()
        return bool(ready)

    def release(self) -> None:
        with _LOCK:
            _RUNNING.remove(self._held.pop())
            _LOCK.notify_all()
        release_free_memory()

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()
        return False


SLOTS = Gate()

"""The server's runs trained in a process of their own, so that they never wait for the interpreter lock.

A Streamlit server runs every visitor's script on a thread of one process. A run training on a thread of
that process shares Python's interpreter lock with them: in a room of 30 (issue 17), while the sessions
drew their pages, the runs took 1.2-5x their library time (``benchmarks/load.py --clients protocol``;
py-spy --gil showed the scripts holding the lock two thirds of the time). Here each run slot has a process
(``Trainer``), started once and reused: the run trains there at the library's own pace, on its own lock,
and sends back its progress, its live views and its result through a pipe. The server's threads only
unpickle them.

The messages, all pickled by ``multiprocessing.connection``:

- server -> trainer: ``("train", job_id, payload)``, the payload the pickled ``(config, snapshots,
  resume_from, datasets, live_every, live_share)`` (``datasets``: the uploaded datasets ``config`` needs,
  which live in the server's registry only; pickled apart, so that one the trainer cannot read is that
  job's error), and
  ``("stop", job_id)``, which stops that job at its next epoch as ``wil.StopTraining`` would;
- trainer -> server: ``("progress", job_id, fraction)``, ``("live", job_id, result)``, then one of
  ``("done", job_id, result)`` or ``("error", job_id, exception)``.

A stopped result carries its networks' state, so it continues in the trainer as it would in the server
(``wil.resume``: the same numbers, tested). If the process dies (killed for its memory), the run raises
``TrainerDied`` and the next run starts a new process.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import os
import pickle
import queue
import socket
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Callable

import wil

ROOT = Path(__file__).resolve().parents[1]  # the folder of app.py and wil_app (and of wil, when not installed)
POLL = 0.1  # s between two looks at the stop condition while no message comes
START_TIMEOUT = 120.0  # s a new process may take to import the library


class TrainerDied(MemoryError):
    """The training process ended without a result (killed, most likely for its memory): a MemoryError, so
    that the pages report it as they report a run the machine cannot hold."""


class Trainer:
    """A process that trains one run at a time for the server (started at its first run, then reused)."""

    def __init__(self, name: str = "wil-trainer"):
        self.name = name
        self._lock = threading.Lock()
        self._process = None
        self._connection = None
        self._jobs = itertools.count()

    def start(self) -> None:
        """Start the process now if it is not running (else at the first run)."""
        with self._lock:
            self._ensure()

    def _ensure(self) -> None:
        if self._process is not None and self._process.poll() is None:
            return
        # a fresh interpreter running this module, joined by a socket pair: never a fork of a threaded
        # server, and never multiprocessing's spawn, which would run the script Streamlit has made __main__
        ours, theirs = socket.socketpair()
        with theirs:
            path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
            self._process = _spawn([sys.executable, "-m", "wil_app.worker", str(theirs.fileno())],
                                   pass_fds=[theirs.fileno()], cwd=ROOT, env={**os.environ, "PYTHONPATH": path})
        self._connection = Connection(ours.detach())

    def train(self, config: wil.Config, *, snapshots: int | None = None, resume_from: wil.Result | None = None,
              progress: Callable[[float], None] | None = None, live: Callable[[wil.Result], None] | None = None,
              live_every: float = 0.5, live_share: float | None = None,
              should_stop: Callable[[], bool] = lambda: False) -> wil.Result:
        """``wil.compare(config, ...)`` (or ``wil.resume(resume_from, ...)``) in the process: ``progress``
        and ``live`` are called here as its messages arrive, and ``should_stop()`` is asked between them;
        once true, the run stops at its next epoch and its stopped result is returned, as in the library."""
        datasets = {config.dataset: wil.DATASETS[config.dataset]} if config.dataset.startswith(wil.USER_PREFIX) \
            else {}
        with self._lock:
            self._ensure()
            job = next(self._jobs)
            connection, process = self._connection, self._process
            finished = False
            try:
                # pickled apart, so that a job the trainer cannot read is an error of that job, not the trainer's end
                connection.send(("train", job, pickle.dumps((config, snapshots, resume_from, datasets, live_every,
                                                             live_share), protocol=pickle.HIGHEST_PROTOCOL)))
                stopping = False
                while True:
                    if not stopping and should_stop():
                        connection.send(("stop", job))
                        stopping = True
                    if not connection.poll(POLL):
                        if process.poll() is not None:
                            raise TrainerDied(_died(process))
                        continue
                    kind, number, value = connection.recv()
                    if number != job:
                        continue
                    if kind == "progress" and progress is not None:
                        progress(value)
                    elif kind == "live" and live is not None:
                        live(value)
                    elif kind in ("done", "error"):
                        finished = True
                        break
            except (EOFError, OSError):  # the pipe broke: the process is gone
                _wait(process)
                raise TrainerDied(_died(process)) from None
            finally:
                if not finished:  # the job may still train (a callback raised here): never read it later
                    self._discard()
        if kind == "error":  # the run's own exception (raised outside the pipe's handling: an OSError stays one)
            raise value
        return value

    def _discard(self) -> None:
        if self._process is not None:
            self._process.kill()
            _wait(self._process)
        if self._connection is not None:
            self._connection.close()
        self._process = self._connection = None

    def close(self) -> None:
        """End the process (a run in it ends without a result)."""
        with self._lock:
            self._discard()

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid


def _spawner() -> None:
    while True:
        args, kwargs, answer = _SPAWNS.get()
        try:
            answer.set_result(subprocess.Popen(args, **kwargs))
        except BaseException as error:
            answer.set_exception(error)


# Trainers are started from a thread of their own, made when this module is first imported (by the warm-up,
# or a script before it yields the cores: ``runs.yield_to_training``): a process inherits the nice value of
# the thread that starts it, and a session's thread, or a run's started by it, is nicer than a trainer must be
_SPAWNS: queue.SimpleQueue = queue.SimpleQueue()
threading.Thread(target=_spawner, name="wil-trainer-spawner", daemon=True).start()


def _spawn(args, **kwargs) -> subprocess.Popen:
    answer: concurrent.futures.Future = concurrent.futures.Future()
    _SPAWNS.put((args, kwargs, answer))
    return answer.result()


def _wait(process) -> None:
    try:
        process.wait(5.0)
    except subprocess.TimeoutExpired:
        pass


def _died(process) -> str:
    code = process.returncode
    how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
    return (f"The training process ended without a result ({how}); most likely the machine ran out of memory. "
            f"Try a smaller run.")


def serve(connection) -> None:
    """The trainer's loop: one job after another until the server goes."""
    from .memory import release_free_memory

    wil.compare(wil.Config(dataset="moons", n_samples=40, depth=2, width=4, epochs=2, compare=("he_normal",)))
    # ^ the first run's lazy imports and first calls, before any visitor's run is timed (the server's pace)
    stopped: set[int] = set()
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return
        if message[0] == "stop":  # of a job that has ended
            continue
        _, job, payload = message
        try:
            config, snapshots, resume_from, datasets, live_every, live_share = pickle.loads(payload)
        except Exception as error:  # a job this process cannot read (a class it cannot import): its words
            connection.send(("error", job, ValueError(f"the trainer could not read this run "  # a page says it
                                                      f"({type(error).__name__}: {error})")))
            continue
        for name, spec in datasets.items():
            wil.DATASETS[name] = spec
        shown = [None]

        def check() -> None:
            while connection.poll():
                kind, number = connection.recv()[:2]
                if kind == "stop":
                    stopped.add(number)
            if job in stopped:
                raise wil.StopTraining

        def progress(fraction: float) -> None:
            if fraction != shown[0]:
                shown[0] = fraction
                connection.send(("progress", job, fraction))
            check()

        def live(partial: wil.Result) -> None:
            partial.verdicts(by="initializer")  # judged here, in the live views' share of the run, not by the server
            connection.send(("live", job, partial))
            check()

        try:
            if resume_from is not None:
                result = wil.resume(resume_from, progress=progress, live=live, live_every=live_every,
                                    live_share=live_share)
            else:
                result = wil.compare(config, progress=progress, live=live, live_every=live_every,
                                     live_share=live_share, snapshots=snapshots)
            connection.send(("done", job, result))
        except BaseException as error:  # handed to the server, which raises it in its sessions
            try:
                connection.send(("error", job, error))
            except Exception:  # an exception that does not pickle: its words
                connection.send(("error", job, RuntimeError(f"{type(error).__name__}: {error}")))
        finally:
            stopped.discard(job)
            for name in datasets:
                wil.DATASETS.pop(name, None)
            release_free_memory()


if __name__ == "__main__":  # started by ``Trainer``: its end of the socket pair
    serve(Connection(int(sys.argv[1])))

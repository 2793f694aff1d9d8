"""``wil.sweep``: a grid of runs on local processes, Dask or Ray (``wil.sweep.backends``), streamed to
parquet, resumable.

The pieces live beside it: ``plan`` (the grid's tasks and their cut for the workers), ``worker`` (one
task's rows), ``backends`` (where tasks run) and ``store`` (the rows' types, ``out`` and resume). Each
network is seeded on its own and the engine's numbers depend on one network's shapes only, so the frame
is the same whatever the backend, the workers and the cut.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING, Callable, Iterable, Mapping, Sequence

from wil.spec.checks import ArgumentTypeError, check_bool, check_int, check_path, shown
from wil.spec.config import Config
from wil.analysis.criteria import dataset_classes
from wil.sweep import protocols, trainability
from wil.sweep.backends import BACKENDS, WorkerLost, is_worker_lost, opened
from wil.sweep.plan import Task, estimated_seconds, plan_tasks, row_order, split_tasks
from wil.sweep.store import Store, empty_frame, in_grid_order, normalized, row_keys
from wil.sweep.worker import run_task

WORKER_RETRIES = 2  # a piece whose worker died is given again this many times before the sweep stops

if TYPE_CHECKING:
    import pandas as pd  # imported where used: it takes longer to import than the rest of wil


def sweep(config: Config, grid: Mapping[str, Sequence], seeds: Iterable[int] = (0,), *,
          backend: str | None = "loky", n_jobs: int | None = None, scheduler: str | None = None, client=None,
          progress: bool | Callable[[int, int], None] = False, out: str | os.PathLike | None = None,
          protocol: str | None = None, refine: bool = False) -> pd.DataFrame:
    """Train a grid of networks, one batched run per architecture (or piece of one), on parallel workers.

    Parameters
    ----------
    config : the base run; ``config.initializer`` is the initializer whose parameters axes may vary.
    grid : axis -> list of values; an axis is a ``Config`` field (``depth``, ``learning_rate``, ...;
        not ``compare`` or ``n_seeds``) or a parameter of ``config.initializer`` (``sigma_w2``, ``scale``...).
        ``{"sigma_w2": [1, 2, 3], "depth": [10, 20]}`` is 2 tasks of 3 initializers x seeds networks.
    seeds : the networks' seeds at every grid point (the data and mini-batch order use ``config.seed``).
    backend : ``"loky"`` (local processes), ``"dask"`` (a ``dask.distributed`` cluster: ``client``, else
        ``Client(scheduler)``, else a ``LocalCluster`` of ``n_jobs`` single-threaded worker processes
        started and closed here), ``"ray"`` (needs ``ray``; the Ray this process has initialized, else
        ``ray.init(address=scheduler)``: a cluster, or with no scheduler a local Ray of ``n_jobs`` CPUs
        without dashboard, shut down at the end), or None (in this process, one task after another,
        columns uncut). See ``wil.sweep.backends``.
    n_jobs : tasks at once (default: the cores for loky, every worker thread for Dask, every CPU for Ray).
    scheduler : a cluster's address: a Dask scheduler's, e.g. ``"tcp://10.0.0.5:8786"``, or Ray's
        (``ray.init``'s ``address``: ``"10.0.0.5:6379"``, ``"ray://..."``, ``"auto"``).
    client : a ``dask.distributed.Client`` to use (backend ``"dask"``).
    progress : True for a tqdm bar (networks done, time left), or ``callback(tasks_done, tasks_total)``
        called after each task (a column, or a piece of one) is stored; an exception it raises stops the
        sweep (what is stored stays).
    out : a parquet file. Each finished task is written at once to ``<out>.parts/``; at the end the parts
        are combined into ``out`` and removed. Networks whose rows are already in ``out`` or its parts
        are not trained again, so an interrupted sweep resumes where it stopped. ``out`` never shrinks: a
        sweep of another grid (same base config and axes) adds its networks to those already there, each
        network once; a file of another sweep is refused. Checked writable before anything trains.

    protocol : None, or a preset of ``wil.sweep.protocols.PROTOCOLS`` (``"schoenholz2017"``): it raises the
        width, sets the optimizer, batch size and epochs (a fixed step budget), adds a ``learning_rate`` axis
        (and a depth grid from xi_c when ``depth`` is not an axis), completes the seeds, prints its cost
        estimate to stderr before anything trains, and returns per depth the rows of the best learning
        rate with ``trainable`` by ``wil.criteria.TRAINABLE_LAST10`` (``out`` keeps every learning rate's).
    refine : with a ``protocol`` and a grid of ``sigma_w2`` and ``depth`` (``mean_field`` initializer): after the
        grid, place each sigma_w2 column's boundary within the protocol's depth step (xi_c / 2) by bisection,
        in rounds (``wil.trainability.next_depths``): each round trains, for every column not yet placed,
        the depth half-way between its deepest trainable depth and the first that failed (or the
        protocol's ``max_depth`` for a column trainable to its deepest), and prints what it trains. The
        rounds' rows join ``out`` and the result; a stopped refinement resumes from ``out`` (the rounds are
        read from its rows), so the same call, or command, continues it.

    Ctrl-C and SIGTERM (in the main thread, with Python's default handlers) stop the workers and raise
    ``SweepStopped`` (a ``KeyboardInterrupt``) whose message is one line: ``stopped; N of M networks saved
    to <out>; run the same command to resume``. A worker process that dies is replaced and its piece given
    again (``WORKER_RETRIES``); after that ``WorkerLost`` (a ``RuntimeError``), one line in the same form.
    A grid of more than ``plan.MAX_NETWORKS`` networks or ``plan.MAX_CPU_SECONDS`` of estimated work is
    refused at once, with its size or estimate.

    Returns
    -------
    DataFrame, one row per (grid point, seed) in the grid's order: the grid's axes, ``initializer`` (the
    label), ``seed``, ``final_train_loss``, ``final_test_loss``, ``final_train_accuracy``,
    ``final_test_accuracy``, ``diverged``, ``diverged_epoch``, ``trainable`` (``wil.criteria.TRAINABLE``:
    not diverged and final train accuracy at least halfway from 1/classes to 1; regression: final train
    loss at most half the initial one), ``act_std_last`` (the last hidden layer's activation std at initialization),
    ``chi1_measured`` (see ``wil.sweep.worker.measured_chi1``), ``train_accuracy_last10`` (the mean training
    accuracy of the last 10 epochs: ``wil.criteria.TRAINABLE_LAST10``) and ``seconds`` (the task's wall time
    over its networks).
    Every column but ``seconds`` is the same whatever the backend, the workers and the tasks' cut.

    Memory: each worker holds one task's run; this process holds only the rows.
    """
    import pandas as pd

    n_jobs, progress, out = _checked_options(backend, n_jobs, scheduler, progress, out)
    refine = check_bool("refine", refine)
    workers = 1 if backend is None else n_jobs if n_jobs and n_jobs > 0 else os.cpu_count() or 1
    if protocol is not None:
        config, grid, seeds = protocols.prepare(protocol, config, grid, seeds)
        print(protocols.estimate(protocol, config, grid, seeds, workers), file=sys.stderr)
    if refine:
        _check_refinable(config, grid, protocol)
    tasks = plan_tasks(config, grid, seeds)
    axes = list(grid)
    store = Store(out, config, axes) if out is not None else None  # checks that out can be written
    done = store.load() if store is not None else empty_frame(axes)
    frames = [done]
    where = (backend, n_jobs, scheduler, client)
    try:
        with stop_on_signals():
            _train(tasks, axes, store, progress, where, frames)
            if refine:
                _refine(config, grid, tuple(seeds), protocol, tasks, store, progress, where, frames, workers)
    except KeyboardInterrupt:
        raise SweepStopped(_saved(tasks, frames, axes, out, "stopped")) from None
    except WorkerLost as lost:
        raise WorkerLost(_saved(tasks, frames, axes, out, f"stopped: {lost}")) from None
    result = in_grid_order(pd.concat(frames, ignore_index=True), row_order(tasks, axes), axes)
    if store is not None:
        store.finish(result, done)
    if protocol is not None:
        return protocols.select(result, dataset_classes(config.dataset), protocol)
    return result


MAX_ROUNDS = 16  # a refinement's rounds at most (bisection of integer depths <= 128 needs ~8 per column)


def _check_refinable(config: Config, grid: Mapping[str, Sequence], protocol: str | None) -> None:
    """Refuse ``refine`` where it has no meaning: without a protocol, or a grid of other axes."""
    if protocol is None:
        raise ValueError("Invalid refine: it places a protocol sweep's boundaries (steps of xi_c / 2); give "
                         "protocol='schoenholz2017'")
    if set(grid) != {"sigma_w2", "depth", "learning_rate"}:
        raise ValueError(f"Invalid refine: it bisects the depth of each sigma_w2 column; the grid's axes must be "
                         f"sigma_w2 and depth (and the protocol's learning_rate), got {list(grid)}")
    trainability.mean_field_sigma_b2(config)  # its depth steps are fractions of xi_c: mean_field only


def _refine(config: Config, grid: Mapping[str, Sequence], seeds: tuple[int, ...], protocol: str,
            tasks: list[Task], store: Store | None, progress, where: tuple, frames: list[pd.DataFrame],
            workers: int) -> None:
    """The refinement rounds of ``sweep(..., refine=True)``: each round's tasks are appended to ``tasks``
    (the sweep's, for its result and its stop message) and trained as the grid's were."""
    import pandas as pd

    axes = list(grid)
    n_classes = dataset_classes(config.dataset)
    for number in range(1, MAX_ROUNDS + 1):
        rows = in_grid_order(pd.concat(frames, ignore_index=True), row_order(tasks, axes), axes)
        wanted = trainability.next_depths(protocols.select(rows, n_classes, protocol), config, protocol)
        if not wanted:
            return
        round_tasks = [task for depth, sigmas in wanted.items()
                       for task in plan_tasks(config, {**grid, "sigma_w2": sigmas, "depth": [depth]}, seeds)]
        what = ", ".join(f"depth {d} (sigma_w2 {', '.join(f'{s:g}' for s in sigmas)})" for d, sigmas in wanted.items())
        seconds = sum(estimated_seconds(t) for t in round_tasks)
        print(f"refinement round {number}: {what}; {sum(t.n_networks for t in round_tasks):,} networks, estimated "
              f"{protocols.duration(seconds / workers)} on {workers} worker(s)", file=sys.stderr)
        tasks.extend(round_tasks)
        _train(round_tasks, axes, store, progress, where, frames)
    raise RuntimeError(f"refinement did not end in {MAX_ROUNDS} rounds")  # bisection ends sooner: a bug


def _train(tasks: list[Task], axes: list[str], store: Store | None, progress, where: tuple,
           frames: list[pd.DataFrame]) -> None:
    """Train the networks of ``tasks`` that ``frames`` (the rows stored or trained so far) do not hold."""
    import pandas as pd

    done_keys = set(row_keys(pd.concat(frames, ignore_index=True), axes))
    todo = [t.subset([i for i, point in enumerate(t.points) if any((*point, s) not in done_keys for s in t.seeds)])
            for t in tasks]  # each column's labels with a row missing
    todo = [t for t in todo if t.labels]
    _stream(tasks, todo, axes, store, progress, where, frames)


class SweepStopped(KeyboardInterrupt):
    """A sweep stopped by Ctrl-C or SIGTERM; its message says what was saved and how to resume."""


def _checked_options(backend, n_jobs, scheduler, progress, out):
    """The sweep's options other than the plan's, checked: ``(n_jobs, progress, out)``."""
    if backend is not None and (not isinstance(backend, str) or backend not in BACKENDS):
        raise ValueError(f"Invalid backend {shown(backend)}; choose from {list(BACKENDS)} or None")
    if n_jobs is not None:
        n_jobs = check_int("n_jobs", n_jobs, -1, 100_000)
        if n_jobs == 0:
            raise ValueError("Invalid n_jobs: expected a number of tasks at once >= 1 (or -1, None: all), got 0")
    if scheduler is not None and not isinstance(scheduler, str):
        raise ArgumentTypeError(f"Invalid scheduler: expected an address such as 'tcp://10.0.0.5:8786', "
                                f"got {shown(scheduler)}")
    if not callable(progress):
        progress = check_bool("progress", progress)
    return n_jobs, progress, None if out is None else check_path("out", out)


def _saved(tasks: list[Task], frames: list[pd.DataFrame], axes: list[str], out, what: str) -> str:
    """One line: what stopped, how many of the sweep's networks are saved where, and how to resume."""
    wanted = {key for task in tasks for key in task.keys()}
    have = {key for frame in frames for key in row_keys(frame, axes)} & wanted
    if out is None:
        return (f"{what}; {len(have)} of {len(wanted)} networks trained, none saved (give out= to keep "
                f"them and resume)")
    return f"{what}; {len(have)} of {len(wanted)} networks saved to {out}; run the same command to resume"


@contextlib.contextmanager
def stop_on_signals():
    """While a sweep runs in the main thread: Ctrl-C (SIGINT) and SIGTERM, where they have Python's default
    handling, raise ``KeyboardInterrupt`` once; further ones are ignored while the sweep stops its workers
    and says what it saved. Elsewhere (another thread, handlers of your own) nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    defaults = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL}
    previous = {number: signal.getsignal(number) for number in defaults}
    ours = [number for number, handler in previous.items() if handler is defaults[number]]

    def stop(number, frame):
        for each in ours:
            signal.signal(each, signal.SIG_IGN)
        _STOPPING.append(signal.Signals(number).name)
        raise KeyboardInterrupt(signal.Signals(number).name)

    def unraisable(hook_args):  # our interrupt raised where Python would print it and go on: the sweep stops
        if not (_STOPPING and isinstance(hook_args.exc_value, KeyboardInterrupt)):
            previous_hook(hook_args)

    for number in ours:
        signal.signal(number, stop)
    _STOPPING.clear()
    previous_hook, sys.unraisablehook = sys.unraisablehook, unraisable
    try:
        yield
    finally:
        sys.unraisablehook = previous_hook
        for number in ours:
            signal.signal(number, previous[number])
        _STOPPING.clear()


# the signal ``stop_on_signals`` received, if any: its KeyboardInterrupt can be raised where Python only
# prints it and goes on (a garbage collector's callback, as distributed installs: seen in CI, where a
# SIGTERM'd sweep printed that traceback and trained to the end), so the sweep also stops at its next
# finished task, and that print is left out
_STOPPING: list[str] = []


def _stop_if_signalled() -> None:
    if _STOPPING:
        raise KeyboardInterrupt(_STOPPING[0])


def _stream(tasks: list[Task], todo: list[Task], axes: list[str], store: Store | None, progress,
            where: tuple, frames: list[pd.DataFrame]) -> None:
    """Run ``todo`` (of the sweep's ``tasks``) on the backend ``where`` = (backend, n_jobs, scheduler,
    client); store each task's rows as it finishes, append them to ``frames`` (normalized) and report
    progress."""
    bar = _progress_bar(progress, tasks, todo)
    callback = progress if callable(progress) else None
    finished_keys: set = set()
    runs = _execute(todo, axes, *where, finished_keys)
    try:
        with contextlib.closing(runs):  # an exception here (a callback's, Ctrl-C) stops the workers at once
            finished = len(tasks) - len(todo)
            total = finished + next(runs)
            for frame in runs:
                frame = normalized(frame, axes)
                if store is not None:
                    store.put(frame)
                frames.append(frame)
                finished_keys.update(row_keys(frame, axes))
                finished += 1
                if bar is not None:
                    bar.update(len(frame))
                if callback is not None:
                    callback(finished, total)
                _stop_if_signalled()
    finally:
        if bar is not None:
            bar.close()


def _execute(tasks: list[Task], axes: list[str], backend, n_jobs, scheduler, client, finished: set):
    """Yield how many tasks ``tasks`` are cut into for the backend's workers (``split_tasks``), then each
    one's rows as it finishes. A piece whose worker died (``is_worker_lost``) is given again, up to
    ``WORKER_RETRIES`` times in all; then ``WorkerLost``. ``finished``: the row keys the caller has stored."""
    if not tasks:
        yield 0
        return
    with opened(backend, n_jobs, scheduler, client) as runner:
        pieces = split_tasks(tasks, runner.workers)
        yield len(pieces)
        extra = (axes,) if backend is None else (axes, True)
        for attempt in range(WORKER_RETRIES + 1):
            remaining = [piece for piece in pieces if not set(piece.keys()) <= finished]
            try:
                yield from runner.imap(run_task, remaining, extra)
                return
            except Exception as error:
                if not is_worker_lost(error):
                    raise
                lost = f"a worker process died ({type(error).__name__}) {attempt + 1} times"
        raise WorkerLost(lost)


def _progress_bar(progress, tasks: list[Task], todo: list[Task]):
    """A tqdm bar over networks (time left from their rate), or None."""
    if progress is not True:
        return None
    from tqdm.auto import tqdm

    total = sum(t.n_networks for t in tasks)
    return tqdm(total=total, initial=total - sum(t.n_networks for t in todo), unit="networks", desc="sweep",
                smoothing=0.1)

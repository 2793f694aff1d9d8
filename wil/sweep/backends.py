"""Where a sweep's tasks run: in this process, on local processes (loky), a Dask cluster or Ray.

``opened(backend, ...)`` sets a backend up and gives a ``Runner``: ``workers``, the tasks that run at
once, and ``imap(function, tasks)``, which yields each call's result as it finishes. Only as many tasks
as workers are handed out, the next one when one finishes, so tasks given costliest first are scheduled
longest-processing-time first on every backend (Dask's scheduler would otherwise assign the queued tasks
to workers up front, and a long task could wait behind another while a worker idles), and each worker
holds one task at a time. A Dask ``LocalCluster`` or a local Ray started here is closed after.

loky and Dask run through joblib. Ray runs as Ray tasks of one CPU each: joblib's Ray backend returns
its results only as a whole list, which would stop a sweep from streaming its rows to disk as they come.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
from typing import Callable, Iterator, Sequence

BACKENDS = ("loky", "dask", "ray")  # besides None: in this process
# exceptions that mean a worker process died under a task (loky, concurrent.futures, Dask, Ray), by name:
# the backends are imported only when used
_WORKER_LOST = {"TerminatedWorkerError", "BrokenProcessPool", "KilledWorker", "WorkerCrashedError",
                "NodeDiedError", "ActorDiedError", "CommClosedError", "FutureCancelledError"}


class WorkerLost(RuntimeError):
    """A sweep's worker died again and again under its tasks; the message says what was saved."""


def is_worker_lost(error: BaseException) -> bool:
    """True if ``error`` (or what it wraps) says a worker process died, rather than a task failing."""
    seen = 0
    while error is not None and seen < 5:
        if any(kind.__name__ in _WORKER_LOST for kind in type(error).__mro__):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


@dataclasses.dataclass
class Runner:
    """A backend, set up: ``imap(function, tasks, extra)`` yields ``function(task, *extra)`` per task, as
    each finishes (in this process: in order)."""

    workers: int
    imap: Callable[[Callable, Sequence, tuple], Iterator]


@contextlib.contextmanager
def opened(backend: str | None, n_jobs: int | None, scheduler: str | None, client) -> Iterator[Runner]:
    """The ``Runner`` of ``backend`` (see ``wil.sweep`` for the arguments), closed after."""
    from wil.engine.threads import available_cores

    if backend not in ("dask", "ray") and (scheduler is not None or client is not None):
        raise ValueError(f"Invalid scheduler/client: they are for backend 'dask' or 'ray', not {backend!r}")
    if backend == "ray" and client is not None:
        raise ValueError("Invalid client: it is for backend 'dask'; for Ray give scheduler (an address)")
    wanted = n_jobs if n_jobs is not None and n_jobs > 0 else None
    if backend is None:
        yield Runner(1, lambda function, tasks, extra: (function(task, *extra) for task in tasks))
    elif backend == "loky":
        yield _joblib_runner("loky", wanted or available_cores())
    elif backend == "dask":
        with quiet_closed_connections(), _dask_client(scheduler, client, wanted or available_cores()) as dask_client:
            threads = sum(dask_client.nthreads().values())
            yield _joblib_runner("dask", max(1, min(wanted or threads, threads)), client=dask_client)
    else:
        with _ray(scheduler, wanted or available_cores()) as cpus:
            yield _ray_runner(max(1, min(wanted or cpus, cpus)))


@contextlib.contextmanager
def quiet_closed_connections():
    """While a Dask client is used and closed: drop the tracebacks asyncio logs for its tasks that ended on a
    closed connection (``CommClosedError``), as when a sweep stopped by Ctrl-C or SIGTERM closes its
    cluster while a gather is in flight; the sweep itself says in one line what it saved."""
    import logging

    def keep(record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return type(error).__name__ not in ("CommClosedError", "StreamClosedError")

    logger = logging.getLogger("asyncio")
    logger.addFilter(keep)
    try:
        yield
    finally:
        logger.removeFilter(keep)


def worker_setup(parent: int) -> None:
    """Run in each local worker process as it starts: ignore Ctrl-C (the sweep's process stops the workers)
    and exit as soon as ``parent`` (the sweep's process) is gone, even SIGKILLed, busy or idle."""
    import signal
    import threading
    import time

    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="wil-exit-with-parent", daemon=True).start()


def _joblib_runner(backend: str, workers: int, **params) -> Runner:
    def imap(function, tasks, extra):
        import joblib

        options = dict(params)
        if backend == "loky":  # each worker ignores Ctrl-C (this process stops it) and exits with this process
            options.update(initializer=worker_setup, initargs=(os.getpid(),))
        with joblib.parallel_config(backend=backend, n_jobs=min(workers, len(tasks)), **options):
            parallel = joblib.Parallel(return_as="generator_unordered", pre_dispatch="n_jobs", batch_size=1)
            yield from parallel(joblib.delayed(function)(task, *extra) for task in tasks)

    return Runner(workers, imap)


@contextlib.contextmanager
def _dask_client(scheduler, client, workers: int):
    """The Dask client to use: ``client``, else ``Client(scheduler)``, else a ``LocalCluster`` of ``workers``
    single-threaded worker processes; the last two are closed after."""
    try:
        from dask.distributed import Client
    except ImportError:
        raise ValueError("Invalid backend 'dask': dask.distributed is not installed; "
                         "pip install 'dask[distributed]'") from None
    if client is not None:
        yield client
        return
    if scheduler is not None:
        with Client(scheduler) as made:
            yield made
        return
    with dask_local_cluster(workers) as cluster, Client(cluster) as made:
        yield made


def dask_local_cluster(workers: int):
    """A Dask ``LocalCluster`` of ``workers`` single-threaded worker processes, without dashboard, tuned
    for wil's runs. Its workers keep glibc's own malloc tuning: Dask's nanny gives them
    ``MALLOC_TRIM_THRESHOLD_=65536``, which also turns off glibc's dynamic mmap threshold, so every large
    array of a run is a fresh mmap whose pages fault in anew, and wil's runs took ~25% longer. And the
    cluster's housekeeping, which shares the cores with the runs, is cut: no sampling of the tasks' stacks
    every 10 ms for a dashboard's profile (there is no dashboard), memory checks each second rather than
    every 100 ms and loop ticks each second rather than every 20 ms, no work stealing (each worker holds one
    task). Measured on 2 workers: the scheduler's and nannies' CPU halved, the sweep ~5-10% faster. On a
    cluster of your own, set ``distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_`` to null."""
    import dask
    from dask.distributed import LocalCluster

    with dask.config.set(_QUIET_DASK):
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)


_QUIET_DASK = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
               "distributed.worker.profile.enabled": False, "distributed.worker.memory.monitor-interval": "1s",
               "distributed.admin.tick.interval": "1s", "distributed.admin.system-monitor.interval": "5s",
               "distributed.scheduler.work-stealing": False}


@contextlib.contextmanager
def _ray(scheduler: str | None, cpus: int):
    """Ray, connected: as it is when this process has already called ``ray.init``; else ``ray.init(address=
    scheduler)`` (a cluster's address, or None for RAY_ADDRESS's, else a new local Ray of ``cpus`` CPUs
    without its dashboard), shut down after. Yields the cluster's CPUs. A local Ray keeps Ray's defaults
    otherwise: its services listen on the host's address (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` keeps them
    on 127.0.0.1) and it may report usage (``RAY_USAGE_STATS_ENABLED=0`` stops that); the tests set both."""
    try:
        import ray
    except ImportError:
        raise ValueError("Invalid backend 'ray': ray is not installed; pip install ray") from None
    own = not ray.is_initialized()
    if own:
        local = scheduler is None and not os.environ.get("RAY_ADDRESS")
        ray.init(address=scheduler, include_dashboard=False, **({"num_cpus": cpus} if local else {}))
    elif scheduler is not None:
        raise ValueError(f"Invalid scheduler {scheduler!r}: Ray is already initialized in this process; "
                         "give no scheduler to use it, or call ray.shutdown() first")
    try:
        yield max(1, int(ray.cluster_resources().get("CPU", 1)))
    finally:
        if own:
            ray.shutdown()


def _ray_runner(workers: int) -> Runner:
    def imap(function, tasks, extra):
        import ray

        remote = ray.remote(num_cpus=1, max_retries=0)(function)
        queue, pending = iter(tasks), []
        try:
            while True:
                pending += [remote.remote(task, *extra) for task in itertools.islice(queue, workers - len(pending))]
                if not pending:
                    return
                [ready], pending = ray.wait(pending, num_returns=1)
                yield ray.get(ready)
        finally:
            for ref in pending:  # a sweep stopped early: its running tasks stop too
                ray.cancel(ref, force=True)

    return Runner(workers, imap)

"""How a run uses the cores: one thread, or the K networks split into groups trained side by side.

Chosen per run from the shapes, not taken from the environment (measured by
``benchmarks/bench_engine.py --threads``; see docs/PERFORMANCE.md):

* OpenBLAS's own threads busy-wait for each other. On a machine whose cores are shared (a workshop
  server, a laptop running a browser) one preempted thread stalls the others, and a run becomes many
  times slower, not faster. So BLAS always runs on one thread here.
* The K networks are independent, so a comparison splits into groups, each trained by its own Python
  thread on its own stack of networks. NumPy releases the GIL inside matrix products and ufunc loops,
  and a thread that waits sleeps instead of spinning. It pays once the NumPy calls are long enough to
  hide the Python between them, which only one thread runs at a time: ``work_per_call`` estimates
  the multiply-adds per call of an epoch, from the shapes, the depth and the batches. Measured over 72
  runs (depth 3 to 20, full batch and mini-batches, quiet machine): below 3e5 the split loses 9-62%;
  from 1.2e6 it wins 1.54x in the median (0.91x to 2.2x). ``SPLIT_WORK`` = 4e5 misjudges 8 runs: 6
  split and lose at most 14%, 2 do not and miss at most 1.21x. On a busy machine it can still lose,
  as any parallelism does.
* A single network has nothing to split, so its passes are cut into blocks of rows instead, run by
  parallel Python threads in the same way (``wil.engine.workspace.Workspace``), from
  ``ROW_SPLIT_WORK`` (``wil.spec.layout``): on S4 (depth 50, width 256) 1.5x faster than one thread,
  where two BLAS threads were 1.25x faster (and, on a busy machine, made S2 5x slower).
* The cut into blocks of rows (``wil.spec.layout.row_parts``) is a function of one network's shapes
  alone, so a network is cut the same way alone or among others, on one core or many: the same BLAS
  calls, the same numbers (see ``wil.engine.workspace``). Only whether the blocks run on parallel threads
  depends on the run.
"""

from __future__ import annotations

import contextlib
import math
import os
from typing import NamedTuple

from wil.spec.layout import row_parts, work_per_call

SPLIT_WORK = 4e5  # multiply-adds per NumPy call (work_per_call) from which networks split over the cores

_controller = None


def available_cores() -> int:
    """Cores this process may run on: the CPU affinity, capped by a container's CPU quota (a cloud
    instance may see every core of its host but be allowed the time of one)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    quota = cpu_quota()
    return cores if quota is None else max(1, min(cores, math.floor(quota)))


def cpu_quota(root: str = "/sys/fs/cgroup") -> float | None:
    """The CPU time this process's cgroup may use, in cores (e.g. 0.5), or None when unlimited or
    unknown. Reads cgroup v2's ``cpu.max`` ("150000 100000", or "max 100000"), else cgroup v1's
    ``cpu.cfs_quota_us`` and ``cpu.cfs_period_us`` (quota -1: unlimited)."""
    def read(path):
        try:
            with open(os.path.join(root, path)) as file:
                return file.read().split()
        except (OSError, ValueError):
            return None

    try:
        fields = read("cpu.max")
        if fields and len(fields) == 2:
            return None if fields[0] == "max" else int(fields[0]) / int(fields[1])
        quota, period = read("cpu/cpu.cfs_quota_us"), read("cpu/cpu.cfs_period_us")
        if quota and period and int(quota[0]) > 0 and int(period[0]) > 0:
            return int(quota[0]) / int(period[0])
    except ValueError:  # a file that is not what the kernel writes
        return None
    return None


class Plan(NamedTuple):
    """How a run uses the cores."""

    groups: int  # groups of networks trained side by side, one Python thread each
    row_parts: int  # blocks of rows each pass is cut into (see ``wil.engine.workspace.Workspace``)
    threads: int  # Python threads that run the row blocks (1: one after the other)
    blas: int  # BLAS threads


def plan(n_networks: int, width: int, depth: int, n_train: int, n_test: int, batch_size: int | None) -> Plan:
    """How to train ``n_networks`` networks of ``depth`` hidden layers of ``width`` units on ``n_train``
    examples (``n_test`` to evaluate) in batches of ``batch_size`` (None: full batch).

    Several networks split into groups, one per core, from ``SPLIT_WORK`` multiply-adds per NumPy call.
    Every pass is cut into ``row_parts`` blocks of rows (from one network's shapes); a single network runs
    its blocks on parallel threads when there are cores for them. Neither choice changes the numbers."""
    cores = available_cores()
    parts = row_parts(width, depth, n_train, n_test, batch_size)
    work = work_per_call(n_networks, width, depth, n_train, n_test, batch_size)
    if n_networks >= 2 and cores >= 2 and work >= SPLIT_WORK:
        return Plan(min(cores, n_networks), parts, 1, 1)
    if n_networks == 1 and parts > 1:
        return Plan(1, parts, min(cores, parts), 1)
    return Plan(1, parts, 1, 1)


def cores_plan(config, n_networks: int | None = None) -> Plan:
    """How ``wil.compare`` uses this machine's cores for ``config`` with ``n_networks`` networks (default
    its initializers x seeds): ``groups`` > 1 splits them over that many cores. For a caller that estimates
    a run's time (a server's queue: a split run takes about half the time of one core's)."""
    return plan(n_networks or config.n_networks(), config.width, config.depth, config.n_train(), config.n_test(),
                config.batch_size)


def blas_threads(threads: int):
    """A context in which BLAS uses ``threads`` threads; the caller's setting is restored after."""
    global _controller
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # threadpoolctl is a scikit-learn dependency, so this is rare
        return contextlib.nullcontext()
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller.limit(limits=threads, user_api="blas")

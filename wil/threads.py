"""How a run uses the cores: one thread, or the K networks split into groups trained side by side.

Chosen per run from the shapes, not taken from the environment (measured by
``benchmarks/bench_engine.py --threads``; see docs/PERFORMANCE.md):

* OpenBLAS's own threads busy-wait for each other. On a machine whose cores are shared (a workshop
  server, a laptop running a browser) one preempted thread stalls the others, and a run becomes many
  times slower, not faster. So BLAS always runs on one thread here.
* The K networks are independent, so a comparison splits into groups, each trained by its own Python
  thread on its own stack of networks. NumPy releases the GIL inside matrix products and ufunc loops,
  and a thread that waits sleeps instead of spinning, so a busy core costs little. It pays once each
  call is long enough to hide the Python between calls: ``SPLIT_WORK`` multiply-adds per stacked
  layer product.
"""

from __future__ import annotations

import contextlib
import os

# multiply-adds of one stacked layer product (networks x rows x width x width) from which the networks
# are split over the cores
SPLIT_WORK = 4_000_000

_controller = None


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def plan(width: int, n_rows: int, n_networks: int) -> tuple[int, int]:
    """(groups of networks trained in parallel threads, BLAS threads) for products of
    ``n_rows x width x width`` stacked over ``n_networks`` networks."""
    cores = available_cores()
    if n_networks >= 2 and cores >= 2 and n_networks * n_rows * width * width >= SPLIT_WORK:
        return min(cores, n_networks), 1
    return 1, 1


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

"""How many BLAS threads the engine uses, chosen per run instead of taken from the environment.

Small matrices train fastest on one thread: OpenBLAS's threading costs more than it saves below a few
million multiply-adds per call (measured by ``benchmarks/bench_engine.py --threads``). Large ones use
every core this process may run on.
"""

from __future__ import annotations

import contextlib
import os

# multiply-adds in one layer's matmul (n x width x width) above which more threads pay off
THREADED_WORK = 4_000_000

_controller = None


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def choose_threads(width: int, n_samples: int, n_networks: int) -> int:
    """BLAS threads for matmuls of ``n_samples x width x width`` repeated over ``n_networks``."""
    return available_cores() if n_samples * width * width >= THREADED_WORK else 1


def blas_threads(config, n_networks: int, n_samples: int):
    """A context in which BLAS uses ``choose_threads(...)`` threads; the caller's setting is restored."""
    global _controller
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # threadpoolctl is a scikit-learn dependency, so this is rare
        return contextlib.nullcontext()
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller.limit(limits=choose_threads(config.width, n_samples, n_networks), user_api="blas")

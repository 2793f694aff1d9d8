"""How many BLAS threads the engine uses, chosen per run instead of taken from the environment.

Small matrices train fastest on one thread: OpenBLAS's threading costs more than it saves below a few
million multiply-adds per call (measured by ``benchmarks/bench_engine.py --threads``). Large ones use
every core this process may run on.

Also: ``cap_malloc_arenas``, so that a server's many threads share their freed memory.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys

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


# ---------------------------------------------------------------- malloc

MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # mallopt's parameter number in glibc's malloc.h


def _glibc():
    """glibc, or None (another platform or C library). By name: ``ctypes.util.find_library`` would
    start a subprocess, a fork of a large server."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def cap_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Ask glibc for at most ``arenas`` malloc arenas; True if it agreed, False where there is no glibc.

    A Streamlit server runs every visitor's script in a thread of one process. glibc gives new threads
    malloc arenas of their own (up to 8 per core), and an arena keeps the memory freed in it instead of
    returning it: after twenty visitors each built and dropped a large result, a server held 1.4 GB for
    ~600 MB ever in use at once (``benchmarks/load.py --largest --all-own``). With two arenas, threads
    share them and the memory one visitor freed serves the next. It applies to threads that allocate
    afterwards, as long as the process has not yet made eight arenas (glibc then fixes its limit), so
    ``wil.training`` calls it when imported.
    """
    libc = _glibc()
    return bool(libc is not None and libc.mallopt(_M_ARENA_MAX, int(arenas)))


def release_free_memory() -> bool:
    """Hand the memory malloc holds free, in every arena, back to the system (glibc's ``malloc_trim``);
    False where there is no glibc. The training loop calls it after each run, so that what visitors'
    sessions dropped meanwhile (their copies of cached results) does not stay with the server."""
    libc = _glibc()
    return bool(libc is not None and libc.malloc_trim(0))

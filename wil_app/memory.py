"""glibc malloc tuned for a server of many threads: arenas capped, freed memory handed back after each run.

A Streamlit server runs every visitor's script in a thread of one process. Where there is no glibc
(another platform or C library) both helpers do nothing and return False.
"""

from __future__ import annotations

import ctypes
import sys

MALLOC_ARENAS = 2
M_ARENA_MAX = -8  # mallopt's parameter number in glibc's malloc.h


def glibc():
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

    glibc gives new threads malloc arenas of their own (up to 8 per core), and an arena keeps the memory
    freed in it instead of returning it: after twenty visitors each built and dropped a large result, a
    server held 1.4 GB for ~600 MB ever in use at once (``benchmarks/load.py --largest --all-own``). With
    two arenas, threads share them and the memory one visitor freed serves the next. It applies to threads
    that allocate afterwards, as long as the process has not yet made eight arenas, so the app calls it
    at import (``wil_app/run.py``).
    """
    libc = glibc()
    return bool(libc is not None and libc.mallopt(M_ARENA_MAX, int(arenas)))


def release_free_memory() -> bool:
    """Hand the memory malloc holds free, in every arena, back to the system (glibc's ``malloc_trim``);
    False where there is no glibc. Called after each run, so that what visitors' sessions dropped
    meanwhile (their copies of cached results) does not stay with the server."""
    libc = glibc()
    return bool(libc is not None and libc.malloc_trim(0))

"""The machine's memory: what this process may still allocate, and the one refusal of a run that cannot fit.

The library refuses a run only when it cannot fit the machine (``check_fits``): there is no other budget.
A server that wants smaller runs sets its own policy on top (the app's is ``wil_app/policy.py``). What a
run needs is estimated from its shapes by ``wil.spec.layout.run_bytes``.
"""

from __future__ import annotations

import math
import os
import resource

from wil.spec.checks import ArgumentTypeError


def available_bytes() -> int | None:
    """Memory this process may still allocate, in bytes: the smallest of the system's available memory
    (``MemAvailable``), what its cgroup's limit leaves (v2 ``memory.max``, v1 ``memory.limit_in_bytes``)
    and what its address-space limit (``RLIMIT_AS``) leaves. None where none of them can be read."""
    limits = [meminfo_available(), cgroup_left(), address_space_left()]
    known = [value for value in limits if value is not None]
    return max(0, min(known)) if known else None


def _read(path: str) -> str | None:
    try:
        with open(path) as file:
            return file.read()
    except OSError:
        return None


def meminfo_available() -> int | None:
    """The system's available memory (``MemAvailable`` of ``/proc/meminfo``), or None where unknown."""
    text = _read("/proc/meminfo")
    for line in (text or "").splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return None


def cgroup_left(root: str = "/sys/fs/cgroup") -> int | None:
    """The cgroup's memory limit less its usage (v2, else v1), or None when unlimited or unknown."""
    for limit_file, usage_file in (("memory.max", "memory.current"),
                                   ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes")):
        limit, usage = _read(os.path.join(root, limit_file)), _read(os.path.join(root, usage_file))
        if limit is None or usage is None:
            continue
        limit = limit.strip()
        if limit == "max" or not limit.isdigit() or int(limit) >= 1 << 60:  # v1 writes a huge number for none
            return None
        return int(limit) - int(usage.strip() or 0)
    return None


def address_space_left() -> int | None:
    """What the address-space limit (``RLIMIT_AS``) leaves this process, or None when unlimited."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    for line in (_read("/proc/self/status") or "").splitlines():
        if line.startswith("VmSize:"):
            return soft - int(line.split()[1]) * 1024
    return soft


def check_fits(what: str, needed: float, advice: str = "") -> None:
    """Raise ``ValueError`` if ``needed`` bytes exceed the memory available (``available_bytes``).

    Parameters
    ----------
    what : the subject of the message, e.g. ``"This run (3 networks of 5 x 32, 200 epochs)"``
    needed : bytes at the peak
    advice : what to do instead, appended after a colon
    """
    if not isinstance(needed, (int, float)) or isinstance(needed, bool):
        raise ArgumentTypeError(f"Invalid needed: expected a number of bytes, got {needed!r}")
    available = available_bytes()
    if math.isfinite(needed) and (available is None or needed <= available):
        return
    shown = format_bytes(available) if available is not None else "less"
    raise ValueError(f"{what} needs about {format_bytes(needed)} of memory at its peak, and {shown} is available"
                     f"{': ' + advice if advice else ''}.")


def format_bytes(count: float) -> str:
    """``count`` bytes in a readable unit: 512 B, 3.4 MB, 1.2 GB, 5.6e+03 TB."""
    if not math.isfinite(count):
        return "an unbounded amount"
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= size:
            value = count / size
            return f"{value:.3g} {unit}" if value < 1e4 else f"{value:.2g} {unit}"
    return f"{int(count)} B"

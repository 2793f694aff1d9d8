"""Will a run fit? Its peak memory, estimated from its shapes before anything is allocated, against the
memory this process may still use.

The library refuses a run only when it cannot fit the machine (``check_fits``): there is no other budget.
A server that wants smaller runs sets its own policy on top (the app's is ``wil_app/policy.py``).

The estimate adds up the arrays a run holds at its peak (see ``run_bytes``), each from the engine's own
layout: the stacked parameters, optimizer state and pass buffers while training, then the recorded
arrays and the tidy frames built from them. ``benchmarks/bench_research.py`` prints it beside the
measured peak, and ``tests/test_memory.py`` holds it above the peak NumPy and pandas allocate
(``tracemalloc``) and within a small factor of it.
"""

from __future__ import annotations

import math
import os
import resource

from wil.spec.checks import ArgumentTypeError

# bytes per row of each result frame as pandas builds it (columns, index, and the copy a filter makes);
# measured on float64 runs with tracemalloc, rounded up
_HISTORY_ROW, _LAYERS_ROW, _HISTOGRAM_ROW, _GRID_ROW = 90, 200, 150, 130
_FIXED = 64 << 20  # scikit-learn's and pandas' working memory for a small run, whatever its shape
# the sum above was within 0.99-1.31 of the measured peak on runs of 0.6-2 GB (benchmarks/bench_research.py):
# the margin keeps the estimate above it
_MARGIN = 1.15
_HISTOGRAM_EPOCHS, _QUANTITIES, _BINS, _GRID_POINTS = 5, 4, 30, 40 * 40
_CHUNK = 1 << 22  # elements of the diagnostics' largest temporary (wil.engine.statistics._CHUNK)
_OPTIMIZER_BUFFERS = {"sgd": 0, "momentum": 1, "adam": 2}  # velocity; the two moments


def available_bytes() -> int | None:
    """Memory this process may still allocate, in bytes: the smallest of the system's available memory
    (``MemAvailable``), what its cgroup's limit leaves (v2 ``memory.max``, v1 ``memory.limit_in_bytes``)
    and what its address-space limit (``RLIMIT_AS``) leaves. None where none of them can be read."""
    limits = [_meminfo_available(), _cgroup_left(), _address_space_left()]
    known = [value for value in limits if value is not None]
    return max(0, min(known)) if known else None


def _read(path: str) -> str | None:
    try:
        with open(path) as file:
            return file.read()
    except OSError:
        return None


def _meminfo_available() -> int | None:
    text = _read("/proc/meminfo")
    for line in (text or "").splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return None


def _cgroup_left(root: str = "/sys/fs/cgroup") -> int | None:
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


def _address_space_left() -> int | None:
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    for line in (_read("/proc/self/status") or "").splitlines():
        if line.startswith("VmSize:"):
            return soft - int(line.split()[1]) * 1024
    return soft


def run_bytes(*, n_networks: int, n_train: int, n_test: int, n_features: int, n_outputs: int, depth: int,
              width: int, epochs: int, itemsize: int, optimizer: str, diagnostics: bool, row_parts: int = 1,
              grid: bool = False, snapshots: int | None = None) -> dict[str, float]:
    """The arrays a run holds, in bytes, by what they are for; ``peak`` is the largest total at one time.

    Training holds the parameters (and their float64 draws while they are stacked), the optimizer's
    buffers, the pass buffers of every layer and the diagnostics' temporaries, beside the records. Building
    the result then holds the records and the frames made of them.
    """
    K, rows = float(n_networks), float(max(n_train, n_test, 1))
    # recorded epochs of histograms and of the boundary (``wil.engine.record.histogram_epochs``, ``grid_epochs``)
    histogram_epochs, grid_epochs = (_HISTOGRAM_EPOCHS, 2) if snapshots is None else (snapshots, snapshots)
    sizes = [n_features] + [width] * depth + [n_outputs]
    parameters = K * sum((fan_in + 1) * fan_out for fan_in, fan_out in zip(sizes[:-1], sizes[1:]))
    weights = K * sum(fan_in * fan_out for fan_in, fan_out in zip(sizes[:-1], sizes[1:]))
    layers, recorded = depth + 1, epochs + 1
    hidden = K * rows * width  # one hidden layer's activations for every network
    histogram_values = max(depth * K * min(n_train, 256) * width, weights)  # one quantity's copies at a time
    parts = {
        "data": 8.0 * (n_train + n_test) * n_features * 4,  # generated, split, scaled, cast
        # the stack, a copy per group of networks trained on its own thread, and the float64 draws
        "parameters": parameters * (2 * itemsize + 2 * 8),
        # the optimizer's buffers, its scratch, and the finite-gradient mask
        "optimizer": parameters * (itemsize * (_OPTIMIZER_BUFFERS.get(optimizer, 2) + 1) + 1),
        # pre-activations and activations of every layer, two deltas, a scratch, the output, gradients
        # (one stack per block of rows) and the transposed weights
        "passes": itemsize * (hidden * (2 * depth + 3) + K * rows * n_outputs + parameters * (row_parts + 1)),
        # statistics' temporaries (a layer or a chunk of layers, the squared weights), the histograms'
        # copies of one quantity and their binning's temporaries (positions, bins, edge tests)
        "diagnostics": (itemsize * (min(depth * hidden, max(_CHUNK, hidden)) + weights + histogram_values)
                        + 40.0 * min(_CHUNK, histogram_values) if diagnostics else 0.0),
        "records": 8.0 * K * recorded * 4 + (8.0 * K * recorded * layers * 7 if diagnostics else 0.0)
        + (24.0 * histogram_epochs * _QUANTITIES * layers * K * _BINS if diagnostics else 0.0)
        + (grid_epochs * 16.0 * K * _GRID_POINTS if grid else 0.0),
        "frames": _HISTORY_ROW * K * recorded * 2
        + (_LAYERS_ROW * K * recorded * layers + _HISTOGRAM_ROW * histogram_epochs * _QUANTITIES * layers * K
           * _BINS if diagnostics else 0.0) + (_GRID_ROW * grid_epochs * K * _GRID_POINTS if grid else 0.0),
    }
    training = sum(parts[key] for key in ("data", "parameters", "optimizer", "passes", "diagnostics", "records"))
    building = parts["data"] + parts["records"] + parts["frames"]
    parts["peak"] = _FIXED + _MARGIN * max(training, building)
    return parts


def check_fits(what: str, needed: float, advice: str = "") -> None:
    """Raise ``ValueError`` if ``needed`` bytes exceed the memory available (``available_bytes``)."""
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

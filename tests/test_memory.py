"""The library's only limit: a run must fit the memory this process may still use, checked before allocating.

``Config.memory`` estimates a run's peak from its shapes (``wil.spec.layout.run_bytes``); ``wil.compare``
refuses a run whose estimate exceeds ``available_bytes()`` (the system's available memory, the cgroup's
limit, the address-space limit), with a ``ValueError`` giving both. Here: the estimate against the peak
NumPy and pandas allocate (``tracemalloc`` sees both), the sources of the available memory, and a real
refusal under a lowered address-space limit.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import pytest

import wil
from wil.spec import layout, resources

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("fields, entries, seeds", [
    (dict(dataset="moons", n_samples=1000, depth=4, width=256, epochs=2), ["he_normal"], [0, 1, 2]),
    (dict(dataset="digits", depth=12, width=128, epochs=2, optimizer="adam"), ["he_normal", "lsuv"], [0]),
    (dict(dataset="moons", n_samples=2000, depth=2, width=512, epochs=1, batch_size=200, optimizer="momentum",
          dtype="float32"), ["glorot_uniform"], [0, 1]),
])
def test_the_estimate_is_above_the_measured_peak_and_close_to_it(fields, entries, seeds):
    config = wil.Config(**fields)
    estimate = config.memory(len(entries) * len(seeds))
    tracemalloc.start()
    try:
        wil.compare(config, entries, seeds)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    variable = estimate["peak"] - layout.FIXED_BYTES
    assert estimate["peak"] >= peak, (estimate, peak)
    assert variable <= 2.5 * peak, (estimate, peak)  # an estimate, not a bound pulled from the air


def test_the_estimate_grows_with_every_size():
    base = wil.Config(dataset="moons", n_samples=1000, depth=5, width=64, epochs=100)
    peak = base.memory()["peak"]
    for field, value in (("depth", 10), ("width", 128), ("n_samples", 4000), ("epochs", 20000)):
        import dataclasses

        assert dataclasses.replace(base, **{field: value}).memory()["peak"] > peak, field
    assert base.memory(10)["peak"] > peak
    assert base.memory(diagnostics=False)["peak"] < peak


@pytest.mark.parametrize("files, left", [
    ({"memory.max": "1000000\n", "memory.current": "250000\n"}, 750000),
    ({"memory.max": "max\n", "memory.current": "250000\n"}, None),
    ({"memory/memory.limit_in_bytes": "9223372036854771712\n", "memory/memory.usage_in_bytes": "5\n"}, None),
    ({"memory/memory.limit_in_bytes": "4096\n", "memory/memory.usage_in_bytes": "96\n"}, 4000),
    ({"memory.max": "garbage\n", "memory.current": "1\n"}, None),
    ({}, None),
])
def test_a_cgroups_memory_limit_is_read(tmp_path, files, left):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    assert resources.cgroup_left(str(tmp_path)) == left


def test_available_memory_is_the_smallest_limit(monkeypatch):
    monkeypatch.setattr(resources, "meminfo_available", lambda: 8 << 30)
    monkeypatch.setattr(resources, "cgroup_left", lambda: 2 << 30)
    monkeypatch.setattr(resources, "address_space_left", lambda: None)
    assert resources.available_bytes() == 2 << 30
    monkeypatch.setattr(resources, "address_space_left", lambda: 1 << 30)
    assert resources.available_bytes() == 1 << 30
    with pytest.raises(ValueError, match=r"^A test needs about 2.15 GB of memory at its peak, and 1.07 GB is "
                                         r"available: do less\.$"):
        resources.check_fits("A test", 2 << 30, "do less")
    resources.check_fits("A test", 1 << 29)  # fits: nothing raised


def test_a_run_too_large_for_the_machine_is_refused_with_the_estimate():
    config = wil.Config(dataset="moons", n_samples=100_000, depth=200, width=2048, epochs=10, n_seeds=100)
    with pytest.raises(ValueError, match=r"^This run \(100 networks of 200 x 2048, 10 epochs\) needs about "
                                         r"[\d.]+ TB of memory at its peak, and [\d.]+ [GMT]B is available: train "
                                         r"fewer networks, or reduce width, depth, samples or epochs"):
        wil.compare(config)
    with pytest.raises(ValueError, match=r"^Dataset 'moons' with 1,000,000,000,000 samples needs about"):
        wil.load_dataset("moons", 10**12, 0.1, 0)


LOWERED = textwrap.dedent("""
    import resource, sys, time
    sys.path.insert(0, {root!r})
    import numpy as np, wil
    from wil.spec import resources
    small = wil.Config(dataset="moons", n_samples=200, depth=3, width=16, epochs=3)
    wil.compare(small)  # scikit-learn, pandas and their libraries loaded: they reserve address space
    for line in open("/proc/self/status"):
        if line.startswith("VmSize:"):
            used = int(line.split()[1]) * 1024
    limit = used + (1500 << 20)  # 1.5 GB of address space left for the runs below
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    left = resources.available_bytes()
    assert 1.2e9 < left <= 1.5 * 2**30, left
    assert len(wil.compare(small).status) == 1  # a run that fits trains
    big = wil.Config(dataset="moons", n_samples=2000, depth=20, width=512, epochs=1, n_seeds=4)
    assert big.memory()["peak"] > left
    start = time.perf_counter()
    try:
        wil.compare(big)
    except ValueError as error:
        print("refused in", round(time.perf_counter() - start, 3), "s:", error)
    else:
        raise SystemExit("the run was not refused")
    try:
        wil.load_dataset("moons", 10**9, 0.1, 0)
    except ValueError as error:
        print("dataset refused:", error)
    wil.compare(small)  # and the process is still healthy
    print("still trains")
""")


def test_refused_under_a_lowered_address_space_limit_before_allocating():
    """In a child process whose address space is capped 1.5 GB above what it uses: a run estimated
    above that is refused with the estimate, at once (nothing was allocated: no MemoryError, no kill),
    a dataset of 10^9 samples too, and smaller runs still train."""
    out = subprocess.run([sys.executable, "-c", LOWERED.format(root=str(ROOT))], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    assert lines[0].startswith("refused in") and "needs about" in lines[0] and "is available" in lines[0]
    assert float(lines[0].split()[2]) < 1.0
    assert lines[1].startswith("dataset refused: Dataset 'moons' with 1,000,000,000 samples needs about")
    assert lines[-1] == "still trains"

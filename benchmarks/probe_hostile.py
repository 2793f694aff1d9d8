"""Hostile inputs to the library (issue 18, the library's half): every public function of ``wil.__all__``,
the command line (``python -m wil sweep`` in subprocesses) and the environment (``WIL_*`` variables), each
tried as a careless or hostile user would. The cases are in ``benchmarks/hostile_cases.py``.

    python benchmarks/probe_hostile.py            # every case (~2-3 minutes on two shared cores)
    python benchmarks/probe_hostile.py --quick    # every fifth library case, a few subprocesses (~30 s)

A case fails when it raises anything but a ``ValueError``/``TypeError`` whose message names the argument
(short: at most ``MAX_MESSAGE`` characters; or the refusal of a run that cannot fit the memory, with its
estimate), takes longer than ``SECONDS_PER_CASE``, warns, returns NaN
without saying so (or a ``Config`` keeping a value of the wrong type), accepts what it must refuse, or leaves
a file behind. A command fails when it prints a traceback or a warning, takes longer than
``SECONDS_PER_COMMAND``, or exits otherwise than expected. Prints one line per group and the total:
``N cases, F failures`` (after a line with the seconds taken).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import hostile_cases as cases_module  # noqa: E402
import wil  # noqa: E402
from hostile_cases import TINY, Case  # noqa: E402

SECONDS_PER_CASE = 30
SECONDS_PER_COMMAND = 60
MAX_MESSAGE = 1500
MEMORY_REFUSAL = "of memory at its peak, and"  # a run that cannot fit, refused with its estimate
SWEEP = [sys.executable, "-m", "wil", "sweep", "--n-samples", "40", "--depth", "1", "--width", "3", "--epochs", "2",
         "--backend", "none", "--no-progress"]


ACCEPTED: collections.Counter = collections.Counter()  # cases per group whose call returned (not refused)
SUBPROCESSES = ("command line", "environment")  # groups of commands, not calls


class Timeout(BaseException):
    """Raised by the alarm: a case that hangs."""


def _alarm(number, frame):
    raise Timeout


def files(folder: str) -> set[str]:
    return {os.path.join(root, name) for root, dirs, names in os.walk(folder) for name in names + dirs}


def verdict(case: Case, folder: str) -> str | None:
    """Run ``case`` in ``folder`` (the working directory); None, or what went wrong."""
    before = files(folder)
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(SECONDS_PER_CASE)
    problem = None
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(io.StringIO()):  # tqdm bars
        warnings.simplefilter("always")
        try:
            value = case.call()
            ACCEPTED[case.group] += 1
            problem = "accepted" if case.refuse else case.check(value) if case.check else None
        except Timeout:
            problem = f"took more than {SECONDS_PER_CASE} s"
        except (ValueError, TypeError) as error:
            message = str(error)
            if MEMORY_REFUSAL in message:  # wil.spec.resources.check_fits: refused before allocating
                pass
            elif not any(name.lower() in message.lower() for name in case.name.split("|")):
                problem = f"{type(error).__name__} not naming {case.name!r}: {message[:200]!r}"
            elif len(message) > MAX_MESSAGE:
                problem = f"a message of {len(message):,} characters"
        except BaseException as error:  # noqa: BLE001 - anything else is the failure this probe looks for
            problem = f"{type(error).__name__}: {str(error)[:200]!r}"
        finally:
            signal.alarm(0)
    if caught and problem is None:
        problem = f"warned: {caught[0].category.__name__}: {str(caught[0].message)[:150]}"
    left = sorted(p for p in files(folder) - before if os.path.basename(p) not in case.leaves)
    for path in files(folder) - before:
        shutil.rmtree(path, ignore_errors=True) if os.path.isdir(path) else _unlink(path)
    if left and problem is None:
        problem = f"left {[os.path.relpath(p, folder) for p in left][:3]}"
    return problem


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def command(arguments: list[str], expect: int | None, folder: str, environ: dict | None = None) -> str | None:
    """Run ``python -m wil ...`` (or any command) in ``folder``; ``expect``: its exit code (None: not 0)."""
    before = files(folder)
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(environ or {})}
    try:
        done = subprocess.run(arguments, cwd=folder, env=env, capture_output=True, text=True,
                              timeout=SECONDS_PER_COMMAND)
    except subprocess.TimeoutExpired:
        return f"took more than {SECONDS_PER_COMMAND} s"
    left = files(folder) - before
    for path in left:
        shutil.rmtree(path, ignore_errors=True) if os.path.isdir(path) else _unlink(path)
    last = (done.stderr.strip().splitlines() or [""])[-1]
    if "Traceback" in done.stderr or "Warning" in done.stderr:
        return f"printed a traceback or a warning: {done.stderr[-300:]!r}"
    if (done.returncode != 0) if expect == 0 else (done.returncode == 0):
        return f"exit {done.returncode}: {last[:200]!r}"
    if expect is None and "Invalid" not in last and "error" not in last:
        return f"no one-line reason: {last[:200]!r}"
    if expect is None and left:
        return f"left {sorted(os.path.basename(p) for p in left)}"
    return None


def cli_cases() -> list[tuple[list[str], int | None]]:
    """(arguments after ``python -m wil sweep --backend none ...``, the exit code expected: None = refused)."""
    refused = [["--grid", "depth=1:10:500000000"], ["--grid", "scale=1:2:2000000000"], ["--grid", "depth=\u0661"],
               ["--grid", "depth=1_0"], ["--grid", "depth=1", "--seeds", "a"], ["--grid", "depth=1", "--seeds",
               "0:10000000000"], ["--grid", "depth=1", "--n-jobs", "2.5"], ["--grid", "depth=1", "--out", ""],
               ["--grid", "depth=1", "--out", "/proc/x.parquet"], ["--grid", "depth=1", "--out", "."],
               ["--grid", "depth=1", "--noise", "1e200"], ["--grid", "depth=0"], ["--grid", "nope=1"],
               ["--grid", "depth=1", "--epochs", "1e400"], [], ["--grid", "depth=1", "--seeds", "0,0"],
               ["--grid", "depth=nan"], ["--grid", "learning_rate=inf"], ["--grid", "depth=1", "--depth", "-1"],
               ["--grid", "depth=1:1000000:1000000"], ["--grid", "depth=1", "--dataset", "\u0661"],
               ["--grid", "depth=1", "--initializer", "random_normal(std=\u0661)"]]
    return [(arguments, None) for arguments in refused] + [(["--grid", "depth=1,2", "--seeds", "0,1"], 0)]


def environment_cases() -> list[dict]:
    deep = "[" * 50_000 + "]" * 50_000
    return [{"WIL_POLICY": value} for value in ("", "not json", deep, '{"max_seconds": 1e300}', "\ufeff{}",
                                                 '{"max_upload_mb": -1}', "9" * 5000, "null")] + [
        {"WIL_DEBUG": "1"}, {"WIL_THREADS": "-1"}, {"WIL_SEED": "\u0661"}, {"WIL_": "x" * 100_000}]


def groups(quick: bool, folder: str) -> dict[str, list]:
    """Group name -> checks (each a callable returning a problem or None)."""
    saved = os.path.join(folder, "run.zip")
    result = wil.compare(TINY)
    result.save(saved)
    cases_module.prepare_scratch(folder, saved)
    library = [*cases_module.config_cases(), *cases_module.initialize_cases(), *cases_module.label_cases(),
               *cases_module.dataset_cases(), *cases_module.frame_cases(), *cases_module.run_cases(),
               *cases_module.theory_cases(), *cases_module.export_cases(), *cases_module.sweep_cases(),
               *cases_module.io_cases(result)]
    found: dict[str, list] = {}
    for case in library[::5] if quick else library:
        found.setdefault(case.group, []).append(lambda c=case: verdict(c, folder))
    clis = cli_cases()
    found["command line"] = [lambda a=a, e=e: command([*SWEEP, *a], e, folder) for a, e in (clis[::6] if quick
                                                                                             else clis)]
    script = "import wil; from hostile_cases import TINY; print(wil.train(TINY).status.shape)"
    environ = environment_cases()
    found["environment"] = [
        lambda env=env: command([sys.executable, "-c", script], 0, folder, {**env, "PYTHONPATH":
                                                                            f"{ROOT}:{ROOT / 'benchmarks'}"})
        for env in (environ[::4] if quick else environ)]
    found["environment"] += [lambda env=env: command([*SWEEP, "--grid", "depth=1"], 0, folder, env)
                             for env in environ[:2 if quick else None]]
    return found


def describe(check) -> str:
    """A failing case's argument and value, short."""
    from wil.spec.checks import shown

    case = (check.__defaults__ or (None,))[0]
    if not isinstance(case, Case):
        return shown(case)[:80]
    return f"{case.name}={shown((case.call.__defaults__ or ('?',))[-1])}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="every fifth library case, a few subprocesses")
    parser.add_argument("--show", type=int, default=5, help="failures shown per group")
    args = parser.parse_args()
    total = failed = 0
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="wil-probe-") as folder:
        cwd = os.getcwd()
        os.chdir(folder)
        try:
            for group, checks in groups(args.quick, folder).items():
                began = time.perf_counter()
                problems = [(i, p) for i, check in enumerate(checks) if (p := check()) is not None]
                total, failed = total + len(checks), failed + len(problems)
                accepted = " " * 15 if group in SUBPROCESSES else f"{ACCEPTED[group]:4d} accepted, "
                print(f"{group:16s} {len(checks):5d} cases, {accepted}{len(problems):3d} failures "
                      f"({time.perf_counter() - began:5.1f} s)", flush=True)
                for index, problem in problems[:args.show]:
                    print(f"    {describe(checks[index])}: {problem}", flush=True)
        finally:
            os.chdir(cwd)
    print(f"in {time.perf_counter() - start:.0f} s")
    print(f"{total} cases, {failed} failures")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

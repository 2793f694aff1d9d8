"""Wall time and peak memory of the largest runs ``wil.Config``'s limits allow, each in a fresh process.

Usage::

    python benchmarks/bench_limits.py            # every case, a table
    python benchmarks/bench_limits.py --only wide_deep_many --only max_epochs
    python benchmarks/bench_limits.py --list     # the cases and their configs, without running them

Each case pushes one or two dimensions to their limit and then grows the rest (networks, epochs,
samples) as far as ``Config`` accepts, so the cases follow the limits when they change. A case runs in
its own process (``wil.compare`` with diagnostics, as the app calls it, then the ``Result`` pickled as
``st.cache_data`` stores it); the parent reports the child's wall time and peak RSS (``ru_maxrss``) and
kills it if it passes ``--kill-mb`` or ``--timeout``, so a bad limit cannot take the machine down.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import wil  # noqa: E402
from wil_app.policy import CAPS as LIMITS, POLICY  # noqa: E402  (the server's policy: the library has none)

# The twelve initializers that cost the most to draw (orthogonal: a QR per layer; LSUV: extra passes).
TWELVE = ("lsuv(max_iter=100, tol=0.001)", "orthogonal", "he_normal", "glorot_normal", "lecun_normal",
          "truncated_normal", "random_normal", "he_uniform", "glorot_uniform", "lecun_uniform",
          "random_uniform", "torch_default")


def _accepted(config: wil.Config, **changes) -> wil.Config | None:
    """``config`` with ``changes`` if the server's policy accepts it, else None."""
    try:
        changed = dataclasses.replace(config, **changes)
    except ValueError:
        return None
    return changed if POLICY.problem(changed) is None else None


def grow(config: wil.Config, name: str) -> wil.Config:
    """``config`` with integer field ``name`` as large as the limits allow (binary search)."""
    low, high = getattr(config, name), int(LIMITS[name][1])
    if _accepted(config, **{name: low}) is None:
        raise ValueError(f"{config} is not valid to start from")
    while low < high:
        middle = (low + high + 1) // 2
        if _accepted(config, **{name: middle}) is None:
            high = middle - 1
        else:
            low = middle
    return dataclasses.replace(config, **{name: low})


def grow_compare(config: wil.Config) -> wil.Config:
    """As many of ``TWELVE`` as the limits allow."""
    best = config
    for count in range(1, len(TWELVE) + 1):
        candidate = _accepted(config, compare=TWELVE[:count])
        if candidate is None:
            break
        best = candidate
    return best


def _base(**fields) -> wil.Config:
    smallest = dict(n_samples=int(LIMITS["n_samples"][0]), depth=1, width=1, epochs=1, compare=("he_normal",))
    return wil.Config(**{**smallest, **fields})


def cases() -> dict[str, wil.Config]:
    """The extreme corners of the allowed space, by name: each fills one budget (or two) to the brim."""
    top = {name: int(LIMITS[name][1]) for name in ("depth", "width", "n_samples", "epochs", "n_seeds")}
    out = {}
    # MAX_PARAMETERS, one network: the widest layers, as deep and then as long as allowed, with Adam
    c = grow(_base(width=top["width"], optimizer="adam"), "depth")
    out["params_one_wide"] = grow(c, "epochs")
    # MAX_PARAMETERS, every network: 12 initializers x max seeds, as wide and then as long as allowed
    c = grow(grow(_base(depth=4, compare=TWELVE, optimizer="adam"), "n_seeds"), "width")
    out["params_many"] = grow(c, "epochs")
    # MAX_ACTIVATIONS, most samples: the widest layers, as deep and as long as allowed
    c = grow(_base(n_samples=top["n_samples"], width=top["width"]), "depth")
    out["activations_wide"] = grow(c, "epochs")
    # MAX_ACTIVATIONS, most samples and networks: as wide and as long as allowed
    c = grow(grow(_base(n_samples=top["n_samples"], depth=2, compare=TWELVE), "n_seeds"), "width")
    out["activations_many"] = grow(c, "epochs")
    # MAX_ROWS: every network, as deep and then as long as allowed
    c = grow(grow(_base(compare=TWELVE), "depth"), "epochs")
    out["rows_deep"] = grow(c, "n_seeds")
    c = grow(_base(dataset="iris", compare=TWELVE, n_seeds=top["n_seeds"]), "epochs")
    out["rows_no_grid"] = grow(grow(c, "depth"), "width")
    c = grow(_base(depth=8, width=32, n_samples=400, compare=TWELVE), "n_seeds")
    out["rows_demo_shape"] = grow(grow(c, "epochs"), "n_samples")
    # MAX_WORK: the demo's shape, as many networks and epochs as allowed
    c = grow(_base(depth=8, width=32, n_samples=400, compare=TWELVE), "n_seeds")
    out["work_demo_shape"] = grow(c, "epochs")
    # MAX_WORK on little data: deepest, then as wide and as long as allowed
    c = grow(_base(depth=top["depth"]), "width")
    out["work_deep_wide"] = grow(c, "epochs")
    # MAX_STEPS: one-sample batches over the most samples, then as deep and as long as allowed
    c = grow(_base(n_samples=top["n_samples"], batch_size=1), "epochs")
    out["steps_batch_of_one"] = grow(c, "depth")
    # MAX_STEPS and MAX_WORK together: deepest, as many epochs as steps allow, then as wide as work allows
    c = grow(_base(depth=top["depth"]), "epochs")
    out["steps_and_work"] = grow(c, "width")
    # the shipped dataset with the most features and classes, as wide and long as allowed
    c = grow(grow(_base(dataset="digits", depth=2, compare=TWELVE), "n_seeds"), "width")
    out["digits_many"] = grow(c, "epochs")
    return out


# ---------------------------------------------------------------- child process

def run_one(config_json: str) -> None:
    """In the child: train, pickle the result, print one JSON line of figures."""
    import pickle

    config = wil.Config(**json.loads(config_json))
    start = time.perf_counter()
    result = wil.compare(config)
    train_seconds = time.perf_counter() - start
    pickled = pickle.dumps(result)
    rows = sum(len(frame) for frame in (result.history, result.layers, result.histograms, result.grid))
    print(json.dumps({
        "train_s": round(train_seconds, 2),
        "rows": rows,
        "pickle_mb": round(len(pickled) / 2**20, 1),
        "diverged": int(result.status["diverged"].sum()),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }))


def _rss_mb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


def measure(config: wil.Config, timeout: float, kill_mb: int) -> dict:
    """Run ``config`` in a fresh interpreter; its figures, or why it was stopped."""
    fields = dataclasses.asdict(config)
    fields["compare"] = list(fields["compare"])
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, __file__, "--child", json.dumps(fields)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stopped = ""
    while child.poll() is None:
        time.sleep(0.05)
        if _rss_mb(child.pid) > kill_mb:
            stopped = f"killed above {kill_mb} MB"
        elif time.perf_counter() - start > timeout:
            stopped = f"killed after {timeout:g} s"
        if stopped:
            child.kill()
    out, err = child.communicate()
    wall = time.perf_counter() - start
    if stopped or child.returncode != 0:
        return {"wall_s": round(wall, 1), "error": stopped or err.strip().splitlines()[-1]}
    return {"wall_s": round(wall, 1), **json.loads(out.strip().splitlines()[-1])}


def describe(config: wil.Config) -> str:
    n_networks = len(config.labels) * config.n_seeds
    batch = "full" if config.batch_size is None else config.batch_size
    return (f"{config.dataset} n={config.n_samples} depth={config.depth} width={config.width} "
            f"epochs={config.epochs} networks={n_networks} batch={batch} {config.optimizer}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", help="run only this case (repeatable)")
    parser.add_argument("--list", action="store_true", help="print the cases and exit")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds before a case is killed")
    parser.add_argument("--kill-mb", type=int, default=3000, help="RSS at which a case is killed")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_one(args.child)
        return
    chosen = {name: c for name, c in cases().items() if not args.only or name in args.only}
    print(f"limits: {', '.join(f'{k} {v[0]:g}..{v[1]:g}' for k, v in LIMITS.items())}")
    print("budgets: " + ", ".join(f"{name} {getattr(POLICY, name):.3g}" for name in
                                   ("max_seconds", "max_memory_mb")))
    print(f"python {sys.version.split()[0]}, numpy {wil.engine.model.np.__version__}, {os.cpu_count()} cores\n")
    header = f"{'case':<20} {'wall s':>7} {'train s':>8} {'peak RSS MB':>11} {'rows':>9} {'pickle MB':>9}  config"
    print(header)
    print("-" * len(header))
    for name, config in chosen.items():
        if args.list:
            print(f"{name:<20} {'':>7} {'':>8} {'':>11} {'':>9} {'':>9}  {describe(config)}")
            continue
        figures = measure(config, args.timeout, args.kill_mb)
        if "error" in figures:
            print(f"{name:<20} {figures['wall_s']:>7} FAILED: {figures['error']}  {describe(config)}")
        else:
            print(f"{name:<20} {figures['wall_s']:>7} {figures['train_s']:>8} {figures['peak_rss_mb']:>11} "
                  f"{figures['rows']:>9} {figures['pickle_mb']:>9}  {describe(config)}", flush=True)


if __name__ == "__main__":
    main()

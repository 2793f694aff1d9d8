"""The command line: ``python -m wil sweep ...`` trains a grid of networks (see ``wil.sweep``).

Example, the trainability phase diagram of tanh networks on digits::

    python -m wil sweep --dataset digits --activation tanh --initializer "mean_field(sigma_b2=0.05)" \\
        --width 32 --epochs 100 --grid sigma_w2=1:4:13 --grid depth=5,10,20,30,40,50 --seeds 0,1 \\
        --out sweep.parquet --plot sweep.png
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from wil.spec.checks import parse_decimal, parse_integer, shown
from wil.spec.config import Config, clipped
from wil.sweep.backends import BACKENDS
from wil.sweep.plan import MAX_NETWORKS, axis_kind
from wil.sweep.protocols import PROTOCOLS, prepare

# Config fields the command line offers: one network's (a sweep's own --grid and --seeds replace the others)
_FIELDS = [f for f in dataclasses.fields(Config) if f.name in Config.network_fields()]


def parse_values(axis: str, text: str) -> list:
    """The values of one ``--grid`` axis: ``v1,v2,...`` or ``start:stop:count`` (``count`` evenly spaced
    values from ``start`` to ``stop``, both included; integers rounded and deduplicated for integer fields).

    Raises ValueError naming the axis and what was received.
    """
    kind = axis_kind(axis)  # "int", "nullable_int" (batch_size), "str" or "float"
    text = text.strip()
    if ":" in text and kind != "str":
        return _value_range(axis, kind, text)
    values = [_value(axis, kind, part.strip()) for part in text.split(",") if part.strip()]
    if not values:
        raise ValueError(f"Invalid --grid {axis}: no values")
    return values


def _value(axis: str, kind: str, part: str):
    """One value of a ``--grid`` axis of ``axis_kind`` ``kind``."""
    if kind == "str":
        return part
    if kind == "nullable_int" and part.lower() in ("full", "none"):
        return None
    try:
        value = parse_decimal(f"--grid {axis}", part)  # ASCII digits only: float() reads "١" and "1_0" too
    except ValueError:
        raise ValueError(f"Invalid --grid {axis}: {shown(part)} is not a number (a plain decimal such as "
                         f"0.5 or 1e-3)") from None
    if kind in ("int", "nullable_int"):
        if value != int(value) or abs(value) > 2**63:
            raise ValueError(f"Invalid --grid {axis}: expected integers, got {shown(part)}")
        return int(value)
    return float(f"{value:.10g}")


def _value_range(axis: str, kind: str, text: str) -> list:
    """``start:stop:count`` of a numeric ``--grid`` axis (see ``parse_values``)."""
    import numpy as np

    parts = text.split(":")
    if len(parts) != 3:
        raise ValueError(f"Invalid --grid {axis}={shown(text)}: a range is start:stop:count")
    start, stop = _value(axis, kind, parts[0]), _value(axis, kind, parts[1])
    try:
        count = parse_integer("count", parts[2], 1)
    except ValueError:
        raise ValueError(f"Invalid --grid {axis}={shown(text)}: count must be a positive integer, "
                         f"got {shown(parts[2])}") from None
    if count > MAX_NETWORKS:  # refused before NumPy makes the values
        raise ValueError(f"Invalid --grid {axis}={shown(text)}: {count:,} values, more than the {MAX_NETWORKS:,} "
                         f"networks a sweep takes")
    values = np.linspace(float(start), float(stop), count)
    if kind in ("int", "nullable_int"):
        return list(dict.fromkeys(int(round(v)) for v in values))
    return [float(f"{v:.10g}") for v in values]


def _grid(items: list[str]) -> dict:
    """``--grid`` options to a grid mapping, in their order."""
    grid = {}
    for item in items:
        axis, sep, text = item.partition("=")
        axis = axis.strip()
        if not sep or not axis:
            raise ValueError(f"Invalid --grid {shown(item)}: expected name=v1,v2,... or name=start:stop:count")
        if axis in grid:
            raise ValueError(f"Invalid --grid: {shown(axis)} is given twice")
        grid[axis] = parse_values(axis, text)
    return grid


def _seeds(text: str) -> list[int]:
    """``0,1,2`` or ``0:4`` (0, 1, 2, 3)."""
    try:
        if ":" in text:
            start, stop = (parse_integer("--seeds", p, 0) for p in text.split(":"))
            if stop - start > MAX_NETWORKS:
                raise ValueError(f"Invalid --seeds {shown(text)}: {stop - start:,} seeds, more than the "
                                 f"{MAX_NETWORKS:,} networks a sweep takes")
            return list(range(start, stop))
        return [parse_integer("--seeds", p, 0) for p in text.split(",") if p.strip()]
    except ValueError as error:
        if "networks a sweep takes" in str(error):
            raise
        raise ValueError(f"Invalid --seeds {shown(text)}: expected 0,1,2 or start:stop") from None


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m wil`` parser (one command, ``sweep``)."""
    parser = argparse.ArgumentParser(prog="python -m wil", description="wil, the weight-initialization lab")
    commands = parser.add_subparsers(dest="command", required=True)
    sweep = commands.add_parser(
        "sweep", help="train a grid of networks (see wil.sweep)",
        description="Train a grid of networks, one batched run per architecture, on local processes, a Dask "
                    "cluster or Ray; stream the rows to parquet; resume an interrupted sweep.")
    config = sweep.add_argument_group("the base configuration (wil.Config fields; defaults as Config's)")
    for field in _FIELDS:
        config.add_argument(f"--{field.name.replace('_', '-')}", dest=field.name, metavar=field.name.upper(),
                            help=f"default {field.default!r}" + (" ('full' for full batch)"
                                                                 if field.name == "batch_size" else ""))
    sweep.add_argument("--grid", action="append", default=[], metavar="NAME=VALUES", required=True,
                       help="an axis: a Config field or a parameter of --initializer, with values v1,v2,... or "
                            "start:stop:count (e.g. sigma_w2=1:4:13, depth=10,20,50); repeat for more axes")
    sweep.add_argument("--seeds", default="0", help="the networks' seeds at every point: 0,1,2 or 0:3 (default 0)")
    sweep.add_argument("--backend", choices=[*BACKENDS, "none"], default=BACKENDS[0],
                       help="loky: local processes (default); dask: a Dask cluster (--scheduler, else a local "
                            "one); ray: a Ray cluster (--scheduler, else RAY_ADDRESS's, else a local one); none: "
                            "this process")
    sweep.add_argument("--n-jobs", type=_integer, default=None, help="tasks at once (default: every core or worker)")
    sweep.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="a cluster's address: a Dask scheduler's, e.g. tcp://10.0.0.5:8786 (--backend dask), "
                            "or Ray's, e.g. 10.0.0.5:6379 (--backend ray)")
    sweep.add_argument("--out", default=None, metavar="FILE.parquet",
                       help="write the rows here as tasks finish; an interrupted sweep resumes from it")
    sweep.add_argument("--plot", default=None, metavar="FILE.html|FILE.png",
                       help="save the phase diagram (the first two axes) as HTML or PNG")
    sweep.add_argument("--c", type=_number, default=6.0, help="draw c x xi_c on the plot (default 6)")
    sweep.add_argument("--no-progress", action="store_true", help="no progress bar")
    sweep.add_argument("--protocol", default=None, choices=sorted(PROTOCOLS),
                       help="a preset that can test a paper (see wil.sweep.protocols): schoenholz2017 sets width "
                            ">= 64, >= 3 seeds, 3,000 SGD steps, a learning rate per depth; prints its cost first")
    sweep.add_argument("--refine", action="store_true",
                       help="with --protocol: after the grid, bisect each sigma_w2 column's depth until its boundary "
                            "is placed within the protocol's step (xi_c / 2), in rounds that join --out; the same "
                            "command resumes it")
    return parser


def _config(args: argparse.Namespace) -> Config:
    """The base Config from the options given (as a URL would give them: the same parser and checks)."""
    given = {f.name: getattr(args, f.name) for f in _FIELDS if getattr(args, f.name) is not None}
    return Config.from_query_params(given)


def phase_chart(frame, config: Config, grid: dict, c: float = 6.0):
    """The phase diagram of a sweep's frame over its first two axes, with the mean-field theory when the
    initializer is ``mean_field`` and the x axis is ``sigma_w2``."""
    import numpy as np

    from wil import charts
    from wil.analysis import theory
    from wil.spec.labels import parse_entry

    axes = list(grid)
    if len(axes) < 2:
        raise ValueError("Invalid --plot: the phase diagram needs two grid axes (e.g. sigma_w2 and depth)")
    x, y = axes[0], axes[1]
    name, params = parse_entry(config.initializer)
    curve, critical = None, None
    if name == "mean_field" and x == "sigma_w2":
        sigma_b2 = params["sigma_b2"]
        low, high = min(grid[x]), max(grid[x])
        curve = theory.phase_frame(config.activation, sigma_b2, np.linspace(low, high, 61))
        try:
            critical = theory.critical_sigma_w2(config.activation, sigma_b2)
        except ValueError:
            critical = None
    title = f"Trainability: {config.activation}, {config.dataset}, width {config.width}, {config.epochs} epochs"
    return charts.phase_diagram(frame, x, y, theory=curve, critical=critical, c=c, title=title)


def run_sweep(args: argparse.Namespace) -> int:
    """The ``sweep`` command."""
    from wil.sweep.run import sweep  # pandas and the engine: loaded when a sweep runs

    config = _config(args)
    grid = _grid(args.grid)
    if args.plot and not args.plot.lower().endswith((".html", ".png")):
        raise ValueError(f"Invalid --plot {args.plot!r}: expected a .html or .png file")
    frame = sweep(config, grid, seeds=_seeds(args.seeds), backend=None if args.backend == "none" else args.backend,
                  n_jobs=args.n_jobs, scheduler=args.scheduler, progress=not args.no_progress, out=args.out,
                  protocol=args.protocol, refine=args.refine)
    trainable = frame["trainable"].mean()
    print(f"{len(frame)} networks, {trainable:.0%} trainable, {frame['diverged'].mean():.0%} diverged"
          + (f"; rows in {args.out}" if args.out else ""), file=sys.stderr)
    if args.plot:
        if args.protocol:  # the title's width and epochs are the protocol's
            config = prepare(args.protocol, config, grid, [0])[0]
        phase_chart(frame, config, grid, args.c).save(args.plot)
        print(f"phase diagram in {args.plot}", file=sys.stderr)
    if not args.out:
        frame.to_csv(sys.stdout, index=False)
    return 0


def _integer(text: str) -> int:
    """An argparse type: a plain ASCII integer (argparse reports a ``ValueError`` as an invalid value)."""
    return parse_integer("value", text, 1)


def _number(text: str) -> float:
    """An argparse type: a plain ASCII decimal."""
    return parse_decimal("value", text)


def main(argv: list[str] | None = None) -> int:
    """Run the command line. Bad input exits with status 2 and the reason; Ctrl-C or SIGTERM with 130 or 143
    and one line saying what was saved (``wil.sweep``'s ``SweepStopped``); workers that kept dying with 1."""
    from wil.sweep.backends import WorkerLost
    from wil.sweep.run import SweepStopped

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return run_sweep(args)
    except (ValueError, TypeError) as error:
        parser.exit(2, f"python -m wil sweep: error: {clipped(error, 1000)}\n")
    except SweepStopped as stopped:
        parser.exit(143 if "SIGTERM" in repr(stopped.__context__) else 130, f"python -m wil sweep: {stopped}\n")
    except WorkerLost as lost:
        parser.exit(1, f"python -m wil sweep: {lost}\n")
    except KeyboardInterrupt:  # before the sweep started: nothing to save
        parser.exit(130, "python -m wil sweep: stopped before any network trained\n")
    except OSError as error:  # e.g. the plot's file cannot be written
        parser.exit(1, f"python -m wil sweep: error: {clipped(error, 1000)}\n")


if __name__ == "__main__":
    sys.exit(main())

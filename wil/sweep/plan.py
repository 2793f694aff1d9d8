"""The plan of a sweep: its grid checked and cut into tasks, one batched run per architecture, and those
tasks cut into pieces of about equal cost for parallel workers.

A grid maps ``Config`` fields and parameters of ``config.initializer`` to lists of values. Networks that
differ only in initializer parameters and seed share an architecture, so each combination of the
``Config`` fields is one task: one batched ``wil.compare`` trains its column of the grid. For parallel
workers a costly column is cut into pieces (runs of its initializer labels, with every seed) when that
shortens the schedule (``split_tasks``), and the costliest pieces go first.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from typing import Iterable, Mapping, Sequence

import numpy as np

from wil.spec.checks import ArgumentTypeError, check_items, check_seeds, shown
from wil.spec.config import FLOAT_FIELDS, INTEGER_FIELDS, Config
from wil.spec.datasets import DATASETS, MAX_SEED
from wil.spec.labels import make_label, parse_entry
from wil.spec.resources import check_fits

MAX_NETWORKS = 100_000  # networks in one sweep (grid points x seeds): rows, not a guess at time
MAX_TASKS = 10_000  # architectures (batched runs): each is sized and checked while planning
MAX_CPU_SECONDS = 365 * 86400.0  # a sweep estimated to need more than a year of one core is refused
# a task's cost beyond its networks' (its dataset, diagnostics run and frames), in networks of its column
PIECE_OVERHEAD = 1.0


@dataclasses.dataclass(frozen=True)
class Task:
    """One batched run: a config, the initializer labels it trains (one per point of the parameter
    axes) and the seeds; ``points`` are the grid values of each label's networks."""

    config: Config
    labels: tuple[str, ...]
    seeds: tuple[int, ...]
    points: tuple[tuple, ...]  # per label: the values of every grid axis, in the grid's order

    @property
    def n_networks(self) -> int:
        return len(self.labels) * len(self.seeds)

    def keys(self) -> list[tuple]:
        """The (grid values..., seed) of every row this task makes."""
        return [(*point, seed) for point in self.points for seed in self.seeds]

    def cost(self) -> float:
        """Relative cost: (networks + ``PIECE_OVERHEAD``) x epochs x parameters (for the order and the cut)."""
        return (self.n_networks + PIECE_OVERHEAD) * self.config.epochs * n_parameters(self.config)

    def subset(self, indices: Sequence[int]) -> Task:
        """The task of the labels at ``indices`` (with every seed)."""
        return Task(self.config, tuple(self.labels[i] for i in indices), self.seeds,
                    tuple(self.points[i] for i in indices))

    def split(self, pieces: int) -> list[Task]:
        """This task cut into ``pieces`` runs of consecutive labels of sizes within one (at most one per label)."""
        parts = np.array_split(np.arange(len(self.labels)), min(pieces, len(self.labels)))
        return [self.subset(part) for part in parts]


def split_tasks(tasks: Sequence[Task], workers: int) -> list[Task]:
    """``tasks`` for ``workers`` workers, costliest first, each cut into pieces of about equal cost when
    that pays: of the cuts into about 1 to 8 pieces a worker, the one whose longest-processing-time-first
    schedule ends earliest by ``Task.cost`` (which charges each piece ``PIECE_OVERHEAD``), unless it gains
    under 3% on a cut into fewer pieces. Balances a grid of few columns of unequal depths."""
    def ordered(pieces):
        return sorted(pieces, key=lambda t: -t.cost())

    best = columns = ordered(tasks)
    if workers < 2 or not columns:
        return best
    total, span = sum(t.cost() for t in columns), makespan(columns, workers)
    for per_worker in range(1, 9):
        target = total / (workers * per_worker)
        pieces = ordered([piece for t in columns for piece in t.split(math.ceil(t.cost() / target))])
        if makespan(pieces, workers) < 0.97 * span:
            best, span = pieces, makespan(pieces, workers)
    return best


def makespan(tasks: list[Task], workers: int) -> float:
    """When the last worker finishes ``tasks``, given in this order to the first worker free, by ``Task.cost``."""
    ends = [0.0] * workers
    for task in tasks:
        ends[ends.index(min(ends))] += task.cost()
    return max(ends)


def plan_tasks(config: Config, grid: Mapping[str, Sequence], seeds: Iterable[int]) -> list[Task]:
    """The tasks of a sweep, in the grid's order, each validated (a ``Config`` that refuses a grid point
    raises its ``ValueError`` here, before anything trains).

    Parameters
    ----------
    config, grid, seeds : as ``wil.sweep`` takes them.

    Returns
    -------
    list of Task : one per combination of the ``Config`` axes' values, training every combination of the
        initializer-parameter axes' values (its labels) with every seed.

    Raises
    ------
    ValueError : an axis that is neither a ``Config`` field nor a parameter of ``config.initializer``, an
        empty or repeated list of values, a grid point the ``Config`` refuses, bad seeds, more than
        ``MAX_NETWORKS`` networks, or more than ``MAX_CPU_SECONDS`` of estimated work (checked before any
        task is made or trains).
    """
    if not isinstance(config, Config):
        raise ArgumentTypeError(f"Invalid config: expected a wil.Config, got {shown(config)}")
    if not isinstance(grid, Mapping) or not grid:
        raise ArgumentTypeError(f"Invalid grid: expected a non-empty mapping of name -> list of values, "
                                f"got {shown(grid)}")
    seeds = tuple(check_seeds("seeds", seeds, MAX_SEED, MAX_NETWORKS))
    axes = checked_axes(config, grid)
    check_size(axes, seeds)
    fields = Config.network_fields()
    config_axes = [a for a in axes if a in fields]
    param_axes = [a for a in axes if a not in config_axes]
    tasks, seconds = [], 0.0
    for config_values in itertools.product(*(axes[a] for a in config_axes)):
        task = _task(config, axes, dict(zip(config_axes, config_values)), param_axes, seeds)
        seconds += estimated_seconds(task)
        check_cost(seconds, math.prod(len(v) for v in axes.values()) * len(seeds))  # before its memory check
        tasks.append(task)
        _check_memory(task, ", ".join(f"{a}={v!r}" for a, v in zip(config_axes, config_values)))
    return tasks


def check_size(axes: dict[str, list], seeds: tuple[int, ...]) -> None:
    """Refuse a grid of more than ``MAX_NETWORKS`` networks or ``MAX_TASKS`` architectures, before any task
    is made."""
    networks = math.prod(len(values) for values in axes.values()) * len(seeds)
    sizes = " x ".join(f"{len(values):,} {axis}" for axis, values in axes.items())
    if networks > MAX_NETWORKS:
        raise ValueError(f"Invalid grid: {sizes} x {len(seeds):,} seeds = {networks:,} networks, more than the "
                         f"{MAX_NETWORKS:,} a sweep takes; sweep a coarser grid, or split it over several files")
    fields = Config.network_fields()
    tasks = math.prod(len(values) for axis, values in axes.items() if axis in fields)
    if tasks > MAX_TASKS:
        raise ValueError(f"Invalid grid: {sizes} make {tasks:,} architectures (batched runs), more than the "
                         f"{MAX_TASKS:,} a sweep takes; sweep a coarser grid, or split it over several files")


def estimated_seconds(task: Task) -> float:
    """The CPU time of ``task``, from the work the app's budget counts (networks x epochs x (samples + 8) x
    (parameters + 16 hidden units), ~1 ns each: docs/RELIABILITY.md) plus Python's ~0.07 ms a step. In
    closed form (O(1), whatever the depth), so that a grid beyond reason is refused before it is sized."""
    config = task.config
    width, depth = config.width, config.depth
    work = task.n_networks * config.epochs * (config.n_train() + 8) * (n_parameters(config) + 16 * depth * width)
    steps = config.epochs * (config.n_batches() + 2) * (depth + 1)
    return work * 1e-9 + steps * 7e-5


def n_parameters(config: Config) -> int:
    """``config.n_parameters()`` in closed form: O(1) whatever the depth (``Config``'s sums over layers)."""
    spec, width = DATASETS[config.dataset], config.width
    return (spec.n_features + 1) * width + (config.depth - 1) * (width + 1) * width + (width + 1) * spec.n_outputs


def check_cost(seconds: float, networks: int) -> None:
    """Refuse a sweep whose estimated CPU time (``estimated_seconds``, summed) is beyond ``MAX_CPU_SECONDS``."""
    if seconds > MAX_CPU_SECONDS:
        raise ValueError(f"Invalid grid: its {networks:,} networks would take more than {seconds / 86400:,.0f} days "
                         f"of one core (estimated), beyond the {MAX_CPU_SECONDS / 86400:,.0f} days a sweep "
                         f"takes; reduce the grid, epochs, samples, width or depth")


def checked_axes(config: Config, grid: Mapping[str, Sequence]) -> dict[str, list]:
    """``grid`` (a non-empty mapping) with its values as plain Python values (initializer labels
    canonical), or ValueError."""
    fields = Config.network_fields()
    name, base_params = parse_entry(config.initializer)
    axes = {}
    for axis, values in grid.items():
        if not isinstance(axis, str) or (axis not in fields and axis not in base_params):
            raise ValueError(f"Invalid grid axis {shown(axis)}; choose a Config field {sorted(fields)} or a parameter "
                             f"of initializer {name!r} {sorted(base_params)}")
        values = [_scalar(axis, i, plain_value(v))
                  for i, v in enumerate(check_items(f"grid axis {axis!r}", values, MAX_NETWORKS))]
        if axis == "initializer":  # labels, as the frame's initializer column writes them
            try:
                values = [make_label(*parse_entry(v)) for v in values]
            except ValueError as error:
                raise type(error)(f"Invalid grid axis 'initializer': {error}") from None
        if not values or len(set(map(repr, values))) != len(values):
            raise ValueError(f"Invalid grid axis {axis!r}: expected distinct values, at least one, "
                             f"got {shown(values)}")
        axes[axis] = values
    if "initializer" in axes and set(axes) & set(base_params):
        raise ValueError("Invalid grid: an initializer axis and initializer-parameter axes cannot be combined")
    return axes


def _task(config: Config, axes: dict[str, list], config_values: dict, param_axes: list[str],
          seeds: tuple[int, ...]) -> Task:
    """The task of one combination of the ``Config`` axes' values, checked to fit this machine's memory."""
    where = ", ".join(f"{a}={v!r}" for a, v in config_values.items())
    try:
        task_config = dataclasses.replace(config, compare=(), n_seeds=1, **config_values)
    except ValueError as error:
        raise ValueError(f"Invalid grid point {where}: {error}") from None
    task_name, task_params = parse_entry(task_config.initializer)
    labels, points = [], []
    for param_values in itertools.product(*(axes[a] for a in param_axes)):
        labels.append(make_label(task_name, {**task_params, **dict(zip(param_axes, param_values))}))
        values = {**config_values, **dict(zip(param_axes, param_values))}
        points.append(tuple(values[a] for a in axes))
    return Task(task_config, tuple(labels), seeds, tuple(points))


def _check_memory(task: Task, where: str) -> None:
    """Refuse a task that cannot fit this machine's memory, before anything trains."""
    try:
        check_fits(f"This batched run ({task.n_networks} networks)", task.config.memory(task.n_networks)["peak"],
                   "a smaller grid column, or fewer seeds")
    except ValueError as error:
        raise ValueError(f"Invalid grid point {where or 'of the base config'}: {error}") from None


def axis_kind(axis: str) -> str:
    """How an axis's values are read and stored, from the ``Config`` field's annotation: ``"int"``,
    ``"nullable_int"`` (``int | None``: ``batch_size``), ``"float"`` (the float fields and initializer
    parameters) or ``"str"``."""
    if axis in INTEGER_FIELDS:
        return "nullable_int" if "None" in _FIELD_TYPES[axis] else "int"
    return "float" if axis in FLOAT_FIELDS or axis not in _FIELD_TYPES else "str"


_FIELD_TYPES = {f.name: str(f.type) for f in dataclasses.fields(Config)}  # the annotations, as written


def _scalar(axis: str, index: int, value):
    """A grid value that is one number, string or None (``batch_size``), else an error naming it."""
    if axis == "initializer":  # a name, a label or (name, params): parse_entry checks it
        return value
    if value is None or isinstance(value, (int, float, str)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"Invalid grid axis {axis!r}: value {index} is {shown(value)}, not a finite number")
        return value
    raise ArgumentTypeError(f"Invalid grid axis {axis!r}: value {index} is {shown(value)}; expected a number "
                            f"or a name")


def plain_value(value):
    """A grid value as a plain Python number or string (NumPy scalars from ``np.linspace`` included)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def row_order(tasks: list[Task], axes: list[str]) -> list[tuple]:
    """The (grid values..., seed) of every row of the sweep, in the grid's order: the product of the axes
    as given, then the seeds."""
    seen = [dict() for _ in axes]
    for task in tasks:
        for point in task.points:
            for index, value in zip(seen, point):
                index.setdefault(value, len(index))
    position = lambda point: tuple(index[value] for index, value in zip(seen, point))  # noqa: E731
    points = sorted({p: None for t in tasks for p in t.points}, key=position)
    return [(*point, seed) for point in points for seed in tasks[0].seeds]

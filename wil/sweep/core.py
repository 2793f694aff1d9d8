"""Sweeps: grids of runs on local processes, Dask or Ray (``wil.backends``), streamed to parquet, resumable.

A grid maps ``Config`` fields and parameters of ``config.initializer`` to lists of values. Networks that
differ only in initializer parameters and seed share an architecture, so each combination of the
``Config`` fields is one task: one batched ``wil.compare`` trains its column of the grid. For parallel
workers a costly column is cut into pieces (runs of its initializer labels, with every seed) when that
shortens the schedule (``split_tasks``), and the costliest pieces go first. Each network is seeded on
its own and the engine's numbers depend on one network's shapes only (see ``wil.threads``), so the frame
is the same whatever the backend, the workers and the cut.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import os
import time
from typing import TYPE_CHECKING, Callable, Iterable, Mapping, Sequence

import numpy as np

from wil.spec.config import Config
from wil.spec.datasets import DATASETS
from wil.spec.initializers import make_label, parse_entry
from wil.engine.memory import check_fits

if TYPE_CHECKING:
    import pandas as pd  # imported where used: it takes longer to import than the rest of wil

BACKENDS = ("loky", "dask", "ray")
# trainable: not diverged and final train accuracy at least chance + TRAINABLE_SHARE x (1 - chance)
# (digits: 0.55); for regression, a final train loss at most (1 - TRAINABLE_SHARE) x the initial one.
TRAINABLE_SHARE = 0.5
_EXCLUDED_FIELDS = ("compare", "n_seeds")  # what a sweep's own arguments (initializer axes, seeds) replace
_METADATA_KEY = b"wil_sweep"
# a task's cost beyond its networks' (its dataset, diagnostics run and frames), in networks of its column
PIECE_OVERHEAD = 1.0
RESULT_COLUMNS = ["initializer", "seed", "final_train_loss", "final_test_loss", "final_train_accuracy",
                  "final_test_accuracy", "diverged", "diverged_epoch", "trainable", "act_std_last",
                  "chi1_measured", "seconds"]


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
        return (self.n_networks + PIECE_OVERHEAD) * self.config.epochs * self.config.n_parameters()

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
    total, span = sum(t.cost() for t in columns), _makespan(columns, workers)
    for per_worker in range(1, 9):
        target = total / (workers * per_worker)
        pieces = ordered([piece for t in columns for piece in t.split(math.ceil(t.cost() / target))])
        if _makespan(pieces, workers) < 0.97 * span:
            best, span = pieces, _makespan(pieces, workers)
    return best


def _makespan(tasks: list[Task], workers: int) -> float:
    """When the last worker finishes ``tasks``, given in this order to the first worker free, by ``Task.cost``."""
    ends = [0.0] * workers
    for task in tasks:
        ends[ends.index(min(ends))] += task.cost()
    return max(ends)


def plan_tasks(config: Config, grid: Mapping[str, Sequence], seeds: Iterable[int]) -> list[Task]:
    """The tasks of a sweep, in the grid's order, each validated (a ``Config`` that refuses a grid point
    raises its ``ValueError`` here, before anything trains).

    Raises
    ------
    ValueError : an axis that is neither a ``Config`` field nor a parameter of ``config.initializer``, an
        empty or repeated list of values, or a grid point the ``Config`` refuses.
    """
    if not isinstance(config, Config):
        raise TypeError(f"Invalid config: expected a wil.Config, got {type(config).__name__}")
    if not isinstance(grid, Mapping) or not grid:
        raise ValueError(f"Invalid grid: expected a non-empty mapping of name -> list of values, got {grid!r}")
    seeds = tuple(int(s) for s in seeds)
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"Invalid seeds {list(seeds)!r}: expected distinct integers, at least one")
    fields = [f.name for f in dataclasses.fields(Config) if f.name not in _EXCLUDED_FIELDS]
    name, base_params = parse_entry(config.initializer)
    axes = {}
    for axis, values in grid.items():
        if axis not in fields and axis not in base_params:
            raise ValueError(f"Invalid grid axis {axis!r}; choose a Config field {sorted(fields)} or a parameter "
                             f"of initializer {name!r} {sorted(base_params)}")
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise ValueError(f"Invalid grid axis {axis!r}: expected a list of values, got {values!r}")
        values = [_plain(v) for v in values]
        if axis == "initializer":  # labels, as the frame's initializer column writes them
            values = [make_label(*parse_entry(v)) for v in values]
        if not values or len(set(map(repr, values))) != len(values):
            raise ValueError(f"Invalid grid axis {axis!r}: expected distinct values, at least one, got {values!r}")
        axes[axis] = values
    if "initializer" in axes and set(axes) & set(base_params):
        raise ValueError("Invalid grid: an initializer axis and initializer-parameter axes cannot be combined")
    config_axes = [a for a in axes if a in fields]
    param_axes = [a for a in axes if a not in fields]
    tasks = []
    for config_values in itertools.product(*(axes[a] for a in config_axes)):
        where = ", ".join(f"{a}={v!r}" for a, v in zip(config_axes, config_values))
        try:
            task_config = dataclasses.replace(config, compare=(), n_seeds=1, **dict(zip(config_axes, config_values)))
        except ValueError as error:
            raise ValueError(f"Invalid grid point {where}: {error}") from None
        task_name, task_params = parse_entry(task_config.initializer)
        labels, points = [], []
        for param_values in itertools.product(*(axes[a] for a in param_axes)):
            labels.append(make_label(task_name, {**task_params, **dict(zip(param_axes, param_values))}))
            values = {**dict(zip(config_axes, config_values)), **dict(zip(param_axes, param_values))}
            points.append(tuple(values[a] for a in axes))
        task = Task(task_config, tuple(labels), seeds, tuple(points))
        try:  # a task that cannot fit this machine's memory is refused before anything trains
            check_fits(f"This batched run ({task.n_networks} networks)", task_config.memory(task.n_networks)["peak"],
                       "a smaller grid column, or fewer seeds")
        except ValueError as error:
            raise ValueError(f"Invalid grid point {where or 'of the base config'}: {error}") from None
        tasks.append(task)
    return tasks


def _plain(value):
    """A grid value as a plain Python number or string (NumPy scalars from ``np.linspace`` included)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


# ---------------------------------------------------------------- one task, in a worker

def run_task(task: Task, axes: Sequence[str], in_worker_process: bool = False) -> pd.DataFrame:
    """Train one task's networks and return its rows (see ``sweep``).

    The final losses come from one batched run without diagnostics; the epoch-0 signal statistics from a
    one-epoch run of the same networks with diagnostics (the same seeds draw the same weights).

    ``in_worker_process``: the call runs in a worker process of a backend (loky, Dask, Ray), whose
    workers are the parallelism, so wil's own split over the cores is turned off there (it sets
    ``wil.engine.threads.available_cores`` to 1 in that process; the numbers do not change, see
    ``wil.engine.threads.plan``). Never set in the caller's process.
    """
    import pandas as pd

    from wil.engine import threads
    from wil.analysis.compare import compare

    if in_worker_process:
        threads.available_cores = lambda: 1  # this process only runs sweep tasks
    start = time.perf_counter()
    result = compare(task.config, list(task.labels), list(task.seeds), diagnostics=False)
    first = compare(dataclasses.replace(task.config, epochs=1), list(task.labels), list(task.seeds))
    seconds = (time.perf_counter() - start) / task.n_networks
    status = result.status
    depth = task.config.depth
    layers = first.layers[first.layers["epoch"] == 0]
    act_std = layers[layers["layer"] == depth].set_index(["initializer", "seed"])["act_std"]
    layers = layers.assign(second_moment=layers["act_std"] ** 2 + layers["act_mean"] ** 2)
    grad, moments = (layers.pivot_table(index=["initializer", "seed"], columns="layer", values=value,
                                        observed=True, dropna=False) for value in ("grad_norm", "second_moment"))
    initial = result.history[(result.history["epoch"] == 0) & (result.history["split"] == "train")]
    initial_loss = initial.set_index(["initializer", "seed"])["loss"]
    rows = []
    for (label, point), seed in itertools.product(zip(task.labels, task.points), task.seeds):
        record = status[(status["initializer"] == label) & (status["seed"] == seed)].iloc[0]
        key = (label, seed)
        norms, second = ((table.loc[key].to_numpy() if key in table.index else np.full(depth, np.nan))[:depth]
                         for table in (grad, moments))
        rows.append({"initializer": label, **dict(zip(axes, point)), "seed": seed,
                     **{c: float(record[c]) for c in RESULT_COLUMNS[2:6]},
                     "diverged": bool(record["diverged"]),
                     "diverged_epoch": record["diverged_epoch"],
                     "trainable": _trainable(task.config, record, float(initial_loss.get(key, np.nan))),
                     "act_std_last": float(act_std.get(key, np.nan)),
                     "chi1_measured": measured_chi1(norms, second),
                     "seconds": seconds})
    return pd.DataFrame(rows)


def _trainable(config: Config, record, initial_loss: float) -> bool:
    """The criterion of ``TRAINABLE_SHARE`` (see the module's constants)."""
    if record["diverged"]:
        return False
    spec = DATASETS[config.dataset]
    if spec.task == "classification":
        chance = 1.0 / spec.n_outputs
        return bool(record["final_train_accuracy"] >= chance + TRAINABLE_SHARE * (1.0 - chance))
    return bool(record["final_train_loss"] <= (1.0 - TRAINABLE_SHARE) * initial_loss)


def measured_chi1(grad_norms: np.ndarray, second_moments: np.ndarray) -> float:
    """chi1 measured at initialization from the hidden layers' weight-gradient norms ``|g_l|`` and
    activation second moments ``E[a_l^2]`` (layers 1..depth).

    A layer's squared weight gradient is about its input's second moment times its back-propagated
    error's, and going back one layer multiplies the error's by chi1, so each pair of consecutive layers
    gives ``chi1 ~ (|g_l| / |g_{l+1}|)^2 E[a_l^2] / E[a_{l-1}^2]``; this is their geometric mean over layers
    2..depth-1 (layer 1 sees the raw inputs). NaN below depth 3. A finite-width, finite-data estimate: on
    width 128 it comes within ~10% of the theory near the edge of chaos, and overestimates a strongly
    ordered network's (all inputs look alike there, so the batch's gradients add coherently).
    """
    norms = np.asarray(grad_norms, dtype=float)  # (depth,)
    moments = np.asarray(second_moments, dtype=float)  # (depth,)
    if norms.size < 3:
        return math.nan
    with np.errstate(all="ignore"):
        ratios = (norms[1:-1] / norms[2:]) ** 2 * moments[1:-1] / moments[:-2]  # (depth - 2,)
        return float(np.exp(np.mean(np.log(ratios))))


# ---------------------------------------------------------------- the sweep

def sweep(config: Config, grid: Mapping[str, Sequence], seeds: Iterable[int] = (0,), *,
          backend: str | None = "loky", n_jobs: int | None = None, scheduler: str | None = None, client=None,
          progress: bool | Callable[[int, int], None] = False, out: str | os.PathLike | None = None) -> pd.DataFrame:
    """Train a grid of networks, one batched run per architecture (or piece of one), on parallel workers.

    Parameters
    ----------
    config : the base run; ``config.initializer`` is the initializer whose parameters axes may vary.
    grid : axis -> list of values; an axis is a ``Config`` field (``depth``, ``learning_rate``, ...;
        not ``compare`` or ``n_seeds``) or a parameter of ``config.initializer`` (``sigma_w2``, ``scale``...).
        ``{"sigma_w2": [1, 2, 3], "depth": [10, 20]}`` is 2 tasks of 3 initializers x seeds networks.
    seeds : the networks' seeds at every grid point (the data and mini-batch order use ``config.seed``).
    backend : ``"loky"`` (local processes), ``"dask"`` (a ``dask.distributed`` cluster: ``client``, else
        ``Client(scheduler)``, else a ``LocalCluster`` of ``n_jobs`` single-threaded worker processes
        started and closed here), ``"ray"`` (needs ``ray``; the Ray this process has initialized, else
        ``ray.init(address=scheduler)``: a cluster, or with no scheduler a local Ray of ``n_jobs`` CPUs
        without dashboard, shut down at the end), or None (in this process, one task after another,
        columns uncut). See ``wil.backends``.
    n_jobs : tasks at once (default: the cores for loky, every worker thread for Dask, every CPU for Ray).
    scheduler : a cluster's address: a Dask scheduler's, e.g. ``"tcp://10.0.0.5:8786"``, or Ray's
        (``ray.init``'s ``address``: ``"10.0.0.5:6379"``, ``"ray://..."``, ``"auto"``).
    client : a ``dask.distributed.Client`` to use (backend ``"dask"``).
    progress : True for a tqdm bar (networks done, time left), or ``callback(tasks_done, tasks_total)``
        called after each task (a column, or a piece of one) is stored; an exception it raises stops the
        sweep (what is stored stays).
    out : a parquet file. Each finished task is written at once to ``<out>.parts/``; at the end the parts
        are combined into ``out`` and removed. Networks whose rows are already in ``out`` or its parts
        are not trained again, so an interrupted sweep resumes where it stopped.

    Returns
    -------
    DataFrame, one row per (grid point, seed) in the grid's order: the grid's axes, ``initializer`` (the
    label), ``seed``, ``final_train_loss``, ``final_test_loss``, ``final_train_accuracy``,
    ``final_test_accuracy``, ``diverged``, ``diverged_epoch``, ``trainable`` (not diverged and final
    train accuracy at least halfway from chance to 1; regression: final train loss at most half the
    initial one), ``act_std_last`` (the last hidden layer's activation std at initialization),
    ``chi1_measured`` (see ``measured_chi1``) and ``seconds`` (the task's wall time over its networks).
    Every column but ``seconds`` is the same whatever the backend, the workers and the tasks' cut.

    Memory: each worker holds one task's run; this process holds only the rows.
    """
    import contextlib

    import pandas as pd

    if backend is not None and backend not in BACKENDS:
        raise ValueError(f"Invalid backend {backend!r}; choose from {list(BACKENDS)} or None")
    tasks = plan_tasks(config, grid, seeds)
    axes = list(grid)
    store = _Store(out, config, axes) if out is not None else None
    done = store.load() if store is not None else _empty_frame(axes)
    done_keys = set(_row_keys(done, axes))
    todo = [t.subset([i for i, point in enumerate(t.points) if any((*point, s) not in done_keys for s in t.seeds)])
            for t in tasks]  # each column's labels with a row missing
    todo = [t for t in todo if t.labels]
    frames = [done]
    bar = _progress_bar(progress, tasks, todo)
    callback = progress if callable(progress) else None
    runs = _execute(todo, axes, backend, n_jobs, scheduler, client)
    try:
        with contextlib.closing(runs):  # an exception here (a callback's, Ctrl-C) stops the workers at once
            finished = len(tasks) - len(todo)
            total = finished + next(runs)
            for frame in runs:
                frame = _normalized(frame, axes)
                if store is not None:
                    store.put(frame)
                frames.append(frame)
                finished += 1
                if bar is not None:
                    bar.update(len(frame))
                if callback is not None:
                    callback(finished, total)
    finally:
        if bar is not None:
            bar.close()
    points = sorted({p: None for t in tasks for p in t.points}, key=_grid_position(tasks, axes))
    order = [(*point, seed) for point in points for seed in tasks[0].seeds]
    result = _in_grid_order(pd.concat(frames, ignore_index=True), order, axes)
    if store is not None:
        store.finish(result)
    return result


def _execute(tasks: list[Task], axes: list[str], backend, n_jobs, scheduler, client):
    """Yield how many tasks ``tasks`` are cut into for the backend's workers (``split_tasks``), then each
    one's rows as it finishes."""
    if not tasks:
        yield 0
        return
    from wil.sweep.backends import opened

    with opened(backend, n_jobs, scheduler, client) as runner:
        pieces = split_tasks(tasks, runner.workers)
        yield len(pieces)
        yield from runner.imap(run_task, pieces, (axes,) if backend is None else (axes, True))


def _progress_bar(progress, tasks: list[Task], todo: list[Task]):
    """A tqdm bar over networks (time left from their rate), or None."""
    if progress is not True:
        return None
    from tqdm.auto import tqdm

    total = sum(t.n_networks for t in tasks)
    return tqdm(total=total, initial=total - sum(t.n_networks for t in todo), unit="networks", desc="sweep",
                smoothing=0.1)


# ---------------------------------------------------------------- rows: order, types, keys

def _grid_position(tasks: list[Task], axes: list[str]):
    """A sort key putting grid points in the grid's order: the product of the axes as given."""
    seen = [dict() for _ in axes]
    for task in tasks:
        for point in task.points:
            for index, value in zip(seen, point):
                index.setdefault(value, len(index))
    return lambda point: tuple(index[value] for index, value in zip(seen, point))


def _columns(axes: list[str]) -> list[str]:
    """The frame's columns: the axes, then the results (``initializer`` once, when it is an axis)."""
    return [*axes, *(c for c in RESULT_COLUMNS if c not in axes)]


def _empty_frame(axes: list[str]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(columns=_columns(axes))


def _row_keys(frame: pd.DataFrame, axes: list[str]) -> list[tuple]:
    """The (grid values..., seed) of each row, NA as None."""
    import pandas as pd

    columns = [frame[a].tolist() for a in [*axes, "seed"]]
    return [tuple(None if v is None or v is pd.NA else v for v in row) for row in zip(*columns)]


def _normalized(frame: pd.DataFrame, axes: list[str]) -> pd.DataFrame:
    """Fixed column order and types, so rows from a worker, a part file and ``out`` compare equal."""
    import pandas as pd

    frame = frame[_columns(axes)].copy()
    for axis in axes:
        kind = _axis_kind(axis)
        if kind == "int":
            frame[axis] = frame[axis].astype("int64")
        elif kind == "nullable_int":
            frame[axis] = frame[axis].astype("Int64")
        elif kind == "float":
            frame[axis] = frame[axis].astype("float64")
        else:
            frame[axis] = frame[axis].astype("str")
    frame["initializer"] = frame["initializer"].astype("str")
    frame["seed"] = frame["seed"].astype("int64")
    for column in RESULT_COLUMNS[2:6] + ["act_std_last", "chi1_measured", "seconds"]:
        frame[column] = frame[column].astype("float64")
    frame["diverged"] = frame["diverged"].astype(bool)
    frame["trainable"] = frame["trainable"].astype(bool)
    frame["diverged_epoch"] = pd.array(frame["diverged_epoch"].tolist(), dtype="Int64")
    return frame.reset_index(drop=True)


_INT_FIELDS = ("n_samples", "depth", "width", "epochs", "seed")


def _axis_kind(axis: str) -> str:
    if axis in _INT_FIELDS:
        return "int"
    if axis == "batch_size":
        return "nullable_int"
    if axis in ("dataset", "initializer", "activation", "optimizer", "dtype"):
        return "str"
    return "float"  # noise, learning_rate, and initializer parameters


def _in_grid_order(frame: pd.DataFrame, keys: list[tuple], axes: list[str]) -> pd.DataFrame:
    """The rows of ``keys`` (the last of any repeated key), in that order (the grid's product, then the
    seeds), normalized."""
    frame = _normalized(frame, axes)
    position = {key: i for i, key in enumerate(_row_keys(frame, axes))}
    return _normalized(frame.iloc[[position[key] for key in keys]], axes)


# ---------------------------------------------------------------- streaming to parquet

class _Store:
    """``out`` and its folder of parts: one parquet file per finished task, combined at the end.

    Each file carries the sweep's base config and axes in its metadata; resuming into a file made by
    another sweep is refused rather than mixed."""

    def __init__(self, out, config: Config, axes: list[str]):
        self.path = os.fspath(out)
        self.parts = self.path + ".parts"
        base = {k: v for k, v in config.to_query_params().items() if k not in axes}
        self.identity = json.dumps({"config": base, "axes": axes, "trainable_share": TRAINABLE_SHARE},
                                   sort_keys=True)
        self.axes = axes

    def load(self) -> pd.DataFrame:
        """Rows already stored, in ``out`` and in its parts."""
        import pandas as pd

        frames = [_empty_frame(self.axes)]
        paths = [self.path] if os.path.exists(self.path) else []
        if os.path.isdir(self.parts):
            paths += [os.path.join(self.parts, n) for n in sorted(os.listdir(self.parts)) if n.endswith(".parquet")]
        for path in paths:
            frames.append(_normalized(self._read(path), self.axes))
        return _normalized(pd.concat(frames, ignore_index=True), self.axes)

    def _read(self, path: str) -> pd.DataFrame:
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        identity = (table.schema.metadata or {}).get(_METADATA_KEY, b"").decode()
        if identity != self.identity:
            raise ValueError(f"Invalid out {self.path!r}: {path!r} holds another sweep (other base config, axes "
                             f"or criterion); choose another file or delete it")
        return table.to_pandas()

    def _write(self, frame: pd.DataFrame, path: str) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                               _METADATA_KEY: self.identity.encode()})
        temporary = f"{path}.{os.getpid()}.tmp"
        pq.write_table(table, temporary)
        os.replace(temporary, path)  # a reader never sees half a file

    def put(self, frame: pd.DataFrame) -> None:
        """Store one task's rows at once."""
        os.makedirs(self.parts, exist_ok=True)
        keys = json.dumps(_row_keys(frame, self.axes), default=str)
        name = hashlib.sha1(keys.encode()).hexdigest()[:16]
        self._write(frame, os.path.join(self.parts, f"{name}.parquet"))

    def finish(self, frame: pd.DataFrame) -> None:
        """Write the whole sweep to ``out`` and remove the parts."""
        import shutil

        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        self._write(frame, self.path)
        shutil.rmtree(self.parts, ignore_errors=True)

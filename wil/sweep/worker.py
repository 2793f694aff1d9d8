"""One task of a sweep, run in a worker: its networks trained in one batched run, one row each.

Each network is seeded on its own and the engine's numbers depend on one network's shapes only (see
``wil.engine.threads``), so the rows are the same whatever the backend, the workers and the cut.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from typing import TYPE_CHECKING, Sequence

import numpy as np

from wil.analysis.compare import compare
from wil.analysis.criteria import TRAINABLE, dataset_classes
from wil.engine import threads
from wil.sweep.plan import Task

if TYPE_CHECKING:
    import pandas as pd  # imported where used: it takes longer to import than the rest of wil

# the rows' columns after the grid's axes; ``trainable`` is ``wil.criteria.TRAINABLE``
RESULT_COLUMNS = ["initializer", "seed", "final_train_loss", "final_test_loss", "final_train_accuracy",
                  "final_test_accuracy", "diverged", "diverged_epoch", "trainable", "act_std_last",
                  "chi1_measured", "train_accuracy_last10", "train_accuracy_last10_half",
                  "train_accuracy_last10_quarter", "train_accuracy_last10_eighth", "seconds"]
LAST_EPOCHS = 10  # ``train_accuracy_last10``: the mean training accuracy of this many last recorded epochs
# ``train_accuracy_last10_<share>``: the same mean read at a share of the run's epochs, as if it had been
# trained for that budget only (the engine's learning rate has no schedule, so the first epochs of a long
# run are the run of fewer epochs): the boundary against the step budget from one sweep
BUDGET_SHARES = {"half": 1 / 2, "quarter": 1 / 4, "eighth": 1 / 8}
BUDGET_COLUMNS = [f"train_accuracy_last10_{name}" for name in BUDGET_SHARES]


def run_task(task: Task, axes: Sequence[str], in_worker_process: bool = False) -> pd.DataFrame:
    """Train one task's networks and return its rows (see ``wil.sweep``).

    The final losses come from one batched run without diagnostics; the epoch-0 signal statistics from a
    one-epoch run of the same networks with diagnostics (the same seeds draw the same weights).

    ``in_worker_process``: the call runs in a worker process of a backend (loky, Dask, Ray), whose
    workers are the parallelism, so wil's own split over the cores is turned off there (it sets
    ``wil.engine.threads.available_cores`` to 1 in that process; the numbers do not change, see
    ``wil.engine.threads.plan``). Never set in the caller's process.
    """
    import pandas as pd

    if in_worker_process:
        threads.available_cores = lambda: 1  # this process only runs sweep tasks
    start = time.perf_counter()
    result = compare(task.config, list(task.labels), list(task.seeds), diagnostics=False)
    first = compare(dataclasses.replace(task.config, epochs=1), list(task.labels), list(task.seeds))
    seconds = (time.perf_counter() - start) / task.n_networks
    status = result.status
    depth = task.config.depth
    act_std, grad, moments = _initial_statistics(first.layers, depth)
    initial = result.history[(result.history["epoch"] == 0) & (result.history["split"] == "train")]
    initial_loss = initial.set_index(["initializer", "seed"])["loss"]
    n_classes = dataset_classes(task.config.dataset)
    last10 = last_epochs_accuracy(result.history)
    budgets = {column: (budget_epoch(task.config.epochs, share),
                        last_epochs_accuracy(result.history, budget_epoch(task.config.epochs, share)))
               for column, share in zip(BUDGET_COLUMNS, BUDGET_SHARES.values())}
    rows = []
    for (label, point), seed in itertools.product(zip(task.labels, task.points), task.seeds):
        record = status[(status["initializer"] == label) & (status["seed"] == seed)].iloc[0]
        key = (label, seed)
        norms, second = ((table.loc[key].to_numpy() if key in table.index else np.full(depth, np.nan))[:depth]
                         for table in (grad, moments))
        trainable = TRAINABLE.holds(bool(record["diverged"]), float(record["final_train_accuracy"]),
                                    float(record["final_train_loss"]), float(initial_loss.get(key, np.nan)),
                                    n_classes)
        rows.append({"initializer": label, **dict(zip(axes, point)), "seed": seed,
                     **{c: float(record[c]) for c in RESULT_COLUMNS[2:6]},
                     "diverged": bool(record["diverged"]), "diverged_epoch": record["diverged_epoch"],
                     "trainable": trainable, "act_std_last": float(act_std.get(key, np.nan)),
                     "chi1_measured": measured_chi1(norms, second),
                     "train_accuracy_last10": float(last10.get(key, np.nan)),
                     **{column: _within(values.get(key, np.nan), record["diverged_epoch"], until)
                        for column, (until, values) in budgets.items()},
                     "seconds": seconds})
    return pd.DataFrame(rows)


def _within(accuracy: float, diverged_epoch, until: int) -> float:
    """A budget's accuracy: NaN when the network diverged by epoch ``until``."""
    import pandas as pd

    diverged = not pd.isna(diverged_epoch) and int(diverged_epoch) <= until
    return math.nan if diverged else float(accuracy)


def budget_epoch(epochs: int, share: float) -> int:
    """The epoch that ends a budget of ``share`` of a run of ``epochs`` epochs (at least 1)."""
    return max(1, round(epochs * share))


def last_epochs_accuracy(history: pd.DataFrame, until: int | None = None) -> pd.Series:
    """Per (initializer, seed): the mean training accuracy of its ``LAST_EPOCHS`` last recorded epochs up to
    epoch ``until`` (default: the run's last; fewer epochs if it trained fewer; NaN for regression):
    ``wil.criteria.TRAINABLE_LAST10`` reads it. A diverged network's mean is that of the epochs recorded
    before its divergence: ``run_task`` sets a budget's value to NaN when the network diverged within it."""
    train = history[(history["split"] == "train") & (history["epoch"] > 0)]
    if until is not None:
        train = train[train["epoch"] <= until]
    train = train.sort_values("epoch")
    return train.groupby(["initializer", "seed"], observed=True)["accuracy"].apply(
        lambda a: float(a.iloc[-LAST_EPOCHS:].mean()))


def _initial_statistics(layers: pd.DataFrame, depth: int) -> tuple[pd.Series, pd.DataFrame, pd.DataFrame]:
    """At epoch 0, per (initializer, seed): the last hidden layer's act_std, and per layer (columns) the
    weight-gradient norms and the activations' second moments."""
    layers = layers[layers["epoch"] == 0]
    act_std = layers[layers["layer"] == depth].set_index(["initializer", "seed"])["act_std"]
    layers = layers.assign(second_moment=layers["act_std"] ** 2 + layers["act_mean"] ** 2)
    grad, moments = (layers.pivot_table(index=["initializer", "seed"], columns="layer", values=value,
                                        observed=True, dropna=False) for value in ("grad_norm", "second_moment"))
    return act_std, grad, moments


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

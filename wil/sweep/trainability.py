"""The measured trainable depth of a phase-diagram sweep, and its fits against c x xi_c (Schoenholz, Gilmer,
Ganguli & Sohl-Dickstein 2017, Fig. 5-6).

For each sigma_w2 of a sweep, the boundary is the deepest depth at which at least half of the seeds trained
(``trainable``), provided every shallower depth tried also did; a column where even the shallowest depth
failed, or where the deepest depth tried still trained, has no boundary inside the grid (censored) and is
left out of the fit, and so is a column whose xi_c exceeds half the deepest depth tried (``near_critical``):
there c x xi_c lies beyond the grid for any c >= 2, and what limits training is the number of steps, not the
correlation depth. ``fit`` is one number, c, in ``boundary = c * xi_c(sigma_w2)``, by least squares on the
logarithms: log c = mean(log(boundary / xi_c)); ``free_fit`` lets the slope go free, log(boundary) = a +
beta log(xi_c); ``bootstrap`` gives both 95% intervals; ``budget_curve`` reads one protocol sweep at an
eighth, a quarter, half and all of its steps (``wil.sweep.worker.BUDGET_SHARES``).

``docs/phase_fit.py`` is the command line over these; the app's phase page shows the same numbers.
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import TYPE_CHECKING

import numpy as np

from wil.analysis.criteria import dataset_classes
from wil.analysis.theory import mean_field
from wil.spec.config import Config
from wil.spec.labels import parse_entry
from wil.sweep import protocols
from wil.sweep.worker import BUDGET_SHARES, budget_epoch

if TYPE_CHECKING:
    import pandas as pd


def boundaries(frame: pd.DataFrame, share: float = 0.5) -> pd.DataFrame:
    """Per sigma_w2: the deepest trainable depth (see the module's note), and whether it is censored."""
    import pandas as pd

    cells = frame.groupby(["sigma_w2", "depth"], as_index=False)["trainable"].mean()
    rows = []
    for sigma_w2, column in cells.groupby("sigma_w2"):
        column = column.sort_values("depth")
        ok = column["trainable"].to_numpy() >= share
        depths = column["depth"].to_numpy()
        first_failure = int(np.argmin(ok)) if not ok.all() else len(ok)
        if first_failure == 0:
            rows.append((sigma_w2, math.nan, "none trainable"))
        elif first_failure == len(ok):
            rows.append((sigma_w2, float(depths[-1]), "all trainable (boundary deeper)"))
        else:
            rows.append((sigma_w2, float(depths[first_failure - 1]), ""))
    return pd.DataFrame(rows, columns=["sigma_w2", "boundary", "censored"])


def brackets(frame: pd.DataFrame, share: float = 0.5) -> pd.DataFrame:
    """Per sigma_w2: where its boundary lies, as far as the depths tried tell: ``boundary`` (as
    ``boundaries``), ``failed`` (the shallowest depth tried that failed, deeper than every trainable one
    counted: NaN when none failed), ``shallowest`` and ``deepest`` (the depths tried) and ``censored``."""
    table = boundaries(frame, share)
    cells = frame.groupby(["sigma_w2", "depth"], as_index=False)["trainable"].mean()
    failed, shallowest, deepest = [], [], []
    for sigma_w2, boundary in zip(table["sigma_w2"], table["boundary"]):
        column = cells[cells["sigma_w2"] == sigma_w2].sort_values("depth")
        depths = column["depth"].to_numpy(float)
        below = depths[(column["trainable"].to_numpy() < share) & ~(depths <= boundary)]
        failed.append(float(below.min()) if len(below) else math.nan)
        shallowest.append(float(depths.min()))
        deepest.append(float(depths.max()))
    return table.assign(failed=failed, shallowest=shallowest, deepest=deepest)


def mean_field_sigma_b2(config: Config) -> float:
    """The sigma_b2 of ``config``'s ``mean_field`` initializer; ValueError for another initializer (a
    refinement's depth steps are fractions of xi_c, which only mean_field's sigma_w2 and sigma_b2 give)."""
    name, params = parse_entry(config.initializer)
    if name != "mean_field":
        raise ValueError(f"Invalid initializer {config.initializer!r} to refine: the protocol's depth steps are "
                         f"fractions of xi_c, which needs mean_field(sigma_b2=...)")
    return float(params["sigma_b2"])


def next_depths(frame: pd.DataFrame, config: Config, protocol: str = "schoenholz2017") -> dict[int, list[float]]:
    """One round of refinement of a protocol sweep's depth grid (the rows of the best rate per depth, as
    ``protocol_rows`` gives them): the depths to train next, each with the sigma_w2 columns that need it.

    A column is refined where its boundary is not yet placed within the protocol's ``depth_step * xi_c``:
    between its boundary and the first depth that failed, the depth half-way (bisection); a column trainable
    to its deepest depth gets the protocol's ``max_depth``; one where even the shallowest failed, the depth
    half-way down to 1. Columns whose xi_c is infinite, or above half the deepest depth of the sweep (where
    the fit leaves them out: ``fit``'s ``near_critical``) are left as they are. Empty when every column's
    boundary is placed: repeated rounds end, since each halves a bracket of integers."""
    sigma_b2 = mean_field_sigma_b2(config)
    protocol_ = protocols.get_protocol(protocol)
    table = brackets(frame)
    deepest_of_all = float(frame["depth"].max())
    wanted: dict[int, list[float]] = {}
    for row in table.itertuples():
        xi = _xi_c(config.activation, float(row.sigma_w2), sigma_b2)
        if not (math.isfinite(xi) and 0 < xi <= deepest_of_all / 2):
            continue
        if math.isnan(row.failed):  # trainable to its deepest: try the protocol's deepest
            if row.deepest >= protocol_.max_depth:
                continue
            depth = protocol_.max_depth
        else:
            low = 1.0 if math.isnan(row.boundary) else row.boundary  # even the shallowest failed: down to 1
            if row.failed - low <= protocol_.depth_step * xi or row.failed - low < 2:
                continue
            depth = int((low + row.failed) // 2)
        wanted.setdefault(depth, []).append(float(row.sigma_w2))
    return dict(sorted(wanted.items()))


def fit(frame: pd.DataFrame, activation: str, sigma_b2: float) -> tuple[float, pd.DataFrame]:
    """The fitted c and the table: sigma_w2, boundary, censored, xi_c, ratio = boundary / xi_c,
    near_critical, used."""
    table = boundaries(frame)
    table["xi_c"] = [_xi_c(activation, float(s), float(sigma_b2)) for s in table["sigma_w2"]]
    table["ratio"] = table["boundary"] / table["xi_c"]
    deepest = float(frame["depth"].max())
    table["near_critical"] = table["xi_c"] > deepest / 2
    used = table[(table["censored"] == "") & ~table["near_critical"] & np.isfinite(table["ratio"])
                 & (table["ratio"] > 0)]
    c = float(np.exp(np.mean(np.log(used["ratio"])))) if len(used) else math.nan
    table["used"] = table.index.isin(used.index)
    return c, table


def free_fit(table: pd.DataFrame) -> tuple[float, float]:
    """(a, beta) of log(boundary) = a + beta log(xi_c) by least squares over the columns ``used``
    (beta = 1 is the paper's boundary = c xi_c, with c = exp(a)); NaN with fewer than 2 distinct xi_c."""
    used = table[table["used"]]
    x, y = np.log(used["xi_c"].to_numpy(float)), np.log(used["boundary"].to_numpy(float))
    if len(used) < 2 or np.ptp(x) == 0:
        return math.nan, math.nan
    beta, a = np.polyfit(x, y, 1)
    return float(a), float(beta)


def bootstrap(frame: pd.DataFrame, activation: str, sigma_b2: float, n: int = 2000, seed: int = 0) -> dict:
    """95% percentile intervals of c (the fit at beta = 1) and of (a, beta) (the free fit). With several seeds
    the seeds are resampled (each column's boundary recomputed from the resampled seeds' majority); with
    one seed the columns used are resampled. Returns the point estimates, the intervals and the mode."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    c, table = fit(frame, activation, sigma_b2)
    a, beta = free_fit(table)
    seeds = np.sort(frame["seed"].unique())
    by_seed = {s: frame[frame["seed"] == s] for s in seeds}
    fits = {}  # a resample's fit depends only on which seeds it drew, in any order: each multiset fitted once
    draws = []
    for _ in range(n):
        if len(seeds) > 1:
            picked = tuple(sorted(rng.choice(seeds, len(seeds)).tolist()))
            if picked not in fits:
                c_b, table_b = fit(pd.concat([by_seed[s] for s in picked], ignore_index=True), activation, sigma_b2)
                fits[picked] = (c_b, *free_fit(table_b))
            draws.append(fits[picked])
            continue
        used = table[table["used"]]
        table_b = used.iloc[rng.integers(0, len(used), len(used))] if len(used) else used
        c_b = float(np.exp(np.mean(np.log(table_b["ratio"])))) if len(table_b) else math.nan
        draws.append((c_b, *free_fit(table_b)))
    draws = np.array(draws, dtype=float)
    with warnings.catch_warnings():  # a fit with no column (NaN in every draw) has no interval: NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanpercentile(draws, [2.5, 97.5], axis=0)
        beta_se = float(np.nanstd(draws[:, 2], ddof=1))
    return {"c": c, "a": a, "beta": beta, "c_ci": (low[0], high[0]), "a_ci": (low[1], high[1]),
            "beta_ci": (low[2], high[2]), "beta_se": beta_se,
            "mode": "seeds" if len(seeds) > 1 else "columns", "n": n}


@functools.lru_cache(maxsize=256)
def _xi_c(activation: str, sigma_w2: float, sigma_b2: float) -> float:
    """xi_c of the mean-field theory (``wil.theory.mean_field``), kept: a bootstrap asks for it thousands of
    times."""
    return mean_field(activation, sigma_w2, sigma_b2).xi_c


def read(path) -> tuple[pd.DataFrame, Config]:
    """A sweep file's rows and the base config stored in its metadata (``wil.sweep``'s ``out``)."""
    import json

    import pyarrow.parquet as pq

    table = pq.read_table(path)
    stored = json.loads((table.schema.metadata or {})[b"wil_sweep"])
    return table.to_pandas(), Config.from_query_params(stored["config"])


def protocol_rows(frame: pd.DataFrame, config: Config, criterion: str | None = None) -> pd.DataFrame:
    """A protocol sweep's rows (a ``learning_rate`` axis, every rate's rows) reduced to the best rate per depth
    by ``criterion`` (default the protocol's), as ``wil.sweep(..., protocol=...)`` returns them, for the
    sweep's base ``config``; any other frame unchanged."""
    if "learning_rate" not in frame or "train_accuracy_last10" not in frame:
        return frame
    return protocols.select(frame, dataset_classes(config.dataset), criterion=criterion)


def budget_curve(frame: pd.DataFrame, config: Config, activation: str, sigma_b2: float, n: int = 2000
                 ) -> pd.DataFrame:
    """The boundary against the step budget, from one protocol sweep's rows (every rate's) and its base
    ``config``: per budget (an eighth, a quarter, half and all of the sweep's steps, read from
    ``train_accuracy_last10_<share>``) the learning rate is chosen again per depth.

    A tidy frame, one row per (budget, sigma_w2): steps, epochs, sigma_w2, xi_c, boundary (the deepest
    trainable depth; NaN when even the shallowest failed), censored ("" or why the column has no boundary
    inside the grid), used (in the fits), share_trainable (of the budget's kept networks), and the budget's
    fits with their 95% bootstrap intervals: c, c_low, c_high (slope fixed at 1), beta, beta_low, beta_high
    (free slope). Empty when the rows have no budget columns (a sweep made before they existed)."""
    import pandas as pd

    budgets = sorted(((f"train_accuracy_last10_{name}", share) for name, share in BUDGET_SHARES.items()),
                     key=lambda b: b[1]) + [("train_accuracy_last10", 1.0)]
    if any(column not in frame or frame[column].isna().all() for column, _ in budgets):
        return pd.DataFrame()
    parts = []
    for column, share in budgets:
        kept = protocol_rows(frame, config, criterion=column)
        _, table = fit(kept, activation, sigma_b2)
        boot = bootstrap(kept, activation, sigma_b2, n)
        epochs = budget_epoch(config.epochs, share) if share < 1 else config.epochs
        parts.append(table[["sigma_w2", "xi_c", "boundary", "censored", "used"]].assign(
            steps=epochs * config.n_batches(), epochs=epochs, share_trainable=float(kept["trainable"].mean()),
            c=boot["c"], c_low=boot["c_ci"][0], c_high=boot["c_ci"][1],
            beta=boot["beta"], beta_low=boot["beta_ci"][0], beta_high=boot["beta_ci"][1]))
    curve = pd.concat(parts, ignore_index=True)
    return curve[["steps", "epochs", *[c for c in curve.columns if c not in ("steps", "epochs")]]]

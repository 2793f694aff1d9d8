"""The evidence of the verdicts: the numbers each rule reads, one row per network, from a ``Result``'s frames.

Saturation and the signal ratios are read at epoch 0: they are what the initialization did (training may
saturate units on purpose). Symmetry and dead units are read at the end: they are permanent.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from wil.analysis.criteria import chance_accuracy, class_shares
from wil.analysis.names import short_name
from wil.spec.datasets import DATASETS

KEYS = ["initializer", "seed"]
# what ``layer_evidence`` reads per network from the layers frame
LAYER_COLUMNS = ["distinct_units", "signal_ratio", "gradient_ratio", "dead_fraction", "dead_layers",
                 "saturated_fraction"]


def evidence(result) -> pd.DataFrame:
    """The numbers each rule reads, one row per network, in the status frame's order.

    Parameters
    ----------
    result : wil.Result (or any object with ``config``, ``status``, ``history`` and ``layers``).

    Returns
    -------
    pandas.DataFrame : the evidence columns of ``wil.analysis.verdicts.NETWORK_COLUMNS``.
    """
    config = result.config
    status = result.status
    frame = pd.DataFrame({"initializer": status["initializer"], "seed": status["seed"].to_numpy()})
    frame["name"] = [short_name(label) for label in frame["initializer"]]
    frame["activation"] = config.activation
    frame["width"] = config.width
    frame["depth"] = config.depth
    frame["normalization"] = config.normalization or "none"
    frame["residual"] = config.residual
    frame["diverged_epoch"] = status["diverged_epoch"].array
    frame["reason"] = status["reason"].to_numpy()
    frame["final_test_accuracy"] = status["final_test_accuracy"].to_numpy(dtype=float)
    frame["final_test_loss"] = status["final_test_loss"].to_numpy(dtype=float)
    frame["chance_accuracy"] = chance_accuracy(config)
    frame["guess_loss"] = guess_loss(config)
    stopped = getattr(result, "stopped_epoch", None)
    frame["epochs"] = config.epochs if stopped is None else stopped
    frame = frame.merge(loss_evidence(result.history), on=KEYS, how="left")
    frame = frame.merge(peak_evidence(result.history), on=KEYS, how="left")
    return frame.merge(layer_evidence(result.layers, config.depth), on=KEYS, how="left")


def loss_evidence(history: pd.DataFrame) -> pd.DataFrame:
    """Training loss at epoch 0, at its lowest (and when), and at the last epoch recorded."""
    train = history[history["split"] == "train"].dropna(subset=["loss"]).sort_values("epoch")
    groups = train.groupby(KEYS, observed=True)
    lowest = train.loc[groups["loss"].idxmin(), [*KEYS, "loss", "epoch"]]
    return (groups["loss"].agg(initial_loss="first", final_loss="last").reset_index()
            .merge(lowest.rename(columns={"loss": "lowest_loss", "epoch": "lowest_loss_epoch"}), on=KEYS))


def peak_evidence(history: pd.DataFrame) -> pd.DataFrame:
    """Test accuracy at its highest and when (the curve an audience sees may end far below it)."""
    test = history[history["split"] == "test"].dropna(subset=["accuracy"]).sort_values("epoch")
    if test.empty:
        return pd.DataFrame(columns=[*KEYS, "peak_test_accuracy", "peak_test_epoch"]).astype({"seed": int})
    best = test.loc[test.groupby(KEYS, observed=True)["accuracy"].idxmax(), [*KEYS, "accuracy", "epoch"]]
    return best.rename(columns={"accuracy": "peak_test_accuracy", "epoch": "peak_test_epoch"})


def layer_evidence(layers: pd.DataFrame, depth: int) -> pd.DataFrame:
    """Per network: the epoch-0 ratios and saturation, and the end's distinct and dead units."""
    columns = [*KEYS, *LAYER_COLUMNS]
    if layers.empty:
        return pd.DataFrame(columns=columns).astype({"seed": int})
    rows = [{"initializer": label, "seed": seed, **_one_network(net, depth)}
            for (label, seed), net in layers.groupby(KEYS, observed=True)]
    frame = pd.DataFrame(rows, columns=columns)
    frame = frame.astype({"distinct_units": "Float64", "dead_layers": "Float64"}).astype(
        {"distinct_units": "Int64", "dead_layers": "Int64"})
    frame["initializer"] = pd.Categorical(frame["initializer"], categories=layers["initializer"].cat.categories,
                                          ordered=True)
    return frame


def _one_network(net: pd.DataFrame, depth: int) -> dict:
    """``LAYER_COLUMNS`` of one network's rows of the layers frame."""
    start = net[net["epoch"] == 0].set_index("layer")
    end = net[net["epoch"] == net["epoch"].max()].set_index("layer")
    hidden_end = end.loc[end.index <= depth]
    hidden_start = start.loc[start.index <= depth]
    dead = hidden_end["dead_fraction"].to_numpy(dtype=float)  # (depth,) NaN outside the ReLU family
    recorded = dead.size and not np.isnan(dead).all()
    # an output layer that starts at zero (Fixup) passes no gradient down at epoch 0: by design, not vanishing
    zero_output = depth + 1 in start.index and start.at[depth + 1, "weight_std"] == 0
    return {"distinct_units": _max_or_nan(hidden_end["distinct_units"]),
            "signal_ratio": _ratio(start, "act_std", depth, 1),
            "gradient_ratio": np.nan if zero_output else _ratio(start, "grad_norm", 1, depth + 1),
            "dead_fraction": float(np.mean(dead)) if recorded else np.nan,
            "dead_layers": int(np.sum(dead >= 1.0)) if recorded else np.nan,
            "saturated_fraction": _mean_or_nan(hidden_start["saturated_fraction"])}


def _ratio(stats: pd.DataFrame, column: str, top: int, bottom: int) -> float:
    """stats[column] at layer ``top`` over layer ``bottom``; NaN if either is missing, 0/0 or x/0."""
    if top not in stats.index or bottom not in stats.index:
        return np.nan
    numerator, denominator = float(stats.at[top, column]), float(stats.at[bottom, column])
    if not denominator > 0 or not math.isfinite(numerator):
        return np.nan
    return numerator / denominator


def _max_or_nan(values: pd.Series) -> float:
    """The largest value; NaN when none is recorded. For distinct units: 1 only if every layer has 1."""
    values = pd.to_numeric(values, errors="coerce").dropna()
    return float(values.max()) if len(values) else np.nan


def _mean_or_nan(values: pd.Series) -> float:
    """The mean of the recorded values, NaN if none."""
    values = pd.to_numeric(values, errors="coerce").dropna()
    return float(values.mean()) if len(values) else np.nan


def guess_loss(config) -> float:
    """The training loss of guessing the base rates: the entropy of the training split's class shares
    (ln 2 for two balanced classes), or 1 for regression (the standardized target's variance).

    Parameters
    ----------
    config : wil.Config

    Returns
    -------
    float
    """
    if DATASETS[config.dataset].task != "classification":
        return 1.0
    shares = class_shares(config.dataset, config.n_samples, config.noise, config.seed)[0]
    shares = shares[shares > 0]
    return float(-np.sum(shares * np.log(shares)))

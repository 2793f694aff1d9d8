"""Verdicts: what happened to each network, in one word, with the numbers it rests on and a sentence.

``verdicts(result)`` reads only the frames of a ``Result`` (``status``, ``history``, ``layers``,
``config``) and gives one row per network (initializer, seed), or per initializer over its seeds. The
pieces live beside it:

* ``wil.analysis.evidence``: the numbers, one row per network (signal and gradient ratios, dead and
  saturated shares, losses, test accuracy against chance);
* ``wil.analysis.rules``: the rules and thresholds, tried in the order ``PRECEDENCE`` (the first that
  holds is the verdict), and why each value;
* ``wil.analysis.criteria``: what ``learned`` means (generalization, ``LEARNED``), beside what a sweep's
  ``trainable`` means (optimization, ``TRAINABLE``);
* ``wil.analysis.sentences``: the words.

A pathology is named even where training later overcame it (a vanishing network may reach 90%): the
sentence then gives the accuracy too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from wil.analysis.criteria import chance_accuracy
from wil.analysis.evidence import evidence, guess_loss
from wil.analysis.names import short_name
from wil.analysis.rules import (DEAD_SHARE, GRADIENT_EXPLODED, GRADIENT_VANISHED, LOSS_BLOWUP, PRECEDENCE, SATURATED_SHARE,
                                SIGNAL_EXPLODED, SIGNAL_VANISHED, WORSE_THAN_GUESSING, classify)
from wil.analysis.sentences import VERBS, describe, over_seeds
from wil.spec.checks import check_choice

__all__ = [
    "DEAD_SHARE", "GRADIENT_EXPLODED", "GRADIENT_VANISHED", "INITIALIZER_COLUMNS", "LOSS_BLOWUP", "NETWORK_COLUMNS",
    "PRECEDENCE",
    "SATURATED_SHARE", "SIGNAL_EXPLODED", "SIGNAL_VANISHED", "VERBS", "WORSE_THAN_GUESSING", "chance_accuracy",
    "classify", "describe", "guess_loss", "network_verdicts", "short_name", "summarize", "verdicts"]

NETWORK_COLUMNS = [
    "initializer", "seed", "name", "verdict", "sentence", "activation", "width", "distinct_units", "depth",
    "signal_ratio", "gradient_ratio", "diverged_epoch", "reason", "initial_loss", "lowest_loss", "lowest_loss_epoch",
    "final_loss", "dead_fraction", "dead_layers", "saturated_fraction", "final_test_accuracy",
    "final_test_loss", "chance_accuracy", "guess_loss", "epochs", "normalization", "residual",
    "peak_test_accuracy", "peak_test_epoch"]
INITIALIZER_COLUMNS = [
    "initializer", "name", "verdict", "sentence", "n_seeds", "n_agree", "counts", "final_test_accuracy",
    "min_test_accuracy", "max_test_accuracy", "final_test_loss", "chance_accuracy"]


def verdicts(result, by: str = "network") -> pd.DataFrame:
    """The verdict of every network of ``result``, or of every initializer over its seeds.

    Parameters
    ----------
    result : wil.Result
    by : ``"network"`` (one row per initializer and seed) or ``"initializer"`` (one row per initializer,
        the majority verdict over its seeds).

    Returns
    -------
    pandas.DataFrame
        by="network": ``NETWORK_COLUMNS``: the verdict (one of ``PRECEDENCE``), a sentence, and the
        evidence: ``distinct_units`` (most of any hidden layer at the end: 1 when every layer
        is symmetric) of ``width``;
        ``signal_ratio`` (epoch-0 act_std of layer ``depth`` over layer 1's); ``gradient_ratio``
        (epoch-0 grad_norm of layer 1 over the output layer's); ``diverged_epoch`` and ``reason``;
        training losses at epoch 0, at their lowest and at the end; ``dead_fraction`` (share of hidden
        units dead at the end) and ``dead_layers`` (hidden layers wholly dead); ``saturated_fraction``
        (epoch 0); final test accuracy and loss; ``chance_accuracy`` (majority class share of the test
        split, NaN for regression). Evidence a run did not record (no diagnostics, a ReLU's saturation)
        is NaN.
        by="initializer": ``INITIALIZER_COLUMNS``: the majority verdict (a tie goes to the verdict earlier
        in ``PRECEDENCE``), ``n_agree`` of ``n_seeds``, ``counts`` ("learned 4, exploding 1"), median,
        lowest and highest final test accuracy, and a sentence over the seeds.
    """
    check_choice("by", by, ("network", "initializer"))
    frame = network_verdicts(result)
    return frame if by == "network" else summarize(frame)


def network_verdicts(result) -> pd.DataFrame:
    """One row per network: verdict, sentence and evidence (see ``verdicts``)."""
    frame = evidence(result)
    frame["verdict"] = [classify(row) for row in frame.to_dict("records")]
    frame["sentence"] = [f"{row['name']}: {describe(row, row['verdict'])}" for row in frame.to_dict("records")]
    frame["verdict"] = pd.Categorical(frame["verdict"], categories=PRECEDENCE)
    return frame[NETWORK_COLUMNS]


def summarize(networks: pd.DataFrame) -> pd.DataFrame:
    """One row per initializer from a frame of ``network_verdicts`` (or several concatenated, e.g. seeds
    trained in separate runs): the majority verdict and a sentence over the seeds.

    Parameters
    ----------
    networks : pandas.DataFrame with ``NETWORK_COLUMNS``.

    Returns
    -------
    pandas.DataFrame with ``INITIALIZER_COLUMNS``, initializers in their order of appearance.
    """
    rows = [_over_initializer(networks[networks["initializer"].astype(str) == label], label)
            for label in pd.unique(networks["initializer"].astype(str))]
    frame = pd.DataFrame(rows, columns=INITIALIZER_COLUMNS)
    labels = networks["initializer"]
    categories = labels.cat.categories if isinstance(labels.dtype, pd.CategoricalDtype) else frame["initializer"]
    frame["initializer"] = pd.Categorical(frame["initializer"], categories=categories, ordered=True)
    frame["verdict"] = pd.Categorical(frame["verdict"], categories=PRECEDENCE)
    return frame


def _over_initializer(seeds: pd.DataFrame, label: str) -> dict:
    """One row of ``summarize``: an initializer's networks (one per seed) in ``INITIALIZER_COLUMNS``."""
    verdict_list = [str(v) for v in seeds["verdict"]]
    counts = {v: verdict_list.count(v) for v in PRECEDENCE if v in verdict_list}
    majority = max(counts, key=lambda v: (counts[v], -PRECEDENCE.index(v)))
    accuracy = seeds["final_test_accuracy"].to_numpy(dtype=float)
    return {
        "initializer": label, "name": seeds["name"].iloc[0], "verdict": majority,
        "sentence": over_seeds(seeds, majority, counts[majority]), "n_seeds": len(seeds),
        "n_agree": counts[majority],
        "counts": ", ".join(f"{v} {n}" for v, n in sorted(counts.items(), key=lambda item: -item[1])),
        "final_test_accuracy": _nanmedian(accuracy), "min_test_accuracy": _nanextreme(accuracy, np.nanmin),
        "max_test_accuracy": _nanextreme(accuracy, np.nanmax),
        "final_test_loss": _nanmedian(seeds["final_test_loss"].to_numpy(dtype=float)),
        "chance_accuracy": float(seeds["chance_accuracy"].iloc[0])}


def _nanmedian(values: np.ndarray) -> float:
    """The median of the finite values, NaN if none."""
    values = values[~np.isnan(values)]
    return float(np.median(values)) if values.size else np.nan


def _nanextreme(values: np.ndarray, reduce) -> float:
    """``reduce`` of the non-NaN values, NaN if none."""
    return float(reduce(values)) if (~np.isnan(values)).any() else np.nan

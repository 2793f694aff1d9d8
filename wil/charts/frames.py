"""The pandas steps before charting, shared by the builders: no Altair here.

The initializers of a frame in order, categoricals as strings, finite values only, one seed, the median and
range over seeds, thinned epochs, an even spread of layers, and the lines that lie on one another."""

from __future__ import annotations

import numpy as np
import pandas as pd


def labels_of(frame: pd.DataFrame) -> list[str]:
    """The initializer labels of a frame in comparison order (all categories, even ones without rows)."""
    column = frame["initializer"]
    if isinstance(column.dtype, pd.CategoricalDtype):
        return [str(label) for label in column.cat.categories]
    return [str(label) for label in pd.unique(column)]


def plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Categoricals to strings, so every chart's data serializes the same way."""
    out = frame.copy()
    for name in out.columns:
        if isinstance(out[name].dtype, pd.CategoricalDtype):
            out[name] = out[name].astype(str)
    return out


def finite_rows(frame: pd.DataFrame, column: str, positive: bool = False) -> pd.DataFrame:
    """The rows whose ``column`` is a finite number (and above zero if ``positive``: for a log scale)."""
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    keep = np.isfinite(values) & ((values > 0) if positive else True)
    return frame[keep]


def first_seed(frame: pd.DataFrame, seed: int | None) -> tuple[pd.DataFrame, int | None]:
    """The rows of ``seed`` (default the smallest seed of the frame), and that seed."""
    if frame.empty:
        return frame, seed
    seed = int(frame["seed"].min()) if seed is None else int(seed)
    return frame[frame["seed"] == seed], seed


def thin_epochs(frame: pd.DataFrame, max_epochs: int) -> pd.DataFrame:
    """Keep at most ``max_epochs`` evenly spaced epochs (always the first and the last)."""
    epochs = np.sort(frame["epoch"].unique())
    if len(epochs) <= max_epochs:
        return frame
    keep = epochs[np.unique(np.linspace(0, len(epochs) - 1, max_epochs).round().astype(int))]
    return frame[frame["epoch"].isin(keep)]


def seed_band(frame: pd.DataFrame, keys: list[str], column: str) -> pd.DataFrame:
    """Median, min and max over seeds of ``column`` per ``keys``."""
    grouped = frame.groupby(keys, observed=True)[column]
    out = grouped.agg(median="median", low="min", high="max", seeds="count").reset_index()
    return plain(out)


def epoch_text(epoch: int) -> str:
    """When an epoch is, for a subtitle: "at initialization (epoch 0)", "after 10 epochs"."""
    return "at initialization (epoch 0)" if epoch == 0 else f"after {epoch} epochs"


def pick_layers(n_layers: int, count: int = 5) -> list[int]:
    """``count`` layers spread evenly over 1..n_layers (first and last included)."""
    if n_layers <= count:
        return list(range(1, n_layers + 1))
    return sorted({int(round(x)) for x in np.linspace(1, n_layers, count)})


# ---------------------------------------------------------------- lines that hide each other

NOTE_CHARACTERS = 95  # a subtitle line of 14 px text within a chart's ~700 px
OVERLAP_RTOL = 0.02  # two lines within 2% of each other everywhere look like one at any projector size


def overlaps(frame: pd.DataFrame, x: str, value: str = "median", rtol: float = OVERLAP_RTOL) -> list[list[str]]:
    """Groups of initializers whose lines lie on one another: at every ``x`` both have, their ``value``s
    agree within ``rtol`` (relative to the larger, or both exactly zero). Groups in comparison order; a
    line is in at most one group (the first it joins)."""
    if frame.empty:
        return []
    wide = frame.pivot_table(index=x, columns="initializer", values=value, aggfunc="first", observed=True)
    labels = [label for label in labels_of(frame) if label in wide.columns]
    groups, grouped = [], set()
    for i, first in enumerate(labels):
        if first in grouped:
            continue
        group = [first]
        for other in labels[i + 1:]:
            if other in grouped:
                continue
            both = wide[[first, other]].dropna().to_numpy(dtype=float)  # (x values, 2)
            if len(both) < max(2, 0.8 * min(wide[first].notna().sum(), wide[other].notna().sum())):
                continue
            scale = np.abs(both).max(axis=1)
            if np.all(np.abs(both[:, 0] - both[:, 1]) <= rtol * scale):
                group.append(other)
        if len(group) > 1:
            groups.append(group)
            grouped.update(group)
    return groups


def overlap_notes(groups: list[list[str]], frame: pd.DataFrame, x: str, value: str = "median",
                  fmt=lambda v: f"{v:.3g}") -> list[str]:
    """A subtitle line per group of ``overlaps``: "zeros and random_normal(std=0.01) lie on one another
    (dashed), ending at 0.693"."""
    notes = []
    for group in groups:
        rows = frame[frame["initializer"].astype(str) == group[0]].sort_values(x)
        end = f", ending at {fmt(float(rows[value].iloc[-1]))}" if len(rows) else ""
        names = ", ".join(group[:-1]) + " and " + group[-1]
        notes += _lines(f"{names} lie on one another (dashed){end}.")
    return notes


def _lines(text: str, limit: int = NOTE_CHARACTERS) -> list[str]:
    """``text`` broken at spaces into subtitle lines of at most ``limit`` characters."""
    lines = [""]
    for word in text.split(" "):
        if lines[-1] and len(lines[-1]) + 1 + len(word) > limit:
            lines.append("")
        lines[-1] = f"{lines[-1]} {word}".strip()
    return lines


def dash_column(frame: pd.DataFrame, groups: list[list[str]]) -> pd.Series:
    """"dashed" for the second and later lines of each group of ``overlaps``, so that the line under them
    shows through their gaps; "solid" otherwise."""
    dashed = {label for group in groups for label in group[1:]}
    return pd.Series(np.where(frame["initializer"].astype(str).isin(dashed), "dashed", "solid"), index=frame.index)

"""Histograms of activations, pre-activations, weights or gradients: a column per initializer, a row per
layer, re-binned onto common edges."""

from __future__ import annotations

import math

import altair as alt
import numpy as np
import pandas as pd

from ._common import (WIDTH, labels_of, color_of, wrapped, _color, _finish, _plain, _finite, _first_seed,
                      _epoch_text)

HISTOGRAMS_PER_ROW = 5  # columns of a row before wrapping: six at 1280 px leave under 70 px a histogram
# The grid's width beyond its panels, in px, so that it fits WIDTH: each column's y axis (tick labels
# such as "100%"), the space between columns, and the first column's row labels and axis title.
_Y_AXIS, _SPACING, _ROW_LABELS = 48, 14, 95


def _common_bins(data: pd.DataFrame, n_bins: int = 30) -> pd.DataFrame:
    """Re-bin each initializer's layers onto one set of edges spanning all of them.

    The core bins every layer over its own range; on common edges a layer whose values shrank to almost
    nothing shows as a spike, and one that blew up as the widest histogram, as in Glorot & Bengio's figure.
    """
    parts = []
    for label, group in data.groupby("initializer", sort=False):
        low, high = float(group["bin_left"].min()), float(group["bin_right"].max())
        if not high > low:
            high = low + 1.0
        edges = np.linspace(low, high, n_bins + 1)
        centres = (group["bin_left"].to_numpy() + group["bin_right"].to_numpy()) / 2
        index = np.clip(((centres - low) / (high - low) * n_bins).astype(int), 0, n_bins - 1)
        rebinned = (group.assign(bin=index).groupby(["layer", "bin"])["count"].sum()
                    .unstack(fill_value=0).reindex(columns=range(n_bins), fill_value=0).stack().rename("count")
                    .reset_index())
        rebinned["initializer"] = label
        rebinned["bin_left"] = edges[rebinned["bin"].to_numpy()]
        rebinned["bin_right"] = edges[rebinned["bin"].to_numpy() + 1]
        parts.append(rebinned.drop(columns="bin"))
    columns = ["initializer", "layer", "bin_left", "bin_right", "count"]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


QUANTITY_TITLES = {"activation": "Activation value", "preactivation": "Pre-activation value",
                   "weight": "Weight value", "gradient": "Weight gradient value"}


def histogram_grid(histograms: pd.DataFrame, *, quantity: str = "activation", epoch: int = 0,
                   layers: list[int] | None = None, seed: int | None = None, panel_width: int | None = None,
                   panel_height: int = 70) -> alt.HConcatChart:
    """Small multiples in the spirit of Glorot & Bengio's Figure 6: a column per initializer, a row per layer.

    The histograms are pre-binned by the core; bars show the share of values in each bin. Layers of one
    initializer share the x axis, so a signal that shrinks or grows with depth is seen shrinking or growing.

    Parameters
    ----------
    histograms : ``Result.histograms``
    quantity : "activation", "preactivation", "weight" or "gradient"
    epoch : one of the recorded epochs (0: at initialization)
    layers : the layers shown (default all); seed : the network shown (default the first seed)
    """
    labels = labels_of(histograms)
    output_layer = int(histograms["layer"].max()) if len(histograms) else 1
    data = histograms[(histograms["quantity"] == quantity) & (histograms["epoch"] == epoch)]
    if layers:
        data = data[data["layer"].isin(list(layers))]
    data, seed = _first_seed(data, seed)
    data = _common_bins(_finite(_finite(_plain(data), "bin_left"), "bin_right"))
    totals = data.groupby(["initializer", "layer"])["count"].transform("sum")
    data = data.assign(share=data["count"] / totals.where(totals > 0, 1),
                       layer_name=np.where(data["layer"] == output_layer, "output",
                                           "layer " + data["layer"].astype(str)))
    row_order = [("output" if layer == output_layer else f"layer {layer}") for layer in sorted(data["layer"].unique())]
    data = data[["initializer", "layer_name", "bin_left", "bin_right", "count", "share"]]
    present = [label for label in labels if (data["initializer"] == label).any()]
    missing = [label for label in labels if label not in present]
    # columns per row: at most HISTOGRAMS_PER_ROW, balanced (six initializers: two rows of three)
    per_row = math.ceil(len(present) / math.ceil(len(present) / HISTOGRAMS_PER_ROW)) if present else 1
    panel_width = panel_width or int(max(70, min(190, (WIDTH - _ROW_LABELS - per_row * (_Y_AXIS + _SPACING))
                                              / per_row)))
    what = QUANTITY_TITLES.get(quantity, quantity)
    columns = []
    for index, label in enumerate(present):
        column = alt.Chart(data[data["initializer"] == label]).mark_bar(binSpacing=0).encode(
            x=alt.X("bin_left:Q", bin="binned", title=what,
                    axis=alt.Axis(format=".2~g", tickCount=3, labelOverlap=True, labelFlush=True)),
            x2="bin_right:Q",
            y=alt.Y("share:Q", title="Share" if index % per_row == 0 else None,
                    axis=alt.Axis(format=".0%", tickCount=2)),
            color=_color(labels, "hide"),
            tooltip=[alt.Tooltip("initializer:N", title="Initializer"), alt.Tooltip("layer_name:N", title="Layer"),
                     alt.Tooltip("bin_left:Q", title="From", format=".3~g"),
                     alt.Tooltip("bin_right:Q", title="To", format=".3~g"),
                     alt.Tooltip("share:Q", title="Share of values", format=".1%"),
                     alt.Tooltip("count:Q", title="Count")],
        ).properties(width=panel_width, height=panel_height).facet(
            row=alt.Row("layer_name:N", sort=row_order, title=None,
                        header=alt.Header(labels=index % per_row == 0, labelAngle=0, labelAlign="left",
                                          labelFontSize=14)),
            title=alt.TitleParams(wrapped(label, panel_width + _Y_AXIS), color=color_of(labels, label), fontSize=15,
                                  anchor="middle"),
        )
        columns.append(column)
    subtitle = [f"{_epoch_text(epoch).capitalize()}, seed {seed}. Bars: share of the layer's values in each bin; "
                "the layers of one initializer share their x axis."]
    if missing:
        subtitle.append("No column for " + ", ".join(missing) + ": diverged before this epoch.")
    rows = [alt.hconcat(*columns[i:i + per_row], spacing=_SPACING) for i in range(0, len(columns), per_row)]
    chart = (rows[0] if len(rows) == 1 else alt.vconcat(*rows)) if rows else alt.hconcat(
        alt.Chart(pd.DataFrame({"text": ["no data at this epoch"]})).mark_text(fontSize=15).encode(text="text:N"))
    title = f"{what.split(' value')[0]} histograms per layer"
    return _finish(chart.properties(title=alt.TitleParams(title, subtitle=subtitle)))

"""Histograms of activations, pre-activations, weights or gradients: a column per initializer, a row per
layer, re-binned onto common edges."""

from __future__ import annotations

import math

import altair as alt
import numpy as np
import pandas as pd

from wil.charts.frames import epoch_text, finite_rows, first_seed, labels_of, plain
from wil.charts.style import WIDTH, color_encoding, color_of, finish, fitted, wrapped
from wil.charts.views import VIEWS

HISTOGRAMS_PER_ROW = 5  # columns of a row before wrapping: six at 1280 px leave under 70 px a histogram
# The grid's width beyond its panels, in px, so that it fits WIDTH: each column's y axis (tick labels
# such as "100%"), the space between columns, and the first column's row labels and axis title.
_Y_AXIS, _SPACING, _ROW_LABELS = 48, 14, 95


def rebin(left: np.ndarray, right: np.ndarray, counts: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of bins ``[left, right)`` moved onto new ``edges`` by exact overlap: each bin's count is
    shared among the new bins in proportion to the length of their overlap (values taken as spread evenly
    within a bin, the only assumption a histogram allows). Totals are kept; never by bin centre, which
    aliases. A zero-width bin goes wholly to the new bin that holds it.

    left, right, counts : (m,) the bins; edges : (n + 1,) increasing. Returns (n,) float counts.
    """
    left, right, counts = (np.asarray(a, dtype=np.float64) for a in (left, right, counts))
    edges = np.asarray(edges, dtype=np.float64)
    lo = np.maximum(left[:, None], edges[None, :-1])  # (m, n)
    hi = np.minimum(right[:, None], edges[None, 1:])
    width = right - left
    overlap = np.clip(hi - lo, 0.0, None)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(width[:, None] > 0, overlap / width[:, None], 0.0)
    point = width <= 0
    if point.any():  # a bin of zero width: its count goes to the new bin holding it
        index = np.clip(np.searchsorted(edges, left[point], side="right") - 1, 0, len(edges) - 2)
        share[np.flatnonzero(point), index] = 1.0
    return counts @ share


def _shared_bins(data: pd.DataFrame, n_bins: int = 30) -> pd.DataFrame:
    """Every initializer's layers re-binned (``rebin``) onto one set of edges spanning all of them, so
    that the columns share an x axis and a 100x difference in scale shows as one."""
    if data.empty:
        return data
    edges = np.linspace(float(data["bin_left"].min()), float(data["bin_right"].max()), n_bins + 1)
    if not edges[-1] > edges[0]:
        edges = np.linspace(edges[0] - 0.5, edges[0] + 0.5, n_bins + 1)
    parts = []
    for (label, layer), group in data.groupby(["initializer", "layer"], sort=False, observed=True):
        counts = rebin(group["bin_left"].to_numpy(), group["bin_right"].to_numpy(), group["count"].to_numpy(), edges)
        parts.append(pd.DataFrame({"initializer": label, "layer": layer, "bin_left": edges[:-1],
                                   "bin_right": edges[1:], "count": counts}))
    return pd.concat(parts, ignore_index=True)


LOG_DECADES = 24  # the log-magnitude axis spans at most this many decades below the largest magnitude
LOG_BINS = 48  # bars on that axis: half a decade each at its widest


def _log_magnitude_bins(data: pd.DataFrame, n_bins: int = LOG_BINS) -> pd.DataFrame:
    """Every histogram moved onto one axis of log10 |value| (re-binned by exact overlap, ``rebin``, the
    negative side folded onto the positive; a bin that holds 0 goes to the first bar), so that a signal
    1e-10 times smaller is ten decades to the left instead of a spike at zero. The axis runs from the finest
    bin width recorded (values finer than a bin cannot be told apart from zero) to the largest magnitude, at
    most ``LOG_DECADES`` decades."""
    if data.empty:
        return data
    magnitude = float(np.maximum(data["bin_left"].abs(), data["bin_right"].abs()).max())
    widths = (data["bin_right"] - data["bin_left"]).to_numpy(dtype=float)
    widths = widths[widths > 0]
    if not magnitude > 0:
        return data.iloc[0:0]
    high = np.log10(magnitude)
    low = max(np.log10(widths.min()) if len(widths) else high - 1, high - LOG_DECADES)
    if not high > low:
        low = high - 1
    log_edges = np.linspace(low, high, n_bins + 1)  # (n_bins + 1,) in decades
    edges = 10.0 ** log_edges
    parts = []
    for (label, layer), group in data.groupby(["initializer", "layer"], sort=False, observed=True):
        left, right, counts = (group[c].to_numpy(dtype=float) for c in ("bin_left", "bin_right", "count"))
        # a bin that holds 0 cannot say how small its values are: it goes whole to the first bar ("~0"),
        # as do magnitudes under the axis; the others are spread by exact overlap, both signs folded
        away = ~((left <= 0) & (right >= 0))
        folded = (rebin(left[away], right[away], counts[away], edges)
                  + rebin(-right[away], -left[away], counts[away], edges))  # (n_bins,) |x|
        folded[0] += max(counts.sum() - folded.sum(), 0.0)
        parts.append(pd.DataFrame({"initializer": label, "layer": layer, "bin_left": log_edges[:-1],
                                   "bin_right": log_edges[1:], "count": folded}))
    return pd.concat(parts, ignore_index=True)


QUANTITY_TITLES = {quantity: view.axis_title for quantity, view in VIEWS["histograms"].items()}  # x axis titles


def histogram_frame(histograms: pd.DataFrame, *, quantity: str = "activation", epoch: int = 0,
                    layers: list[int] | None = None, seed: int | None = None, shared_x: bool = False,
                    log_magnitude: bool = False) -> tuple[pd.DataFrame, list[str], int | None]:
    """The bars ``histogram_grid`` draws, for one seed (default the first): per initializer and layer
    (``layer_name``: "layer 3", or "output"), each bin's ``count`` and ``share`` of the layer's values, on
    the recorded bins, on edges every initializer shares (``shared_x``) or on log10 |value|
    (``log_magnitude``). Returns the bars, the rows' order (input first) and the seed shown."""
    output_layer = int(histograms["layer"].max()) if len(histograms) else 1
    data = histograms[(histograms["quantity"] == quantity) & (histograms["epoch"] == epoch)]
    if layers:
        data = data[data["layer"].isin(list(layers))]
    data, seed = first_seed(data, seed)
    data = finite_rows(finite_rows(plain(data), "bin_left"), "bin_right")[
        ["initializer", "layer", "bin_left", "bin_right", "count"]]
    if log_magnitude:
        data = _log_magnitude_bins(data)
    elif shared_x:
        data = _shared_bins(data)
    totals = data.groupby(["initializer", "layer"])["count"].transform("sum")
    data = data.assign(share=data["count"] / totals.where(totals > 0, 1),
                       layer_name=np.where(data["layer"] == output_layer, "output",
                                           "layer " + data["layer"].astype(str)))
    row_order = [("output" if layer == output_layer else f"layer {layer}") for layer in sorted(data["layer"].unique())]
    return data[["initializer", "layer_name", "bin_left", "bin_right", "count", "share"]], row_order, seed


def _grid_layout(present: int, panel_width: int | None, fit_width: int | None) -> tuple[int, int]:
    """Columns per row (at most ``HISTOGRAMS_PER_ROW``, balanced: six initializers make two rows of three)
    and the panels' width, so that the grid fits ``WIDTH`` (or ``fit_width``)."""
    most = HISTOGRAMS_PER_ROW if fit_width is None else max(1, min(HISTOGRAMS_PER_ROW, int(
        (fit_width - 26 - 60 - _ROW_LABELS) // (70 + _Y_AXIS + _SPACING))))  # panels of 70 px at least
    per_row = math.ceil(present / math.ceil(present / most)) if present else 1
    panel_width = panel_width or int(max(70, min(190, (WIDTH - _ROW_LABELS - per_row * (_Y_AXIS + _SPACING))
                                              / per_row)))
    return per_row, fitted(fit_width, 26 + 60 + _ROW_LABELS + per_row * (_Y_AXIS + _SPACING), per_row, panel_width)


def _histogram_column(bars: pd.DataFrame, labels: list[str], label: str, row_order: list[str], axis_title: str, *,
                      first: bool, panel_width: int, panel_height: int, shared: bool = False) -> alt.FacetChart:
    """One initializer's column of histograms, a row per layer; the ``first`` of a row carries the y axis
    title and the layers' names (and, where every column shares one x axis, its title: a title under
    each narrow column would be wider than the column)."""
    return alt.Chart(bars).mark_bar(binSpacing=0).encode(
        x=alt.X("bin_left:Q", bin="binned", title=axis_title if first or not shared else None,
                axis=alt.Axis(format=".2~g", tickCount=3, labelOverlap=True, labelFlush=True)),
        x2="bin_right:Q",
        y=alt.Y("share:Q", title="Share" if first else None, axis=alt.Axis(format=".0%", tickCount=2)),
        color=color_encoding(labels, "hide"),
        tooltip=[alt.Tooltip("initializer:N", title="Initializer"), alt.Tooltip("layer_name:N", title="Layer"),
                 alt.Tooltip("bin_left:Q", title="From", format=".3~g"),
                 alt.Tooltip("bin_right:Q", title="To", format=".3~g"),
                 alt.Tooltip("share:Q", title="Share of values", format=".1%"),
                 alt.Tooltip("count:Q", title="Count")],
    ).properties(width=panel_width, height=panel_height).facet(
        row=alt.Row("layer_name:N", sort=row_order, title=None,
                    header=alt.Header(labels=first, labelAngle=0, labelAlign="left", labelFontSize=14)),
        title=alt.TitleParams(wrapped(label, panel_width + _Y_AXIS), color=color_of(labels, label), fontSize=15,
                              anchor="middle"),
    )


def histogram_grid(histograms: pd.DataFrame, *, quantity: str = "activation", epoch: int = 0,
                   layers: list[int] | None = None, seed: int | None = None, panel_width: int | None = None,
                   panel_height: int = 70, shared_x: bool = False, log_magnitude: bool = False,
                   fit_width: int | None = None) -> alt.HConcatChart:
    """Small multiples in the spirit of Glorot & Bengio's Figure 6: a column per initializer, a row per layer.

    The histograms are binned by the core, once, on edges its layers share (``wil.engine.record``): the bars
    are the core's bins, and show the share of values in each. Layers of one initializer share the x
    axis, so a signal that shrinks or grows with depth is seen shrinking or growing. ``shared_x`` puts
    every initializer on one x axis, re-binning by exact overlap (``rebin``); ``log_magnitude`` puts them
    on one axis of log10 |value| instead, where a 100x difference in scale is two decades apart.

    Parameters
    ----------
    histograms : ``Result.histograms``
    quantity : "activation", "preactivation", "weight" or "gradient" (title and axis: ``VIEWS["histograms"]``)
    epoch : one of the recorded epochs (0: at initialization)
    layers : the layers shown (default all); seed : the network shown (default the first seed)
    fit_width : the whole chart's width at most, in pixels (the panels shrink to fit it)
    """
    labels = labels_of(histograms)
    data, row_order, seed = histogram_frame(histograms, quantity=quantity, epoch=epoch, layers=layers, seed=seed,
                                            shared_x=shared_x, log_magnitude=log_magnitude)
    present = [label for label in labels if (data["initializer"] == label).any()]
    missing = [label for label in labels if label not in present]
    per_row, panel_width = _grid_layout(len(present), panel_width, fit_width)
    view = VIEWS["histograms"].get(quantity)
    what = view.axis_title if view else quantity
    axis_title = f"log10 |{what.split(' value')[0].lower()}|" if log_magnitude else what
    columns = [_histogram_column(data[data["initializer"] == label], labels, label, row_order, axis_title,
                                 first=index % per_row == 0, panel_width=panel_width, panel_height=panel_height,
                                 shared=shared_x or log_magnitude)
               for index, label in enumerate(present)]
    shared = ("every column shares one x axis" if shared_x or log_magnitude
              else "the layers of one initializer share their x axis")
    subtitle = [f"{epoch_text(epoch).capitalize()}, seed {seed}. Bars: share of the layer's values in each bin; "
                f"{shared}."]
    if log_magnitude:
        subtitle.append("x: log10 of the magnitude (-3 is 0.001); the left-most bar holds the values too small to "
                        "tell from 0.")
    if missing:
        subtitle.append("No column for " + ", ".join(missing) + ": diverged before this epoch.")
    rows = [alt.hconcat(*columns[i:i + per_row], spacing=_SPACING) for i in range(0, len(columns), per_row)]
    chart = (rows[0] if len(rows) == 1 else alt.vconcat(*rows)) if rows else alt.hconcat(
        alt.Chart(pd.DataFrame({"text": ["no data at this epoch"]})).mark_text(fontSize=15).encode(text="text:N"))
    title = view.title if view else f"{what.split(' value')[0]} histograms per layer"
    return finish(chart.properties(title=alt.TitleParams(title, subtitle=subtitle)), fit_width)

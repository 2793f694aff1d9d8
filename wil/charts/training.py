"""Training outcomes: loss and accuracy curves over epochs (with divergence marked), the final score
per initializer, and the table of every network."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from wil.charts.frames import (dash_column, finite_rows, labels_of, overlap_notes, overlaps, plain, seed_band,
                               thin_epochs)
from wil.charts.style import (LINE_WIDTH, TOOLTIP_EPOCHS, color_encoding, dash_encoding, faded, finish, fitted,
                              legend_pick, log_axis)
from wil.charts.views import VIEWS


def _diverged_rows(history: pd.DataFrame, status: pd.DataFrame | None) -> pd.Series:
    """Whether each history row is the row where its network blew up (its loss there is off the chart)."""
    if status is None or status.empty or not status["diverged"].any():
        return pd.Series(False, index=history.index)
    ends = plain(status[status["diverged"]])[["initializer", "seed", "diverged_epoch", "reason"]]
    keys = plain(history[["initializer", "seed", "epoch"]]).reset_index()
    merged = keys.merge(ends, on=["initializer", "seed"], how="left").set_index("index")
    return (merged["epoch"] == merged["diverged_epoch"]).fillna(False).astype(bool).reindex(history.index)


def curves_frame(history: pd.DataFrame, status: pd.DataFrame | None = None, *, metric: str = "loss",
                 max_epochs: int = 200) -> tuple[pd.DataFrame, list[list[str]], float | None]:
    """The rows ``metric_curves`` draws, by ``kind``: "curve" (per initializer, split and epoch, at most
    ``max_epochs`` evenly spaced: the median, min and max over seeds, ``dash`` and ``tip``, whether the point
    carries a tooltip), and for a loss whose networks diverged, "diverged" (a marker per network and split
    at ``y``, the top of the axis) and "jump" (the dashed line from its last finite loss up to the marker).

    Returns the rows, the groups of training-set lines that lie on one another (``frames.overlaps``), and
    the top of the loss axis (None when no network diverged, or for accuracy)."""
    is_loss = metric == "loss"
    exploded = _diverged_rows(history, status)
    curves = thin_epochs(finite_rows(history[~exploded], metric, positive=is_loss), max_epochs)
    band = seed_band(curves, ["initializer", "split", "epoch"], metric).assign(kind="curve")
    hidden = overlaps(band[band["split"] == "train"], "epoch")
    band["dash"] = dash_column(band, hidden)
    # the invisible points that carry the tooltips: at most TOOLTIP_EPOCHS per line are plenty to hover
    band["tip"] = band["epoch"].isin(thin_epochs(band, TOOLTIP_EPOCHS)["epoch"].unique())
    markers = plain(history[exploded]) if is_loss else pd.DataFrame()
    if markers.empty:
        return band, hidden, None
    top = _loss_top(curves, status, metric)
    markers = markers.merge(plain(status)[["initializer", "seed", "reason"]], on=["initializer", "seed"])
    markers = markers.assign(kind="diverged", y=top, value=[f"{v:.3g}" for v in markers[metric]],
                             network=markers["initializer"] + " / " + markers["seed"].astype(str))
    return pd.concat([band, markers, _jumps(history, markers, metric)], ignore_index=True), hidden, top


def metric_curves(history: pd.DataFrame, status: pd.DataFrame | None = None, *, metric: str = "loss",
                  max_epochs: int = 200, width: int = 345, height: int = 280,
                  fit_width: int | None = None) -> alt.FacetChart:
    """Train and test ``metric`` ("loss" or "accuracy") over epochs, one line per initializer.

    The line is the median over seeds and the band spans min to max. Loss is on a log scale. A network
    that diverged is drawn up to its last finite epoch, then a dashed jump leads to a triangle at the top
    of the axis (its exploded loss, maybe inf or NaN, is in the tooltip) instead of stretching the axis.
    Titles and scales: ``VIEWS["training"][metric]``.

    Parameters
    ----------
    history : ``Result.history``
    status : ``Result.status``; without it a diverged network is not marked
    metric : "loss" (log scale) or "accuracy"
    max_epochs : at most this many epochs are drawn (evenly spaced)
    width, height : of each of the two panels, in pixels
    fit_width : the whole chart's width at most, in pixels (the panels shrink to fit it)

    Returns
    -------
    A chart faceted into a training-set and a test-set panel.
    """
    view = VIEWS["training"][metric]
    data, hidden, top = curves_frame(history, status, metric=metric, max_epochs=max_epochs)
    regression = not np.isfinite(pd.to_numeric(history["accuracy"], errors="coerce")).any()
    y_title = view.value_title.replace(view.axis_title, "MSE loss") if regression and view.log else view.value_title
    layers = _curve_layers(data, labels_of(history), metric, y_title, log=view.log, top=top)
    band = data[data["kind"] == "curve"]
    subtitle = ["Line: median over seeds; band: min to max. Click a legend entry to pick it out."]
    if top is not None:
        subtitle.append("▲ a network diverged there: its loss left the chart (hover for the value).")
    subtitle += overlap_notes(hidden, band[band["split"] == "train"], "epoch",
                              fmt=(lambda v: f"{v:.0%}") if view.percent else (lambda v: f"{v:.3g}"))
    chart = alt.layer(*layers).properties(width=fitted(fit_width, 160, 2, width), height=height).facet(
        column=alt.Column("split:N", sort=["train", "test"], title=None,
                          header=alt.Header(labelExpr="datum.value == 'train' ? 'Training set' : 'Test set'",
                                            labelFontSize=16, labelFontWeight="bold")))
    return finish(chart.properties(title=alt.TitleParams(view.title, subtitle=subtitle)), fit_width)


def _curve_layers(data: pd.DataFrame, labels: list[str], metric: str, y_title: str, *, log: bool,
                  top: float | None) -> list:
    """The encoding of ``metric_curves``: the lines, their bands and hover points, and the divergence
    jumps and markers (when ``top`` is set: the rows of kind "jump" and "diverged")."""
    band = data[data["kind"] == "curve"]
    markers = data[data["kind"] == "diverged"]
    tip = ".4~g" if log else ".1%"
    if log:
        scale = alt.Scale(type="log") if top is None else alt.Scale(type="log", domainMax=top, clamp=True)
        # clamped: what lies above ``top`` (a diverging network's last losses) is drawn at the edge
        tops = markers["y"] if top is not None else []
        ceiling = float(max(tops)) if len(tops) else np.inf
        axis = log_axis([v for v in (*band["low"], *band["high"], *tops) if v <= ceiling])
    else:
        scale, axis = alt.Scale(domain=[0, 1]), alt.Axis(format=".0%")
    tooltip = [alt.Tooltip("initializer:N", title="Initializer"), alt.Tooltip("split:N", title="Split"),
               alt.Tooltip("epoch:Q", title="Epoch"), alt.Tooltip("median:Q", title=f"{metric} (median)", format=tip),
               alt.Tooltip("low:Q", title="min over seeds", format=tip),
               alt.Tooltip("high:Q", title="max over seeds", format=tip), alt.Tooltip("seeds:Q", title="Seeds")]
    x = alt.X("epoch:Q", title="Epoch", scale=alt.Scale(nice=False))
    y = alt.Y("median:Q", scale=scale, title=y_title, axis=axis)
    base = alt.Chart(data)
    curve = base.transform_filter(alt.datum.kind == "curve")
    pick = legend_pick()
    layers = [  # the line first: the legend takes its symbols from the first layer
        curve.mark_line(strokeWidth=LINE_WIDTH).encode(
            x=x, y=y, color=color_encoding(labels), tooltip=tooltip, strokeDash=dash_encoding(),
            opacity=faded(pick)).add_params(pick),
        base.transform_filter(alt.datum.tip).mark_circle(size=90, opacity=0).encode(x=x, y=y, tooltip=tooltip),
    ]
    if (band["seeds"] > 1).any():  # with one seed the band has no width
        layers.insert(1, curve.mark_area().encode(x=x, y=alt.Y("low:Q", scale=scale, title=y_title), y2="high:Q",
                                                  color=color_encoding(labels, "merge"), opacity=faded(pick, 0.18)))
    if top is not None:
        marker_tooltip = [alt.Tooltip("initializer:N", title="Initializer"), alt.Tooltip("seed:Q", title="Seed"),
                          alt.Tooltip("epoch:Q", title="Diverged at epoch"), alt.Tooltip("reason:N", title="Cause"),
                          alt.Tooltip("value:N", title="Loss there")]
        layers += [
            base.transform_filter(alt.datum.kind == "jump").mark_line(strokeDash=[4, 3], strokeWidth=2).encode(
                x=x, y=alt.Y("y:Q", scale=scale), color=color_encoding(labels, "merge"), detail="network:N"),
            base.transform_filter(alt.datum.kind == "diverged").mark_point(
                shape="triangle-up", size=260, filled=True, stroke="black", strokeWidth=1, opacity=1).encode(
                x=x, y=alt.Y("y:Q", scale=scale), color=color_encoding(labels, "merge"), tooltip=marker_tooltip),
        ]
    return layers


def _loss_top(curves: pd.DataFrame, status: pd.DataFrame | None, metric: str) -> float:
    """The top of the loss axis when networks diverged: a decade above the highest loss of the networks
    that did not (so their learning curves fill the chart), where the diverged ones' markers sit."""
    kept = curves
    if status is not None and len(status):
        ok = plain(status[~status["diverged"].astype(bool)])[["initializer", "seed"]]
        kept = plain(curves).merge(ok, on=["initializer", "seed"])
    values = pd.to_numeric(kept[metric], errors="coerce").to_numpy(dtype=float)
    values = values[np.isfinite(values) & (values > 0)]
    if not len(values):  # every network diverged: their own values
        values = pd.to_numeric(curves[metric], errors="coerce").to_numpy(dtype=float)
        values = values[np.isfinite(values) & (values > 0)]
    return float(10.0 ** np.ceil(np.log10(values.max() * 2))) if len(values) else 1e6


def _jumps(history: pd.DataFrame, markers: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Two points per diverged network and split: its last finite value, then the marker at the top."""
    before = plain(history)
    before = before.assign(next_epoch=before["epoch"] + 1)
    start = markers[["initializer", "seed", "split", "epoch", "y", "network"]].merge(
        before[["initializer", "seed", "split", "next_epoch", metric]],
        left_on=["initializer", "seed", "split", "epoch"], right_on=["initializer", "seed", "split", "next_epoch"])
    start = finite_rows(start, metric, positive=True)
    if start.empty:
        return pd.DataFrame()
    first = start.assign(epoch=start["epoch"] - 1, y=start[metric])
    return pd.concat([first, start], ignore_index=True).assign(kind="jump")[
        ["kind", "initializer", "seed", "split", "epoch", "y", "network"]]


def loss_curves(history: pd.DataFrame, status: pd.DataFrame | None = None, **kwargs) -> alt.FacetChart:
    """Train and test loss per epoch (log scale); see ``metric_curves``."""
    return metric_curves(history, status, metric="loss", **kwargs)


def accuracy_curves(history: pd.DataFrame, status: pd.DataFrame | None = None, **kwargs) -> alt.FacetChart:
    """Train and test accuracy per epoch; see ``metric_curves``."""
    return metric_curves(history, status, metric="accuracy", **kwargs)


def final_scores(status: pd.DataFrame, *, width: int = 520, fit_width: int | None = None) -> alt.LayerChart:
    """Final test accuracy (loss for regression) per initializer: median over seeds that did not diverge.
    ``width``: the bars' span, in pixels; ``fit_width``: the whole chart's at most (the bars shrink)."""
    labels = labels_of(status)
    width = fitted(fit_width, 250, 1, width)
    accuracy = np.isfinite(pd.to_numeric(status["final_test_accuracy"], errors="coerce")).any()
    column = "final_test_accuracy" if accuracy else "final_test_loss"
    rows = []
    for label in labels:
        runs = status[status["initializer"].astype(str) == label]
        ok = finite_rows(runs[~runs["diverged"]], column)
        n_diverged = int(runs["diverged"].sum())
        value = float(ok[column].median()) if len(ok) else np.nan
        if len(ok) == 0:
            text = "diverged" if n_diverged else "no result"
        else:
            text = f"{value:.0%}" if accuracy else f"{value:.3g}"
            if n_diverged:
                text += f"  ({n_diverged} of {len(runs)} seeds diverged)"
        rows.append((label, 0.0 if np.isnan(value) else value, text, n_diverged, len(runs)))
    data = pd.DataFrame(rows, columns=["initializer", "value", "text", "diverged", "seeds"])
    x_title = "Final test accuracy (%)" if accuracy else "Final test loss (MSE)"
    x = alt.X("value:Q", title=x_title, scale=alt.Scale(domain=[0, 1]) if accuracy else alt.Scale(zero=True),
              axis=alt.Axis(format=".0%" if accuracy else ".3g"))
    y = alt.Y("initializer:N", sort=labels, title=None, axis=alt.Axis(labelLimit=260))
    tooltip = [alt.Tooltip("initializer:N", title="Initializer"), alt.Tooltip("text:N", title=x_title),
               alt.Tooltip("diverged:Q", title="Seeds diverged"), alt.Tooltip("seeds:Q", title="Seeds")]
    base = alt.Chart(data).encode(y=y)
    bars = base.mark_bar(height=22).encode(x=x, color=color_encoding(labels, "hide"), tooltip=tooltip)
    text = base.mark_text(align="left", dx=6, fontSize=15).encode(x=x, text="text:N")
    chart = alt.layer(bars, text).properties(
        width=width, height=alt.Step(34),
        title=alt.TitleParams("Final test accuracy" if accuracy else "Final test loss",
                              subtitle="Median over the seeds that did not diverge."))
    return finish(chart, fit_width)


def status_table(status: pd.DataFrame) -> pd.DataFrame:
    """``status`` for people: one row per network, diverged ones marked with their epoch and cause."""
    table = plain(status)
    diverged = table["diverged"].astype(bool)
    finals = {column: table[column].where(~diverged) for column in  # a diverged network has no final value
              ("final_train_loss", "final_test_loss", "final_train_accuracy", "final_test_accuracy")}
    return pd.DataFrame({
        "Initializer": table["initializer"],
        "Seed": table["seed"],
        "Outcome": np.where(diverged, "⚠ diverged", "✓ trained"),
        "Diverged at epoch": table["diverged_epoch"],
        "Cause": table["reason"].where(diverged, ""),
        "Final train loss": finals["final_train_loss"],
        "Final test loss": finals["final_test_loss"],
        "Train accuracy": finals["final_train_accuracy"],
        "Test accuracy": finals["final_test_accuracy"],
    })

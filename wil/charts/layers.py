"""Per-layer statistics: a statistic against depth at one epoch (with the theory's prediction), and as a
heatmap over epochs and layers. Each builder prepares its data in pandas (``profile_frame``,
``heatmap_frame``), then encodes it."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from wil.charts.frames import (dash_column, epoch_text, finite_rows, labels_of, overlap_notes, overlaps, plain,
                               seed_band, thin_epochs)
from wil.charts.style import (LINE_WIDTH, LOG_FORMAT, color_encoding, dash_encoding, faded, finish, fitted,
                              legend_pick, log_axis, wrapped_labels)
from wil.charts.views import VIEWS


def profile_frame(layers: pd.DataFrame, field: str, *, epoch: int = 0, log: bool = False,
                  theory: pd.DataFrame | None = None) -> tuple[pd.DataFrame, list[list[str]]]:
    """The rows ``layer_profile`` draws: per initializer and layer, the median, min and max over seeds of
    ``field`` at ``epoch`` (``source`` "measured"), then the ``theory`` rows (``source`` "theory"); and the
    groups of measured lines that lie on one another (``frames.overlaps``), whose later lines are dashed.
    With ``log``, values that are not above zero are dropped."""
    at_epoch = finite_rows(layers[layers["epoch"] == epoch], field, positive=log)
    band = seed_band(at_epoch, ["initializer", "layer"], field)
    band["source"] = "measured"
    hidden = overlaps(band, "layer")
    band["dash"] = dash_column(band, hidden)
    if theory is None or theory.empty:
        return band, hidden
    predicted = plain(finite_rows(theory, field, positive=log))
    predicted = predicted.assign(median=predicted[field], low=predicted[field], high=predicted[field],
                                 seeds=0, source="theory", dash="solid")[list(band.columns)]
    return pd.concat([band, predicted], ignore_index=True), hidden


def layer_profile(layers: pd.DataFrame, field: str, *, epoch: int = 0, title: str, y_title: str,
                  log: bool = False, percent: bool = False, theory: pd.DataFrame | None = None,
                  width: int = 660, height: int = 290, fit_width: int | None = None) -> alt.LayerChart:
    """``field`` per layer at one epoch, one line per initializer (median over seeds, band min to max).

    Parameters
    ----------
    layers : ``Result.layers``
    field : one of its statistics, e.g. "act_std", "grad_norm", "dead_fraction", "distinct_units"
    epoch : the epoch shown (0: at initialization)
    title, y_title : the chart's title and the y axis title (with its unit); ``VIEWS["profile"][field]``
        holds the app's (``**VIEWS["profile"][field].options``)
    log : log y axis (zeros are dropped); percent : a 0-100% axis
    theory : columns initializer, layer and ``field``: drawn dashed (e.g. ``wil.theory_frame``)
    width, height : of the plot, in pixels; fit_width : the whole chart's at most (the plot shrinks)
    """
    data, hidden = profile_frame(layers, field, epoch=epoch, log=log, theory=theory)
    output = int(layers["layer"].max()) if len(layers) else 1
    chart = _profile_layers(data, labels_of(layers), output, y_title, log=log, percent=percent,
                            theory_values=theory[field] if theory is not None else [])
    measured = data[data["source"] == "measured"]
    subtitle = [f"Median over seeds {epoch_text(epoch)}."]
    if theory is not None:
        subtitle.append("Dashed: what the variance recursion predicts at initialization (wide-layer limit).")
    if log:
        subtitle.append("Log scale: values of exactly zero (e.g. an all-zero init) cannot be drawn.")
    subtitle += overlap_notes(hidden, measured, "layer",
                              fmt=(lambda v: f"{v:.0%}") if percent else (lambda v: f"{v:.3g}"))
    width = fitted(fit_width, 220, 1, width)
    return finish(chart.properties(width=width, height=height, title=alt.TitleParams(title, subtitle=subtitle)),
                  fit_width)


def _profile_layers(data: pd.DataFrame, labels: list[str], output: int, y_title: str, *, log: bool,
                    percent: bool, theory_values) -> alt.LayerChart:
    """The encoding of ``layer_profile``: line, band and points per initializer, the theory dashed."""
    fmt = ".0%" if percent else (LOG_FORMAT if log else "~g")
    tip = ".1%" if percent else ".4~g"
    scale = alt.Scale(type="log") if log else (alt.Scale(domain=[0, 1]) if percent else alt.Scale(zero=True))
    measured_rows = data[data["source"] == "measured"]
    x = alt.X("layer:Q", title=f"Layer (1 = first hidden, {output} = output)",
              axis=alt.Axis(tickMinStep=1, format="d"), scale=alt.Scale(nice=False, domain=[1, output]))
    y = alt.Y("median:Q", title=y_title, scale=scale,
              axis=log_axis([*measured_rows["low"], *measured_rows["high"], *theory_values])
              if log else alt.Axis(format=fmt))
    tooltip = [alt.Tooltip("initializer:N", title="Initializer"), alt.Tooltip("source:N", title="Source"),
               alt.Tooltip("layer:Q", title="Layer"), alt.Tooltip("median:Q", title=y_title, format=tip),
               alt.Tooltip("low:Q", title="min over seeds", format=tip),
               alt.Tooltip("high:Q", title="max over seeds", format=tip)]
    pick = legend_pick()
    base = alt.Chart(data)
    measured = base.transform_filter(alt.datum.source == "measured")
    layers = [  # the line first: the legend takes its symbols from the first layer
        measured.mark_line(strokeWidth=LINE_WIDTH).encode(x=x, y=y, color=color_encoding(labels),
                                                          strokeDash=dash_encoding(), tooltip=tooltip,
                                                          opacity=faded(pick)).add_params(pick),
        measured.mark_area().encode(x=x, y=alt.Y("low:Q", scale=scale, title=y_title), y2="high:Q",
                                    color=color_encoding(labels, "merge"), opacity=faded(pick, 0.15)),
        measured.mark_circle(size=90).encode(x=x, y=y, color=color_encoding(labels, "merge"), tooltip=tooltip,
                                             opacity=faded(pick)),
    ]
    if (data["source"] == "theory").any():
        layers.append(base.transform_filter(alt.datum.source == "theory").mark_line(
            strokeDash=[7, 5], strokeWidth=2.5).encode(x=x, y=y, color=color_encoding(labels, "merge"),
                                                       tooltip=tooltip, opacity=faded(pick)))
    return alt.layer(*layers)


def activation_std_by_layer(layers: pd.DataFrame, theory: pd.DataFrame | None = None, *, epoch: int = 0,
                            **kwargs) -> alt.LayerChart:
    """Activation std per layer against depth (log scale, ``VIEWS["profile"]["act_std"]``); at epoch 0 the
    theory's prediction is dashed."""
    return layer_profile(layers, "act_std", epoch=epoch, theory=theory if epoch == 0 else None,
                         **VIEWS["profile"]["act_std"].options, **kwargs)


def heatmap_frame(layers: pd.DataFrame, field: str, *, max_epochs: int = 60) -> pd.DataFrame:
    """The cells ``layer_heatmap`` draws: per initializer, epoch (at most ``max_epochs``, evenly spaced) and
    layer, the median over seeds of ``field``, the epoch where the cell ends (``epoch_end``) and whether it
    is exactly zero (``zero``)."""
    data = thin_epochs(finite_rows(layers, field), max_epochs)
    grid = seed_band(data, ["initializer", "epoch", "layer"], field)
    epochs = np.sort(grid["epoch"].unique())
    following = dict(zip(epochs, np.append(epochs[1:], epochs[-1] + 1 if len(epochs) else 1)))
    grid["epoch_end"] = grid["epoch"].map(following)
    grid["zero"] = grid["median"] <= 0
    return grid


def layer_heatmap(layers: pd.DataFrame, field: str, *, title: str, color_title: str, log: bool = False,
                  percent: bool = False, max_epochs: int = 60, columns: int = 3, panel_width: int = 200,
                  panel_height: int = 170, scheme: str = "viridis", fit_width: int | None = None) -> alt.FacetChart:
    """``field`` over epochs (x) and layers (y), one panel per initializer; median over seeds.

    On a log colour scale, cells that are exactly zero are grey rather than missing.

    Parameters
    ----------
    layers : ``Result.layers``; field : the statistic coloured
    title, color_title : the chart's title and the colour legend's title (``VIEWS["heatmap"][field]``
        holds the app's)
    log : log colour scale; percent : a 0-100% colour scale; scheme : a Vega colour scheme
    max_epochs : at most this many epoch columns (evenly spaced); columns : panels per row
    fit_width : the whole chart's width at most, in pixels (the panels shrink to fit it)
    """
    labels = labels_of(layers)
    panel_width = fitted(fit_width, 280, max(1, min(columns, len(labels))), panel_width)
    grid = heatmap_frame(layers, field, max_epochs=max_epochs)
    color_scale = (alt.Scale(type="log", scheme=scheme) if log else
                   alt.Scale(domain=[0, 1], scheme=scheme) if percent else alt.Scale(scheme=scheme))
    x = alt.X("epoch:Q", title="Epoch", scale=alt.Scale(nice=False))
    y = alt.Y("layer:O", title="Layer (input at the bottom)", sort="descending")
    tooltip = [alt.Tooltip("initializer:N", title="Initializer"), alt.Tooltip("epoch:Q", title="Epoch"),
               alt.Tooltip("layer:O", title="Layer"), alt.Tooltip("median:Q", title=color_title, format=".3~g")]
    base = alt.Chart(grid)
    # a stroke of the cell's own colour closes the hairline gaps antialiasing leaves between cells
    cells = (base.transform_filter(~alt.datum.zero) if log else base).mark_rect(strokeWidth=0.6).encode(
        x=x, x2="epoch_end:Q", y=y, tooltip=tooltip,
        color=alt.Color("median:Q", title=color_title, scale=color_scale,
                        legend=alt.Legend(format=".0%" if percent else ".2~g", orient="right", gradientLength=160)),
        stroke=alt.Stroke("median:Q", scale=color_scale))
    layered = [cells]
    if log:
        layered.append(base.transform_filter(alt.datum.zero).mark_rect(color="#C8C8C8", stroke="#C8C8C8",
                                                                        strokeWidth=0.6).encode(
            x=x, x2="epoch_end:Q", y=y, tooltip=tooltip))
    chart = alt.layer(*layered).properties(width=panel_width, height=panel_height).facet(
        # long labels such as random_normal(std=0.01) break into lines over a narrow panel
        facet=alt.Facet("initializer:N", sort=labels, title=None, header=alt.Header(
            labelFontWeight="bold", labelLimit=panel_width + 20,
            labelExpr=wrapped_labels(labels, panel_width + 20, 15))),
        columns=max(1, min(columns, len(labels))),
    )
    subtitle = "Median over seeds. Blank: no data (the network diverged earlier)."
    if log:
        subtitle += " Grey: exactly zero."
    return finish(chart.properties(title=alt.TitleParams(title, subtitle=subtitle)), fit_width)

"""Per-layer statistics: a statistic against depth at one epoch (with the theory's prediction), and as a
heatmap over epochs and layers."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from wil.charts._common import (LINE_WIDTH, fitted, wrapped_labels, LOG_FORMAT, labels_of, _color, _legend_pick, _faded, _finish, _plain,
                      _finite, thin_epochs, _seed_band, _log_axis, _epoch_text, _dash, dash_column, overlap_notes,
                      overlaps)


def layer_profile(layers: pd.DataFrame, field: str, *, epoch: int = 0, title: str, y_title: str,
                  log: bool = False, percent: bool = False, theory: pd.DataFrame | None = None,
                  width: int = 660, height: int = 290, fit_width: int | None = None) -> alt.LayerChart:
    """``field`` per layer at one epoch, one line per initializer (median over seeds, band min to max).

    Parameters
    ----------
    layers : ``Result.layers``
    field : one of its statistics, e.g. "act_std", "grad_norm", "dead_fraction", "distinct_units"
    epoch : the epoch shown (0: at initialization)
    title, y_title : the chart's title and the y axis title (with its unit)
    log : log y axis (zeros are dropped); percent : a 0-100% axis
    theory : columns initializer, layer and ``field``: drawn dashed (e.g. ``wil.theory_frame``)
    width, height : of the plot, in pixels; fit_width : the whole chart's at most (the plot shrinks)
    """
    labels = labels_of(layers)
    width = fitted(fit_width, 220, 1, width)
    at_epoch = _finite(layers[layers["epoch"] == epoch], field, positive=log)
    band = _seed_band(at_epoch, ["initializer", "layer"], field)
    band["source"] = "measured"
    hidden = overlaps(band, "layer")
    band["dash"] = dash_column(band, hidden)
    fmt = ".0%" if percent else (LOG_FORMAT if log else "~g")
    tip = ".1%" if percent else ".4~g"
    scale = alt.Scale(type="log") if log else (alt.Scale(domain=[0, 1]) if percent else alt.Scale(zero=True))
    output = int(layers["layer"].max()) if len(layers) else 1
    x = alt.X("layer:Q", title=f"Layer (1 = first hidden, {output} = output)",
              axis=alt.Axis(tickMinStep=1, format="d"), scale=alt.Scale(nice=False, domain=[1, output]))
    y = alt.Y("median:Q", title=y_title, scale=scale,
              axis=_log_axis([*band["low"], *band["high"], *(theory[field] if theory is not None else [])])
              if log else alt.Axis(format=fmt))
    tooltip = [alt.Tooltip("initializer:N", title="Initializer"), alt.Tooltip("source:N", title="Source"),
               alt.Tooltip("layer:Q", title="Layer"), alt.Tooltip("median:Q", title=y_title, format=tip),
               alt.Tooltip("low:Q", title="min over seeds", format=tip),
               alt.Tooltip("high:Q", title="max over seeds", format=tip)]
    data = band
    if theory is not None and not theory.empty:
        predicted = _plain(_finite(theory, field, positive=log))
        predicted = predicted.assign(median=predicted[field], low=predicted[field], high=predicted[field],
                                     seeds=0, source="theory", dash="solid")[list(band.columns)]
        data = pd.concat([band, predicted], ignore_index=True)
    pick = _legend_pick()
    base = alt.Chart(data)
    measured = base.transform_filter(alt.datum.source == "measured")
    layers = [  # the line first: the legend takes its symbols from the first layer
        measured.mark_line(strokeWidth=LINE_WIDTH).encode(x=x, y=y, color=_color(labels), strokeDash=_dash(),
                                    tooltip=tooltip, opacity=_faded(pick)).add_params(pick),
        measured.mark_area().encode(x=x, y=alt.Y("low:Q", scale=scale, title=y_title), y2="high:Q",
                                    color=_color(labels, "merge"), opacity=_faded(pick, 0.15)),
        measured.mark_circle(size=90).encode(x=x, y=y, color=_color(labels, "merge"), tooltip=tooltip,
                                             opacity=_faded(pick)),
    ]
    if (data["source"] == "theory").any():
        layers.append(base.transform_filter(alt.datum.source == "theory").mark_line(
            strokeDash=[7, 5], strokeWidth=2.5).encode(x=x, y=y, color=_color(labels, "merge"), tooltip=tooltip,
                                                       opacity=_faded(pick)))
    chart = alt.layer(*layers)
    subtitle = [f"Median over seeds {_epoch_text(epoch)}."]
    if theory is not None:
        subtitle.append("Dashed: what the variance recursion predicts at initialization (wide-layer limit).")
    if log:
        subtitle.append("Log scale: values of exactly zero (e.g. an all-zero init) cannot be drawn.")
    subtitle += overlap_notes(hidden, band, "layer", fmt=(lambda v: f"{v:.0%}") if percent else (lambda v: f"{v:.3g}"))
    return _finish(chart.properties(width=width, height=height, title=alt.TitleParams(title, subtitle=subtitle)),
                   fit_width)


def activation_std_by_layer(layers: pd.DataFrame, theory: pd.DataFrame | None = None, *, epoch: int = 0,
                            **kwargs) -> alt.LayerChart:
    """Activation std per layer against depth (log scale); at epoch 0 the theory's prediction is dashed."""
    return layer_profile(layers, "act_std", epoch=epoch, log=True, theory=theory if epoch == 0 else None,
                         title="Activation spread per layer", y_title="Activation std (log scale)", **kwargs)


def layer_heatmap(layers: pd.DataFrame, field: str, *, title: str, color_title: str, log: bool = False,
                  percent: bool = False, max_epochs: int = 60, columns: int = 3, panel_width: int = 200,
                  panel_height: int = 170, scheme: str = "viridis", fit_width: int | None = None) -> alt.FacetChart:
    """``field`` over epochs (x) and layers (y), one panel per initializer; median over seeds.

    On a log colour scale, cells that are exactly zero are grey rather than missing.

    Parameters
    ----------
    layers : ``Result.layers``; field : the statistic coloured
    title, color_title : the chart's title and the colour legend's title
    log : log colour scale; percent : a 0-100% colour scale; scheme : a Vega colour scheme
    max_epochs : at most this many epoch columns (evenly spaced); columns : panels per row
    fit_width : the whole chart's width at most, in pixels (the panels shrink to fit it)
    """
    labels = labels_of(layers)
    panel_width = fitted(fit_width, 280, max(1, min(columns, len(labels))), panel_width)
    data = thin_epochs(_finite(layers, field), max_epochs)
    grid = _seed_band(data, ["initializer", "epoch", "layer"], field)
    epochs = np.sort(grid["epoch"].unique())
    following = dict(zip(epochs, np.append(epochs[1:], epochs[-1] + 1 if len(epochs) else 1)))
    grid["epoch_end"] = grid["epoch"].map(following)
    grid["zero"] = grid["median"] <= 0
    fmt = ".0%" if percent else ".2~g"
    color_scale_ = (alt.Scale(type="log", scheme=scheme) if log else
                    alt.Scale(domain=[0, 1], scheme=scheme) if percent else alt.Scale(scheme=scheme))
    x = alt.X("epoch:Q", title="Epoch", scale=alt.Scale(nice=False))
    y = alt.Y("layer:O", title="Layer (input at the bottom)", sort="descending")
    tooltip = [alt.Tooltip("initializer:N", title="Initializer"), alt.Tooltip("epoch:Q", title="Epoch"),
               alt.Tooltip("layer:O", title="Layer"), alt.Tooltip("median:Q", title=color_title, format=".3~g")]
    base = alt.Chart(grid)
    # a stroke of the cell's own colour closes the hairline gaps antialiasing leaves between cells
    cells = (base.transform_filter(~alt.datum.zero) if log else base).mark_rect(strokeWidth=0.6).encode(
        x=x, x2="epoch_end:Q", y=y, tooltip=tooltip,
        color=alt.Color("median:Q", title=color_title, scale=color_scale_,
                        legend=alt.Legend(format=fmt, orient="right", gradientLength=160)),
        stroke=alt.Stroke("median:Q", scale=color_scale_))
    layered = [cells]
    if log:
        layered.append(base.transform_filter(alt.datum.zero).mark_rect(color="#C8C8C8", stroke="#C8C8C8",
                                                                        strokeWidth=0.6).encode(
            x=x, x2="epoch_end:Q", y=y, tooltip=tooltip))
    chart = alt.layer(*layered).properties(width=panel_width, height=panel_height).facet(
        # long labels such as random_normal(std=0.01) break into lines over a narrow panel
        facet=alt.Facet("initializer:N", sort=labels, title=None, header=alt.Header(
            labelFontWeight="bold", labelLimit=panel_width + 20, labelExpr=wrapped_labels(labels, panel_width + 20, 15))),
        columns=max(1, min(columns, len(labels))),
    )
    subtitle = "Median over seeds. Blank: no data (the network diverged earlier)."
    if log:
        subtitle += " Grey: exactly zero."
    return _finish(chart.properties(title=alt.TitleParams(title, subtitle=subtitle)), fit_width)

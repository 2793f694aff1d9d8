"""The singular values of a network's Jacobian at initialization (``wil.jacobian_spectrum``), sorted: a
flat line at 1 is dynamical isometry (every direction keeps its length); a line that falls steeply means a
few directions carry the signal and the rest vanish. The pandas step (``spectrum_frame``) takes the median
over seeds and inputs per rank; the Altair step draws one line per initializer, one panel per ``panel``."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from wil.charts.frames import labels_of
from wil.charts.style import LINE_WIDTH, color_encoding, faded, finish, fitted, legend_pick, log_axis
from wil.charts.views import VIEWS

FLOOR = 1e-6  # singular values below this are drawn at it: a log axis down to 1e-12 would hide the lesson


def spectrum_frame(spectrum: pd.DataFrame) -> pd.DataFrame:
    """The rows ``singular_value_spectrum`` draws: per (panel,) initializer and rank, the median singular
    value over seeds and inputs (``median``, floored at ``FLOOR``), its ``low`` and ``high`` (min, max),
    and ``share``: the rank as a share of the width, from the largest (0) to the smallest (1)."""
    keys = (["panel"] if "panel" in spectrum.columns else []) + ["initializer", "rank"]
    finite = spectrum[np.isfinite(spectrum["singular_value"])]
    rows = (finite.groupby(keys, observed=True)["singular_value"]
            .agg(median="median", low="min", high="max").reset_index())
    for column in ("median", "low", "high"):
        rows[column] = rows[column].clip(lower=FLOOR)
    width = rows.groupby(keys[:-1], observed=True)["rank"].transform("max")
    rows["share"] = (rows["rank"] - 1) / (width - 1).clip(lower=1)
    rows["initializer"] = rows["initializer"].astype(str)
    if "panel" in rows.columns:
        rows["panel"] = rows["panel"].astype(str)
    return rows


def singular_value_spectrum(spectrum: pd.DataFrame, *, title: str | None = None, width: int = 330,
                            height: int = 260, fit_width: int | None = None) -> alt.Chart:
    """The sorted singular values of each network's Jacobian, one line per initializer.

    Parameters
    ----------
    spectrum : ``wil.jacobian_spectrum``'s frame (initializer, seed, input, rank, singular_value), with an
        optional ``panel`` column (e.g. "tanh" and "ReLU" frames concatenated): one panel each
    title : the chart's title (default ``VIEWS["spectrum"]["singular_value"].title``)
    width, height : of one panel, in pixels; fit_width : the whole chart's at most (the panels shrink)
    """
    view = VIEWS["spectrum"]["singular_value"]
    data = spectrum_frame(spectrum)
    labels = labels_of(spectrum)
    panels = list(dict.fromkeys(spectrum["panel"].astype(str))) if "panel" in spectrum.columns else []
    x = alt.X("share:Q", title="Directions, largest → smallest", scale=alt.Scale(domain=[0, 1], nice=False),
              axis=alt.Axis(format=".0%", values=[0, 0.25, 0.5, 0.75, 1]))
    y = alt.Y("median:Q", title=view.value_title, scale=alt.Scale(type="log"),
              axis=log_axis([*data["low"], *data["high"], 1.0]))
    tooltip = [alt.Tooltip("initializer:N", title="Initializer"), alt.Tooltip("rank:Q", title="Rank"),
               alt.Tooltip("median:Q", title="Singular value (median)", format=".3~g"),
               alt.Tooltip("low:Q", title="min over seeds", format=".3~g"),
               alt.Tooltip("high:Q", title="max over seeds", format=".3~g")]
    pick = legend_pick()
    base = alt.Chart(data)
    chart = alt.layer(
        base.mark_line(strokeWidth=LINE_WIDTH).encode(x=x, y=y, color=color_encoding(labels), tooltip=tooltip,
                                                      opacity=faded(pick)).add_params(pick),
        base.mark_area().encode(x=x, y=alt.Y("low:Q", scale=alt.Scale(type="log"), title=view.value_title),
                                y2="high:Q", color=color_encoding(labels, "merge"), opacity=faded(pick, 0.15)),
        base.mark_rule(strokeDash=[6, 4], strokeWidth=2, color="#555").encode(y=alt.datum(1.0)),
    )
    subtitle = ["Dashed: 1, every direction keeps its length (dynamical isometry).",
                f"Median over seeds and inputs; values under {FLOOR:g} drawn at {FLOOR:g}."]
    panel_width = fitted(fit_width, 200, max(1, len(panels)), width)
    chart = chart.properties(width=panel_width, height=height)
    if panels:
        chart = chart.facet(column=alt.Column("panel:N", title=None, sort=panels,
                                              header=alt.Header(labelFontSize=16, labelFontWeight="bold")))
    return finish(chart.properties(title=alt.TitleParams(title or view.title, subtitle=subtitle)), fit_width)

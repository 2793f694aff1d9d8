"""The trainability phase diagram: a measured heatmap over two grid axes, with the mean-field theory's
critical line and its c x xi_c depth scale drawn over it."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from wil.charts._common import INK, LINE_WIDTH, WIDTH, _finish, fitted

AXIS_TITLES = {"sigma_w2": "Weight variance σ_w² (× 1/fan_in)", "sigma_b2": "Bias variance σ_b²",
               "depth": "Depth (hidden layers)", "width": "Width (units per layer)",
               "learning_rate": "Learning rate", "scale": "Scale"}


def _cells(values: np.ndarray) -> pd.DataFrame:
    """Each distinct value with the edges of its cell: halfway to its neighbours (half a step at the ends)."""
    values = np.unique(values.astype(float))  # (n,)
    if len(values) == 1:
        half = np.array([0.5 * abs(values[0]) or 0.5])
        return pd.DataFrame({"value": values, "low": values - half, "high": values + half})
    middle = (values[1:] + values[:-1]) / 2  # (n - 1,)
    low = np.concatenate([[values[0] - (middle[0] - values[0])], middle])
    high = np.concatenate([middle, [values[-1] + (values[-1] - middle[-1])]])
    return pd.DataFrame({"value": values, "low": low, "high": high})


def phase_diagram(frame: pd.DataFrame, x: str = "sigma_w2", y: str = "depth", *,
                  theory: pd.DataFrame | None = None, critical: float | None = None, c: float = 6.0,
                  value: str = "trainable", title: str | None = None, width: int = WIDTH - 200,
                  height: int = 380, fit_width: int | None = None) -> alt.LayerChart:
    """The share of trainable networks per cell of the (``x``, ``y``) grid, over seeds.

    Parameters
    ----------
    frame : a ``wil.sweep`` frame with columns ``x``, ``y`` and ``value`` (a boolean, or a number in [0, 1])
    x, y : the two grid axes, numeric
    theory : columns ``x`` and ``xi_c`` (``wil.analysis.theory.phase_frame``): the curve ``c * xi_c`` is drawn
        over the heatmap, clipped to the ``y`` range (meant for ``y = "depth"``)
    critical : the theory's critical ``x`` (``wil.analysis.theory.critical_sigma_w2``), drawn as a vertical rule
    c : the multiple of xi_c drawn (Schoenholz et al. find networks trainable to about 6 xi_c)
    value : the column averaged per cell
    width, height : of the heatmap, in pixels
    fit_width : the whole chart's width at most, in pixels (the colour legend goes below the heatmap, which
        shrinks to fit)
    """
    for column in (x, y, value):
        if column not in frame.columns:
            raise ValueError(f"Invalid column {column!r}: the frame has {list(frame.columns)}")
    for axis in (x, y):
        if not pd.api.types.is_numeric_dtype(frame[axis]):
            raise ValueError(f"Invalid axis {axis!r}: the phase diagram needs numeric axes, got {frame[axis].dtype}")
    share = (frame.assign(_value=frame[value].astype(float))
             .groupby([x, y], as_index=False, observed=True)
             .agg(share=("_value", "mean"), networks=("_value", "size")))
    xs, ys = _cells(share[x].to_numpy()), _cells(share[y].to_numpy())
    share = (share.merge(xs.rename(columns={"value": x, "low": "x_low", "high": "x_high"}), on=x)
                  .merge(ys.rename(columns={"value": y, "low": "y_low", "high": "y_high"}), on=y))
    x_scale = alt.Scale(domain=[float(xs["low"].min()), float(xs["high"].max())], nice=False, zero=False)
    y_scale = alt.Scale(domain=[float(ys["low"].min()), float(ys["high"].max())], nice=False, zero=False)
    x_title, y_title = AXIS_TITLES.get(x, x), AXIS_TITLES.get(y, y)
    heat = alt.Chart(share).mark_rect(stroke="white", strokeWidth=0.3).encode(
        x=alt.X("x_low:Q", title=x_title, scale=x_scale), x2="x_high:Q",
        y=alt.Y("y_low:Q", title=y_title, scale=y_scale), y2="y_high:Q",
        color=alt.Color("share:Q", title=["Trainable", "(share of seeds)"] if value == "trainable" else value,
                        scale=alt.Scale(domain=[0, 1], scheme="viridis"),
                        legend=alt.Legend(format=".0%") if fit_width is None else
                        alt.Legend(format=".0%", orient="bottom", direction="horizontal", gradientLength=160)),
        tooltip=[alt.Tooltip(f"{x}:Q", format=".4~g"), alt.Tooltip(f"{y}:Q", format=".4~g"),
                 alt.Tooltip("share:Q", title=value, format=".0%"), alt.Tooltip("networks:Q")])
    layers = [heat]
    if theory is not None and len(theory):
        curve = theory[[x, "xi_c"]].copy()
        curve["depth_scale"] = c * curve["xi_c"]
        curve = curve[np.isfinite(curve["depth_scale"])]  # inf at the critical point itself; clipped above
        curve = curve[(curve[x] >= xs["low"].min()) & (curve[x] <= xs["high"].max())]
        curve["side"] = np.where(curve[x] < (critical if critical is not None else np.inf), "ordered", "chaotic")
        layers.append(alt.Chart(curve).mark_line(color="#ff4d4d", strokeWidth=LINE_WIDTH, clip=True).encode(
            x=alt.X(f"{x}:Q", scale=x_scale), y=alt.Y("depth_scale:Q", scale=y_scale), detail="side:N",
            tooltip=[alt.Tooltip(f"{x}:Q", format=".4~g"),
                     alt.Tooltip("depth_scale:Q", title=f"{c:g} ξ_c", format=".4~g")]))
    if critical is not None and np.isfinite(critical):
        rule = pd.DataFrame({x: [critical], "label": [f"critical σ_w² = {critical:.3g}"]})
        layers.append(alt.Chart(rule).mark_rule(color=INK, strokeDash=[6, 4], strokeWidth=2).encode(
            x=alt.X(f"{x}:Q", scale=x_scale), tooltip=["label:N"]))
    subtitle = [f"{int(share['networks'].sum())} networks; colour: share trainable over seeds"]
    if theory is not None:
        subtitle.append(f"red: {c:g} ξ_c (mean-field depth scale); dashed: the edge of chaos")
    chart = alt.layer(*layers).properties(
        width=fitted(fit_width, 110, 1, width), height=height,
        title=alt.Title(title or "Trainability phase diagram", subtitle=subtitle))
    return _finish(chart, fit_width)

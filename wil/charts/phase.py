"""The trainability phase diagram: a measured heatmap over two grid axes, with the mean-field theory's
critical line and its c x xi_c depth scale drawn over it; and the theory alone (``trainable_depth``)."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from wil.charts.style import INK, LINE_WIDTH, WIDTH, finish, fitted

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


def phase_cells(frame: pd.DataFrame, x: str = "sigma_w2", y: str = "depth", *,
                value: str = "trainable") -> pd.DataFrame:
    """The cells ``phase_diagram`` draws: per (``x``, ``y``) grid point, the mean of ``value`` over seeds
    (``share``), how many networks (``networks``), and the cell's edges (``x_low``, ``x_high``, ``y_low``,
    ``y_high``: halfway to the neighbours; in y, to the neighbours in the same column, so that a refined sweep's
    extra depths fill their own column). ``ValueError`` for a missing column or a non-numeric axis."""
    for column in (x, y, value):
        if column not in frame.columns:
            raise ValueError(f"Invalid column {column!r}: the frame has {list(frame.columns)}")
    for axis in (x, y):
        if not pd.api.types.is_numeric_dtype(frame[axis]):
            raise ValueError(f"Invalid axis {axis!r}: the phase diagram needs numeric axes, got {frame[axis].dtype}")
    share = (frame.assign(_value=frame[value].astype(float))
             .groupby([x, y], as_index=False, observed=True)
             .agg(share=("_value", "mean"), networks=("_value", "size")))
    xs = _cells(share[x].to_numpy())
    # y edges within each column: a refined sweep (``wil.sweep(..., refine=True)``) tries other depths in
    # each column, and a cell reaches halfway to its own column's neighbours (the same on a full grid)
    ys = pd.concat([_cells(column[y].to_numpy()).assign(**{x: key}) for key, column in share.groupby(x)],
                   ignore_index=True)
    return (share.merge(xs.rename(columns={"value": x, "low": "x_low", "high": "x_high"}), on=x)
                 .merge(ys.rename(columns={"value": y, "low": "y_low", "high": "y_high"}), on=[x, y]))


def depth_scale_curve(theory: pd.DataFrame, x: str, c: float, critical: float | None,
                      x_range: tuple[float, float]) -> pd.DataFrame:
    """The curve ``c * xi_c`` over ``x`` within ``x_range`` (finite points only: it is infinite at the
    critical point), with the ``side`` of ``critical`` each point is on ("ordered" or "chaotic"), so that
    the two branches are drawn apart."""
    curve = theory[[x, "xi_c"]].copy()
    curve["depth_scale"] = c * curve["xi_c"]
    curve = curve[np.isfinite(curve["depth_scale"])]
    curve = curve[(curve[x] >= x_range[0]) & (curve[x] <= x_range[1])]
    curve["side"] = np.where(curve[x] < (critical if critical is not None else np.inf), "ordered", "chaotic")
    return curve


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
    share = phase_cells(frame, x, y, value=value)
    x_range = (float(share["x_low"].min()), float(share["x_high"].max()))
    x_scale = alt.Scale(domain=list(x_range), nice=False, zero=False)
    y_scale = alt.Scale(domain=[float(share["y_low"].min()), float(share["y_high"].max())], nice=False, zero=False)
    heat = alt.Chart(share).mark_rect(stroke="white", strokeWidth=0.3).encode(
        x=alt.X("x_low:Q", title=AXIS_TITLES.get(x, x), scale=x_scale), x2="x_high:Q",
        y=alt.Y("y_low:Q", title=AXIS_TITLES.get(y, y), scale=y_scale), y2="y_high:Q",
        color=alt.Color("share:Q", title=["Trainable", "(share of seeds)"] if value == "trainable" else value,
                        scale=alt.Scale(domain=[0, 1], scheme="viridis"),
                        legend=alt.Legend(format=".0%") if fit_width is None else
                        alt.Legend(format=".0%", orient="bottom", direction="horizontal", gradientLength=160)),
        tooltip=[alt.Tooltip(f"{x}:Q", format=".4~g"), alt.Tooltip(f"{y}:Q", format=".4~g"),
                 alt.Tooltip("share:Q", title=value, format=".0%"), alt.Tooltip("networks:Q")])
    layers = [heat]
    if theory is not None and len(theory):
        curve = depth_scale_curve(theory, x, c, critical, x_range)
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
    return finish(chart, fit_width)


REGIONS = {"ordered (χ1 < 1)": "#1f77b4", "chaotic (χ1 > 1)": "#d62728"}  # the theory's two phases, coloured
TRAINABLE_DEPTH_TOP = 200.0  # layers: the top of the theory's axis (c xi_c is infinite at the edge of chaos)


def trainable_depth_frame(frame: pd.DataFrame, c: float = 6.0) -> pd.DataFrame:
    """The rows ``trainable_depth`` draws: ``frame`` (``wil.analysis.theory.phase_frame``) with the depth scale
    ``c * xi_c`` where it is finite, and the ``region`` of each point by ``chi1`` (``REGIONS``)."""
    curve = frame.assign(depth_scale=c * frame["xi_c"]).replace([np.inf, -np.inf], np.nan).dropna(
        subset=["depth_scale"])
    ordered, chaotic = REGIONS
    return curve.assign(region=np.where(curve["chi1"] < 1, ordered, chaotic))


def trainable_depth(frame: pd.DataFrame, critical: float | None, c: float = 6.0, *, width: int = 380,
                    height: int = 300, fit_width: int | None = None) -> alt.LayerChart:
    """What the mean-field theory predicts before any training: the depth to which a network is trainable,
    ``c * xi_c`` layers, over sigma_w2, coloured by phase (ordered, chaotic), and the edge of chaos dashed.

    Parameters
    ----------
    frame : ``wil.analysis.theory.phase_frame``: columns sigma_w2, chi1, xi_c, q_star
    critical : the critical sigma_w2 (``wil.analysis.theory.critical_sigma_w2``), or None: no rule
    c : the multiple of xi_c drawn (Schoenholz et al. find networks trainable to about 6 xi_c)
    width, height : of the plot, in pixels; fit_width : the whole chart's at most (the plot shrinks)

    Returned without ``finish``'s configuration: the phase page draws it stretched to its column, as it did
    when the page built it.
    """
    curve = trainable_depth_frame(frame, c)
    line = alt.Chart(curve).mark_line(strokeWidth=3, clip=True).encode(
        x=alt.X("sigma_w2:Q", title="σ_w² (weight variance × fan-in)"),
        y=alt.Y("depth_scale:Q", title=f"{c:g} ξ_c (layers)",
                scale=alt.Scale(domain=[0, TRAINABLE_DEPTH_TOP], clamp=True)),
        color=alt.Color("region:N", title=None, scale=alt.Scale(domain=list(REGIONS), range=list(REGIONS.values())),
                        legend=alt.Legend(orient="bottom", labelFontSize=13)),  # the plot keeps the width
        tooltip=[alt.Tooltip("sigma_w2:Q", format=".3f"), alt.Tooltip("chi1:Q", format=".3f"),
                 alt.Tooltip("xi_c:Q", format=".3g"), alt.Tooltip("q_star:Q", format=".3g")])
    layers = [line]
    if critical is not None:
        rule = pd.DataFrame({"sigma_w2": [critical], "label": [f"edge of chaos: σ_w² = {critical:.3f}"]})
        layers.append(alt.Chart(rule).mark_rule(strokeDash=[6, 4], strokeWidth=2).encode(
            x="sigma_w2:Q", tooltip=["label:N"]))
    return alt.layer(*layers).properties(
        height=height, width=fitted(fit_width, 90, 1, width),
        title=alt.Title("Theory: the trainable depth", subtitle=[f"{c:g} ξ_c, as the mean-field theory predicts;",
                                                                 "it diverges at the edge of chaos (dashed)"]))


def budget_curve(curve: pd.DataFrame, *, c: float = 6.0, width: int = 300, height: int = 260,
                 fit_width: int | None = None) -> alt.HConcatChart | alt.VConcatChart:
    """The trainable depth against the training budget (``wil.trainability.budget_curve``): per sigma_w2 its
    boundary at each step budget (a hollow point: censored, the column trained to the grid's deepest
    depth), and beside it the fitted c of boundary = c xi_c with its 95% interval, the paper's ``c`` dashed.

    Parameters
    ----------
    curve : one row per (steps, sigma_w2): steps, sigma_w2, boundary, censored, c, c_low, c_high
    c : the paper's constant, drawn as a rule (Schoenholz et al.: about 6)
    width, height : of each panel, in pixels; fit_width : the whole chart's width at most (narrower than two
        panels and their titles: one panel above the other)
    """
    for column in ("steps", "sigma_w2", "boundary", "censored", "c", "c_low", "c_high"):
        if column not in curve.columns:
            raise ValueError(f"Invalid column {column!r}: the frame has {list(curve.columns)}")
    points = curve.dropna(subset=["boundary"]).assign(
        column=lambda f: "σ_w² = " + f["sigma_w2"].map("{:g}".format),
        kind=lambda f: np.where(f["censored"] == "", "boundary", "censored: deeper than the grid"))
    steps = alt.X("steps:Q", title="Training budget (SGD steps)", scale=alt.Scale(type="log"),
                  axis=alt.Axis(values=sorted(curve["steps"].unique().tolist()), format=","))
    # side by side where both fit with their titles; else one above the other (a 1024 px screen's column)
    side_by_side = fit_width is None or fit_width >= 2 * width + 200
    panel = fitted(fit_width, 200, 2, width) if side_by_side else fitted(fit_width, 110, 1, width)
    lines = alt.Chart(points).mark_line(strokeWidth=LINE_WIDTH).encode(
        x=steps, y=alt.Y("boundary:Q", title="Deepest trainable depth"),
        color=alt.Color("column:N", title=None, legend=alt.Legend(orient="bottom", columns=3, symbolStrokeWidth=3)))
    marks = alt.Chart(points).mark_point(size=90, strokeWidth=2).encode(
        x=steps, y="boundary:Q", color=alt.Color("column:N", legend=None),
        fill=alt.condition(alt.datum.kind == "boundary", alt.Color("column:N", legend=None), alt.value("white")),
        shape=alt.Shape("kind:N", title=None, scale=alt.Scale(domain=["boundary", "censored: deeper than the grid"],
                                                              range=["circle", "triangle-up"]),
                        legend=None),
        tooltip=["column:N", alt.Tooltip("steps:Q", format=","), alt.Tooltip("boundary:Q", format="g"), "kind:N"])
    depth = alt.layer(lines, marks).properties(width=panel, height=height, title=alt.Title(
        "The boundary as training lengthens", subtitle=["per σ_w², the best learning rate at each budget;",
                                                        "hollow triangle: trained to the grid's deepest depth"]))
    fits = curve.groupby("steps", as_index=False)[["c", "c_low", "c_high"]].first().dropna(subset=["c"])
    interval = alt.Chart(fits).mark_rule(strokeWidth=3, color=INK).encode(
        x=steps, y=alt.Y("c_low:Q", title="c in boundary = c · ξ_c"), y2="c_high:Q")
    estimate = alt.Chart(fits).mark_point(size=90, filled=True, color=INK).encode(
        x=steps, y="c:Q", tooltip=[alt.Tooltip("steps:Q", format=","), alt.Tooltip("c:Q", format=".2f"),
                                   alt.Tooltip("c_low:Q", format=".2f"), alt.Tooltip("c_high:Q", format=".2f")])
    paper = alt.Chart(pd.DataFrame({"c": [c]})).mark_rule(color="#ff4d4d", strokeDash=[6, 4], strokeWidth=2).encode(
        y="c:Q")
    constant = alt.layer(interval, estimate, paper).properties(width=panel, height=height, title=alt.Title(
        "The fitted constant", subtitle=["95% bootstrap interval over seeds;", f"red: the paper's {c:g}"]))
    return finish(alt.hconcat(depth, constant) if side_by_side else alt.vconcat(depth, constant), fit_width)

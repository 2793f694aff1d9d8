"""Chart builders: pure functions from ``Result`` frames to Altair charts, readable on a projector.

No Streamlit here; ``app.py`` lays these out, notebooks can display them directly. Every builder

- keeps one colour per initializer label across all charts (``color_scale``: the labels in their
  comparison order, a fixed palette), so a colour means the same network everywhere;
- drops non-finite values first (a diverged network's last loss may be inf or NaN) and marks divergence
  instead of letting one exploded value squash the axis;
- aggregates in pandas before charting (median over seeds, a thinned epoch axis, one seed for
  histograms and decision boundaries) so the browser gets thousands of rows, not a whole run;
- titles its axes with units, carries tooltips, and uses fonts large enough for a projector (``CONFIG``).
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

# One colour per initializer, in the order of the comparison. Colour-blind safe first (Okabe-Ito without
# its yellow, which vanishes on a projector), then distinct darker tones.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#8C564B",
           "#7F7F7F", "#BCBD22", "#393B79", "#17BECF")
CLASS_PALETTE = ("#3366CC", "#DC3912", "#109618", "#990099", "#FF9900", "#0099C6", "#DD4477", "#66AA00",
                 "#B82E2E", "#316395")
FONT = "Source Sans Pro, Helvetica, Arial, sans-serif"
# Projector sizes: axis labels >= 13 px, titles >= 15 px.
INK = "#1A1A1A"  # near-black text: contrast survives a washed-out projector
CONFIG = {
    "font": FONT,
    "axis": {"labelFontSize": 14, "titleFontSize": 16, "titleFontWeight": "normal", "gridOpacity": 0.6,
             "labelColor": INK, "titleColor": INK},
    "legend": {"labelFontSize": 14, "titleFontSize": 15, "symbolSize": 160, "symbolStrokeWidth": 3,
               "labelLimit": 320, "labelColor": INK, "titleColor": INK},
    "header": {"labelFontSize": 15, "titleFontSize": 15, "labelColor": INK, "titleColor": INK},
    "title": {"fontSize": 19, "subtitleFontSize": 14, "anchor": "start", "color": INK, "subtitleColor": "#444444",
              "offset": 12},
    "view": {"stroke": "#bbbbbb"},
}
LINE_WIDTH = 3
# A chart's whole width, axes and legends included: the main area of a 1280 px projector beside the sidebar.
WIDTH = 850
PER_ROW = 6  # small multiples per row before wrapping
TOOLTIP_EPOCHS = 60  # hover points per training curve
LOG_FORMAT = "~g"  # 0.001, 0.1, 10, 1e+4


@alt.theme.register("wil", enable=False)
def theme() -> alt.theme.ThemeConfig:
    """The same look for charts made outside these builders: ``alt.theme.enable("wil")``."""
    return alt.theme.ThemeConfig(config=CONFIG)


# ---------------------------------------------------------------- shared pieces

def labels_of(frame: pd.DataFrame) -> list[str]:
    """The initializer labels of a frame in comparison order (all categories, even ones without rows)."""
    column = frame["initializer"]
    if isinstance(column.dtype, pd.CategoricalDtype):
        return [str(label) for label in column.cat.categories]
    return [str(label) for label in pd.unique(column)]


def color_scale(labels: list[str]) -> alt.Scale:
    """Label ``i`` gets ``PALETTE[i]`` in every chart of a comparison."""
    return alt.Scale(domain=list(labels), range=[PALETTE[i % len(PALETTE)] for i in range(len(labels))])


def color_of(labels: list[str], label: str) -> str:
    """The colour of one label, for titles and captions."""
    return PALETTE[list(labels).index(label) % len(PALETTE)]


def _color(labels: list[str], legend: str = "show") -> alt.Color:
    """The initializer colour. ``legend``: "show" it, "merge" into another layer's, or "hide" it."""
    kwargs = {}
    if legend == "show":
        kwargs["legend"] = alt.Legend(title="Initializer", orient="top", columns=min(len(labels), 5),
                                      symbolOpacity=1, symbolType="stroke", symbolStrokeWidth=4)
    elif legend == "hide":
        kwargs["legend"] = None
    return alt.Color("initializer:N", scale=color_scale(labels), sort=list(labels), **kwargs)


def _legend_pick() -> alt.Parameter:
    """Click a legend entry to bring that initializer forward and fade the others (shift-click: several)."""
    return alt.selection_point(fields=["initializer"], bind="legend")


def _faded(pick: alt.Parameter, opacity: float = 1.0) -> alt.OpacityValue:
    return alt.condition(pick, alt.value(opacity), alt.value(0.12 * opacity))


def _finish(chart):
    """Apply the projector-sized configuration (top-level charts only).

    ``autosize: pad`` makes ``width`` and ``height`` the plotting area, with titles, legends and axes
    around it; "fit" (what a host such as Streamlit picks otherwise) squeezes a titled, legended chart.
    """
    # Canvas draws many marks faster than SVG in a browser without a GPU, and leaving out the ARIA
    # attributes of every mark saves the browser work no one uses here (the page states each lesson in text).
    return chart.configure(**CONFIG, aria=False).properties(
        autosize=alt.AutoSizeParams(type="pad", contains="padding"), usermeta={"embedOptions": {"renderer": "canvas"}})


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Categoricals to strings, so every chart's data serializes the same way."""
    out = frame.copy()
    for name in out.columns:
        if isinstance(out[name].dtype, pd.CategoricalDtype):
            out[name] = out[name].astype(str)
    return out


def _finite(frame: pd.DataFrame, column: str, positive: bool = False) -> pd.DataFrame:
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    keep = np.isfinite(values) & ((values > 0) if positive else True)
    return frame[keep]


def _first_seed(frame: pd.DataFrame, seed: int | None) -> tuple[pd.DataFrame, int | None]:
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


def _seed_band(frame: pd.DataFrame, keys: list[str], column: str) -> pd.DataFrame:
    """Median, min and max over seeds of ``column`` per ``keys``."""
    grouped = frame.groupby(keys, observed=True)[column]
    out = grouped.agg(median="median", low="min", high="max", seeds="count").reset_index()
    return _plain(out)


def _log_axis(values, fmt: str = LOG_FORMAT) -> alt.Axis:
    """Ticks and grid lines at powers of ten only (every other one beyond ten decades), for a log scale."""
    values = np.asarray([v for v in values if np.isfinite(v) and v > 0], dtype=float)
    if not len(values):
        return alt.Axis(format=fmt)
    low, high = int(np.floor(np.log10(values.min()))), int(np.ceil(np.log10(values.max())))
    step = max(1, int(np.ceil((high - low + 1) / 10)))
    return alt.Axis(format=fmt, values=[float(10.0 ** k) for k in range(low, high + 1, step)])


def _epoch_text(epoch: int) -> str:
    return "at initialization (epoch 0)" if epoch == 0 else f"after {epoch} epochs"


def pick_layers(n_layers: int, count: int = 5) -> list[int]:
    """``count`` layers spread evenly over 1..n_layers (first and last included)."""
    if n_layers <= count:
        return list(range(1, n_layers + 1))
    return sorted({int(round(x)) for x in np.linspace(1, n_layers, count)})


# ---------------------------------------------------------------- training curves

def _diverged_rows(history: pd.DataFrame, status: pd.DataFrame | None) -> pd.Series:
    """Whether each history row is the row where its network blew up (its loss there is off the chart)."""
    if status is None or status.empty or not status["diverged"].any():
        return pd.Series(False, index=history.index)
    ends = _plain(status[status["diverged"]])[["initializer", "seed", "diverged_epoch", "reason"]]
    keys = _plain(history[["initializer", "seed", "epoch"]]).reset_index()
    merged = keys.merge(ends, on=["initializer", "seed"], how="left").set_index("index")
    return (merged["epoch"] == merged["diverged_epoch"]).fillna(False).astype(bool).reindex(history.index)


def metric_curves(history: pd.DataFrame, status: pd.DataFrame | None = None, *, metric: str = "loss",
                  max_epochs: int = 200, width: int = 345, height: int = 280) -> alt.FacetChart:
    """Train and test ``metric`` ("loss" or "accuracy") over epochs, one line per initializer.

    The line is the median over seeds and the band spans min to max. Loss is on a log scale. A network
    that diverged is drawn up to its last finite epoch, then a dashed jump leads to a triangle at the top
    of the axis (its exploded loss, maybe inf or NaN, is in the tooltip) instead of stretching the axis.

    Parameters
    ----------
    history : ``Result.history``
    status : ``Result.status``; without it a diverged network is not marked
    metric : "loss" (log scale) or "accuracy"
    max_epochs : at most this many epochs are drawn (evenly spaced)
    width, height : of each of the two panels, in pixels

    Returns
    -------
    A chart faceted into a training-set and a test-set panel.
    """
    labels = labels_of(history)
    is_loss = metric == "loss"
    regression = not np.isfinite(pd.to_numeric(history["accuracy"], errors="coerce")).any()
    exploded = _diverged_rows(history, status)
    curves = thin_epochs(_finite(history[~exploded], metric, positive=is_loss), max_epochs)
    band = _seed_band(curves, ["initializer", "split", "epoch"], metric).assign(kind="curve")
    # the invisible points that carry the tooltips: at most TOOLTIP_EPOCHS per line are plenty to hover
    band["tip"] = band["epoch"].isin(thin_epochs(band, TOOLTIP_EPOCHS)["epoch"].unique())
    several_seeds = bool((band["seeds"] > 1).any())
    data, markers = band, pd.DataFrame()
    if is_loss:
        scale = alt.Scale(type="log")
        markers = _plain(history[exploded])
        if not markers.empty:
            top = float(band["high"].max()) * 10 if not band.empty else 1e6
            markers = markers.merge(_plain(status)[["initializer", "seed", "reason"]], on=["initializer", "seed"])
            markers = markers.assign(kind="diverged", y=top, value=[f"{v:.3g}" for v in markers[metric]],
                                     network=markers["initializer"] + " / " + markers["seed"].astype(str))
            data = pd.concat([band, markers, _jumps(history, markers, metric)], ignore_index=True)
            scale = alt.Scale(type="log", domainMax=top)
        y_title, fmt = ("MSE loss (log scale)" if regression else "Cross-entropy loss (log scale)"), LOG_FORMAT
    else:
        scale, y_title, fmt = alt.Scale(domain=[0, 1]), "Accuracy (%)", ".0%"
    tooltip = [alt.Tooltip("initializer:N", title="Initializer"), alt.Tooltip("split:N", title="Split"),
               alt.Tooltip("epoch:Q", title="Epoch"),
               alt.Tooltip("median:Q", title=f"{metric} (median)", format=".4~g" if is_loss else ".1%"),
               alt.Tooltip("low:Q", title="min over seeds", format=".4~g" if is_loss else ".1%"),
               alt.Tooltip("high:Q", title="max over seeds", format=".4~g" if is_loss else ".1%"),
               alt.Tooltip("seeds:Q", title="Seeds")]
    x = alt.X("epoch:Q", title="Epoch", scale=alt.Scale(nice=False))
    axis = _log_axis([*band["low"], *band["high"], *(markers["y"] if len(markers) else [])]) if is_loss else \
        alt.Axis(format=fmt)
    y = alt.Y("median:Q", scale=scale, title=y_title, axis=axis)
    base = alt.Chart(data)
    curve = base.transform_filter(alt.datum.kind == "curve")
    pick = _legend_pick()
    layers = [  # the line first: the legend takes its symbols from the first layer
        curve.mark_line(strokeWidth=LINE_WIDTH).encode(x=x, y=y, color=_color(labels), tooltip=tooltip,
                                 opacity=_faded(pick)).add_params(pick),
        base.transform_filter(alt.datum.tip).mark_circle(size=90, opacity=0).encode(x=x, y=y, tooltip=tooltip),
    ]
    if several_seeds:  # with one seed the band has no width
        layers.insert(1, curve.mark_area().encode(x=x, y=alt.Y("low:Q", scale=scale, title=y_title), y2="high:Q",
                                                  color=_color(labels, "merge"), opacity=_faded(pick, 0.18)))
    if not markers.empty:
        marker_tooltip = [alt.Tooltip("initializer:N", title="Initializer"), alt.Tooltip("seed:Q", title="Seed"),
                          alt.Tooltip("epoch:Q", title="Diverged at epoch"), alt.Tooltip("reason:N", title="Cause"),
                          alt.Tooltip("value:N", title="Loss there")]
        layers += [
            base.transform_filter(alt.datum.kind == "jump").mark_line(strokeDash=[4, 3], strokeWidth=2).encode(
                x=x, y=alt.Y("y:Q", scale=scale), color=_color(labels, "merge"), detail="network:N"),
            base.transform_filter(alt.datum.kind == "diverged").mark_point(
                shape="triangle-up", size=260, filled=True, stroke="black", strokeWidth=1, opacity=1).encode(
                x=x, y=alt.Y("y:Q", scale=scale), color=_color(labels, "merge"), tooltip=marker_tooltip),
        ]
    subtitle = ["Line: median over seeds; band: min to max. Click a legend entry to pick it out."]
    if not markers.empty:
        subtitle.append("▲ a network diverged there: its loss left the chart (hover for the value).")
    name = "Loss" if is_loss else "Accuracy"
    chart = alt.layer(*layers).properties(width=width, height=height).facet(
        column=alt.Column("split:N", sort=["train", "test"], title=None,
                          header=alt.Header(labelExpr="datum.value == 'train' ? 'Training set' : 'Test set'",
                                            labelFontSize=16, labelFontWeight="bold")))
    return _finish(chart.properties(title=alt.TitleParams(f"{name} per epoch", subtitle=subtitle)))


def _jumps(history: pd.DataFrame, markers: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Two points per diverged network and split: its last finite value, then the marker at the top."""
    before = _plain(history)
    before = before.assign(next_epoch=before["epoch"] + 1)
    start = markers[["initializer", "seed", "split", "epoch", "y", "network"]].merge(
        before[["initializer", "seed", "split", "next_epoch", metric]],
        left_on=["initializer", "seed", "split", "epoch"], right_on=["initializer", "seed", "split", "next_epoch"])
    start = _finite(start, metric, positive=True)
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


def final_scores(status: pd.DataFrame, *, width: int = 520) -> alt.LayerChart:
    """Final test accuracy (loss for regression) per initializer: median over seeds that did not diverge."""
    labels = labels_of(status)
    accuracy = np.isfinite(pd.to_numeric(status["final_test_accuracy"], errors="coerce")).any()
    column = "final_test_accuracy" if accuracy else "final_test_loss"
    rows = []
    for label in labels:
        runs = status[status["initializer"].astype(str) == label]
        ok = _finite(runs[~runs["diverged"]], column)
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
    bars = base.mark_bar(height=22).encode(x=x, color=_color(labels, "hide"), tooltip=tooltip)
    text = base.mark_text(align="left", dx=6, fontSize=15).encode(x=x, text="text:N")
    chart = alt.layer(bars, text).properties(
        width=width, height=alt.Step(34),
        title=alt.TitleParams("Final test accuracy" if accuracy else "Final test loss",
                              subtitle="Median over the seeds that did not diverge."))
    return _finish(chart)


def status_table(status: pd.DataFrame) -> pd.DataFrame:
    """``status`` for people: one row per network, diverged ones marked with their epoch and cause."""
    table = _plain(status)
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


# ---------------------------------------------------------------- per-layer statistics

def layer_profile(layers: pd.DataFrame, field: str, *, epoch: int = 0, title: str, y_title: str,
                  log: bool = False, percent: bool = False, theory: pd.DataFrame | None = None,
                  width: int = 700, height: int = 290) -> alt.LayerChart:
    """``field`` per layer at one epoch, one line per initializer (median over seeds, band min to max).

    Parameters
    ----------
    layers : ``Result.layers``
    field : one of its statistics, e.g. "act_std", "grad_norm", "dead_fraction", "distinct_units"
    epoch : the epoch shown (0: at initialization)
    title, y_title : the chart's title and the y axis title (with its unit)
    log : log y axis (zeros are dropped); percent : a 0-100% axis
    theory : columns initializer, layer and ``field``: drawn dashed (e.g. ``wil.theory_frame``)
    """
    labels = labels_of(layers)
    at_epoch = _finite(layers[layers["epoch"] == epoch], field, positive=log)
    band = _seed_band(at_epoch, ["initializer", "layer"], field)
    band["source"] = "measured"
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
                                     seeds=0, source="theory")[list(band.columns)]
        data = pd.concat([band, predicted], ignore_index=True)
    pick = _legend_pick()
    base = alt.Chart(data)
    measured = base.transform_filter(alt.datum.source == "measured")
    layers = [  # the line first: the legend takes its symbols from the first layer
        measured.mark_line(strokeWidth=LINE_WIDTH).encode(x=x, y=y, color=_color(labels),
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
    return _finish(chart.properties(width=width, height=height, title=alt.TitleParams(title, subtitle=subtitle)))


def activation_std_by_layer(layers: pd.DataFrame, theory: pd.DataFrame | None = None, *, epoch: int = 0,
                            **kwargs) -> alt.LayerChart:
    """Activation std per layer against depth (log scale); at epoch 0 the theory's prediction is dashed."""
    return layer_profile(layers, "act_std", epoch=epoch, log=True, theory=theory if epoch == 0 else None,
                         title="Activation spread per layer", y_title="Activation std (log scale)", **kwargs)


def layer_heatmap(layers: pd.DataFrame, field: str, *, title: str, color_title: str, log: bool = False,
                  percent: bool = False, max_epochs: int = 60, columns: int = 3, panel_width: int = 215,
                  panel_height: int = 170, scheme: str = "viridis") -> alt.FacetChart:
    """``field`` over epochs (x) and layers (y), one panel per initializer; median over seeds.

    On a log colour scale, cells that are exactly zero are grey rather than missing.

    Parameters
    ----------
    layers : ``Result.layers``; field : the statistic coloured
    title, color_title : the chart's title and the colour legend's title
    log : log colour scale; percent : a 0-100% colour scale; scheme : a Vega colour scheme
    max_epochs : at most this many epoch columns (evenly spaced); columns : panels per row
    """
    labels = labels_of(layers)
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
        facet=alt.Facet("initializer:N", sort=labels, title=None, header=alt.Header(labelFontWeight="bold")),
        columns=max(1, min(columns, len(labels))),
    )
    subtitle = "Median over seeds. Blank: no data (the network diverged earlier)."
    if log:
        subtitle += " Grey: exactly zero."
    return _finish(chart.properties(title=alt.TitleParams(title, subtitle=subtitle)))


# ---------------------------------------------------------------- histograms

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
    panel_width = panel_width or int(max(80, min(190, WIDTH / max(1, min(PER_ROW, len(present))) - 55)))
    what = QUANTITY_TITLES.get(quantity, quantity)
    columns = []
    for index, label in enumerate(present):
        column = alt.Chart(data[data["initializer"] == label]).mark_bar(binSpacing=0).encode(
            x=alt.X("bin_left:Q", bin="binned", title=what,
                    axis=alt.Axis(format=".2~g", tickCount=3, labelOverlap=True, labelFlush=True)),
            x2="bin_right:Q",
            y=alt.Y("share:Q", title="Share" if index % PER_ROW == 0 else None,
                    axis=alt.Axis(format=".0%", tickCount=2)),
            color=_color(labels, "hide"),
            tooltip=[alt.Tooltip("initializer:N", title="Initializer"), alt.Tooltip("layer_name:N", title="Layer"),
                     alt.Tooltip("bin_left:Q", title="From", format=".3~g"),
                     alt.Tooltip("bin_right:Q", title="To", format=".3~g"),
                     alt.Tooltip("share:Q", title="Share of values", format=".1%"),
                     alt.Tooltip("count:Q", title="Count")],
        ).properties(width=panel_width, height=panel_height).facet(
            row=alt.Row("layer_name:N", sort=row_order, title=None,
                        header=alt.Header(labels=index % PER_ROW == 0, labelAngle=0, labelAlign="left",
                                          labelFontSize=14)),
            title=alt.TitleParams(label, color=color_of(labels, label), fontSize=15, anchor="middle"),
        )
        columns.append(column)
    subtitle = [f"{_epoch_text(epoch).capitalize()}, seed {seed}. Bars: share of the layer's values in each bin; "
                "the layers of one initializer share their x axis."]
    if missing:
        subtitle.append("No column for " + ", ".join(missing) + ": diverged before this epoch.")
    rows = [alt.hconcat(*columns[i:i + PER_ROW], spacing=14) for i in range(0, len(columns), PER_ROW)]
    chart = (rows[0] if len(rows) == 1 else alt.vconcat(*rows)) if rows else alt.hconcat(
        alt.Chart(pd.DataFrame({"text": ["no data at this epoch"]})).mark_text(fontSize=15).encode(text="text:N"))
    title = f"{what.split(' value')[0]} histograms per layer"
    return _finish(chart.properties(title=alt.TitleParams(title, subtitle=subtitle)))


# ---------------------------------------------------------------- decision boundary

def decision_boundary(grid: pd.DataFrame, points: pd.DataFrame, status: pd.DataFrame | None = None, *,
                      seed: int | None = None, panel_size: int | None = None) -> alt.FacetChart:
    """Predicted class on a grid with the data on top: a row at initialization and a row after training,
    a column per initializer.

    Regions are tinted by the predicted class and fade where the network is unsure (opacity follows the
    predicted probability). One seed is shown; a network that diverged before the last epoch gets a note
    instead of a boundary.

    Parameters
    ----------
    grid : ``Result.grid``; points : ``Result.points``
    status : ``Result.status``, for the final accuracy written on each panel
    seed : the network shown (default the first seed); panel_size : pixels per panel
    """
    labels = labels_of(grid)
    grid, seed = _first_seed(grid, seed)
    grid = _plain(grid)
    classification = np.isfinite(pd.to_numeric(grid["probability"], errors="coerce")).any()
    xs, ys = np.sort(grid["x1"].unique()), np.sort(grid["x2"].unique())
    dx = float(np.diff(xs).min()) if len(xs) > 1 else 1.0
    dy = float(np.diff(ys).min()) if len(ys) > 1 else 1.0
    epochs = sorted(int(e) for e in grid["epoch"].unique())
    stages = {e: "at initialization" if e == 0 else f"after {e} epochs" for e in epochs}
    n_classes = int(max(grid["prediction"].max() if len(grid) else 0,
                        points["target"].max() if len(points) else 0)) + 1

    def class_name(values):
        return ("class " + values.astype(int).astype(str)) if classification else values

    # a cell's far corner is computed in the browser (x1 + dx): two columns fewer for ~16,000 cells
    cells = pd.DataFrame({"kind": "cell", "initializer": grid["initializer"], "stage": grid["epoch"].map(stages),
                          "x1": grid["x1"], "x2": grid["x2"], "class": class_name(grid["prediction"]),
                          "probability": grid["probability"].round(3)})
    dots = pd.DataFrame({"kind": "point", "x1": points["x1"], "x2": points["x2"],
                         "class": class_name(points["target"]), "split": points["split"]})
    panels = pd.DataFrame([(label, stage) for label in labels for stage in stages.values()],
                          columns=["initializer", "stage"])
    dots = panels.merge(dots, how="cross")
    notes = _panel_notes(grid, status, labels, epochs, stages, seed, classification)
    data = pd.concat([cells, dots, notes], ignore_index=True)

    size = panel_size or int(max(110, min(210, (WIDTH - 90) / max(1, min(PER_ROW, len(labels))))))
    x = alt.X("x1:Q", title="x1", scale=alt.Scale(domain=[float(xs.min()), float(xs.max() + dx)] if len(xs) else
                                                  [0, 1], nice=False, zero=False), axis=alt.Axis(tickCount=3))
    y = alt.Y("x2:Q", title="x2", scale=alt.Scale(domain=[float(ys.min()), float(ys.max() + dy)] if len(ys) else
                                                  [0, 1], nice=False, zero=False), axis=alt.Axis(tickCount=3))
    if classification:
        classes = [f"class {c}" for c in range(n_classes)]
        color = alt.Color("class:N", title="Class", scale=alt.Scale(domain=classes,
                                                                    range=list(CLASS_PALETTE[:len(classes)])),
                          legend=alt.Legend(orient="top"))
        opacity = alt.Opacity("probability:Q", legend=None,
                              scale=alt.Scale(domain=[1.0 / max(n_classes, 2), 1.0], range=[0.04, 0.55]))
    else:
        color, opacity = alt.Color("class:Q", title="Prediction", scale=alt.Scale(scheme="viridis")), alt.value(0.6)
    base = alt.Chart()
    regions = base.transform_filter(alt.datum.kind == "cell").transform_calculate(
        x1_end=alt.datum.x1 + dx, x2_end=alt.datum.x2 + dy).mark_rect().encode(
        x=x, x2="x1_end:Q", y=y, y2="x2_end:Q", color=color, opacity=opacity,
        tooltip=[alt.Tooltip("x1:Q", format=".2f"), alt.Tooltip("x2:Q", format=".2f"),
                 alt.Tooltip("class:N", title="Predicted"),
                 alt.Tooltip("probability:Q", title="Probability", format=".0%")])
    dots_layer = base.transform_filter(alt.datum.kind == "point").mark_circle(
        size=20, stroke="white", strokeWidth=0.5, opacity=0.95).encode(
        x=x, y=y, color=color,
        tooltip=[alt.Tooltip("class:N", title="True class"), alt.Tooltip("split:N", title="Split")])
    text = base.transform_filter(alt.datum.kind == "note").mark_text(
        align="left", baseline="top", dx=4, dy=4, fontSize=13, fontWeight="bold").encode(
        x=alt.value(0), y=alt.value(0), text="note:N", color=alt.condition(alt.datum.bad, alt.value("#B00020"),
                                                                            alt.value("#111111")))
    panel = alt.layer(regions, dots_layer, text).properties(width=size, height=size)

    def block(chunk: list[str]):
        """Rows: at initialization, after training; columns: up to PER_ROW initializers."""
        return panel.facet(
            data=data[data["initializer"].isin(chunk)],
            row=alt.Row("stage:N", sort=list(stages.values()), title=None,
                        header=alt.Header(labelAngle=-90, labelFontSize=15)),
            column=alt.Column("initializer:N", sort=chunk, title=None,
                              # long labels such as random_normal(std=0.01) fit a 13 px header
                              header=alt.Header(labelFontWeight="bold", labelFontSize=13, labelLimit=size + 30)))

    chunks = [labels[i:i + PER_ROW] for i in range(0, len(labels), PER_ROW)] or [[]]
    chart = block(chunks[0]) if len(chunks) == 1 else alt.vconcat(*(block(chunk) for chunk in chunks))
    return _finish(chart.properties(title=alt.TitleParams("Decision boundary", subtitle=[
        f"Seed {seed}. Tint: predicted class, faint where the network is unsure. Dots: the data (train and test)."])))


def _panel_notes(grid, status, labels, epochs, stages, seed, classification) -> pd.DataFrame:
    """One line of text per panel: the network's accuracy after training, or why there is no boundary."""
    rows = []
    finals = {}
    if status is not None:
        finals = {row.initializer: row for row in _plain(status[status["seed"] == seed]).itertuples()}
    present = set(zip(grid["initializer"], grid["epoch"]))
    last = max(epochs) if epochs else 0
    for label in labels:
        for epoch in epochs:
            row = finals.get(label)
            if (label, epoch) not in present:
                note, bad = "diverged: no boundary", True
            elif epoch == last and row is not None and epoch > 0:
                note = (f"diverged at epoch {row.diverged_epoch}" if row.diverged else
                        f"test accuracy {row.final_test_accuracy:.0%}" if classification else
                        f"test loss {row.final_test_loss:.3g}")
                bad = bool(row.diverged)
            else:
                continue
            rows.append({"kind": "note", "initializer": label, "stage": stages[epoch], "note": note, "bad": bad})
    return pd.DataFrame(rows, columns=["kind", "initializer", "stage", "note", "bad"])

"""What every chart looks like: the palette and projector-sized theme, one colour per initializer with a
clickable legend, log axes, text that fits a width, and the finishing touches (``finish``, ``presenter``).
The pandas steps before charting are in ``frames``."""

from __future__ import annotations

import json
import re
import textwrap

import altair as alt
import numpy as np

# Colours for labels no name below fixes (and a repeated one), in order. Colour-blind safe first (Okabe-Ito
# without its yellow, which vanishes on a projector), then distinct darker tones.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#8C564B",
           "#7F7F7F", "#BCBD22", "#393B79", "#17BECF")
# One colour per initializer NAME, the same in every comparison, lesson and link: He is always green,
# Glorot always blue. A normal or uniform draw is coloured by its scale, the lesson it tells: small
# (std or limit < 0.1: the signal vanishes) sky blue, large (>= 0.5: it explodes) vermilion.
NAMED_COLORS = {
    "zeros": "#7F7F7F", "constant": "#000000", "random_normal:small": "#56B4E9", "random_normal:large": "#D55E00",
    "random_normal": "#E7298A", "random_uniform:small": "#17BECF", "random_uniform:large": "#B15928",
    "random_uniform": "#BCBD22", "truncated_normal": "#8C564B", "glorot_uniform": "#0072B2",
    "glorot_normal": "#393B79", "he_normal": "#009E73", "he_uniform": "#66A61E", "lecun_normal": "#9467BD",
    "lecun_uniform": "#6A3D9A", "orthogonal": "#E69F00", "lsuv": "#CC79A7", "torch_default": "#A6761D",
    "sklearn_default": "#1B4F72", "mean_field": "#7570B3",
    "fixup": "#E41A1C", "skipinit": "#F781BF", "rezero": "#A50026",
}
_SCALE_PARAM = re.compile(r"(?:std|limit)=([0-9.eE+-]+)")
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
# Presenter mode, for the back of a room: ticks 16 px, axis and chart titles 20 px and more.
PRESENTER_CONFIG = {
    **CONFIG,
    "axis": {**CONFIG["axis"], "labelFontSize": 16, "titleFontSize": 20},
    "legend": {**CONFIG["legend"], "labelFontSize": 17, "titleFontSize": 20},
    "header": {**CONFIG["header"], "labelFontSize": 18, "titleFontSize": 20},
    "title": {**CONFIG["title"], "fontSize": 26, "subtitleFontSize": 17},
}
LEGEND_COLUMNS, PRESENTER_LEGEND_COLUMNS = 5, 3  # initializers per legend row (presenter text is larger)
LINE_WIDTH = 3
# A chart's whole width, axes and legends included: the main area of a 1280 px projector beside the sidebar.
WIDTH = 810  # 850 before the left padding of 26 px (``finish``), less a margin
PER_ROW = 6  # small multiples per row before wrapping


def fitted(fit_width: int | None, overhead: float, panels: int, default: float, floor: float = 40) -> int:
    """A panel's width, in px, for a chart of ``panels`` panels across whose axes, labels, legends and
    padding take ``overhead`` px (measured in Chromium, with a margin), so that the whole chart fits
    ``fit_width`` px; ``default`` (the size for a 1280 px screen beside the sidebar) if that is narrower, or
    if ``fit_width`` is None. Never under ``floor``: a panel narrower than that shows nothing."""
    if fit_width is None:
        return int(default)
    return int(max(floor, min(default, (fit_width - overhead) / max(1, panels))))


TOOLTIP_EPOCHS = 60  # hover points per training curve
LOG_FORMAT = "~g"  # 0.001, 0.1, 10, 1e+4


def wrapped(label: str, width: float, font_size: float = 15) -> str | list[str]:
    """``label`` broken into lines that fit ``width`` pixels at ``font_size`` (Vega draws a list of
    strings as lines): before an opening parenthesis and after a comma, never inside a name. One string
    when it fits. Widths are estimated at 0.6 em a character (bold, the widest case)."""
    limit = max(4, int(width / (0.6 * font_size)))
    if len(label) <= limit:
        return label
    pieces, piece = [], ""
    for char in label:
        if char == "(" and piece:
            pieces.append(piece)
            piece = ""
        piece += char
        if char == ",":
            pieces.append(piece)
            piece = ""
    pieces.append(piece)
    lines = [""]
    for piece in pieces:
        if lines[-1] and len(lines[-1]) + len(piece) > limit:
            lines.append("")
        lines[-1] += piece if lines[-1] else piece.lstrip()
    return lines if len(lines) > 1 else lines[0]


@alt.theme.register("wil", enable=False)
def theme() -> alt.theme.ThemeConfig:
    """The same look for charts made outside these builders: ``alt.theme.enable("wil")``."""
    return alt.theme.ThemeConfig(config=CONFIG)


# ---------------------------------------------------------------- colours and legends

def named_color(label: str) -> str | None:
    """The colour ``NAMED_COLORS`` gives an initializer label ("he_normal", "random_normal(std=0.01)"), by
    its name and, for a normal or uniform draw, its scale; None for a label it does not know."""
    name = str(label).split("(")[0].strip()
    if name in ("random_normal", "random_uniform"):
        match = _SCALE_PARAM.search(str(label))
        try:
            scale = float(match.group(1)) if match else (0.05 if name == "random_normal" else 0.05)
        except ValueError:
            scale = float("nan")
        regime = "small" if scale < 0.1 else "large" if scale >= 0.5 else None
        return NAMED_COLORS.get(f"{name}:{regime}" if regime else name)
    return NAMED_COLORS.get(name)


def initializer_colors(labels: list[str]) -> list[str]:
    """The colour of each label of a comparison: its ``named_color``; a label without one, or whose colour
    an earlier label took (he_normal and he_normal(scale=2)), the first of ``PALETTE`` not yet used."""
    colors: list[str] = []
    for label in labels:
        color = named_color(label)
        if color is None or color in colors:
            color = next((c for c in (*PALETTE, *NAMED_COLORS.values()) if c not in colors),
                         PALETTE[len(colors) % len(PALETTE)])
        colors.append(color)
    return colors


def color_scale(labels: list[str]) -> alt.Scale:
    """Each label gets its ``initializer_colors`` colour, the same in every chart, lesson and link."""
    return alt.Scale(domain=list(labels), range=initializer_colors(list(labels)))


def color_of(labels: list[str], label: str) -> str:
    """The colour of one label of the comparison ``labels``, for titles and captions."""
    labels = list(labels)
    return initializer_colors(labels)[labels.index(label)]


def color_encoding(labels: list[str], legend: str = "show") -> alt.Color:
    """The initializer colour. ``legend``: "show" it, "merge" into another layer's, or "hide" it."""
    kwargs = {}
    if legend == "show":
        kwargs["legend"] = alt.Legend(title="Initializer", orient="top", columns=min(len(labels), LEGEND_COLUMNS),
                                      symbolOpacity=1, symbolType="stroke", symbolStrokeWidth=4)
    elif legend == "hide":
        kwargs["legend"] = None
    return alt.Color("initializer:N", scale=color_scale(labels), sort=list(labels), **kwargs)


def legend_pick() -> alt.Parameter:
    """Click a legend entry to bring that initializer forward and fade the others (shift-click: several)."""
    return alt.selection_point(fields=["initializer"], bind="legend")


def faded(pick: alt.Parameter, opacity: float = 1.0) -> alt.OpacityValue:
    """Full ``opacity`` for the initializers ``pick`` selects (all when none is), faint for the others."""
    return alt.condition(pick, alt.value(opacity), alt.value(0.12 * opacity))


def wrapped_labels(labels: list[str], width: float, font_size: float) -> str:
    """A Vega expression giving each header label as the lines ``wrapped`` breaks it into."""
    lines = {label: wrapped(label, width, font_size) for label in labels}
    broken = {label: value for label, value in lines.items() if isinstance(value, list)}
    expression = "datum.label"
    for label, value in broken.items():  # a chain of conditionals on the header's value (its label is
        # already formatted there); Vega draws an array of strings as lines
        expression = f"datum.value === {json.dumps(label)} ? {json.dumps(value)} : {expression}"
    return expression


def finish(chart, fit_width: int | None = None):
    """Apply the projector-sized configuration (top-level charts only); with ``fit_width``, also fit the
    chart's text to that many pixels (``_fit_text``).

    ``autosize: pad`` makes ``width`` and ``height`` the plotting area, with titles, legends and axes
    around it; "fit" (what a host such as Streamlit picks otherwise) squeezes a titled, legended chart.
    """
    # Canvas draws many marks faster than SVG in a browser without a GPU, and leaving out the ARIA
    # attributes of every mark saves the browser work no one uses here (the page states each lesson in text).
    # The left padding makes room for a faceted chart's y-axis title, which Vega's "pad" leaves out when
    # the tick labels are narrow (measured in Chromium: "Cross-entropy loss" cut to "s-entropy loss").
    chart = chart.configure(**CONFIG, aria=False).properties(
        autosize=alt.AutoSizeParams(type="pad", contains="padding"), padding={"left": 26, "top": 5, "right": 5,
                                                                             "bottom": 5},
        usermeta={"embedOptions": {"renderer": "canvas"}})
    return chart if fit_width is None else _fit_text(chart, fit_width)


LEGEND_ENTRY = 215  # px: a legend entry of the longest common label, random_normal(std=0.01), and its gap


def _fit_text(chart, fit_width: int, font_size: float = 14):
    """``chart`` with what sets its width besides the panels fitted to ``fit_width`` px: legends in as
    many columns as fit (``LEGEND_ENTRY`` each), and the title's lines wrapped at words (0.5 em a
    character, Source Sans at its widest).

    Edited on a copy of the chart's objects, never through ``to_dict``/``from_dict``: that round trip
    turned every row of a decision boundary's ~100,000 into Altair objects (8 s instead of 0.3 s)."""
    chart = chart.copy(deep=True)  # the objects, not the data frames they hold
    _cap_legend_columns(chart, max(1, int((fit_width - 60) // LEGEND_ENTRY)))
    title = chart._kwds.get("title")
    if isinstance(title, alt.TitleParams):
        text, subtitle = title._kwds.get("text"), title._kwds.get("subtitle")
        if isinstance(text, str):  # 19 px, bold: ~0.6 em a character
            lines = textwrap.wrap(text, max(12, int((fit_width - 40) / (0.6 * 19))))
            title["text"] = lines if len(lines) > 1 else text
        if isinstance(subtitle, (str, list)) and subtitle:
            lines = subtitle if isinstance(subtitle, list) else [subtitle]
            limit = max(20, int((fit_width - 40) / (0.5 * font_size)))
            title["subtitle"] = [part for line in lines for part in (textwrap.wrap(line, limit) or [""])]
    return chart


def presenter(chart):
    """``chart`` (from any builder here) with the text sizes of ``PRESENTER_CONFIG`` and legends of at
    most ``PRESENTER_LEGEND_COLUMNS`` columns, for a projector seen from the back of a room."""
    chart = chart.copy(deep=True)
    chart["config"] = {**PRESENTER_CONFIG, "aria": False}
    _cap_legend_columns(chart, PRESENTER_LEGEND_COLUMNS)
    # no subtitle: the presenter says it, and a 768 px projector keeps its lines for the chart itself
    title = getattr(chart, "title", alt.Undefined)
    if isinstance(title, alt.TitleParams) and title._kwds.get("subtitle", alt.Undefined) is not alt.Undefined:
        title["subtitle"] = alt.Undefined
    elif isinstance(title, dict) and "subtitle" in title:
        chart["title"] = {key: value for key, value in title.items() if key != "subtitle"}
    return chart


def _cap_legend_columns(node, columns: int) -> None:
    """Every legend of a chart (its Altair objects, or a spec's dicts) in at most ``columns`` columns, in
    place. Data (data frames, inline values) is not walked."""
    if isinstance(node, alt.SchemaBase):
        if isinstance(node, (alt.Legend, alt.LegendConfig)):
            if isinstance(node._kwds.get("columns"), int):
                node["columns"] = min(node._kwds["columns"], columns)
            return
        for key, value in node._kwds.items():
            if key not in ("data", "datasets", "values"):
                _cap_legend_columns(value, columns)
        for value in node._args:
            _cap_legend_columns(value, columns)
    elif isinstance(node, dict):
        legend = node.get("legend")
        if isinstance(legend, dict) and isinstance(legend.get("columns"), int):
            legend["columns"] = min(legend["columns"], columns)
        for key, value in node.items():
            if key not in ("data", "datasets", "values"):
                _cap_legend_columns(value, columns)
    elif isinstance(node, list):
        for value in node:
            _cap_legend_columns(value, columns)


def log_axis(values, fmt: str = LOG_FORMAT) -> alt.Axis:
    """Ticks and grid lines at powers of ten only (every other one beyond ten decades), for a log scale."""
    values = np.asarray([v for v in values if np.isfinite(v) and v > 0], dtype=float)
    if not len(values):
        return alt.Axis(format=fmt)
    low, high = int(np.floor(np.log10(values.min()))), int(np.ceil(np.log10(values.max())))
    step = max(1, int(np.ceil((high - low + 1) / 10)))
    return alt.Axis(format=fmt, values=[float(10.0 ** k) for k in range(low, high + 1, step)])


def dash_encoding() -> alt.StrokeDash:
    """Solid or dashed by the "dash" column (``frames.dash_column``): a line lying on another shows its gaps."""
    return alt.StrokeDash("dash:N", scale=alt.Scale(domain=["solid", "dashed"], range=[[1, 0], [8, 6]]), legend=None)

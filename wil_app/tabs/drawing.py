"""The tabs' charts: a ``wil.charts`` builder per chart (``CHARTS``), drawn once per run and view and
replayed from Streamlit's cache (``chart``). No chart building here: titles and scales are the library's
(``charts.VIEWS``)."""

from __future__ import annotations

import streamlit as st

import wil
from wil import charts

from ..viewport import fit_width

# Every chart of the page, by name: a ``wil.charts`` builder applied to a Result and view options.
CHARTS = {
    "loss": lambda result, **options: charts.loss_curves(result.history, result.status, **options),
    "accuracy": lambda result, **options: charts.accuracy_curves(result.history, result.status, **options),
    "final_scores": lambda result, **options: charts.final_scores(result.status, **options),
    "activation_std": lambda result, epoch, **options: charts.activation_std_by_layer(
        result.layers, wil.theory_frame(result.config), epoch=epoch, **options),
    "histograms": lambda result, **options: charts.histogram_grid(result.histograms, **options),
    "profile": lambda result, field, **options: charts.layer_profile(result.layers, field, **options),
    "heatmap": lambda result, field, **options: charts.layer_heatmap(result.layers, field, **options),
    "boundary": lambda result, **options: charts.decision_boundary(result.grid, result.points, result.status,
                                                                   **options),
}
LARGE_CHARTS = ("boundary", "heatmap")


def run_key(result: wil.Result) -> tuple:
    """What a result's charts are cached on: its configuration, and where it was stopped (a stopped run
    is another result than the whole run of the same configuration)."""
    return result.config, result.stopped_epoch


# A few configurations' worth of drawn charts: each is small for the demo (under 0.2 MB of data) and at
# most ~1 MB within the limits (12 initializers, 50 layers), so the cache holds at most ~60 MB.
@st.cache_data(max_entries=60, show_spinner=False)
def draw_chart(key: tuple, name: str, _result: wil.Result, presenter: bool = False, **options) -> None:
    """Build and draw one chart. Streamlit caches the drawn element with the call: a rerun (or another
    session) asking for the same chart of the same run (``run_key``) replays it and builds nothing."""
    # Every chart keeps the size its builder chose (about 900 px wide, for a projector's 1280 px).
    chart = CHARTS[name](_result, **options)
    st.altair_chart(charts.presenter(chart) if presenter else chart, width="content")


# The decision boundary (a cell per grid point, panel and stage) and the heatmaps (a cell per epoch, layer
# and initializer) reach 2-5 MB of data within the limits: a few of them, at most ~40 MB.
@st.cache_data(max_entries=8, show_spinner=False)
def draw_large_chart(key: tuple, name: str, _result: wil.Result, presenter: bool = False, **options) -> None:
    """``draw_chart`` for the charts with the most data."""
    chart = CHARTS[name](_result, **options)
    st.altair_chart(charts.presenter(chart) if presenter else chart, width="content")


def chart(result: wil.Result, name: str, **options) -> None:
    """Chart ``name`` of ``CHARTS`` for ``result`` with view ``options``, cached on the configuration."""
    draw = draw_large_chart if name in LARGE_CHARTS else draw_chart
    fit = fit_width()  # None at full width: the charts' own size, and the same cache entries as before
    if fit is not None:
        options["fit_width"] = fit
    draw(run_key(result), name, result, presenter=bool(st.session_state.get("presenter")), **options)


# What changes from frame to frame of a chart that plays through training: the epoch (or the epochs shown).
FRAME_OPTIONS = {"boundary": lambda epoch: {"epochs": [0, epoch] if epoch else [0], "later": "at the epoch shown"}}


_DRAWN: set = set()  # the played charts this server has drawn (in draw_played's cache, if not evicted since)


@st.cache_resource(max_entries=4, show_spinner=False)
def played_chart(key: tuple, name: str, _result: wil.Result, epochs: tuple, **options):
    """Chart ``name`` at every one of ``epochs``, in one chart with its own epoch slider
    (``charts.over_epochs``): built once per run and view, shared by every session (never changed)."""
    frame = FRAME_OPTIONS.get(name, lambda epoch: {"epoch": epoch})
    return charts.over_epochs(lambda epoch: CHARTS[name](_result, **frame(epoch), **options), list(epochs))


@st.cache_data(max_entries=24, show_spinner=False)
def draw_played(key: tuple, name: str, _result: wil.Result, epochs: tuple, value: int, presenter: bool = False,
                **options) -> None:
    """Draw ``played_chart`` with its slider at epoch ``value`` (the drawn element is replayed from the cache)."""
    chart = charts.at_epoch(played_chart(key, name, _result, epochs, **options), value)
    st.altair_chart(charts.presenter(chart) if presenter else chart, width="content")


def played(result: wil.Result, name: str, epochs: list[int], value: int, **options) -> None:
    """Chart ``name`` of ``CHARTS`` through every recorded epoch, its slider at ``value``: the play control
    (``controls.play_control``) steps that slider in the browser, without a rerun per frame."""
    fit = fit_width()
    if fit is not None:
        options["fit_width"] = fit
    presenter, key = bool(st.session_state.get("presenter")), run_key(result)
    if (key, name, tuple(epochs), value, presenter, repr(sorted(options.items()))) in _DRAWN:
        draw_played(key, name, result, tuple(epochs), int(value), presenter=presenter, **options)
        return
    # the first time: the epoch shown at once, then every frame (a few seconds for a decision boundary)
    slot = st.empty()
    with slot.container():
        chart(result, name, **FRAME_OPTIONS.get(name, lambda epoch: {"epoch": epoch})(value), **options)
    with slot.container():
        draw_played(key, name, result, tuple(epochs), int(value), presenter=presenter, **options)
    _DRAWN.add((key, name, tuple(epochs), value, presenter, repr(sorted(options.items()))))
    while len(_DRAWN) > 256:
        _DRAWN.pop()


def view_chart(result: wil.Result, chart_name: str, quantity: str, **options) -> None:
    """A per-layer chart (``"profile"`` or ``"heatmap"``) of ``quantity`` as ``charts.VIEWS`` titles and
    scales it, with view ``options`` (the epoch, a width)."""
    chart(result, chart_name, field=quantity, **charts.VIEWS[chart_name][quantity].options, **options)

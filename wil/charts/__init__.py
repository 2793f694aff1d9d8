"""Chart builders: pure functions from ``Result`` frames to Altair charts, readable on a projector.

No Streamlit here; the app lays these out, notebooks can display them directly. Every builder

- keeps one colour per initializer across all charts, lessons and links (``color_scale``: a colour per
  initializer name, ``NAMED_COLORS``), so a colour means the same initializer everywhere;
- drops non-finite values first (a diverged network's last loss may be inf or NaN) and marks divergence
  instead of letting one exploded value squash the axis;
- aggregates in pandas before charting (median over seeds, a thinned epoch axis, one seed for
  histograms and decision boundaries) so the browser gets thousands of rows, not a whole run;
- titles its axes with units, carries tooltips, and uses fonts large enough for a projector (``CONFIG``).

The builders live in one module per kind of chart (``training``, ``layers``, ``histograms``,
``boundary``, ``phase``, ``spectrum``), each a pandas step that prepares the data (``*_frame``) and an Altair step
that encodes it, over the shared pieces: ``views`` (the one table of titles and scales, ``VIEWS``),
``style`` (colours, theme, legends, fitting a width) and ``frames`` (the pandas steps every chart takes).
This package exposes all of them, so
``from wil import charts; charts.loss_curves(...)`` is the way to use them. Importing a builder registers the
Altair theme "wil" (``alt.theme.enable("wil")``).

This package registers ``Result.plot`` (``wil.charts.accessor``) and loads its builders, and with them
Altair, only when first used, so that ``import wil`` stays light.
"""

import importlib

from wil.analysis.result import register_accessor

_HOME = {  # public name -> the module that defines it
    **dict.fromkeys(["CLASS_PALETTE", "CONFIG", "FONT", "HISTOGRAMS_PER_ROW", "INK", "LINE_WIDTH", "LOG_FORMAT", "NAMED_COLORS", "PALETTE",
                     "PER_ROW", "TOOLTIP_EPOCHS", "WIDTH", "color_of", "color_scale", "initializer_colors",
                     "named_color", "presenter", "PRESENTER_CONFIG", "theme"], "wil.charts.style"),
    **dict.fromkeys(["labels_of", "pick_layers", "thin_epochs"], "wil.charts.frames"),
    "decision_boundary": "wil.charts.boundary",
    "at_epoch": "wil.charts.playable", "over_epochs": "wil.charts.playable",
    "QUANTITY_TITLES": "wil.charts.histograms", "histogram_grid": "wil.charts.histograms",
    "activation_std_by_layer": "wil.charts.layers", "layer_heatmap": "wil.charts.layers",
    "layer_profile": "wil.charts.layers",
    "phase_diagram": "wil.charts.phase", "trainable_depth": "wil.charts.phase", "budget_curve": "wil.charts.phase",
    "singular_value_spectrum": "wil.charts.spectrum", "spectrum_frame": "wil.charts.spectrum",
    "View": "wil.charts.views", "VIEWS": "wil.charts.views", "HISTOGRAMS_PER_ROW": "wil.charts.histograms",
    **dict.fromkeys(["accuracy_curves", "final_scores", "loss_curves", "metric_curves", "status_table"],
                    "wil.charts.training"),
}
__all__ = [
    "CLASS_PALETTE", "CONFIG", "FONT", "INK", "LINE_WIDTH", "LOG_FORMAT", "NAMED_COLORS", "PALETTE", "PER_ROW",
    "QUANTITY_TITLES", "TOOLTIP_EPOCHS", "WIDTH", "accuracy_curves", "budget_curve", "at_epoch", "activation_std_by_layer", "color_of",
    "color_scale", "decision_boundary", "final_scores", "histogram_grid", "initializer_colors", "labels_of",
    "layer_heatmap", "layer_profile", "loss_curves", "metric_curves", "named_color", "over_epochs", "phase_diagram", "pick_layers",
    "presenter", "PRESENTER_CONFIG", "singular_value_spectrum", "spectrum_frame", "status_table", "theme",
    "thin_epochs", "trainable_depth", "View", "VIEWS",
]


def __getattr__(name: str):
    """A builder or constant of this package, imported on first use (PEP 562)."""
    if name not in _HOME:
        raise AttributeError(f"module 'wil.charts' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOME[name]), name)
    globals()[name] = value
    return value


@register_accessor("plot")
def _plot(result):
    """Charts in one call, as Altair charts Jupyter draws: ``res.plot.loss()``, ``res.plot.activations(epoch=0)``,
    ... (see ``wil.charts.accessor.PlotAccessor``)."""
    from wil.charts.accessor import PlotAccessor

    return PlotAccessor(result)

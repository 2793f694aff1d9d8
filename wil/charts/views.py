"""The one table of views: how each chart of the app and of ``res.plot`` is titled and scaled.

``VIEWS[chart][key]`` is a ``View``. The keys are stable:

``VIEWS["profile"][quantity]``
    a per-layer statistic against depth (``layer_profile``); ``quantity`` is a column of
    ``Result.layers``: "act_std", "act_mean", "grad_norm", "dead_fraction", "saturated_fraction",
    "distinct_units", "weight_std" (``wil.spec.layout.LAYER_STATS``). Draw it with
    ``layer_profile(layers, view.quantity, epoch=..., **view.options)``.
``VIEWS["heatmap"][quantity]``
    the same statistic over epochs and layers (``layer_heatmap``), same quantities, same scale:
    ``layer_heatmap(layers, view.quantity, **view.options)``.
``VIEWS["dead_units"][family]``
    the default view of the "Dead neurons" tab and ``res.plot.dead_units()`` for an activation family
    (``wil.spec.activations.Activation.family``): "relu" -> dead units, "saturating" -> saturated units,
    "smooth" -> distinct units. Each is the ``VIEWS["profile"]`` entry of that quantity (the same object).
``VIEWS["histograms"][quantity]``
    the histograms (``histogram_grid``) of "activation", "preactivation", "weight", "gradient"
    (``wil.spec.layout.HISTOGRAM_QUANTITIES``): its title and x axis title.
``VIEWS["training"][metric]``
    the training curves (``metric_curves``) of "loss" and "accuracy": title and y axis title (a regression's
    loss says "MSE loss" instead of ``axis_title``).

``VIEWS["spectrum"]["singular_value"]``
    the sorted singular values of the Jacobian at initialization (``singular_value_spectrum``, from
    ``wil.jacobian_spectrum``): its title and y axis.

A ``View`` holds ``chart``, ``quantity``, ``title``, ``axis_title`` (the value axis without its unit
suffix: y of a profile or curve, the colour of a heatmap, x of a histogram), ``log``, ``percent``,
``scheme`` (a heatmap's Vega colour scheme); ``value_title`` adds the scale's suffix
("(log scale)", "(%)"), and ``options`` gives the keyword arguments of its builder.

Where the app (``wil_app/tabs/``) and ``res.plot`` used to differ, the choice here: distinct units are on
a log scale (as the app drew them; ``res.plot`` drew them linear), because the lesson is "1 unit left of
many" and a log axis shows 1 of 32 or of 512 as plainly as 16 of 32.
"""

from __future__ import annotations

from dataclasses import dataclass

from wil.spec.layout import HISTOGRAM_QUANTITIES


@dataclass(frozen=True)
class View:
    """How one chart is drawn (see the module): its title, the value axis and its scale."""

    chart: str  # "profile", "heatmap", "histograms", "training" or "spectrum"
    quantity: str  # the column or quantity drawn
    title: str
    axis_title: str  # the value axis, without the scale's suffix
    log: bool = False  # a log scale (zeros cannot be drawn)
    percent: bool = False  # a 0-100% scale
    scheme: str = "viridis"  # a heatmap's colour scheme

    @property
    def value_title(self) -> str:
        """``axis_title`` with the scale it is drawn on: "Weight std (log scale)", "Share of units (%)"."""
        return self.axis_title + (" (log scale)" if self.log else " (%)" if self.percent else "")

    @property
    def options(self) -> dict:
        """The keyword arguments of this view's builder (``layer_profile``, ``layer_heatmap``); empty for the
        builders that read this table themselves (``histogram_grid``, ``metric_curves``)."""
        if self.chart == "profile":
            return dict(title=self.title, y_title=self.value_title, log=self.log, percent=self.percent)
        if self.chart == "heatmap":
            return dict(title=self.title, color_title=self.axis_title, log=self.log, percent=self.percent,
                        scheme=self.scheme)
        return {}


def _layer_views(quantity: str, profile_title: str, heatmap_title: str, axis_title: str,
                 **scale) -> tuple[View, View]:
    """The profile and heatmap views of one per-layer statistic: one title each, one scale for both."""
    return (View("profile", quantity, profile_title, axis_title, **scale),
            View("heatmap", quantity, heatmap_title, axis_title, **scale))


_LAYERS = [
    _layer_views("act_std", "Activation spread per layer", "Activation std over training", "Activation std",
                 log=True),
    _layer_views("act_mean", "Activation mean per layer", "Activation mean over training", "Activation mean"),
    _layer_views("grad_norm", "Gradient norm per layer", "Gradient norm over training", "‖∂loss/∂W‖", log=True),
    _layer_views("dead_fraction", "Dead units (never fire on the training set)", "Dead units over training",
                 "Share of units", percent=True, scheme="reds"),
    _layer_views("saturated_fraction", "Saturated units (slope under 5% of its maximum)",
                 "Saturated units over training", "Share of units", percent=True, scheme="reds"),
    _layer_views("distinct_units", "Distinct units per layer", "Distinct units over training", "Distinct units",
                 log=True),
    _layer_views("weight_std", "Weight std per layer", "Weight std over training", "Weight std", log=True),
]
_PROFILES = {profile.quantity: profile for profile, _ in _LAYERS}

_HISTOGRAM_NAMES = {"activation": "Activation", "preactivation": "Pre-activation", "weight": "Weight",
                    "gradient": "Weight gradient"}

VIEWS: dict[str, dict[str, View]] = {
    "profile": _PROFILES,
    "heatmap": {heatmap.quantity: heatmap for _, heatmap in _LAYERS},
    "dead_units": {"relu": _PROFILES["dead_fraction"], "saturating": _PROFILES["saturated_fraction"],
                   "smooth": _PROFILES["distinct_units"]},
    "histograms": {quantity: View("histograms", quantity, f"{_HISTOGRAM_NAMES[quantity]} histograms per layer",
                                  f"{_HISTOGRAM_NAMES[quantity]} value") for quantity in HISTOGRAM_QUANTITIES},
    "training": {"loss": View("training", "loss", "Loss per epoch", "Cross-entropy loss", log=True),
                 "accuracy": View("training", "accuracy", "Accuracy per epoch", "Accuracy", percent=True)},
    "spectrum": {"singular_value": View("spectrum", "singular_value", "Singular values of the Jacobian at "
                                        "initialization", "Singular value", log=True)},
}

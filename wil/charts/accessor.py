"""``Result.plot``: every chart of the app in one call from a notebook, e.g. ``res.plot.loss()``.

Each method is a thin call into a builder of ``wil.charts`` with the titles and scales the app's tab uses
(both read ``wil.charts.views.VIEWS``), after checking its own arguments with ``wil.spec.checks``: an epoch
that was not recorded, an unknown quantity or a layer out of range raises ``ValueError`` listing what is
allowed, a wrong type raises ``TypeError``. The charts come back as Altair objects, which Jupyter draws by
itself.

The module of ``wil.charts`` that reads a run's configuration: the activation's family (dead or saturated
units), the dataset's task (accuracy, decision boundary) and the theory's prediction for a run's
configuration. ``wil.Result.plot`` imports it on first use, so ``import wil`` never imports Altair.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import altair as alt

from wil.charts.boundary import decision_boundary
from wil.charts.frames import pick_layers
from wil.charts.histograms import histogram_grid
from wil.charts.layers import activation_std_by_layer, layer_heatmap, layer_profile
from wil.charts.training import accuracy_curves, final_scores, loss_curves
from wil.charts.views import VIEWS
from wil.spec.checks import ArgumentTypeError, check_choice, check_int, shown

if TYPE_CHECKING:
    from wil.analysis.result import Result


class PlotAccessor:
    """Charts of one ``Result``, each in one call: ``res.plot.loss()``, ``res.plot.activations(epoch=0)``.

    Every method returns an Altair chart (Jupyter draws it; ``chart.save("x.png")`` writes it with
    vl-convert). Epochs are those the run recorded: every epoch for the per-layer statistics, epoch 0,
    the last and three in between for the histograms. Layers are numbered 1..depth, the output depth + 1.

    Raises
    ------
    TypeError : an argument of the wrong type (an epoch that is not an integer, a quantity that is not a
        string, ...), naming the argument and what it received
    ValueError : an epoch the run did not record, an unknown quantity, a layer or seed not in the run,
        listing what is allowed; or a chart the run has no data for (accuracy of a regression, the
        boundary of a dataset with more than two features, anything per layer without diagnostics)
    """

    def __init__(self, result: "Result"):
        self._result = result

    def __repr__(self) -> str:
        names = [name for name in dir(self) if not name.startswith("_")]
        return f"<wil plot accessor: {', '.join(f'.{name}()' for name in names)}>"

    # ------------------------------------------------------------ training

    def loss(self, *, max_epochs: int = 200) -> alt.FacetChart:
        """Train and test loss per epoch (log scale): median over seeds, a band from min to max, divergence
        marked (``wil.charts.loss_curves``). ``max_epochs``: at most this many epochs are drawn."""
        result = self._result
        max_epochs = check_int("max_epochs", max_epochs, low=2)
        return inline_values(loss_curves(result.history, result.status, max_epochs=max_epochs))

    def accuracy(self, *, max_epochs: int = 200) -> alt.FacetChart:
        """Train and test accuracy per epoch (``wil.charts.accuracy_curves``); classification runs only."""
        result = self._result
        _classification("accuracy", result)
        max_epochs = check_int("max_epochs", max_epochs, low=2)
        return inline_values(accuracy_curves(result.history, result.status, max_epochs=max_epochs))

    def final_scores(self) -> alt.LayerChart:
        """The final test score of every network, per initializer (``wil.charts.final_scores``)."""
        return inline_values(final_scores(self._result.status))

    # ------------------------------------------------------------ per layer

    def activation_std(self, epoch: int = 0) -> alt.LayerChart:
        """Activation std per layer at ``epoch`` (log scale); at epoch 0, dashed, what the Glorot/He variance
        recursion predicts (``wil.charts.activation_std_by_layer`` over ``wil.theory_frame``)."""
        from wil.analysis.theory import theory_frame

        result = self._result
        epoch = _epoch("epoch", epoch, _layer_epochs(result), "per-layer statistics")
        theory = theory_frame(result.config, result.labels) if epoch == 0 else None
        return inline_values(activation_std_by_layer(result.layers, theory, epoch=epoch))

    def gradients(self, epoch: int = 0) -> alt.LayerChart:
        """The norm of the loss gradient with respect to each layer's weights at ``epoch`` (log scale). Over
        all of training: ``heatmap("grad_norm")``."""
        return self.profile("grad_norm", epoch)

    def dead_units(self, epoch: int = 0, *, quantity: str | None = None) -> alt.LayerChart:
        """Dead units per layer for a ReLU-family activation, saturated ones for tanh or sigmoid, distinct
        units otherwise (as the app's "Dead neurons" tab). Over all of training: ``heatmap(quantity)``.

        Parameters
        ----------
        epoch : a recorded epoch (0: at initialization)
        quantity : "dead_fraction", "saturated_fraction" or "distinct_units"; default by the activation
        """
        from wil.spec.activations import ACTIVATIONS

        if quantity is None:
            quantity = VIEWS["dead_units"][ACTIVATIONS[self._result.config.activation].family].quantity
        check_choice("quantity", quantity, [view.quantity for view in VIEWS["dead_units"].values()])
        return self.profile(quantity, epoch)

    def weight_std(self, epoch: int = 0) -> alt.LayerChart:
        """The std of each layer's weights at ``epoch`` (log scale): the spread each initializer chose."""
        return self.profile("weight_std", epoch)

    def profile(self, quantity: str, epoch: int = 0) -> alt.LayerChart:
        """A per-layer statistic against depth, one line per initializer: median over seeds, band min to max
        (``wil.charts.layer_profile``).

        Parameters
        ----------
        quantity : a statistic of ``Result.layers``: one of ``VIEWS["profile"]`` ("act_std", "grad_norm", ...)
        epoch : a recorded epoch (0: at initialization)
        """
        result = self._result
        check_choice("quantity", quantity, VIEWS["profile"])
        epoch = _epoch("epoch", epoch, _layer_epochs(result), "per-layer statistics")
        return inline_values(layer_profile(result.layers, quantity, epoch=epoch,
                                           **VIEWS["profile"][quantity].options))

    def heatmap(self, quantity: str) -> alt.FacetChart:
        """Per-layer statistic ``quantity`` over epochs (x) and layers (y), a panel per initializer
        (``wil.charts.layer_heatmap``), e.g. ``heatmap("grad_norm")``."""
        result = self._result
        check_choice("quantity", quantity, VIEWS["heatmap"])
        _layer_epochs(result)  # a run without diagnostics has nothing to draw
        return inline_values(layer_heatmap(result.layers, quantity, **VIEWS["heatmap"][quantity].options))

    # ------------------------------------------------------------ histograms

    def activations(self, epoch: int = 0, layers=None, *, quantity: str = "activation",
                    seed: int | None = None) -> alt.HConcatChart:
        """Histograms of the activations per layer, a column per initializer (Glorot & Bengio's Figure 6).

        Parameters
        ----------
        epoch : a recorded epoch: 0, the last, and three in between
        layers : a layer or a list of them, in 1..depth + 1 (the output); default up to five spread over
            the hidden layers, first and last included (as the app)
        quantity : "activation" (f(z)) or "preactivation" (z)
        seed : the network drawn for each initializer; default the first seed
        """
        check_choice("quantity", quantity, ("activation", "preactivation"))
        return self.histograms(quantity, epoch, layers, seed=seed)

    def weights(self, epoch: int = 0, layers=None, *, seed: int | None = None) -> alt.HConcatChart:
        """Histograms of the weights per layer at ``epoch``; see ``activations``. Their std per layer:
        ``weight_std(epoch)``."""
        return self.histograms("weight", epoch, layers, seed=seed)

    def histograms(self, quantity: str = "activation", epoch: int = 0, layers=None, *,
                   seed: int | None = None) -> alt.HConcatChart:
        """Histograms of ``quantity`` per layer (``wil.charts.histogram_grid``).

        Parameters
        ----------
        quantity : "activation", "preactivation", "weight" or "gradient"
        epoch, layers, seed : as for ``activations``
        """
        result = self._result
        check_choice("quantity", quantity, VIEWS["histograms"])
        recorded = sorted(int(e) for e in result.histograms["epoch"].unique())
        if not recorded:
            raise ValueError("This run recorded no histograms: it was trained with diagnostics=False")
        epoch = _epoch("epoch", epoch, recorded, "histograms")
        depth = result.config.depth
        layers = pick_layers(depth) if layers is None else _layers("layers", layers, depth)
        seed = _seed("seed", seed, sorted(int(s) for s in result.status["seed"].unique()))
        return inline_values(histogram_grid(result.histograms, quantity=quantity, epoch=epoch, layers=layers,
                                            seed=seed))

    # ------------------------------------------------------------ the data

    def boundary(self, *, seed: int | None = None) -> alt.FacetChart:
        """The decision boundary at initialization and after training, a column per initializer, with the
        data on top, for one network per initializer (``seed``, default the first;
        ``wil.charts.decision_boundary``). 2-D datasets only."""
        result = self._result
        if result.grid.empty:
            raise ValueError(f"No decision boundary: the dataset {result.config.dataset!r} does not have two "
                             "features (or the run recorded no grid); pick a 2-D dataset such as 'moons'")
        seed = _seed("seed", seed, sorted(int(s) for s in result.status["seed"].unique()))
        return inline_values(decision_boundary(result.grid, result.points, result.status, seed=seed))


# ---------------------------------------------------------------- argument checks
# The wording of every message is ``wil.spec.checks``'s; what is checked here is what only a run knows:
# the epochs it recorded, its layers and its seeds.

def _spans(values: list[int]) -> str:
    """[0, 1, 2, 3, 7, 8] -> "0-3, 7, 8": a long list of epochs stays short."""
    parts, start = [], None
    for i, value in enumerate(values):
        start = value if start is None else start
        if i + 1 == len(values) or values[i + 1] != value + 1:
            parts.append(f"{start}-{value}" if value - start >= 2 else ", ".join(map(str, range(start, value + 1))))
            start = None
    return ", ".join(parts)


def _epoch(name: str, value: object, recorded: list[int], what: str) -> int:
    """An integer ``value`` among the ``recorded`` epochs (of ``what``: "histograms", ...)."""
    epoch = check_int(name, value)
    if epoch not in recorded:
        raise ValueError(f"Invalid {name}: got {epoch}, but the {what} were recorded at epochs "
                         f"{_spans(recorded)}; choose one of those")
    return epoch


def _layers(name: str, value: object, depth: int) -> list[int]:
    """A layer or a collection of layers, each in 1..depth + 1 (the output layer), sorted without repeats."""
    if _integer(value):
        value = [value]
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ArgumentTypeError(f"Invalid {name}: expected a list of layer numbers, got {shown(value)}")
    layers = list(value)
    if not layers:
        raise ValueError(f"Invalid {name}: got an empty list; give at least one layer in 1..{depth + 1}, "
                         "or None for a spread of five")
    try:
        return sorted({check_int(name, layer, 1, depth + 1) for layer in layers})
    except ArgumentTypeError:
        raise
    except ValueError as error:  # out of range: say which layer is the output
        raise ValueError(f"{error} (1..{depth} hidden, {depth + 1} the output)") from None


def _integer(value: object) -> bool:
    """Whether ``check_int`` takes ``value`` as an integer (a bool or a float is not one)."""
    try:
        check_int("value", value)
    except ValueError:  # ArgumentTypeError included
        return False
    return True


def _seed(name: str, value: object, seeds: list[int]) -> int | None:
    """None (the first seed), or one of the run's ``seeds``."""
    if value is None:
        return None
    try:
        seed = check_int(name, value)
    except ArgumentTypeError:  # None is allowed too: say so
        raise ArgumentTypeError(f"Invalid {name}: expected an integer or None, got {shown(value)}") from None
    if seed not in seeds:
        raise ValueError(f"Invalid {name}: got {seed}, but this run's seeds are {seeds}")
    return seed


def _layer_epochs(result: "Result") -> list[int]:
    """The epochs of ``Result.layers``; ``ValueError`` if the run recorded none."""
    recorded = sorted(int(e) for e in result.layers["epoch"].unique())
    if not recorded:
        raise ValueError("This run recorded no per-layer statistics: it was trained with diagnostics=False")
    return recorded


def _classification(what: str, result: "Result") -> None:
    from wil.spec.datasets import DATASETS

    if DATASETS[result.config.dataset].task != "classification":
        raise ValueError(f"No {what}: the dataset {result.config.dataset!r} is a regression; "
                         "its history has a loss only (plot.loss())")


# ---------------------------------------------------------------- data

def inline_values(chart):
    """``chart`` with its data frames turned into inline values, so that Jupyter draws it whatever its size.

    Altair refuses to serialize a DataFrame of more than 5,000 rows (``MaxRowsError``) unless the user
    changes a global setting; a heatmap of a long run or a decision boundary passes that. The builders
    already aggregate, so the rows are what the chart needs: they are embedded as they are.
    """
    import pandas as pd
    from altair.utils.data import to_values
    from altair.utils.schemapi import debug_mode

    def walk(node):
        data = getattr(node, "data", alt.Undefined)
        if isinstance(data, pd.DataFrame):
            # Altair checks a new object against the schema row by row when it is made (7 s for 15,000 rows);
            # the whole chart is still checked, at a fraction of that, when it is drawn (``to_dict``).
            with debug_mode(False):
                node.data = alt.InlineData(values=to_values(data)["values"])
        for attribute in ("layer", "hconcat", "vconcat", "concat"):
            children = getattr(node, attribute, alt.Undefined)
            for child in [] if children is alt.Undefined else children:
                walk(child)
        spec = getattr(node, "spec", alt.Undefined)
        if spec is not alt.Undefined:
            walk(spec)

    walk(chart)
    return chart

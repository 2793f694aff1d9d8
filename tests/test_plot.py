"""``Result.plot``: one call per chart, the app's builder with the app's arguments, arguments checked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import altair as alt
import pandas as pd
import pytest

import wil
from wil import charts
from wil.charts.accessor import inline_values

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def result():
    """Moons, ReLU, 4 x 8, two initializers x two seeds, 10 epochs: histograms at epochs 0, 1, 3, 6, 10."""
    config = wil.Config(dataset="moons", n_samples=200, activation="relu", depth=4, width=8, epochs=10,
                        compare=("glorot_uniform", "he_normal"), n_seeds=2)
    return wil.compare(config)


def spec(chart) -> dict:
    """The Vega-Lite JSON of a chart with its data inlined (the form the accessor returns)."""
    return json.loads(inline_values(chart).to_json())


def test_each_chart_is_the_apps_builder_with_the_apps_arguments(result):
    """Mirrors wil_app/tabs.py: the same builder and arguments (the titles and scales of ``charts.VIEWS``)
give the same Vega-Lite spec."""
    theory = wil.theory_frame(result.config)
    cases = {
        "loss": (result.plot.loss(), charts.loss_curves(result.history, result.status)),
        "accuracy": (result.plot.accuracy(), charts.accuracy_curves(result.history, result.status)),
        "final_scores": (result.plot.final_scores(), charts.final_scores(result.status)),
        "activation_std": (result.plot.activation_std(epoch=0),
                           charts.activation_std_by_layer(result.layers, theory, epoch=0)),
        "activations": (result.plot.activations(epoch=3, layers=[1, 5], quantity="preactivation"),
                        charts.histogram_grid(result.histograms, quantity="preactivation", epoch=3, layers=[1, 5])),
        "gradients": (result.plot.gradients(epoch=6), charts.layer_profile(
            result.layers, "grad_norm", epoch=6, log=True, title="Gradient norm per layer",
            y_title="‖∂loss/∂W‖ (log scale)")),
        "gradient heatmap": (result.plot.heatmap("grad_norm"), charts.layer_heatmap(
            result.layers, "grad_norm", log=True, title="Gradient norm over training",
            color_title="‖∂loss/∂W‖")),
        "dead_units": (result.plot.dead_units(epoch=10), charts.layer_profile(
            result.layers, "dead_fraction", epoch=10, percent=True,
            title="Dead units (never fire on the training set)", y_title="Share of units (%)")),
        "distinct": (result.plot.dead_units(quantity="distinct_units"), charts.layer_profile(
            result.layers, "distinct_units", epoch=0, log=True, title="Distinct units per layer",
            y_title="Distinct units (log scale)")),
        "weights": (result.plot.weights(epoch=10, layers=[2]),
                    charts.histogram_grid(result.histograms, quantity="weight", epoch=10, layers=[2])),
        "weight_std": (result.plot.weight_std(epoch=1), charts.layer_profile(
            result.layers, "weight_std", epoch=1, log=True, title="Weight std per layer",
            y_title="Weight std (log scale)")),
        "boundary": (result.plot.boundary(seed=1), charts.decision_boundary(result.grid, result.points,
                                                                            result.status, seed=1)),
    }
    for name, (ours, apps) in cases.items():
        assert isinstance(ours, alt.TopLevelMixin), name
        assert spec(ours) == spec(apps), name


def test_default_layers_and_seed_are_the_apps(result):
    """Up to five hidden layers spread over the network and the first seed, as the app's controls start
    (``wil_app.tabs.layers_control``): here all four hidden layers, not the output."""
    default = spec(result.plot.activations())
    assert default == spec(charts.histogram_grid(result.histograms, quantity="activation", epoch=0,
                                                 layers=[1, 2, 3, 4], seed=0))
    assert default != spec(result.plot.activations(layers=[1, 2, 3, 4, 5]))


def test_activation_std_shows_the_theory_only_at_initialization(result):
    def sources(chart):
        drawn = spec(chart)  # Altair moves inline rows to "datasets", named by their hash
        return {row["source"] for row in drawn["datasets"][drawn["data"]["name"]]}

    assert sources(result.plot.activation_std(0)) == {"measured", "theory"}
    assert sources(result.plot.activation_std(10)) == {"measured"}


def test_dead_units_follow_the_activation_family():
    """ReLU: dead units; tanh: saturated ones; GELU (smooth, nothing dies or saturates): distinct units."""
    for activation, field in [("relu", "dead_fraction"), ("tanh", "saturated_fraction"), ("gelu", "distinct_units")]:
        config = wil.Config(dataset="moons", n_samples=100, activation=activation, depth=2, width=4, epochs=2)
        result = wil.train(config)
        title = spec(result.plot.dead_units())["title"]["text"]
        expected = spec(result.plot.profile(field))["title"]["text"]
        assert title == expected, activation


def test_a_big_chart_renders_without_altairs_row_limit(result):
    """The boundary holds 2 stages x 2 initializers x 1,600 grid cells + the points: past Altair's 5,000 rows,
    which would raise MaxRowsError in Jupyter; the accessor inlines the data, and the bundle Jupyter shows
    carries the chart."""
    chart = result.plot.boundary()
    assert len(chart.data.values) > 5000
    bundle = chart._repr_mimebundle_()
    bundle = bundle[0] if isinstance(bundle, tuple) else bundle
    assert any("vegalite" in mimetype or mimetype == "text/html" for mimetype in bundle)
    with pytest.raises(alt.MaxRowsError):  # the builder's own chart, under Altair's default setting
        charts.decision_boundary(result.grid, result.points, result.status).to_dict()


def test_bad_arguments_name_themselves(result):
    plot = result.plot
    cases = [
        (lambda: plot.activations(epoch=2), ValueError,
         r"Invalid epoch: got 2, but the histograms were recorded at epochs 0, 1, 3, 6, 10; choose one of those"),
        (lambda: plot.activation_std(epoch=11), ValueError,
         r"Invalid epoch: got 11, but the per-layer statistics were recorded at epochs 0-10"),
        (lambda: plot.gradients(epoch=1.0), TypeError, r"Invalid epoch: expected an integer, got 1.0"),
        (lambda: plot.weights(epoch=True), TypeError, r"Invalid epoch: expected an integer, got True"),
        (lambda: plot.heatmap("loss"), ValueError, r"Invalid quantity 'loss'; choose from \['act_mean', 'act_std', "),
        (lambda: plot.histograms("bias"), ValueError,
         r"Invalid quantity 'bias'; choose from \['activation', 'gradient', 'preactivation', 'weight'\]"),
        (lambda: plot.activations(quantity="weight"), ValueError,
         r"Invalid quantity 'weight'; choose from \['activation', 'preactivation'\]"),
        (lambda: plot.dead_units(quantity=None or 3), TypeError,
         r"Invalid quantity: expected one of \['dead_fraction', 'distinct_units', "),
        (lambda: plot.activations(layers=[0, 1]), ValueError,
         r"Invalid layers: expected an integer in \[1, 5\], got 0 \(1..4 hidden, 5 the output\)"),
        (lambda: plot.activations(layers=[]), ValueError, r"Invalid layers: got an empty list"),
        (lambda: plot.activations(layers="1,2"), TypeError, r"Invalid layers: expected a list of layer numbers"),
        (lambda: plot.activations(layers=[1.5]), TypeError,
         r"Invalid layers: expected an integer in \[1, 5\], got 1.5"),
        (lambda: plot.boundary(seed=7), ValueError, r"Invalid seed: got 7, but this run's seeds are \[0, 1\]"),
        (lambda: plot.weights(seed="0"), TypeError, r"Invalid seed: expected an integer or None"),
        (lambda: plot.loss(max_epochs=1), ValueError, r"Invalid max_epochs: expected an integer >= 2, got 1"),
    ]
    for call, error, message in cases:
        with pytest.raises(error, match=message):
            call()
    assert spec(plot.activations(layers=5)) == spec(plot.activations(layers=[5]))  # one layer as an int


def test_runs_without_what_a_chart_needs_are_told_so():
    regression = wil.train(wil.Config(dataset="diabetes", depth=1, width=4, epochs=2))
    with pytest.raises(ValueError, match="No accuracy: the dataset 'diabetes' is a regression"):
        regression.plot.accuracy()
    with pytest.raises(ValueError, match="No decision boundary: the dataset 'diabetes' does not have two"):
        regression.plot.boundary()
    bare = wil.train(wil.Config(dataset="moons", n_samples=100, depth=1, width=4, epochs=2), diagnostics=False)
    with pytest.raises(ValueError, match="recorded no per-layer statistics: it was trained with diagnostics=False"):
        bare.plot.activation_std()
    with pytest.raises(ValueError, match="recorded no histograms"):
        bare.plot.activations()
    bare.plot.loss().to_dict()  # what it did record still draws


def test_plot_imports_altair_only_when_used():
    code = ("import sys, wil; r = wil.train(wil.Config(n_samples=100, depth=1, width=4, epochs=2)); r.status;"
            "before = 'altair' in sys.modules; r.plot.loss(); print(before, 'altair' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


def test_a_loaded_result_plots_the_same(result, tmp_path):
    result.save(tmp_path / "run.zip")
    loaded = wil.load(tmp_path / "run.zip")
    assert spec(loaded.plot.activation_std()) == spec(result.plot.activation_std())
    pd.testing.assert_frame_equal(loaded.status, result.status, check_exact=True)


def test_one_table_of_views_covers_every_recorded_statistic():
    """``charts.VIEWS`` is the one source of the titles and scales: every per-layer statistic has a profile
    and a heatmap on the same scale, every histogram quantity a title, and each activation family a
    default view of the dead-units chart that is the profile of that quantity."""
    from wil.spec.layout import HISTOGRAM_QUANTITIES, LAYER_STATS

    views = charts.VIEWS
    assert set(views["profile"]) == set(views["heatmap"]) == set(LAYER_STATS)
    assert set(views["histograms"]) == set(HISTOGRAM_QUANTITIES)
    assert {activation.family for activation in wil.ACTIVATIONS.values()} <= set(views["dead_units"])
    for quantity, profile in views["profile"].items():
        heatmap = views["heatmap"][quantity]
        assert (profile.log, profile.percent) == (heatmap.log, heatmap.percent), quantity
        assert profile.value_title.startswith(heatmap.options["color_title"]), quantity
    for family, view in views["dead_units"].items():
        assert view is views["profile"][view.quantity], family
    assert views["profile"]["grad_norm"].options == dict(
        title="Gradient norm per layer", y_title="‖∂loss/∂W‖ (log scale)", log=True, percent=False)
    assert charts.QUANTITY_TITLES["gradient"] == views["histograms"]["gradient"].axis_title == "Weight gradient value"


def test_builders_read_the_views(result):
    """The titles a builder writes by itself (training curves, histograms, the activation spread) are the
    table's."""
    views = charts.VIEWS
    assert spec(result.plot.loss())["title"]["text"] == views["training"]["loss"].title
    assert spec(result.plot.accuracy())["title"]["text"] == views["training"]["accuracy"].title
    assert spec(result.plot.weights())["title"]["text"] == views["histograms"]["weight"].title
    assert spec(result.plot.activation_std())["title"]["text"] == views["profile"]["act_std"].title


def test_frames_need_no_altair():
    """The pandas steps before charting (``wil.charts.frames``) import no Altair."""
    code = "import sys, wil.charts.frames; print('altair' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"]

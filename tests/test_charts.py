"""Chart builders, checked through ``chart.to_dict()``: marks, fields, scales, colours; no Streamlit."""

import math

import altair as alt
import numpy as np
import pandas as pd
import pytest

import wil
from wil import charts
from wil_app.policy import POLICY

# A run small enough for a unit test that still shows every lesson: zeros stay symmetric, std 1 diverges.
SMALL = wil.Config(dataset="moons", n_samples=120, noise=0.2, depth=6, width=16, epochs=6,
                   compare=("zeros", "random_normal(std=1)", "he_normal"), n_seeds=2)
LABELS = list(SMALL.compare)


@pytest.fixture(scope="module")
def result():
    return wil.compare(SMALL)


@pytest.fixture(autouse=True)
def no_row_limit():
    with alt.data_transformers.disable_max_rows():
        yield


def nodes(spec):
    """Every dict in a spec, depth first."""
    if isinstance(spec, dict):
        yield spec
        for value in spec.values():
            yield from nodes(value)
    elif isinstance(spec, list):
        for value in spec:
            yield from nodes(value)


def views(spec):
    """Every unit view (a dict with a mark)."""
    return [node for node in nodes(spec) if "mark" in node and "encoding" in node]


def mark_type(view):
    return view["mark"] if isinstance(view["mark"], str) else view["mark"]["type"]


def marks(spec):
    return {mark_type(view) for view in views(spec)}


def rows(spec):
    """All data rows of a spec's datasets."""
    return [row for values in spec.get("datasets", {}).values() for row in values]


def color_scales(spec):
    """The scale of every colour encoding of the initializer field."""
    return [view["encoding"]["color"].get("scale") for view in views(spec)
            if view["encoding"].get("color", {}).get("field") == "initializer"]


def assert_consistent_colours(spec, labels=LABELS):
    scales = color_scales(spec)
    assert scales, "no initializer colour"
    for scale in scales:
        assert scale["domain"] == labels
        assert scale["range"] == charts.initializer_colors(labels)


def assert_finite(spec, fields):
    for row in rows(spec):
        for field in fields:
            if field in row and row[field] is not None:
                assert isinstance(row[field], (int, float)) and math.isfinite(row[field]), (field, row)


def assert_projector_fonts(spec):
    config = spec["config"]
    assert config["axis"]["labelFontSize"] >= 13 and config["axis"]["titleFontSize"] >= 15
    assert config["legend"]["labelFontSize"] >= 13 and config["title"]["fontSize"] >= 15
    assert spec["autosize"]["type"] == "pad"


def test_colour_scale_is_the_palette_in_comparison_order_for_unknown_labels():
    scale = charts.color_scale(["b", "a", "c"]).to_dict()
    assert scale == {"domain": ["b", "a", "c"], "range": list(charts.PALETTE[:3])}
    assert charts.color_of(["b", "a", "c"], "a") == charts.PALETTE[1]
    assert len(set(charts.PALETTE)) == len(charts.PALETTE) == POLICY.caps["compare"][1]


def test_an_initializer_has_its_colour_whatever_it_is_compared_with():
    demo = ["zeros", "random_normal(std=0.01)", "random_normal(std=1)", "glorot_uniform", "he_normal"]
    deep = ["glorot_uniform", "he_normal", "orthogonal", "lsuv"]
    tanh = ["random_normal(std=0.01)", "random_normal(std=1)", "glorot_uniform", "he_normal"]
    colours = [dict(zip(labels, charts.initializer_colors(labels))) for labels in (demo, deep, tanh)]
    for label in {*demo, *deep, *tanh}:
        assert len({c[label] for c in colours if label in c}) == 1, label
    assert len(set(colours[0].values())) == len(demo)
    assert charts.named_color("he_normal") == charts.NAMED_COLORS["he_normal"]
    assert charts.named_color("random_normal(std=0.02)") == charts.named_color("random_normal(std=0.01)")
    # every registered initializer has a colour of its own
    named = [charts.named_color(name) for name in wil.INITIALIZERS]
    assert None not in named and len(set(named)) == len(named)
    # a repeated name still gets a colour no other line of the comparison has
    twelve = ["he_normal", "he_normal(scale=2)", *list(wil.INITIALIZERS)[:10]]
    assert len(set(charts.initializer_colors(twelve))) == 12


def test_every_builder_uses_the_same_colour_per_initializer_and_big_fonts(result):
    built = [
        charts.loss_curves(result.history, result.status),
        charts.accuracy_curves(result.history, result.status),
        charts.final_scores(result.status),
        charts.activation_std_by_layer(result.layers, wil.theory_frame(SMALL)),
        charts.layer_profile(result.layers, "grad_norm", title="g", y_title="g", log=True),
        charts.histogram_grid(result.histograms),
    ]
    for chart in built:
        spec = chart.to_dict()
        assert_consistent_colours(spec)
        assert_projector_fonts(spec)


def test_loss_curves_log_scale_band_and_diverged_marker(result):
    assert result.status["diverged"].any(), "the fixture must contain a diverged network"
    spec = charts.loss_curves(result.history, result.status).to_dict()
    assert spec["facet"]["column"]["field"] == "split"
    assert {"line", "area", "point"} <= marks(spec)
    lines = [v for v in views(spec) if mark_type(v) == "line" and "tooltip" in v["encoding"]]
    assert lines[0]["encoding"]["x"]["field"] == "epoch" and lines[0]["encoding"]["x"]["title"] == "Epoch"
    y = lines[0]["encoding"]["y"]
    assert y["field"] == "median" and y["scale"]["type"] == "log" and "log scale" in y["title"]
    band = next(v for v in views(spec) if mark_type(v) == "area")
    assert band["encoding"]["y"]["field"] == "low" and band["encoding"]["y2"]["field"] == "high"
    # the diverged network: a triangle at the top of the axis, the exploded value in its tooltip
    marker = next(v for v in views(spec) if isinstance(v["mark"], dict) and v["mark"].get("shape") == "triangle-up")
    assert {t["field"] for t in marker["encoding"]["tooltip"]} >= {"epoch", "reason", "value"}
    diverged = [row for row in rows(spec) if row.get("kind") == "diverged"]
    n_diverged = int(result.status["diverged"].sum())
    assert len(diverged) == 2 * n_diverged  # train and test
    top = y["scale"].get("domainMax") or marker["encoding"]["y"]["scale"]["domainMax"]
    assert all(row["y"] == top for row in diverged)
    curves = [row for row in rows(spec) if row.get("kind") == "curve"]
    # the top is a decade above the networks that did not diverge: their curves fill the chart, and what
    # lies above it (a diverging network's last losses) is clamped to the edge
    kept = result.status[~result.status["diverged"]]["initializer"].astype(str).unique()
    assert top / 100 < max(row["high"] for row in curves if row["initializer"] in kept) < top
    assert y["scale"].get("clamp") or marker["encoding"]["y"]["scale"].get("clamp")
    assert_finite(spec, ["median", "low", "high", "y"])


def test_loss_curves_drop_inf_and_nan_and_band_over_seeds():
    history = pd.DataFrame({
        "initializer": pd.Categorical(["a"] * 6 + ["b"] * 6, categories=["a", "b"], ordered=True),
        "seed": [0, 0, 0, 1, 1, 1] * 2, "epoch": [0, 1, 2] * 4, "split": "train",
        "loss": [1.0, 0.5, 0.25, 2.0, 1.0, 0.5, 1.0, np.inf, np.nan, 1.0, 0.9, 0.8],
        "accuracy": 0.5,
    })
    history = pd.concat([history, history.assign(split="test")], ignore_index=True)
    spec = charts.loss_curves(history).to_dict()
    assert_finite(spec, ["median", "low", "high"])
    a0 = next(r for r in rows(spec) if r["initializer"] == "a" and r["epoch"] == 0 and r["split"] == "train")
    assert (a0["low"], a0["median"], a0["high"], a0["seeds"]) == (1.0, 1.5, 2.0, 2)
    b1 = next(r for r in rows(spec) if r["initializer"] == "b" and r["epoch"] == 1 and r["split"] == "train")
    assert b1["seeds"] == 1 and b1["median"] == 0.9  # the inf is gone, not averaged in


def test_accuracy_curves_linear_percent_axis(result):
    spec = charts.accuracy_curves(result.history, result.status).to_dict()
    line = next(v for v in views(spec) if mark_type(v) == "line")
    assert line["encoding"]["y"]["scale"]["domain"] == [0, 1]
    assert line["encoding"]["y"]["axis"]["format"] == ".0%"
    assert "triangle-up" not in str(spec)


def test_long_runs_are_thinned_for_the_browser():
    frame = pd.DataFrame({"epoch": np.arange(2001)})
    kept = charts.thin_epochs(frame, 200)["epoch"]
    assert len(kept) <= 200 and kept.iloc[0] == 0 and kept.iloc[-1] == 2000


def test_long_curves_reach_the_browser_thinned_with_fewer_hover_points():
    epochs = 1000
    history = pd.DataFrame([(label, 0, epoch, split, 1.0 / (1 + epoch), 0.5) for label in ("a", "b")
                            for epoch in range(epochs + 1) for split in ("train", "test")],
                           columns=["initializer", "seed", "epoch", "split", "loss", "accuracy"])
    spec = charts.loss_curves(history).to_dict()
    curves = [row for row in rows(spec) if row["kind"] == "curve"]
    per_line = len(curves) // 4  # 2 initializers x 2 splits
    assert per_line <= 200 and {0, epochs} <= {row["epoch"] for row in curves}  # first and last epoch kept
    tips = [row for row in curves if row["tip"]]
    assert len(tips) // 4 <= charts.TOOLTIP_EPOCHS and {0, epochs} <= {row["epoch"] for row in tips}
    assert "area" not in marks(spec)  # one seed: no band to draw
    # every chart is drawn on a canvas, without per-mark ARIA attributes
    assert spec["usermeta"]["embedOptions"]["renderer"] == "canvas" and spec["config"]["aria"] is False


def test_final_scores_and_status_table_mark_divergence(result):
    spec = charts.final_scores(result.status).to_dict()
    assert {"bar", "text"} <= marks(spec)
    texts = {row["initializer"]: row["text"] for row in rows(spec)}
    assert texts["random_normal(std=1)"].startswith("diverged") or "diverged" in texts["random_normal(std=1)"]
    assert texts["zeros"].endswith("%")
    table = charts.status_table(result.status)
    bad = table[table["Outcome"].str.contains("diverged")]
    assert len(bad) == int(result.status["diverged"].sum()) > 0
    assert bad["Diverged at epoch"].notna().all() and (bad["Cause"] != "").all()
    assert bad["Final train loss"].isna().all()  # no "final loss" for a network that blew up
    good = table[~table["Outcome"].str.contains("diverged")]
    assert (good["Cause"] == "").all() and good["Test accuracy"].between(0, 1).all()


def test_layer_profile_log_scale_with_theory_dashed(result):
    theory = wil.theory_frame(SMALL)
    spec = charts.activation_std_by_layer(result.layers, theory).to_dict()
    assert_consistent_colours(spec)
    line = next(v for v in views(spec) if mark_type(v) == "line")
    assert line["encoding"]["x"]["field"] == "layer" and "Layer" in line["encoding"]["x"]["title"]
    assert line["encoding"]["y"]["scale"]["type"] == "log"
    dashed = [v for v in views(spec) if isinstance(v["mark"], dict) and v["mark"].get("strokeDash")]
    assert dashed, "the theory curve is dashed"
    theory_rows = [row for row in rows(spec) if row.get("source") == "theory"]
    assert theory_rows and all(row["median"] > 0 for row in rows(spec))  # log axis: zeros dropped
    assert {row["initializer"] for row in theory_rows} == {"random_normal(std=1)", "he_normal"}
    # after training the prediction no longer applies
    later = charts.activation_std_by_layer(result.layers, theory, epoch=SMALL.epochs).to_dict()
    assert not any(row.get("source") == "theory" for row in rows(later))


def test_layer_profile_percent_scale(result):
    spec = charts.layer_profile(result.layers, "dead_fraction", epoch=0, title="Dead", y_title="Share (%)",
                                percent=True).to_dict()
    line = next(v for v in views(spec) if mark_type(v) == "line")
    assert line["encoding"]["y"]["scale"]["domain"] == [0, 1]
    assert {row["layer"] for row in rows(spec)} <= set(range(1, SMALL.depth + 1))  # no dead units on the output
    zeros = [row["median"] for row in rows(spec) if row["initializer"] == "zeros"]
    assert zeros and all(value == 1.0 for value in zeros)  # all-zero ReLU units never fire


def test_distinct_units_show_symmetry(result):
    spec = charts.layer_profile(result.layers, "distinct_units", epoch=0, title="d", y_title="d").to_dict()
    zeros = {row["layer"]: row["median"] for row in rows(spec) if row["initializer"] == "zeros"}
    he = {row["layer"]: row["median"] for row in rows(spec) if row["initializer"] == "he_normal"}
    assert set(zeros.values()) == {1}
    assert he[1] == SMALL.width


def test_heatmap_log_colour_with_grey_zeros(result):
    spec = charts.layer_heatmap(result.layers, "grad_norm", title="Gradient norm", color_title="norm",
                                log=True).to_dict()
    assert spec["facet"]["field"] == "initializer" and spec["facet"]["sort"] == LABELS
    rects = [v for v in views(spec) if mark_type(v) == "rect"]
    coloured = next(v for v in rects if "color" in v["encoding"])
    assert coloured["encoding"]["color"]["scale"]["type"] == "log"
    assert coloured["encoding"]["x"]["field"] == "epoch" and coloured["encoding"]["x2"]["field"] == "epoch_end"
    assert coloured["encoding"]["y"]["field"] == "layer"
    assert any(v["mark"].get("color") == "#C8C8C8" for v in rects)  # exactly zero: grey
    zero_rows = [row for row in rows(spec) if row["zero"]]
    assert zero_rows and {row["initializer"] for row in zero_rows} >= {"zeros"}
    assert_finite(spec, ["median"])


def test_histogram_grid_prebinned_small_multiples(result):
    spec = charts.histogram_grid(result.histograms, quantity="activation", epoch=0, layers=[1, 3, 6]).to_dict()
    columns = spec["hconcat"]
    assert [column["title"]["text"] for column in columns] == LABELS
    for column in columns:
        view = column["spec"]
        assert mark_type(view) == "bar"
        x = view["encoding"]["x"]
        assert x["field"] == "bin_left" and x["bin"] == "binned" and view["encoding"]["x2"]["field"] == "bin_right"
        assert view["encoding"]["y"]["field"] == "share"
        assert column["facet"]["row"]["field"] == "layer_name"
    data = pd.DataFrame(rows(spec))
    assert set(data["layer_name"]) == {"layer 1", "layer 3", "layer 6"}
    shares = data.groupby(["initializer", "layer_name"])["share"].sum()
    assert np.allclose(shares, 1.0)
    # each layer on its own recorded edges (its own range), drawn on its column's one x axis (no independent
    # scale), so the layers of a column are comparable and a vanished layer still keeps its shape
    assert "resolve" not in spec and all("resolve" not in column for column in columns)
    recorded = result.histograms[(result.histograms["epoch"] == 0) & (result.histograms["quantity"] == "activation")]
    for (label, layer_name), bars in data.groupby(["initializer", "layer_name"]):
        layer = int(layer_name.split()[-1])
        own = recorded[(recorded["initializer"].astype(str) == label) & (recorded["layer"] == layer)
                       & (recorded["seed"] == recorded["seed"].min())]
        assert np.isclose(bars["bin_left"].min(), own["bin_left"].min())
        assert np.isclose(bars["bin_right"].max(), own["bin_right"].max())


def test_histogram_grid_leaves_out_networks_that_diverged(result):
    last = SMALL.epochs
    spec = charts.histogram_grid(result.histograms, quantity="weight", epoch=last).to_dict()
    titles = [column["title"]["text"] for column in spec["hconcat"]]
    assert "random_normal(std=1)" not in titles and "he_normal" in titles
    assert "diverged" in " ".join(spec["title"]["subtitle"])


def test_decision_boundary_grid_points_and_notes(result):
    spec = charts.decision_boundary(result.grid, result.points, result.status).to_dict()
    assert spec["facet"]["column"]["field"] == "initializer" and spec["facet"]["column"]["sort"] == LABELS
    assert spec["facet"]["row"]["field"] == "stage"
    assert {"rect", "circle", "text"} <= marks(spec)
    data = pd.DataFrame(rows(spec))
    cells = data[data["kind"] == "cell"]
    assert len(cells) <= 2 * len(LABELS) * 40 * 40  # one seed, epochs 0 and last, a 40 x 40 grid
    assert set(cells["class"]) <= {"class 0", "class 1"}
    points = data[data["kind"] == "point"]
    assert len(points) == len(result.points) * len(LABELS) * 2
    notes = data[data["kind"] == "note"]
    assert notes["note"].str.contains("diverged").any()
    assert notes["note"].str.contains("test accuracy").any()
    rect = next(v for v in views(spec) if mark_type(v) == "rect")
    assert rect["encoding"]["opacity"]["field"] == "probability"


def test_pick_layers_spreads_evenly():
    assert charts.pick_layers(3) == [1, 2, 3]
    assert charts.pick_layers(9) == [1, 3, 5, 7, 9]
    assert charts.pick_layers(50, 5)[0] == 1 and charts.pick_layers(50, 5)[-1] == 50


def test_theme_is_registered():
    assert "wil" in alt.theme.names()
    assert alt.theme.active != "wil"  # importing charts changes nothing; builders carry their own config
    assert charts.theme()["config"]["axis"]["labelFontSize"] >= 13


def test_many_initializers_wrap_into_rows():
    """The decision boundary in rows of six; the histograms, whose columns carry an axis each, in balanced
    rows of at most five (eight: two rows of four)."""
    names = ("zeros", "constant", "random_normal", "random_uniform", "truncated_normal", "glorot_uniform",
             "he_normal", "lecun_normal")
    run = wil.compare(wil.Config(dataset="moons", n_samples=40, depth=2, width=4, epochs=2, compare=names))
    boundary = charts.decision_boundary(run.grid, run.points, run.status).to_dict()
    assert [block["facet"]["column"]["sort"] for block in boundary["vconcat"]] == [list(names[:6]), list(names[6:])]
    histograms = charts.histogram_grid(run.histograms).to_dict()
    assert [len(row["hconcat"]) for row in histograms["vconcat"]] == [4, 4]
    for spec in (boundary, histograms):
        assert_consistent_colours(spec, list(names)) if color_scales(spec) else None


def test_long_labels_break_into_lines_that_fit_and_keep_every_character():
    from wil.charts.style import wrapped

    assert wrapped("he_normal", 110) == "he_normal"  # fits: one string
    for label in ("random_normal(std=0.01)", "truncated_normal(std=0.05, scale=2)", "lsuv(tol=0.1, max_iter=10)"):
        lines = wrapped(label, 110)
        assert isinstance(lines, list) and len(lines) >= 2
        assert "".join(lines).replace(" ", "") == label.replace(" ", "")  # broken, never changed
        assert all(not line.startswith(" ") for line in lines)
        assert all(len(line) <= 110 / (0.6 * 15) or "(" not in line[1:] and "," not in line[:-1] for line in lines)
    assert wrapped("random_normal(std=0.01)", 110) == ["random_normal", "(std=0.01)"]


def test_the_decision_boundary_headers_and_histogram_titles_break_only_when_narrow():
    def build(names):
        run = wil.compare(wil.Config(dataset="moons", n_samples=40, depth=2, width=4, epochs=2, compare=names))
        return (charts.decision_boundary(run.grid, run.points, run.status).to_dict(),
                charts.histogram_grid(run.histograms).to_dict())

    boundary, histograms = build(("random_normal(std=0.01)", "he_normal"))  # two wide panels: whole labels
    assert boundary["facet"]["column"]["header"]["labelExpr"] == "datum.label"
    assert [column["title"]["text"] for column in histograms["hconcat"]] == ["random_normal(std=0.01)", "he_normal"]

    names = ("random_normal(std=0.01)", "he_normal", "zeros", "glorot_uniform", "lecun_normal")
    boundary, histograms = build(names)  # five narrow panels: the long label in two lines
    expression = boundary["facet"]["column"]["header"]["labelExpr"]
    assert 'datum.value === "random_normal(std=0.01)" ? ["random_normal", "(std=0.01)"]' in expression
    assert "he_normal" not in expression
    titles = [column["title"]["text"] for column in histograms["hconcat"]]
    assert titles == [["random_normal", "(std=0.01)"], *names[1:]]


def test_presenter_mode_enlarges_text_and_narrows_legends_of_every_builder(result):
    for chart in (charts.loss_curves(result.history, result.status),
                  charts.decision_boundary(result.grid, result.points, result.status),  # > 5,000 rows
                  charts.histogram_grid(result.histograms, log_magnitude=True)):
        import altair as alt

        with alt.data_transformers.disable_max_rows():
            spec = charts.presenter(chart).to_dict()
        assert spec["config"]["axis"]["labelFontSize"] >= 16 and spec["config"]["title"]["fontSize"] >= 20
        assert all(columns <= 3 for columns in _legend_columns(spec))


def _legend_columns(node):
    if isinstance(node, dict):
        if isinstance(node.get("legend"), dict) and "columns" in node["legend"]:
            yield node["legend"]["columns"]
        for value in node.values():
            yield from _legend_columns(value)
    elif isinstance(node, list):
        for value in node:
            yield from _legend_columns(value)


# ------------------------------------------------------------ fitting a narrower column (fit_width)

WIDE = wil.Config(dataset="moons", n_samples=120, noise=0.2, depth=4, width=8, epochs=4, compare=(
    "zeros", "random_normal(std=0.01)", "random_normal(std=1)", "glorot_uniform", "he_normal", "lecun_normal",
    "orthogonal", "he_uniform", "glorot_normal", "lecun_uniform", "random_uniform(limit=0.5)", "truncated_normal"))
FITTED = {
    "loss": lambda r, **o: charts.loss_curves(r.history, r.status, **o),
    "accuracy": lambda r, **o: charts.accuracy_curves(r.history, r.status, **o),
    "final_scores": lambda r, **o: charts.final_scores(r.status, **o),
    "activation_std": lambda r, **o: charts.activation_std_by_layer(r.layers, **o),
    "profile": lambda r, **o: charts.layer_profile(r.layers, "grad_norm", title="Gradient norm per layer",
                                                   y_title="norm", log=True, **o),
    "heatmap": lambda r, **o: charts.layer_heatmap(r.layers, "dead_fraction", title="Dead units",
                                                   color_title="Share of units", percent=True, **o),
    "histograms": lambda r, **o: charts.histogram_grid(r.histograms, **o),
    "boundary": lambda r, **o: charts.decision_boundary(r.grid, r.points, r.status, **o),
}


@pytest.fixture(scope="module")
def twelve():
    return wil.compare(WIDE)


def rendered_width(chart) -> float:
    """The chart's whole width in px as Vega lays it out, text measured (vl-convert renders it to SVG)."""
    import re

    import vl_convert

    svg = vl_convert.vegalite_to_svg(chart.to_dict())
    return float(re.search(r'<svg[^>]*\swidth="([0-9.]+)"', svg).group(1))


@pytest.mark.slow
@pytest.mark.parametrize("name", list(FITTED))
def test_a_chart_fits_a_narrow_column_and_keeps_its_size_otherwise(twelve, name):
    build = FITTED[name]
    full = build(twelve)
    assert build(twelve, fit_width=None).to_dict() == full.to_dict()  # None: the chart as it was
    assert rendered_width(full) > 640  # sized for a 1280 px screen beside the sidebar: too wide for 1024
    narrow = build(twelve, fit_width=600)  # a 1024 px screen beside the open sidebar leaves ~620 px
    assert rendered_width(narrow) <= 600, name
    spec = narrow.to_dict()
    for node in nodes(spec):  # legends in as many columns as fit; the title's lines wrapped
        if isinstance(node.get("legend"), dict) and "columns" in node["legend"]:
            assert node["legend"]["columns"] <= 2
    subtitle = spec.get("title", {}).get("subtitle", [])
    assert all(len(line) <= (600 - 40) / 7 for line in ([subtitle] if isinstance(subtitle, str) else subtitle))


def test_fitting_keeps_what_a_chart_says(twelve):
    """Narrower, never less: the same data, initializers and title lines (only broken differently)."""
    full, narrow = (charts.loss_curves(twelve.history, twelve.status, fit_width=w).to_dict() for w in (None, 600))
    assert full["datasets"] == narrow["datasets"]
    assert " ".join(full["title"]["subtitle"]).split() == " ".join(narrow["title"]["subtitle"]).split()

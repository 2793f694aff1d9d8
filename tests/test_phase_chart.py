"""The phase diagram chart: shares per cell, cell edges, the theory's curve and critical rule."""

import numpy as np
import pandas as pd
import pytest

import wil

from wil import charts
from wil.analysis.theory import critical_sigma_w2, phase_frame
from wil.charts.phase import phase_cells


def frame():
    rows = []
    for sigma_w2 in (1.0, 2.0, 3.0):
        for depth in (10, 20):
            for seed in (0, 1, 2, 3):
                rows.append({"sigma_w2": sigma_w2, "depth": depth, "seed": seed,
                             "trainable": seed < {1.0: 1, 2.0: 4, 3.0: 2}[sigma_w2] and depth == 10 or sigma_w2 == 2.0})
    return pd.DataFrame(rows)


def layer_data(spec, index):
    data = spec["layer"][index].get("data", spec.get("data"))  # Altair lifts a lone layer's data to the top
    return spec["datasets"][data["name"]]


def test_heatmap_shares_and_cells():
    spec = charts.phase_diagram(frame()).to_dict()
    cells = pd.DataFrame(layer_data(spec, 0)).sort_values(["sigma_w2", "depth"])
    assert cells["share"].tolist() == [0.25, 0.0, 1.0, 1.0, 0.5, 0.0]
    assert cells["networks"].tolist() == [4] * 6
    # cells meet halfway between grid values, and extend half a step beyond the ends
    assert sorted(set(cells["x_low"])) == [0.5, 1.5, 2.5] and sorted(set(cells["x_high"])) == [1.5, 2.5, 3.5]
    assert sorted(set(cells["y_low"])) == [5.0, 15.0]
    assert len(spec["layer"]) == 1  # no theory given


def test_a_refined_columns_cells_reach_halfway_to_its_own_depths():
    """A refined sweep tries other depths in each column (``wil.sweep(..., refine=True)``): each cell spans
    halfway to its own column's neighbours, so no column has gaps where another was refined."""
    rows = [{"sigma_w2": s, "depth": d, "trainable": True} for s, depths in {1.0: [8, 16, 24], 2.0: [8, 12, 16, 24]}
            .items() for d in depths]
    cells = phase_cells(pd.DataFrame(rows)).sort_values(["sigma_w2", "depth"])
    edges = cells[["sigma_w2", "depth", "y_low", "y_high"]].values.tolist()
    assert edges == [[1.0, 8, 4.0, 12.0], [1.0, 16, 12.0, 20.0], [1.0, 24, 20.0, 28.0],
                     [2.0, 8, 6.0, 10.0], [2.0, 12, 10.0, 14.0], [2.0, 16, 14.0, 20.0], [2.0, 24, 20.0, 28.0]]


def test_theory_curve_and_critical_rule():
    critical = critical_sigma_w2("tanh", 0.05)
    theory = phase_frame("tanh", 0.05, np.linspace(1.0, 3.0, 9))
    spec = charts.phase_diagram(frame(), theory=theory, critical=critical, c=6.0).to_dict()
    assert len(spec["layer"]) == 3
    curve = pd.DataFrame(layer_data(spec, 1))
    finite = theory[np.isfinite(theory["xi_c"])]
    assert curve["depth_scale"].tolist() == pytest.approx((6.0 * finite["xi_c"]).tolist())
    assert set(curve["side"]) == {"ordered", "chaotic"}  # two branches, not joined across the critical line
    assert layer_data(spec, 2)[0]["sigma_w2"] == pytest.approx(critical)
    assert spec["layer"][1]["mark"]["clip"] is True


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="Invalid column 'width'"):
        charts.phase_diagram(frame(), y="width")
    with pytest.raises(ValueError, match="Invalid axis 'activation': the phase diagram needs numeric axes"):
        charts.phase_diagram(frame().assign(activation="tanh"), x="activation")


def test_trainable_depth_draws_the_theory_alone():
    """The phase page's theory chart (``charts.trainable_depth``): c xi_c where finite, coloured by phase, and
    the edge of chaos as a rule; without ``critical``, no rule."""
    critical = critical_sigma_w2("tanh", 0.05)
    theory = phase_frame("tanh", 0.05, np.linspace(1.0, 3.0, 9))
    spec = charts.trainable_depth(theory, critical).to_dict()
    assert spec["title"]["text"] == "Theory: the trainable depth" and spec["width"] == 380
    curve = pd.DataFrame(layer_data(spec, 0))
    finite = theory[np.isfinite(theory["xi_c"])]
    assert curve["depth_scale"].tolist() == pytest.approx((6.0 * finite["xi_c"]).tolist())
    from wil.charts.phase import REGIONS

    assert set(curve["region"]) == set(REGIONS)
    assert layer_data(spec, 1)[0]["sigma_w2"] == pytest.approx(critical)
    assert len(charts.trainable_depth(theory, None).to_dict()["layer"]) == 1
    assert charts.trainable_depth(theory, critical, fit_width=300).to_dict()["width"] < 380


def _phase_fit():
    """docs/phase_fit.py, the script that fits the shipped sweeps, as a module."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "docs" / "phase_fit.py"
    spec = importlib.util.spec_from_file_location("phase_fit", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, path.parent


def test_free_fit_recovers_a_planted_slope_and_refits_the_shipped_sweep():
    import wil

    fit, docs = _phase_fit()
    # planted: trainable up to 3 xi_c exactly, on a grid of every depth, three seeds: beta = 1, c = 3
    rows = [{"sigma_w2": s, "depth": d, "seed": seed, "trainable": d <= 3 * xi}
            for s in (1.0, 1.25, 3.0, 4.0) for xi in [wil.theory.mean_field("tanh", s, 0.05).xi_c]
            for d in range(1, 80) for seed in range(3)]
    planted = pd.DataFrame(rows)
    c, table = fit.fit(planted, "tanh", 0.05)
    a, beta = fit.free_fit(table)
    # the boundary is the integer depth under 3 xi_c (10 for 10.9): c a little under 3, beta within 0.1 of 1
    assert c == pytest.approx(3.0, rel=0.08) and beta == pytest.approx(1.0, abs=0.1)
    # the shipped sweep: the slope issue 19 measured (0.43 +- 0.11), and 1 (c xi_c) outside its interval
    boot = fit.bootstrap(pd.read_parquet(docs / "phase_sweep.parquet"), "tanh", 0.05, n=400)
    assert boot["beta"] == pytest.approx(0.43, abs=0.01) and boot["c"] == pytest.approx(2.98, abs=0.01)
    assert boot["mode"] == "columns" and boot["beta_ci"][0] > 0 and boot["beta_ci"][1] < 1
    assert np.isfinite(boot["a_ci"]).all()


def test_the_reduced_protocol_run_refits_to_what_phase_diagram_md_says():
    """docs/phase_protocol_small.parquet (the schoenholz2017 preset, three sigma_w2 columns to depth 48):
    the best rate per depth, one uncensored column (sigma_w2 = 4, boundary 32), c = 32 / xi_c = 4.58 and
    its bootstrap interval 4.58-6.36, as docs/PHASE_DIAGRAM.md states."""
    fit, docs = _phase_fit()
    path = docs / "phase_protocol_small.parquet"
    frame = fit.protocol_rows(pd.read_parquet(path), str(path))
    assert len(frame) == 45 and frame.groupby(["sigma_w2", "depth"]).size().eq(3).all()  # one rate, 3 seeds
    c, table = fit.fit(frame, "tanh", 0.05)
    used = table[table["used"]]
    assert list(used["sigma_w2"]) == [4.0] and list(used["boundary"]) == [32]
    assert c == pytest.approx(4.58, abs=0.01)
    boot = fit.bootstrap(frame, "tanh", 0.05, n=400)
    assert boot["c_ci"][0] == pytest.approx(4.58, abs=0.01) and boot["c_ci"][1] == pytest.approx(6.36, abs=0.05)


def test_the_larger_protocol_run_refits_to_what_phase_diagram_md_says():
    """docs/phase_protocol.parquet (five sigma_w2 columns to depth 96, then refined by bisection): every
    boundary placed within the protocol's xi_c / 2, the fits the page states (c = 9.50 with the slope fixed,
    a free slope of 0.65 whose interval holds 1), and at an eighth of the steps a slope of 1.16 with c = 5.28."""
    fit, docs = _phase_fit()
    path = docs / "phase_protocol.parquet"
    stored = pd.read_parquet(path)
    assert len(stored) == 477 and stored[["sigma_w2", "depth"]].drop_duplicates().shape[0] == 53
    frame = fit.protocol_rows(stored, str(path))
    assert len(frame) == 159
    c, table = fit.fit(frame, "tanh", 0.05)
    assert dict(zip(table["sigma_w2"], table["boundary"])) == {1.0: 48, 1.25: 80, 2.5: 112, 3.0: 72, 4.0: 46}
    assert table["used"].all()  # every column has its boundary inside the grid
    placed = wil.trainability.brackets(frame)
    steps = (placed["failed"] - placed["boundary"]) / table["xi_c"]
    assert (steps <= 0.5).all() and steps.max() == pytest.approx(0.442, abs=0.001)  # the protocol's depth step
    assert wil.trainability.next_depths(frame, fit.stored_config(str(path))) == {}  # nothing left to refine
    assert c == pytest.approx(9.50, abs=0.01)
    boot = fit.bootstrap(frame, "tanh", 0.05, n=400)
    assert boot["beta"] == pytest.approx(0.65, abs=0.01) and boot["beta_ci"][0] < 1 < boot["beta_ci"][1]
    # the boundary against the step budget: c and the free slope per budget, as the page states
    curve = fit.budget_curve(stored, str(path), "tanh", 0.05)
    fits = curve.groupby("steps")[["c", "beta"]].first()
    assert fits.index.tolist() == [374, 748, 1496, 3003]
    assert fits["c"].round(2).tolist() == pytest.approx([5.28, 5.99, 7.66, 9.50], abs=0.01)
    assert fits["beta"].round(2).tolist() == pytest.approx([1.16, 0.80, 0.90, 0.65], abs=0.01)
    shortest = curve[curve["steps"] == 374].set_index("sigma_w2")["boundary"]
    assert shortest.to_dict() == {1.0: 16, 1.25: 48, 2.5: 64, 3.0: 48, 4.0: 32}


def test_budget_curve_chart_draws_each_boundary_and_the_constant_with_its_interval():
    curve = pd.DataFrame({"steps": [375, 375, 3000, 3000], "sigma_w2": [1.0, 4.0, 1.0, 4.0],
                          "boundary": [16.0, np.nan, 48.0, 96.0], "censored": ["", "none trainable", "",
                                                                             "all trainable (boundary deeper)"],
                          "c": [2.0, 2.0, 7.5, 7.5], "c_low": [1.5, 1.5, 7.0, 7.0], "c_high": [2.5, 2.5, 8.0, 8.0]})
    spec = charts.budget_curve(curve, c=6.0).to_dict()
    depth, constant = spec["hconcat"]
    def data(panel, index):
        return spec["datasets"][panel["layer"][index].get("data", panel.get("data"))["name"]]

    points = pd.DataFrame(data(depth, 1))
    # the column with no boundary at 375 steps is left out; the censored one is marked as such
    assert points[["steps", "boundary", "kind"]].values.tolist() == [
        [375, 16.0, "boundary"], [3000, 48.0, "boundary"], [3000, 96.0, "censored: deeper than the grid"]]
    fits = pd.DataFrame(data(constant, 0))
    assert fits[["steps", "c", "c_low", "c_high"]].values.tolist() == [[375, 2.0, 1.5, 2.5], [3000, 7.5, 7.0, 8.0]]
    assert data(constant, 2) == [{"c": 6.0}]  # the paper's constant
    assert depth["layer"][0]["encoding"]["x"]["scale"]["type"] == "log"
    with pytest.raises(ValueError, match="Invalid column 'c_low'"):
        charts.budget_curve(curve.drop(columns="c_low"))
    # a column too narrow for both panels and their titles: one above the other, each fitted to it
    narrow = charts.budget_curve(curve, fit_width=640).to_dict()
    assert "hconcat" not in narrow and len(narrow["vconcat"]) == 2
    assert all(panel["width"] <= 640 - 110 for panel in narrow["vconcat"])


def test_the_breast_cancer_protocol_run_and_its_budget_curve_refit_to_what_phase_diagram_md_says():
    """docs/phase_protocol_breast_cancer.parquet (the second dataset, four sigma_w2 columns to depth 96):
    the boundaries, c = 11.0 (9.5-11.0) and beta = 0.44, and the boundary against the step budget the page
    states: c from 9.1 at 376 steps to 11.0 at 3,000, sigma_w2 = 1.25's boundary from 64 to beyond 96."""
    fit, docs = _phase_fit()
    path = docs / "phase_protocol_breast_cancer.parquet"
    stored = pd.read_parquet(path)
    frame = fit.protocol_rows(stored, str(path))
    assert len(frame) == 72
    c, table = fit.fit(frame, "tanh", 0.05)
    assert dict(zip(table["sigma_w2"], table["boundary"])) == {1.0: 48, 1.25: 96, 3.0: 96, 4.0: 64}
    assert list(table.loc[table["used"], "sigma_w2"]) == [1.0, 4.0]
    boot = fit.bootstrap(frame, "tanh", 0.05)
    assert boot["c"] == pytest.approx(11.02, abs=0.01) and boot["c_ci"] == pytest.approx((9.50, 11.02), abs=0.01)
    assert boot["beta"] == pytest.approx(0.44, abs=0.01)
    curve = fit.budget_curve(stored, str(path), "tanh", 0.05)
    fits = curve.groupby("steps")["c"].first()
    assert fits.index.tolist() == [376, 752, 1500, 3000]
    assert fits.round(2).tolist() == pytest.approx([9.13, 9.13, 10.45, 11.02], abs=0.01)
    at_125 = curve[curve["sigma_w2"] == 1.25].set_index("steps")
    assert at_125.loc[1500, "boundary"] == 64 and at_125.loc[3000, "censored"] != ""

"""Histograms binned once, correctly: the chart draws the core's bins, and re-bins only by exact overlap.

The old chart re-binned each bar by its centre onto common edges, which aliased: a smooth N(0, 1) layer
showed adjacent bars of 3,493 | 9,713 | 6,133. Here the chart's bars are compared with np.histogram of the
same values, and the overlap re-binning with what np.histogram gives on the new edges.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import wil
from wil import charts
from wil.charts.histograms import rebin
from wil.engine.statistics import histograms

from test_buffered import epoch_zero_values, assert_np_histogram


def chart_bars(chart) -> pd.DataFrame:
    """Every bar the chart draws: its data sets, concatenated."""
    spec = chart.to_dict()
    frames = [pd.DataFrame(rows) for rows in spec.get("datasets", {}).values()]
    return pd.concat(frames, ignore_index=True)


def test_the_charts_bars_are_np_histogram_of_the_layers_values():
    config = wil.Config(dataset="moons", n_samples=400, depth=3, width=16, epochs=2)
    result = wil.compare(config, ["he_normal", ("random_normal", {"std": 0.01})], [0])
    bars = chart_bars(charts.histogram_grid(result.histograms, quantity="activation", epoch=0))
    from wil.spec.layout import HISTOGRAM_ROWS

    for label in ("he_normal", "random_normal(std=0.01)"):
        values = epoch_zero_values(config, label, 0, HISTOGRAM_ROWS)
        mine = bars[bars["initializer"] == label]
        for layer in (1, 2, 3):
            rows = mine[mine["layer_name"] == f"layer {layer}"].sort_values("bin_left")
            edges = np.append(rows["bin_left"].to_numpy(), rows["bin_right"].to_numpy()[-1])
            assert_np_histogram(rows["count"].to_numpy(), edges, values[layer]["activation"])


def test_rebinning_by_overlap_keeps_counts_and_does_not_alias():
    values = np.random.default_rng(0).standard_normal(20_000)
    counts, left, right = histograms(values[None], n_bins=30)
    target = np.linspace(-4.2, 4.3, 31)  # edges that do not line up with the source's
    moved = rebin(left[0], right[0], counts[0], target)
    assert moved.sum() == pytest.approx(counts[0].sum())
    exact, _ = np.histogram(values, bins=target)
    # overlap spreads a bin's count evenly over it: off by at most the counts of the two source bins a
    # target bin straddles, a smooth curve, never the alternating spikes of centre re-binning
    assert np.abs(moved - exact).max() < 0.06 * exact.max()
    middle = moved[10:20]
    assert (np.abs(np.diff(middle)) < 0.25 * middle.max()).all()


def test_rebinning_onto_a_coarsening_is_exact():
    values = np.random.default_rng(1).standard_normal(5_000)
    counts, left, right = histograms(values[None], n_bins=30)
    coarse = np.append(left[0, ::3], right[0, -1])  # every third edge
    np.testing.assert_allclose(rebin(left[0], right[0], counts[0], coarse), counts[0].reshape(10, 3).sum(axis=1))


def test_a_shared_axis_puts_every_initializer_on_one_set_of_edges():
    config = wil.Config(dataset="moons", n_samples=200, depth=2, width=8, epochs=2)
    result = wil.compare(config, ["he_normal", ("random_normal", {"std": 0.01})], [0])
    bars = chart_bars(charts.histogram_grid(result.histograms, quantity="weight", epoch=0, shared_x=True))
    edges = {label: tuple(np.round(group.sort_values("bin_left")["bin_left"].unique(), 12))
             for label, group in bars.groupby("initializer")}
    assert len(set(edges.values())) == 1
    total = result.histograms[(result.histograms["quantity"] == "weight") & (result.histograms["epoch"] == 0)]
    assert bars["count"].sum() == pytest.approx(total["count"].sum())

"""Partial results while a run trains (``wil.compare(live=...)``) and more recorded snapshots
(``snapshots=``): what the app's live charts and its play control rest on."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

import wil

CONFIG = wil.Config(dataset="moons", n_samples=120, noise=0.2, depth=3, width=8, epochs=40, learning_rate=0.1,
                    compare=("zeros", "he_normal"), n_seeds=2)


def test_live_sees_growing_partial_results_that_agree_with_the_final_one():
    partials = []
    final = wil.compare(CONFIG, live=partials.append, live_every=1e-9)  # every epoch
    assert len(partials) >= CONFIG.epochs - 2
    epochs = [p.stopped_epoch for p in partials]
    assert epochs == sorted(epochs) and epochs[-1] < CONFIG.epochs  # before the end
    for partial in partials[:: max(1, len(partials) // 5)]:
        last = partial.stopped_epoch
        assert partial.history["epoch"].max() == last
        # the epochs a partial result holds are the final result's, to the bit: the same arrays
        expected = final.history[final.history["epoch"] <= last].reset_index(drop=True)
        pd.testing.assert_frame_equal(partial.history, expected)
        assert set(partial.histograms["epoch"]) <= set(final.histograms["epoch"]) | {last}
        assert set(partial.grid["epoch"]) <= {e for e in final.grid["epoch"].unique() if e <= last}
        assert len(partial.verdicts()) == CONFIG.n_networks()  # a partial result is a whole Result
    assert final.stopped_epoch is None


def test_live_may_stop_the_run_and_the_result_keeps_what_trained():
    def stop_at_ten(partial):
        if partial.stopped_epoch >= 10:
            raise wil.StopTraining

    result = wil.compare(CONFIG, live=stop_at_ten, live_every=1e-9)
    # stopped after the epoch in progress: the record of epoch 11 is the last
    assert result.stopped_epoch == 11
    assert result.history["epoch"].max() == 11
    assert result.stopped_epoch in set(result.histograms["epoch"]) and result.stopped_epoch in set(result.grid["epoch"])
    full = wil.compare(CONFIG)
    np.testing.assert_array_equal(result.history["loss"].to_numpy(),
                                  full.history[full.history["epoch"] <= 11]["loss"].to_numpy())


def test_live_share_bounds_the_time_live_views_take():
    """With ``live_share=0.1`` each view is followed by at least 9x its cost: a callable that takes 20 ms
    (as drawing charts does) is called at most once per 0.2 s of training, and the run's result is the
    same as without it."""
    import time

    config = wil.Config(dataset="moons", n_samples=200, depth=4, width=16, epochs=3000, compare=("he_normal",))
    stamps = []

    def slow(partial):
        stamps.append(time.perf_counter())
        time.sleep(0.02)

    start = time.perf_counter()
    bounded = wil.compare(config, live=slow, live_every=1e-9, live_share=0.1)
    elapsed = time.perf_counter() - start
    assert len(stamps) >= 2
    gaps = np.diff(stamps)
    assert gaps.min() >= 9 * 0.02  # never sooner than nine times the 20 ms the view took
    assert len(stamps) * 0.02 <= 0.1 * elapsed + 0.02 + 0.05  # about a tenth of the run (the first view free)
    pd.testing.assert_frame_equal(bounded.history, wil.compare(config).history)
    unbounded = []  # without it, a view every epoch
    wil.compare(dataclasses.replace(config, epochs=100), live=unbounded.append, live_every=1e-9)
    assert len(unbounded) >= 98


def test_live_is_not_called_more_often_than_asked():
    calls = []
    wil.compare(CONFIG, live=calls.append, live_every=3600.0)
    # one view only: the first, right after the first epochs (the app's charts are on screen at once)
    assert len(calls) == 1 and calls[0].stopped_epoch <= 2


def test_the_first_view_comes_at_epoch_0_before_its_decision_boundary_from_every_group(monkeypatch):
    """The first live view waits for epoch 0's records from every group of networks (here two, on two
    threads) but not for the decision-boundary grid's pass (at width 512, ~0.4 s): it holds every network's
    losses of epoch 0 and no grid; the run's numbers are those of one group."""
    import wil.analysis.compare as compare_module
    from wil.engine.threads import Plan

    one = wil.compare(CONFIG)
    monkeypatch.setattr(compare_module, "plan", lambda *args, **kwargs: Plan(2, 1, 1, 1))
    partials = []
    two = wil.compare(CONFIG, live=partials.append, live_every=3600.0)
    first = partials[0]
    assert first.stopped_epoch == 0 and len(partials) == 1
    networks = ["initializer", "seed"]
    assert first.history["loss"].notna().all() and len(first.history[networks].drop_duplicates()) == 4
    assert first.grid.empty and set(two.grid["epoch"]) == {0, CONFIG.epochs}
    assert set(first.histograms["epoch"]) == {0} and len(first.histograms[networks].drop_duplicates()) == 4
    pd.testing.assert_frame_equal(two.history, one.history)
    pd.testing.assert_frame_equal(two.grid, one.grid)


def test_a_network_blown_up_at_the_start_is_diverged_in_the_first_view():
    """The early first view is skipped when a network blows up at epoch 0 (its divergence is marked after
    the epoch's grid): the first view then shows it diverged at epoch 0, never as a live network."""
    config = dataclasses.replace(CONFIG, depth=6, compare=("he_normal", "random_normal(std=1000)"), n_seeds=1)
    partials = []
    result = wil.compare(config, live=partials.append, live_every=3600.0)
    blown = result.status[result.status["initializer"] == "random_normal(std=1000)"].iloc[0]
    assert bool(blown["diverged"]) and int(blown["diverged_epoch"]) == 0
    first = partials[0].status.set_index("initializer")
    assert bool(first.loc["random_normal(std=1000)", "diverged"]) and not bool(first.loc["he_normal", "diverged"])


@pytest.mark.parametrize("snapshots", [2, 11, 16])
def test_snapshots_record_histograms_and_boundaries_at_evenly_spaced_epochs(snapshots):
    result = wil.compare(CONFIG, snapshots=snapshots)
    expected = sorted({int(round(e)) for e in np.linspace(0, CONFIG.epochs, snapshots)})
    assert sorted(result.histograms["epoch"].unique()) == expected
    assert sorted(result.grid["epoch"].unique()) == expected
    default = wil.compare(CONFIG)
    assert sorted(default.histograms["epoch"].unique()) == [0, 4, 12, 24, 40]
    assert sorted(default.grid["epoch"].unique()) == [0, 40]
    # the same training either way: snapshots only record more
    pd.testing.assert_frame_equal(result.history, default.history)


def test_more_snapshots_are_counted_in_the_memory_estimate():
    five, sixteen = CONFIG.memory(snapshots=None), CONFIG.memory(snapshots=16)
    assert sixteen["records"] > five["records"] and sixteen["frames"] > five["frames"]
    # histograms: 24 bytes per bin in the records, 4 quantities x 30 bins x layers x networks per epoch
    layers, networks = CONFIG.depth + 1, CONFIG.n_networks()
    histogram_bytes = 24.0 * 4 * layers * networks * 30
    boundary_bytes = 16.0 * networks * 40 * 40
    assert sixteen["records"] - five["records"] == pytest.approx(11 * histogram_bytes + 14 * boundary_bytes)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"snapshots": 1}, ValueError, "snapshots"), ({"snapshots": 1000}, ValueError, "snapshots"),
    ({"snapshots": 2.5}, TypeError, "snapshots"), ({"live": "yes"}, TypeError, "Invalid live"),
    ({"live_every": 0}, ValueError, "live_every"), ({"live_every": "1"}, ValueError, "live_every"),
    ({"live_share": 0}, ValueError, "Invalid live_share"), ({"live_share": 1.0}, ValueError, "Invalid live_share"),
    ({"live_share": "0.1"}, ValueError, "Invalid live_share"),
])
def test_bad_live_arguments_are_refused(kwargs, error, match):
    with pytest.raises(error, match=match):
        wil.compare(CONFIG, **kwargs)

"""The schoenholz2017 sweep protocol: the preset's data, its cost estimate, the per-depth learning rate, the
shared criterion, a tiny run (fast), resume, and Dask equal to local (cluster tier)."""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import wil
from wil.analysis.criteria import TRAINABLE, TRAINABLE_LAST10
from wil.sweep import protocols

# the smallest run the preset allows: 3,000 full-batch steps on 30 moons, width 64, one hidden layer
TINY = wil.Config(dataset="moons", n_samples=40, activation="tanh", depth=1, width=8,
                  initializer="mean_field(sigma_w2=1.5, sigma_b2=0.05)")
TINY_GRID = {"sigma_w2": [1.5], "depth": [1]}


def test_preset_meets_the_paper_floor():
    p = protocols.PROTOCOLS["schoenholz2017"]
    assert p.min_width >= 64 and p.n_seeds >= 3 and p.steps >= 3000 and p.depth_step <= 0.5
    assert len(p.learning_rates) >= 2 and p.criterion == "train_accuracy_last10"


def test_prepare_sets_width_budget_seeds_and_a_learning_rate_axis():
    base = wil.Config(dataset="digits", activation="tanh", initializer="mean_field(sigma_b2=0.05)", width=16)
    config, grid, seeds = protocols.prepare("schoenholz2017", base, {"sigma_w2": [1.0, 3.0], "depth": [8]}, [5])
    assert config.width == 64 and config.optimizer == "sgd" and config.batch_size == 128
    assert config.epochs * config.n_batches() >= 3000 > (config.epochs - 1) * config.n_batches()
    assert grid["learning_rate"] == [1e-3, 3e-3, 1e-2] and seeds == (5, 6, 7)
    # no depth axis: a grid whose steps near the boundary are at most xi_c / 2
    _, made, _ = protocols.prepare("schoenholz2017", base, {"sigma_w2": [1.0, 3.0]}, [0, 1, 2])
    assert protocols.coarse_steps(protocols.PROTOCOLS["schoenholz2017"], config, made) == []
    xi = wil.theory.mean_field("tanh", 3.0, 0.05).xi_c  # 9.05
    window = [d for d in made["depth"] if 2 * xi <= d <= 12 * xi]
    assert max(np.diff(window)) <= xi / 2 and max(made["depth"]) == 128


def test_estimate_is_printed_in_words_and_flags_a_coarse_depth_grid():
    base = wil.Config(dataset="digits", activation="tanh", initializer="mean_field(sigma_b2=0.05)")
    config, grid, seeds = protocols.prepare("schoenholz2017", base, {"sigma_w2": [4.0], "depth": [8, 64]}, [0])
    text = protocols.estimate("schoenholz2017", config, grid, seeds, workers=2)
    assert "18 networks" in text and "3,003 steps" in text and "2 worker(s)" in text
    assert "coarser than 0.5 xi_c" in text and "sigma_w2 = 4 (step 56)" in text


def test_bad_protocol_and_regression_are_refused():
    with pytest.raises(ValueError, match="Invalid protocol 'paper'; choose from"):
        protocols.get_protocol("paper")
    with pytest.raises(ValueError, match="Invalid dataset 'sine'"):
        protocols.prepare("schoenholz2017", wil.Config(dataset="sine"), {"depth": [2]}, [0])
    with pytest.raises(ValueError, match="Invalid protocol"):
        wil.sweep(TINY, TINY_GRID, backend=None, protocol="nope")
    with pytest.raises(TypeError, match="Invalid config"):
        protocols.prepare("schoenholz2017", "digits", TINY_GRID, [0])
    with pytest.raises(TypeError, match="Invalid grid"):
        protocols.prepare("schoenholz2017", TINY, [("depth", [1])], [0])
    with pytest.raises((TypeError, ValueError), match="seeds"):
        protocols.prepare("schoenholz2017", TINY, TINY_GRID, 3)


def test_select_keeps_the_best_rate_per_depth_and_the_last10_criterion():
    rows = []
    for depth, lr, acc in [(4, 0.1, 0.9), (4, 0.01, 0.5), (8, 0.1, 0.2), (8, 0.01, 0.6)]:
        for seed in (0, 1):
            rows.append({"depth": depth, "learning_rate": lr, "seed": seed, "diverged": depth == 8 and lr == 0.1,
                         "train_accuracy_last10": acc, "final_train_accuracy": 0.99, "trainable": True})
    kept = protocols.select(pd.DataFrame(rows), n_classes=10)
    assert kept[["depth", "learning_rate"]].drop_duplicates().values.tolist() == [[4, 0.1], [8, 0.01]]
    # 0.6 >= 0.55 (half-way from 1/10 to 1): trainable; the final accuracy is not what it reads
    assert kept["trainable"].tolist() == [True, True, True, True]
    assert TRAINABLE_LAST10.threshold(0.1) == TRAINABLE.threshold(0.1) == pytest.approx(0.55)
    low = pd.DataFrame(rows).assign(train_accuracy_last10=0.54)
    assert not protocols.select(low, n_classes=10)["trainable"].any()
    # a budget column: NaN is a network that diverged within the budget (scores 0, never trainable); the
    # rate 0.1 at depth 8 diverged only later, so at this budget it is the better rate and trainable
    budget = pd.DataFrame(rows).assign(train_accuracy_last10_half=[0.9, np.nan, 0.3, 0.3, 0.7, 0.7, 0.3, 0.3])
    kept = protocols.select(budget, n_classes=10, criterion="train_accuracy_last10_half")
    assert kept[["depth", "learning_rate"]].drop_duplicates().values.tolist() == [[4, 0.1], [8, 0.1]]
    assert kept["trainable"].tolist() == [True, False, True, True]
    with pytest.raises(ValueError, match="train_accuracy_last10_eighth"):
        protocols.select(budget, n_classes=10, criterion="train_accuracy_last10_eighth")


def test_a_tiny_preset_run_resumes_and_returns_one_rate_per_depth(tmp_path, capsys):
    out = tmp_path / "p.parquet"
    frame = wil.sweep(TINY, TINY_GRID, seeds=[0], backend=None, out=out, protocol="schoenholz2017")
    assert "protocol schoenholz2017: 9 networks" in capsys.readouterr().err
    stored = pd.read_parquet(out)
    assert len(stored) == 9 and sorted(stored["learning_rate"].unique()) == [1e-3, 3e-3, 1e-2]
    assert len(frame) == 3 and frame["learning_rate"].nunique() == 1 and frame["seed"].tolist() == [0, 1, 2]
    # the criterion's column: the mean of the last 10 epochs' training accuracy, between their min and max
    config = protocols.prepare("schoenholz2017", TINY, TINY_GRID, [0])[0]
    assert config.width == 64 and config.epochs == 3000  # one full batch of 30 per epoch
    run = wil.compare(dataclasses.replace(config, learning_rate=float(frame["learning_rate"][0])),
                      [TINY.initializer], [0], diagnostics=False)
    train = run.history[run.history["split"] == "train"]["accuracy"].to_numpy()
    assert frame["train_accuracy_last10"][0] == pytest.approx(train[-10:].mean())
    # docs/phase_fit.py reads the stored file as the sweep returned it: the best rate per depth
    spec = importlib.util.spec_from_file_location("phase_fit", Path(__file__).parents[1] / "docs" / "phase_fit.py")
    phase_fit = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(phase_fit)
    pd.testing.assert_frame_equal(phase_fit.protocol_rows(stored, str(out)), frame)
    # the budget curve: the same file read at an eighth, a quarter, half and all of its 3,000 steps
    curve = phase_fit.budget_curve(stored, str(out), "tanh", 0.05, n=20)
    assert curve["steps"].tolist() == [375, 750, 1500, 3000] and curve["epochs"].tolist() == [375, 750, 1500, 3000]
    _, table = phase_fit.fit(frame, "tanh", 0.05)
    last = curve.iloc[-1]
    assert last["share_trainable"] == frame["trainable"].mean() and last["sigma_w2"] == 1.5
    assert last["boundary"] == table["boundary"][0] and last["censored"] == table["censored"][0]
    half = run.history[(run.history["split"] == "train") & run.history["epoch"].between(1491, 1500)]
    assert stored.loc[stored["learning_rate"] == frame["learning_rate"][0], "train_accuracy_last10_half"].iloc[0] \
        == pytest.approx(half["accuracy"].mean())
    again = wil.sweep(TINY, TINY_GRID, seeds=[0], backend=None, out=out, protocol="schoenholz2017")
    pd.testing.assert_frame_equal(again.drop(columns="seconds"), frame.drop(columns="seconds"))
    # the command line: the same preset resumes from the same file (nothing left to train) and prints its cost
    from wil.__main__ import main

    capsys.readouterr()
    assert main(["sweep", "--protocol", "schoenholz2017", "--dataset", "moons", "--n-samples", "40",
                 "--activation", "tanh", "--depth", "1", "--width", "8", "--initializer",
                 "mean_field(sigma_w2=1.5, sigma_b2=0.05)", "--grid", "sigma_w2=1.5", "--grid", "depth=1",
                 "--backend", "none", "--no-progress", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "protocol schoenholz2017: 9 networks" in err and "3 networks, 100% trainable" in err


@pytest.mark.skipif(importlib.util.find_spec("dask") is None, reason="dask is not installed")
@pytest.mark.cluster
def test_the_preset_on_dask_equals_local(tmp_path):
    local = wil.sweep(TINY, {"sigma_w2": [1.5, 3.0], "depth": [1, 2]}, backend=None, protocol="schoenholz2017")
    dask = wil.sweep(TINY, {"sigma_w2": [1.5, 3.0], "depth": [1, 2]}, backend="dask", n_jobs=2,
                     protocol="schoenholz2017", out=tmp_path / "d.parquet")
    pd.testing.assert_frame_equal(dask.drop(columns="seconds"), local.drop(columns="seconds"))


@pytest.mark.skipif(importlib.util.find_spec("dask") is None, reason="dask is not installed")
@pytest.mark.cluster
def test_a_refined_sweep_on_dask_equals_local(tmp_path, monkeypatch):
    """The refinement's rounds on a local Dask cluster train the same depths to the same rows as in this
    process."""
    tiny = dataclasses.replace(protocols.PROTOCOLS["schoenholz2017"], name="tiny", min_width=8, n_seeds=1,
                               steps=400, batch_size=32, learning_rates=(0.1,), max_depth=16)
    monkeypatch.setitem(protocols.PROTOCOLS, "tiny", tiny)
    config, grid = dataclasses.replace(TINY, width=8), {"sigma_w2": [1.0, 4.0], "depth": [2, 14]}
    local = wil.sweep(config, grid, seeds=[0], backend=None, protocol="tiny", refine=True)
    dask = wil.sweep(config, grid, seeds=[0], backend="dask", n_jobs=2, protocol="tiny", refine=True,
                     out=tmp_path / "d.parquet")
    assert sorted(local["depth"].unique()) != [2, 14]
    pd.testing.assert_frame_equal(dask.drop(columns="seconds"), local.drop(columns="seconds"))


from test_sweep import local_ray  # noqa: E402,F401  (the fixture: a local Ray of two CPUs, shut down after)


@pytest.mark.cluster
def test_the_preset_on_ray_equals_local(local_ray):  # noqa: F811
    grid = {"sigma_w2": [1.5, 3.0], "depth": [1, 2]}
    local = wil.sweep(TINY, grid, backend=None, protocol="schoenholz2017")
    on_ray = wil.sweep(TINY, grid, backend="ray", protocol="schoenholz2017")
    assert len(on_ray) == len(local) > 0 and set(on_ray["learning_rate"]) <= set(protocols.PROTOCOLS[
        "schoenholz2017"].learning_rates)  # one rate per depth, the best, as locally
    pd.testing.assert_frame_equal(on_ray.drop(columns="seconds"), local.drop(columns="seconds"))


def test_budget_curve_recovers_a_planted_boundary_that_grows_with_the_steps():
    """Planted: at an eighth, a quarter, half and all of 80 epochs the networks train to 1, 2, 3 and 4 xi_c
    (at the better of two learning rates; the other never trains). The curve finds each budget's boundary,
    the steps of each budget, and c growing ~1 -> ~4 with the slope fixed at 1."""
    config = wil.Config(dataset="digits", activation="tanh", width=64, batch_size=128, epochs=80,
                        initializer="mean_field(sigma_b2=0.05)")
    xi = {s: wil.theory.mean_field("tanh", s, 0.05).xi_c for s in (1.0, 4.0)}
    columns = {"train_accuracy_last10_eighth": 1, "train_accuracy_last10_quarter": 2,
               "train_accuracy_last10_half": 3, "train_accuracy_last10": 4}
    rows = [{"sigma_w2": s, "depth": d, "learning_rate": lr, "seed": seed, "diverged": False,
             **{column: (0.9 if lr == 0.01 and d <= k * xi[s] else 0.1) for column, k in columns.items()}}
            for s in xi for d in range(2, 40, 2) for lr in (0.01, 0.1) for seed in range(3)]
    curve = wil.trainability.budget_curve(pd.DataFrame(rows), config, "tanh", 0.05, n=50)
    assert curve["steps"].unique().tolist() == [10 * 11, 20 * 11, 40 * 11, 80 * 11]  # 11 batches of 128 per epoch
    for k, (steps, budget) in zip(columns.values(), curve.groupby("steps", sort=True)):
        expected = [2 * (k * xi[s] // 2) for s in xi]  # the deepest even depth under k xi_c
        assert budget["boundary"].tolist() == expected and budget["used"].all(), steps
        # c = the geometric mean of boundary / xi_c (under k: the grid's steps of 2 round the boundary down)
        c = math.exp(np.mean([math.log(b / xi[s]) for b, s in zip(expected, xi)]))
        assert budget["c"].iloc[0] == pytest.approx(c, rel=1e-12) and k - 2 / min(xi.values()) < c <= k
    assert curve.groupby("steps")["c"].first().is_monotonic_increasing
    assert wil.trainability.budget_curve(pd.DataFrame(rows).drop(columns="train_accuracy_last10_half"),
                                         config, "tanh", 0.05).empty  # a sweep made before the budget columns


def test_budget_columns_filled_from_a_half_length_sweep_equal_the_measured_ones(tmp_path):
    """docs/budget_columns.py: a protocol sweep's budget columns filled from the same networks trained for
    half the epochs equal the columns the long sweep measured itself (3,000 epochs: 1,500, 750, 375 both ways),
    and a short sweep of other epochs or settings is refused."""
    spec = importlib.util.spec_from_file_location("budget_columns",
                                                  Path(__file__).parents[1] / "docs" / "budget_columns.py")
    budget_columns = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(budget_columns)
    long_path, short_path, out = tmp_path / "long.parquet", tmp_path / "short.parquet", tmp_path / "out.parquet"
    wil.sweep(TINY, TINY_GRID, seeds=[0], backend=None, out=long_path, protocol="schoenholz2017")
    config, grid, seeds = protocols.prepare("schoenholz2017", TINY, TINY_GRID, [0])
    wil.sweep(dataclasses.replace(config, epochs=1500), grid, seeds=list(seeds), backend=None, out=short_path)
    assert budget_columns.fill(str(long_path), str(short_path), str(out)) == 9
    long, filled = pd.read_parquet(long_path), pd.read_parquet(out)
    pd.testing.assert_frame_equal(filled, long)  # every column, the three budget columns included
    import pyarrow.parquet as pq
    assert pq.read_metadata(out).metadata[b"wil_sweep"] == pq.read_metadata(long_path).metadata[b"wil_sweep"]
    wil.sweep(dataclasses.replace(config, epochs=1499), grid, seeds=list(seeds), backend=None,
              out=tmp_path / "odd.parquet")
    with pytest.raises(ValueError, match="half of LONG's 3000 is 1500"):
        budget_columns.fill(str(long_path), str(tmp_path / "odd.parquet"), str(out))
    wil.sweep(dataclasses.replace(config, epochs=1500, width=32), grid, seeds=list(seeds), backend=None,
              out=tmp_path / "other.parquet")
    with pytest.raises(ValueError, match="another sweep"):
        budget_columns.fill(str(long_path), str(tmp_path / "other.parquet"), str(out))


def _oracle_rows(cells, boundary_of):
    """Rows of the best rate per depth, one seed, trainable iff depth <= boundary_of[sigma_w2]."""
    return pd.DataFrame([{"sigma_w2": s, "depth": d, "seed": 0, "trainable": d <= boundary_of[s]}
                         for s, d in cells])


def test_refinement_bisects_each_boundary_to_half_xi_c():
    """Planted boundaries: the rounds of ``next_depths`` place each within xi_c / 2 and then stop; a column
    trainable to its deepest gets the protocol's max depth once; near the edge of chaos (xi_c above half the
    deepest depth) nothing is added."""
    config = wil.Config(dataset="digits", activation="tanh", initializer="mean_field(sigma_b2=0.05)")
    xi = {s: wil.theory.mean_field("tanh", s, 0.05).xi_c for s in (1.0, 1.75, 2.5, 4.0)}
    planted = {1.0: 53, 1.75: 30, 2.5: 1000, 4.0: 37}
    cells = [(s, d) for s in planted for d in (8, 16, 24, 32, 48, 64, 96)]
    rounds = []
    while True:
        wanted = wil.trainability.next_depths(_oracle_rows(cells, planted), config)
        if not wanted:
            break
        rounds.append(wanted)
        cells += [(s, d) for d, sigmas in wanted.items() for s in sigmas]
        assert len(rounds) < 12
    assert rounds[0] == {40: [4.0], 56: [1.0], 128: [2.5]}  # half-way in (32, 48), (48, 64); the max depth
    table = wil.trainability.brackets(_oracle_rows(cells, planted)).set_index("sigma_w2")
    for s in (1.0, 4.0):
        low, high = table.loc[s, "boundary"], table.loc[s, "failed"]
        assert low <= planted[s] < high and high - low <= max(1, 0.5 * xi[s])
    assert table.loc[2.5, "deepest"] == 128 and math.isnan(table.loc[2.5, "failed"])
    assert xi[1.75] > 128 / 2 and not any(1.75 in sigmas for r in rounds for sigmas in r.values())
    # even the shallowest failed: down towards depth 1
    assert wil.trainability.next_depths(_oracle_rows([(4.0, 8), (4.0, 16)], {4.0: 0}), config) == {4: [4.0]}
    with pytest.raises(ValueError, match="mean_field"):
        wil.trainability.next_depths(_oracle_rows(cells, planted), dataclasses.replace(config, initializer="he_normal"))


def test_a_refined_sweep_places_its_boundaries_resumes_and_equals_a_plain_sweep(tmp_path, monkeypatch, capsys):
    """A tiny protocol (monkeypatched) refined end to end: its rounds are printed, every column's boundary ends
    within the protocol's step, the rows of a refined depth are those a plain sweep of that depth gives, and
    the same call again trains nothing."""
    tiny = dataclasses.replace(protocols.PROTOCOLS["schoenholz2017"], name="tiny", min_width=8, n_seeds=1,
                               steps=400, batch_size=32, learning_rates=(0.1,), max_depth=16)
    monkeypatch.setitem(protocols.PROTOCOLS, "tiny", tiny)
    config = dataclasses.replace(TINY, width=8)
    grid = {"sigma_w2": [1.0, 4.0], "depth": [2, 14]}
    out = tmp_path / "r.parquet"
    frame = wil.sweep(config, grid, seeds=[0], backend=None, out=out, protocol="tiny", refine=True)
    err = capsys.readouterr().err
    assert "refinement round 1: depth " in err
    prepared = protocols.prepare("tiny", config, grid, [0])[0]
    assert wil.trainability.next_depths(frame, prepared, "tiny") == {}
    assert sorted(frame["depth"].unique()) != [2, 14]  # it refined
    table = wil.trainability.brackets(frame).set_index("sigma_w2")
    for s, row in table.iterrows():
        xi = wil.theory.mean_field("tanh", s, 0.05).xi_c
        placed = math.isnan(row["failed"]) and row["deepest"] == 16
        assert placed or row["failed"] - (1 if math.isnan(row["boundary"]) else row["boundary"]) <= max(1, xi / 2)
    stored = pd.read_parquet(out)
    assert len(stored) == len(frame)  # one rate: every row kept
    extra = int(frame.loc[~frame["depth"].isin([2, 14]), "depth"].iloc[0])
    plain = wil.sweep(config, {"sigma_w2": [1.0, 4.0], "depth": [extra]}, seeds=[0], backend=None, protocol="tiny")
    mine = frame[frame["depth"] == extra].reset_index(drop=True)
    plain = plain[plain["sigma_w2"].isin(mine["sigma_w2"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine.drop(columns="seconds"), plain.drop(columns="seconds"))
    run_module = importlib.import_module("wil.sweep.run")  # wil.sweep is the function

    trained = []
    monkeypatch.setattr(run_module, "run_task", lambda *a: trained.append(a) or [])
    again = wil.sweep(config, grid, seeds=[0], backend=None, out=out, protocol="tiny", refine=True)
    assert trained == [] and len(again) == len(frame)
    with pytest.raises(ValueError, match="Invalid refine: .*protocol"):
        wil.sweep(config, grid, backend=None, refine=True)
    with pytest.raises(ValueError, match="Invalid refine: .*axes"):
        wil.sweep(config, {"depth": [2, 4]}, backend=None, protocol="tiny", refine=True)

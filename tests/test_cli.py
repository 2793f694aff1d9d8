"""The command line: a tiny sweep in a subprocess writes a valid parquet file and PNG; option parsing."""

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import wil

from wil.__main__ import _grid, _seeds, parse_values

ROOT = Path(__file__).resolve().parents[1]


def test_a_tiny_sweep_writes_its_parquet_and_png(tmp_path):
    out, plot = tmp_path / "sweep.parquet", tmp_path / "phase.png"
    command = [sys.executable, "-m", "wil", "sweep", "--dataset", "moons", "--n-samples", "80",
               "--activation", "tanh", "--initializer", "mean_field(sigma_b2=0.05)", "--width", "8",
               "--epochs", "5", "--grid", "sigma_w2=1:3:3", "--grid", "depth=2,4", "--seeds", "0,1",
               "--backend", "none", "--out", str(out), "--plot", str(plot)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "12 networks" in done.stderr and "networks/s" in done.stderr  # the summary and tqdm's bar
    frame = pd.read_parquet(out)
    assert len(frame) == 3 * 2 * 2
    assert sorted(set(frame["sigma_w2"])) == [1.0, 2.0, 3.0] and sorted(set(frame["depth"])) == [2, 4]
    assert set(frame["initializer"]) == {"mean_field(sigma_w2=1, sigma_b2=0.05)", "mean_field(sigma_b2=0.05)",
                                         "mean_field(sigma_w2=3, sigma_b2=0.05)"}
    assert frame["final_train_loss"].notna().all()
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 5000
    assert not (tmp_path / "sweep.parquet.parts").exists()


@pytest.mark.cluster
def test_a_sweep_on_ray_starts_a_local_ray_and_stops_it(tmp_path):
    pytest.importorskip("ray")
    out = tmp_path / "sweep.parquet"
    options = ["--dataset", "moons", "--n-samples", "80", "--initializer", "mean_field", "--width", "8",
               "--epochs", "3", "--grid", "sigma_w2=1,3", "--grid", "depth=2,5", "--seeds", "0,1", "--no-progress"]
    # a Ray of this machine only (127.0.0.1), no usage report; the sweep starts it and shuts it down
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
    env.pop("RAY_ADDRESS", None)
    done = subprocess.run([sys.executable, "-m", "wil", "sweep", *options, "--backend", "ray", "--n-jobs", "2",
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    local = wil.sweep(wil.Config(dataset="moons", n_samples=80, initializer="mean_field", width=8, epochs=3),
                      {"sigma_w2": [1.0, 3.0], "depth": [2, 5]}, seeds=[0, 1], backend=None)
    pd.testing.assert_frame_equal(pd.read_parquet(out).drop(columns="seconds"), local.drop(columns="seconds"))


def test_bad_options_exit_with_the_reason(tmp_path):
    command = [sys.executable, "-m", "wil", "sweep", "--grid", "sigma=1,2", "--backend", "none"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Invalid grid axis 'sigma'" in done.stderr
    done = subprocess.run([sys.executable, "-m", "wil", "sweep", "--grid", "depth=2", "--depth", "x"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Invalid depth: expected an integer" in done.stderr


def test_grid_values_and_ranges():
    assert parse_values("sigma_w2", "1:4:13")[:3] == [1.0, 1.25, 1.5] and len(parse_values("sigma_w2", "1:4:13")) == 13
    assert parse_values("depth", "10:100:10") == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    assert parse_values("depth", "1:3:5") == [1, 2, 3]  # rounded, deduplicated
    assert parse_values("batch_size", "full,32") == [None, 32]
    assert parse_values("activation", "tanh,relu") == ["tanh", "relu"]
    assert list(_grid(["sigma_w2=1,2", "depth=3"])) == ["sigma_w2", "depth"]
    assert _seeds("0:3") == [0, 1, 2] and _seeds("4,7") == [4, 7]
    for axis, text, message in [("depth", "2.5", "expected integers"), ("sigma_w2", "a,b", "not a number"),
                                ("sigma_w2", "1:2", "a range is start:stop:count"),
                                ("sigma_w2", "1:2:0", "count must be a positive integer")]:
        with pytest.raises(ValueError, match=message):
            parse_values(axis, text)
    with pytest.raises(ValueError, match="given twice"):
        _grid(["depth=1", "depth=2"])

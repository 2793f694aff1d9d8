"""Issue 18's argument classes, one example each: refused at the boundary with a ``ValueError``/``TypeError``
naming the argument and what was received, before any work; and ``out`` never shrinks.
(``tests/test_hostile_properties.py`` draws many more of each class; ``benchmarks/probe_hostile.py`` tries
them on every public function, the command line and the environment.)"""

from __future__ import annotations

import importlib
import math
import time

import numpy as np
import pandas as pd
import pytest

import wil
from wil.spec.checks import MissingPathError

TINY = wil.Config(n_samples=40, depth=1, width=3, epochs=2)
run_module = importlib.import_module("wil.sweep.run")


@pytest.fixture
def no_training(monkeypatch):
    """Fail if a sweep reaches training: every refusal below comes first."""
    def trained(*args, **kwargs):
        raise AssertionError("the sweep started training")
    monkeypatch.setattr(run_module, "run_task", trained)


@pytest.mark.parametrize("options, message", [
    (dict(seeds=5), r"Invalid seeds: expected a list of values, got 5"),
    (dict(seeds=None), r"Invalid seeds: expected a list of values, got None"),
    (dict(seeds=["a"]), r"Invalid seeds\[0\]: expected an integer .* got 'a'"),
    (dict(seeds=[math.nan]), r"Invalid seeds\[0\]: expected an integer .* got nan"),
    (dict(seeds="01"), r"Invalid seeds: expected a list of values, got '01'"),
    (dict(seeds=[1.7]), r"Invalid seeds\[0\]: expected an integer .* got 1.7"),
    (dict(seeds=[True]), r"Invalid seeds\[0\]: expected an integer .* got True"),
    (dict(seeds=range(10**6)), r"Invalid seeds: 1,000,000 values, more than the 100,000 allowed"),
    (dict(n_jobs="2"), r"Invalid n_jobs: expected an integer .* got '2'"),
    (dict(n_jobs=2.5), r"Invalid n_jobs: expected an integer .* got 2.5"),
    (dict(progress="yes"), r"Invalid progress: expected True or False, got 'yes'"),
    (dict(out=5), r"Invalid out: expected a file name .* got 5"),
    (dict(out=b"x.parquet"), r"Invalid out: expected a file name .* got b'x.parquet'"),
    (dict(out=""), r"Invalid out: expected a file name such as 'sweep.parquet', got ''"),
    (dict(out="x" * 300 + ".parquet"), r"Invalid out .*cannot write in .*File name too long"),
    (dict(out="x" * 5000), r"Invalid out: a file name of 5,000 characters, longer than the 4,096"),
    (dict(grid={"depth": {2: 3}}), r"Invalid grid axis 'depth': expected a list of values"),
    (dict(grid={"depth": [{"a": 1}]}), r"Invalid grid axis 'depth': value 0 is \{'a': 1\}"),
    (dict(grid={"depth": range(1, 10**6)}), r"Invalid grid axis 'depth': 999,999 values, more than the 100,000"),
    (dict(grid={"initializer": ["nope"]}), r"Invalid grid axis 'initializer': Invalid initializer 'nope'"),
])
def test_sweep_arguments_are_refused_before_any_work(no_training, tmp_path, monkeypatch, options, message):
    monkeypatch.chdir(tmp_path)
    grid = options.pop("grid", {"depth": [1]})
    with pytest.raises((ValueError, TypeError), match=message):
        wil.sweep(TINY, grid, backend=None, **options)
    assert not list(tmp_path.iterdir())  # no .tmp, no .parts


@pytest.mark.parametrize("out, message", [
    ("/proc/x.parquet", r"cannot write in '/proc'"),
    ("file/x.parquet", r"'.*file' is a file, not a folder"),
    ("folder", r"it is a folder; give a file name"),
])
def test_an_out_that_cannot_be_written_is_refused_at_once(no_training, tmp_path, monkeypatch, out, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file").write_text("a regular file")
    (tmp_path / "folder").mkdir()
    with pytest.raises(ValueError, match=message):
        wil.sweep(TINY, {"depth": [1]}, backend=None, out=out)


def test_a_huge_grid_is_refused_at_once_with_its_estimate(no_training):
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"would take more than [\d,]+ days of one core \(estimated\)"):
        wil.sweep(TINY, {"n_samples": [10**6], "width": [4096], "epochs": [10**6]}, backend=None)
    with pytest.raises(ValueError, match=r"needs about .* of memory"):
        wil.sweep(TINY, {"depth": [10**6]}, backend=None)
    assert time.perf_counter() - start < 60  # not a speed target: the refusal comes before any training


def test_out_never_shrinks(tmp_path):
    out = tmp_path / "x.parquet"
    wil.sweep(TINY, {"depth": [1, 2, 3]}, seeds=[0, 1], backend=None, out=out)
    first = pd.read_parquet(out)
    again = wil.sweep(TINY, {"depth": [1]}, seeds=[0], backend=None, out=out)  # a smaller grid
    assert len(again) == 1
    kept = pd.read_parquet(out)
    assert len(kept) == 6 and kept[["depth", "seed"]].apply(tuple, axis=1).is_unique
    pd.testing.assert_frame_equal(kept.drop(columns="seconds").sort_values(["depth", "seed"]).reset_index(drop=True),
                                  first.drop(columns="seconds").sort_values(["depth", "seed"]).reset_index(drop=True))
    wil.sweep(TINY, {"depth": [4]}, seeds=[0], backend=None, out=out)  # another grid adds its networks
    assert len(pd.read_parquet(out)) == 7


@pytest.mark.parametrize("call, error, message", [
    (lambda: wil.parse_entry("random_normal(std=\u0661)"), ValueError, r"'std=\\u0661' is not key=number"),
    (lambda: wil.parse_entry("he_normal(scale=1_0)"), ValueError, r"'scale=1_0' is not key=number"),
    (lambda: wil.load_dataset("moons", noise=1e200), ValueError, r"Invalid noise: .*too large"),
    (lambda: wil.load_dataset("xor", noise=1e308), ValueError, r"Invalid noise: noise=1e\+308 is too large"),
    (lambda: wil.from_frame(pd.DataFrame({"a": np.arange(40) + 1j, "b": np.arange(40.0), "y": np.arange(40) % 2}),
                            "y"), ValueError, r"Invalid frame: feature column 'a' holds complex numbers"),
    (lambda: wil.from_frame(pd.DataFrame({"a": [1e308, -1e308] * 20, "b": np.arange(40.0), "y": np.arange(40) % 2}),
                            "y"), ValueError, r"Invalid frame: feature column 'a' would standardize to NaN"),
    (lambda: wil.from_frame(pd.DataFrame({"a": np.arange(40.0), "y": np.arange(40) % 2}), np.array([1, 2])),
     TypeError, r"Invalid target: expected a column label"),
    (lambda: wil.detect_task(np.array([1, 2])), TypeError, r"Invalid column: expected a pandas Series"),
    (lambda: wil.theory.mean_field("tanh", 10**400, 0.05), ValueError, r"Invalid sigma_w2: .*401 digits"),
    (lambda: wil.theory.phase_frame("tanh", 0.05, ["a"]), TypeError, r"Invalid sigma_w2_values\[0\]"),
    (lambda: wil.theory.phase_frame("tanh", 0.05, 5), TypeError, r"Invalid sigma_w2_values: expected a list"),
    (lambda: wil.theory.phase_frame("9" * 5000, 0.05, [1.0]), ValueError, r"^Invalid activation '9{30}"),
    (lambda: wil.theory.gaussian_moments(np.tanh, math.inf), ValueError, r"Invalid variance"),
    (lambda: wil.theory.gaussian_moments("tanh", 1.0), TypeError, r"Invalid f: expected a function"),
    (lambda: wil.theory.expected_variances([2], [1.0], "relu"), ValueError, r"one per layer of layer_sizes"),
    (lambda: wil.theory.expected_variances(5, [1.0], "relu"), TypeError, r"Invalid layer_sizes: expected a list"),
    (lambda: wil.theory.expected_variances([2, 3], ["x"], "relu"), TypeError, r"Invalid weight_variances\[0\]"),
    (lambda: wil.criteria.dataset_classes(5), TypeError, r"Invalid dataset: expected one of"),
    (lambda: wil.criteria.chance_accuracy("moons"), TypeError, r"Invalid config: expected a wil.Config"),
    (lambda: wil.Config(normalization=np.array([1, 2])), ValueError, r"Invalid normalization array"),
    (lambda: wil.initialize("he_normal", 10**400, 3, seed=0), ValueError, r"Invalid fan_in: .*401 digits"),
    (lambda: wil.load_dataset("moons", n_samples=10**400), ValueError, r"Invalid n_samples: .*401 digits"),
    (lambda: wil.compare(TINY, seeds=range(10**7)), ValueError, r"Invalid seeds: 10,000,000 values"),
])
def test_library_arguments_name_what_was_wrong(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_load_and_save_refuse_paths_they_cannot_use(tmp_path):
    result = wil.train(TINY)
    with pytest.raises(MissingPathError, match="no file"):
        wil.load(tmp_path / "absent.zip")
    with pytest.raises(ValueError, match=r"Invalid path: a file name of 5,000 characters"):
        wil.load("9" * 5000)
    with pytest.raises(ValueError, match=r"Invalid path '.*x{300}\.zip': cannot write it \(File name too long\)"):
        result.save(tmp_path / ("x" * 300 + ".zip"))
    with pytest.raises(ValueError, match=r"Invalid path '/proc/run.zip': cannot write in '/proc'"):
        result.save("/proc/run.zip")
    assert not list(tmp_path.iterdir())

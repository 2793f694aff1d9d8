"""``Result.save`` and ``wil.load``: a zip of CSVs plus the JSON config that reads back to the same frames."""

from __future__ import annotations

import dataclasses
import json
import zipfile

import numpy as np
import pandas as pd
import pytest

import wil
from wil.analysis.result import FRAMES
from wil.export import io as wil_io


@pytest.fixture(scope="module")
def result():
    """Six small networks on moons, mini-batches: zeros (stuck), std 2 (diverges at epoch 1), He (learns)."""
    config = wil.Config(dataset="moons", n_samples=200, noise=0.2, activation="relu", depth=6, width=16, epochs=20,
                        learning_rate=0.1, batch_size=50, compare=("zeros", "random_normal(std=2)", "he_normal"),
                        n_seeds=2)
    return wil.compare(config)


def assert_same(loaded: wil.Result, original: wil.Result) -> None:
    assert loaded.config == original.config and loaded.stopped_epoch == original.stopped_epoch
    for name in FRAMES:
        # exact: floats are written with the shortest text that reads back to the same double
        pd.testing.assert_frame_equal(getattr(loaded, name), getattr(original, name), check_exact=True,
                                      obj=name)


def test_a_run_reads_back_with_the_same_frames_and_dtypes(result, tmp_path):
    path = tmp_path / "run.zip"
    result.save(path)
    loaded = wil.load(path)
    assert_same(loaded, result)
    # the dtypes the frames promise, spelled out (assert_frame_equal compares them too)
    labels = ["zeros", "random_normal(std=2)", "he_normal"]
    for name in ("history", "layers", "histograms", "status", "grid"):
        dtype = getattr(loaded, name)["initializer"].dtype
        assert isinstance(dtype, pd.CategoricalDtype) and dtype.ordered and list(dtype.categories) == labels
    assert loaded.layers["distinct_units"].dtype == "Int64"
    assert loaded.status["diverged_epoch"].dtype == "Int64"
    # the run had what a CSV can lose: a diverged network (NA epochs beside a number), NaN statistics, empty
    # strings in "reason", the zeros network's single distinct unit per hidden layer
    assert loaded.status["diverged"].tolist() == [False, False, True, True, False, False]
    assert loaded.status["diverged_epoch"].isna().sum() == 4 and loaded.status["diverged_epoch"].max() == 1
    assert (loaded.status["reason"] == "").sum() == 4
    assert loaded.history["accuracy"].isna().any() and loaded.layers.isna().any().any()
    hidden_zeros = (loaded.layers["initializer"] == "zeros") & (loaded.layers["layer"] <= 6)
    assert loaded.layers.loc[hidden_zeros, "distinct_units"].eq(1).all()
    assert loaded.labels == labels and len(loaded.diverged) == 2


def test_the_frames_are_the_results_and_a_stopped_run_stays_stopped(tmp_path):
    assert FRAMES == ("history", "layers", "histograms", "status", "grid", "points")

    def stop_at_half(fraction):
        if fraction >= 0.5:
            raise wil.StopTraining

    config = wil.Config(dataset="moons", n_samples=100, depth=2, width=4, epochs=20)
    stopped = wil.compare(config, progress=stop_at_half)
    assert stopped.stopped_epoch == 10
    stopped.save(tmp_path / "stopped.zip")
    loaded = wil.load(tmp_path / "stopped.zip")
    assert_same(loaded, stopped)
    assert loaded.verdicts()["epochs"].tolist() == [10]  # the sentences say how far it trained
    with zipfile.ZipFile(tmp_path / "stopped.zip") as archive:
        manifest = json.loads(archive.read("manifest.json"))
    older = tmp_path / "older.zip"  # a file written before stopped_epoch was recorded: not stopped
    _rewrite(tmp_path / "stopped.zip", older, replace={"manifest.json": json.dumps(
        {key: value for key, value in manifest.items() if key != "stopped_epoch"})})
    assert wil.load(older).stopped_epoch is None
    bad = tmp_path / "bad.zip"
    _rewrite(tmp_path / "stopped.zip", bad, replace={"manifest.json": json.dumps({**manifest, "stopped_epoch": "x"})})
    with pytest.raises(ValueError, match="stopped_epoch 'x'"):
        wil.load(bad)


def test_infinite_and_awkward_floats_survive(result, tmp_path):
    history = result.history.copy()
    history.loc[0, "loss"] = np.inf
    history.loc[1, "loss"] = -np.inf
    history.loc[2, "loss"] = 0.1 + 0.2  # 0.30000000000000004: needs all 17 digits
    history.loc[3, "loss"] = 5e-324  # the smallest subnormal
    history.loc[4, "loss"] = np.nextafter(1.0, 2.0)
    # doubles of every magnitude with all their bits random: the CSV text must read back to each exactly
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2**63, size=len(history) - 5, dtype=np.uint64)
    doubles = bits.view(np.float64)
    history.loc[5:, "accuracy"] = np.where(np.isfinite(doubles), doubles, 1.0)
    changed = dataclasses.replace(result, history=history)
    changed.save(tmp_path / "odd.zip")
    assert_same(wil.load(tmp_path / "odd.zip"), changed)


def test_empty_frames_and_regression_and_float32(tmp_path):
    """No diagnostics (empty layers and histograms), a regression with 10 features (no grid, no points,
    accuracy all NaN), float32 training."""
    config = wil.Config(dataset="diabetes", activation="tanh", depth=2, width=8, epochs=3, dtype="float32")
    result = wil.train(config, diagnostics=False)
    assert result.layers.empty and result.histograms.empty and result.grid.empty and result.points.empty
    result.save(tmp_path / "regression.zip")
    loaded = wil.load(str(tmp_path / "regression.zip"))
    assert_same(loaded, result)
    assert loaded.history["accuracy"].isna().all()


def test_the_archive_is_plain_csv_and_json(result, tmp_path):
    """Anyone can open the file without wil: CSVs with a header, the config's fields as JSON."""
    path = tmp_path / "run.zip"
    result.save(path)
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == sorted([*(f"{name}.csv" for name in FRAMES), "config.json",
                                                     "manifest.json"])
        assert json.loads(archive.read("config.json")) == json.loads(json.dumps(dataclasses.asdict(result.config)))
        manifest = json.loads(archive.read("manifest.json"))
        assert manifest["format"] == "wil-result" and manifest["format_version"] == wil_io.FORMAT_VERSION
        status = pd.read_csv(archive.open("status.csv"))
    assert len(status) == 6 and status["initializer"].tolist()[:2] == ["zeros", "zeros"]
    np.testing.assert_array_equal(status["final_test_loss"], result.status["final_test_loss"])


def test_save_replaces_a_file_and_leaves_nothing_else(result, tmp_path):
    path = tmp_path / "run.zip"
    path.write_text("old")
    result.save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["run.zip"]  # no temporary file left behind
    assert_same(wil.load(path), result)


# ---------------------------------------------------------------- bad paths and bad files

def _rewrite(source, target, drop=(), replace=None):
    """A copy of the archive ``source`` without the members ``drop``, with members ``replace`` changed."""
    replace = replace or {}
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            if name not in drop:
                new.writestr(name, replace.get(name, old.read(name)))
        for name, data in replace.items():
            if name not in old.namelist():
                new.writestr(name, data)


@pytest.fixture(scope="module")
def saved(result, tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "run.zip"
    result.save(path)
    return path


def test_load_refuses_missing_files_folders_and_wrong_types(tmp_path):
    with pytest.raises(FileNotFoundError, match="no file"):
        wil.load(tmp_path / "absent.zip")
    with pytest.raises(ValueError, match="is a folder"):
        wil.load(tmp_path)
    with pytest.raises(TypeError, match=r"Invalid path: expected a file name \(a string or pathlib.Path\), got 3"):
        wil.load(3)
    with pytest.raises(ValueError, match="no file"):  # MissingPathError: both, like every rejected argument
        wil.load(tmp_path / "absent.zip")
    with pytest.raises(ValueError, match="Invalid path"):
        wil.load("")


def test_load_refuses_a_file_that_is_not_a_zip(tmp_path):
    path = tmp_path / "notes.zip"
    path.write_text("initializer,seed\nhe_normal,0\n")
    with pytest.raises(ValueError, match="not a zip archive"):
        wil.load(path)


@pytest.mark.parametrize("member", ["manifest.json", "config.json", "layers.csv", "points.csv"])
def test_load_names_a_missing_member(saved, tmp_path, member):
    broken = tmp_path / "broken.zip"
    _rewrite(saved, broken, drop=[member])
    with pytest.raises(ValueError, match=f"the member '{member}' is missing"):
        wil.load(broken)


def test_load_refuses_another_format_version(saved, tmp_path):
    with zipfile.ZipFile(saved) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    newer = tmp_path / "newer.zip"
    _rewrite(saved, newer, replace={"manifest.json": json.dumps({**manifest, "format_version": 2})})
    with pytest.raises(ValueError, match="format version 2 .*reads version 1"):
        wil.load(newer)
    other = tmp_path / "other.zip"
    _rewrite(saved, other, replace={"manifest.json": json.dumps({**manifest, "format": "something-else"})})
    with pytest.raises(ValueError, match="names the format 'something-else'"):
        wil.load(other)


def test_load_refuses_bad_json_a_bad_config_and_a_bad_csv(saved, tmp_path):
    cases = {
        "manifest.json": ("{not json", "manifest.json is not valid JSON"),
        "config.json": (json.dumps({"depth": 0}), "config.json is not a valid Config: Invalid depth"),
        "status.csv": ("initializer,seed\nhe_normal,0\n", "status.csv has the columns"),
    }
    for member, (text, message) in cases.items():
        path = tmp_path / f"bad-{member}.zip"
        _rewrite(saved, path, replace={member: text})
        with pytest.raises(ValueError, match=message):
            wil.load(path)
    unknown = tmp_path / "unknown-field.zip"
    _rewrite(saved, unknown, replace={"config.json": json.dumps({"depth": 3, "colour": "red"})})
    with pytest.raises(ValueError, match=r"fields this wil's Config does not know: \['colour'\]"):
        wil.load(unknown)
    label = tmp_path / "unknown-label.zip"
    with zipfile.ZipFile(saved) as archive:
        text = archive.read("status.csv").decode().replace("he_normal", "he_uniform")
    _rewrite(saved, label, replace={"status.csv": text})
    with pytest.raises(ValueError, match="column 'initializer' holds \\['he_uniform'\\], not among its categories"):
        wil.load(label)


def test_save_refuses_bad_paths_and_non_results(result, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        result.save(tmp_path / "no" / "such" / "folder" / "run.zip")
    with pytest.raises(ValueError, match="is a folder"):
        result.save(tmp_path)
    with pytest.raises(TypeError, match="Invalid path"):
        result.save(None)
    with pytest.raises(TypeError, match="Invalid result: expected a wil.Result, got a dict"):
        wil_io.save({}, tmp_path / "run.zip")
    assert list(tmp_path.iterdir()) == []

"""Your own data from Python: ``wil.spec.user_data.from_frame`` validates a DataFrame, registers it under a content
hash, and ``wil.Config(dataset=name)`` trains on it through the same split and scaling as the built-ins."""

import math

import numpy as np
import pandas as pd
import pytest

import wil
from wil.spec.datasets import MIN_SAMPLES, TEST_FRACTION, USER_PREFIX
from wil.spec.user_data import AUTO_CLASSES, detect_task, from_frame


pytestmark = pytest.mark.usefixtures("forget_user_datasets")  # conftest: uploads leave no trace


def frame(n=80, classes=("cat", "dog"), seed=0, **extra):
    rng = np.random.default_rng(seed)
    data = {"width": rng.normal(size=n), "height": rng.normal(3.0, 2.0, size=n),
            "kind": [classes[i % len(classes)] for i in range(n)]}
    data.update(extra)
    return pd.DataFrame(data)


# ---------------------------------------------------------------- the same path as the built-ins

def test_registers_under_a_content_hash_and_configs_accept_it():
    name = from_frame(frame(), "kind", label="pets.csv")
    assert name.startswith(USER_PREFIX) and len(name) == len(USER_PREFIX) + 64
    int(name[len(USER_PREFIX):], 16)  # hex
    spec = wil.DATASETS[name]
    assert (spec.label, spec.task, spec.n_features, spec.n_outputs, spec.size) == ("pets.csv", "classification", 2,
                                                                                   2, 80)
    assert spec.feature_names == ("width", "height") and spec.class_names == ("cat", "dog")
    cfg = wil.Config(dataset=name, depth=3, width=8)
    n_test = math.ceil(80 * TEST_FRACTION)  # 20
    assert (cfg.n_train(), cfg.n_test()) == (80 - n_test, n_test)
    # 2 features -> 8 -> 8 -> 8 -> 2 classes, weights and biases
    assert cfg.n_parameters() == (2 + 1) * 8 + 2 * (8 + 1) * 8 + (8 + 1) * 2
    memory = cfg.memory()
    assert memory["peak"] > 0 and np.isfinite(memory["peak"])


def test_same_content_same_name_and_any_difference_another():
    data = frame()
    name = from_frame(data, "kind")
    assert from_frame(data.copy(), "kind") == name
    assert from_frame(data, "kind", label="another label") == name  # the label is not content
    assert from_frame(data.iloc[::-1].reset_index(drop=True), "kind") != name  # row order decides the split
    assert from_frame(data.rename(columns={"width": "w"}), "kind") != name
    changed = data.copy()
    changed.loc[5, "height"] += 1e-9
    assert from_frame(changed, "kind") != name


def test_split_and_scaling_match_scikit_learn_done_by_hand():
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    data = frame(n=101, classes=("a", "b", "c"), seed=3)
    name = from_frame(data, "kind")
    loaded = wil.load_dataset(name, seed=7)
    X = data[["width", "height"]].to_numpy(float)
    y = data["kind"].map({"a": 0, "b": 1, "c": 2}).to_numpy()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=TEST_FRACTION, random_state=7, stratify=y)
    scaler = StandardScaler().fit(X_train)
    # the same operations on the same float64 values: equal up to rounding
    np.testing.assert_allclose(loaded.X_train, scaler.transform(X_train), rtol=0, atol=1e-12)
    np.testing.assert_allclose(loaded.X_test, scaler.transform(X_test), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(loaded.y_train, y_train)
    np.testing.assert_array_equal(loaded.y_test, y_test)
    assert loaded.feature_names == ("width", "height") and loaded.n_classes == 3


def test_regression_target_is_standardized_on_the_training_split():
    data = frame()
    data["price"] = 100.0 + 10.0 * data["width"] + np.arange(80) * 0.01
    name = from_frame(data.drop(columns="kind"), "price")
    assert wil.DATASETS[name].task == "regression" and wil.DATASETS[name].n_outputs == 1
    loaded = wil.load_dataset(name)
    assert loaded.y_train.mean() == pytest.approx(0, abs=1e-12)
    assert loaded.y_train.std() == pytest.approx(1, abs=1e-12)


def test_trains_and_gets_verdicts_with_the_decision_boundary_for_two_features():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 2))
    data = pd.DataFrame({"x": X[:, 0], "y": X[:, 1], "label": (X[:, 0] > 0).astype(int)})
    name = from_frame(data, "label")
    cfg = wil.Config(dataset=name, depth=2, width=16, epochs=60, learning_rate=0.5, compare=("zeros", "he_normal"))
    result = wil.compare(cfg)
    assert not result.grid.empty  # 2-D: the decision boundary is recorded
    verdicts = result.verdicts(by="initializer").set_index("initializer")["verdict"]
    assert verdicts["zeros"] == "symmetric"
    assert verdicts["he_normal"] == "learned"  # a linear boundary through the origin


def test_unicode_and_empty_headers_are_kept_as_names():
    data = frame()
    data.columns = ["température °C", "", "kind"]
    name = from_frame(data, "kind")
    assert wil.DATASETS[name].feature_names == ("température °C", "")


# ---------------------------------------------------------------- detecting the task

@pytest.mark.parametrize("values, task", [
    (["a", "b"] * 15, "classification"),
    ([True, False] * 15, "classification"),
    ([0, 1, 2] * 10, "classification"),
    ([0.0, 1.0] * 15, "classification"),  # whole numbers, as a CSV with "1.0" gives
    (list(range(AUTO_CLASSES)) * 2, "classification"),
    (list(range(AUTO_CLASSES + 1)) * 2, "regression"),
    (list(np.linspace(0, 1, 30)), "regression"),
])
def test_detect_task(values, task):
    assert detect_task(pd.Series(values)) == task


def test_the_task_can_be_overridden():
    data = frame()
    data["score"] = np.arange(80) % 5  # five whole numbers: classes by default
    data = data.drop(columns="kind")
    assert wil.DATASETS[from_frame(data, "score")].task == "classification"
    assert wil.DATASETS[from_frame(data, "score", task="regression")].task == "regression"
    with pytest.raises(ValueError, match=r"Invalid task 'clustering'; choose from \['classification', 'regression'\]"):
        from_frame(data, "score", task="clustering")
    with pytest.raises(ValueError, match=r"task='regression' needs real numbers"):
        from_frame(frame(), "kind", task="regression")


# ---------------------------------------------------------------- what cannot train, and says why

@pytest.mark.parametrize("make, pattern", [
    (lambda: frame(n=MIN_SAMPLES - 1), r"19 rows, at least 20 needed"),
    (lambda: frame(n=1), r"1 row, at least 20 needed"),
    (lambda: frame(city=["Paris"] * 80), r"feature column 'city' is not numeric \(e.g. 'Paris'\); encode it"),
    (lambda: frame(a=[np.nan] + [1.0] * 79, b=np.arange(80.0)), r"1 missing or infinite values in 'a'"),
    (lambda: frame(a=[np.inf] + list(range(79))), r"missing or infinite values in 'a'"),
    (lambda: frame(flat=[3.0] * 80), r"constant feature column 'flat'"),
    (lambda: frame(classes=("cat",)), r"one class only \('cat'\)"),
    (lambda: frame(classes=tuple(f"c{i}" for i in range(30))), r"30 classes in 80 rows, too many"),
    (lambda: frame(n=80, classes=("a", "b")).assign(kind=["a"] * 79 + ["b"]), r"class 'b' has a single example"),
])
def test_invalid_data_gets_a_clear_error(make, pattern):
    with pytest.raises(ValueError, match=pattern):
        from_frame(make(), "kind")


def test_missing_targets_duplicate_columns_and_wrong_types():
    data = frame()
    with pytest.raises(ValueError, match=r"Invalid target 'species': not a column; the columns are 'width', "):
        from_frame(data, "species")
    with pytest.raises(ValueError, match=r"no feature columns"):
        from_frame(data[["kind"]], "kind")
    with pytest.raises(ValueError, match=r"column names must be unique, 'width' repeated"):
        from_frame(pd.concat([data, data[["width"]]], axis=1), "kind")
    target_missing = data.copy()
    target_missing.loc[3, "kind"] = None
    with pytest.raises(ValueError, match=r"Invalid target 'kind': 1 missing values"):
        from_frame(target_missing, "kind")
    with pytest.raises(TypeError, match=r"Invalid frame: expected a pandas DataFrame, got 'dict'"):
        from_frame({"kind": [1]}, "kind")
    many = frame(**{f"extra{i}": np.arange(80.0) * i for i in range(1, 12)}).assign(extra1="text")
    with pytest.raises(ValueError, match=r"'extra1' is not numeric"):
        from_frame(many, "kind")


def test_unknown_names_list_only_the_built_in_datasets():
    name = from_frame(frame(), "kind")
    with pytest.raises(ValueError, match=r"Invalid dataset 'mnist'; choose from \[") as error:
        wil.Config(dataset="mnist")
    assert USER_PREFIX not in str(error.value) and name not in str(error.value)
    with pytest.raises(ValueError, match=r"no user dataset of that name is registered in this process"):
        wil.Config(dataset=USER_PREFIX + "0" * 64)
    del wil.DATASETS[name]
    with pytest.raises(ValueError, match=r"no user dataset of that name"):
        wil.load_dataset(name)


# ---------------------------------------------------------------- code to take home reads the same CSV

def _write_csv(tmp_path, data: pd.DataFrame):
    data.to_csv(tmp_path / "your_data.csv", index=False)


def _run(source: str, tmp_path, name: str) -> str:
    import os
    import subprocess
    import sys
    from pathlib import Path

    path = tmp_path / f"{name}.py"
    path.write_text(source)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, str(path)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_the_wil_script_registers_the_csv_again_and_prints_what_wil_train_reports(tmp_path, task):
    import re

    data = frame(n=60, classes=("b", "a", "c"), seed=4)
    data.columns = ["width (cm)", 'say "hi"', "kind"]
    if task == "regression":
        data["kind"] = data["width (cm)"] * 2.0 + np.linspace(0, 1, 60)
    _write_csv(tmp_path, data)
    name = from_frame(pd.read_csv(tmp_path / "your_data.csv", skipinitialspace=True), "kind", task=task)
    config = wil.Config(dataset=name, depth=2, width=8, epochs=3, initializer="glorot_uniform")
    out = _run(wil.to_wil(config), tmp_path, "take_home_wil")  # it asserts its data equals wil.load_dataset's
    epoch0 = wil.train(config).layers.query("epoch == 0")["act_std"].to_numpy()
    printed = [float(v) for v in re.findall(r"^  layer \d+: (\S+)$", out, flags=re.M)]
    np.testing.assert_allclose(printed, epoch0, rtol=1e-5)  # printed to 6 significant digits


@pytest.mark.torch
def test_the_pytorch_and_keras_scripts_read_the_same_csv(tmp_path):
    import ast

    data = frame(n=60, seed=5)
    _write_csv(tmp_path, data)
    name = from_frame(pd.read_csv(tmp_path / "your_data.csv"), "kind")
    config = wil.Config(dataset=name, depth=2, width=8, epochs=3)
    source = wil.to_pytorch(config)
    ast.parse(wil.to_keras(config))
    namespace = {"__name__": "generated"}
    import os
    cwd = os.getcwd()
    os.chdir(tmp_path)  # the script reads your_data.csv beside it
    try:
        exec(compile(source, "<generated>", "exec"), namespace)
        X_train, X_test, y_train, y_test = namespace["load_data"]()
    finally:
        os.chdir(cwd)
    loaded = wil.load_dataset(name)
    np.testing.assert_array_equal(X_train, loaded.X_train)  # the same calls on the same values: bit for bit
    np.testing.assert_array_equal(y_test, loaded.y_test)
    pytest.importorskip("torch", reason="torch is not installed: pip install torch==2.13.0")
    out = _run(source, tmp_path, "take_home_torch")
    assert "final test accuracy" in out

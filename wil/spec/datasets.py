"""Toy datasets from scikit-learn, offline: generated ones and the small ones shipped with the package;
and your own data, registered from a DataFrame (``from_frame``).

Every loader returns a ``Dataset`` already split (stratified for classification) with features
standardized on the training split only. scikit-learn is imported only when a dataset is loaded,
so ``import wil`` stays fast.

Your own data::

    name = wil.spec.datasets.from_frame(frame, target="species")   # "user:<sha256 of the content>"
    cfg = wil.Config(dataset=name, depth=5, width=32)         # the same split and scaling as the others
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

import numpy as np

TEST_FRACTION = 0.25
MIN_SAMPLES = 20  # the stratified 25% test split needs several examples of every class
_BYTES_PER_VALUE = 8 * 8  # float64, times the copies a generator, the split and the scaler make (measured: ~6)


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset: how to make it and what it is.

    ``make(n_samples, noise, rng_seed) -> (X, y)``; ``uses_samples`` / ``uses_noise`` say whether those
    arguments matter (the shipped datasets have a fixed size).
    """

    name: str
    label: str
    task: str  # "classification" or "regression"
    description: str
    make: Callable[[int, float, int], tuple[np.ndarray, np.ndarray]]
    uses_samples: bool = True
    uses_noise: bool = True
    n_features: int = 2
    n_outputs: int = 2  # classes, or 1 for regression
    size: int | None = None  # fixed number of samples of a shipped dataset
    feature_names: tuple[str, ...] = ()  # column names of a user dataset (x1, x2, ... when empty)
    target: str | None = None  # the target column of a user dataset
    class_names: tuple[str, ...] = ()  # a user dataset's classes, in the order of their codes 0..C-1


@dataclass(frozen=True)
class Dataset:
    """A split, standardized dataset. Regression targets are standardized too (on the training split)."""

    name: str
    task: str
    X_train: np.ndarray  # (n_train, n_features)
    y_train: np.ndarray  # (n_train,) int classes, or float targets
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int  # 0 for regression
    feature_names: tuple[str, ...]

    @property
    def n_features(self) -> int:
        return self.X_train.shape[1]

    @property
    def n_outputs(self) -> int:
        return self.n_classes if self.task == "classification" else 1


# ---------------------------------------------------------------- generators

def _moons(n, noise, seed):
    from sklearn.datasets import make_moons
    return make_moons(n_samples=n, noise=noise, random_state=seed)


def _circles(n, noise, seed):
    from sklearn.datasets import make_circles
    return make_circles(n_samples=n, noise=noise, factor=0.5, random_state=seed)


def _blobs(n, noise, seed):
    from sklearn.datasets import make_blobs
    # noise scales the clusters' spread: 0 -> tight, 1 -> overlapping
    return make_blobs(n_samples=n, centers=3, cluster_std=0.5 + 3.0 * noise, random_state=seed)


def _xor(n, noise, seed):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, (n, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    return X + noise * rng.standard_normal((n, 2)), y


def _spirals(n, noise, seed):
    # two interleaved Archimedean spirals, as in TensorFlow Playground
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    t = rng.uniform(0.25, 1.0, n) ** 0.5 * 3.0 * np.pi
    angle = t + np.pi * y
    X = np.column_stack([t * np.cos(angle), t * np.sin(angle)]) / (3.0 * np.pi)
    return X + noise * 0.3 * rng.standard_normal((n, 2)), y


def _gaussian_quantiles(n, noise, seed):
    from sklearn.datasets import make_gaussian_quantiles
    X, y = make_gaussian_quantiles(n_samples=n, n_features=2, n_classes=3, random_state=seed)
    return X + noise * np.random.default_rng(seed).standard_normal(X.shape), y


def _friedman1(n, noise, seed):
    from sklearn.datasets import make_friedman1
    return make_friedman1(n_samples=n, n_features=5, noise=noise, random_state=seed)


def _shipped(loader_name):
    def make(n, noise, seed):
        import sklearn.datasets
        bunch = getattr(sklearn.datasets, loader_name)()
        return bunch.data, bunch.target
    return make


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in [
        DatasetSpec("moons", "Two moons", "classification", "Two interleaving half circles (2-D, 2 classes).", _moons),
        DatasetSpec("circles", "Circles", "classification", "A circle inside a circle (2-D, 2 classes).", _circles),
        DatasetSpec("blobs", "Blobs", "classification", "Three Gaussian clusters (2-D, 3 classes).", _blobs,
                    n_outputs=3),
        DatasetSpec("xor", "XOR", "classification", "Opposite quadrants share a class (2-D, 2 classes).", _xor),
        DatasetSpec("spirals", "Spirals", "classification", "Two interleaved spirals (2-D, 2 classes).", _spirals),
        DatasetSpec("gaussian_quantiles", "Gaussian quantiles", "classification",
                    "Concentric shells of a Gaussian (2-D, 3 classes).", _gaussian_quantiles, n_outputs=3),
        DatasetSpec("iris", "Iris", "classification", "150 flowers, 4 measurements, 3 species.",
                    _shipped("load_iris"), uses_samples=False, uses_noise=False, n_features=4, n_outputs=3,
                    size=150),
        DatasetSpec("wine", "Wine", "classification", "178 wines, 13 chemical measurements, 3 cultivars.",
                    _shipped("load_wine"), uses_samples=False, uses_noise=False, n_features=13, n_outputs=3,
                    size=178),
        DatasetSpec("breast_cancer", "Breast cancer", "classification",
                    "569 tumours, 30 features, benign or malignant.",
                    _shipped("load_breast_cancer"), uses_samples=False, uses_noise=False, n_features=30,
                    size=569),
        DatasetSpec("digits", "Digits", "classification", "1,797 8x8 images of handwritten digits, 10 classes.",
                    _shipped("load_digits"), uses_samples=False, uses_noise=False, n_features=64,
                    n_outputs=10, size=1797),
        DatasetSpec("friedman1", "Friedman #1", "regression",
                    "y = 10 sin(pi x1 x2) + 20 (x3 - 1/2)^2 + 10 x4 + 5 x5 + noise (5 features).",
                    _friedman1, n_features=5, n_outputs=1),
        DatasetSpec("diabetes", "Diabetes", "regression",
                    "442 patients, 10 baseline variables, disease progression after a year.",
                    _shipped("load_diabetes"), uses_samples=False, uses_noise=False, n_features=10,
                    n_outputs=1, size=442),
    ]
}


def get_dataset_spec(name: str) -> DatasetSpec:
    """Return the registry entry for ``name``; raise ``ValueError`` listing the valid names."""
    return DATASETS[check_dataset("dataset", name)]


def check_dataset(argument: str, name: object) -> str:
    """``name`` if it is a key of ``DATASETS``; else an error naming ``argument`` that lists the built-in
    names (registered user datasets are not listed: their names are content hashes, not choices)."""
    from wil.spec.checks import ArgumentTypeError, shown

    if isinstance(name, str) and name in DATASETS:
        return name
    builtin = sorted(key for key in list(DATASETS) if not key.startswith(USER_PREFIX))  # list: one-step copy
    if not isinstance(name, str):
        raise ArgumentTypeError(f"Invalid {argument}: expected one of {builtin}, got {shown(name)}")
    if name.startswith(USER_PREFIX):
        raise ValueError(f"Invalid {argument} {shown(name)}: no user dataset of that name is registered in "
                         f"this process; register it with wil.spec.datasets.from_frame")
    raise ValueError(f"Invalid {argument} {shown(name)}; choose from {builtin}")


def load_dataset(name: str, n_samples: int = 500, noise: float = 0.2, seed: int = 0) -> Dataset:
    """Make or load dataset ``name``, split it (stratified for classification) and standardize it.

    Parameters
    ----------
    name : a key of ``DATASETS``.
    n_samples, noise : used by the generated datasets; the shipped ones have a fixed size.
    seed : seeds generation and the split.
    """
    from wil.spec.checks import check_float, check_int
    from wil.engine.memory import check_fits

    spec = DATASETS[check_dataset("dataset", name)]
    n_samples = check_int("n_samples", n_samples, MIN_SAMPLES)
    noise = check_float("noise", noise, 0.0)
    seed = check_int("seed", seed, 0, 2**32 - 1)
    if spec.size is None:  # generated: the samples, their split and scaled copies, in float64
        check_fits(f"Dataset {name!r} with {n_samples:,} samples", _BYTES_PER_VALUE * n_samples * spec.n_features,
                   "use fewer samples")
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = spec.make(n_samples, noise, seed)
    X = np.asarray(X, dtype=np.float64)
    classification = spec.task == "classification"
    if classification:
        _, y = np.unique(y, return_inverse=True)  # classes 0..C-1
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=TEST_FRACTION, random_state=seed, stratify=y if classification else None)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    if classification:
        n_classes = int(y.max()) + 1
        y_train, y_test = y_train.astype(np.int64), y_test.astype(np.int64)
    else:
        n_classes = 0
        mean, std = y_train.mean(), y_train.std()
        y_train, y_test = (y_train - mean) / std, (y_test - mean) / std
    names = spec.feature_names or tuple(f"x{i + 1}" for i in range(X.shape[1]))
    return Dataset(name, spec.task, X_train, y_train, X_test, y_test, n_classes, names)


# ---------------------------------------------------------------- your own data

USER_PREFIX = "user:"  # registry keys of user datasets: "user:" + the SHA-256 of their content
TASKS = ("classification", "regression")
AUTO_CLASSES = 20  # a target of integers with at most this many distinct values is taken for classes
SHOWN_COLUMNS = 5  # columns named in one message at most


def from_frame(frame, target, task: str | None = None, label: str | None = None) -> str:
    """Register a DataFrame as a dataset and return its name, for ``wil.Config(dataset=name)``.

    The data then goes through the same path as the built-in datasets (``load_dataset``): a 75/25 split,
    stratified for classification, features standardized on the training split (regression targets
    too). Nothing is dropped or filled in silently: data that cannot train raises ``ValueError``.

    Parameters
    ----------
    frame : pandas.DataFrame, one row per example: numeric feature columns (bool counts as 0/1) and the
        target column. At least ``MIN_SAMPLES`` (20) rows, no missing or infinite values, no constant
        feature, unique column names.
    target : the label of the target column.
    task : ``"classification"`` or ``"regression"``; ``None`` detects it: text, bool or categorical
        targets, and whole numbers with at most ``AUTO_CLASSES`` (20) distinct values, are classes;
        any other numbers are a regression target.
    label : the name shown for the dataset, e.g. the file it came from (default ``"Your data"``).

    Returns
    -------
    str, ``"user:<sha256 hex>"``: a hash of the content (features, target, task and column names), so
    the same data registers once under the same name, and a different one never collides. The entry
    lives in ``DATASETS`` for the life of the process (``DATASETS.pop(name)`` forgets it).

    Raises
    ------
    ValueError (``ArgumentTypeError``, also a ``TypeError``, for a wrong type) naming the problem: a
    non-numeric feature, missing values, a constant feature, too few rows, one class only, too many
    classes for a stratified split (every class needs 2 examples, and the test split one of each).
    """
    spec, X, y = _user_spec(frame, target, task, label)
    X.setflags(write=False)
    y.setflags(write=False)
    DATASETS[spec.name] = dataclasses.replace(spec, make=_fixed(X, y))
    return spec.name


def _fixed(X: np.ndarray, y: np.ndarray):
    """A ``make`` that returns copies of the same arrays whatever the size, noise and seed."""
    def make(n, noise, seed):
        return X.copy(), y.copy()
    return make


def _user_spec(frame, target, task, label) -> tuple[DatasetSpec, np.ndarray, np.ndarray]:
    """The validated spec (``make`` unset), features (n, d) float64 and target (n,) of a user frame."""
    import pandas as pd

    from wil.spec.checks import ArgumentTypeError, check_choice, shown

    if not isinstance(frame, pd.DataFrame):
        raise ArgumentTypeError(f"Invalid frame: expected a pandas DataFrame, got {shown(type(frame).__name__)}")
    label = "Your data" if label is None else label
    if not isinstance(label, str):
        raise ArgumentTypeError(f"Invalid label: expected a string, got {shown(label)}")
    if task is not None:
        task = check_choice("task", task, TASKS)
    columns = list(frame.columns)
    if len(set(map(str, columns))) != len(columns):
        repeated = sorted({str(c) for c in columns if list(map(str, columns)).count(str(c)) > 1})
        raise ValueError(f"Invalid frame: column names must be unique, {_names(repeated)} repeated")
    if target not in columns:
        raise ValueError(f"Invalid target {shown(target)}: not a column; the columns are {_names(columns)}")
    features = [c for c in columns if c != target]
    if not features:
        raise ValueError(f"Invalid frame: no feature columns besides the target {shown(target)}")
    n_rows = len(frame)
    if n_rows < MIN_SAMPLES:
        raise ValueError(f"Invalid frame: {n_rows} row{'s' if n_rows != 1 else ''}, at least {MIN_SAMPLES} "
                         f"needed (the 25% test split needs several examples of every class)")
    X = _features(frame[features], features)
    y_column = frame[target]
    if y_column.isna().any():
        raise ValueError(f"Invalid target {shown(target)}: {int(y_column.isna().sum())} missing values; "
                         f"drop those rows or fill them in")
    task = task or detect_task(y_column)
    if task == "classification":
        y, class_names = _classes(y_column, target, n_rows)
    else:
        y, class_names = _regression_target(y_column, target), ()
    n_outputs = len(class_names) if task == "classification" else 1
    name = USER_PREFIX + _content_hash(X, y, task, target, features, class_names)
    description = (f"Your data: {n_rows:,} rows, {len(features)} feature{'s' if len(features) != 1 else ''}, "
                   + (f"{n_outputs} classes." if task == "classification" else "a regression target."))
    spec = DatasetSpec(name, label, task, description, make=None, uses_samples=False, uses_noise=False,
                       n_features=len(features), n_outputs=n_outputs, size=n_rows,
                       feature_names=tuple(map(str, features)), target=str(target), class_names=class_names)
    return spec, X, y


def detect_task(column) -> str:
    """``"classification"`` for text, bool or categorical values, or whole numbers with at most
    ``AUTO_CLASSES`` distinct values; else ``"regression"``.

    Parameters
    ----------
    column : pandas.Series, the target (no missing values).

    Returns
    -------
    str, one of ``TASKS``.
    """
    import pandas as pd

    if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return "classification"
    values = column.to_numpy(dtype=np.float64)  # (n,)
    whole = np.isfinite(values).all() and np.array_equal(values, np.round(values))
    return "classification" if whole and len(np.unique(values)) <= AUTO_CLASSES else "regression"


def _features(frame, features: list) -> np.ndarray:
    """The feature columns as a float64 array (n, d), or a ``ValueError`` naming the bad columns."""
    import pandas as pd

    from wil.spec.checks import shown

    text = [c for c in features if not (pd.api.types.is_numeric_dtype(frame[c]) or
                                        pd.api.types.is_bool_dtype(frame[c]))]
    if text:
        column = frame[text[0]]
        example = column[column.notna()].iloc[0] if column.notna().any() else None
        raise ValueError(f"Invalid frame: feature column{'s' if len(text) > 1 else ''} {_names(text)} "
                         f"{'are' if len(text) > 1 else 'is'} not numeric (e.g. {shown(example)}); "
                         f"encode {'them' if len(text) > 1 else 'it'} as numbers or drop "
                         f"{'them' if len(text) > 1 else 'it'}")
    X = frame.to_numpy(dtype=np.float64, na_value=np.nan)  # (n, d)
    missing = ~np.isfinite(X)  # (n, d)
    if missing.any():
        bad = [features[j] for j in np.flatnonzero(missing.any(axis=0))]
        raise ValueError(f"Invalid frame: {int(missing.sum()):,} missing or infinite values in "
                         f"{_names(bad)}; drop those rows or fill them in")
    constant = [features[j] for j in np.flatnonzero(np.ptp(X, axis=0) == 0)]
    if constant:
        raise ValueError(f"Invalid frame: constant feature column{'s' if len(constant) > 1 else ''} "
                         f"{_names(constant)} (one value in every row: nothing to learn from); drop "
                         f"{'them' if len(constant) > 1 else 'it'}")
    return np.ascontiguousarray(X)


def _classes(column, target, n_rows: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """Class codes (n,) int64 in 0..C-1 and the class names, or a ``ValueError``."""
    import math

    from wil.spec.checks import shown

    codes, uniques = column.factorize(sort=True)
    names = tuple(str(value) for value in uniques)
    counts = np.bincount(codes, minlength=len(names))  # (C,)
    if len(names) < 2:
        raise ValueError(f"Invalid target {shown(target)}: one class only ({shown(names[0])}); "
                         f"a classifier needs at least 2")
    n_test = math.ceil(n_rows * TEST_FRACTION)
    if len(names) > min(n_test, n_rows - n_test):
        raise ValueError(f"Invalid target {shown(target)}: {len(names):,} classes in {n_rows:,} rows, too many "
                         f"for a stratified 75/25 split (at most {min(n_test, n_rows - n_test)}); if the "
                         f"target is a number to predict, use task='regression'")
    if counts.min() < 2:
        rare = [names[i] for i in np.flatnonzero(counts < 2)]
        raise ValueError(f"Invalid target {shown(target)}: class{'es' if len(rare) > 1 else ''} {_names(rare)} "
                         f"{'have' if len(rare) > 1 else 'has'} a single example; a stratified split needs at "
                         f"least 2 of every class")
    return codes.astype(np.int64), names


def _regression_target(column, target) -> np.ndarray:
    """A numeric, finite, non-constant target as float64 (n,), or a ``ValueError``."""
    import pandas as pd

    from wil.spec.checks import shown

    if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        raise ValueError(f"Invalid target {shown(target)}: task='regression' needs numbers, got values such "
                         f"as {shown(column.iloc[0])}; use task='classification'")
    y = column.to_numpy(dtype=np.float64)  # (n,)
    if not np.isfinite(y).all():
        raise ValueError(f"Invalid target {shown(target)}: infinite values")
    if np.ptp(y) == 0:
        raise ValueError(f"Invalid target {shown(target)}: the same value in every row; nothing to predict")
    return y


def _content_hash(X, y, task, target, features, class_names) -> str:
    """SHA-256 of everything that defines a user dataset, as 64 hex digits."""
    import hashlib

    digest = hashlib.sha256()
    header = repr((task, str(target), tuple(map(str, features)), class_names, X.shape))
    digest.update(header.encode("utf-8", "surrogatepass"))
    digest.update(X.tobytes())
    digest.update(np.ascontiguousarray(y).tobytes())
    return digest.hexdigest()


def _names(columns: list) -> str:
    """Up to ``SHOWN_COLUMNS`` column names for a message, then how many more."""
    from wil.spec.checks import shown

    names = ", ".join(shown(str(c)) for c in columns[:SHOWN_COLUMNS])
    return names + (f" and {len(columns) - SHOWN_COLUMNS:,} more" if len(columns) > SHOWN_COLUMNS else "")

"""Toy datasets from scikit-learn, offline: generated ones and the small ones shipped with the package,
in the registry ``DATASETS``, and ``load_dataset``, the one path every dataset takes to training.

Every loader returns a ``Dataset`` already split (stratified for classification) with features
standardized on the training split only. scikit-learn is imported only when a dataset is loaded,
so ``import wil`` stays fast. Your own data joins the same registry from a DataFrame
(``wil.from_frame``, in ``wil.spec.user_data``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

import numpy as np

from wil.spec.checks import MAX_SIZE, ArgumentTypeError, check_finite_features, check_float, check_int, shown
from wil.spec.resources import check_fits

TEST_FRACTION = 0.25
TASKS = ("classification", "regression")
USER_PREFIX = "user:"  # keys of user datasets (wil.spec.user_data): "user:" + the SHA-256 of their content
MAX_SEED = 2**32 - 1  # scikit-learn's generators take the seed as a NumPy RandomState seed, below 2**32
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
    task: str  # one of TASKS
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
    if isinstance(name, str) and name in DATASETS:
        return name
    builtin = sorted(key for key in list(DATASETS) if not key.startswith(USER_PREFIX))  # list: one-step copy
    if not isinstance(name, str):
        raise ArgumentTypeError(f"Invalid {argument}: expected one of {builtin}, got {shown(name)}")
    if name.startswith(USER_PREFIX):
        raise ValueError(f"Invalid {argument} {shown(name)}: no user dataset of that name is registered in "
                         f"this process; register it with wil.from_frame")
    raise ValueError(f"Invalid {argument} {shown(name)}; choose from {builtin}")


def load_dataset(name: str, n_samples: int = 500, noise: float = 0.2, seed: int = 0) -> Dataset:
    """Make or load dataset ``name``, split it (stratified for classification) and standardize it.

    Parameters
    ----------
    name : a key of ``DATASETS``.
    n_samples, noise : used by the generated datasets; the shipped ones have a fixed size.
    seed : seeds generation and the split.
    """
    spec = DATASETS[check_dataset("dataset", name)]
    n_samples = check_int("n_samples", check_int("n_samples", n_samples, MIN_SAMPLES), MIN_SAMPLES, MAX_SIZE)  # 64-bit
    noise = check_float("noise", noise, 0.0) + 0.0  # -0.0 as 0.0: NumPy refuses a scale of -0.0
    seed = check_int("seed", seed, 0, MAX_SEED)
    if spec.size is None:  # generated: the samples, their split and scaled copies, in float64
        check_fits(f"Dataset {name!r} with {n_samples:,} samples", _BYTES_PER_VALUE * n_samples * spec.n_features,
                   "use fewer samples")
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported next, with its cause
        X, y = spec.make(n_samples, noise, seed)
        X = np.asarray(X, dtype=np.float64)
    if not np.isfinite(X).all():
        raise ValueError(f"Invalid noise: noise={noise:g} is too large: the generated data overflows a float")
    classification = spec.task == "classification"
    if classification:
        _, y = np.unique(y, return_inverse=True)  # classes 0..C-1
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=TEST_FRACTION, random_state=seed, stratify=y if classification else None)
    with np.errstate(all="ignore"):  # an overflow is reported below, with its cause
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
        if classification:
            n_classes = int(y.max()) + 1
            y_train, y_test = y_train.astype(np.int64), y_test.astype(np.int64)
        else:
            n_classes = 0
            mean, std = y_train.mean(), y_train.std()
            std = std if 0 < std < np.inf else np.nan  # an overflowed spread: reported below
            y_train, y_test = (y_train - mean) / std, (y_test - mean) / std
    why = (f"noise={noise:g} is too large: the data's variance overflows a float"
           if spec.uses_noise else "the dataset's values overflow a float")
    for values in (X_train, X_test, *(() if classification else (y_train, y_test))):
        check_finite_features("noise" if spec.uses_noise else "dataset", values, why)
    names = spec.feature_names or tuple(f"x{i + 1}" for i in range(X.shape[1]))
    return Dataset(name, spec.task, X_train, y_train, X_test, y_test, n_classes, names)

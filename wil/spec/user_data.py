"""Your own data: a DataFrame validated and registered in ``wil.spec.datasets.DATASETS`` (``from_frame``),
under a name made of a hash of its content, so it trains through the same ``load_dataset`` as the built-in
datasets (the same split and scaling)::

    name = wil.from_frame(frame, target="species")    # "user:<sha256 of the content>"
    cfg = wil.Config(dataset=name, depth=5, width=32)

Nothing is dropped or filled in silently: data that cannot train raises ``ValueError`` saying why.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from wil.spec.checks import ArgumentTypeError, check_choice, shown
from wil.spec.datasets import DATASETS, MIN_SAMPLES, TASKS, TEST_FRACTION, USER_PREFIX, DatasetSpec

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


class _fixed:
    """A ``make`` that returns copies of the same arrays whatever the size, noise and seed (a class, not a
    closure, so that the dataset pickles: a server may train it in another process)."""

    def __init__(self, X: np.ndarray, y: np.ndarray):
        self.X, self.y = X, y

    def __call__(self, n, noise, seed):
        return self.X.copy(), self.y.copy()


def _user_spec(frame, target, task, label) -> tuple[DatasetSpec, np.ndarray, np.ndarray]:
    """The validated spec (``make`` unset), features (n, d) float64 and target (n,) of a user frame."""
    import pandas as pd

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
    try:
        present = target in set(columns)  # a column label is hashable
    except TypeError:
        raise ArgumentTypeError(f"Invalid target: expected a column label such as 'y', got {shown(target)}") from None
    if not present:
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

    if not isinstance(column, pd.Series):
        raise ArgumentTypeError(f"Invalid column: expected a pandas Series (the target), got {shown(column)}")
    if (not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)
            or pd.api.types.is_complex_dtype(column)):
        return "classification"
    values = column.to_numpy(dtype=np.float64)  # (n,)
    whole = np.isfinite(values).all() and np.array_equal(values, np.round(values))
    return "classification" if whole and len(np.unique(values)) <= AUTO_CLASSES else "regression"


def _features(frame, features: list) -> np.ndarray:
    """The feature columns as a float64 array (n, d), or a ``ValueError`` naming the bad columns."""
    import pandas as pd

    text = [c for c in features if not (pd.api.types.is_numeric_dtype(frame[c]) or
                                        pd.api.types.is_bool_dtype(frame[c]))]
    if text:
        column = frame[text[0]]
        example = column[column.notna()].iloc[0] if column.notna().any() else None
        raise ValueError(f"Invalid frame: feature column{'s' if len(text) > 1 else ''} {_names(text)} "
                         f"{'are' if len(text) > 1 else 'is'} not numeric (e.g. {shown(example)}); "
                         f"encode {'them' if len(text) > 1 else 'it'} as numbers or drop "
                         f"{'them' if len(text) > 1 else 'it'}")
    complex_columns = [c for c in features if pd.api.types.is_complex_dtype(frame[c])]
    if complex_columns:
        raise ValueError(f"Invalid frame: feature column{'s' if len(complex_columns) > 1 else ''} "
                         f"{_names(complex_columns)} hold{'' if len(complex_columns) > 1 else 's'} complex numbers; "
                         f"a network here takes real numbers: split them into real and imaginary columns")
    X = frame.to_numpy(dtype=np.float64, na_value=np.nan)  # (n, d)
    missing = ~np.isfinite(X)  # (n, d)
    if missing.any():
        bad = [features[j] for j in np.flatnonzero(missing.any(axis=0))]
        raise ValueError(f"Invalid frame: {int(missing.sum()):,} missing or infinite values in "
                         f"{_names(bad)}; drop those rows or fill them in")
    with np.errstate(all="ignore"):  # a range that overflows is not 0: such columns are refused below
        constant = [features[j] for j in np.flatnonzero(np.ptp(X, axis=0) == 0)]
    if constant:
        raise ValueError(f"Invalid frame: constant feature column{'s' if len(constant) > 1 else ''} "
                         f"{_names(constant)} (one value in every row: nothing to learn from); drop "
                         f"{'them' if len(constant) > 1 else 'it'}")
    with np.errstate(all="ignore"):
        spread = np.std(X, axis=0)  # (d,) what standardizing divides by: inf if the squares overflow
    huge = [features[j] for j in np.flatnonzero(~np.isfinite(spread))]
    if huge:
        raise ValueError(f"Invalid frame: feature column{'s' if len(huge) > 1 else ''} {_names(huge)} would "
                         f"standardize to NaN (values so large, e.g. {shown(float(np.abs(X).max()))}, that their "
                         f"variance overflows a float); rescale {'them' if len(huge) > 1 else 'it'}")
    return np.ascontiguousarray(X)


def _classes(column, target, n_rows: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """Class codes (n,) int64 in 0..C-1 and the class names, or a ``ValueError``."""
    import math

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

    if not isinstance(column, pd.Series):
        raise ArgumentTypeError(f"Invalid column: expected a pandas Series (the target), got {shown(column)}")
    if (not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)
            or pd.api.types.is_complex_dtype(column)):
        raise ValueError(f"Invalid target {shown(target)}: task='regression' needs real numbers, got values such "
                         f"as {shown(column.iloc[0])}; use task='classification'")
    y = column.to_numpy(dtype=np.float64)  # (n,)
    if not np.isfinite(y).all():
        raise ValueError(f"Invalid target {shown(target)}: infinite values")
    with np.errstate(all="ignore"):
        spread, constant = np.std(y), np.ptp(y) == 0
    if constant:
        raise ValueError(f"Invalid target {shown(target)}: the same value in every row; nothing to predict")
    if not np.isfinite(spread):
        raise ValueError(f"Invalid target {shown(target)}: values so large that their variance overflows a "
                         f"float, so they would standardize to NaN; rescale it")
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
    names = ", ".join(shown(str(c)) for c in columns[:SHOWN_COLUMNS])
    return names + (f" and {len(columns) - SHOWN_COLUMNS:,} more" if len(columns) > SHOWN_COLUMNS else "")

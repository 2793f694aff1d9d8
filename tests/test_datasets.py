"""Datasets: every registry entry loads offline, split stratified, standardized on training data only."""

import numpy as np
import pytest

import wil
from wil.spec.datasets import TEST_FRACTION, load_dataset

REQUIRED = {"moons", "circles", "blobs", "xor", "spirals", "gaussian_quantiles", "iris", "wine", "breast_cancer",
            "digits"}


def test_registry_has_the_required_sets_and_two_regressions():
    assert REQUIRED <= set(wil.DATASETS)
    assert sum(spec.task == "regression" for spec in wil.DATASETS.values()) >= 2


@pytest.mark.parametrize("name", sorted(wil.DATASETS))
def test_loads_split_and_standardized(name):
    spec = wil.DATASETS[name]
    data = load_dataset(name, n_samples=400, noise=0.1, seed=0)
    n = spec.size or 400
    assert data.X_train.shape[0] + data.X_test.shape[0] == n
    assert data.X_test.shape[0] == int(np.ceil(TEST_FRACTION * n))
    assert data.n_features == spec.n_features and data.n_outputs == spec.n_outputs
    np.testing.assert_allclose(data.X_train.mean(axis=0), 0, atol=1e-10)
    std = data.X_train.std(axis=0)
    np.testing.assert_allclose(std[std > 0], 1, atol=1e-10)
    assert np.isfinite(data.X_test).all()
    if spec.task == "classification":
        assert data.y_train.dtype == np.int64 and set(np.unique(data.y_train)) == set(range(data.n_classes))
        # stratified: class shares agree between the splits
        train_share = np.bincount(data.y_train) / len(data.y_train)
        test_share = np.bincount(data.y_test, minlength=data.n_classes) / len(data.y_test)
        np.testing.assert_allclose(train_share, test_share, atol=0.05)
    else:
        assert data.y_train.mean() == pytest.approx(0, abs=1e-10)


def test_test_split_is_scaled_with_training_statistics():
    # the test split is not re-standardized on its own
    data = load_dataset("blobs", 200, 0.5, 3)
    assert not np.allclose(data.X_test.mean(axis=0), 0, atol=1e-6)


def test_noise_and_seed_matter_for_generated_sets():
    a, b, c = load_dataset("moons", 200, 0.1, 0), load_dataset("moons", 200, 0.1, 0), load_dataset("moons", 200, 0.1, 1)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert not np.array_equal(a.X_train, c.X_train)
    assert not np.array_equal(a.X_train, load_dataset("moons", 200, 0.3, 0).X_train)


def test_unknown_dataset():
    with pytest.raises(ValueError, match=r"Invalid dataset 'mnist'; choose from"):
        load_dataset("mnist")

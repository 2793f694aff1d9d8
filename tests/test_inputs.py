"""Every public entry point refuses bad input with a message of its own.

A wrong type raises a ``TypeError`` (``wil.ArgumentTypeError``, also a ``ValueError``); a NaN, an infinity,
a negative or an enormous value, an unknown name, a size that cannot fit memory raise ``ValueError``. Each
message names the argument, quotes what was received and says what is allowed; none is a MemoryError, an
AttributeError or NumPy's own words.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import wil

CONFIG = wil.Config(dataset="moons", n_samples=100, depth=2, width=4, epochs=2)


@pytest.fixture(scope="module")
def result():
    return wil.compare(CONFIG, ["he_normal", "zeros"], [0, 1])


TYPE_ERRORS = [
    (lambda: wil.compare("moons"), r"Invalid config: expected a wil.Config, got 'moons'"),
    (lambda: wil.train({"depth": 3}), r"Invalid config: expected a wil.Config"),
    (lambda: wil.compare(CONFIG, seeds=[True]), r"Invalid seed: expected an integer"),
    (lambda: wil.compare(CONFIG, seeds=[1.5]), r"Invalid seed: expected an integer"),
    (lambda: wil.compare(CONFIG, seeds=5), r"Invalid seeds: expected a list of integers, got 5"),
    (lambda: wil.compare(CONFIG, seeds="012"), r"Invalid seeds: expected a list of integers, got '012'"),
    (lambda: wil.compare(CONFIG, initializers="he_normal"), r"Invalid initializers: expected a list"),
    (lambda: wil.compare(CONFIG, initializers=[3]), r"Invalid initializer entry 3"),
    (lambda: wil.compare(CONFIG, diagnostics="no"), r"Invalid diagnostics: expected True or False, got 'no'"),
    (lambda: wil.compare(CONFIG, progress="yes"), r"Invalid progress: expected True, False, None or a callable"),
    (lambda: wil.load_dataset(3), r"Invalid dataset: expected one of \[.*'moons'.*\], got 3"),
    (lambda: wil.load_dataset("moons", "500"), r"Invalid n_samples: expected an integer >= 20, got '500'"),
    (lambda: wil.load_dataset("moons", 100, 1j), r"Invalid noise: expected a number >= 0, got 1j"),
    (lambda: wil.load_dataset("moons", 100, 0.1, seed=True), r"Invalid seed: expected an integer"),
    (lambda: wil.theory_frame(None), r"Invalid config: expected a wil.Config, got None"),
    (lambda: wil.theory_frame(CONFIG, "he_normal"), r"Invalid initializers: expected a list"),
    (lambda: wil.initialize("he_normal", "3", 3), r"Invalid fan_in: expected an integer"),
    (lambda: wil.Config(activation=None), r"Invalid activation: expected one of"),
]

VALUE_ERRORS = [
    (lambda: wil.compare(CONFIG, seeds=[-1]), r"Invalid seed: expected an integer in \[0, 4,294,967,295\], got -1"),
    (lambda: wil.compare(CONFIG, seeds=[2**40]), r"Invalid seed: expected an integer in \[0, 4,294,967,295\]"),
    (lambda: wil.compare(CONFIG, seeds=[]), r"Invalid seeds: expected at least one seed"),
    (lambda: wil.compare(CONFIG, initializers=["he_normal", "he_normal(scale=1)"]), r"'he_normal' is listed twice"),
    (lambda: wil.compare(CONFIG, initializers=["random_normal(std=0.01, std=0.5)"]), r"'std' is given twice"),
    (lambda: wil.compare(CONFIG, initializers=["nope"]), r"Invalid initializer 'nope'; choose from"),
    (lambda: wil.compare(CONFIG, seeds=range(10**6)), r"This run \(1000000 networks of 2 x 4, 2 epochs\) needs "
                                                      r"about .* of memory at its peak"),
    (lambda: wil.load_dataset("mnist"), r"Invalid dataset 'mnist'; choose from"),
    (lambda: wil.load_dataset("moons", -5), r"Invalid n_samples: expected an integer >= 20, got -5"),
    (lambda: wil.load_dataset("moons", 100, float("nan")), r"Invalid noise: expected a number >= 0, got nan"),
    (lambda: wil.load_dataset("moons", 100, math.inf), r"Invalid noise: expected a number >= 0, got inf"),
    (lambda: wil.load_dataset("moons", 10**9, 0.1, 0), r"Dataset 'moons' with 1,000,000,000 samples needs about"),
    (lambda: wil.theory_frame(CONFIG, ["xavier"]), r"Invalid initializer 'xavier'"),
    (lambda: wil.theory_frame(wil.Config(depth=10**12)), r"A theory frame of 1 initializers x 1,000,000,000,001 "
                                                         r"layers needs about"),
    (lambda: wil.Config(depth=10**40), r"Invalid depth: expected an integer in \[1, 9,223,372,036,854,775,807\]"),
    (lambda: wil.Config(learning_rate=-1e-3), r"Invalid learning_rate: expected a number > 0, got -0.001"),
    (lambda: wil.Config(noise=1e400), r"Invalid noise: expected a number >= 0, got inf"),
]


@pytest.mark.parametrize("call, message", TYPE_ERRORS)
def test_a_wrong_type_is_a_type_error_naming_the_argument(call, message):
    with pytest.raises(TypeError, match=message) as error:
        call()
    assert isinstance(error.value, ValueError)  # code that catches ValueError sees it too


@pytest.mark.parametrize("call, message", VALUE_ERRORS)
def test_a_bad_value_is_a_value_error_naming_the_argument(call, message):
    with pytest.raises(ValueError, match=message) as error:
        call()
    assert not isinstance(error.value, (MemoryError, AttributeError))
    assert str(error.value).isascii()


@pytest.mark.parametrize("call, error, message", [
    (lambda r: r.verdicts(by="seed"), ValueError, r"Invalid by 'seed'; choose from \['initializer', 'network'\]"),
    (lambda r: r.verdicts(by=None), TypeError, r"Invalid by: expected one of"),
    (lambda r: r.plot.activations(epoch=7), ValueError, r"epoch"),
    (lambda r: r.plot.activations(epoch="0"), TypeError, r"epoch"),
    (lambda r: r.save(3), TypeError, r"path"),
])
def test_result_accessors_check_their_arguments(result, call, error, message):
    with pytest.raises(error, match=message):
        call(result)


def test_progress_true_draws_a_notebook_aware_bar(capsys):
    """``progress=True``: tqdm.auto's bar (a text bar here, a widget in Jupyter), from 0 to 100%."""
    wil.compare(CONFIG, progress=True)
    err = capsys.readouterr().err
    assert "wil: 1 network" in err and "100/100%" in err


def test_a_stopping_callback_keeps_what_was_trained():
    """``progress`` may raise wil.StopTraining: the run ends after the epoch in progress, and the result
    holds every epoch trained, its histograms and boundary at the last one included."""
    def stop_at_half(fraction):
        if fraction >= 0.5:
            raise wil.StopTraining

    config = wil.Config(dataset="moons", n_samples=100, depth=2, width=4, epochs=20)
    result = wil.compare(config, ["he_normal", "zeros"], [0, 1], progress=stop_at_half)
    assert result.stopped_epoch == 10  # told 0.5 once 10 epochs were trained: their record is the last
    assert result.history["epoch"].max() == 10 and result.layers["epoch"].max() == 10
    assert 10 in set(result.histograms["epoch"]) and 10 in set(result.grid["epoch"])
    full = wil.compare(config, ["he_normal", "zeros"], [0, 1])
    mine = full.history[full.history["epoch"] <= 10].reset_index(drop=True)
    np.testing.assert_array_equal(result.history["loss"].to_numpy(), mine["loss"].to_numpy())

"""``wil.resume``: a run stopped (``wil.StopTraining``) or finished, continued, has every frame of one
uninterrupted run, exactly: the same operations on the same arrays in the same order, so no tolerance."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pandas as pd
import pytest

import wil
from wil.analysis import compare as compare_module
from wil.analysis.result import FRAMES
from wil.engine.threads import Plan

BASE = wil.Config(dataset="moons", n_samples=200, noise=0.2, depth=3, width=8, epochs=30, learning_rate=0.1,
                  compare=("he_normal", "glorot_uniform"), n_seeds=2)


def stop_after(epoch: int, epochs: int):
    """A progress callback that stops the run once ``epoch`` epochs are trained."""
    def progress(fraction: float) -> None:
        if round(fraction * epochs) >= epoch:
            raise wil.StopTraining
    return progress


def assert_same(resumed: wil.Result, full: wil.Result) -> None:
    assert resumed.config == full.config and resumed.stopped_epoch == full.stopped_epoch
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(resumed, name), getattr(full, name), check_exact=True, obj=name)
    if full.scalars is None:
        assert resumed.scalars is None
    else:
        pd.testing.assert_frame_equal(resumed.scalars, full.scalars, check_exact=True, obj="scalars")


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("batch_size", [None, 32])
@pytest.mark.parametrize("diagnostics", [True, False])
def test_a_stopped_run_continues_to_the_numbers_of_one_run(optimizer, batch_size, diagnostics):
    config = dataclasses.replace(BASE, optimizer=optimizer, batch_size=batch_size)
    full = wil.compare(config, diagnostics=diagnostics)
    for stop in (1, 9, 12):  # 9 is a histogram epoch of 30 (0, 3, 9, 18, 30); 12 is not
        stopped = wil.compare(config, diagnostics=diagnostics, progress=stop_after(stop, config.epochs))
        assert stopped.stopped_epoch == stop
        assert_same(wil.resume(stopped), full)


@pytest.mark.parametrize("cure", [dict(normalization="batch"), dict(normalization="batch", batch_size=32),
                                  dict(normalization="layer", optimizer="adam"),
                                  dict(residual=True, depth=4, compare=("fixup", "rezero", "he_normal"),
                                       optimizer="momentum", batch_size=32)])
def test_normalized_and_residual_networks_continue_exactly(cure):
    """BatchNorm's running statistics move once per step, as in one run; residual scalars train on."""
    config = dataclasses.replace(BASE, **cure)
    full = wil.compare(config, snapshots=7)
    stopped = wil.compare(config, snapshots=7, progress=stop_after(11, config.epochs))
    assert_same(wil.resume(stopped), full)


def test_stopping_twice_and_continuing_a_pickled_result(monkeypatch):
    """A resumed run can be stopped and continued again; the state survives pickling (``st.cache_data``)."""
    config = dataclasses.replace(BASE, batch_size=40, optimizer="adam")
    full = wil.compare(config)
    first = wil.compare(config, progress=stop_after(5, config.epochs))
    second = wil.resume(pickle.loads(pickle.dumps(first)), progress=stop_after(17, config.epochs))
    assert second.stopped_epoch == 17
    assert_same(wil.resume(pickle.loads(pickle.dumps(second))), full)
    assert_same(wil.resume(first), full)  # the first result is untouched by its continuation


def test_groups_on_threads_continue_exactly(monkeypatch):
    """Networks split into groups trained on threads (as on a machine with cores to spare)."""
    monkeypatch.setattr(compare_module, "plan", lambda *args: Plan(2, 2, 1, 1))
    config = dataclasses.replace(BASE, batch_size=50, optimizer="momentum")
    full = wil.compare(config)
    assert_same(wil.resume(wil.compare(config, progress=stop_after(8, config.epochs))), full)


def test_a_finished_run_continues_to_more_epochs():
    """Beyond ``config.epochs``: losses and statistics are those of one longer run; the histograms keep the
    epochs recorded before the end and add the longer run's after it."""
    config = dataclasses.replace(BASE, batch_size=32, optimizer="momentum")
    longer = wil.compare(dataclasses.replace(config, epochs=50))
    resumed = wil.resume(wil.compare(config), epochs=50)
    assert resumed.config.epochs == 50
    for name in ("history", "layers", "status", "grid"):
        pd.testing.assert_frame_equal(getattr(resumed, name), getattr(longer, name), check_exact=True, obj=name)
    epochs = sorted(resumed.histograms["epoch"].unique())
    assert epochs == [0, 3, 9, 18, 30, 50]  # 30's 0, 3, 9, 18 (its end, 30, recorded too), then 50's own end
    later = longer.histograms[longer.histograms["epoch"] == 50].reset_index(drop=True)
    pd.testing.assert_frame_equal(resumed.histograms[resumed.histograms["epoch"] == 50].reset_index(drop=True),
                                  later, check_exact=True)
    same = wil.resume(resumed)  # nothing left to train: the same frames
    assert_same(same, resumed)


def test_diverged_networks_stay_diverged_and_the_others_go_on():
    config = dataclasses.replace(BASE, compare=("random_normal(std=2)", "he_normal"), depth=6, width=16,
                                 learning_rate=0.5)
    full = wil.compare(config)
    assert full.status["diverged"].any() and not full.status["diverged"].all()
    assert_same(wil.resume(wil.compare(config, progress=stop_after(10, config.epochs))), full)


def test_bad_input_gets_a_clear_error(tmp_path):
    stopped = wil.compare(BASE, progress=stop_after(10, BASE.epochs))
    assert stopped.resumable
    with pytest.raises(TypeError, match="Invalid result: expected a wil.Result"):
        wil.resume(stopped.history)
    with pytest.raises(ValueError, match="Invalid epochs: 5 is below the last epoch trained \\(10\\)"):
        wil.resume(stopped, epochs=5)
    with pytest.raises(ValueError, match="Invalid epochs"):
        wil.resume(stopped, epochs="many")
    with pytest.raises(TypeError, match="Invalid progress"):
        wil.resume(stopped, progress="yes")
    path = tmp_path / "run.zip"
    stopped.save(path)
    assert not wil.load(path).resumable
    with pytest.raises(ValueError, match="holds no training state to continue"):
        wil.resume(wil.load(path))
    views = []
    wil.compare(BASE, live=views.append, live_every=1e-9)
    assert not views[0].resumable
    with pytest.raises(ValueError, match="holds no training state to continue"):
        wil.resume(views[0])
    blown = dataclasses.replace(BASE, compare=("random_normal(std=5)",), depth=8, width=32, learning_rate=5.0)
    diverged = wil.compare(blown)
    assert diverged.status["diverged"].all() and not diverged.resumable
    with pytest.raises(ValueError, match="every network diverged"):
        wil.resume(diverged)


def test_resume_is_in_the_public_api():
    assert "resume" in wil.__all__ and wil.resume is compare_module.resume
    assert np.isfinite(wil.resume(wil.compare(BASE), epochs=31).history["loss"]).all()


def test_progress_and_live_views_go_on_from_the_stopped_epoch():
    """The app continues a stopped run with a live view: its fractions start at the stopped epoch, its
    partial results hold the epochs before it, and the last is the whole run's."""
    config = dataclasses.replace(BASE, epochs=60)
    stopped = wil.compare(config, progress=stop_after(20, config.epochs))
    fractions, views = [], []
    resumed = wil.resume(stopped, progress=fractions.append, live=views.append, live_every=1e-9)
    assert fractions[0] == pytest.approx(20 / 60) and fractions[-1] == 1.0 and fractions == sorted(fractions)
    assert views and all(view.history["epoch"].min() == 0 and view.stopped_epoch >= 20 for view in views)
    assert all(view.checkpoint is None for view in views)
    assert_same(resumed, wil.compare(config))

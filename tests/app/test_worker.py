"""The server's trainer process (``wil_app/worker.py``): the same numbers as the library in this process,
live views and progress as it trains, Stop and continue across the process boundary, errors in words,
uploaded data, and a process that dies mid-run reported as such and replaced."""
from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pandas as pd
import pytest

import wil
from wil_app import runs
from wil_app.worker import Trainer, TrainerDied

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the trainer process is POSIX's (a socket handed to a child)")

SMALL = wil.Config(dataset="moons", n_samples=120, noise=0.2, depth=4, width=16, epochs=60,
                   compare=("zeros", "glorot_uniform", "he_normal"), seed=11)


@pytest.fixture(scope="module")
def trainer():
    trainer = Trainer("wil-trainer-test")
    yield trainer
    trainer.close()


def test_a_run_in_the_trainer_equals_the_library_here(trainer):
    fractions, views = [], []
    result = trainer.train(SMALL, snapshots=8, progress=fractions.append, live=views.append, live_every=0.01)
    here = wil.compare(SMALL, snapshots=8)
    for name in ("history", "layers", "histograms", "status", "grid"):
        pd.testing.assert_frame_equal(getattr(result, name), getattr(here, name), check_exact=True)
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and fractions == sorted(fractions)
    assert views and all(v.stopped_epoch is not None and v.stopped_epoch <= SMALL.epochs for v in views)
    # the views come judged: the server shows their verdicts without judging them again
    assert all("initializer" in v._verdicts for v in views)
    from wil.analysis.verdicts import verdicts

    pd.testing.assert_frame_equal(views[-1].verdicts(by="initializer"), verdicts(views[-1], by="initializer"))


def test_stop_in_the_trainer_then_continue_there_gives_one_runs_numbers(trainer):
    seen = []

    def progress(fraction):
        seen.append(fraction)

    stopped = trainer.train(SMALL, progress=progress, should_stop=lambda: bool(seen) and seen[-1] >= 0.4)
    assert stopped.stopped_epoch is not None and 0.4 * SMALL.epochs <= stopped.stopped_epoch < SMALL.epochs
    assert stopped.resumable
    whole = trainer.train(SMALL, resume_from=stopped)
    assert whole.stopped_epoch is None
    pd.testing.assert_frame_equal(whole.history, wil.compare(SMALL).history, check_exact=True)


def test_an_invalid_run_raises_its_own_error_here(trainer):
    with pytest.raises(ValueError, match="memory"):  # the library's own check, raised in the trainer
        trainer.train(wil.Config(dataset="moons", n_samples=5000, depth=50, width=4096, epochs=2000, n_seeds=10))
    assert trainer.train(wil.Config(epochs=2)).stopped_epoch is None  # and the trainer goes on


def test_uploaded_data_trains_in_the_trainer(trainer):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=80), "b": rng.normal(size=80)})
    frame["y"] = (frame["a"] + frame["b"] > 0).astype(int)
    name = wil.from_frame(frame, "y")
    try:
        config = wil.Config(dataset=name, depth=2, width=8, epochs=20, compare=("he_normal",))
        pd.testing.assert_frame_equal(trainer.train(config).history, wil.compare(config).history, check_exact=True)
    finally:
        wil.DATASETS.pop(name, None)


def test_a_trainer_killed_mid_run_is_reported_and_replaced():
    trainer = Trainer("wil-trainer-killed")
    try:
        trainer.start()
        pid = trainer.pid
        long = wil.Config(dataset="moons", n_samples=400, depth=8, width=64, epochs=2000, compare=("he_normal",))
        threading.Timer(1.5, lambda: os.kill(pid, signal.SIGKILL)).start()
        with pytest.raises(TrainerDied, match="killed by signal 9.*out of memory"):
            trainer.train(long, progress=lambda f: None)
        assert trainer.train(wil.Config(epochs=2)).stopped_epoch is None  # a new process
        assert trainer.pid != pid
    finally:
        trainer.close()


def test_the_server_trains_in_a_trainer_process_and_its_followers_see_it_live():
    """``runs.start_or_follow`` with the default policy: the run trains in another process (its pid is not
    this one's), its followers see progress and live views, and it ends with the library's numbers."""
    assert runs.POLICY.trainer_process
    config = wil.Config(dataset="moons", n_samples=200, depth=6, width=32, epochs=300, compare=("he_normal", "zeros"),
                        seed=31337)
    run = runs.start_or_follow(config, session="test-worker")
    fractions, versions = set(), set()
    try:
        while not run.done.wait(0.05):
            fractions.add(run.fraction)
            versions.add(run.version)
    finally:
        run.leave("test-worker")
    assert run.error is None and run.result is not None
    trainers = [t.pid for t in runs._TRAINERS if t.pid is not None]
    assert trainers and os.getpid() not in trainers
    assert len(fractions) > 2 and len(versions - {0}) >= 1 and run.partial is not None
    pd.testing.assert_frame_equal(run.result.history, wil.compare(config, snapshots=run.snapshots).history,
                                  check_exact=True)
    assert run.training is not None and run.started <= run.training


def test_a_run_nobody_follows_stops_in_the_trainer():
    config = wil.Config(dataset="moons", n_samples=400, depth=8, width=64, epochs=2000, compare=("he_normal",),
                        seed=4711)
    run = runs.start_or_follow(config, session="test-orphan")
    while run.fraction < 0.01 and not run.done.is_set():
        time.sleep(0.05)
    run.leave("test-orphan")  # nobody follows: stopped after ORPHAN_GRACE
    assert run.done.wait(runs.ORPHAN_GRACE + 30)
    assert run.error is None and run.result.stopped_epoch is not None and run.result.stopped_epoch < config.epochs


def test_a_trainer_killed_under_a_page_is_a_message_not_a_traceback():
    """The page of a run whose trainer is killed mid-run (as the kernel does when memory runs out) says
    so in words; the next page trains again in a new trainer."""
    import pathlib

    from streamlit.testing.v1 import AppTest

    page = str(pathlib.Path(__file__).resolve().parents[2] / "wil_app" / "page.py")
    long = wil.Config(dataset="moons", n_samples=400, depth=8, width=128, epochs=1500, compare=("he_normal",),
                      seed=90210)
    killed = []

    def kill_when_training():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            training = [r for r in list(runs._RUNNING) if getattr(r, "config", None) == long and r.training]
            if training and runs._TRAINERS and runs._TRAINERS[0].pid:
                time.sleep(0.5)
                os.kill(runs._TRAINERS[0].pid, signal.SIGKILL)
                killed.append(True)
                return
            time.sleep(0.05)

    threading.Thread(target=kill_when_training, daemon=True).start()
    at = AppTest.from_file(page, default_timeout=120)
    for key, value in long.to_query_params().items():
        at.query_params[key] = value
    at.run()
    assert killed
    assert not at.exception, [e.value for e in at.exception]
    said = " ".join(e.value for e in at.error)
    assert "cannot train on this server" in said and "training process ended without a result" in said
    assert "killed by signal 9" in said
    short = wil.Config(dataset="moons", n_samples=100, depth=2, width=8, epochs=5, compare=("he_normal",), seed=90211)
    again = AppTest.from_file(page, default_timeout=120)
    for key, value in short.to_query_params().items():
        again.query_params[key] = value
    again.run()
    assert not again.exception and not again.error and again.get("vega_lite_chart")


@pytest.mark.skipif(not hasattr(os, "setpriority"), reason="per-thread nice values are Linux's")
def test_a_sessions_script_yields_the_cores_to_a_trainer_it_starts():
    """A script thread made nicer (``runs.yield_to_training``) still starts a trainer at the server's own
    priority: trainers are started from a thread made before any script yielded."""
    main = os.getpriority(os.PRIO_PROCESS, os.getpid())
    seen = {}

    def script():
        runs.yield_to_training()
        seen["script"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        trainer = Trainer("wil-trainer-nice")
        try:
            trainer.start()
            seen["trainer"] = os.getpriority(os.PRIO_PROCESS, trainer.pid)
        finally:
            trainer.close()

    thread = threading.Thread(target=script)
    thread.start()
    thread.join(60)
    assert seen["script"] == min(19, main + runs.POLICY.drawing_nice)
    assert seen["trainer"] == main


def test_the_runs_own_errors_come_back_as_themselves_and_the_trainer_lives_on(trainer, tmp_path):
    """An exception of the run's own that is an OSError (a dataset whose loader reads a file that is not
    there) comes back as that error, not as a dead trainer; a job the trainer cannot read (a loader of a
    module it cannot import) is that job's error in words; the trainer goes on after both."""
    import functools

    frame = pd.DataFrame({"a": np.arange(40.0), "b": np.arange(40.0) % 7, "y": np.arange(40) % 2})
    name = wil.from_frame(frame, "y")
    spec = wil.DATASETS[name]
    config = wil.Config(dataset=name, depth=2, width=4, epochs=3, compare=("he_normal",))
    try:
        wil.DATASETS[name] = type(spec)(**{**spec.__dict__, "make": functools.partial(np.load, str(tmp_path / "gone.npy"))})
        with pytest.raises(FileNotFoundError, match="gone.npy"):
            trainer.train(config)
        wil.DATASETS[name] = type(spec)(**{**spec.__dict__, "make": _HereOnly()})
        with pytest.raises(ValueError, match=r"could not read this run \(ModuleNotFoundError"):
            trainer.train(config)
        assert trainer.train(wil.Config(epochs=2)).stopped_epoch is None
    finally:
        wil.DATASETS.pop(name, None)


class _HereOnly:
    """A dataset loader of this test module, which the trainer cannot import."""

    def __call__(self, n, noise, seed):
        raise AssertionError("never called")

"""Sweeps: the frame's rows against direct runs, identical frames on every backend, streaming and resume."""

import dataclasses
import importlib
import importlib.util
import logging
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import wil

ROOT = Path(__file__).resolve().parents[1]
# the attribute wil.sweep is the function: the package's modules are imported by name
plan = importlib.import_module("wil.sweep.plan")
run = importlib.import_module("wil.sweep.run")
store = importlib.import_module("wil.sweep.store")
worker = importlib.import_module("wil.sweep.worker")

CONFIG = wil.Config(dataset="moons", n_samples=120, initializer="mean_field(sigma_b2=0.05)", activation="tanh",
                    depth=3, width=48, epochs=10, learning_rate=0.2)
GRID = {"sigma_w2": [0.25, 1.5, 40.0], "depth": [3, 6]}  # 2 tasks of 3 initializers x 2 seeds
SEEDS = [0, 1]


def without_seconds(frame):
    return frame.drop(columns="seconds")  # wall time: the one column that differs between runs


@pytest.fixture(scope="module")
def reference():
    return wil.sweep(CONFIG, GRID, seeds=SEEDS, backend=None)


def test_frame_columns_order_and_types(reference):
    assert list(reference.columns) == ["sigma_w2", "depth", "initializer", "seed", "final_train_loss",
                                       "final_test_loss", "final_train_accuracy", "final_test_accuracy",
                                       "diverged", "diverged_epoch", "trainable", "act_std_last",
                                       "chi1_measured", "train_accuracy_last10", "train_accuracy_last10_half",
                                       "train_accuracy_last10_quarter", "train_accuracy_last10_eighth",
                                       "seconds"]
    assert len(reference) == 3 * 2 * 2
    # the grid's order: sigma_w2 outermost, then depth, then seed
    assert reference["sigma_w2"].tolist() == [0.25] * 4 + [1.5] * 4 + [40.0] * 4
    assert reference["depth"].tolist() == [3, 3, 6, 6] * 3 and reference["seed"].tolist() == [0, 1] * 6
    assert reference["initializer"].iloc[0] == "mean_field(sigma_w2=0.25, sigma_b2=0.05)"
    assert reference["depth"].dtype == np.int64 and reference["sigma_w2"].dtype == np.float64
    assert (reference["seconds"] > 0).all()


def test_rows_are_the_networks_of_a_direct_batched_run(reference):

    config = dataclasses.replace(CONFIG, depth=6)
    labels = [f"mean_field(sigma_w2={v}, sigma_b2=0.05)" for v in ("0.25", "1.5", "40")]
    status = wil.compare(config, labels, SEEDS, diagnostics=False).status
    layers = wil.compare(dataclasses.replace(config, epochs=1), labels, SEEDS).layers
    rows = reference[reference["depth"] == 6]
    for (label, seed), row in zip([(lab, s) for lab in labels for s in SEEDS], rows.itertuples()):
        expected = status[(status["initializer"] == label) & (status["seed"] == seed)].iloc[0]
        assert row.initializer == label
        # the same networks in a run of the same shape: the same numbers, bit for bit
        assert row.final_train_loss == expected["final_train_loss"]
        assert row.final_test_accuracy == expected["final_test_accuracy"]
        assert row.diverged == expected["diverged"]
        mine = layers[(layers["initializer"] == label) & (layers["seed"] == seed) & (layers["epoch"] == 0)]
        assert row.act_std_last == mine[mine["layer"] == 6]["act_std"].iloc[0]
        mine = mine.sort_values("layer").iloc[:6]  # hidden layers 1..6
        grad, second = mine["grad_norm"].to_numpy(), (mine["act_std"] ** 2 + mine["act_mean"] ** 2).to_numpy()
        ratios = [(grad[l] / grad[l + 1]) ** 2 * second[l] / second[l - 1] for l in range(1, 5)]
        assert row.chi1_measured == pytest.approx(np.exp(np.mean(np.log(ratios))), rel=1e-12)
        # trainable: not diverged, train accuracy at least halfway from chance (1/2) to 1
        assert row.trainable == (not row.diverged and row.final_train_accuracy >= 0.75)


def test_the_grid_spans_the_phases(reference):
    # theory: chi1 = 0.22 at sigma_w2 = 0.25 (ordered: gradients shrink going back, the signal is small),
    # 3.6 at 40 (chaotic: gradients grow, units saturate). Width 48 and depth 6 measure it roughly (four
    # layer ratios; depth 3 has one, too noisy to test).
    deep = reference[reference["depth"] == 6]
    ordered, chaotic = deep[deep["sigma_w2"] == 0.25], deep[deep["sigma_w2"] == 40.0]
    assert (ordered["chi1_measured"] < 0.8).all() and (chaotic["chi1_measured"] > 1.8).all()
    assert (reference[reference["sigma_w2"] == 40.0]["act_std_last"] > 0.9).all()
    assert (reference[reference["sigma_w2"] == 0.25]["act_std_last"] < 0.6).all()


def test_measured_chi1_is_the_geometric_mean_of_corrected_ratios():
    # gradients halve going forward (chi1 = 4 before correction) while the second moments double: each
    # ratio is 2^2 x 2 = 8; layer 1's gradient is not read
    grads = np.array([100.0, 8.0, 4.0, 2.0, 1.0])
    moments = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    assert worker.measured_chi1(grads, moments) == pytest.approx(8.0)
    assert worker.measured_chi1(grads, np.ones(5)) == pytest.approx(4.0)
    assert math.isnan(worker.measured_chi1(np.array([1.0, 2.0]), np.ones(2)))


def test_loky_with_two_workers_gives_the_same_frame(reference):
    frame = wil.sweep(CONFIG, GRID, seeds=SEEDS, backend="loky", n_jobs=2)
    pd.testing.assert_frame_equal(without_seconds(frame), without_seconds(reference))


@pytest.mark.skipif(importlib.util.find_spec("dask") is None, reason="dask is not installed")
@pytest.mark.cluster
def test_a_dask_cluster_gives_the_same_frame(reference):
    import dask
    from dask.distributed import Client

    from wil.sweep.backends import dask_local_cluster

    with dask_local_cluster(2) as cluster, Client(cluster) as client:
        frame = wil.sweep(CONFIG, GRID, seeds=SEEDS, backend="dask", client=client)
        assert len(client.scheduler_info()["workers"]) == 2
        # glibc's own malloc tuning in the workers, not the nanny's MALLOC_TRIM_THRESHOLD_ (wil.sweep.backends)
        assert set(client.run(os.environ.get, "MALLOC_TRIM_THRESHOLD_").values()) == {None}
        assert set(client.run(dask.config.get, "distributed.worker.profile.enabled").values()) == {False}
        # the same through the scheduler's address (a client of the sweep's own, closed by it)
        by_address = wil.sweep(CONFIG, {"sigma_w2": [1.5], "depth": [3, 6]}, seeds=SEEDS, backend="dask",
                               scheduler=cluster.scheduler_address)
    pd.testing.assert_frame_equal(without_seconds(frame), without_seconds(reference))
    pd.testing.assert_frame_equal(without_seconds(by_address),
                                  without_seconds(reference[reference["sigma_w2"] == 1.5]).reset_index(drop=True))


class Stop(Exception):
    pass


def counting(monkeypatch):
    """Count the tasks trained in this process (backend None)."""
    calls = []
    original = run.run_task  # as the sweep calls it

    def run_task(task, axes, in_worker_process=False):
        calls.append(task)
        return original(task, axes, in_worker_process)

    monkeypatch.setattr(run, "run_task", run_task)
    return calls


def test_an_interrupted_sweep_resumes_without_retraining(tmp_path, monkeypatch, reference):
    out = tmp_path / "sweep.parquet"
    grid = {**GRID, "depth": [3, 4, 6]}  # 3 tasks

    def stop_after_one(done, total):
        assert total == 3
        if done == 1:
            raise Stop

    calls = counting(monkeypatch)
    with pytest.raises(Stop):
        wil.sweep(CONFIG, grid, seeds=SEEDS, backend=None, out=out, progress=stop_after_one)
    assert len(calls) == 1 and not out.exists()
    assert len(list((tmp_path / "sweep.parquet.parts").glob("*.parquet"))) == 1  # the finished task, stored
    first_depth = calls[0].config.depth
    calls.clear()
    resumed = wil.sweep(CONFIG, grid, seeds=SEEDS, backend=None, out=out)
    assert len(calls) == 2 and first_depth not in {t.config.depth for t in calls}  # only what was missing
    calls.clear()
    whole = wil.sweep(CONFIG, grid, seeds=SEEDS, backend=None)  # uninterrupted, no file
    pd.testing.assert_frame_equal(without_seconds(resumed), without_seconds(whole))
    # the file holds the whole sweep, the parts are gone, and a third run trains nothing
    assert out.exists() and not (tmp_path / "sweep.parquet.parts").exists()
    pd.testing.assert_frame_equal(pd.read_parquet(out).pipe(store.normalized, list(grid)), resumed)
    calls.clear()
    again = wil.sweep(CONFIG, grid, seeds=SEEDS, backend=None, out=out)
    assert calls == []
    pd.testing.assert_frame_equal(again, resumed)
    # a smaller grid inside the stored one is read back, not retrained
    part = wil.sweep(CONFIG, {"sigma_w2": [1.5], "depth": [3, 6]}, seeds=SEEDS, backend=None, out=out)
    assert calls == [] and len(part) == 4
    pd.testing.assert_frame_equal(without_seconds(part).reset_index(drop=True), without_seconds(
        reference[reference["sigma_w2"] == 1.5]).reset_index(drop=True))


def test_a_file_of_another_sweep_is_refused(tmp_path):
    out = tmp_path / "sweep.parquet"
    small = {"sigma_w2": [1.0], "depth": [3]}
    wil.sweep(CONFIG, small, backend=None, out=out)
    other = dataclasses.replace(CONFIG, learning_rate=0.05)
    with pytest.raises(ValueError, match="holds another sweep"):
        wil.sweep(other, small, backend=None, out=out)


def test_bad_grids_are_refused_before_training(monkeypatch):
    calls = counting(monkeypatch)
    with pytest.raises(ValueError, match=r"Invalid grid axis 'sigma'; choose a Config field .*'sigma_w2'"):
        wil.sweep(CONFIG, {"sigma": [1.0]}, backend=None)
    with pytest.raises(ValueError, match="Invalid grid axis 'depth': expected distinct values"):
        wil.sweep(CONFIG, {"depth": [3, 3]}, backend=None)
    with pytest.raises(ValueError, match=r"Invalid grid point depth=0: Invalid depth: expected an integer in"):
        wil.sweep(CONFIG, {"depth": [3, 0]}, backend=None)  # the Config's own validity surfaces
    with pytest.raises(ValueError, match=r"Invalid grid point width=100000: This batched run \(1 networks\) needs "
                                         r"about .* of memory at its peak"):
        wil.sweep(wil.Config(dataset="digits", depth=20, width=2, epochs=5), {"width": [2, 100_000]},
                  backend=None)  # memory, checked for every task before any trains
    with pytest.raises(ValueError, match="an initializer axis and initializer-parameter axes"):
        wil.sweep(CONFIG, {"initializer": ["he_normal"], "sigma_w2": [1.0]}, backend=None)
    with pytest.raises(ValueError, match="Invalid backend 'spark'"):
        wil.sweep(CONFIG, {"depth": [3]}, backend="spark")
    assert calls == []


def test_columns_are_cut_into_pieces_for_the_workers_when_that_pays():
    tasks = plan.plan_tasks(CONFIG, {"sigma_w2": [0.25, 0.5, 1.0, 1.5, 2.0, 40.0], "depth": [3, 30]}, SEEDS)
    assert plan.split_tasks(tasks, 1) == [tasks[1], tasks[0]]  # one worker: uncut, costliest first
    pieces = plan.split_tasks(tasks, 2)
    assert len(pieces) > 2 and [t.cost() for t in pieces] == sorted((t.cost() for t in pieces), reverse=True)
    assert sorted(key for t in pieces for key in t.keys()) == sorted(key for t in tasks for key in t.keys())
    deep = [t for t in pieces if t.config.depth == 30]
    assert len(deep) >= 2 and max(t.n_networks for t in deep) - min(t.n_networks for t in deep) <= len(SEEDS)
    # the schedule it predicts beats the uncut one; equal columns stay uncut
    assert plan.makespan(pieces, 2) < plan.makespan(tasks, 2)
    equal = plan.plan_tasks(CONFIG, {"sigma_w2": [0.25, 1.5], "depth": [5, 6, 7, 8]}, SEEDS)
    assert len(plan.split_tasks(equal, 2)) == 4


def test_ray_without_ray_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if it were not installed: import ray raises ImportError
    with pytest.raises(ValueError, match="ray is not installed; pip install ray"):
        wil.sweep(CONFIG, {"depth": [3]}, backend="ray")


# A Ray of this machine only, offline and quiet: no usage report, its services on 127.0.0.1 (Ray's choice for
# a one-machine cluster where clusters are off) rather than on the host's network address.
RAY_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray of 2 CPUs started here (ray.init), shut down after the module's tests: its address."""
    if importlib.util.find_spec("ray") is None:
        pytest.skip("ray is not installed")
    saved = {name: os.environ.get(name) for name in RAY_ENV}
    os.environ.update(RAY_ENV)  # before ray is imported: it reads them then, and its processes inherit them
    import ray
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
        address = ray.get_runtime_context().gcs_address
        host, _, port = address.rpartition(":")
        assert host and port.isdigit(), address  # a local Ray: conftest asks for 127.0.0.1 before any import
        yield address
    finally:
        ray.shutdown()
        for name, value in saved.items():
            os.environ.pop(name) if value is None else os.environ.__setitem__(name, value)


@pytest.mark.cluster
def test_a_ray_cluster_gives_the_same_frame(local_ray, reference):
    import ray

    frame = wil.sweep(CONFIG, GRID, seeds=SEEDS, backend="ray")  # the Ray this process started
    pd.testing.assert_frame_equal(without_seconds(frame), without_seconds(reference))
    assert ray.is_initialized()  # a Ray the sweep did not start is left running
    with pytest.raises(ValueError, match="Ray is already initialized in this process"):
        wil.sweep(CONFIG, GRID, seeds=SEEDS, backend="ray", scheduler=local_ray)


@pytest.mark.cluster
def test_an_interrupted_ray_sweep_resumes(local_ray, tmp_path, monkeypatch, reference):
    out = tmp_path / "sweep.parquet"

    def stop_after_one(done, total):
        if done == 1:
            raise Stop

    with pytest.raises(Stop):  # the tasks still running are cancelled
        wil.sweep(CONFIG, GRID, seeds=SEEDS, backend="ray", out=out, progress=stop_after_one)
    [part] = (tmp_path / "sweep.parquet.parts").glob("*.parquet")
    stored = len(pd.read_parquet(part))
    calls = counting(monkeypatch)
    resumed = wil.sweep(CONFIG, GRID, seeds=SEEDS, backend=None, out=out)
    assert sum(task.n_networks for task in calls) == len(reference) - stored
    pd.testing.assert_frame_equal(without_seconds(resumed), without_seconds(reference))


@pytest.mark.cluster
def test_the_command_line_joins_a_ray_cluster_by_its_address(local_ray, tmp_path, reference):
    out = tmp_path / "sweep.parquet"
    command = [sys.executable, "-m", "wil", "sweep", "--dataset", "moons", "--n-samples", "120", "--activation",
               "tanh", "--initializer", "mean_field(sigma_b2=0.05)", "--width", "48", "--epochs", "10",
               "--learning-rate", "0.2", "--grid", "sigma_w2=0.25,1.5,40", "--grid", "depth=3,6", "--seeds", "0,1",
               "--backend", "ray", "--scheduler", local_ray, "--out", str(out), "--no-progress"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **RAY_ENV})
    assert done.returncode == 0, done.stderr
    frame = store.normalized(pd.read_parquet(out), list(GRID))
    pd.testing.assert_frame_equal(without_seconds(frame), without_seconds(reference))


def test_the_networks_split_over_threads_give_the_same_frame(monkeypatch, reference):
    # in this process wil may split a batched run's networks into groups on threads (wil.engine.threads.plan);
    # forced here for every task, the numbers must not move (each network's products are its own)
    from wil.engine import threads as threads
    monkeypatch.setattr(threads, "SPLIT_WORK", 0.0)
    monkeypatch.setattr(threads, "available_cores", lambda: 2)
    assert threads.plan(6, 48, 3, 90, 30, None).groups == 2
    frame = wil.sweep(CONFIG, GRID, seeds=SEEDS, backend=None)
    pd.testing.assert_frame_equal(without_seconds(frame), without_seconds(reference))


def test_an_initializer_axis_and_the_grids_own_order():
    config = wil.Config(dataset="moons", n_samples=80, width=4, depth=2, epochs=3)
    frame = wil.sweep(config, {"learning_rate": [0.5, 0.1],
                               "initializer": ["he_normal", ("random_normal", {"std": 0.01})]},
                      seeds=[3], backend=None)
    assert list(frame.columns[:3]) == ["learning_rate", "initializer", "seed"]  # initializer once
    assert frame["learning_rate"].tolist() == [0.5, 0.5, 0.1, 0.1]  # as given, not sorted
    assert frame["initializer"].tolist() == ["he_normal", "random_normal(std=0.01)"] * 2  # canonical labels
    direct = wil.compare(dataclasses.replace(config, learning_rate=0.1), ["random_normal(std=0.01)"], [3],
                         diagnostics=False).status
    assert frame["final_train_loss"].iloc[3] == direct["final_train_loss"].iloc[0]


@pytest.mark.filterwarnings("ignore:.*tasks which were still being processed:UserWarning")  # joblib's, expected
def test_an_interrupted_loky_sweep_resumes_too(tmp_path, monkeypatch):
    # real worker processes: the exception stops them; what reached this process is stored
    out = tmp_path / "sweep.parquet"
    grid = {"sigma_w2": [0.25, 1.5], "depth": [3, 4, 6]}

    def stop_after_one(done, total):
        if done == 1:
            raise Stop

    with pytest.raises(Stop):
        wil.sweep(CONFIG, grid, seeds=SEEDS, backend="loky", n_jobs=2, out=out, progress=stop_after_one)
    [part] = (tmp_path / "sweep.parquet.parts").glob("*.parquet")  # one task: a column, or a piece of one
    stored = set(store.row_keys(pd.read_parquet(part), list(grid)))
    calls = counting(monkeypatch)
    resumed = wil.sweep(CONFIG, grid, seeds=SEEDS, backend=None, out=out)
    trained = [key for task in calls for key in task.keys()]
    assert len(trained) == 12 - len(stored) and not stored & set(trained)  # each network missing, once
    whole = wil.sweep(CONFIG, grid, seeds=SEEDS, backend=None)
    pd.testing.assert_frame_equal(without_seconds(resumed), without_seconds(whole))


def test_a_stopped_dask_sweep_does_not_print_the_tracebacks_of_closed_connections(caplog):
    """Closing a cluster while a gather is in flight (a sweep stopped by SIGTERM) makes asyncio log the gather's
    CommClosedError with its traceback; the sweep's own line says what happened, so that one is dropped."""
    backends = importlib.import_module("wil.sweep.backends")
    CommClosedError = type("CommClosedError", (OSError,), {})
    asyncio_logger = logging.getLogger("asyncio")
    with caplog.at_level(logging.ERROR, logger="asyncio"):
        with backends.quiet_closed_connections():
            asyncio_logger.error("unhandled exception during asyncio.run() shutdown",
                                 exc_info=(CommClosedError, CommClosedError("Stream is closed"), None))
            asyncio_logger.error("another error", exc_info=(ValueError, ValueError("kept"), None))
        asyncio_logger.error("after the sweep", exc_info=(CommClosedError, CommClosedError("kept too"), None))
    assert [r.getMessage() for r in caplog.records] == ["another error", "after the sweep"]


def test_budget_columns_are_the_shorter_runs_criterion():
    """A sweep's train_accuracy_last10_<share> is the last-10 mean of the run trained for that share of the
    epochs (no learning-rate schedule: the first epochs of a long run are the short run), and NaN for a
    network that diverged within the budget."""
    config = dataclasses.replace(CONFIG, epochs=24, batch_size=30, activation="relu")
    grid = {"sigma_w2": [2.0, 3.0], "learning_rate": [0.5, 2.0]}  # lr 2 diverges at epoch 1-2
    long = wil.sweep(config, grid, seeds=[0], backend=None)
    for column, epochs in [("train_accuracy_last10_half", 12), ("train_accuracy_last10_quarter", 6),
                           ("train_accuracy_last10_eighth", 3)]:
        short = wil.sweep(dataclasses.replace(config, epochs=epochs), grid, seeds=[0], backend=None)
        diverged_within = long["diverged_epoch"].fillna(10**6).to_numpy() <= epochs
        assert np.array_equal(long[column].isna().to_numpy(), diverged_within), column
        np.testing.assert_array_equal(long[column].to_numpy()[~diverged_within],
                                      short["train_accuracy_last10"].to_numpy()[~diverged_within])
    assert long["diverged"].any() and not long["diverged"].all()  # both kinds of network were checked

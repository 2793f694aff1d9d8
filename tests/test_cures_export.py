"""The exported PyTorch script of a residual + BatchNorm network (issue 20): it runs (its main()), learns
as wil does, and its networks at epoch 0 have wil's activation statistics, layer by layer, at the size of the
lesson "The other cures" (60 ReLU layers of 32). The torch tier: ``python -m pytest -m torch``."""

import contextlib
import dataclasses
import io
import re

import numpy as np
import pytest

import wil
from wil_app.lessons import CURES

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch", reason="torch is not installed: pip install torch==2.13.0 (requirements-dev.txt)")

# the lesson's residual + BatchNorm network (He weights)
LESSON = next(case.config for case in CURES if case.config.residual and case.config.normalization == "batch")
SEEDS = list(range(20))  # networks per side
Z_BOUND = 5.0  # standard errors of the difference of mean log std per layer (61 comparisons: false alarm < 1e-4)


def script(source: str) -> dict:
    """The script's functions and constants, as a module of its own would hold them (main() not run)."""
    namespace = {"__name__": "generated"}
    exec(compile(source, "<generated>", "exec"), namespace)
    return namespace


def printed(text: str, key: str) -> float:
    return float(re.findall(rf"^{re.escape(key)}: (\S+)$", text, flags=re.M)[-1])


def test_the_script_runs_and_learns_as_wil_does():
    config = dataclasses.replace(LESSON, depth=20, epochs=60)
    source = wil.to_pytorch(config)
    assert "nn.BatchNorm1d" in source and "residual=True" in source
    printout = io.StringIO()
    with contextlib.redirect_stdout(printout):
        script(source)["main"]()
    out = printout.getvalue()
    stds = [float(v) for v in re.findall(r"^  layer \d+: (\S+)$", out, flags=re.M)]
    assert len(stds) == config.depth + 1
    theirs = printed(out, "final test accuracy")
    ours = float(wil.train(config).status["final_test_accuracy"].iloc[0])
    assert theirs > 0.85 and ours > 0.85, (theirs, ours)  # both learn; other draws, so not the same number


def test_epoch_0_statistics_match_wil_at_the_lessons_size():
    namespace = script(wil.to_pytorch(LESSON))
    X_train, _, y_train, _ = namespace["load_data"]()
    X = torch.from_numpy(X_train).to(namespace["DTYPE"])
    n_outputs = int(y_train.max()) + 1
    theirs = np.array([namespace["activation_stds"](namespace["build_network"](X, n_outputs, seed=seed), X)
                       for seed in SEEDS])  # (S, depth + 1)
    result = wil.compare(dataclasses.replace(LESSON, epochs=1), seeds=SEEDS)
    layers = result.layers[result.layers["epoch"] == 0].sort_values(["seed", "layer"])
    ours = layers["act_std"].to_numpy().reshape(len(SEEDS), -1)
    assert theirs.shape == ours.shape == (len(SEEDS), LESSON.depth + 1)
    log_t, log_w = np.log(theirs), np.log(ours)
    error = np.sqrt(log_t.var(axis=0, ddof=1) / len(SEEDS) + log_w.var(axis=0, ddof=1) / len(SEEDS)) + 1e-9
    z = np.abs(log_t.mean(axis=0) - log_w.mean(axis=0)) / error
    assert np.all(z < Z_BOUND), (z.round(1), theirs.mean(axis=0), ours.mean(axis=0))

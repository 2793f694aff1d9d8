"""The shipped phase sweep regenerates from its stored command within the bound docs/PHASE_DIAGRAM.md states
("Does it regenerate?"): two of its columns (depth 10, where training is stable, and depth 40, near the
boundary, where SGD at learning rate 0.01 amplifies rounding) trained again here (~1 min: slow tier)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import wil

SHIPPED = Path(__file__).resolve().parents[1] / "docs" / "phase_sweep.parquet"
# the stored command's base config (docs/phase_sweep.md)
CONFIG = wil.Config(dataset="digits", activation="tanh", initializer="mean_field(sigma_b2=0.05)", width=16,
                    batch_size=64, learning_rate=0.01, epochs=60)
STABLE, CHAOTIC = 10, 40
STABLE_ACCURACY = 0.01  # |final training accuracy - shipped| at the stable column (measured: <= 0.005)
CHAOTIC_MEAN = 0.1  # |column mean of it - shipped's| at depth 40 (measured: 0.007 here, 0.05 for 1 ulp of lr)
CHAOTIC_FLAGS = 2  # trainable networks of the 13 at depth 40, +- (measured: 0 here, 1 for 1 ulp of lr)


@pytest.mark.slow
def test_two_columns_of_the_shipped_sweep_regenerate_within_the_stated_bound():
    shipped = pd.read_parquet(SHIPPED)
    grid = {"sigma_w2": sorted(shipped["sigma_w2"].unique().tolist()), "depth": [STABLE, CHAOTIC]}
    new = wil.sweep(CONFIG, grid, seeds=[0], backend=None)
    old = shipped[shipped["depth"].isin(grid["depth"])].sort_values(["sigma_w2", "depth"]).reset_index(drop=True)
    new = new.sort_values(["sigma_w2", "depth"]).reset_index(drop=True)
    assert new[["sigma_w2", "depth"]].equals(old[["sigma_w2", "depth"]])
    # at initialization nothing is chaotic: the epoch-0 columns agree to rounding
    for column in ("act_std_last", "chi1_measured"):
        np.testing.assert_allclose(new[column], old[column], rtol=1e-12)
    stable, chaotic = (new["depth"] == STABLE).to_numpy(), (new["depth"] == CHAOTIC).to_numpy()
    accuracy = (new["final_train_accuracy"] - old["final_train_accuracy"]).abs()
    assert accuracy[stable].max() <= STABLE_ACCURACY
    assert new["trainable"][stable].tolist() == old["trainable"][stable].tolist()
    assert abs(new["final_train_accuracy"][chaotic].mean() - old["final_train_accuracy"][chaotic].mean()) \
        <= CHAOTIC_MEAN
    assert abs(int(new["trainable"][chaotic].sum()) - int(old["trainable"][chaotic].sum())) <= CHAOTIC_FLAGS

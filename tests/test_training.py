"""Training: the lessons the papers predict, reproducibility, divergence, frames, LSUV, progress."""

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

import wil
from reference import backward, forward
from wil.spec.datasets import load_dataset
from wil.engine.draw import initialize_networks
from wil.engine.model import loss_and_gradient
from wil.spec.layout import HISTOGRAM_ROWS


def small(**overrides):
    base = dict(dataset="moons", n_samples=200, depth=3, width=16, epochs=20, learning_rate=0.1)
    return wil.Config(**{**base, **overrides})


def at_init(res, column, label):
    frame = res.layers[(res.layers["epoch"] == 0) & (res.layers["initializer"] == label)]
    return frame.groupby("layer")[column].mean()


# ---------------------------------------------------------------- signal propagation at initialization

def test_he_keeps_relu_variance_and_glorot_halves_it():
    # a deep, wide ReLU net: He's variance 2/n keeps Var(z) constant; Glorot's 1/n halves it per layer
    cfg = wil.Config(dataset="moons", n_samples=1000, depth=10, width=256, epochs=1, activation="relu",
                     compare=("he_normal", "glorot_normal"))
    data = load_dataset("moons", 1000, 0.2, 0)
    net = initialize_networks(cfg, data, list(cfg.compare), [0])
    z = data.X_train
    variances = []
    for W, b in zip(net.weights[:-1], net.biases[:-1]):
        pre = np.matmul(z, W) + b  # (K, n, width)
        variances.append(pre.var(axis=(1, 2)))
        z = np.maximum(pre, 0)
    variances = np.array(variances)  # (layers, K)
    he_ratio = variances[1:, 0] / variances[:-1, 0]
    glorot_ratio = variances[1:, 1] / variances[:-1, 1]
    assert np.all(np.abs(he_ratio - 1.0) < 0.2), he_ratio
    assert np.all(np.abs(glorot_ratio - 0.5) < 0.1), glorot_ratio
    assert variances[-1, 0] / variances[1, 0] == pytest.approx(1.0, abs=0.35)
    assert variances[-1, 1] / variances[1, 1] == pytest.approx(0.5**8, rel=0.5)


def test_tiny_weights_vanish_and_huge_weights_explode():
    res = wil.compare(small(depth=6, width=32, epochs=1),
                      initializers=[("random_normal", {"std": 0.01}), ("random_normal", {"std": 1.0}), "he_normal"])
    tiny = at_init(res, "act_std", "random_normal(std=0.01)")
    huge = at_init(res, "act_std", "random_normal(std=1)")
    assert tiny.iloc[5] < 1e-6 * tiny.iloc[0]  # each layer multiplies the std by ~0.01 * sqrt(32/2)
    assert huge.iloc[5] > 100 * huge.iloc[0]  # ... by ~sqrt(32/2) = 4
    # every layer's gradient is the product of 6 tiny factors (activations below, deltas above it)
    tiny_grads = at_init(res, "grad_norm", "random_normal(std=0.01)")
    he_grads = at_init(res, "grad_norm", "he_normal")
    assert tiny_grads.max() < 1e-4 * he_grads.min()
    assert at_init(res, "grad_norm", "random_normal(std=1)").min() > 100 * he_grads.max()


@pytest.mark.parametrize("name", ["zeros", "constant"])
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_symmetric_init_leaves_one_distinct_unit_forever(name, activation):
    res = wil.compare(small(activation=activation, epochs=30), initializers=[name, "he_normal"])
    hidden = res.layers[res.layers["layer"] <= 3]
    symmetric = hidden[hidden["initializer"] == name]
    assert (symmetric["distinct_units"] == 1).all()
    random = hidden[(hidden["initializer"] == "he_normal")]
    assert (random["distinct_units"] == 16).all()


def test_constant_layers_have_weight_std_exactly_zero():
    res = wil.compare(small(epochs=2), initializers=[("constant", {"value": 0.3}), "he_normal"])
    start = res.layers[res.layers["epoch"] == 0].set_index(["initializer", "layer"])["weight_std"]
    assert (start["constant(value=0.3)"] == 0.0).all()
    assert (start["he_normal"] > 0).all()


def test_zero_init_relu_is_all_dead_and_never_learns():
    res = wil.compare(small(epochs=30), initializers=["zeros", "he_normal"])
    zeros = res.layers[(res.layers["initializer"] == "zeros") & (res.layers["layer"] <= 3)]
    assert (zeros["dead_fraction"] == 1.0).all()
    status = res.status.set_index("initializer")
    assert status.loc["zeros", "final_train_loss"] == pytest.approx(np.log(2), abs=1e-3)
    assert status.loc["he_normal", "final_train_loss"] < 0.5


def test_saturated_fraction_for_tanh():
    res = wil.compare(small(activation="tanh", epochs=1),
                      initializers=[("random_normal", {"std": 3.0}), "glorot_uniform"])
    big = at_init(res, "saturated_fraction", "random_normal(std=3)")
    glorot = at_init(res, "saturated_fraction", "glorot_uniform")
    assert big.iloc[1] > 0.8 and glorot.iloc[1] < 0.1
    assert res.layers["dead_fraction"].isna().all()  # not a ReLU-family activation


def test_he_learns_moons():
    res = wil.train(small(initializer="he_normal", epochs=200))
    final = res.history[(res.history["epoch"] == 200) & (res.history["split"] == "test")]
    assert final["accuracy"].iloc[0] > 0.85


# ---------------------------------------------------------------- reproducibility and sharing

def test_same_seed_identical_frames_other_seed_different():
    cfg = small(compare=("he_normal", "lsuv"), batch_size=32, epochs=5)
    first, second, other = wil.compare(cfg), wil.compare(cfg), wil.compare(cfg, seeds=[1])
    for name in ("history", "layers", "histograms", "status", "grid", "points"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name))
    assert not np.allclose(first.history["loss"], other.history["loss"])


def test_a_network_is_the_same_alone_or_in_a_comparison():
    cfg = small(epochs=10, batch_size=50)
    alone = wil.compare(cfg, initializers=["he_normal"], seeds=[3])
    together = wil.compare(cfg, initializers=["zeros", "he_normal", "glorot_uniform"], seeds=[2, 3])
    rows = together.history[(together.history["initializer"] == "he_normal") & (together.history["seed"] == 3)]
    np.testing.assert_allclose(rows["loss"].to_numpy(), alone.history["loss"].to_numpy(), rtol=1e-12)


def test_train_is_compare_of_one():
    cfg = small(initializer="glorot_uniform", seed=4)
    one = wil.train(cfg)
    assert list(one.status["initializer"]) == ["glorot_uniform"] and list(one.status["seed"]) == [4]


# ---------------------------------------------------------------- divergence

def test_divergence_is_reported_and_others_go_on():
    cfg = small(learning_rate=0.5, epochs=30, activation="relu", depth=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy warning may leak
        res = wil.compare(cfg, initializers=[("random_normal", {"std": 3.0}), "he_normal"])
    status = res.status.set_index("initializer")
    huge = status.loc["random_normal(std=3)"]
    assert huge["diverged"] and huge["diverged_epoch"] >= 0 and huge["reason"]
    epoch = int(huge["diverged_epoch"])
    assert f"epoch {epoch}" in huge["reason"]
    rows = res.history[res.history["initializer"] == "random_normal(std=3)"]
    assert rows["epoch"].max() == epoch  # no rows after it diverged
    others = res.history[res.history["initializer"] == "he_normal"]
    assert others["epoch"].max() == 30


def test_huge_learning_rate_diverges_in_minibatches_without_warnings():
    cfg = small(learning_rate=10.0, batch_size=16, epochs=20, activation="linear", optimizer="momentum")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = wil.compare(cfg, initializers=[("random_normal", {"std": 10.0})])
    row = res.status.iloc[0]
    epoch = int(row["diverged_epoch"])
    assert row["diverged"] and row["reason"].endswith(f"during epoch {epoch}")
    # stopped on a mini-batch: per-layer records end the epoch before; the history shows the explosion
    assert res.layers["epoch"].max() == epoch - 1
    train = res.history[res.history["split"] == "train"]
    assert train["epoch"].max() == epoch
    exploded = train[train["epoch"] == epoch]["loss"].iloc[0]
    assert not np.isfinite(exploded) or exploded > wil.LOSS_BOUND


def test_finite_runs_end_finite():
    res = wil.compare(small(epochs=30), initializers=["he_normal", "glorot_uniform", "lecun_normal"])
    assert not res.status["diverged"].any()
    assert res.status["diverged_epoch"].isna().all()
    assert np.isfinite(res.status[["final_train_loss", "final_test_loss"]].to_numpy()).all()


# ---------------------------------------------------------------- LSUV, frames, progress

def test_lsuv_makes_every_layer_output_variance_one():
    cfg = small(activation="tanh", depth=6, width=64, epochs=1, n_samples=600)
    data = load_dataset("moons", 600, 0.2, 0)
    net = initialize_networks(cfg, data, ["lsuv", "lsuv(tol=0.01, scale=2)"], [0])
    a = data.X_train[:256]
    for layer, (W, b) in enumerate(zip(net.weights, net.biases)):
        z = np.matmul(a, W) + b
        variance = z.var(axis=(1, 2))
        if layer < len(net.weights) - 1:
            assert abs(variance[0] - 1.0) < 0.1 + 1e-9
        a = np.tanh(z)
    first = (np.matmul(data.X_train[:256], net.weights[0][1]) + net.biases[0][1]).var()
    assert first == pytest.approx(4.0, abs=0.05)  # scale 2 applied after the normalization


def test_frames_have_the_documented_columns_and_layers():
    cfg = small(epochs=4)
    res = wil.compare(cfg, initializers=["he_normal", ("random_normal", {"std": 0.01})], seeds=[0, 1])
    assert list(res.history.columns) == ["initializer", "seed", "epoch", "split", "loss", "accuracy"]
    assert list(res.layers.columns) == ["initializer", "seed", "epoch", "layer", "act_mean", "act_std",
                                        "dead_fraction", "saturated_fraction", "grad_norm", "weight_std",
                                        "distinct_units"]
    assert list(res.histograms.columns) == ["initializer", "seed", "epoch", "layer", "quantity",
                                            "bin_left", "bin_right", "count"]
    assert list(res.grid.columns)[:6] == ["initializer", "seed", "epoch", "x1", "x2", "prediction"]
    assert res.labels == ["he_normal", "random_normal(std=0.01)"]
    assert sorted(res.layers["layer"].unique()) == [1, 2, 3, 4]  # 3 hidden + output
    assert sorted(res.history["epoch"].unique()) == list(range(5))
    assert len(res.history) == 2 * 2 * 5 * 2
    assert set(res.histograms["quantity"]) == {"activation", "preactivation", "weight", "gradient"}
    assert sorted(res.grid["epoch"].unique()) == [0, 4]
    # each histogram counts every value once: activations of layer 1 = n_train x width per network
    counts = res.histograms[(res.histograms["quantity"] == "activation") & (res.histograms["layer"] == 1)]
    assert (counts.groupby(["initializer", "seed", "epoch"], observed=True)["count"].sum() == 150 * 16).all()


def test_activation_histograms_bin_a_fixed_probe_of_training_examples():
    # 450 training examples: the histograms of activations bin the first HISTOGRAM_ROWS of them, weights all
    res = wil.train(small(n_samples=600, epochs=2))
    counts = res.histograms.groupby(["quantity", "layer", "epoch"], observed=True)["count"].sum()
    for quantity in ("activation", "preactivation"):  # 3 hidden layers of 16 units, an output of 2
        assert counts[quantity][[1, 2, 3]].eq(HISTOGRAM_ROWS * 16).all()
        assert counts[quantity][4].eq(HISTOGRAM_ROWS * 2).all()
    assert counts["weight"][1].eq(2 * 16).all() and counts["gradient"][2].eq(16 * 16).all()


def plain_gradient_norms(net, X, y):
    """Per-layer weight-gradient norms (K, L) from the reference (allocating) pass."""
    state = forward(net, X)
    _, doutput, _ = loss_and_gradient("classification", state.output, y)
    grads = backward(net, X, state, doutput)[:net.n_layers]
    return np.stack([np.sqrt((g ** 2).sum(axis=(1, 2))) for g in grads], axis=1)


def test_minibatch_gradient_norm_is_the_next_steps_batch_gradient():
    # at epoch 0: the gradient of the initial weights on the first mini-batch of the first epoch
    cfg = small(batch_size=32, epochs=6, compare=("he_normal", "random_normal(std=0.01)"))
    res = wil.compare(cfg)
    data = load_dataset(cfg.dataset, cfg.n_samples, cfg.noise, cfg.seed)
    net = initialize_networks(cfg, data, list(cfg.compare), [cfg.seed])
    rows = np.random.default_rng([cfg.seed, 1]).permutation(data.X_train.shape[0])[:32]
    want = plain_gradient_norms(net, data.X_train[rows], data.y_train[rows])
    for k, label in enumerate(cfg.compare):
        got = at_init(res, "grad_norm", label).to_numpy()
        np.testing.assert_allclose(got, want[k], rtol=1e-10)
    # at epoch 3: the first batch of epoch 4, at the weights after 3 epochs, which is also the gradient a
    # 3-epoch run records at its end (on the first batch of an order drawn as for one more epoch)
    short = wil.compare(dataclasses.replace(cfg, epochs=3))
    long_rows = res.layers[res.layers["epoch"] == 3].sort_values(["initializer", "layer"])
    short_rows = short.layers[short.layers["epoch"] == 3].sort_values(["initializer", "layer"])
    np.testing.assert_allclose(long_rows["grad_norm"], short_rows["grad_norm"], rtol=1e-10)
    assert res.layers["grad_norm"].notna().all()


def test_a_network_diverging_at_a_record_has_no_unrecorded_histograms():
    # mini-batches: seed 0 blows up in the last step of epoch 1, so the record of epoch 1 stops it before
    # the next mini-batch gives that record its gradient; its frames hold only what was computed
    cfg = small(n_samples=200, batch_size=100, learning_rate=0.5, optimizer="momentum", epochs=10)
    res = wil.compare(cfg, [("random_normal", {"std": 2.0})], [0, 1, 2])
    row = res.status[res.status["seed"] == 0].iloc[0]
    assert row["reason"] == "loss exploded past 1e+06 at epoch 1"
    assert np.isfinite(res.histograms[["bin_left", "bin_right"]].to_numpy()).all()
    mine = res.histograms[(res.histograms["seed"] == 0) & (res.histograms["epoch"] == 1)]
    assert set(mine["quantity"]) == {"activation", "preactivation", "weight"}
    at_divergence = res.layers[(res.layers["seed"] == 0) & (res.layers["epoch"] == 1)]
    assert at_divergence["grad_norm"].isna().all() and at_divergence["weight_std"].notna().all()


def test_full_batch_gradient_norm_is_the_whole_training_set_gradient():
    cfg = small(epochs=1, compare=("he_normal", "glorot_uniform"))
    res = wil.compare(cfg)
    data = load_dataset(cfg.dataset, cfg.n_samples, cfg.noise, cfg.seed)
    net = initialize_networks(cfg, data, list(cfg.compare), [cfg.seed])
    want = plain_gradient_norms(net, data.X_train, data.y_train)
    for k, label in enumerate(cfg.compare):
        np.testing.assert_allclose(at_init(res, "grad_norm", label).to_numpy(), want[k], rtol=1e-10)


def test_regression_and_multiclass_datasets_train():
    for dataset in ("diabetes", "iris", "digits"):
        res = wil.train(wil.Config(dataset=dataset, depth=2, width=16, epochs=30, learning_rate=0.05))
        start, end = res.history[res.history["split"] == "train"]["loss"].iloc[[0, -1]]
        assert end < start, dataset
        assert res.grid.empty and res.points.empty  # not 2-D


def test_diagnostics_off_records_losses_only():
    res = wil.train(small(), diagnostics=False)
    assert res.layers.empty and res.histograms.empty and len(res.history) == 2 * 21


def test_progress_reaches_one_and_grows():
    seen = []
    wil.train(small(epochs=50), progress=seen.append)
    assert seen[-1] == 1.0 and seen == sorted(seen) and len(seen) > 10


@pytest.mark.parametrize("kwargs, message", [
    (dict(initializers=[]), "Invalid initializers: expected at least one initializer"),
    (dict(initializers=["he_normal", "he_normal"]), "'he_normal' is listed twice"),
    (dict(initializers=["kaiming"]), "Invalid initializer 'kaiming'"),
    (dict(seeds=[-1]), "Invalid seed: expected an integer in \\[0, 4,294,967,295\\], got -1"),
    (dict(seeds=[1, 1]), "Invalid seeds: 1 is listed twice"),
])
def test_bad_compare_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        wil.compare(small(), **kwargs)

"""The other cures (issue 20): normalization layers, residual blocks and the initializers made for them.

Gradients against central differences for every activation x normalization x residual; BatchNorm and
LayerNorm against PyTorch on the same numbers (``torch``); the initializers against their formulas; the
errors that name the fields; the diagnostics, divergence and comparisons of these networks.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import wil
from wil.engine.cures import EVAL, TRAIN, UPDATE, CureNetwork, CureWorkspace, backward, forward
from wil.engine.model import softmax_cross_entropy
from wil.spec.activations import ACTIVATIONS, get_activation
from wil.spec.residual import block_layers, layer_roles, n_blocks

NORMALIZATIONS = (None, "batch", "layer")


def tiny_network(activation: str, normalization, residual: bool, depth: int = 4, width: int = 3, K: int = 2,
                 seed: int = 0) -> CureNetwork:
    """Random small networks whose gammas, betas and alphas are away from their defaults, so that every
    gradient term is exercised (all scalars trained)."""
    rng = np.random.default_rng(seed)
    sizes = [2] + [width] * depth + [2]
    weights = [rng.standard_normal((K, a, b)) / math.sqrt(a) for a, b in zip(sizes[:-1], sizes[1:])]
    biases = [0.1 * rng.standard_normal((K, 1, b)) for b in sizes[1:]]
    net = CureNetwork.build(weights, biases, get_activation(activation), normalization, residual,
                            trained_scalars=np.ones(K, bool))
    extra = net.stack.flat[:, net.stack.bias_end:]
    extra[...] = 0.5 + rng.random(extra.shape)
    return net


def total_loss(net, X, y) -> float:
    return float(softmax_cross_entropy(forward(net, X, CureWorkspace(net, len(X)), TRAIN).output, y)[0].sum())


@pytest.mark.parametrize("residual", [False, True])
@pytest.mark.parametrize("normalization", NORMALIZATIONS)
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_gradient_matches_central_differences(activation, normalization, residual):
    # depth 4 with residual: a projection, a two-layer block and a one-layer block. Central differences
    # with h = 1e-6 have truncation error ~h^2 f''' ~ 1e-12 and rounding ~1e-16 / h ~ 1e-10 relative.
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((6, 2)), np.array([0, 1, 0, 1, 1, 0])
    net = tiny_network(activation, normalization, residual)
    workspace = CureWorkspace(net, len(X))
    state = forward(net, X, workspace, TRAIN)
    _, doutput, _ = softmax_cross_entropy(state.output, y)
    analytic = backward(net, X, state, doutput, workspace).flat.copy()
    flat, numeric, h = net.stack.flat, np.zeros_like(net.stack.flat), 1e-6
    for k, j in np.ndindex(flat.shape):
        old = flat[k, j]
        flat[k, j] = old + h
        plus = total_loss(net, X, y)
        flat[k, j] = old - h
        minus = total_loss(net, X, y)
        flat[k, j] = old
        numeric[k, j] = (plus - minus) / (2 * h)
    assert np.abs(numeric - analytic).max() <= 1e-6 * np.abs(numeric).max()


def test_fixed_scalars_get_no_gradient():
    net = tiny_network("tanh", None, True)
    net.trained_scalars[:] = [True, False]
    X, y = np.random.default_rng(2).standard_normal((5, 2)), np.array([0, 1, 1, 0, 1])
    workspace = CureWorkspace(net, 5)
    state = forward(net, X, workspace, TRAIN)
    grads = backward(net, X, state, softmax_cross_entropy(state.output, y)[1], workspace)
    assert np.all(grads.alphas[1] == 0.0) and np.all(grads.alphas[0] != 0.0)


def test_a_block_with_alpha_zero_is_the_identity_for_every_activation():
    for name in ACTIVATIONS:
        net = tiny_network(name, None, True, depth=5)
        net.stack.alphas[...] = 0.0
        X = np.random.default_rng(3).standard_normal((4, 2))
        state = forward(net, X, CureWorkspace(net, 4), TRAIN)
        Z = state.hidden[0]
        for layer, stream in block_layers(5):
            np.testing.assert_array_equal(Z[layer], Z[stream])  # h_l = h_stream exactly


def test_batchnorm_running_statistics_follow_pytorch_rule():
    net = tiny_network("relu", "batch", False, depth=2)
    X = np.random.default_rng(4).standard_normal((8, 2))
    workspace = CureWorkspace(net, 8)
    forward(net, X, workspace, TRAIN)
    np.testing.assert_array_equal(net.running[:, :, 0], 0.0)  # TRAIN does not update
    forward(net, X, workspace, UPDATE)
    h = X @ net.weights[0] + net.biases[0]  # (K, n, width)
    np.testing.assert_allclose(net.running[:, 0, 0], 0.1 * h.mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(net.running[:, 0, 1], 0.9 + 0.1 * h.var(axis=1, ddof=1), rtol=1e-12)


def test_layer_roles_and_blocks():
    assert layer_roles(3, False) == ("plain",) * 3 + ("output",)
    assert layer_roles(4, True) == ("projection", "branch_first", "branch_last", "branch_last", "output")
    assert block_layers(4) == ((2, 0), (3, 2)) and n_blocks(4) == 2
    assert n_blocks(60) == 30 and n_blocks(61) == 30 and n_blocks(2) == 1


# ---------------------------------------------------------------- initializers

def _draw(initializer: str, depth: int = 7, **fields):
    cfg = wil.Config(depth=depth, width=64, residual=True, initializer=initializer, **fields)
    from wil.engine.draw import initialize_networks
    from wil.spec.datasets import load_dataset

    data = load_dataset(cfg.dataset, cfg.n_samples, cfg.noise, cfg.seed)
    return initialize_networks(cfg, data, [cfg.initializer], [0]), initialize_networks(
        cfg, data, ["he_normal"], [0])


def test_fixup_follows_its_rules():
    net, he = _draw("fixup")  # depth 7: projection, blocks (2,3), (4,5), (6,7): L = 3 branches of m = 2
    roles = layer_roles(7, True)
    for layer, role in enumerate(roles):
        W, W_he = net.weights[layer][0], he.weights[layer][0]
        expected = {"projection": 1.0, "branch_first": 3 ** -0.5, "branch_last": 0.0, "output": 0.0}[role]
        np.testing.assert_allclose(W, expected * W_he, rtol=1e-15)  # he_normal's draws, times the factor
    np.testing.assert_array_equal(net.stack.alphas, 1.0)
    assert net.trained_scalars.all() and not he.trained_scalars.any()
    np.testing.assert_array_equal(he.stack.alphas, 1.0)


def test_skipinit_and_rezero_scalars():
    net, he = _draw("skipinit(alpha=0.25)")
    np.testing.assert_array_equal(net.stack.alphas, 0.25)
    np.testing.assert_array_equal(net.weights[3], he.weights[3])
    net, _ = _draw("rezero", normalization="layer")
    np.testing.assert_array_equal(net.stack.alphas, 0.0)
    assert net.trained_scalars.all()
    entry = wil.INITIALIZERS["fixup"]
    assert entry.residual.pytorch_layer("branch_last", 3, {"scale": 1.0}) == "nn.init.zeros_(w)  # branch_last: starts at zero"
    assert "mul_(0.57735" in entry.residual.pytorch_layer("branch_first", 3, {"scale": 1.0})


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("fields, message", [
    (dict(initializer="fixup"), r"Invalid initializer: 'fixup' needs residual=True"),
    (dict(compare=("he_normal", "rezero")), r"Invalid compare: 'rezero' needs residual=True"),
    (dict(initializer="skipinit", residual=False), r"'skipinit' needs residual=True"),
    (dict(initializer="fixup", residual=True, normalization="batch"),
     r"'fixup' is for networks without normalization; got normalization='batch'"),
    (dict(normalization="group"), r"Invalid normalization 'group'; choose from \[None, 'batch', 'layer'\]"),
    (dict(residual=True, depth=1), r"Invalid depth: residual=True needs depth >= 2"),
    (dict(initializer="lsuv", residual=True), r"Invalid initializer: 'lsuv' .* residual=True"),
])
def test_bad_combinations_name_the_fields(fields, message):
    with pytest.raises(ValueError, match=message):
        wil.Config(**fields)


def test_residual_must_be_a_bool_and_the_url_round_trips():
    with pytest.raises(TypeError, match="Invalid residual: expected True or False"):
        wil.Config(residual="yes")
    cfg = wil.Config(residual=True, normalization="layer", initializer="rezero")
    params = cfg.to_query_params()
    assert params["residual"] == "true" and params["normalization"] == "layer"
    assert wil.Config.from_query_params(params) == cfg
    assert wil.Config.from_query_params({"normalization": "none"}).normalization is None
    assert cfg.n_parameters() == wil.Config().n_parameters() + 2 * 5 * 32 + 2


# ---------------------------------------------------------------- runs: diagnostics, divergence, comparisons

def test_diagnostics_hold_for_residual_batchnorm_networks():
    cfg = wil.Config(depth=5, width=16, epochs=6, residual=True, normalization="batch", n_samples=200)
    res = wil.compare(cfg, ["he_normal", "rezero", "skipinit(alpha=0.1)"], seeds=[0, 1])
    layers = res.layers
    hidden = layers[layers["layer"] <= cfg.depth]
    assert np.isfinite(hidden[["act_mean", "act_std", "dead_fraction", "grad_norm", "weight_std"]]).all().all()
    assert set(hidden["distinct_units"]) <= set(range(1, 17)) and hidden["distinct_units"].max() == 16
    assert {"activation", "preactivation", "weight", "gradient"} <= set(res.histograms["quantity"])
    scalars = res.scalars
    assert list(scalars.columns[-4:]) == ["epoch", "block", "layer", "alpha"]
    first = scalars[scalars["epoch"] == 0].groupby("initializer", observed=True)["alpha"].first()
    assert first["he_normal"] == 1.0 and first["rezero"] == 0.0 and first["skipinit(alpha=0.1)"] == 0.1
    last = scalars[scalars["epoch"] == cfg.epochs].groupby("initializer", observed=True)["alpha"]
    assert (last.min()["he_normal"], last.max()["he_normal"]) == (1.0, 1.0)  # fixed
    assert (scalars[(scalars["initializer"] == "rezero") & (scalars["epoch"] == cfg.epochs)]["alpha"] != 0).any()


def test_a_network_is_the_same_alone_or_in_a_comparison():
    cfg = wil.Config(depth=4, width=8, epochs=5, residual=True, normalization="layer", n_samples=120)
    together = wil.compare(cfg, ["he_normal", "rezero"], seeds=[0, 1], diagnostics=False).history
    alone = wil.compare(cfg, ["rezero"], seeds=[1], diagnostics=False).history
    pick = together[(together["initializer"] == "rezero") & (together["seed"] == 1)]
    np.testing.assert_array_equal(pick["loss"].to_numpy(), alone["loss"].to_numpy())


def test_a_residual_network_without_scaling_diverges_and_is_reported():
    cfg = wil.Config(depth=40, width=16, epochs=20, residual=True, learning_rate=0.5, n_samples=120)
    res = wil.compare(cfg, ["he_normal", "rezero"], seeds=[0], diagnostics=True)
    status = res.status.set_index("initializer")
    assert status.loc["he_normal", "diverged"] and not status.loc["rezero", "diverged"]


def test_evaluation_uses_running_statistics():
    # a BatchNorm network's test pass normalizes with the running statistics: at epoch 0 they are still
    # almost mean 0, variance 1, so a network whose pre-activations are large predicts differently from
    # the batch-statistics pass on the same points
    net = tiny_network("relu", "batch", False, depth=2)
    X = 5.0 * np.random.default_rng(5).standard_normal((16, 2))
    workspace = CureWorkspace(net, 16)
    train_output = forward(net, X, workspace, TRAIN).output.copy()
    eval_output = forward(net, X, workspace, EVAL).output
    assert not np.allclose(train_output, eval_output)


# ---------------------------------------------------------------- against PyTorch on the same numbers

def _torch_module(kind: str, width: int, gamma, beta):
    import torch

    module = torch.nn.BatchNorm1d(width) if kind == "batch" else torch.nn.LayerNorm(width)
    module = module.double()
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(gamma))
        module.bias.copy_(torch.from_numpy(beta))
    return module


@pytest.mark.torch
@pytest.mark.parametrize("kind", ["batch", "layer"])
def test_normalization_matches_pytorch(kind):
    # one network (K = 1) of one normalized layer: forward, the three gradients, and BatchNorm's running
    # statistics after an update and in evaluation. float64 both sides: differences are rounding, ~1e-15.
    import torch

    from wil.engine.norms import normalize, normalize_backward

    rng = np.random.default_rng(6)
    n, width = 9, 5
    h = 3.0 * rng.standard_normal((1, n, width)) + 1.0
    gamma, beta = 1.0 + 0.3 * rng.standard_normal((1, width)), 0.2 * rng.standard_normal((1, width))
    upstream = rng.standard_normal((1, n, width))
    running = np.stack([np.zeros((1, width)), np.ones((1, width))], axis=1)  # (K, 2, width)
    z, xhat = np.empty_like(h), np.empty_like(h)
    inv = normalize(kind, h, gamma, beta, z, xhat, running, UPDATE)
    dh, dgamma, dbeta = np.empty_like(h), np.empty((1, width)), np.empty((1, width))
    normalize_backward(kind, upstream, xhat, inv, gamma, dgamma, dbeta, dh)

    module = _torch_module(kind, width, gamma[0], beta[0]).train()
    h_t = torch.from_numpy(h[0].copy()).requires_grad_(True)
    z_t = module(h_t)
    z_t.backward(torch.from_numpy(upstream[0]))
    np.testing.assert_allclose(z[0], z_t.detach().numpy(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(dh[0], h_t.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dgamma[0], module.weight.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dbeta[0], module.bias.grad.numpy(), rtol=1e-12, atol=1e-12)
    if kind == "batch":
        np.testing.assert_allclose(running[0, 0], module.running_mean.numpy(), rtol=1e-13)
        np.testing.assert_allclose(running[0, 1], module.running_var.numpy(), rtol=1e-13)
        normalize(kind, h, gamma, beta, z, xhat, running, EVAL)
        np.testing.assert_allclose(z[0], module.eval()(torch.from_numpy(h[0])).detach().numpy(), rtol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("normalization", NORMALIZATIONS)
def test_residual_network_matches_pytorch(normalization):
    # the whole network, wil's architecture written in PyTorch: outputs and every gradient
    import torch

    net = tiny_network("tanh", normalization, True, depth=5, width=4, K=1)
    rng = np.random.default_rng(7)
    X, y = rng.standard_normal((7, 2)), np.array([0, 1, 1, 0, 1, 0, 0])
    workspace = CureWorkspace(net, 7)
    state = forward(net, X, workspace, TRAIN)
    _, doutput, _ = softmax_cross_entropy(state.output, y)
    grads = backward(net, X, state, doutput, workspace)

    t = {name: [torch.tensor(a[0], requires_grad=True) for a in arrays]
         for name, arrays in (("W", net.weights), ("b", [b[:, 0] for b in net.biases]))}
    stack = net.stack
    gammas = torch.tensor(stack.gammas[0], requires_grad=True) if normalization else None
    betas = torch.tensor(stack.betas[0], requires_grad=True) if normalization else None
    alphas = torch.tensor(stack.alphas[0], requires_grad=True)

    def norm(h, layer):
        if normalization is None:
            return h
        if normalization == "batch":
            return torch.nn.functional.batch_norm(h, None, None, gammas[layer], betas[layer], True, 0.1, 1e-5)
        return torch.nn.functional.layer_norm(h, (h.shape[1],), gammas[layer], betas[layer], 1e-5)

    a, H = torch.from_numpy(X), {}
    closing = {last: (index, stream) for index, (last, stream) in enumerate(block_layers(5))}
    for layer in range(5):
        u = a @ t["W"][layer] + t["b"][layer]
        if layer in closing:
            index, stream = closing[layer]
            u = H[stream] + alphas[index] * u
        H[layer] = u
        a = torch.tanh(norm(u, layer))
    out = a @ t["W"][5] + t["b"][5]
    loss = torch.nn.functional.cross_entropy(out, torch.from_numpy(y))
    loss.backward()
    np.testing.assert_allclose(state.output[0], out.detach().numpy(), rtol=1e-12, atol=1e-13)
    for layer in range(6):
        np.testing.assert_allclose(grads.weights[layer][0], t["W"][layer].grad.numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(grads.biases[layer][0, 0], t["b"][layer].grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(grads.alphas[0], alphas.grad.numpy(), rtol=1e-9, atol=1e-12)
    if normalization:
        np.testing.assert_allclose(grads.gammas[0], gammas.grad.numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(grads.betas[0], betas.grad.numpy(), rtol=1e-9, atol=1e-12)

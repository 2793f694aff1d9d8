"""The engine: backprop against central differences, a hand-worked network, stacking, optimizers."""

import math

import numpy as np
import pytest

import wil
from wil.spec.activations import get_activation
from wil.engine.model import Network, backward, forward, loss_and_gradient, mean_squared_error, softmax_cross_entropy
from wil.engine.workspace import Workspace
from wil.spec.optimizers import OPTIMIZERS, get_optimizer


def random_network(activation, sizes=(3, 5, 5, 2), K=2, seed=0):
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0, 0.8, (K, a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    biases = [rng.normal(0, 0.3, (K, 1, b)) for b in sizes[1:]]
    return Network.stacked(weights, biases, get_activation(activation))


def total_loss(net, X, y, task):
    return loss_and_gradient(task, forward(net, X).output, y)[0]  # (K,)


def gradients(net, X, y, task):
    """The engine's gradients, weights then biases, as copies."""
    workspace = Workspace(net, X.shape[0])
    state = forward(net, X, workspace)
    _, doutput, _ = loss_and_gradient(task, state.output, y)
    grads = backward(net, X, state, doutput, workspace)
    return [g.copy() for g in grads.weights + grads.biases]


@pytest.mark.parametrize("task", ["classification", "regression"])
@pytest.mark.parametrize("activation", sorted(wil.ACTIVATIONS))
def test_backprop_matches_central_differences(activation, task):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(7, 3))
    y = rng.integers(0, 2, 7) if task == "classification" else rng.normal(size=7)
    sizes = (3, 5, 5, 2) if task == "classification" else (3, 5, 5, 1)
    net = random_network(activation, sizes)
    grads = gradients(net, X, y, task)
    h = 1e-6
    for param, grad in zip(net.parameters(), grads):
        assert grad.shape == param.shape
        numeric = np.zeros_like(param)
        for index in np.ndindex(param.shape):
            old = param[index]
            param[index] = old + h
            plus = total_loss(net, X, y, task)[index[0]]
            param[index] = old - h
            minus = total_loss(net, X, y, task)[index[0]]
            param[index] = old
            numeric[index] = (plus - minus) / (2 * h)
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)


def test_hand_worked_network():
    # 2 inputs -> 2 ReLU units -> 2 logits, one example, worked by hand:
    # z1 = x W1 + b1 = [1, 2] [[1, -1], [0.5, 1]] + [0, 0.5] = [2, 1.5];  a1 = [2, 1.5]
    # z2 = a1 W2 = [2, 1.5] [[1, 0], [0, 2]] = [2, 3];  p = softmax = [1/(1+e), e/(1+e)]
    # loss(y=0) = -log p0 = log(1 + e);  dz2 = p - [1, 0] = [-e/(1+e), e/(1+e)] =: [-s, s]
    # dW2 = a1^T dz2 = [[-2s, 2s], [-1.5s, 1.5s]];  da1 = dz2 W2^T = [-s, 2s];  dz1 = da1 (both units on)
    # dW1 = x^T dz1 = [[-s, 2s], [-2s, 4s]];  db1 = [-s, 2s]
    X = np.array([[1.0, 2.0]])
    net = Network.stacked([np.array([[[1.0, -1.0], [0.5, 1.0]]]), np.array([[[1.0, 0.0], [0.0, 2.0]]])],
                          [np.array([[[0.0, 0.5]]]), np.zeros((1, 1, 2))], get_activation("relu"))
    workspace = Workspace(net, 1)
    state = forward(net, X, workspace)
    np.testing.assert_allclose(state.preactivations[0], [[[2.0, 1.5]]])
    np.testing.assert_allclose(state.output, [[[2.0, 3.0]]])
    loss, doutput, accuracy = softmax_cross_entropy(state.output, np.array([0]))
    e = math.e
    s = e / (1 + e)
    assert loss[0] == pytest.approx(math.log(1 + e))
    assert accuracy[0] == 0.0
    grads = backward(net, X, state, doutput, workspace)
    (dW1, dW2), (db1, db2) = grads.weights, grads.biases
    np.testing.assert_allclose(dW2[0], [[-2 * s, 2 * s], [-1.5 * s, 1.5 * s]])
    np.testing.assert_allclose(dW1[0], [[-s, 2 * s], [-2 * s, 4 * s]])
    np.testing.assert_allclose(db1[0, 0], [-s, 2 * s])
    np.testing.assert_allclose(db2[0, 0], [-s, s])


def test_stacked_networks_equal_separate_ones():
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(9, 3)), rng.integers(0, 2, 9)
    net = random_network("tanh", K=3)
    grads = gradients(net, X, y, "classification")
    for k in range(3):
        single = net.take(np.array([k]))
        for g_all, g_one in zip(grads, gradients(single, X, y, "classification")):
            np.testing.assert_array_equal(g_all[k:k + 1], g_one)  # the same BLAS calls per network


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[[1e4, 0.0], [0.0, 1e4]]])
    with np.errstate(over="raise", invalid="raise"):  # exp underflowing to 0 is harmless
        loss, grad, accuracy = softmax_cross_entropy(logits, np.array([1, 1]))
    assert loss[0] == pytest.approx(5e3)  # example 0 is wrong by 1e4, example 1 right
    assert accuracy[0] == 0.5 and np.isfinite(grad).all()


def test_mean_squared_error():
    loss, grad, accuracy = mean_squared_error(np.array([[[1.0], [3.0]]]), np.array([0.0, 1.0]))
    assert loss[0] == pytest.approx((1 + 4) / 2)
    np.testing.assert_allclose(grad[0, :, 0], [1.0, 2.0])
    assert np.isnan(accuracy[0])


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam"])
def test_optimizers_match_their_update_rules(name):
    p = np.array([[1.0, -2.0]])  # (K, P)
    g = np.array([[0.5, 0.25]])
    optimizer = OPTIMIZERS[name]
    state = optimizer.init(p)
    expected = p.copy()
    velocity, m, v = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    for t in range(1, 4):
        state = optimizer.update(p, g.copy(), state, 0.1, np.empty_like(p))
        if name == "sgd":
            expected -= 0.1 * g
        elif name == "momentum":
            velocity = 0.9 * velocity + g
            expected -= 0.1 * velocity
        else:
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            expected -= 0.1 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        np.testing.assert_allclose(p, expected, rtol=1e-12)
    assert state.step == 3


def test_an_update_is_pure_apart_from_its_arrays():
    """optax-style: the state goes in and comes out; the old state object is not changed."""
    p, g = np.zeros((1, 3)), np.ones((1, 3))
    optimizer = OPTIMIZERS["adam"]
    before = optimizer.init(p)
    after = optimizer.update(p, g, before, 0.1, np.empty_like(p))
    assert before.step == 0 and after.step == 1


def test_adam_first_step_moves_every_weight_by_the_learning_rate():
    p = np.zeros((2, 9))
    g = np.random.default_rng(0).normal(size=p.shape)
    adam = OPTIMIZERS["adam"]
    adam.update(p, g, adam.init(p), 0.01, np.empty_like(p))
    np.testing.assert_allclose(np.abs(p), 0.01, rtol=1e-5)


def test_unknown_optimizer():
    with pytest.raises(ValueError, match="Invalid optimizer 'rmsprop'"):
        get_optimizer("rmsprop")
    with pytest.raises(ValueError, match="Invalid optimizer 'rmsprop'"):
        wil.Config(optimizer="rmsprop")

"""Adding an initializer, an activation or an optimizer is one entry in one registry (``wil/spec/``): the
library trains with it, the app's sidebar offers it and the PyTorch export writes it, with no other edit.

The fixture adds one entry of each kind to the live registries (``wil.INITIALIZERS``, ``wil.ACTIVATIONS``,
``wil.OPTIMIZERS``) and removes them after, as a new entry in ``wil/spec/`` would add them.
"""

from __future__ import annotations

import ast
import contextlib
import io
import math
import pathlib

import numpy as np
import pytest

import wil
from wil.spec.activations import Activation
from wil.spec.initializers import Param
from wil.spec.optimizers import OptimizerState
from wil.spec.snippets import KERAS_INIT, ActivationCode, InitializerCode, OptimizerCode, times

PAGE = str(pathlib.Path(__file__).resolve().parents[1] / "wil_app" / "page.py")
RHO, EPSILON = 0.9, 1e-8  # the new optimizer's (RMSprop's) decay and epsilon


# ---------------------------------------------------------------- the three new entries

def _softplus(z, out):
    np.logaddexp(0.0, z, out=out)  # log(1 + e^z), without overflow


def _d_softplus(back, z, a, scratch):
    np.negative(z, out=scratch)  # f'(z) = sigmoid(z) = exp(-log(1 + e^-z))
    np.logaddexp(0.0, scratch, out=scratch)
    np.negative(scratch, out=scratch)
    np.exp(scratch, out=scratch)
    back *= scratch


SOFTPLUS = Activation(
    "softplus", "Softplus (new)", _softplus, _d_softplus, 1.0, "smooth", r"f(z) = \log(1 + e^z)",
    "A smooth ReLU.", export=ActivationCode("nn.Softplus()", '"softplus"'))

FAN_IN_NORMAL = wil.Initializer(
    "fan_in_normal", "Normal 1/fan_in (new)", "Untruncated Gaussian of variance 1/fan_in.",
    r"W_{ij} \sim \mathcal{N}(0, 1/n_{in})",
    {"scale": Param(1.0, 1e-4, 1e4, "multiplier applied to the drawn weights", log=True)},
    lambda rng, fan_in, fan_out, p, activation=None:
        p["scale"] * rng.standard_normal((fan_in, fan_out)) / math.sqrt(fan_in),
    lambda fan_in, fan_out, p: p["scale"] ** 2 / fan_in,
    "torch.nn.init.normal_(w, 0, 1 / sqrt(fan_in))", "keras.initializers.RandomNormal(stddev=1 / sqrt(fan_in))",
    export=InitializerCode(
        lambda p, act: "N(0, 1 / fan_in)",
        lambda p, act: f"nn.init.normal_(w, mean=0.0, std={times(p['scale'], 'math.sqrt(1.0 / fan_in)')})",
        lambda p, act: f"return {KERAS_INIT}RandomNormal(mean=0.0, "
                       f"stddev={times(p['scale'], 'math.sqrt(1.0 / fan_in)')})"))


def _rmsprop_init(params):
    return OptimizerState(0, (np.zeros_like(params),))


def _rmsprop_update(params, grads, state, learning_rate, scratch):
    """v <- rho v + (1 - rho) g^2; p <- p - lr g / (sqrt(v) + eps), as torch.optim.RMSprop."""
    (second,) = state.buffers
    second *= RHO
    np.multiply(grads, grads, out=scratch)
    scratch *= 1.0 - RHO
    second += scratch
    np.sqrt(second, out=scratch)
    scratch += EPSILON
    grads *= learning_rate
    grads /= scratch
    params -= grads
    return OptimizerState(state.step + 1, state.buffers)


RMSPROP = wil.Optimizer(
    "rmsprop", "RMSprop (new)", _rmsprop_init, _rmsprop_update, "Hinton's RMSprop, decay 0.9", buffers=1,
    export=OptimizerCode(
        "RMSprop (0.9, eps 1e-8 outside the square root)",
        f"torch.optim.RMSprop(model.parameters(), lr=LEARNING_RATE, alpha={RHO}, eps={EPSILON})",
        "    # v = 0.9 v + 0.1 g^2; p -= lr g / (sqrt(v) + eps): the new entry's rule",
        f"keras.optimizers.RMSprop(learning_rate=LEARNING_RATE, rho={RHO}, epsilon={EPSILON})",
        "    # Keras adds epsilon inside the square root: nearly the same steps"))


@pytest.fixture
def new_entries(monkeypatch):
    """One new entry in each registry, removed after the test."""
    monkeypatch.setitem(wil.ACTIVATIONS, SOFTPLUS.name, SOFTPLUS)
    monkeypatch.setitem(wil.INITIALIZERS, FAN_IN_NORMAL.name, FAN_IN_NORMAL)
    monkeypatch.setitem(wil.OPTIMIZERS, RMSPROP.name, RMSPROP)
    return wil.Config(dataset="moons", n_samples=200, depth=3, width=16, epochs=5, learning_rate=0.01,
                      initializer=FAN_IN_NORMAL.name, activation=SOFTPLUS.name, optimizer=RMSPROP.name)


# ---------------------------------------------------------------- the library, the export, the app follow

def test_the_library_trains_with_the_new_entries(new_entries):
    result = wil.train(new_entries)
    status = result.status.iloc[0]
    assert not status["diverged"] and 0.0 <= status["final_test_accuracy"] <= 1.0
    assert FAN_IN_NORMAL.name in wil.make_label(FAN_IN_NORMAL.name, {"scale": 2.0})


def test_the_pytorch_export_writes_the_new_entries(new_entries):
    source = wil.to_pytorch(new_entries)
    ast.parse(source)
    assert "nn.init.normal_(w, mean=0.0, std=math.sqrt(1.0 / fan_in))" in source
    assert "nn.Sequential(linear, nn.Softplus())" in source
    assert "torch.optim.RMSprop(model.parameters(), lr=LEARNING_RATE, alpha=0.9, eps=1e-08)" in source
    assert "N(0, 1 / fan_in)" in source  # the entry's formula, in the initializer's docstring
    scaled = wil.to_pytorch(new_entries, "fan_in_normal(scale=2)")
    assert "std=2.0 * math.sqrt(1.0 / fan_in)" in scaled
    keras = wil.to_keras(new_entries)
    assert 'activation="softplus" if i < DEPTH' in keras and "keras.optimizers.RMSprop(" in keras


@pytest.mark.torch
def test_the_exported_pytorch_script_runs(new_entries):
    pytest.importorskip("torch", reason="torch is not installed (requirements-dev.txt pins a CPU build)")
    namespace = {"__name__": "generated"}
    exec(compile(wil.to_pytorch(new_entries), "<generated>", "exec"), namespace)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        namespace["main"]()
    assert "final test accuracy" in out.getvalue()


def test_the_sidebar_offers_the_new_entries(new_entries):
    """One AppTest run (~5 s here): the selectboxes list each registry's labels."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception, [error.value for error in at.exception]
    assert SOFTPLUS.label in at.sidebar.selectbox(key="activation").options
    assert RMSPROP.label in at.sidebar.selectbox(key="optimizer").options
    assert FAN_IN_NORMAL.label in at.sidebar.selectbox(key="init0_name").options

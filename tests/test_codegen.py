"""wil.codegen: the scripts parse, make wil's data, run, and reproduce wil's statistics at epoch 0.

The PyTorch tests need torch (``requirements-dev.txt`` pins a CPU build) and skip without it. Keras is
not installed here: its scripts are only parsed and checked for the Keras names they use.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import io
import math
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

import wil
from wil.export import codegen as codegen
ROOT = pathlib.Path(__file__).resolve().parents[1]
FLAVOURS = {"pytorch": wil.to_pytorch, "keras": wil.to_keras, "wil": wil.to_wil}
ACTIVATIONS_SAMPLED = ("relu", "sigmoid", "gelu")  # sigmoid: sklearn_default reads it; all: below
# every initializer at its defaults and with its parameters moved off them (scale included)
ENTRIES = [name for name in wil.INITIALIZERS] + [
    "constant(value=-0.3, scale=2)", "random_normal(mean=0.1, std=0.2, scale=0.5)",
    "random_uniform(limit=0.3, scale=3)", "truncated_normal(std=0.2, scale=2)", "glorot_uniform(scale=2)",
    "glorot_normal(scale=0.5)", "he_uniform(scale=2)", "he_normal(scale=0.5)", "lecun_uniform(scale=3)",
    "lecun_normal(scale=2)", "orthogonal(gain=2, scale=0.5)", "lsuv(tol=0.05, max_iter=4, scale=2)",
    "torch_default(scale=2)", "sklearn_default(scale=0.5)"]
# Keras 3's initializer classes and activation names the scripts may use
KERAS_INITIALIZERS = {"Zeros", "Constant", "RandomNormal", "RandomUniform", "TruncatedNormal", "VarianceScaling",
                      "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal", "LecunUniform", "LecunNormal",
                      "Orthogonal"}
# datasets of each kind of data code (scikit-learn's generator, wil's own, shipped, regression): the check for
# undefined names runs on these (every activation is checked below)
NAME_CHECKED = ("moons", "xor", "digits", "diabetes")
KERAS_ACTIVATION_STRINGS = {"linear", "sigmoid", "tanh", "relu", "elu", "selu", "softsign", "silu"}


def _config(**changes) -> wil.Config:
    base = dict(dataset="moons", n_samples=200, noise=0.2, depth=3, width=16, epochs=3, learning_rate=0.1)
    return wil.Config(**{**base, **changes})


def _config_for(entry: str, **changes) -> wil.Config:
    """``_config`` with residual blocks when ``entry`` is a scheme made for them (Fixup, SkipInit, ReZero)."""
    needs_blocks = wil.INITIALIZERS[entry.split("(")[0]].residual is not None
    return _config(**changes, **({"residual": True} if needs_blocks else {}))


def _last_value(text: str, key: str) -> float:
    """The number printed after ``key:`` on the last line that has it."""
    return float(re.findall(rf"^{re.escape(key)}: (\S+)$", text, flags=re.M)[-1])


def _layer_stds(text: str) -> list[float]:
    """The per-layer stds a script prints after 'epoch 0 activation std'."""
    return [float(value) for value in re.findall(r"^  layer \d+: (\S+)$", text, flags=re.M)]


def _run_script(source: str, tmp_path: pathlib.Path, name: str) -> str:
    """Run ``source`` as a file with this interpreter (the venv's), wil importable; return its stdout."""
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, str(path)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _import_torch():
    """torch, or a skip that says how to get it."""
    return pytest.importorskip("torch", reason="torch is not installed: pip install torch==2.13.0 "
                                               "(pinned in requirements-dev.txt, a CPU build)")


def _namespace(source: str) -> dict:
    """The script's functions and constants, without running its main()."""
    namespace = {"__name__": "generated"}
    exec(compile(source, "<generated>", "exec"), namespace)
    return namespace


def _undefined_names(source: str) -> set[str]:
    """Names a script reads that nothing defines (a module-level name, an import or a builtin): what a
    typo in a template would leave, which parsing alone does not catch. Scopes as Python sees them."""
    import builtins
    import symtable

    top = symtable.symtable(source, "<generated>", "exec")
    defined = {symbol.get_name() for symbol in top.get_symbols()
               if symbol.is_assigned() or symbol.is_imported() or symbol.is_namespace()} | set(dir(builtins))
    missing, tables = set(), [top]
    while tables:
        table = tables.pop()
        for symbol in table.get_symbols():
            reads_global = symbol.is_global() or table is top
            if symbol.is_referenced() and reads_global and symbol.get_name() not in defined:
                missing.add(symbol.get_name())
        tables += table.get_children()
    return missing


# ---------------------------------------------------------------- every flavour parses

def test_every_flavour_parses_for_every_initializer_activation_and_dataset():
    parsed = 0
    for dataset in wil.DATASETS:
        for entry in ENTRIES:
            for activation in ACTIVATIONS_SAMPLED:
                config = _config_for(entry, dataset=dataset, activation=activation)
                for flavour, to_code in FLAVOURS.items():
                    source = to_code(config, entry)
                    ast.parse(source, filename=f"{flavour}-{dataset}-{entry}-{activation}")
                    if dataset in NAME_CHECKED and activation == "relu":  # symtable is slower than parsing
                        assert not _undefined_names(source), (flavour, dataset, entry)
                    parsed += 1
    assert parsed == len(wil.DATASETS) * len(ENTRIES) * len(ACTIVATIONS_SAMPLED) * 3


@pytest.mark.parametrize("activation", sorted(wil.ACTIVATIONS))
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_every_activation_and_optimizer_parses(activation, optimizer):
    for batch_size in (None, 32):
        config = _config(activation=activation, optimizer=optimizer, batch_size=batch_size)
        for to_code in FLAVOURS.values():
            source = to_code(config)
            ast.parse(source)
            assert not _undefined_names(source), (to_code.__name__, activation, optimizer, batch_size)


def test_the_undefined_name_check_finds_a_typo():
    source = wil.to_keras(_config(optimizer="adam"))
    assert _undefined_names(source) == set()
    assert _undefined_names(source.replace("return loss, float(", "return los, float(")) == {"los"}
    assert _undefined_names(source.replace("m_hat = ops.divide(m,", "m_hat = ops.divide(mm,")) == {"mm"}


def test_the_keras_scripts_use_only_keras_3_names():
    """Keras is not installed here: at least every initializer class and activation name must exist."""
    for entry in ENTRIES:
        for activation in wil.ACTIVATIONS:
            source = wil.to_keras(_config_for(entry, activation=activation), entry)
            assert set(re.findall(r"keras\.initializers\.(\w+)", source)) <= KERAS_INITIALIZERS, entry
            plain = re.search(r"activation=(\S+) if i < DEPTH", source)  # else a residual network's layer
            used = (plain or re.search(r"keras\.layers\.Activation\((\S+), name=", source)).group(1)
            assert used.strip('"') in KERAS_ACTIVATION_STRINGS | {"leaky_relu", "gelu_tanh"}, activation
            if used in ("leaky_relu", "gelu_tanh"):
                assert f"def {used}(z):" in source


def test_the_keras_script_writes_out_what_keras_lacks_or_differs_in():
    assert "negative_slope=0.01" in wil.to_keras(_config(activation="leaky_relu"))  # Keras' default is 0.2
    assert "0.044715" in wil.to_keras(_config(activation="gelu"))  # the tanh approximation, by formula
    assert "class WilAdam(keras.optimizers.Optimizer)" in wil.to_keras(_config(optimizer="adam"))
    assert "momentum=0.9" in wil.to_keras(_config(optimizer="momentum"))
    assert "def lsuv(model, X, tol=0.05, max_iter=4, scale=2.0)" in wil.to_keras(
        _config(), "lsuv(tol=0.05, max_iter=4, scale=2)")
    assert "HeNormal()" in wil.to_keras(_config(), "he_normal")
    scaled = wil.to_keras(_config(), "he_normal(scale=0.5)")
    assert "VarianceScaling(scale=2.0 * 0.5 ** 2, mode='fan_in'," in scaled
    assert "distribution='truncated_normal')" in scaled


def test_the_pytorch_script_uses_torch_init_where_it_matches_exactly():
    expected = {"glorot_uniform": "nn.init.xavier_uniform_(w)",
                "he_uniform": "kaiming_uniform_(w, nonlinearity='relu')",
                "lecun_uniform": "kaiming_uniform_(w, nonlinearity='linear')", "orthogonal": "nn.init.orthogonal_(",
                "zeros": "nn.init.zeros_(w)", "torch_default": "linear.reset_parameters()",
                "he_normal": "keras_truncated_normal_(w, std)",
                "random_normal": "nn.init.normal_(w, mean=0.0, std=0.05)",
                "truncated_normal": "nn.init.trunc_normal_(w, mean=0.0, std=std, a=-2 * std, b=2 * std)"}
    for entry, text in expected.items():
        assert text in wil.to_pytorch(_config(), entry), entry
    assert 'nn.GELU(approximate="tanh")' in wil.to_pytorch(_config(activation="gelu"))


def test_bad_arguments_are_refused_with_the_reason():
    with pytest.raises(TypeError, match="Invalid config: expected a wil.Config, got dict"):
        wil.to_pytorch({"dataset": "moons"})
    with pytest.raises(ValueError, match="Invalid initializer 'nope'"):
        wil.to_keras(_config(), "nope")
    with pytest.raises(ValueError, match="Invalid parameter 'sigma'"):
        wil.to_wil(_config(), ("random_normal", {"sigma": 1.0}))


def test_the_scripts_read_trainings_constants():
    from wil.engine import divergence, draw
    from wil.spec import lsuv

    assert codegen.LSUV_BATCH == draw.LSUV_BATCH == lsuv.LSUV_BATCH
    assert codegen.LOSS_BOUND == divergence.LOSS_BOUND


def test_importing_wil_imports_no_framework():
    code = "import sys, wil; print(','.join(m for m in ('torch', 'keras', 'inspect') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert not {"torch", "keras"} & set(out.stdout.strip().split(","))


# ---------------------------------------------------------------- the data is wil's, exactly

@pytest.mark.parametrize("dataset", sorted(wil.DATASETS))
def test_the_data_code_makes_exactly_wils_split(dataset):
    config = _config(dataset=dataset, n_samples=300, noise=0.3, seed=7)
    source = "\n".join(["import numpy as np", codegen._data_imports(config), "SEED = 7",
                        codegen._data_code(config)])
    X_train, X_test, y_train, y_test = _namespace(source)["load_data"]()
    data = wil.load_dataset(dataset, 300, 0.3, 7)
    for ours, theirs in [(X_train, data.X_train), (X_test, data.X_test), (y_train, data.y_train),
                         (y_test, data.y_test)]:
        assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs)  # the same calls: bit for bit


# ---------------------------------------------------------------- the wil script runs and reports wil.train

@pytest.mark.parametrize("config", [
    _config(dataset="xor", activation="tanh", optimizer="momentum", batch_size=50, epochs=4,
            initializer="lsuv", seed=3),
    _config(dataset="diabetes", activation="selu", optimizer="adam", learning_rate=0.01, epochs=3,
            initializer="lecun_normal"),
], ids=["xor-minibatch", "diabetes-regression"])
def test_the_wil_script_prints_what_wil_train_reports(config, tmp_path):
    out = _run_script(wil.to_wil(config), tmp_path, "take_home_wil")
    result = wil.train(config)
    status = result.status.iloc[0]
    epoch0 = result.layers[result.layers["epoch"] == 0]["act_std"].to_numpy()
    np.testing.assert_allclose(_layer_stds(out), epoch0, rtol=1e-5)  # printed to 6 significant digits
    assert _last_value(out, "final test loss") == pytest.approx(status["final_test_loss"], rel=1e-5)
    if config.dataset == "diabetes":
        assert math.isnan(_last_value(out, "final test accuracy"))
    else:
        assert _last_value(out, "final test accuracy") == round(status["final_test_accuracy"], 4)


# ---------------------------------------------------------------- the PyTorch script runs and matches wil

N_SEEDS = 30  # networks per side in the statistical comparison
Z_BOUND = 5.0  # standard errors allowed: ~100 layer comparisons in all, each false alarm below 1e-6


def _torch_epoch0_stds(source: str, seeds) -> np.ndarray:
    """act_std of every layer at initialization for networks ``seeds`` built by the script, (S, L)."""
    torch = _import_torch()
    namespace = _namespace(source)
    X_train, _, y_train, _ = namespace["load_data"]()
    X = torch.from_numpy(X_train).to(namespace["DTYPE"])
    n_outputs = int(y_train.max()) + 1 if y_train.dtype.kind == "i" else 1
    return np.array([namespace["activation_stds"](namespace["build_network"](X, n_outputs, seed=seed), X)
                     for seed in seeds])


def _wil_epoch0_stds(config: wil.Config, entry: str, seeds) -> np.ndarray:
    """wil's act_std of every layer at epoch 0 for networks ``seeds``, (S, L)."""
    stds = []
    for start in range(0, len(seeds), 15):  # 15 networks at a time keep digits within wil's memory budget
        result = wil.compare(dataclasses.replace(config, epochs=1), [entry], seeds[start:start + 15])
        layers = result.layers[result.layers["epoch"] == 0].sort_values(["seed", "layer"])
        stds.append(layers["act_std"].to_numpy().reshape(len(seeds[start:start + 15]), -1))
    return np.concatenate(stds)


def _discrepancy(torch_stds: np.ndarray, wil_stds: np.ndarray) -> np.ndarray:
    """Per layer, the difference of the mean log std over seeds in standard errors of that difference.

    Each side's S networks are independent draws, so the mean of log act_std over them has standard error
    sd / sqrt(S); the two sides' errors add in quadrature. A floor of 1e-9 (relative) stands for a layer
    whose std does not vary with the seed (zeros, constant), where only float rounding (~1e-15) may differ.
    """
    if np.all(wil_stds == 0):
        return np.where(torch_stds == 0, 0.0, np.inf).max(axis=0)
    log_t, log_w = np.log(torch_stds), np.log(wil_stds)  # (S, L)
    S = log_t.shape[0]
    error = np.sqrt(log_t.var(axis=0, ddof=1) / S + log_w.var(axis=0, ddof=1) / S) + 1e-9
    return np.abs(log_t.mean(axis=0) - log_w.mean(axis=0)) / error


CASES = [
    ("moons", "he_normal", "relu"), ("moons", "he_uniform", "leaky_relu"), ("moons", "glorot_normal", "tanh"),
    ("moons", "glorot_uniform", "tanh"), ("moons", "lecun_normal", "selu"), ("moons", "lecun_uniform", "elu"),
    ("moons", "orthogonal", "tanh"), ("moons", "lsuv", "relu"), ("moons", "torch_default", "relu"),
    ("moons", "sklearn_default", "sigmoid"), ("moons", "random_normal(std=0.1)", "gelu"),
    ("moons", "random_uniform(limit=0.3)", "swish"), ("moons", "truncated_normal(std=0.3)", "softsign"),
    ("moons", "random_normal(mean=0.05, std=0.2)", "linear"), ("moons", "constant", "tanh"),
    ("moons", "zeros", "relu"), ("moons", "he_normal(scale=3)", "relu"), ("digits", "he_normal", "relu"),
    ("wine", "sklearn_default(scale=2)", "tanh"), ("friedman1", "lsuv(scale=0.5)", "gelu"),
]


@pytest.mark.torch
@pytest.mark.parametrize("dataset, entry, activation", CASES, ids=["-".join(case) for case in CASES])
def test_the_pytorch_networks_have_wils_activation_std_at_epoch_0(dataset, entry, activation):
    config = _config(dataset=dataset, activation=activation, depth=5, width=32, n_samples=400)
    seeds = list(range(N_SEEDS))
    torch_stds = _torch_epoch0_stds(wil.to_pytorch(config, entry), seeds)
    wil_stds = _wil_epoch0_stds(config, entry, seeds)
    assert torch_stds.shape == wil_stds.shape == (N_SEEDS, config.depth + 1)
    z = _discrepancy(torch_stds, wil_stds)
    assert np.all(z < Z_BOUND), (z, torch_stds.mean(axis=0), wil_stds.mean(axis=0))


@pytest.mark.torch
@pytest.mark.parametrize("exported, trained", [("he_normal(scale=0.9)", "he_normal"),
                                               ("he_normal", "he_uniform(scale=0.85)"),
                                               ("glorot_normal", "lecun_normal")])
def test_the_comparison_catches_a_wrong_formula(exported, trained):
    """The tolerance is not so loose that a 10% error in the weights' std, or another fan, would pass."""
    config = _config(activation="relu" if "he" in exported else "tanh", depth=5, width=32, n_samples=400)
    seeds = list(range(N_SEEDS))
    z = _discrepancy(_torch_epoch0_stds(wil.to_pytorch(config, exported), seeds),
                     _wil_epoch0_stds(config, trained, seeds))
    assert z.max() > Z_BOUND, z


@pytest.mark.torch
def test_deterministic_initializers_match_wil_to_rounding():
    """Constant weights leave nothing to chance: the stds agree to float64 rounding."""
    config = _config(activation="tanh", depth=4, width=8)
    for entry in ("constant", "constant(value=-0.2, scale=3)"):
        torch_stds = _torch_epoch0_stds(wil.to_pytorch(config, entry), [0])
        np.testing.assert_allclose(torch_stds, _wil_epoch0_stds(config, entry, [0]), rtol=1e-10)


@pytest.mark.torch
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("dataset, batch_size, dtype", [("blobs", None, "float64"), ("circles", 40, "float32"),
                                                  ("friedman1", 50, "float64")])
def test_the_pytorch_training_loop_runs(optimizer, dataset, batch_size, dtype):
    """main() of every optimizer, full batch and mini-batches, classification and regression, float64 and
    float32 (in-process)."""
    _import_torch()
    config = _config(dataset=dataset, optimizer=optimizer, batch_size=batch_size, epochs=10, dtype=dtype,
                     learning_rate=0.01 if optimizer == "adam" else 0.05)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        _namespace(wil.to_pytorch(config))["main"]()
    text = out.getvalue()
    assert len(_layer_stds(text)) == config.depth + 1
    assert text.count("test loss") == 10 + 1  # each epoch (10 // 10 = every epoch) and the final line
    loss = _last_value(text, "final test loss")
    assert 0 < loss < 10
    if dataset != "friedman1":
        assert 0 <= _last_value(text, "final test accuracy") <= 1


@pytest.mark.torch
def test_the_pytorch_script_runs_alone(tmp_path):
    """As a file, in a fresh interpreter; it learns the moons as wil does, to within a few examples."""
    _import_torch()
    config = _config(n_samples=400, depth=3, width=32, epochs=60, optimizer="momentum", batch_size=50)
    out = _run_script(wil.to_pytorch(config), tmp_path, "take_home_torch")
    assert len(_layer_stds(out)) == config.depth + 1
    ours = _last_value(out, "final test accuracy")
    theirs = wil.train(config).status["final_test_accuracy"].iloc[0]
    assert ours > 0.8 and theirs > 0.8  # both learn; other weights, so not the same number


# ---------------------------------------------------------------- the other cures: normalization, residual blocks

CURE_SETUPS = [dict(normalization=normalization, residual=residual) for normalization in (None, "batch", "layer")
               for residual in (False, True) if normalization is not None or residual]
CURE_ENTRIES = ["he_normal", "glorot_uniform(scale=2)", "fixup", "fixup(scale=0.5)", "skipinit", "skipinit(alpha=0.3)",
                "rezero"]


def _cure_entries(setup: dict) -> list[str]:
    """The entries ``CURE_ENTRIES`` that ``setup`` allows (Fixup: residual, no normalization; the others made for
    residual networks: residual)."""
    allowed = []
    for entry in CURE_ENTRIES:
        try:
            _config(**setup, compare=(entry,))
        except ValueError:
            continue
        allowed.append(entry)
    return allowed


@pytest.mark.parametrize("setup", CURE_SETUPS, ids=lambda s: f"{s['normalization']}-{s['residual']}")
def test_the_cure_scripts_parse_and_name_nothing_undefined(setup):
    for entry in _cure_entries(setup):
        for optimizer, batch_size in (("sgd", None), ("adam", 32)):
            config = _config(**setup, depth=6, optimizer=optimizer, batch_size=batch_size)
            for flavour, to_code in FLAVOURS.items():
                source = to_code(config, entry)
                ast.parse(source)
                assert not _undefined_names(source), (flavour, setup, entry)
                assert max(len(line) for line in source.splitlines()) <= 120, (flavour, setup, entry)


def test_the_cure_scripts_write_the_architecture_and_the_rules():
    torch_bn = wil.to_pytorch(_config(normalization="batch", residual=True, depth=6))
    assert "nn.BatchNorm1d(WIDTH, eps=1e-05, momentum=0.1, dtype=DTYPE)" in torch_bn
    assert "model.eval()  # BatchNorm" in torch_bn and "model.train()  # BatchNorm" in torch_bn
    assert "requires_grad=False" in torch_bn  # a plain residual network: alpha 1, fixed
    assert "nn.LayerNorm(WIDTH, eps=1e-05" in wil.to_pytorch(_config(normalization="layer"))
    fixup = wil.to_pytorch(_config(residual=True, depth=7), "fixup")
    assert f"w.mul_({3 ** -0.5!r})" in fixup  # L^(-1/(2m-2)) = L^(-1/2) with L = 3 blocks of m = 2
    assert fixup.count("nn.init.zeros_(w)  #") == 2 and "requires_grad=True" in fixup  # branch ends, output
    rezero = wil.to_pytorch(_config(residual=True, depth=7), "rezero")
    assert "torch.full((blocks,), 0.0, dtype=DTYPE), requires_grad=True" in rezero
    assert "def init_role_" not in rezero  # every factor is 1
    keras_fixup = wil.to_keras(_config(residual=True, depth=7), "fixup")
    assert f"VarianceScaling(scale=2.0 * {3 ** -0.5!r} ** 2" in keras_fixup
    assert "keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-05" in wil.to_keras(
        _config(normalization="batch", residual=True))
    assert set(re.findall(r"keras\.initializers\.(\w+)", keras_fixup)) <= KERAS_INITIALIZERS | {"Constant"}
    for source in (torch_bn, fixup, keras_fixup):  # wil.Config(...) in the header names the new fields
        assert "residual=True" in source


def test_a_plain_scripts_config_call_leaves_the_cure_fields_out():
    """A plain MLP's scripts are what they were before normalization and residual blocks existed."""
    for to_code in FLAVOURS.values():
        source = to_code(_config())
        assert "normalization" not in source and "residual" not in source.lower()


CURE_CASES = [("he_normal", "batch", True, "relu"), ("he_normal", "batch", False, "relu"),
              ("he_normal", None, True, "relu"), ("glorot_uniform", "layer", False, "tanh"),
              ("fixup", None, True, "relu"), ("fixup(scale=2)", None, True, "gelu"), ("rezero", None, True, "tanh"),
              ("skipinit(alpha=0.5)", "layer", True, "relu")]


@pytest.mark.torch
@pytest.mark.parametrize("entry, normalization, residual, activation", CURE_CASES,
                         ids=["-".join(map(str, case)) for case in CURE_CASES])
def test_the_pytorch_cure_networks_have_wils_activation_std_at_epoch_0(entry, normalization, residual, activation):
    """As the plain networks above; layers that start at exactly zero (Fixup's output) must be zero on both
    sides, and the rest agree within ``Z_BOUND`` standard errors."""
    config = _config(activation=activation, depth=6, width=32, n_samples=400, normalization=normalization,
                     residual=residual)
    seeds = list(range(N_SEEDS))
    torch_stds = _torch_epoch0_stds(wil.to_pytorch(config, entry), seeds)
    wil_stds = _wil_epoch0_stds(config, entry, seeds)
    assert torch_stds.shape == wil_stds.shape == (N_SEEDS, config.depth + 1)
    zero = np.all(wil_stds == 0, axis=0)
    assert np.all(torch_stds[:, zero] == 0)
    z = _discrepancy(torch_stds[:, ~zero], wil_stds[:, ~zero])
    assert np.all(z < Z_BOUND), (z, torch_stds.mean(axis=0), wil_stds.mean(axis=0))


@pytest.mark.torch
@pytest.mark.parametrize("exported, trained", [("skipinit(alpha=0.5)", "skipinit(alpha=0.25)"),
                                               ("fixup", "he_normal")])
def test_the_comparison_catches_a_wrong_cure(exported, trained):
    config = _config(depth=6, width=32, n_samples=400, residual=True)
    seeds = list(range(N_SEEDS))
    torch_stds = _torch_epoch0_stds(wil.to_pytorch(config, exported), seeds)
    wil_stds = _wil_epoch0_stds(config, trained, seeds)
    keep = ~np.all(torch_stds == 0, axis=0) & ~np.all(wil_stds == 0, axis=0)
    assert _discrepancy(torch_stds[:, keep], wil_stds[:, keep]).max() > Z_BOUND or not keep.all()


@pytest.mark.torch
@pytest.mark.parametrize("entry, normalization, batch_size", [("he_normal", "batch", None), ("he_normal", "batch", 50),
                                                              ("rezero", "layer", 50), ("fixup", None, None)])
def test_the_pytorch_cure_script_runs_alone_and_learns(entry, normalization, batch_size, tmp_path):
    """A residual network as a file, in a fresh interpreter: BatchNorm's train and eval modes, the trained
    scalars; it learns the moons as wil does."""
    _import_torch()
    config = _config(n_samples=400, depth=8, width=32, epochs=60, optimizer="momentum", batch_size=batch_size,
                     learning_rate=0.05, normalization=normalization, residual=True)
    out = _run_script(wil.to_pytorch(config, entry), tmp_path, "take_home_cure")
    assert len(_layer_stds(out)) == config.depth + 1
    ours = _last_value(out, "final test accuracy")
    theirs = wil.train(dataclasses.replace(config, initializer=entry)).status["final_test_accuracy"].iloc[0]
    assert ours > 0.8 and theirs > 0.8, (ours, theirs)

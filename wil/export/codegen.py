"""Take it home: one network of a ``Config`` as a self-contained script for PyTorch, Keras or wil.

``to_pytorch``, ``to_keras`` and ``to_wil`` return the source of one Python file. Each makes the same data
as ``wil.load_dataset`` (the same scikit-learn generator or loader, the same stratified 75/25 split and
``StandardScaler`` fitted on the training split), builds the same network (``depth`` hidden layers of
``width`` units, a linear output, softmax cross-entropy or mean squared error), initializes it by the
same formula, trains it with the same optimizer on wil's mini-batch order, and prints the per-layer
activation std at epoch 0 (wil's ``act_std``) and the final test accuracy.

A framework's own initializer is used where one matches wil's exactly (``torch.nn.init.*``,
``keras.initializers.*``); where none does, the formula is written out: the Keras-style truncated normal
of ``he_normal``, ``glorot_normal`` and ``lecun_normal`` in PyTorch, LSUV in both, the ``scale`` multiplier.

Each registry entry carries its own code (``export``: ``wil.spec.snippets``): the initializer's lines, the
activation's module, the optimizer's constructor. This module only assembles them into the templates
(``wil.export.templates``), so a new entry needs nothing here. Everything the scripts contain comes from
registry keys and numbers, never from free text. Nothing here imports a framework: the scripts do.
"""

from __future__ import annotations

import dataclasses
import textwrap

from wil.engine.divergence import LOSS_BOUND
from wil.export import cures, templates
from wil.spec.activations import get_activation
from wil.spec.config import Config
from wil.spec.datasets import TEST_FRACTION, get_dataset_spec
from wil.spec.labels import get_initializer, make_label, parse_entry
from wil.spec.lsuv import LSUV_BATCH
from wil.spec.optimizers import get_optimizer
from wil.spec.snippets import InitializerCode, num


# ---------------------------------------------------------------- public API

def to_pytorch(config: Config, initializer=None) -> str:
    """A PyTorch script that reproduces one network of ``config``.

    Parameters
    ----------
    config : the run; its data, network, optimizer, epochs and ``seed``.
    initializer : the initializer entry to use: a name, a ``(name, params)`` pair or a label such as
        ``"random_normal(std=0.01)"``; default ``config.initializer``.

    Returns
    -------
    str, the source of a Python file that needs numpy, scikit-learn and torch. The weights are other
    draws from the same distribution as wil's, so its statistics match wil's within sampling error.
    """
    return _render("pytorch", config, initializer)


def to_keras(config: Config, initializer=None) -> str:
    """A Keras 3 script that reproduces one network of ``config`` (parameters as ``to_pytorch``).

    Returns
    -------
    str, the source of a Python file that needs numpy, scikit-learn and keras (3.x, any backend).
    """
    return _render("keras", config, initializer)


def to_wil(config: Config, initializer=None) -> str:
    """A wil script that trains one network of ``config`` (parameters as ``to_pytorch``).

    Returns
    -------
    str, the source of a Python file that needs wil (and its requirements). It checks that its
    scikit-learn data equals ``wil.load_dataset``'s and reports what ``wil.train`` reports.
    """
    return _render("wil", config, initializer)


# ---------------------------------------------------------------- assembly

def _render(flavour: str, config: Config, initializer) -> str:
    """The script of ``flavour`` for ``config`` and one initializer entry."""
    if not isinstance(config, Config):
        raise TypeError(f"Invalid config: expected a wil.Config, got {type(config).__name__}")
    name, params = parse_entry(config.initializer if initializer is None else initializer)
    label = make_label(name, params)
    config = dataclasses.replace(config, initializer=label, compare=(), n_seeds=1)
    spec = get_dataset_spec(config.dataset)
    values = dict(
        header=_header(flavour, config, label), data_imports=_data_imports(config),
        data_code=_data_code(config), seed=config.seed, depth=config.depth, width=config.width,
        epochs=config.epochs, learning_rate=repr(config.learning_rate),
        batch_size=_batch_size(config), dtype=config.dtype, label=label, activation=config.activation,
        config_call=_config_call(config, indent=4), loss_bound=f"{LOSS_BOUND:.0e}".replace("e+0", "e"),
        lsuv_batch=LSUV_BATCH, classification=spec.task == "classification",
        docstring=_docstring(name, params, config.activation))
    builder = {"pytorch": _pytorch, "keras": _keras, "wil": _wil}[flavour]
    return builder(config, name, params, values)


def _batch_size(config: Config) -> str:
    """BATCH_SIZE's source: None when wil trains full batch (no batch size, or one the size of the split)."""
    full = config.batch_size is None or config.batch_size >= config.n_train()
    return "None" if full else str(config.batch_size)


def _config_call(config: Config, indent: int, source: dict[str, str] | None = None) -> str:
    """``wil.Config(...)`` for this network, wrapped at about 100 columns; ``source`` gives some fields'
    values as code instead of literals."""
    source = source or {}
    fields = [f"{name}={source.get(name, repr(getattr(config, name)))}" for name in Config.network_fields()
              if not cures.omitted(config, name)]
    lines, line = [], "wil.Config("
    for i, field in enumerate(fields):
        piece = field + (", " if i < len(fields) - 1 else ")")
        if len(line) + len(piece) > 100 - indent:
            lines.append(line.rstrip())
            line = " " * 11
        line += piece
    lines.append(line)
    return ("\n" + " " * indent).join(lines)


_FRAMEWORK = {"pytorch": "PyTorch", "keras": "Keras 3", "wil": "wil"}
_NEEDS = {"pytorch": "numpy, scikit-learn and torch", "keras": "numpy, scikit-learn and keras 3 (any backend)",
          "wil": "wil and its requirements (numpy, pandas, scikit-learn)"}


def _header(flavour: str, config: Config, label: str) -> str:
    """The script's docstring: what it reproduces and how far."""
    plural = "s" if config.depth != 1 else ""
    layers = f"{config.depth} hidden layer{plural} of {config.width} {config.activation} units"
    optimizer = _optimizer_code(config.optimizer).text
    batches = "full batch" if _batch_size(config) == "None" else f"mini-batches of {config.batch_size}"
    if flavour == "wil":
        how = ("wil.train runs it, so it prints what the app shows. The scikit-learn code is what\n"
               "wil.load_dataset does, checked against it.")
    else:
        how = ("The same data (scikit-learn: the same generator, 75/25 split and scaling), network (linear\n"
               "output, softmax cross-entropy or mean squared error), initializer formula, optimizer and\n"
               "mini-batch order as wil. The weights are other draws from the same distribution, so the\n"
               "statistics match wil's within sampling error, not digit for digit.")
    data = "your data" if get_dataset_spec(config.dataset).target is not None else config.dataset
    return (f'"""Reproduce in {_FRAMEWORK[flavour]}: {label} weights, {layers}, on {data}.\n\n'
            f"Made by wil, the weight-initialization lab, for\n    {_config_call(config, 4)}\n"
            f"{cures.architecture(config)}{optimizer[0].upper()}{optimizer[1:]}, {batches}, {config.epochs} "
            f"epochs.\n\n{how}\n"
            f'Needs {_NEEDS[flavour]}. Run: python this_file.py\n"""')


# ---------------------------------------------------------------- data, shared by every flavour

_SKLEARN_CALLS = {
    "moons": ("make_moons", "X, y = make_moons(n_samples=N_SAMPLES, noise=NOISE, random_state=SEED)"),
    "circles": ("make_circles",
                "X, y = make_circles(n_samples=N_SAMPLES, noise=NOISE, factor=0.5, random_state=SEED)"),
    "blobs": ("make_blobs", "X, y = make_blobs(n_samples=N_SAMPLES, centers=3, cluster_std=0.5 + 3.0 * NOISE,\n"
                            "                  random_state=SEED)  # NOISE widens the clusters"),
    "gaussian_quantiles": ("make_gaussian_quantiles",
                           "X, y = make_gaussian_quantiles(n_samples=N_SAMPLES, n_features=2, n_classes=3,"
                           " random_state=SEED)\n"
                           "X = X + NOISE * np.random.default_rng(SEED).standard_normal(X.shape)"),
    "friedman1": ("make_friedman1",
                  "X, y = make_friedman1(n_samples=N_SAMPLES, n_features=5, noise=NOISE, random_state=SEED)"),
    "iris": ("load_iris", "X, y = load_iris(return_X_y=True)"),
    "wine": ("load_wine", "X, y = load_wine(return_X_y=True)"),
    "breast_cancer": ("load_breast_cancer", "X, y = load_breast_cancer(return_X_y=True)"),
    "digits": ("load_digits", "X, y = load_digits(return_X_y=True)"),
    "diabetes": ("load_diabetes", "X, y = load_diabetes(return_X_y=True)"),
}
_OWN_GENERATORS = ("xor", "spirals")  # wil's own: copied into the script


def _data_imports(config: Config) -> str:
    """The scikit-learn imports of the data code."""
    lines = ["import pandas as pd"] if get_dataset_spec(config.dataset).target is not None else []
    if config.dataset in _SKLEARN_CALLS:
        lines.append(f"from sklearn.datasets import {_SKLEARN_CALLS[config.dataset][0]}")
    lines += ["from sklearn.model_selection import train_test_split",
              "from sklearn.preprocessing import StandardScaler"]
    return "\n".join(lines)


def _own_generator(name: str) -> str:
    """wil's own generator ``name``, its source copied and renamed ``make_<name>``."""
    import inspect  # here: it is slow to import and only the scripts of two datasets need it

    from wil.spec import datasets

    source = inspect.getsource(getattr(datasets, f"_{name}"))
    return source.replace(f"def _{name}(", f"def make_{name}(", 1).rstrip()


def _making(config: Config, spec) -> tuple[str, str]:
    """The code above ``load_data()`` (constants, a copied generator) and the line that makes X and y."""
    if spec.target is not None:  # your own data (wil.from_frame): read again from its CSV file
        return f"{_user_data_constants(spec)}\n\n\n", (
            "frame = pd.read_csv(CSV_FILE, skipinitialspace=True)\n"
            "X = frame[FEATURES].to_numpy(dtype=np.float64)\n"
            + ("y = frame[TARGET].factorize(sort=True)[0]  # classes in sorted order, as wil"
               if spec.task == "classification" else "y = frame[TARGET].to_numpy(dtype=np.float64)"))
    above = ""
    if spec.uses_samples or spec.uses_noise:
        above = f"N_SAMPLES, NOISE = {config.n_samples}, {num(config.noise)}  # generated data only\n\n\n"
    if config.dataset in _OWN_GENERATORS:
        above += f"# wil's own generator, copied from wil/spec/datasets.py\n{_own_generator(config.dataset)}\n\n\n"
        return above, f"X, y = make_{config.dataset}(N_SAMPLES, NOISE, SEED)"
    return above, _SKLEARN_CALLS[config.dataset][1]


def _data_code(config: Config) -> str:
    """``load_data()`` and its constants: what ``wil.load_dataset`` does, as scikit-learn calls."""
    spec = get_dataset_spec(config.dataset)
    classification = spec.task == "classification"
    above, make = _making(config, spec)
    body = [make, "X = np.asarray(X, dtype=np.float64)"]
    if classification:
        body += ["_, y = np.unique(y, return_inverse=True)  # classes 0..C-1",
                 f"X_train, X_test, y_train, y_test = train_test_split(X, y, test_size={TEST_FRACTION}, "
                 "random_state=SEED, stratify=y)"]
    else:
        body += [f"X_train, X_test, y_train, y_test = train_test_split(X, y, test_size={TEST_FRACTION}, "
                 "random_state=SEED)"]
    body += ["scaler = StandardScaler().fit(X_train)  # fitted on the training split only",
             "X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)"]
    if classification:
        body.append("y_train, y_test = y_train.astype(np.int64), y_test.astype(np.int64)")
    else:
        body += ["mean, std = y_train.mean(), y_train.std()  # targets standardized on the training split too",
                 "y_train, y_test = (y_train - mean) / std, (y_test - mean) / std"]
    body.append("return X_train, X_test, y_train, y_test")
    doc = (f'"""{"Your data" if spec.target is not None else spec.label}, as wil.load_dataset: a 75/25 split'
           f'{" (stratified)" if classification else ""}, scaled on the training split."""')
    return above + "def load_data():\n    " + doc + "\n" + _indent("\n".join(body), 4)


def _user_data_constants(spec) -> str:
    """Where your own data comes from: the CSV file, its target and feature columns (names as literals)."""
    return (f"CSV_FILE = \"your_data.csv\"  # the CSV file you gave wil, saved under this name\n"
            f"TARGET = {spec.target!r}\nFEATURES = {list(spec.feature_names)!r}\nTASK = {spec.task!r}")


def _indent(text: str, spaces: int) -> str:
    """Every non-empty line of ``text`` indented by ``spaces``."""
    pad = " " * spaces
    return "\n".join(pad + line if line.strip() else line for line in text.split("\n"))


# ---------------------------------------------------------------- the registry entries' own code

def _initializer_code(name: str) -> InitializerCode:
    """The export code of initializer ``name``; ``ValueError`` for an entry that has none."""
    code = get_initializer(name).export
    if code is None:  # fail loudly rather than export a wrong formula
        raise ValueError(f"Invalid initializer {name!r}: its registry entry has no export code")
    return code


def _activation_code(name: str):
    """The export code of activation ``name`` (``ActivationCode``)."""
    code = get_activation(name).export
    if code is None:
        raise ValueError(f"Invalid activation {name!r}: its registry entry has no export code")
    return code


def _optimizer_code(name: str):
    """The export code of optimizer ``name`` (``OptimizerCode``)."""
    code = get_optimizer(name).export
    if code is None:
        raise ValueError(f"Invalid optimizer {name!r}: its registry entry has no export code")
    return code


def _docstring(name: str, params: dict, activation: str, indent: int = 4) -> str:
    """The initializer's label and formula as a docstring wrapped at about 100 columns."""
    text = f"{get_initializer(name).label}: {_initializer_code(name).formula(params, activation)}."
    pad = " " * indent
    return textwrap.fill(f'"""{text}"""', 104 - indent, initial_indent=pad, subsequent_indent=pad).lstrip()


def _lines(*parts: str) -> str:
    """The non-empty ``parts``, one after the other."""
    return "\n".join(part for part in parts if part)


def _helper(make, params: dict) -> str:
    """A module-level function an entry needs, set off by two blank lines, or ""."""
    return "\n\n\n" + make(params) if make is not None else ""


def _finish_call(statement: str) -> str:
    """A data-dependent scheme's finish, called in ``build_network`` after the model is made, or ""."""
    return "\n    " + statement if statement else ""


def _targets(values: dict, regression: str) -> str:
    """The lines of ``main`` that set ``n_outputs`` (and shape regression targets as ``regression``)."""
    if values["classification"]:
        return "    n_outputs = int(y_train.max()) + 1  # classes"
    return regression + "\n    n_outputs = 1"


# ---------------------------------------------------------------- PyTorch

def _pytorch(config: Config, name: str, params: dict, values: dict) -> str:
    """The PyTorch script."""
    code, activation = _initializer_code(name), config.activation
    optimizer = _optimizer_code(config.optimizer)
    if values["classification"]:
        loss = "nn.CrossEntropyLoss()  # softmax cross-entropy on the logits, averaged over examples"
        accuracy = "(output.argmax(dim=1) == y).double().mean().item()"
    else:
        loss, accuracy = "nn.MSELoss()  # mean squared error", 'float("nan")'
    targets = _targets(values, "    y_train, y_test = y_train.to(DTYPE)[:, None], y_test.to(DTYPE)[:, None]")
    body = _lines(code.pytorch(params, activation), code.pytorch_bias(params, activation))
    network = cures.torch_sections(config, name, params, _finish_call(code.pytorch_finish))
    return templates.TORCH.substitute(
        values, init_body=_indent(body, 4), helpers=_helper(code.pytorch_helper, params), **network,
        loss=loss, accuracy=accuracy, targets=targets, optimizer=optimizer.pytorch,
        optimizer_note=optimizer.pytorch_note, optimizer_text=optimizer.text)


# ---------------------------------------------------------------- Keras

def _keras(config: Config, name: str, params: dict, values: dict) -> str:
    """The Keras script."""
    code, activation = _initializer_code(name), _activation_code(config.activation)
    optimizer = _optimizer_code(config.optimizer)
    if values["classification"]:
        loss = ("keras.losses.SparseCategoricalCrossentropy(from_logits=True)  # softmax cross-entropy, "
                "averaged")
        accuracy = "float(np.mean(output.argmax(axis=1) == y))"
    else:
        loss, accuracy = "keras.losses.MeanSquaredError()", 'float("nan")'
    targets = _targets(values, f'    y_train, y_test = y_train[:, None].astype("{config.dtype}"), '
                               f'y_test[:, None].astype("{config.dtype}")')
    return templates.KERAS.substitute(
        values, kernel_body=_indent(code.keras(params, config.activation), 4),
        bias_body=_indent(code.keras_bias(params, config.activation), 4),
        helpers=_helper(code.keras_helper, params),
        **cures.keras_sections(config, name, params, _finish_call(code.keras_finish)),
        activation_code="\n\n\n" + activation.keras_helper if activation.keras_helper else "", loss=loss, accuracy=accuracy, targets=targets,
        adam=optimizer.keras_helper + "\n" if optimizer.keras_helper else "", optimizer=optimizer.keras,
        optimizer_note=optimizer.keras_note, optimizer_text=optimizer.text)


# ---------------------------------------------------------------- wil

def _wil(config: Config, name: str, params: dict, values: dict) -> str:
    """The wil script."""
    formula = textwrap.fill(f"the initializer: {_initializer_code(name).formula(params, config.activation)}",
                            100, initial_indent="    # ", subsequent_indent="    # ")
    config_call = _config_call(config, indent=len("CONFIG = "))
    spec = get_dataset_spec(config.dataset)
    if spec.target is not None:  # your own data: registered from its CSV file
        config_call = _config_call(config, indent=len("CONFIG = "), source={"dataset": "DATASET"})
        values = dict(values, data_imports=values["data_imports"] + "\n\n" + _user_data_constants(spec))
        values["data_code"] = values["data_code"].split("\n\n\n", 1)[1]  # the constants are above CONFIG
        values["seed"] = (f"{values['seed']}\n# your data, registered as {config.dataset[:13]}... (a hash of its "
                          "content)\nDATASET = wil.from_frame(pd.read_csv(CSV_FILE, skipinitialspace=True), "
                          "TARGET, task=TASK)")
    return templates.WIL.substitute(values, formula=formula, name=name, config_call=config_call)

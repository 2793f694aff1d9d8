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

Everything the scripts contain comes from registry keys and numbers, never from free text. Nothing here
imports a framework: the scripts do.
"""

from __future__ import annotations

import dataclasses
from wil.export import templates
from wil.spec.activations import get_activation
from wil.spec.config import Config
from wil.spec.datasets import TEST_FRACTION, get_dataset_spec
from wil.spec.initializers import TRUNCATED_STD_CORRECTION, get_initializer, make_label, parse_entry

LSUV_BATCH = 256  # as wil.analysis.compare.LSUV_BATCH (not imported: training is heavier than this module)
LOSS_BOUND = 1e6  # as wil.analysis.compare.LOSS_BOUND


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
        lsuv_batch=LSUV_BATCH, classification=spec.task == "classification")
    builder = {"pytorch": _pytorch, "keras": _keras, "wil": _wil}[flavour]
    return builder(config, name, params, values)


def _num(value: float) -> str:
    """A float as Python source that reads back to the same float."""
    return repr(float(value))


def _times(scale: float, text: str) -> str:
    """``text`` multiplied by ``scale``, or ``text`` alone when the scale is 1."""
    return text if scale == 1.0 else f"{_num(scale)} * {text}"


def _batch_size(config: Config) -> str:
    """BATCH_SIZE's source: None when wil trains full batch (no batch size, or one the size of the split)."""
    full = config.batch_size is None or config.batch_size >= config.n_train()
    return "None" if full else str(config.batch_size)


def _config_call(config: Config, indent: int, source: dict[str, str] | None = None) -> str:
    """``wil.Config(...)`` for this network, wrapped at about 100 columns; ``source`` gives some fields'
    values as code instead of literals."""
    source = source or {}
    fields = [f"{f.name}={source.get(f.name, repr(getattr(config, f.name)))}" for f in dataclasses.fields(config)
              if f.name not in ("compare", "n_seeds")]
    lines, line = [], "wil.Config("
    for i, field in enumerate(fields):
        piece = field + (", " if i < len(fields) - 1 else ")")
        if len(line) + len(piece) > 100 - indent:
            lines.append(line.rstrip())
            line = " " * 11
        line += piece
    lines.append(line)
    return ("\n" + " " * indent).join(lines)


_OPTIMIZER_TEXT = {"sgd": "plain SGD", "momentum": "SGD with momentum 0.9 (v = 0.9 v + g; p -= lr v)",
                   "adam": "Adam (0.9, 0.999, eps 1e-8 outside the square root)"}
_FRAMEWORK = {"pytorch": "PyTorch", "keras": "Keras 3", "wil": "wil"}
_NEEDS = {"pytorch": "numpy, scikit-learn and torch", "keras": "numpy, scikit-learn and keras 3 (any backend)",
          "wil": "wil and its requirements (numpy, pandas, scikit-learn)"}


def _header(flavour: str, config: Config, label: str) -> str:
    """The script's docstring: what it reproduces and how far."""
    plural = "s" if config.depth != 1 else ""
    layers = f"{config.depth} hidden layer{plural} of {config.width} {config.activation} units"
    optimizer = _OPTIMIZER_TEXT[config.optimizer]
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
            f"{optimizer[0].upper()}{optimizer[1:]}, {batches}, {config.epochs} epochs.\n\n{how}\n"
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


def _data_code(config: Config) -> str:
    """``load_data()`` and its constants: what ``wil.load_dataset`` does, as scikit-learn calls."""
    spec = get_dataset_spec(config.dataset)
    classification = spec.task == "classification"
    parts = []
    if spec.target is not None:  # your own data (wil.spec.datasets.from_frame): read again from its CSV file
        parts.append(f"{_user_data_constants(spec)}\n\n\n")
        make = ("frame = pd.read_csv(CSV_FILE, skipinitialspace=True)\n"
                "X = frame[FEATURES].to_numpy(dtype=np.float64)\n"
                + ("y = frame[TARGET].factorize(sort=True)[0]  # classes in sorted order, as wil"
                   if classification else "y = frame[TARGET].to_numpy(dtype=np.float64)"))
    elif spec.uses_samples or spec.uses_noise:
        parts.append(f"N_SAMPLES, NOISE = {config.n_samples}, {_num(config.noise)}  # generated data only\n\n\n")
    if spec.target is not None:
        pass
    elif config.dataset in _OWN_GENERATORS:
        parts.append(f"# wil's own generator, copied from wil/datasets.py\n{_own_generator(config.dataset)}\n\n\n")
        make = f"X, y = make_{config.dataset}(N_SAMPLES, NOISE, SEED)"
    else:
        make = _SKLEARN_CALLS[config.dataset][1]
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
    parts.append("def load_data():\n    " + doc + "\n" + _indent("\n".join(body), 4))
    return "".join(parts)


def _user_data_constants(spec) -> str:
    """Where your own data comes from: the CSV file, its target and feature columns (names as literals)."""
    return (f"CSV_FILE = \"your_data.csv\"  # the CSV file you gave wil, saved under this name\n"
            f"TARGET = {spec.target!r}\nFEATURES = {list(spec.feature_names)!r}\nTASK = {spec.task!r}")


def _indent(text: str, spaces: int) -> str:
    """Every non-empty line of ``text`` indented by ``spaces``."""
    pad = " " * spaces
    return "\n".join(pad + line if line.strip() else line for line in text.split("\n"))


# ---------------------------------------------------------------- initializers

_VS_PRESETS = {  # name -> (Keras' variance-scaling scale, mode, distribution, Keras class)
    "glorot_uniform": (1.0, "fan_avg", "uniform", "GlorotUniform"),
    "glorot_normal": (1.0, "fan_avg", "truncated_normal", "GlorotNormal"),
    "he_uniform": (2.0, "fan_in", "uniform", "HeUniform"),
    "he_normal": (2.0, "fan_in", "truncated_normal", "HeNormal"),
    "lecun_uniform": (1.0, "fan_in", "uniform", "LecunUniform"),
    "lecun_normal": (1.0, "fan_in", "truncated_normal", "LecunNormal"),
}
_KAIMING_UNIFORM = {"he_uniform": "relu", "lecun_uniform": "linear"}  # exact in torch: bound = gain sqrt(3/fan_in)
_SKLEARN_FACTOR = "# scikit-learn's _init_coef: 2 for sigmoid, else 6"


def _docstring(name: str, params: dict, activation: str, indent: int = 4) -> str:
    """The initializer's label and formula as a docstring wrapped at about 100 columns."""
    import textwrap  # here: only the scripts need it

    text = f"{get_initializer(name).label}: {_formula(name, params, activation)}."
    pad = " " * indent
    return textwrap.fill(f'"""{text}"""', 104 - indent, initial_indent=pad, subsequent_indent=pad).lstrip()


def _formula(name: str, params: dict, activation: str) -> str:
    """The initializer in one line of plain text."""
    s = params.get("scale", 1.0)
    scaled = "" if s == 1.0 else f", times scale {_num(s)}"
    if name in _VS_PRESETS:
        factor, mode, distribution, _ = _VS_PRESETS[name]
        variance = f"{factor:g} / fan_in" if mode == "fan_in" else f"{2 * factor:g} / (fan_in + fan_out)"
        if distribution == "uniform":
            return f"U(+-sqrt(3 Var)) with Var = {variance}{scaled}"
        return (f"normal truncated at 2 sigma and rescaled (sigma = sqrt(Var) / {TRUNCATED_STD_CORRECTION:.6f})"
                f" so that Var(w) = {variance} exactly{scaled}")
    if name == "sklearn_default":
        factor = 2 if activation == "sigmoid" else 6
        return f"weights and biases U(+-sqrt({factor} / (fan_in + fan_out))), weights{scaled or ' times scale 1'}"
    texts = {
        "zeros": "every weight 0", "constant": f"every weight {_num(params.get('value', 0))}{scaled}",
        "random_normal": f"N({_num(params.get('mean', 0))}, {_num(params.get('std', 0))}^2){scaled}",
        "random_uniform": f"U(+-{_num(params.get('limit', 0))}){scaled}",
        "truncated_normal": f"N(0, {_num(params.get('std', 0))}^2) cut at +-2 std{scaled}",
        "orthogonal": f"a random (semi-)orthogonal matrix times gain {_num(params.get('gain', 1))}{scaled}",
        "lsuv": (f"orthogonal (gain {_num(params.get('gain', 1))}), then each layer divided by the std of its "
                 f"output on {LSUV_BATCH} training examples until |Var - 1| < {_num(params.get('tol', 0))}"
                 f" (at most {params.get('max_iter', 0)} times){scaled}"),
        "torch_default": f"weights and biases U(+-1/sqrt(fan_in)), as nn.Linear{scaled} (weights only)",
        "mean_field": (f"weights N(0, {_num(params.get('sigma_w2', 2))} / fan_in), biases "
                       f"N(0, {_num(params.get('sigma_b2', 0))}) (Poole et al. 2016){scaled} (weights only)"),
    }
    return texts[name]


def _torch_init(name: str, params: dict, activation: str) -> tuple[list[str], set[str]]:
    """The body of ``init_layer_(linear)`` (``w``, ``b``, ``fan_in``, ``fan_out`` in scope) and the helpers
    it needs."""
    s = params.get("scale", 1.0)
    helpers: set[str] = set()
    zero_bias = True
    if name in _VS_PRESETS:
        factor, mode, distribution, _ = _VS_PRESETS[name]
        if distribution == "uniform" and mode == "fan_avg":
            lines = ["nn.init.xavier_uniform_(w" + ("" if s == 1.0 else f", gain={_num(s)}") + ")  # exact"]
        elif distribution == "uniform":
            lines = [f"nn.init.kaiming_uniform_(w, nonlinearity={_KAIMING_UNIFORM[name]!r})  # exact: "
                     f"U(+-sqrt({3 * factor:g} / fan_in))"]
            if s != 1.0:
                lines.append(f"w.mul_({_num(s)})  # scale")
        else:
            variance = (f"{_num(factor)} / fan_in" if mode == "fan_in"
                        else f"{_num(2 * factor)} / (fan_in + fan_out)")
            lines = [f"std = {_times(s, f'math.sqrt({variance})')}  # the exact target std",
                     "keras_truncated_normal_(w, std)  # torch's own kaiming/xavier_normal_ do not truncate"]
            helpers.add("truncated")
    elif name == "zeros":
        lines = ["nn.init.zeros_(w)"]
    elif name == "constant":
        lines = [f"nn.init.constant_(w, {_times(s, _num(params['value']))})"]
    elif name == "random_normal":
        mean, std = _times(s, _num(params["mean"])), _times(s, _num(params["std"]))
        lines = [f"nn.init.normal_(w, mean={mean}, std={std})"]
    elif name == "random_uniform":
        limit = _times(s, _num(params["limit"]))
        lines = [f"nn.init.uniform_(w, -{limit}, {limit})"]
    elif name == "truncated_normal":
        lines = [f"std = {_times(s, _num(params['std']))}",
                 "nn.init.trunc_normal_(w, mean=0.0, std=std, a=-2 * std, b=2 * std)  # cut at 2 std, as Keras"]
    elif name in ("orthogonal", "lsuv"):
        gain = params["gain"] if name == "lsuv" else params["gain"] * s
        lines = [f"nn.init.orthogonal_(w, gain={_num(gain)})"]
        if name == "lsuv":
            lines[0] += "  # LSUV starts here; lsuv_ below finishes it on data"
    elif name == "torch_default":
        lines = ["# nn.Linear's own init: kaiming_uniform_(w, a=sqrt(5)), i.e. U(+-1/sqrt(fan_in)); the bias too",
                 "linear.reset_parameters()"]
        if s != 1.0:
            lines.append(f"w.mul_({_num(s)})  # scale (the weights only)")
        zero_bias = False
    elif name == "sklearn_default":
        factor = 2.0 if activation == "sigmoid" else 6.0
        bound = _times(s, "bound")
        lines = [f"bound = math.sqrt({_num(factor)} / (fan_in + fan_out))  {_SKLEARN_FACTOR}",
                 f"nn.init.uniform_(w, -{bound}, {bound})", "nn.init.uniform_(b, -bound, bound)  # biases too"]
        zero_bias = False
    elif name == "mean_field":
        std = _times(s, f"math.sqrt({_num(params['sigma_w2'])} / fan_in)")
        lines = [f"nn.init.normal_(w, mean=0.0, std={std})  # sigma_w^2 / fan_in, untruncated",
                 f"nn.init.normal_(b, mean=0.0, std=math.sqrt({_num(params['sigma_b2'])}))  # sigma_b^2"]
        zero_bias = False
    else:  # a new registry entry: fail loudly rather than export a wrong formula
        raise ValueError(f"Invalid initializer {name!r}: no PyTorch code for it")
    if zero_bias:
        lines.append("nn.init.zeros_(b)")
    return lines, helpers


def _keras_init(name: str, params: dict, activation: str) -> tuple[list[str], list[str]]:
    """The bodies of ``kernel_initializer(fan_in, fan_out)`` and ``bias_initializer(fan_in, fan_out)``."""
    s = params.get("scale", 1.0)
    init = "keras.initializers."
    bias = [f"return {init}Zeros()"]
    if name in _VS_PRESETS:
        factor, mode, distribution, keras_name = _VS_PRESETS[name]
        if s == 1.0:
            kernel = [f"return {init}{keras_name}()  # exact: Keras' truncated normal is rescaled as wil's"]
        else:
            kernel = [f"# {keras_name} with the weights times {_num(s)}, so their variance times {_num(s)} ** 2",
                      f"return {init}VarianceScaling(scale={_num(factor)} * {_num(s)} ** 2, mode={mode!r},",
                      f"                                        distribution={distribution!r})"]
    elif name == "zeros":
        kernel = [f"return {init}Zeros()"]
    elif name == "constant":
        kernel = [f"return {init}Constant({_times(s, _num(params['value']))})"]
    elif name == "random_normal":
        kernel = [f"return {init}RandomNormal(mean={_times(s, _num(params['mean']))}, "
                  f"stddev={_times(s, _num(params['std']))})"]
    elif name == "random_uniform":
        limit = _times(s, _num(params["limit"]))
        kernel = [f"return {init}RandomUniform(minval=-{limit}, maxval={limit})"]
    elif name == "truncated_normal":
        kernel = [f"return {init}TruncatedNormal(mean=0.0, stddev={_times(s, _num(params['std']))})"
                  "  # cut at 2 stddev"]
    elif name in ("orthogonal", "lsuv"):
        gain = params["gain"] if name == "lsuv" else params["gain"] * s
        kernel = [f"return {init}Orthogonal(gain={_num(gain)})"
                  + ("  # LSUV starts here; lsuv below finishes it on data" if name == "lsuv" else "")]
    elif name == "torch_default":
        bound = _times(s, "bound")
        kernel = ["bound = 1.0 / math.sqrt(fan_in)  # PyTorch's nn.Linear: no Keras equivalent",
                  f"return {init}RandomUniform(minval=-{bound}, maxval={bound})"]
        bias = ["bound = 1.0 / math.sqrt(fan_in)", f"return {init}RandomUniform(minval=-bound, maxval=bound)"]
    elif name == "sklearn_default":
        factor = 2.0 if activation == "sigmoid" else 6.0
        bound = _times(s, "bound")
        kernel = [f"bound = math.sqrt({_num(factor)} / (fan_in + fan_out))  {_SKLEARN_FACTOR}",
                  f"return {init}RandomUniform(minval=-{bound}, maxval={bound})"]
        bias = [f"bound = math.sqrt({_num(factor)} / (fan_in + fan_out))",
                f"return {init}RandomUniform(minval=-bound, maxval=bound)"]
    elif name == "mean_field":
        std = _times(s, f"math.sqrt({_num(params['sigma_w2'])} / fan_in)")
        kernel = [f"return {init}RandomNormal(mean=0.0, stddev={std})  # sigma_w^2 / fan_in, untruncated"]
        bias = [f"return {init}RandomNormal(mean=0.0, stddev=math.sqrt({_num(params['sigma_b2'])}))  # sigma_b^2"]
    else:
        raise ValueError(f"Invalid initializer {name!r}: no Keras code for it")
    return kernel, bias


# ---------------------------------------------------------------- activations

_TORCH_ACTIVATIONS = {
    "linear": "nn.Identity()", "sigmoid": "nn.Sigmoid()", "tanh": "nn.Tanh()", "relu": "nn.ReLU()",
    "leaky_relu": "nn.LeakyReLU(negative_slope=0.01)", "elu": "nn.ELU(alpha=1.0)", "selu": "nn.SELU()",
    "gelu": 'nn.GELU(approximate="tanh")', "softsign": "nn.Softsign()", "swish": "nn.SiLU()",
}
_KERAS_ACTIVATIONS = {
    "linear": '"linear"', "sigmoid": '"sigmoid"', "tanh": '"tanh"', "relu": '"relu"', "elu": '"elu"',
    "selu": '"selu"', "softsign": '"softsign"', "swish": '"silu"', "leaky_relu": "leaky_relu", "gelu": "gelu_tanh",
}


# ---------------------------------------------------------------- PyTorch

_TORCH_OPTIMIZERS = {
    "sgd": ("torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)", "    # p -= lr g"),
    "momentum": ("torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=0.9)",
                 "    # v = 0.9 v + g; p -= lr v: wil's rule"),
    "adam": ("torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, betas=(0.9, 0.999), eps=1e-8)",
             "    # p -= lr m_hat / (sqrt(v_hat) + eps): wil's rule"),
}


def _pytorch(config: Config, name: str, params: dict, values: dict) -> str:
    """The PyTorch script."""
    body, helpers = _torch_init(name, params, config.activation)
    correction = repr(TRUNCATED_STD_CORRECTION)
    helper_code = "".join("\n\n\n" + templates.TORCH_HELPERS[h].substitute(correction=correction)
                          for h in sorted(helpers))
    lsuv, lsuv_call = "", ""
    if name == "lsuv":
        lsuv = templates.TORCH_LSUV.substitute(tol=_num(params["tol"]), max_iter=int(params["max_iter"]),
                                               scale=_num(params["scale"]))
        lsuv_call = f"\n    lsuv_(model, X_train[:{LSUV_BATCH}])  # on the first {LSUV_BATCH} examples, as wil"
    optimizer, note = _TORCH_OPTIMIZERS[config.optimizer]
    if values["classification"]:
        loss = "nn.CrossEntropyLoss()  # softmax cross-entropy on the logits, averaged over examples"
        accuracy = "(output.argmax(dim=1) == y).double().mean().item()"
        targets = "    n_outputs = int(y_train.max()) + 1  # classes"
    else:
        loss = "nn.MSELoss()  # mean squared error"
        accuracy = 'float("nan")'
        targets = ("    y_train, y_test = y_train.to(DTYPE)[:, None], y_test.to(DTYPE)[:, None]\n"
                   "    n_outputs = 1")
    return templates.TORCH.substitute(
        values, docstring=_docstring(name, params, config.activation), init_body=_indent("\n".join(body), 4),
        helpers=helper_code, lsuv=lsuv, lsuv_call=lsuv_call,
        activation_module=_TORCH_ACTIVATIONS[get_activation(config.activation).name],
        loss=loss, accuracy=accuracy, targets=targets, optimizer=optimizer, optimizer_note=note,
        optimizer_text=_OPTIMIZER_TEXT[config.optimizer])


# ---------------------------------------------------------------- Keras

_KERAS_OPTIMIZERS = {
    "sgd": ("keras.optimizers.SGD(learning_rate=LEARNING_RATE)", "    # p -= lr g"),
    "momentum": ("keras.optimizers.SGD(learning_rate=LEARNING_RATE, momentum=0.9)",
                 "    # Keras keeps u = 0.9 u - lr g; p += u. With a constant learning rate u = -lr v, for wil's\n"
                 "    # v = 0.9 v + g; p -= lr v: the same steps, up to rounding."),
    "adam": ("WilAdam(LEARNING_RATE)", "    # written out above: Keras' own Adam places epsilon differently"),
}


def _keras(config: Config, name: str, params: dict, values: dict) -> str:
    """The Keras script."""
    kernel, bias = _keras_init(name, params, config.activation)
    lsuv, lsuv_call = "", ""
    if name == "lsuv":
        lsuv = templates.KERAS_LSUV.substitute(tol=_num(params["tol"]), max_iter=int(params["max_iter"]),
                                               scale=_num(params["scale"]))
        lsuv_call = f"\n    lsuv(model, X_train[:{LSUV_BATCH}])  # on the first {LSUV_BATCH} examples, as wil"
    activation = get_activation(config.activation).name
    activation_code = templates.KERAS_ACTIVATION_CODE.get(activation, "")
    optimizer, note = _KERAS_OPTIMIZERS[config.optimizer]
    if values["classification"]:
        loss = ("keras.losses.SparseCategoricalCrossentropy(from_logits=True)  # softmax cross-entropy, "
                "averaged")
        accuracy = "float(np.mean(output.argmax(axis=1) == y))"
        targets = "    n_outputs = int(y_train.max()) + 1  # classes"
    else:
        loss = "keras.losses.MeanSquaredError()"
        accuracy = 'float("nan")'
        targets = (f'    y_train, y_test = y_train[:, None].astype("{config.dtype}"), '
                   f'y_test[:, None].astype("{config.dtype}")\n    n_outputs = 1')
    return templates.KERAS.substitute(
        values, docstring=_docstring(name, params, config.activation), kernel_body=_indent("\n".join(kernel), 4),
        bias_body=_indent("\n".join(bias), 4), lsuv=lsuv, lsuv_call=lsuv_call,
        activation_code="\n\n\n" + activation_code if activation_code else "",
        activation_keras=_KERAS_ACTIVATIONS[activation], loss=loss, accuracy=accuracy, targets=targets,
        adam=templates.KERAS_ADAM + "\n" if config.optimizer == "adam" else "", optimizer=optimizer,
        optimizer_note=note, optimizer_text=_OPTIMIZER_TEXT[config.optimizer])


# ---------------------------------------------------------------- wil

def _wil(config: Config, name: str, params: dict, values: dict) -> str:
    """The wil script."""
    import textwrap  # here: only the scripts need it

    formula = textwrap.fill(f"the initializer: {_formula(name, params, config.activation)}", 100,
                            initial_indent="    # ", subsequent_indent="    # ")
    config_call = _config_call(config, indent=len("CONFIG = "))
    if get_dataset_spec(config.dataset).target is not None:  # your own data: registered from its CSV file
        config_call = _config_call(config, indent=len("CONFIG = "), source={"dataset": "DATASET"})
        values = dict(values, data_imports=values["data_imports"] + "\n\n" + _user_data_constants(
            get_dataset_spec(config.dataset)))
        values["data_code"] = values["data_code"].split("\n\n\n", 1)[1]  # the constants are above CONFIG
        values["seed"] = (f"{values['seed']}\n# your data, registered as {config.dataset[:13]}... (a hash of its "
                          "content)\nDATASET = wil.spec.datasets.from_frame(pd.read_csv(CSV_FILE, "
                          "skipinitialspace=True), TARGET, task=TASK)")
    return templates.WIL.substitute(values, formula=formula, name=name, config_call=config_call)


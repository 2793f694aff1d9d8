"""Weight initializers: one registry entry per scheme, holding its sampler, formula, parameters and peers.

Formulas and defaults follow Keras (``keras.initializers``); each entry names its PyTorch equivalent and
says where the two differ. Every initializer takes a ``scale`` multiplier (default 1) applied to the
weights it draws, so "too small" and "too large" form a continuum.

Weights have shape ``(fan_in, fan_out)``: a layer computes ``z = a @ W + b``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from wil.spec.checks import ArgumentTypeError, check_choice, check_float, check_int, shown
from wil.spec.lsuv import lsuv_finish

# Keras divides the target std by this, the std of a unit normal truncated at +-2, so that the
# truncated draw has exactly the target variance.
TRUNCATED_STD_CORRECTION = 0.87962566103423978


@dataclass(frozen=True)
class Param:
    """One numeric parameter of an initializer: its default and its valid closed range."""

    default: float
    low: float
    high: float
    description: str
    log: bool = False  # best shown on a log scale
    integer: bool = False


@dataclass(frozen=True)
class Initializer:
    """Everything about one initialization scheme.

    Attributes
    ----------
    name : registry key (Keras' name where Keras has one).
    label : display name.
    description : one line in plain words.
    latex : the distribution, for ``st.latex``.
    params : name -> Param, ``scale`` included.
    sample : ``sample(rng, fan_in, fan_out, params, activation) -> W`` of shape (fan_in, fan_out).
    variance : ``variance(fan_in, fan_out, params) -> Var(w)`` for zero-mean schemes, else None.
    pytorch : the PyTorch equivalent and how it differs.
    keras : the Keras equivalent.
    bias : ``bias(rng, fan_in, fan_out, params, activation) -> b`` of shape (fan_out,), or None for zeros.
    bias_variance : ``bias_variance(fan_in, fan_out, params, activation) -> Var(b)`` of the drawn biases
        (for the theory's recursions), or None for zero biases.
    finish : for a data-dependent scheme (LSUV), ``finish(weights, biases, X, activation, params, mask)``,
        which rescales the drawn weights of the stacked networks selected by ``mask`` on a batch ``X`` of
        training data (see ``lsuv_finish``); None for the others.
    """

    name: str
    label: str
    description: str
    latex: str
    params: Mapping[str, Param]
    sample: Callable[..., np.ndarray]
    variance: Callable[[int, int, dict], float | None]
    pytorch: str
    keras: str
    bias: Callable[..., np.ndarray] | None = None
    bias_variance: Callable[..., float] | None = None
    finish: Callable[..., None] | None = None

    @property
    def data_dependent(self) -> bool:
        """Whether the training loop finishes the scheme on data (``finish``)."""
        return self.finish is not None


_SCALE = Param(1.0, 1e-4, 1e4, "multiplier applied to the drawn weights", log=True)


# ---------------------------------------------------------------- samplers

def truncated_normal(rng: np.random.Generator, shape: tuple[int, ...], std: float) -> np.ndarray:
    """Normal(0, std) truncated at +-2 std by redrawing, as ``tf.random.truncated_normal``."""
    out = rng.standard_normal(shape)
    outside = np.abs(out) > 2.0
    while outside.any():
        out[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(out) > 2.0
    return out * std


def _fan(fan_in: int, fan_out: int, mode: str) -> float:
    return {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[mode]


def variance_scaling(rng: np.random.Generator, fan_in: int, fan_out: int, scale: float, mode: str,
                     distribution: str) -> np.ndarray:
    """Keras' ``VarianceScaling``: weights with variance ``scale / n``, n chosen by ``mode``.

    ``distribution`` is ``"truncated_normal"`` (rescaled so the variance is exact), ``"untruncated_normal"``
    or ``"uniform"`` (on +-sqrt(3 scale / n)).
    """
    variance = scale / _fan(fan_in, fan_out, mode)
    shape = (fan_in, fan_out)
    if distribution == "uniform":
        limit = math.sqrt(3.0 * variance)
        return rng.uniform(-limit, limit, shape)
    if distribution == "truncated_normal":
        return truncated_normal(rng, shape, math.sqrt(variance) / TRUNCATED_STD_CORRECTION)
    return rng.standard_normal(shape) * math.sqrt(variance)


def orthogonal(rng: np.random.Generator, fan_in: int, fan_out: int, gain: float = 1.0) -> np.ndarray:
    """A (semi-)orthogonal matrix from the QR decomposition of a Gaussian one (Saxe et al., 2014).

    Its columns (fan_in >= fan_out) or rows (fan_in < fan_out) are orthonormal, times ``gain``.
    The sign correction makes the draw uniform over the orthogonal group, as Keras and PyTorch do.
    """
    rows, cols = max(fan_in, fan_out), min(fan_in, fan_out)
    q, r = np.linalg.qr(rng.standard_normal((rows, cols)))  # q: (rows, cols)
    q *= np.sign(np.diag(r))
    if fan_in < fan_out:
        q = q.T
    return gain * q


def _vs_entry(name, label, scale, mode, distribution, description, pytorch, keras, latex):
    def sample(rng, fan_in, fan_out, params, activation=None):
        return params["scale"] * variance_scaling(rng, fan_in, fan_out, scale, mode, distribution)

    def variance(fan_in, fan_out, params):
        return params["scale"] ** 2 * scale / _fan(fan_in, fan_out, mode)

    return Initializer(name, label, description, latex, {"scale": _SCALE}, sample, variance, pytorch, keras)


def _uniform_bias_fan_in(rng, fan_in, fan_out, params, activation=None):
    bound = 1.0 / math.sqrt(fan_in)
    return rng.uniform(-bound, bound, fan_out)


def _sklearn_bound(fan_in, fan_out, activation):
    factor = 2.0 if activation == "sigmoid" else 6.0  # scikit-learn's _init_coef
    return math.sqrt(factor / (fan_in + fan_out))


def _zeros_entry():
    return Initializer(
        "zeros", "All zeros", "Every weight 0: all units compute the same thing and receive the same update.",
        r"W_{ij} = 0", {"scale": _SCALE},
        lambda rng, fan_in, fan_out, params, activation=None: np.zeros((fan_in, fan_out)),
        lambda fan_in, fan_out, params: 0.0,
        "torch.nn.init.zeros_", "keras.initializers.Zeros")


def _constant_entry():
    params = {"value": Param(0.1, -100.0, 100.0, "the value of every weight"), "scale": _SCALE}
    return Initializer(
        "constant", "Constant", "Every weight equal: the symmetry of all-zeros, with a nonzero signal.",
        r"W_{ij} = c", params,
        lambda rng, fan_in, fan_out, p, activation=None: np.full((fan_in, fan_out), p["scale"] * p["value"]),
        lambda fan_in, fan_out, p: None,
        "torch.nn.init.constant_(w, c)",
        "keras.initializers.Constant(c) (Keras' default c is 0, the same as zeros; wil's is 0.1)")


def _random_normal_entry():
    params = {"mean": Param(0.0, -10.0, 10.0, "mean"),
              "std": Param(0.05, 1e-6, 1e3, "standard deviation", log=True), "scale": _SCALE}
    return Initializer(
        "random_normal", "Random normal", "Plain Gaussian at a fixed std, blind to the layer's size.",
        r"W_{ij} \sim \mathcal{N}(\mu, \sigma^2)", params,
        lambda rng, fan_in, fan_out, p, activation=None:
            p["scale"] * (p["mean"] + p["std"] * rng.standard_normal((fan_in, fan_out))),
        lambda fan_in, fan_out, p: (p["scale"] * p["std"]) ** 2 if p["mean"] == 0 else None,
        "torch.nn.init.normal_(w, mean, std) (PyTorch's default std is 1)",
        "keras.initializers.RandomNormal(mean=0.0, stddev=0.05)")


def _random_uniform_entry():
    params = {"limit": Param(0.05, 1e-6, 1e3, "half-width of the interval", log=True), "scale": _SCALE}
    return Initializer(
        "random_uniform", "Random uniform", "Uniform on a fixed interval, blind to the layer's size.",
        r"W_{ij} \sim \mathcal{U}(-a, a)", params,
        lambda rng, fan_in, fan_out, p, activation=None:
            p["scale"] * rng.uniform(-p["limit"], p["limit"], (fan_in, fan_out)),
        lambda fan_in, fan_out, p: (p["scale"] * p["limit"]) ** 2 / 3.0,
        "torch.nn.init.uniform_(w, -a, a) (PyTorch's default interval is [0, 1))",
        "keras.initializers.RandomUniform(minval=-0.05, maxval=0.05)")


def _truncated_normal_entry():
    params = {"std": Param(0.05, 1e-6, 1e3, "std of the normal before truncation", log=True), "scale": _SCALE}
    return Initializer(
        "truncated_normal", "Truncated normal", "Gaussian with draws beyond 2 std redrawn; fixed std.",
        r"W_{ij} \sim \mathcal{N}(0, \sigma^2) \text{ truncated to } [-2\sigma, 2\sigma]", params,
        lambda rng, fan_in, fan_out, p, activation=None:
            p["scale"] * truncated_normal(rng, (fan_in, fan_out), p["std"]),
        lambda fan_in, fan_out, p: (p["scale"] * p["std"] * TRUNCATED_STD_CORRECTION) ** 2,
        "torch.nn.init.trunc_normal_(w, std=s, a=-2s, b=2s) (PyTorch's default bounds are absolute, -2 and 2)",
        "keras.initializers.TruncatedNormal(mean=0.0, stddev=0.05)")


def _orthogonal_entry(name="orthogonal", label="Orthogonal", finish=None, extra_params=None,
                      description="A random (semi-)orthogonal matrix: preserves norms exactly in linear nets.",
                      latex=r"W = g\,Q,\quad QR = A,\ A_{ij} \sim \mathcal{N}(0,1)",
                      pytorch="torch.nn.init.orthogonal_(w, gain=1)",
                      keras="keras.initializers.Orthogonal(gain=1.0)"):
    params = {"gain": Param(1.0, 1e-3, 1e3, "multiplier of the orthogonal matrix", log=True)}
    params.update(extra_params or {})
    params["scale"] = _SCALE
    return Initializer(
        name, label, description, latex, params,
        lambda rng, fan_in, fan_out, p, activation=None: p["scale"] * orthogonal(rng, fan_in, fan_out, p["gain"]),
        lambda fan_in, fan_out, p: (p["scale"] * p["gain"]) ** 2 / max(fan_in, fan_out),
        pytorch, keras, finish=finish)


def _lsuv_entry():
    extra = {"tol": Param(0.1, 1e-3, 0.5, "stop when |Var(z) - 1| is below this"),
             "max_iter": Param(10, 1, 100, "rescaling passes per layer at most", integer=True)}
    entry = _orthogonal_entry(
        "lsuv", "LSUV", finish=lsuv_finish, extra_params=extra,
        description="Orthogonal, then each layer rescaled on a data batch until its output variance is 1.",
        latex=r"W_l \leftarrow W_l / \sqrt{\operatorname{Var}(z_l)} \text{ until } |\operatorname{Var}(z_l) - 1| < \varepsilon",
        pytorch="no built-in; Mishkin & Matas (2016), 'All you need is a good init'",
        keras="no built-in; Mishkin & Matas (2016)")
    # the variance comes from the data, not a formula
    return Initializer(**{**entry.__dict__, "variance": lambda fan_in, fan_out, p: None})


def _framework_defaults():
    torch_default = Initializer(
        "torch_default", "PyTorch default", "What nn.Linear does if you do nothing: Kaiming-uniform with "
        "a=sqrt(5), i.e. U(+-1/sqrt(fan_in)), and the same for biases.",
        r"W_{ij},\ b_j \sim \mathcal{U}\!\left(-\tfrac{1}{\sqrt{n_{in}}}, \tfrac{1}{\sqrt{n_{in}}}\right)",
        {"scale": _SCALE},
        lambda rng, fan_in, fan_out, p, activation=None:
            p["scale"] * rng.uniform(-1.0, 1.0, (fan_in, fan_out)) / math.sqrt(fan_in),
        lambda fan_in, fan_out, p: p["scale"] ** 2 / (3.0 * fan_in),
        "torch.nn.Linear.reset_parameters (kaiming_uniform_(w, a=sqrt(5)))",
        "no equivalent; Keras' Dense default is glorot_uniform with zero biases",
        bias=_uniform_bias_fan_in, bias_variance=lambda fan_in, fan_out, p, activation=None: 1.0 / (3.0 * fan_in))

    def sklearn_sample(rng, fan_in, fan_out, p, activation=None):
        bound = _sklearn_bound(fan_in, fan_out, activation)
        return p["scale"] * rng.uniform(-bound, bound, (fan_in, fan_out))

    def sklearn_bias(rng, fan_in, fan_out, p, activation=None):
        bound = _sklearn_bound(fan_in, fan_out, activation)
        return rng.uniform(-bound, bound, fan_out)

    sklearn_default = Initializer(
        "sklearn_default", "scikit-learn default", "What MLPClassifier does: Glorot-uniform "
        "U(+-sqrt(6/(fan_in+fan_out))), sqrt(2/...) for the logistic activation, and the same for biases.",
        r"W_{ij},\ b_j \sim \mathcal{U}\!\left(-\sqrt{\tfrac{6}{n_{in}+n_{out}}}, \sqrt{\tfrac{6}{n_{in}+n_{out}}}\right)",
        {"scale": _SCALE}, sklearn_sample,
        lambda fan_in, fan_out, p: p["scale"] ** 2 * 2.0 / (fan_in + fan_out),
        "close to torch.nn.init.xavier_uniform_ for weights; biases drawn too",
        "close to keras.initializers.GlorotUniform; biases drawn too", bias=sklearn_bias,
        bias_variance=lambda fan_in, fan_out, p, activation=None: _sklearn_bound(fan_in, fan_out, activation) ** 2 / 3.0)
    return [torch_default, sklearn_default]


def _mean_field_entry():
    params = {"sigma_w2": Param(2.0, 0.0, 100.0, "weight variance times fan_in, sigma_w^2"),
              "sigma_b2": Param(0.0, 0.0, 100.0, "bias variance, sigma_b^2"), "scale": _SCALE}

    def sample(rng, fan_in, fan_out, p, activation=None):
        return p["scale"] * math.sqrt(p["sigma_w2"] / fan_in) * rng.standard_normal((fan_in, fan_out))

    def bias(rng, fan_in, fan_out, p, activation=None):
        # drawn even when sigma_b2 = 0, so that the next layer's weights do not depend on sigma_b2
        return math.sqrt(p["sigma_b2"]) * rng.standard_normal(fan_out)

    return Initializer(
        "mean_field", "Mean field (sigma_w^2, sigma_b^2)",
        "The signal-propagation papers' parameterization (Poole et al., 2016; Schoenholz et al., 2017): "
        "untruncated Gaussian weights of variance sigma_w^2/fan_in and Gaussian biases of variance sigma_b^2.",
        r"W_{ij} \sim \mathcal{N}\!\left(0, \tfrac{\sigma_w^2}{n_{in}}\right),\quad "
        r"b_j \sim \mathcal{N}(0, \sigma_b^2)",
        params, sample,
        lambda fan_in, fan_out, p: p["scale"] ** 2 * p["sigma_w2"] / fan_in,
        "torch.nn.init.normal_(w, 0, sqrt(sigma_w2 / fan_in)) and torch.nn.init.normal_(b, 0, sqrt(sigma_b2)) "
        "(PyTorch's weight is (fan_out, fan_in))",
        "keras.initializers.VarianceScaling(scale=sigma_w2, mode='fan_in', distribution='untruncated_normal') "
        "with bias_initializer=keras.initializers.RandomNormal(stddev=sqrt(sigma_b2))",
        bias=bias, bias_variance=lambda fan_in, fan_out, p, activation=None: p["sigma_b2"])


_N_IN, _N_OUT = r"n_{in}", r"n_{out}"

INITIALIZERS: dict[str, Initializer] = {
    entry.name: entry
    for entry in [
        _zeros_entry(),
        _constant_entry(),
        _random_normal_entry(),
        _random_uniform_entry(),
        _truncated_normal_entry(),
        _vs_entry("glorot_uniform", "Glorot / Xavier uniform", 1.0, "fan_avg", "uniform",
                  "Keeps forward and backward variance balanced for tanh-like units (Glorot & Bengio, 2010).",
                  "torch.nn.init.xavier_uniform_ (same)", "keras.initializers.GlorotUniform",
                  rf"W_{{ij}} \sim \mathcal{{U}}\!\left(-\sqrt{{\tfrac{{6}}{{{_N_IN}+{_N_OUT}}}}}, \sqrt{{\tfrac{{6}}{{{_N_IN}+{_N_OUT}}}}}\right)"),
        _vs_entry("glorot_normal", "Glorot / Xavier normal", 1.0, "fan_avg", "truncated_normal",
                  "Glorot's variance 2/(fan_in+fan_out), from a truncated normal.",
                  "torch.nn.init.xavier_normal_ (PyTorch does not truncate)", "keras.initializers.GlorotNormal",
                  rf"W_{{ij}} \sim \mathcal{{N}}_{{\pm 2\sigma}}\!\left(0, \tfrac{{2}}{{{_N_IN}+{_N_OUT}}}\right)"),
        _vs_entry("he_uniform", "He / Kaiming uniform", 2.0, "fan_in", "uniform",
                  "Variance 2/fan_in: compensates ReLU zeroing half its inputs (He et al., 2015).",
                  "torch.nn.init.kaiming_uniform_(w, nonlinearity='relu') (same; note PyTorch's weight is "
                  "(fan_out, fan_in))", "keras.initializers.HeUniform",
                  rf"W_{{ij}} \sim \mathcal{{U}}\!\left(-\sqrt{{\tfrac{{6}}{{{_N_IN}}}}}, \sqrt{{\tfrac{{6}}{{{_N_IN}}}}}\right)"),
        _vs_entry("he_normal", "He / Kaiming normal", 2.0, "fan_in", "truncated_normal",
                  "He's variance 2/fan_in, from a truncated normal.",
                  "torch.nn.init.kaiming_normal_(w, nonlinearity='relu') (PyTorch does not truncate)",
                  "keras.initializers.HeNormal",
                  rf"W_{{ij}} \sim \mathcal{{N}}_{{\pm 2\sigma}}\!\left(0, \tfrac{{2}}{{{_N_IN}}}\right)"),
        _vs_entry("lecun_uniform", "LeCun uniform", 1.0, "fan_in", "uniform",
                  "Variance 1/fan_in (LeCun et al., 1998); the SELU companion.",
                  "torch.nn.init.kaiming_uniform_(w, nonlinearity='linear')", "keras.initializers.LecunUniform",
                  rf"W_{{ij}} \sim \mathcal{{U}}\!\left(-\sqrt{{\tfrac{{3}}{{{_N_IN}}}}}, \sqrt{{\tfrac{{3}}{{{_N_IN}}}}}\right)"),
        _vs_entry("lecun_normal", "LeCun normal", 1.0, "fan_in", "truncated_normal",
                  "Variance 1/fan_in from a truncated normal; with SELU the net self-normalizes.",
                  "torch.nn.init.kaiming_normal_(w, nonlinearity='linear') (PyTorch does not truncate)",
                  "keras.initializers.LecunNormal",
                  rf"W_{{ij}} \sim \mathcal{{N}}_{{\pm 2\sigma}}\!\left(0, \tfrac{{1}}{{{_N_IN}}}\right)"),
        _orthogonal_entry(),
        _lsuv_entry(),
        _mean_field_entry(),
        *_framework_defaults(),
    ]
}


# ---------------------------------------------------------------- names, parameters, labels

def get_initializer(name: str) -> Initializer:
    """Return the registry entry for ``name``; raise ``ValueError`` listing the valid names."""
    if not isinstance(name, str):
        raise ArgumentTypeError(f"Invalid initializer: expected a name, one of {sorted(INITIALIZERS)}, "
                                f"got {shown(name)}")
    try:
        return INITIALIZERS[name]
    except KeyError:
        raise ValueError(f"Invalid initializer {shown(name)}; choose from {sorted(INITIALIZERS)}") from None


def resolve_params(name: str, params: Mapping[str, object] | None = None) -> dict[str, float]:
    """All parameters of initializer ``name``: defaults overridden by ``params``, each validated."""
    spec = get_initializer(name)
    if params is not None and not isinstance(params, Mapping):
        raise ArgumentTypeError(f"Invalid parameters of initializer {name!r}: expected a dict such as "
                                f"{{'scale': 2.0}}, got {shown(params)}")
    params = dict(params or {})
    unknown = sorted((key for key in params if key not in spec.params), key=str)
    if unknown:
        raise ValueError(f"Invalid parameter {shown(unknown[0])} for initializer {name!r}; "
                         f"it takes {sorted(spec.params)}")
    resolved = {}
    for key, param in spec.params.items():
        value = params.get(key, param.default)
        resolved[key] = _check_param(name, key, value, param)
    return resolved


def _check_param(name: str, key: str, value: object, param: Param) -> float:
    """One parameter value as a number within its range, or ValueError."""
    where = f"parameter {key!r} of initializer {name!r}"
    value = check_float(where, value, param.low, param.high)
    if param.integer:
        if value != int(value):
            raise ValueError(f"Invalid {where}: expected an integer, got {shown(value)}")
        return int(value)
    return value


def _format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))


def make_label(name: str, params: Mapping[str, object] | None = None) -> str:
    """The label of an initializer entry: the name alone at defaults, else ``name(key=value, ...)``.

    The label is also its canonical text form: ``parse_entry(make_label(n, p))`` gives back ``(n, p)``.
    """
    spec = get_initializer(name)
    resolved = resolve_params(name, params)
    changed = [f"{k}={_format_number(v)}" for k, v in resolved.items() if v != spec.params[k].default]
    return f"{name}({', '.join(changed)})" if changed else name


_LABEL_RE = re.compile(r"^\s*([a-z_]+)\s*(?:\((.*)\))?\s*$")


def parse_entry(entry: object) -> tuple[str, dict[str, float]]:
    """Read one initializer entry: a name, a ``(name, params)`` pair, or a label ``"name(k=v, ...)"``.

    Returns the name and its full, validated parameters. Raises ``ValueError`` with the reason.
    """
    if isinstance(entry, (tuple, list)):
        if len(entry) != 2 or not isinstance(entry[1], Mapping):
            raise ArgumentTypeError(f"Invalid initializer entry {shown(entry)}; expected a name or (name, params)")
        return get_initializer(entry[0]).name, resolve_params(entry[0], entry[1])
    if not isinstance(entry, str):
        raise ArgumentTypeError(f"Invalid initializer entry {shown(entry)}; expected a name or (name, params)")
    match = _LABEL_RE.match(entry)
    if not match:
        raise ValueError(f"Invalid initializer {shown(entry)}; expected a name such as 'he_normal' "
                         f"or 'random_normal(std=0.01)'")
    name, arguments = match.group(1), match.group(2)
    params = {}
    for part in filter(None, (p.strip() for p in (arguments or "").split(","))):
        key, sep, text = part.partition("=")
        key = key.strip()
        try:
            if not sep:
                raise ValueError
            value = float(text)
        except ValueError:
            raise ValueError(f"Invalid initializer {shown(entry)}: {shown(part)} is not key=number") from None
        if key in params:
            raise ValueError(f"Invalid initializer {shown(entry)}: {key!r} is given twice")
        params[key] = value
    return name, resolve_params(name, params)


def initialize(name: str, fan_in: int, fan_out: int, seed: int | None = None, *,
               rng: np.random.Generator | None = None, activation: str | None = None,
               **params: float) -> np.ndarray:
    """Draw a weight matrix from initializer ``name``.

    Parameters
    ----------
    name : a key of ``INITIALIZERS``.
    fan_in, fan_out : the layer's input and output sizes.
    seed : seed of a fresh ``np.random.default_rng``; ignored when ``rng`` is given.
    rng : a generator to draw from.
    activation : the layer's activation (only ``sklearn_default`` reads it).
    **params : the initializer's parameters (see ``INITIALIZERS[name].params``), e.g. ``std=0.01``.

    Returns
    -------
    ndarray of shape (fan_in, fan_out), float64. For ``lsuv`` this is the orthogonal start; the
    data-dependent rescaling happens in training.
    """
    from wil.spec.activations import ACTIVATIONS
    from wil.engine.memory import check_fits

    spec = get_initializer(name)
    fan_in, fan_out = check_int("fan_in", fan_in, 1), check_int("fan_out", fan_out, 1)
    if seed is not None:
        seed = check_int("seed", seed, 0)
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise ArgumentTypeError(f"Invalid rng: expected a numpy.random.Generator, got {shown(rng)}")
    if activation is not None:
        check_choice("activation", activation, ACTIVATIONS)
    resolved = resolve_params(name, params)
    # the matrix, and the draws and temporaries a sampler makes beside it (QR for orthogonal: ~4 copies)
    check_fits(f"A {fan_in:,} x {fan_out:,} weight matrix", 8.0 * fan_in * fan_out * 5, "use smaller fans")
    rng = rng if rng is not None else np.random.default_rng(seed)
    return spec.sample(rng, fan_in, fan_out, resolved, activation)

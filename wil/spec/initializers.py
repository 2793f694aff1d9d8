"""Weight initializers: one registry entry per scheme, holding its sampler, formula, parameters and peers.

Formulas and defaults follow Keras (``keras.initializers``); each entry names its PyTorch equivalent and
says where the two differ. Every initializer takes a ``scale`` multiplier (default 1) applied to the
weights it draws, so "too small" and "too large" form a continuum.

Each entry also carries its code for the PyTorch and Keras scripts (``export``, read by
``wil.export.codegen``): adding an initializer is one entry here. The draws they are made of are in
``wil.spec.samplers``; looking one up by name, and its labels (``"name(k=v)"``), in ``wil.spec.labels``.

Weights have shape ``(fan_in, fan_out)``: a layer computes ``z = a @ W + b``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from wil.spec import lsuv
from wil.spec.residual import ENTRIES as RESIDUAL_ENTRIES, ResidualRule
from wil.spec.samplers import (TRUNCATED_STD_CORRECTION, fan, orthogonal, sklearn_bound, sklearn_factor,
                               torch_truncated_normal, truncated_normal, variance_scaling)
from wil.spec.snippets import KERAS_INIT, InitializerCode, num, scaled, times


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
        training data (see ``wil.spec.lsuv.lsuv_finish``); None for the others.
    export : its code in the PyTorch and Keras scripts; None: ``wil.to_pytorch`` and ``wil.to_keras``
        refuse it.
    weight_ensemble : the random-matrix ensemble of its weight matrices, for the free-probability theory of
        the Jacobian (``wil.analysis.isometry``): "iid" (independent entries, Gaussian or not) or "orthogonal"
        (a scaled orthogonal matrix).
    residual : a scheme made for residual networks: its rule (``wil.spec.residual``); None for the others.
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
    export: InitializerCode | None = None
    weight_ensemble: str = "iid"
    residual: ResidualRule | None = None

    @property
    def data_dependent(self) -> bool:
        """Whether the training loop finishes the scheme on data (``finish``)."""
        return self.finish is not None


_SCALE = Param(1.0, 1e-4, 1e4, "multiplier applied to the drawn weights", log=True)


# ---------------------------------------------------------------- entries

def _vs_entry(name, label, scale, mode, distribution, description, pytorch, kaiming=None):
    """A Keras variance-scaling preset, Var(w) = scale / n (Keras' class: the name in CamelCase);
    ``kaiming``: the ``nonlinearity`` of PyTorch's exact uniform, where it has one."""
    keras_class = name.title().replace("_", "")  # glorot_uniform -> GlorotUniform
    per = scale * (2 if mode == "fan_avg" else 1)  # Var(w) = per / fans
    fans, var = ((r"n_{in}", f"{per:g} / fan_in") if mode == "fan_in"
                 else (r"n_{in}+n_{out}", f"{per:g} / (fan_in + fan_out)"))
    if distribution == "uniform":
        bound = rf"\sqrt{{\tfrac{{{3 * per:g}}}{{{fans}}}}}"
        latex = rf"W_{{ij}} \sim \mathcal{{U}}\!\left(-{bound}, {bound}\right)"
        formula = lambda p, act: f"U(+-sqrt(3 Var)) with Var = {var}{scaled(p)}"  # noqa: E731
    else:
        latex = rf"W_{{ij}} \sim \mathcal{{N}}_{{\pm 2\sigma}}\!\left(0, \tfrac{{{per:g}}}{{{fans}}}\right)"
        formula = lambda p, act: (f"normal truncated at 2 sigma and rescaled (sigma = sqrt(Var) / "  # noqa: E731
                                  f"{TRUNCATED_STD_CORRECTION:.6f}) so that Var(w) = {var} exactly{scaled(p)}")

    def sample(rng, fan_in, fan_out, params, activation=None):
        return params["scale"] * variance_scaling(rng, fan_in, fan_out, scale, mode, distribution)

    def variance(fan_in, fan_out, params):
        return params["scale"] ** 2 * scale / fan(fan_in, fan_out, mode)

    def torch_code(p, act):
        s = p["scale"]
        if distribution == "uniform" and mode == "fan_avg":
            return "nn.init.xavier_uniform_(w" + ("" if s == 1.0 else f", gain={num(s)}") + ")  # exact"
        if distribution == "uniform":
            return (f"nn.init.kaiming_uniform_(w, nonlinearity={kaiming!r})  # exact: U(+-sqrt({3 * per:g} / "
                    "fan_in))" + ("" if s == 1.0 else f"\nw.mul_({num(s)})  # scale"))
        exact = f"{num(per)} / fan_in" if mode == "fan_in" else f"{num(per)} / (fan_in + fan_out)"
        return (f"std = {times(s, f'math.sqrt({exact})')}  # the exact target std\n"
                "keras_truncated_normal_(w, std)  # torch's own kaiming/xavier_normal_ do not truncate")

    def keras_code(p, act):
        s = p["scale"]
        if s == 1.0:
            return f"return {KERAS_INIT}{keras_class}()  # exact: Keras' truncated normal is rescaled as wil's"
        return (f"# {keras_class} with the weights times {num(s)}, so their variance times {num(s)} ** 2\n"
                f"return {KERAS_INIT}VarianceScaling(scale={num(scale)} * {num(s)} ** 2, mode={mode!r},\n"
                f"                                        distribution={distribution!r})")

    code = InitializerCode(formula, torch_code, keras_code,
                           pytorch_helper=torch_truncated_normal if distribution != "uniform" else None)
    return Initializer(name, label, description, latex, {"scale": _SCALE}, sample, variance, pytorch,
                       f"keras.initializers.{keras_class}", export=code)


def _zeros_entry():
    return Initializer(
        "zeros", "All zeros", "Every weight 0: all units compute the same thing and receive the same update.",
        r"W_{ij} = 0", {"scale": _SCALE},
        lambda rng, fan_in, fan_out, params, activation=None: np.zeros((fan_in, fan_out)),
        lambda fan_in, fan_out, params: 0.0,
        "torch.nn.init.zeros_", "keras.initializers.Zeros",
        export=InitializerCode(lambda p, act: "every weight 0", lambda p, act: "nn.init.zeros_(w)",
                               lambda p, act: f"return {KERAS_INIT}Zeros()"))


def _constant_entry():
    params = {"value": Param(0.1, -100.0, 100.0, "the value of every weight"), "scale": _SCALE}
    return Initializer(
        "constant", "Constant", "Every weight equal: the symmetry of all-zeros, with a nonzero signal.",
        r"W_{ij} = c", params,
        lambda rng, fan_in, fan_out, p, activation=None: np.full((fan_in, fan_out), p["scale"] * p["value"]),
        lambda fan_in, fan_out, p: None,
        "torch.nn.init.constant_(w, c)",
        "keras.initializers.Constant(c) (Keras' default c is 0, the same as zeros; wil's is 0.1)",
        export=InitializerCode(
            lambda p, act: f"every weight {num(p['value'])}{scaled(p)}",
            lambda p, act: f"nn.init.constant_(w, {times(p['scale'], num(p['value']))})",
            lambda p, act: f"return {KERAS_INIT}Constant({times(p['scale'], num(p['value']))})"))


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
        "keras.initializers.RandomNormal(mean=0.0, stddev=0.05)",
        export=InitializerCode(
            lambda p, act: f"N({num(p['mean'])}, {num(p['std'])}^2){scaled(p)}",
            lambda p, act: (f"nn.init.normal_(w, mean={times(p['scale'], num(p['mean']))}, "
                            f"std={times(p['scale'], num(p['std']))})"),
            lambda p, act: (f"return {KERAS_INIT}RandomNormal(mean={times(p['scale'], num(p['mean']))}, "
                            f"stddev={times(p['scale'], num(p['std']))})")))


def _random_uniform_entry():
    params = {"limit": Param(0.05, 1e-6, 1e3, "half-width of the interval", log=True), "scale": _SCALE}
    limit = lambda p: times(p["scale"], num(p["limit"]))  # noqa: E731
    return Initializer(
        "random_uniform", "Random uniform", "Uniform on a fixed interval, blind to the layer's size.",
        r"W_{ij} \sim \mathcal{U}(-a, a)", params,
        lambda rng, fan_in, fan_out, p, activation=None:
            p["scale"] * rng.uniform(-p["limit"], p["limit"], (fan_in, fan_out)),
        lambda fan_in, fan_out, p: (p["scale"] * p["limit"]) ** 2 / 3.0,
        "torch.nn.init.uniform_(w, -a, a) (PyTorch's default interval is [0, 1))",
        "keras.initializers.RandomUniform(minval=-0.05, maxval=0.05)",
        export=InitializerCode(
            lambda p, act: f"U(+-{num(p['limit'])}){scaled(p)}",
            lambda p, act: f"nn.init.uniform_(w, -{limit(p)}, {limit(p)})",
            lambda p, act: f"return {KERAS_INIT}RandomUniform(minval=-{limit(p)}, maxval={limit(p)})"))


def _truncated_normal_entry():
    params = {"std": Param(0.05, 1e-6, 1e3, "std of the normal before truncation", log=True), "scale": _SCALE}
    return Initializer(
        "truncated_normal", "Truncated normal", "Gaussian with draws beyond 2 std redrawn; fixed std.",
        r"W_{ij} \sim \mathcal{N}(0, \sigma^2) \text{ truncated to } [-2\sigma, 2\sigma]", params,
        lambda rng, fan_in, fan_out, p, activation=None:
            p["scale"] * truncated_normal(rng, (fan_in, fan_out), p["std"]),
        lambda fan_in, fan_out, p: (p["scale"] * p["std"] * TRUNCATED_STD_CORRECTION) ** 2,
        "torch.nn.init.trunc_normal_(w, std=s, a=-2s, b=2s) (PyTorch's default bounds are absolute, -2 and 2)",
        "keras.initializers.TruncatedNormal(mean=0.0, stddev=0.05)",
        export=InitializerCode(
            lambda p, act: f"N(0, {num(p['std'])}^2) cut at +-2 std{scaled(p)}",
            lambda p, act: (f"std = {times(p['scale'], num(p['std']))}\nnn.init.trunc_normal_(w, mean=0.0, "
                            "std=std, a=-2 * std, b=2 * std)  # cut at 2 std, as Keras"),
            lambda p, act: (f"return {KERAS_INIT}TruncatedNormal(mean=0.0, stddev={times(p['scale'], num(p['std']))})"
                            "  # cut at 2 stddev")))


def _orthogonal_entry():
    params = {"gain": Param(1.0, 1e-3, 1e3, "multiplier of the orthogonal matrix", log=True), "scale": _SCALE}
    return Initializer(
        "orthogonal", "Orthogonal", "A random (semi-)orthogonal matrix: preserves norms exactly in linear nets.",
        r"W = g\,Q,\quad QR = A,\ A_{ij} \sim \mathcal{N}(0,1)", params,
        lambda rng, fan_in, fan_out, p, activation=None: p["scale"] * orthogonal(rng, fan_in, fan_out, p["gain"]),
        lambda fan_in, fan_out, p: (p["scale"] * p["gain"]) ** 2 / max(fan_in, fan_out),
        "torch.nn.init.orthogonal_(w, gain=1)", "keras.initializers.Orthogonal(gain=1.0)",
        export=InitializerCode(
            lambda p, act: f"a random (semi-)orthogonal matrix times gain {num(p['gain'])}{scaled(p)}",
            lambda p, act: f"nn.init.orthogonal_(w, gain={num(p['gain'] * p['scale'])})",
            lambda p, act: f"return {KERAS_INIT}Orthogonal(gain={num(p['gain'] * p['scale'])})"),
        weight_ensemble="orthogonal")


def _lsuv_entry():
    params = {"gain": Param(1.0, 1e-3, 1e3, "multiplier of the orthogonal matrix", log=True),
              "tol": Param(0.1, 1e-3, 0.5, "stop when |Var(z) - 1| is below this"),
              "max_iter": Param(10, 1, 100, "rescaling passes per layer at most", integer=True), "scale": _SCALE}
    start = "  # LSUV starts here; {} below finishes it on data"
    return Initializer(
        "lsuv", "LSUV", "Orthogonal, then each layer rescaled on a data batch until its output variance is 1.",
        r"W_l \leftarrow W_l / \sqrt{\operatorname{Var}(z_l)} \text{ until } |\operatorname{Var}(z_l) - 1| < \varepsilon",
        params,
        lambda rng, fan_in, fan_out, p, activation=None: p["scale"] * orthogonal(rng, fan_in, fan_out, p["gain"]),
        lambda fan_in, fan_out, p: None,  # the variance comes from the data, not a formula
        "no built-in; Mishkin & Matas (2016), 'All you need is a good init'",
        "no built-in; Mishkin & Matas (2016)", finish=lsuv.lsuv_finish,
        export=InitializerCode(
            lambda p, act: (f"orthogonal (gain {num(p['gain'])}), then each layer divided by the std of its "
                            f"output on {lsuv.LSUV_BATCH} training examples until |Var - 1| < {num(p['tol'])}"
                            f" (at most {p['max_iter']} times){scaled(p)}"),
            lambda p, act: f"nn.init.orthogonal_(w, gain={num(p['gain'])})" + start.format("lsuv_"),
            lambda p, act: f"return {KERAS_INIT}Orthogonal(gain={num(p['gain'])})" + start.format("lsuv"),
            pytorch_helper=lsuv.torch_lsuv, keras_helper=lsuv.keras_lsuv, pytorch_finish=lsuv.TORCH_FINISH,
            keras_finish=lsuv.KERAS_FINISH), weight_ensemble="orthogonal")


_SKLEARN_FACTOR = "# scikit-learn's _init_coef: 2 for sigmoid, else 6"


def _torch_default_entry():
    def torch(p, act):
        return ("# nn.Linear's own init: kaiming_uniform_(w, a=sqrt(5)), i.e. U(+-1/sqrt(fan_in)); the bias too\n"
                "linear.reset_parameters()" + ("" if p["scale"] == 1.0 else f"\nw.mul_({num(p['scale'])})  # scale "
                                                                             "(the weights only)"))

    return Initializer(
        "torch_default", "PyTorch default", "What nn.Linear does if you do nothing: Kaiming-uniform with "
        "a=sqrt(5), i.e. U(+-1/sqrt(fan_in)), and the same for biases.",
        r"W_{ij},\ b_j \sim \mathcal{U}\!\left(-\tfrac{1}{\sqrt{n_{in}}}, \tfrac{1}{\sqrt{n_{in}}}\right)",
        {"scale": _SCALE},
        lambda rng, fan_in, fan_out, p, activation=None:
            p["scale"] * rng.uniform(-1.0, 1.0, (fan_in, fan_out)) / math.sqrt(fan_in),
        lambda fan_in, fan_out, p: p["scale"] ** 2 / (3.0 * fan_in),
        "torch.nn.Linear.reset_parameters (kaiming_uniform_(w, a=sqrt(5)))",
        "no equivalent; Keras' Dense default is glorot_uniform with zero biases",
        bias=lambda rng, fan_in, fan_out, p, activation=None: rng.uniform(-1.0 / math.sqrt(fan_in),
                                                                          1.0 / math.sqrt(fan_in), fan_out),
        bias_variance=lambda fan_in, fan_out, p, activation=None: 1.0 / (3.0 * fan_in),
        export=InitializerCode(
            lambda p, act: f"weights and biases U(+-1/sqrt(fan_in)), as nn.Linear{scaled(p)} (weights only)",
            torch,
            lambda p, act: ("bound = 1.0 / math.sqrt(fan_in)  # PyTorch's nn.Linear: no Keras equivalent\n"
                            f"return {KERAS_INIT}RandomUniform(minval=-{times(p['scale'], 'bound')}, "
                            f"maxval={times(p['scale'], 'bound')})"),
            pytorch_bias=lambda p, act: "",
            keras_bias=lambda p, act: ("bound = 1.0 / math.sqrt(fan_in)\n"
                                       f"return {KERAS_INIT}RandomUniform(minval=-bound, maxval=bound)")))


def _sklearn_default_entry():
    def sample(rng, fan_in, fan_out, p, activation=None):
        bound = sklearn_bound(fan_in, fan_out, activation)
        return p["scale"] * rng.uniform(-bound, bound, (fan_in, fan_out))

    def bias(rng, fan_in, fan_out, p, activation=None):
        bound = sklearn_bound(fan_in, fan_out, activation)
        return rng.uniform(-bound, bound, fan_out)

    def bound(act):
        return f"bound = math.sqrt({num(sklearn_factor(act))} / (fan_in + fan_out))"

    return Initializer(
        "sklearn_default", "scikit-learn default", "What MLPClassifier does: Glorot-uniform "
        "U(+-sqrt(6/(fan_in+fan_out))), sqrt(2/...) for the logistic activation, and the same for biases.",
        r"W_{ij},\ b_j \sim \mathcal{U}\!\left(-\sqrt{\tfrac{6}{n_{in}+n_{out}}}, \sqrt{\tfrac{6}{n_{in}+n_{out}}}\right)",
        {"scale": _SCALE}, sample,
        lambda fan_in, fan_out, p: p["scale"] ** 2 * 2.0 / (fan_in + fan_out),
        "close to torch.nn.init.xavier_uniform_ for weights; biases drawn too",
        "close to keras.initializers.GlorotUniform; biases drawn too", bias=bias,
        bias_variance=lambda fan_in, fan_out, p, activation=None: sklearn_bound(fan_in, fan_out, activation) ** 2 / 3.0,
        export=InitializerCode(
            lambda p, act: (f"weights and biases U(+-sqrt({sklearn_factor(act):g} / (fan_in + fan_out))), "
                            f"weights{scaled(p) or ' times scale 1'}"),
            lambda p, act: (f"{bound(act)}  {_SKLEARN_FACTOR}\nnn.init.uniform_(w, -{times(p['scale'], 'bound')}, "
                            f"{times(p['scale'], 'bound')})"),
            lambda p, act: (f"{bound(act)}  {_SKLEARN_FACTOR}\nreturn {KERAS_INIT}RandomUniform("
                            f"minval=-{times(p['scale'], 'bound')}, maxval={times(p['scale'], 'bound')})"),
            pytorch_bias=lambda p, act: "nn.init.uniform_(b, -bound, bound)  # biases too",
            keras_bias=lambda p, act: f"{bound(act)}\nreturn {KERAS_INIT}RandomUniform(minval=-bound, maxval=bound)"))


def _mean_field_entry():
    params = {"sigma_w2": Param(2.0, 0.0, 100.0, "weight variance times fan_in, sigma_w^2"),
              "sigma_b2": Param(0.0, 0.0, 100.0, "bias variance, sigma_b^2"), "scale": _SCALE}

    def sample(rng, fan_in, fan_out, p, activation=None):
        return p["scale"] * math.sqrt(p["sigma_w2"] / fan_in) * rng.standard_normal((fan_in, fan_out))

    def bias(rng, fan_in, fan_out, p, activation=None):
        # drawn even when sigma_b2 = 0, so that the next layer's weights do not depend on sigma_b2
        return math.sqrt(p["sigma_b2"]) * rng.standard_normal(fan_out)

    def std(p):
        return times(p["scale"], f"math.sqrt({num(p['sigma_w2'])} / fan_in)")

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
        bias=bias, bias_variance=lambda fan_in, fan_out, p, activation=None: p["sigma_b2"],
        export=InitializerCode(
            lambda p, act: (f"weights N(0, {num(p['sigma_w2'])} / fan_in), biases N(0, {num(p['sigma_b2'])}) "
                            f"(Poole et al. 2016){scaled(p)} (weights only)"),
            lambda p, act: f"nn.init.normal_(w, mean=0.0, std={std(p)})  # sigma_w^2 / fan_in, untruncated",
            lambda p, act: f"return {KERAS_INIT}RandomNormal(mean=0.0, stddev={std(p)})  # sigma_w^2 / fan_in, untruncated",
            pytorch_bias=lambda p, act: (f"nn.init.normal_(b, mean=0.0, std=math.sqrt({num(p['sigma_b2'])}))"
                                         "  # sigma_b^2"),
            keras_bias=lambda p, act: (f"return {KERAS_INIT}RandomNormal(mean=0.0, "
                                       f"stddev=math.sqrt({num(p['sigma_b2'])}))  # sigma_b^2")))


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
                  "torch.nn.init.xavier_uniform_ (same)"),
        _vs_entry("glorot_normal", "Glorot / Xavier normal", 1.0, "fan_avg", "truncated_normal",
                  "Glorot's variance 2/(fan_in+fan_out), from a truncated normal.",
                  "torch.nn.init.xavier_normal_ (PyTorch does not truncate)"),
        _vs_entry("he_uniform", "He / Kaiming uniform", 2.0, "fan_in", "uniform",
                  "Variance 2/fan_in: compensates ReLU zeroing half its inputs (He et al., 2015).",
                  "torch.nn.init.kaiming_uniform_(w, nonlinearity='relu') (same; note PyTorch's weight is "
                  "(fan_out, fan_in))", kaiming="relu"),
        _vs_entry("he_normal", "He / Kaiming normal", 2.0, "fan_in", "truncated_normal",
                  "He's variance 2/fan_in, from a truncated normal.",
                  "torch.nn.init.kaiming_normal_(w, nonlinearity='relu') (PyTorch does not truncate)"),
        _vs_entry("lecun_uniform", "LeCun uniform", 1.0, "fan_in", "uniform",
                  "Variance 1/fan_in (LeCun et al., 1998); the SELU companion.",
                  "torch.nn.init.kaiming_uniform_(w, nonlinearity='linear')", kaiming="linear"),
        _vs_entry("lecun_normal", "LeCun normal", 1.0, "fan_in", "truncated_normal",
                  "Variance 1/fan_in from a truncated normal; with SELU the net self-normalizes.",
                  "torch.nn.init.kaiming_normal_(w, nonlinearity='linear') (PyTorch does not truncate)"),
        _orthogonal_entry(),
        _lsuv_entry(),
        _mean_field_entry(),
        _torch_default_entry(),
        _sklearn_default_entry(),
        *(Initializer(**{**fields, "params": {k: Param(*v) for k, v in fields["params"].items()},
                         "residual": ResidualRule(**fields["residual"])}) for fields in RESIDUAL_ENTRIES),
    ]
}

"""Activation functions: one registry entry holds the function, its derivative, its gain and its formula.

Every derivative takes both the pre-activation ``z`` and the activation ``a = f(z)`` so that functions
whose derivative is cheapest in terms of their output (sigmoid, tanh) reuse it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from wil.spec.checks import check_choice
from wil.spec.snippets import ActivationCode

Array = np.ndarray

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_LAMBDA = 1.0507009873554804934193349852946
LEAKY_SLOPE = 0.01  # PyTorch's and Keras' default negative slope
ELU_ALPHA = 1.0
# |z| where tanh'(z) = 1 - tanh(z)^2 falls to 5% of its maximum; sigmoid'(z) = tanh'(z/2) / 4
_TANH_5PCT = math.atanh(math.sqrt(0.95))


@dataclass(frozen=True)
class Activation:
    """Everything about one activation function.

    Attributes
    ----------
    name : registry key.
    label : display name.
    apply : ``apply(z, out)`` writes f(z) into ``out`` (elementwise, same shape).
    scale_grad : ``scale_grad(back, z, a, scratch)`` multiplies ``back`` by f'(z) in place, given
        a = f(z) and a ``scratch`` array shaped like ``z``.
    gain : recommended weight gain (PyTorch's ``calculate_gain`` where it defines one).
    family : ``"relu"`` (units can die), ``"saturating"`` (units can saturate) or ``"smooth"``.
    latex : the formula, for ``st.latex``.
    description : one line in plain words.
    gain_source : where the gain comes from.
    saturation_z : for the saturating family, the |z| beyond which f'(z) < 5% of its maximum.
    bounds : the range of f for bounded activations, else None. Descriptive only since histograms bin
        each layer on its own range (``wil.engine.record``); kept so that registrations passing it work.
    export : its code in the PyTorch and Keras scripts (``wil.to_pytorch``, ``wil.to_keras``); None: they
        refuse it.
    """

    name: str
    label: str
    apply: Callable[[Array, Array], None]
    scale_grad: Callable[[Array, Array, Array, Array], None]
    gain: float
    family: str
    latex: str
    description: str
    gain_source: str = "PyTorch torch.nn.init.calculate_gain"
    saturation_z: float | None = None
    bounds: tuple[float, float] | None = None
    export: ActivationCode | None = None

    def f(self, z) -> Array:
        """f(z), a new array (float64 for non-float input)."""
        z = np.asarray(z)
        z = z if z.dtype.kind == "f" else z.astype(np.float64)
        out = np.empty_like(z)
        self.apply(z, out)
        return out

    def df(self, z, a=None) -> Array:
        """f'(z), a new array; ``a`` = f(z) if already known."""
        z = np.asarray(z)
        z = z if z.dtype.kind == "f" else z.astype(np.float64)
        a = self.f(z) if a is None else np.asarray(a, dtype=z.dtype)
        back = np.ones_like(z)
        self.scale_grad(back, z, a, np.empty_like(z))
        return back


# ---------------------------------------------------------------- forward and derivative, side by side
# Each activation is two in-place kernels: ``apply(z, out)`` writes f(z) into ``out``, and
# ``scale_grad(back, z, a, scratch)`` multiplies ``back`` by f'(z) in place, given a = f(z) and a
# ``scratch`` array shaped like ``z``. They are the only implementation: ``Activation.f`` and
# ``Activation.df`` call them, and so does the training engine.

def _linear(z, out):
    np.copyto(out, z)


def _d_linear(back, z, a, scratch):
    pass  # the derivative is 1


def _sigmoid(z, out):
    # 0.5 * (1 + tanh(z / 2)) never overflows, unlike 1 / (1 + exp(-z))
    np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5


def _d_sigmoid(back, z, a, scratch):
    np.subtract(1.0, a, out=scratch)  # a (1 - a)
    scratch *= a
    back *= scratch


def _tanh(z, out):
    np.tanh(z, out=out)


def _d_tanh(back, z, a, scratch):
    np.multiply(a, a, out=scratch)  # 1 - a^2
    np.subtract(1.0, scratch, out=scratch)
    back *= scratch


def _relu(z, out):
    np.maximum(z, 0.0, out=out)


def _d_relu(back, z, a, scratch):
    back *= z > 0


def _leaky_relu(z, out):
    out[...] = np.where(z > 0, z, LEAKY_SLOPE * z)


def _d_leaky_relu(back, z, a, scratch):
    back *= np.where(z > 0, 1.0, LEAKY_SLOPE)


def _elu(z, out):
    out[...] = np.where(z > 0, z, ELU_ALPHA * np.expm1(np.minimum(z, 0.0)))


def _d_elu(back, z, a, scratch):
    back *= np.where(z > 0, 1.0, a + ELU_ALPHA)


def _selu(z, out):
    out[...] = _SELU_LAMBDA * np.where(z > 0, z, _SELU_ALPHA * np.expm1(np.minimum(z, 0.0)))


def _d_selu(back, z, a, scratch):
    back *= np.where(z > 0, _SELU_LAMBDA, a + _SELU_LAMBDA * _SELU_ALPHA)


def _gelu(z, out):
    # the tanh approximation (Hendrycks & Gimpel), as PyTorch's approximate="tanh"
    inner = _SQRT_2_OVER_PI * (z + 0.044715 * z**3)
    out[...] = 0.5 * z * (1.0 + np.tanh(inner))


def _d_gelu(back, z, a, scratch):
    inner = _SQRT_2_OVER_PI * (z + 0.044715 * z**3)
    t = np.tanh(inner)
    back *= 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * z * z)


def _softsign(z, out):
    out[...] = z / (1.0 + np.abs(z))


def _d_softsign(back, z, a, scratch):
    back *= (1.0 / (1.0 + np.abs(z))) ** 2  # squaring the reciprocal never overflows


def _swish(z, out):
    s = np.empty_like(out)
    _sigmoid(z, s)
    np.multiply(z, s, out=out)


def _d_swish(back, z, a, scratch):
    _sigmoid(z, scratch)
    back *= scratch + z * scratch * (1.0 - scratch)


def second_moment_gain(f: Callable[[Array], Array], points: int = 80) -> float:
    """Gain ``1 / sqrt(E[f(z)^2])`` for ``z ~ N(0, 1)``, by Gauss-Hermite quadrature.

    With this gain the second moment of a layer's output matches its input's (He et al.'s argument,
    which gives sqrt(2) for ReLU). Used where PyTorch defines no gain.
    """
    nodes, weights = np.polynomial.hermite_e.hermegauss(points)  # for weight exp(-z^2 / 2)
    second_moment = float(np.sum(weights * f(nodes) ** 2) / math.sqrt(2 * math.pi))
    return 1.0 / math.sqrt(second_moment)


def _function(apply):
    """f(z) from an in-place kernel, for the gains computed at import."""
    def f(z):
        out = np.empty_like(z)
        apply(z, out)
        return out
    return f


_SECOND_MOMENT_SOURCE = "1/sqrt(E[f(z)^2]) for z ~ N(0,1) (PyTorch defines none)"
_KERAS_LEAKY_RELU = f'''def leaky_relu(z):
    """max({LEAKY_SLOPE} z, z), as wil and PyTorch: Keras' own leaky_relu defaults to a slope of 0.2."""
    return keras.activations.leaky_relu(z, negative_slope={LEAKY_SLOPE})'''
_KERAS_GELU = '''def gelu_tanh(z):
    """GELU's tanh approximation, written out (keras.activations.gelu's default form differs by version)."""
    inner = math.sqrt(2.0 / math.pi) * (z + 0.044715 * z ** 3)
    return 0.5 * z * (1.0 + keras.ops.tanh(inner))'''

ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in [
        Activation("linear", "Linear", _linear, _d_linear, 1.0, "smooth", r"f(z) = z",
                   "No nonlinearity: a deep linear net is still one linear map.",
                   export=ActivationCode("nn.Identity()", '"linear"')),
        Activation("sigmoid", "Sigmoid", _sigmoid, _d_sigmoid, 1.0, "saturating",
                   r"f(z) = \frac{1}{1 + e^{-z}}",
                   "Squashes to (0, 1); its slope is at most 1/4 and vanishes for large |z|.",
                   saturation_z=2.0 * _TANH_5PCT, bounds=(0.0, 1.0), export=ActivationCode("nn.Sigmoid()", '"sigmoid"')),
        Activation("tanh", "Tanh", _tanh, _d_tanh, 5.0 / 3.0, "saturating", r"f(z) = \tanh z",
                   "Squashes to (-1, 1), zero-centred; saturates for |z| > 2.",
                   saturation_z=_TANH_5PCT, bounds=(-1.0, 1.0), export=ActivationCode("nn.Tanh()", '"tanh"')),
        Activation("relu", "ReLU", _relu, _d_relu, math.sqrt(2.0), "relu", r"f(z) = \max(0, z)",
                   "Zero for negative inputs: a unit that never fires is dead and never learns.",
                   export=ActivationCode("nn.ReLU()", '"relu"')),
        Activation("leaky_relu", "Leaky ReLU", _leaky_relu, _d_leaky_relu,
                   math.sqrt(2.0 / (1.0 + LEAKY_SLOPE**2)), "relu",
                   r"f(z) = \max(0.01\,z, z)", "ReLU with a small slope for negative inputs.",
                   export=ActivationCode(f"nn.LeakyReLU(negative_slope={LEAKY_SLOPE})", "leaky_relu",
                                         _KERAS_LEAKY_RELU)),
        Activation("elu", "ELU", _elu, _d_elu, second_moment_gain(_function(_elu)), "relu",
                   r"f(z) = z \text{ if } z > 0 \text{ else } e^{z} - 1",
                   "Smooth for negative inputs, saturating at -1.", gain_source=_SECOND_MOMENT_SOURCE,
                   export=ActivationCode(f"nn.ELU(alpha={ELU_ALPHA})", '"elu"')),
        Activation("selu", "SELU", _selu, _d_selu, 0.75, "relu",
                   r"f(z) = \lambda \,(z \text{ if } z > 0 \text{ else } \alpha (e^{z} - 1))",
                   "Self-normalizing with LeCun-normal weights (Klambauer et al., 2017).",
                   export=ActivationCode("nn.SELU()", '"selu"')),
        Activation("gelu", "GELU", _gelu, _d_gelu, second_moment_gain(_function(_gelu)), "smooth",
                   r"f(z) = \tfrac{z}{2}\left(1 + \tanh\!\left(\sqrt{2/\pi}\,(z + 0.044715 z^3)\right)\right)",
                   "Smooth ReLU used by transformers (tanh approximation).",
                   gain_source=_SECOND_MOMENT_SOURCE,
                   export=ActivationCode('nn.GELU(approximate="tanh")', "gelu_tanh", _KERAS_GELU)),
        Activation("softsign", "Softsign", _softsign, _d_softsign, 1.0, "saturating",
                   r"f(z) = \frac{z}{1 + |z|}",
                   "Like tanh but approaches its bounds polynomially (Glorot & Bengio, 2010).",
                   gain_source="PyTorch defines none; 1 as for other odd squashing functions",
                   saturation_z=math.sqrt(20.0) - 1.0, bounds=(-1.0, 1.0),
                   export=ActivationCode("nn.Softsign()", '"softsign"')),
        Activation("swish", "Swish / SiLU", _swish, _d_swish, second_moment_gain(_function(_swish)), "smooth",
                   r"f(z) = z \, \sigma(z)", "Smooth, non-monotonic ReLU-like (Ramachandran et al., 2017).",
                   gain_source=_SECOND_MOMENT_SOURCE, export=ActivationCode("nn.SiLU()", '"silu"')),
    ]
}


def get_activation(name: str) -> Activation:
    """Return the registry entry for ``name``; raise ``ValueError`` listing the valid names."""
    return ACTIVATIONS[check_choice("activation", name, ACTIVATIONS)]

"""What each registry entry carries for the scripts ``wil.export.codegen`` writes (PyTorch, Keras): its
own code, so that a new initializer, activation or optimizer is one entry in one file and the exports
follow.

An entry's code is Python source as text, written from registry keys and numbers only. Initializers
write theirs from their resolved parameters (``params``) and the hidden layers' activation name, by
functions; activations and optimizers need none, so theirs are plain strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

Params = dict  # an initializer's resolved parameters: name -> number
Code = Callable[[Params, "str | None"], str]  # (params, activation) -> source

KERAS_INIT = "keras.initializers."
TORCH_ZERO_BIAS = "nn.init.zeros_(b)"
KERAS_ZERO_BIAS = f"return {KERAS_INIT}Zeros()"


def num(value: float) -> str:
    """A float as Python source that reads back to the same float."""
    return repr(float(value))


def times(scale: float, text: str) -> str:
    """``text`` multiplied by ``scale``, or ``text`` alone when the scale is 1."""
    return text if scale == 1.0 else f"{num(scale)} * {text}"


def scaled(params: Params) -> str:
    """", times scale s" for a formula when the ``scale`` parameter is not 1, else ""."""
    scale = params.get("scale", 1.0)
    return "" if scale == 1.0 else f", times scale {num(scale)}"


@dataclass(frozen=True)
class InitializerCode:
    """How the scripts write one initializer. Each function takes ``(params, activation)``.

    Attributes
    ----------
    formula : the scheme in one line of plain text (the scripts' docstrings and comments).
    pytorch : the weights' lines of ``init_layer_(linear)``, with ``w``, ``b``, ``fan_in``, ``fan_out``
        and ``linear`` in scope (PyTorch stores ``w`` as (fan_out, fan_in)).
    keras : the body of ``kernel_initializer(fan_in, fan_out)``: returns a Keras initializer.
    pytorch_bias, keras_bias : the same for the biases (default zeros; "" when ``pytorch`` set them).
    pytorch_helper, keras_helper : module-level functions the lines above or the finish call,
        ``(params) -> source`` (e.g. Keras' truncated normal in PyTorch, LSUV).
    pytorch_finish, keras_finish : a statement run on the built ``model`` with ``X_train`` in scope, for a
        data-dependent scheme (LSUV), else "".
    """

    formula: Code
    pytorch: Code
    keras: Code
    pytorch_bias: Code = lambda params, activation: TORCH_ZERO_BIAS
    keras_bias: Code = lambda params, activation: KERAS_ZERO_BIAS
    pytorch_helper: Callable[[Params], str] | None = None
    keras_helper: Callable[[Params], str] | None = None
    pytorch_finish: str = ""
    keras_finish: str = ""


@dataclass(frozen=True)
class ActivationCode:
    """How the scripts write one activation: ``pytorch``, a module (``nn.ReLU()``); ``keras``, the value
    of a Dense layer's ``activation=`` (a quoted Keras name, or a function ``keras_helper`` defines)."""

    pytorch: str
    keras: str
    keras_helper: str = ""


@dataclass(frozen=True)
class OptimizerCode:
    """How the scripts write one optimizer: ``text``, its rule in words; ``pytorch`` and ``keras``, the
    constructor (``model.parameters()`` and ``LEARNING_RATE`` in scope); ``*_note``, comment lines on how
    it matches wil's rule; ``keras_helper``, a class the Keras constructor needs."""

    text: str
    pytorch: str
    pytorch_note: str
    keras: str
    keras_note: str
    keras_helper: str = ""

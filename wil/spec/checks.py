"""Argument checks shared by every public entry point: one wording for every bad input.

A wrong type raises ``ArgumentTypeError`` (a ``TypeError``); a value of the right type that is not allowed
(NaN, infinity, out of its range, an unknown name) raises ``ValueError``. Each message names the argument,
quotes a short ASCII form of what was received and says what is allowed, e.g.
``Invalid depth: expected an integer >= 1, got 0``.

``ArgumentTypeError`` is also a ``ValueError``, so code that catches ``ValueError`` around a ``Config``
(as the app does) sees every rejected input, whatever its kind.
"""

from __future__ import annotations

import math
import operator
from typing import Iterable

import numpy as np

SHOWN = 40  # longest echo of a received value in a message


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type: a ``TypeError`` that is also a ``ValueError`` (see the module)."""


def shown(value: object) -> str:
    """A received value for a message: short, printable ASCII (a hostile ``__repr__`` is not called twice)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**15:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    try:
        text = ascii(value)
    except Exception:  # a hostile __repr__
        text = f"a {type(value).__name__}"
    text = "".join(c if " " <= c <= "~" else f"\\x{ord(c):02x}" for c in text)
    return text if len(text) <= SHOWN else text[:SHOWN - 3] + "..."


def _range_text(low: float | None, high: float | None, integer: bool) -> str:
    kind = "an integer" if integer else "a number"
    fmt = (lambda v: f"{int(v):,}") if integer else (lambda v: f"{v:g}")
    if low is not None and high is not None:
        return f"{kind} in [{fmt(low)}, {fmt(high)}]"
    if low is not None:
        return f"{kind} >= {fmt(low)}"
    if high is not None:
        return f"{kind} <= {fmt(high)}"
    return kind


def check_int(name: str, value: object, low: int | None = None, high: int | None = None) -> int:
    """``value`` as a Python int within [low, high]; Python and NumPy integers are accepted, bools are not."""
    allowed = _range_text(low, high, True)
    if isinstance(value, (bool, np.bool_)) or isinstance(value, np.ndarray) and value.ndim > 0:
        raise ArgumentTypeError(f"Invalid {name}: expected {allowed}, got {shown(value)}")
    try:
        number = operator.index(value)
    except TypeError:
        raise ArgumentTypeError(f"Invalid {name}: expected {allowed}, got {shown(value)}") from None
    if (low is not None and number < low) or (high is not None and number > high):
        raise ValueError(f"Invalid {name}: expected {allowed}, got {shown(number)}")
    return int(number)


def check_float(name: str, value: object, low: float | None = None, high: float | None = None, *,
                low_open: bool = False) -> float:
    """``value`` as a finite Python float within [low, high] (``low_open``: strictly above ``low``).

    Real numbers only: bools, complex numbers, strings and arrays of more than one value are wrong types.
    """
    allowed = _range_text(low, high, False)
    if low_open and low is not None:
        allowed = allowed.replace(f">= {low:g}", f"> {low:g}").replace(f"in [{low:g},", f"in ({low:g},")
    real = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        real, value = True, value.item()
    if not real:
        raise ArgumentTypeError(f"Invalid {name}: expected {allowed}, got {shown(value)}")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond float's range
        raise ValueError(f"Invalid {name}: expected {allowed}, got {shown(value)}") from None
    below = low is not None and (number <= low if low_open else number < low)
    if not math.isfinite(number) or below or (high is not None and number > high):
        raise ValueError(f"Invalid {name}: expected {allowed}, got {shown(value)}")
    return number


def check_choice(name: str, value: object, choices: Iterable[str]) -> str:
    """``value`` if it is one of ``choices`` (registry keys), else an error listing them."""
    choices = sorted(choices)
    if not isinstance(value, str):
        raise ArgumentTypeError(f"Invalid {name}: expected one of {choices}, got {shown(value)}")
    if value not in choices:
        raise ValueError(f"Invalid {name} {shown(value)}; choose from {choices}")
    return value


def check_bool(name: str, value: object) -> bool:
    """``value`` if it is a bool (Python's or NumPy's)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ArgumentTypeError(f"Invalid {name}: expected True or False, got {shown(value)}")
    return bool(value)

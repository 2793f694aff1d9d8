"""Argument checks shared by every public entry point: one wording for every bad input.

A wrong type raises ``ArgumentTypeError`` (a ``TypeError``); a value of the right type that is not allowed
(NaN, infinity, out of its range, an unknown name) raises ``ValueError``. Each message names the argument,
quotes a short ASCII form of what was received and says what is allowed, e.g.
``Invalid depth: expected an integer >= 1, got 0``.

``ArgumentTypeError`` is also a ``ValueError``, so code that catches ``ValueError`` around a ``Config``
(as the app does) sees every rejected input, whatever its kind.
"""

from __future__ import annotations

import itertools
import math
import operator
import os
import re
from typing import Iterable, Mapping

import numpy as np

SHOWN = 40  # longest echo of a received value in a message
MAX_SIZE = 2**63 - 1  # NumPy indexes and sizes arrays with 64-bit signed integers
MAX_PATH = 4096  # Linux's PATH_MAX: a longer file name cannot be opened


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type: a ``TypeError`` that is also a ``ValueError`` (see the module)."""


class MissingPathError(FileNotFoundError, ValueError):
    """A file or folder named by an argument that does not exist: the ``FileNotFoundError`` ``open`` would
    raise, and also a ``ValueError`` like every other rejected argument."""


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
    except Exception:  # TypeError, or whatever a hostile __index__ raises
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


# the longest list of seeds (or other items) an argument may hold: a million networks of the smallest run
# need ~780 GB (measured: 1 x 3 units, 2 epochs), so no longer list can fit a machine; refused without reading it
MAX_ITEMS = 1_000_000
MAX_NUMBER_TEXT = 100  # longest text read as one number: more is a typo or an attack, never a value
# a plain ASCII decimal: digits, one optional point, an optional exponent. float() and int() also read
# other scripts' digits ("١"), underscores ("1_0"), "nan", "inf" and surrounding whitespace: not numbers here
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?")
_INTEGER = re.compile(r"[+-]?[0-9]+")


def parse_decimal(name: str, text: object, low: float | None = None, high: float | None = None) -> float:
    """``text`` read as a plain ASCII decimal (``0.01``, ``-1e-3``), finite and within [low, high].

    Raises ``ValueError`` naming ``name`` for anything else: other scripts' digits, underscores, NaN,
    infinity, a number beyond float's range, text over ``MAX_NUMBER_TEXT`` characters.
    """
    if not isinstance(text, str):
        raise ArgumentTypeError(f"Invalid {name}: expected a number written as text, got {shown(text)}")
    text = text.strip(" ")
    if len(text) > MAX_NUMBER_TEXT or not text.isascii() or not _DECIMAL.fullmatch(text):
        raise ValueError(f"Invalid {name}: expected a plain decimal number such as 0.01 or 1e-3, got {shown(text)}")
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"Invalid {name}: {shown(text)} is beyond the range of a float (about 1.8e308)")
    return check_float(name, number, low, high)


def parse_integer(name: str, text: object, low: int | None = None, high: int | None = None) -> int:
    """``text`` read as a plain ASCII integer (``12``, ``-3``) within [low, high]; ``ValueError`` naming
    ``name`` otherwise (as ``parse_decimal``)."""
    if not isinstance(text, str):
        raise ArgumentTypeError(f"Invalid {name}: expected an integer written as text, got {shown(text)}")
    text = text.strip(" ")
    if len(text) > MAX_NUMBER_TEXT or not text.isascii() or not _INTEGER.fullmatch(text):
        raise ValueError(f"Invalid {name}: expected a plain integer such as 12, got {shown(text)}")
    return check_int(name, int(text), low, high)


def check_items(name: str, values: object, limit: int) -> list:
    """``values`` (a list, tuple, range, array or other iterable, not a string or a mapping) as a list of
    at most ``limit`` items, read no further than that, so a huge range or generator is refused at once."""
    if isinstance(values, (str, bytes, bytearray, Mapping)) or not isinstance(values, Iterable):
        raise ArgumentTypeError(f"Invalid {name}: expected a list of values, got {shown(values)}")
    if isinstance(values, np.ndarray) and values.ndim != 1:
        raise ValueError(f"Invalid {name}: expected a list (one dimension), got an array of shape {values.shape}")
    try:
        count = len(values)  # type: ignore[arg-type]
    except Exception:  # no length (a generator), or a hostile __len__
        count = None
    if count is not None and count > limit:
        raise ValueError(f"Invalid {name}: {count:,} values, more than the {limit:,} allowed")
    try:
        items = list(itertools.islice(iter(values), limit + 1))
    except Exception as error:  # a hostile __iter__ or generator
        raise ArgumentTypeError(f"Invalid {name}: reading its values raised {type(error).__name__}") from None
    if len(items) > limit:
        raise ValueError(f"Invalid {name}: more than the {limit:,} values allowed")
    return items


def check_numbers(name: str, values: object, limit: int, low: float | None = None,
                  high: float | None = None) -> list[float]:
    """``values`` (as ``check_items`` takes them) as finite floats within [low, high], each named ``name[i]``."""
    return [check_float(f"{name}[{i}]", v, low, high) for i, v in enumerate(check_items(name, values, limit))]


def check_integers(name: str, values: object, limit: int, low: int | None = None, high: int | None = None) -> list[int]:
    """``values`` (as ``check_items`` takes them) as integers within [low, high], each named ``name[i]``."""
    return [check_int(f"{name}[{i}]", v, low, high) for i, v in enumerate(check_items(name, values, limit))]


def check_callable(name: str, value: object):
    """``value`` if it can be called (a function), else ``ArgumentTypeError``."""
    if not callable(value):
        raise ArgumentTypeError(f"Invalid {name}: expected a function, got {shown(value)}")
    return value


def check_layer_lists(sizes: object, variances: object, biases: object, limit: int,
                      high: float) -> tuple[list[int], list[float], list[float]]:
    """Per-layer arguments (``wil.theory.expected_variances``'): ``layer_sizes`` >= 1 and, for 1 to
    ``len(sizes) - 1`` layers, ``weight_variances`` and ``bias_variances`` (None: zeros) in [0, high]."""
    sizes = check_integers("layer_sizes", sizes, limit, 1, 2**53)  # fan-ins exact as floats
    variances = check_numbers("weight_variances", variances, limit, 0.0, high)
    biases = [0.0] * len(variances) if biases is None else check_numbers("bias_variances", biases, limit, 0.0, high)
    if not 1 <= len(variances) < len(sizes) or len(biases) != len(variances):
        raise ValueError(f"Invalid weight_variances: expected one per layer of layer_sizes ({len(sizes)} sizes, at "
                         f"least 2) and as many bias_variances, got {len(variances)} and {len(biases)}")
    return sizes, variances, biases


def check_seeds(name: str, seeds: object, high: int, limit: int) -> list[int]:
    """Distinct integer seeds in [0, high], at least one and at most ``limit``, as a list."""
    items = check_items(name, seeds, limit)
    checked = [check_int(f"{name}[{i}]", seed, 0, high) for i, seed in enumerate(items)]
    if not checked:
        raise ValueError(f"Invalid {name}: expected at least one seed, got an empty list")
    if len(set(checked)) < len(checked):
        seen = set()
        repeated = next(s for s in checked if s in seen or seen.add(s))
        raise ValueError(f"Invalid {name}: {repeated} is listed twice")
    return checked


def check_path(name: str, value: object) -> str:
    """A file path given as a string or ``os.PathLike`` of text: non-empty, no NUL character."""
    if not isinstance(value, (str, os.PathLike)):
        raise ArgumentTypeError(f"Invalid {name}: expected a file name (a string or pathlib.Path), got {shown(value)}")
    path = os.fspath(value)
    if not isinstance(path, str):
        raise ArgumentTypeError(f"Invalid {name}: expected a file name as text, got {shown(path)}")
    if not path.strip() or "\x00" in path:
        raise ValueError(f"Invalid {name}: expected a file name such as 'sweep.parquet', got {shown(path)}")
    if len(path) > MAX_PATH:
        raise ValueError(f"Invalid {name}: a file name of {len(path):,} characters, longer than the {MAX_PATH:,} "
                         f"a path may have, got {shown(path)}")
    return path


def check_finite_features(name: str, values: np.ndarray, why: str) -> None:
    """Refuse ``values`` (features, after standardization) holding NaN or infinity, saying ``why``."""
    bad = ~np.isfinite(values)
    if bad.any():
        raise ValueError(f"Invalid {name}: {int(bad.sum()):,} values are NaN or infinite after standardizing "
                         f"({why})")

"""Numbers written as text: one formatter for labels, messages, short names and sentences."""

from __future__ import annotations

import math


def format_number(value: float, exact: bool = False) -> str:
    """A number for text: integers in full, others short (``f"{value:g}"``: 0.01, -0.1, 1e-06) or exact.

    Parameters
    ----------
    value : a number.
    exact : write a non-integer with every digit (``repr``), so that reading the text back gives the same
        float: for initializer labels, which are a run's canonical text form.

    Returns
    -------
    str : e.g. ``"2"``, ``"0.01"``, ``"1e-06"``; with ``exact``, ``"0.1"``, ``"0.30000000000000004"``.
    """
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value) if exact else f"{value:g}"


def format_scientific(value: float) -> str:
    """One significant digit in scientific form without padding: 4.3e-05 -> ``"4e-5"``, 12000 -> ``"1e4"``;
    ``"NaN"``, ``"inf"``, ``"-inf"`` and ``"0"`` as such."""
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if not math.isfinite(value):
        return "inf" if value > 0 else "-inf"
    if value == 0:
        return "0"
    mantissa, exponent = f"{value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"

"""Initializer entries by name and label: the registry entry of a name (``get_initializer``), its
parameters resolved and checked against it, and the label ``"name(key=value, ...)"``, an entry's
canonical text form.

The name alone stands for the defaults: ``make_label("random_normal", {"std": 0.05})`` is
``"random_normal"``, and ``parse_entry`` reads any label back to the name and its full parameters.
"""

from __future__ import annotations

import re
from typing import Mapping

from wil.spec.checks import ArgumentTypeError, check_float, parse_decimal, shown
from wil.spec.initializers import INITIALIZERS, Initializer, Param
from wil.spec.text import format_number

_LABEL_RE = re.compile(r"^\s*([a-z_]+)\s*(?:\((.*)\))?\s*$")


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


def make_label(name: str, params: Mapping[str, object] | None = None) -> str:
    """The label of an initializer entry: the name alone at defaults, else ``name(key=value, ...)``.

    The label is also its canonical text form: ``parse_entry(make_label(n, p))`` gives back ``(n, p)``.
    """
    spec = get_initializer(name)
    resolved = resolve_params(name, params)
    changed = [f"{k}={format_number(v, exact=True)}" for k, v in resolved.items() if v != spec.params[k].default]
    return f"{name}({', '.join(changed)})" if changed else name


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
            value = parse_decimal(key, text.strip())  # ASCII digits only: float() reads "١" and "1_0" too
        except ValueError:
            raise ValueError(f"Invalid initializer {shown(entry)}: {shown(part)} is not key=number") from None
        if key in params:
            raise ValueError(f"Invalid initializer {shown(entry)}: {key!r} is given twice")
        params[key] = value
    return name, resolve_params(name, params)

"""Readable short names of initializer labels, for chart legends and sentences."""

from __future__ import annotations

from wil.spec.checks import shown
from wil.spec.initializers import INITIALIZERS
from wil.spec.labels import parse_entry
from wil.spec.text import format_number

# initializer name -> its short name for labels; parameters that differ from the defaults follow
SHORT_NAMES = {
    "zeros": "all zeros", "constant": "constant", "random_normal": "normal", "random_uniform": "uniform",
    "truncated_normal": "truncated normal", "glorot_uniform": "Glorot uniform", "glorot_normal": "Glorot normal",
    "he_uniform": "He uniform", "he_normal": "He normal", "lecun_uniform": "LeCun uniform",
    "lecun_normal": "LeCun normal", "orthogonal": "orthogonal", "lsuv": "LSUV", "torch_default": "PyTorch default",
    "sklearn_default": "scikit-learn default", "mean_field": "mean field", "fixup": "Fixup",
    "skipinit": "SkipInit", "rezero": "ReZero"}


def short_name(label: str) -> str:
    """A readable short name for an initializer label, for chart legends and sentences.

    Parameters
    ----------
    label : an initializer label such as ``"he_normal"`` or ``"random_normal(std=0.01)"``.

    Returns
    -------
    str : e.g. ``"He normal"``, ``"std 0.01"``, ``"uniform ±0.1"``, ``"constant -0.1"``,
        ``"Glorot uniform ×2"`` (scale 2). A label that does not parse is returned unchanged.
    """
    try:
        name, params = parse_entry(label)
    except ValueError:
        return label if isinstance(label, str) else shown(label)
    defaults = {key: spec.default for key, spec in INITIALIZERS[name].params.items()}
    changed = {key: value for key, value in params.items() if value != defaults[key]}
    parts = []
    if name in ("random_normal", "truncated_normal"):
        mean = params.get("mean", 0.0)
        prefix = "truncated " if name == "truncated_normal" else ""
        parts.append(f"{prefix}std {format_number(params['std'])}" + (f", mean {format_number(mean)}" if mean else ""))
    elif name == "random_uniform":
        parts.append(f"uniform ±{format_number(params['limit'])}")
    elif name == "constant":
        parts.append(f"constant {format_number(params['value'])}")
    else:
        parts.append(SHORT_NAMES.get(name, name))
        parts += [f"{key} {format_number(value)}" for key, value in changed.items() if key != "scale"]
    if "scale" in changed:
        parts.append(f"×{format_number(changed['scale'])}")
    return " ".join(parts) if len(parts) > 1 and parts[-1].startswith("×") else ", ".join(parts)

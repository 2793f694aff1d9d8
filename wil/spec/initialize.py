"""``initialize``: one weight matrix drawn from an initializer entry, by name and parameters."""

from __future__ import annotations

import numpy as np

from wil.spec.activations import ACTIVATIONS
from wil.spec.checks import MAX_SIZE, ArgumentTypeError, check_choice, check_int, shown
from wil.spec.labels import get_initializer, resolve_params
from wil.spec.resources import check_fits


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
    spec = get_initializer(name)
    fan_in, fan_out = check_int("fan_in", fan_in, 1), check_int("fan_out", fan_out, 1)
    fan_in, fan_out = check_int("fan_in", fan_in, 1, MAX_SIZE), check_int("fan_out", fan_out, 1, MAX_SIZE)  # 64-bit
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

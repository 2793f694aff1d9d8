"""LSUV (Mishkin & Matas, 2016, "All you need is a good init"): the data-dependent finish of the ``lsuv``
initializer, run by the training loop on a batch of training data through the registry entry's ``finish``."""

from __future__ import annotations

import numpy as np


def lsuv_finish(weights: list[np.ndarray], biases: list[np.ndarray], X: np.ndarray, activation,
                params: list[dict], mask: np.ndarray) -> None:
    """Mishkin & Matas' LSUV on stacked networks: layer by layer, divide the weights by the std of the
    layer's output on the batch ``X`` (n, d) until its variance is within ``tol`` of 1 (at most
    ``max_iter`` passes), then multiply them by ``scale``. Only the networks ``mask`` (K,) selects change.

    ``weights[l]`` (K, fan_in, fan_out) and ``biases[l]`` (K, 1, fan_out) are changed in place;
    ``params[k]`` are network k's parameters (read where ``mask`` is set); ``activation`` is the hidden
    layers' registry entry.
    """
    def column(key, fallback):
        return np.array([p[key] if selected else fallback for p, selected in zip(params, mask)])

    tol, max_iter, scale = column("tol", 0.0), column("max_iter", 0), column("scale", 1.0)  # (K,) each
    a = X  # (n, d), then (K, n, fan_in)
    for layer, (W, b) in enumerate(zip(weights, biases)):
        for iteration in range(int(max_iter.max(initial=0))):
            variance = (np.matmul(a, W) + b).var(axis=(1, 2))  # (K,)
            todo = (mask & (iteration < max_iter) & (np.abs(variance - 1.0) >= tol)
                    & np.isfinite(variance) & (variance > 0))
            if not todo.any():
                break
            W *= np.where(todo, 1.0 / np.sqrt(np.where(todo, variance, 1.0)), 1.0)[:, None, None]
        z = np.matmul(a, W) + b  # (K, n, fan_out)
        if layer < len(weights) - 1:
            a = activation.f(z)
    for W in weights:
        W *= np.where(mask, scale, 1.0)[:, None, None]


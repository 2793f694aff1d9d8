"""LSUV (Mishkin & Matas, 2016, "All you need is a good init"): the data-dependent finish of the ``lsuv``
initializer, run by the training loop on a batch of training data through the registry entry's ``finish``;
and the same finish as the PyTorch and Keras scripts write it (``torch_lsuv``, ``keras_lsuv``)."""

from __future__ import annotations

import numpy as np

from wil.spec.snippets import num

LSUV_BATCH = 256  # examples a data-dependent scheme measures variances on (Mishkin & Matas use one mini-batch)


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



def torch_lsuv(params: dict) -> str:
    """``lsuv_(model, X)``, ``lsuv_finish`` for a PyTorch ``nn.Sequential``, as a script's function."""
    return f'''@torch.no_grad()
def lsuv_(model, X, tol={num(params["tol"])}, max_iter={int(params["max_iter"])}, scale={num(params["scale"])}):
    """LSUV (Mishkin & Matas, 2016) as wil finishes it: layer by layer, divide the weights by the std of the
    layer's output on the batch ``X`` until its variance is within ``tol`` of 1; then multiply every
    layer's weights by ``scale``."""
    a = X
    for layer in model:
        linear = layer[0] if isinstance(layer, nn.Sequential) else layer
        for _ in range(max_iter):
            variance = linear(a).var(correction=0).item()
            if abs(variance - 1.0) < tol or not math.isfinite(variance) or variance <= 0:
                break
            linear.weight /= math.sqrt(variance)
        a = layer(a)
    for layer in model:
        linear = layer[0] if isinstance(layer, nn.Sequential) else layer
        linear.weight *= scale'''


def keras_lsuv(params: dict) -> str:
    """``lsuv(model, X)``, ``lsuv_finish`` for a Keras ``Sequential``, as a script's function."""
    return f'''def lsuv(model, X, tol={num(params["tol"])}, max_iter={int(params["max_iter"])}, scale={num(params["scale"])}):
    """LSUV (Mishkin & Matas, 2016) as wil finishes it: layer by layer, divide the weights by the std of the
    layer's output on the batch ``X`` until its variance is within ``tol`` of 1; then multiply every
    layer's weights by ``scale``."""
    a = X
    for layer in model.layers:
        W, b = layer.get_weights()
        for _ in range(max_iter):
            variance = float(np.var(a @ W + b))
            if abs(variance - 1.0) < tol or not math.isfinite(variance) or variance <= 0:
                break
            W = W / math.sqrt(variance)
        layer.set_weights([W, b])
        a = keras.ops.convert_to_numpy(layer(a))
    for layer in model.layers:
        W, b = layer.get_weights()
        layer.set_weights([W * scale, b])'''


TORCH_FINISH = f"lsuv_(model, X_train[:{LSUV_BATCH}])  # on the first {LSUV_BATCH} examples, as wil"
KERAS_FINISH = f"lsuv(model, X_train[:{LSUV_BATCH}])  # on the first {LSUV_BATCH} examples, as wil"

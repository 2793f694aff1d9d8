"""The fair peer: the same K networks trained the way a PyTorch user would write it.

A loop over ``nn.Sequential`` models, each with its own ``torch.optim.SGD``, float32, eager mode; the
same initial weights as wil's (copied from wil's stacked arrays), the same mini-batch order, and the
same per-epoch record wil keeps in ``Result.history``: loss and accuracy on the whole training split
(from the training pass itself when full batch, else from an evaluation pass under ``no_grad``) and on
the test split. No per-layer diagnostics: that is extra work only wil does.

Imported only by ``bench_engine.py --vs-torch``; install with ``pip install -r benchmarks/requirements.txt``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "leaky_relu": nn.LeakyReLU,
               "elu": nn.ELU, "selu": nn.SELU, "gelu": lambda: nn.GELU(approximate="tanh"),
               "softsign": nn.Softsign, "swish": nn.SiLU, "linear": nn.Identity}


def build_models(weights: list[np.ndarray], biases: list[np.ndarray], activation: str) -> list[nn.Sequential]:
    """K ``nn.Sequential`` MLPs holding wil's initial weights ``(K, fan_in, fan_out)`` and biases."""
    models = []
    for k in range(weights[0].shape[0]):
        layers: list[nn.Module] = []
        for layer, (W, b) in enumerate(zip(weights, biases)):
            linear = nn.Linear(W.shape[1], W.shape[2])
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(W[k].T, dtype=np.float32)))
                linear.bias.copy_(torch.from_numpy(b[k, 0].astype(np.float32)))
            layers.append(linear)
            if layer < len(weights) - 1:
                layers.append(ACTIVATIONS[activation]())
        models.append(nn.Sequential(*layers))
    return models


def _record(model, loss_fn, X, y):
    out = model(X)
    loss = loss_fn(out, y)
    accuracy = (out.argmax(dim=1) == y).float().mean()
    return loss.item(), accuracy.item()


def train(models: list[nn.Sequential], X_train, y_train, X_test, y_test, *, epochs: int, learning_rate: float,
          batch_size: int | None, order_seed: int) -> np.ndarray:
    """Train every model; return the history (K, epochs + 1, split [train, test], [loss, accuracy]).

    ``X_*`` float32 tensors, ``y_*`` int64 tensors (classification). The mini-batch order is wil's:
    ``np.random.default_rng([order_seed, 1]).permutation(n)`` per epoch, one order for all K.
    """
    loss_fn = nn.CrossEntropyLoss()
    optimizers = [torch.optim.SGD(model.parameters(), lr=learning_rate) for model in models]
    history = np.full((len(models), epochs + 1, 2, 2), np.nan)
    n = X_train.shape[0]
    full_batch = batch_size is None or batch_size >= n
    shuffle = np.random.default_rng([order_seed, 1])
    for epoch in range(epochs + 1):
        for k, (model, optimizer) in enumerate(zip(models, optimizers)):
            if full_batch and epoch < epochs:  # the record comes from the training pass itself
                optimizer.zero_grad()
                out = model(X_train)
                loss = loss_fn(out, y_train)
                history[k, epoch, 0] = loss.item(), (out.argmax(dim=1) == y_train).float().mean().item()
                with torch.no_grad():  # the test record, before the step, as wil's
                    history[k, epoch, 1] = _record(model, loss_fn, X_test, y_test)
                loss.backward()
                optimizer.step()
            else:
                with torch.no_grad():
                    history[k, epoch, 0] = _record(model, loss_fn, X_train, y_train)
                    history[k, epoch, 1] = _record(model, loss_fn, X_test, y_test)
        if epoch == epochs or full_batch:
            continue
        order = torch.from_numpy(shuffle.permutation(n))
        for start in range(0, n, batch_size):
            rows = order[start:start + batch_size]
            X_batch, y_batch = X_train[rows], y_train[rows]
            for model, optimizer in zip(models, optimizers):
                optimizer.zero_grad()
                loss = loss_fn(model(X_batch), y_batch)
                loss.backward()
                optimizer.step()
    return history

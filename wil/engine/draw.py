"""Initialization of a run's K networks: each drawn from its own generator, stacked, then finished on data
where its scheme is data-dependent (LSUV)."""

from __future__ import annotations

import numpy as np

from wil.spec.activations import get_activation
from wil.spec.labels import get_initializer, parse_entry
from wil.engine.cures import CureNetwork
from wil.engine.model import Network
from wil.engine.workspace import Stack
from wil.spec.lsuv import LSUV_BATCH
from wil.spec.residual import layer_roles, n_blocks


def initialize_networks(config, data, labels: list[str], seeds: list[int]) -> Network:
    """K = len(labels) x len(seeds) networks, label-major, for ``config``'s architecture on ``data``.

    Each network draws its weights and biases from its own ``np.random.default_rng(seed)``, layer after
    layer, so a network does not depend on what else is in the comparison. Schemes with a ``finish``
    (LSUV) are then finished on the first ``LSUV_BATCH`` training examples.
    """
    activation = get_activation(config.activation)
    sizes = [data.n_features] + [config.width] * config.depth + [data.n_outputs]
    entries = [(parse_entry(label), seed) for label in labels for seed in seeds]  # (K,) label-major
    dtype = np.dtype(config.dtype)
    if config.normalization is not None or config.residual:
        return _cure_network(config, entries, sizes, activation, dtype)
    net = _drawn_network(entries, sizes, config.activation, activation, dtype)
    X = data.X_train[:LSUV_BATCH].astype(dtype)
    specs = [get_initializer(name) for (name, _), _ in entries]
    for finish in {spec.finish for spec in specs if spec.finish is not None}:
        mask = np.array([spec.finish is finish for spec in specs])  # (K,)
        finish(net.weights, net.biases, X, activation, [params for (_, params), _ in entries], mask)
    return net


def _drawn_network(entries, sizes: list[int], activation_name: str, activation, dtype) -> Network:
    """The plain networks drawn straight into their ``Stack``: each layer sampled in float64, as ``_draw``
    does, and cast into its row (at width 512 the float64 copies of every layer, stacked, took 0.2 s and
    twice the memory before the first epoch)."""
    stack = Stack.zeros(len(entries), sizes, dtype)
    for k, ((name, params), seed) in enumerate(entries):
        spec = get_initializer(name)
        rng = np.random.default_rng(seed)
        for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            stack.weights[layer][k] = spec.sample(rng, fan_in, fan_out, params, activation_name)
            if spec.bias is not None:
                stack.biases[layer][k, 0] = spec.bias(rng, fan_in, fan_out, params, activation_name)
    return Network(stack.weights, stack.biases, activation, stack)


def _cure_network(config, entries, sizes: list[int], activation, dtype) -> CureNetwork:
    """The K networks of a run with normalization or residual blocks (``wil.spec.residual``): the layers drawn
    as on a plain network, times their role's factor for schemes made for residual networks, and the blocks'
    scalars as each scheme sets them (1 and fixed for the others)."""
    roles = layer_roles(config.depth, config.residual)
    weights, biases = _draw(entries, sizes, config.activation, roles, n_blocks(config.depth))
    rules = [get_initializer(name).residual for (name, _), _ in entries]
    alphas = np.array([[1.0 if rule is None else rule.branch_scalar(params)] for rule, ((_, params), _)
                       in zip(rules, entries)])  # (K, 1): every block alike
    trained = np.array([rule is not None and rule.scalar_trained for rule in rules])
    return CureNetwork.build(weights, biases, activation, config.normalization, config.residual, alphas, trained,
                             dtype)


def _draw(entries, sizes: list[int], activation: str, roles=None, blocks: int = 0
          ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Every network's weights and biases in float64, stacked per layer: (K, fan_in, fan_out) and
    (K, 1, fan_out). A scheme made for residual networks multiplies each layer by its factor for the
    layer's role in ``roles``."""
    weights = [[] for _ in sizes[1:]]
    biases = [[] for _ in sizes[1:]]
    for (name, params), seed in entries:
        spec = get_initializer(name)
        rng = np.random.default_rng(seed)
        for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            W = spec.sample(rng, fan_in, fan_out, params, activation)
            if spec.residual is not None:
                W = W * spec.residual.layer_factor(roles[layer], blocks, params)
            weights[layer].append(W)
            bias = np.zeros(fan_out) if spec.bias is None else spec.bias(rng, fan_in, fan_out, params, activation)
            biases[layer].append(bias[None, :])
    return [np.stack(w) for w in weights], [np.stack(b) for b in biases]

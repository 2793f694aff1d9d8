"""The output layer's prediction as one network measures it: its units' random offsets (``theory_frame``).

A network's ``act_std`` pools its examples and units around the network's own mean. The mean-field variance
``q`` is over networks; one network's pooled variance is ``q - k / units``, ``k`` the covariance of two
examples' pre-activations, which matters on a layer of few units: the output layer.
"""

from __future__ import annotations

import math


def output_covariance(sizes: list[int], variances: list[float], f, biases: list[float], layers: list[tuple],
                      expect_pair) -> float:
    """The mean-field covariance of the output pre-activations of two different examples, from inputs
    uncorrelated on average (standardized features have mean 0): ``k_1 = sigma_b^2`` and
    ``k_{l+1} = fan_in var_l E[f(u1) f(u2)] + b_l``, ``u`` of variance ``q_l`` and correlation ``k_l / q_l``.

    Why it matters: a network's ``act_std`` (wil's and PyTorch's) pools its examples and units around
    its own mean, and a unit's mean over the examples is a random offset of variance ``k``. On a wide layer
    the offsets of its many units average out, but the output layer has ``n_outputs`` units (2 on moons),
    so one network's expected variance there is ``q - k / n_outputs``: 1.12^2 rather than 1.414^2 for He on
    moons (24 networks measure 1.10 +- 0.08).

    ``f``: the activation; ``layers``: ``expected_variances``' rows (their preact_var); ``expect_pair(g, c)``:
    E[g(z1, z2)] for standard normals of correlation c (``wil.analysis.theory`` passes its quadrature)."""
    k = biases[0]
    for (q, _, _), fan_in, variance, bias in zip(layers[:-1], sizes[1:-1], variances[1:], biases[1:]):
        if not (q > 0.0 and math.isfinite(q)):  # no fixed scale to correlate: no offset predicted
            return 0.0
        root, c = math.sqrt(q), min(max(k / q, -1.0), 1.0)
        k = fan_in * variance * expect_pair(lambda z1, z2: f(root * z1) * f(root * z2), c) + bias
    return float(k)

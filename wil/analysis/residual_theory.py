"""The variance recursion of a residual network at initialization (``wil.spec.residual``'s architecture),
for ``wil.theory_frame``.

A block adds its branch to the stream: ``h_{l+1} = h_{l-1} + alpha * u`` with ``u = a_l W + b``. The weights
are independent of the stream and have zero mean, so ``u`` and ``h_{l-1}`` are uncorrelated and the
variances add: ``Var(h_{l+1}) = Var(h_{l-1}) + alpha^2 Var(u)`` (Zhang et al. 2019, Sec. 2; De & Smith 2020).
In the wide limit both are Gaussian, so ``h_{l+1}`` is too, and the next second moment is ``E[f(h)^2]`` as
in a plain network. A branch's variance is proportional to the stream's (a ReLU branch of He layers returns
the stream's variance), so each block multiplies it by ``1 + alpha^2 * gain``: He weights double it per
block (exponential growth with depth, 2^30 over 60 layers); Fixup's zero last layers and ReZero's or
SkipInit's ``alpha = 0`` keep it constant. A branch whose variance does not follow the stream's, as behind
a BatchNorm, would add a constant per block (linear growth, De & Smith's observation); wil makes no
prediction for normalized networks: their statistics are the batch's.
"""

from __future__ import annotations

from wil.spec.activations import get_activation
from wil.spec.residual import BRANCH_LAST, OUTPUT, PROJECTION

NO_PREDICTION = "no prediction: normalization rescales each layer by its batch's statistics"
PLAIN_PREDICTION = "variance recursion"
RESIDUAL_PREDICTION = "residual variance recursion: branch variances add to the stream's"


def residual_variances(layer_sizes: list[int], weight_variances: list[float], activation: str,
                       bias_variances: list[float], roles: tuple[str, ...], alpha: float, moments,
                       input_second_moment: float = 1.0) -> list[tuple[float, float, float]]:
    """Predicted (preact_var, act_mean, act_var) of every layer of a residual network, layers 1..n.

    ``roles`` are ``wil.spec.residual.layer_roles``'s; ``alpha`` every block's scalar; ``moments(f,
    variance)`` gives ``E[f(z)]`` and ``E[f(z)^2]`` for ``z ~ N(0, variance)``
    (``wil.analysis.theory.gaussian_moments``). ``preact_var`` is that of the layer's linear output,
    stream included (its pre-activation: there is no normalization).
    """
    f = get_activation(activation).f
    second_moment, stream, variances, out = input_second_moment, None, {}, []
    for layer, (fan_in, variance, bias) in enumerate(zip(layer_sizes[:-1], weight_variances, bias_variances)):
        branch = fan_in * variance * second_moment + bias
        role = roles[layer]
        if role == OUTPUT:
            out.append((branch, 0.0, branch))
            break
        preact_var = variances[stream] + alpha ** 2 * branch if role == BRANCH_LAST else branch
        if role in (PROJECTION, BRANCH_LAST):
            stream = layer
        variances[layer] = preact_var
        mean, second_moment = moments(f, preact_var)
        out.append((preact_var, mean, second_moment - mean ** 2))
    return out

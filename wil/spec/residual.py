"""The other cures' side of the spec: where the layers of a residual network sit (``layer_roles``), and the
initializers made for residual networks (Fixup, SkipInit, ReZero), as the fields of their registry entries.

A residual network (``Config(residual=True)``) is a pre-activation residual MLP (He et al., 2016, "Identity
mappings in deep residual networks"). Hidden layer ``l`` has a linear output ``h_l``, a pre-activation
``z_l = N_l(h_l)`` (``N_l`` its normalization, the identity without one) and an activation ``a_l = f(z_l)``:

* layer 1, the projection from the input features: ``h_1 = X W_1 + b_1``; ``h_1`` starts the stream;
* then blocks of two layers ``(l, l + 1) = (2, 3), (4, 5), ...``, each a branch added to the stream::

      h_l     = a_{l-1} W_l + b_l
      h_{l+1} = h_{l-1} + alpha_B * (a_l W_{l+1} + b_{l+1})

  the stream ``h`` never goes through ``f``, so a block with ``alpha_B = 0`` is the identity whatever ``f``;
* when ``depth - 1`` is odd the last block has one layer: ``h_depth = h_{depth-1} + alpha_B * (a_{depth-1}
  W_depth + b_depth)``;
* the output layer is linear: ``a_depth W_out + b_out``.

All hidden layers have one width, so every skip is the identity (no projection inside the stream).

The three initializers below need ``residual=True``. Each draws every layer as ``he_normal`` does (Keras'
truncated normal of variance 2/fan_in, layer after layer from the network's generator, so the draws are
``he_normal``'s), then multiplies each layer by a factor for its role (``ResidualRule.layer_factor``), and
sets the branch scalars ``alpha``. Every other initializer, on a residual network, draws as it does on a
plain one, and its ``alpha`` is 1 and not trained: the plain residual network ``h + branch(h)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from wil.spec.samplers import TRUNCATED_STD_CORRECTION, torch_truncated_normal, variance_scaling
from wil.spec.snippets import KERAS_INIT, InitializerCode, num, scaled

# what a layer is in its network; ``layer_roles`` lists them
PLAIN, PROJECTION, BRANCH_FIRST, BRANCH_LAST, OUTPUT = "plain", "projection", "branch_first", "branch_last", "output"
LAYER_ROLES = (PLAIN, PROJECTION, BRANCH_FIRST, BRANCH_LAST, OUTPUT)
BRANCH_LAYERS = 2  # m: linear layers per residual branch (the last branch may have one)
NORMALIZATIONS = (None, "batch", "layer")
# each normalization's name in words (Ioffe & Szegedy 2015; Ba et al. 2016), for the app and the scripts' text
NORMALIZATION_LABELS = {None: "none", "batch": "BatchNorm", "layer": "LayerNorm"}
NORM_EPS = 1e-5  # PyTorch's nn.BatchNorm1d and nn.LayerNorm default
BN_MOMENTUM = 0.1  # PyTorch's nn.BatchNorm1d default: running = (1 - m) running + m batch


def n_blocks(depth: int) -> int:
    """Residual blocks of a residual network of ``depth`` hidden layers: ceil((depth - 1) / 2)."""
    return (depth - 1 + BRANCH_LAYERS - 1) // BRANCH_LAYERS


def layer_roles(depth: int, residual: bool) -> tuple[str, ...]:
    """The role of every layer, the ``depth`` hidden layers then the output: ``"plain"`` hidden layers for a
    plain network; ``"projection"``, then ``"branch_first"``/``"branch_last"`` pairs (a lone ``"branch_last"``
    when ``depth - 1`` is odd) for a residual one."""
    if not residual:
        return (PLAIN,) * depth + (OUTPUT,)
    hidden = [PROJECTION] + [BRANCH_FIRST if (layer - 2) % 2 == 0 and layer < depth else BRANCH_LAST
                             for layer in range(2, depth + 1)]
    return tuple(hidden) + (OUTPUT,)


def block_layers(depth: int) -> tuple[tuple[int, int], ...]:
    """(layer that closes the block, the stream layer it adds to), 0-based, for each residual block."""
    roles, out, stream = layer_roles(depth, True), [], 0
    for layer, role in enumerate(roles):
        if role == BRANCH_LAST:
            out.append((layer, stream))
            stream = layer
    return tuple(out)


@dataclass(frozen=True)
class ResidualRule:
    """What an initializer made for residual networks adds to its registry entry.

    Attributes
    ----------
    allows_normalization : False when the scheme is defined for networks without normalization (Fixup).
    layer_factor : ``layer_factor(role, n_blocks, params) -> float``, the factor on the layer's ``he_normal``
        draw (0: the layer starts at zero).
    branch_scalar : ``branch_scalar(params) -> float``, every block's ``alpha`` at initialization.
    scalar_trained : whether ``alpha`` is trained (its gradient is used) or fixed.
    formula : the scheme in one line of plain text, for the scripts' comments.
    pytorch_scalar, keras_scalar : how the scripts make ``alpha`` (a sentence).
    """

    allows_normalization: bool
    layer_factor: Callable[[str, int, dict], float]
    branch_scalar: Callable[[dict], float]
    scalar_trained: bool
    formula: str
    pytorch_scalar: str
    keras_scalar: str

    def pytorch_layer(self, role: str, blocks: int, params: dict) -> str:
        """The PyTorch line that applies ``layer_factor`` to ``w`` after its ``he_normal`` draw ("" for 1)."""
        factor = self.layer_factor(role, blocks, params)
        if factor == 1.0:
            return ""
        if factor == 0.0:
            return f"nn.init.zeros_(w)  # {role}: starts at zero"
        return f"w.mul_({num(factor)})  # {role}: times {num(factor)}"

    def keras_layer(self, role: str, blocks: int, params: dict) -> str:
        """The body of a Keras ``kernel_initializer`` for a layer whose factor is not 1 ("" for 1)."""
        factor = self.layer_factor(role, blocks, params)
        if factor == 1.0:
            return ""
        if factor == 0.0:
            return f"return {KERAS_INIT}Zeros()  # {role}: starts at zero"
        total = factor * params.get("scale", 1.0)  # the role's Keras initializer replaces the draw: scale too
        return (f"return {KERAS_INIT}VarianceScaling(scale=2.0 * {num(total)} ** 2, mode='fan_in', "
                f"distribution='truncated_normal')  # {role}: He times {num(total)}")


def fixup_factor(role: str, blocks: int, params: dict) -> float:
    """Fixup's rules 1-2: the output layer and each branch's last layer 0; a branch's other layers He times
    L^(-1/(2m-2)), m = ``BRANCH_LAYERS``, L = ``blocks``; the projection He (``scale`` is in the draw)."""
    if role in (BRANCH_LAST, OUTPUT):
        return 0.0
    if role == BRANCH_FIRST:
        return fixup_scale(blocks)
    return 1.0


def _he_sample(rng, fan_in, fan_out, params, activation=None):
    """``he_normal``'s draw times ``scale``, as every initializer's (the role's factor applies on top)."""
    return params["scale"] * variance_scaling(rng, fan_in, fan_out, 2.0, "fan_in", "truncated_normal")


def _he_variance(fan_in, fan_out, params):
    return params["scale"] ** 2 * 2.0 / fan_in  # of the draw; the roles' factors apply on top (analysis.theory)


_HE_TORCH = "std = math.sqrt(2.0 / fan_in)  # He\nkeras_truncated_normal_(w, std)"


def _he_torch(params: dict) -> str:
    return _HE_TORCH + ("" if params["scale"] == 1.0 else f"\nw.mul_({num(params['scale'])})  # scale")


def _he_keras(params: dict) -> str:
    if params["scale"] == 1.0:
        return _HE_KERAS
    return (f"# He times scale\nreturn {KERAS_INIT}VarianceScaling(scale=2.0 * {num(params['scale'])} ** 2,\n"
            "    mode='fan_in', distribution='truncated_normal')")
_HE_KERAS = f"return {KERAS_INIT}HeNormal()"
_HE_TEXT = (f"He normal (Var 2/fan_in, truncated at 2 sigma, sigma = sqrt(Var) / {TRUNCATED_STD_CORRECTION:.6f})")


def _code(formula: Callable[[dict], str]) -> InitializerCode:
    return InitializerCode(lambda p, act: formula(p), lambda p, act: _he_torch(p), lambda p, act: _he_keras(p),
                           pytorch_helper=torch_truncated_normal)


def _scale(low: float = 1e-4, high: float = 1e4):
    return (1.0, low, high, "multiplier applied to the drawn weights", True)


# Each entry: the fields of its ``wil.spec.initializers.Initializer``; ``params`` as Param fields
# (default, low, high, description, log). ``variance`` is that of the he_normal draw before the factors.
ENTRIES = [
    dict(
        name="fixup", label="Fixup (residual, no normalization)",
        description="Zhang, Dauphin & Ma (2019): deep residual networks without normalization. Each branch's "
                    "last layer and the output layer start at zero, the branches' other layers are He "
                    "scaled by L^(-1/(2m-2)) (L branches of m layers), and a trained scalar multiplier "
                    "(init 1) closes each branch.",
        latex=r"W^{\text{branch},1} \sim \mathcal{N}_{\pm 2\sigma}\!\left(0, \tfrac{2}{n_{in}}\right)"
              r" L^{-\frac{1}{2m-2}},\quad W^{\text{branch},m} = 0,\quad W^{\text{out}} = 0,\quad \alpha = 1",
        params={"scale": _scale()}, sample=_he_sample, variance=_he_variance,
        pytorch="kaiming_normal_ on every layer, then the branches' first layers .mul_(L ** -0.5) and their "
                "last layers and the classifier nn.init.zeros_; a scalar nn.Parameter(torch.ones(())) "
                "multiplies each branch (PyTorch's kaiming_normal_ does not truncate; wil's He does)",
        keras="HeNormal on every layer, VarianceScaling(scale=2 / L) on the branches' first layers, Zeros on "
              "their last layers and the classifier, a trainable scalar weight (init 1) on each branch",
        export=_code(lambda p: f"Fixup: {_HE_TEXT}{scaled(p)}; branch first layers times L^(-1/2) "
                               f"(m = {BRANCH_LAYERS}), branch last layers and the output layer 0; branch "
                               "scalar 1, trained"),
        residual=dict(
            allows_normalization=False, layer_factor=fixup_factor, branch_scalar=lambda p: 1.0,
            scalar_trained=True,
            formula="Fixup: He init, branch first layers times L^(-1/(2m-2)), branch last layers and the "
                    "output layer zero, a trained multiplier (init 1) per branch; the paper's scalar "
                    "biases (init 0) are wil's per-unit biases (init 0, trained)",
            pytorch_scalar="self.alpha = nn.Parameter(torch.ones(()))  # Fixup's multiplier, trained",
            keras_scalar="a trainable scalar weight initialized to 1 (Fixup's multiplier)")),
    dict(
        name="skipinit", label="SkipInit (residual, alpha = 0)",
        description="De & Smith (2020): a learnable scalar at the end of each residual branch, initialized to "
                    "alpha (0, or a small constant), so each block starts as (nearly) the identity; He weights.",
        latex=r"h \leftarrow h + \alpha\, F(h),\quad \alpha = \alpha_0 \text{ (trained)},\quad "
              r"W \sim \mathcal{N}_{\pm 2\sigma}\!\left(0, \tfrac{2}{n_{in}}\right)",
        params={"alpha": (0.0, 0.0, 1.0, "the branch scalar's initial value (the paper: 0 or 1/sqrt(depth))",
                          False),
                "scale": _scale()},
        sample=_he_sample, variance=_he_variance,
        pytorch="kaiming_normal_ on every layer and nn.Parameter(torch.full((), alpha)) on each branch "
                "(PyTorch's kaiming_normal_ does not truncate)",
        keras="HeNormal on every layer and a trainable scalar weight (init alpha) on each branch",
        export=_code(lambda p: f"SkipInit: {_HE_TEXT}{scaled(p)}; branch scalar {num(p['alpha'])}, trained"),
        residual=dict(
            allows_normalization=True, layer_factor=lambda role, blocks, p: 1.0,
            branch_scalar=lambda p: p["alpha"], scalar_trained=True,
            formula="SkipInit: He init, a trained scalar (init alpha) at the end of each branch",
            pytorch_scalar="self.alpha = nn.Parameter(torch.full((), ALPHA))  # SkipInit's scalar, trained",
            keras_scalar="a trainable scalar weight initialized to alpha (SkipInit)")),
    dict(
        name="rezero", label="ReZero (residual, alpha = 0, trained)",
        description="Bachlechner et al. (2020): x + alpha F(x) with alpha = 0, trained, so every block starts as "
                    "the identity; He weights. In this MLP it is skipinit(alpha=0); the papers differ in what "
                    "they replace (ReZero: LayerNorm in any residual net; SkipInit: BatchNorm in ResNets).",
        latex=r"x_{i+1} = x_i + \alpha_i F(x_i),\quad \alpha_i = 0 \text{ (trained)}",
        params={"scale": _scale()}, sample=_he_sample, variance=_he_variance,
        pytorch="kaiming_normal_ on every layer and nn.Parameter(torch.zeros(())) on each branch",
        keras="HeNormal on every layer and a trainable scalar weight (init 0) on each branch",
        export=_code(lambda p: f"ReZero: {_HE_TEXT}{scaled(p)}; branch scalar 0, trained"),
        residual=dict(
            allows_normalization=True, layer_factor=lambda role, blocks, p: 1.0,
            branch_scalar=lambda p: 0.0, scalar_trained=True,
            formula="ReZero: x + alpha F(x), alpha = 0 and trained, He init",
            pytorch_scalar="self.alpha = nn.Parameter(torch.zeros(()))  # ReZero's alpha, trained",
            keras_scalar="a trainable scalar weight initialized to 0 (ReZero's alpha)")),
]


def fixup_scale(blocks: int) -> float:
    """Fixup's factor on a branch's first layer, L^(-1/(2m-2)) for L = ``blocks`` branches."""
    return float(blocks) ** (-1.0 / (2 * BRANCH_LAYERS - 2))


def describe_architecture(depth: int, normalization: str | None, residual: bool) -> str:
    """The network in one line of words, for docs and scripts."""
    norm = "" if normalization is None else f"{NORMALIZATION_LABELS[normalization]}, "
    if not residual:
        return f"{depth} hidden layers (linear, {norm}activation)"
    blocks = n_blocks(depth)
    odd = " (the last with one)" if (depth - 1) % 2 else ""
    return (f"a projection layer, then {blocks} residual block{'s' * (blocks != 1)} of {BRANCH_LAYERS} layers{odd} "
            f"(each: {norm}activation, linear), {depth} hidden layers in all")


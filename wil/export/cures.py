"""The network sections of the scripts (``wil.to_pytorch``, ``wil.to_keras``): a plain MLP's, or, for a
network with normalization layers or residual blocks, the architecture of ``wil.spec.residual`` written out,
with the initializer's rule for residual networks (``Initializer.residual``: each layer role's factor, the
blocks' scalar ``alpha`` and whether it is trained).

A plain MLP's script is what it was before these layers existed, character for character: its sections are
``wil.export.templates``' and every field added for the cures is empty for it.
"""

from __future__ import annotations

import textwrap

from wil.export import cure_templates, templates
from wil.spec.activations import get_activation
from wil.spec.config import Config
from wil.spec.labels import get_initializer
from wil.spec.residual import (BN_MOMENTUM, NORM_EPS, OUTPUT, describe_architecture, layer_roles,
                               n_blocks)
from wil.spec.snippets import num

# the Config fields of the cures: a script leaves them out of its wil.Config(...) at their defaults
CURE_FIELDS = ("normalization", "residual")
_TORCH_NORMS = {None: "nn.Identity()",
                "batch": f"nn.BatchNorm1d(WIDTH, eps={NORM_EPS}, momentum={BN_MOMENTUM}, dtype=DTYPE)",
                "layer": f"nn.LayerNorm(WIDTH, eps={NORM_EPS}, dtype=DTYPE)"}
# Keras' momentum is the weight of the old running value: 1 - PyTorch's
_KERAS_NORMS = {None: "keras.layers.Identity()",
                "batch": f"keras.layers.BatchNormalization(momentum={1 - BN_MOMENTUM:g}, epsilon={NORM_EPS})",
                "layer": f"keras.layers.LayerNormalization(epsilon={NORM_EPS})"}
_KERAS_BN_NOTE = ("\n    Keras updates the moving variance with the biased batch variance, wil and PyTorch with the "
                  "unbiased one.")
_TORCH_BN_EVAL = "    model.eval()  # BatchNorm: the running statistics\n"
_TORCH_BN_TRAIN = "        model.train()  # BatchNorm: the batch's statistics; each step's pass updates the running ones\n"


def is_cured(config: Config) -> bool:
    """Whether ``config``'s network has normalization layers or residual blocks."""
    return config.normalization is not None or config.residual


def omitted(config: Config, field: str) -> bool:
    """Whether a script's ``wil.Config(...)`` leaves ``field`` out: a cure field at its default."""
    return field in CURE_FIELDS and getattr(config, field) == getattr(Config, field)


def architecture(config: Config) -> str:
    """The network in words for a script's header, a paragraph ("" for a plain MLP, whose header says it)."""
    if not is_cured(config):
        return ""
    return _wrap("The network: " + describe_architecture(config.depth, config.normalization, config.residual)
                 + ".", "") + "\n"


def _wrap(text: str, pad: str, width: int = 104) -> str:
    """``text`` wrapped at about ``width`` columns, each line after ``pad``."""
    return textwrap.fill(text, width, initial_indent=pad, subsequent_indent=pad, break_on_hyphens=False)


def torch_sections(config: Config, name: str, params: dict, lsuv_call: str) -> dict[str, str]:
    """The PyTorch template's network fields: ``network``, ``more_imports``, ``eval_mode``, ``train_mode``."""
    activation_module = get_activation(config.activation).export.pytorch
    if not is_cured(config):
        network = templates.TORCH_PLAIN_NETWORK.substitute(activation=config.activation, lsuv_call=lsuv_call,
                                                           activation_module=activation_module)
        return dict(network=network, more_imports="", eval_mode="", train_mode="")
    rule, formula, factors = _rule(config, name, params)
    role_body = "\n".join(f"    {'if' if i == 0 else 'elif'} role == \"{role}\":\n        {line}"
                          for i, (role, line) in enumerate(
                              (role, rule.pytorch_layer(role, n_blocks(config.depth), params)) for role in factors))
    network = cure_templates.TORCH_NETWORK.substitute(
        _common(config, name, params, bool(factors)), norm_module=_TORCH_NORMS[config.normalization],
        activation_module=activation_module, alpha_trained=_alpha(name, params)[1],
        role_call="\n        init_role_(linear, role)" if factors else "")
    if factors:
        network = network.rstrip("\n") + cure_templates.TORCH_ROLE.substitute(formula=formula, body=role_body) \
            + "\n\n\n"
    batch = config.normalization == "batch"
    return dict(network=network, more_imports="import copy\n", eval_mode=_TORCH_BN_EVAL if batch else "",
                train_mode=_TORCH_BN_TRAIN if batch else "")


def keras_sections(config: Config, name: str, params: dict, lsuv_call: str) -> dict[str, str]:
    """The Keras template's network field: ``network``."""
    activation_keras = get_activation(config.activation).export.keras
    if not is_cured(config):
        return dict(network=templates.KERAS_PLAIN_NETWORK.substitute(
            activation=config.activation, activation_keras=activation_keras, lsuv_call=lsuv_call))
    rule, formula, factors = _rule(config, name, params)
    blocks = n_blocks(config.depth)
    role_body = "\n".join(f"    if role == \"{role}\":\n        {_comment_above(rule.keras_layer(role, blocks, params))}"
                          for role in factors)
    kernel = "role_kernel_initializer(fan_in, fan_out, {})" if factors else "kernel_initializer(fan_in, fan_out)"
    network = cure_templates.KERAS_NETWORK.substitute(
        _common(config, name, params, bool(factors)), norm_layer=_KERAS_NORMS[config.normalization],
        norm_note=_KERAS_BN_NOTE if config.normalization == "batch" else "",
        activation_keras=activation_keras, alpha_trained=_alpha(name, params)[1],
        kernel_call=kernel.format("role"), output_kernel_call=kernel.format(f'"{OUTPUT}"'))
    if factors:
        network = network.rstrip("\n") + cure_templates.KERAS_ROLE.substitute(formula=formula, body=role_body) \
            + "\n\n\n"
    return dict(network=network)


def _comment_above(line: str) -> str:
    """``code  # comment`` as the comment, then the code on the next line (of a block indented by 8)."""
    code, _, comment = line.partition("  # ")
    if len(code) > 90 and ", mode=" in code:  # a long call: its keywords on a second line
        code = code.replace(", mode=", ",\n            mode=", 1)
    return f"# {comment}\n        {code}" if comment else code


def _rule(config: Config, name: str, params: dict):
    """The initializer's rule for residual networks (None for an ordinary one), its formula, and the roles of
    this network whose factor on the draw is not 1, in the order of the layers."""
    rule = get_initializer(name).residual
    if rule is None or not config.residual:
        return rule, "", []
    blocks, roles = n_blocks(config.depth), layer_roles(config.depth, True)
    factors = [role for role in dict.fromkeys(roles) if rule.layer_factor(role, blocks, params) != 1.0]
    formula = f'"""{rule.formula}: each role\'s factor on the draw above."""'
    return rule, _wrap(formula, "    ").lstrip(), factors


def _alpha(name: str, params: dict) -> tuple[str, str]:
    """The blocks' scalar at initialization (source) and whether it is trained ("True"/"False")."""
    rule = get_initializer(name).residual
    if rule is None:  # a plain residual network: h + branch(h)
        return "1.0", "False"
    return num(rule.branch_scalar(params)), str(rule.scalar_trained)


def _common(config: Config, name: str, params: dict, roles: bool) -> dict[str, str]:
    """The fields both flavours' cure sections share."""
    alpha, trained = _alpha(name, params)
    if get_initializer(name).residual is None:
        alpha_text = "1, not trained: the plain residual network h + branch(h)"
    else:
        alpha_text = f"{alpha} at first, {'trained' if trained == 'True' else 'not trained'} ({name})"
    text = describe_architecture(config.depth, config.normalization, config.residual)
    return dict(architecture=_wrap(f"# {text[0].upper()}{text[1:]}.", "# ")[2:],
                normalization="None" if config.normalization is None else f'"{config.normalization}"',
                residual=repr(config.residual),
                roles=cure_templates.ROLES, activation=config.activation, alpha=alpha,
                alpha_text=f"each block's scalar alpha: {alpha_text}" if config.residual else "no blocks here",
                role_text="\n    Then each layer's weights times its role's factor (below)." if roles else "")

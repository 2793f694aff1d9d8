"""The network sections of the scripts ``wil.export.codegen`` writes for a network with normalization layers
or residual blocks (``Config(normalization=..., residual=...)``): ``string.Template`` bodies filled by
``wil.export.cures``. A plain MLP's sections are ``wil.export.templates``' own, unchanged.

The network is ``wil.spec.residual``'s, written out: hidden layer ``l`` computes a linear output ``h``, its
normalization ``N`` (the identity without one) and the activation ``f``; in a residual network, layer 1 is the
projection that starts the stream of linear outputs, and each block's last layer adds its branch, times the
block's scalar ``alpha``, to the stream (He et al. 2016's pre-activation block: the stream never goes through
``f``).
"""

from __future__ import annotations

from string import Template

# The roles of the hidden layers, as ``wil.spec.residual.layer_roles`` gives them, computed in the script.
ROLES = '''def layer_roles():
    """Each hidden layer's role: "plain"; or, in a residual network, the "projection", then blocks of two
    layers, "branch_first" and "branch_last" (the last block has one when DEPTH - 1 is odd)."""
    if not RESIDUAL:
        return ["plain"] * DEPTH
    return ["projection"] + ["branch_first" if layer % 2 == 0 and layer < DEPTH else "branch_last"
                             for layer in range(2, DEPTH + 1)]'''


TORCH_NETWORK = Template('''# ---------------------------------------------------------------- the network
$architecture
NORMALIZATION = $normalization  # before each hidden layer's activation: None, "batch" or "layer"
RESIDUAL = $residual  # a projection layer, then residual blocks of two layers


$roles


class Network(nn.Module):
    """DEPTH hidden layers of WIDTH $activation units (linear, normalization, activation) and a linear output
    layer. In a residual network each block's last layer adds its linear output, times the block's scalar
    alpha, to the stream of linear outputs h, which never goes through the activation."""

    def __init__(self, sizes):
        super().__init__()
        self.roles = layer_roles()
        self.linears = nn.ModuleList(nn.Linear(fan_in, fan_out, dtype=DTYPE)
                                     for fan_in, fan_out in zip(sizes[:-1], sizes[1:]))
        self.norms = nn.ModuleList(make_norm() for _ in range(DEPTH))
        self.activation = $activation_module
        blocks = self.roles.count("branch_last")
        # $alpha_text
        self.alphas = nn.Parameter(torch.full((blocks,), $alpha, dtype=DTYPE), requires_grad=$alpha_trained)

    def forward(self, x, activations=None):
        """The output; each hidden layer's activation is appended to ``activations`` if given."""
        stream, block = None, 0
        for linear, norm, role in zip(self.linears, self.norms, self.roles):
            h = linear(x)
            if role == "branch_last":  # the block's end: the stream plus the branch times alpha
                h = stream + self.alphas[block] * h
                block += 1
            if role in ("projection", "branch_last"):
                stream = h
            x = self.activation(norm(h))
            if activations is not None:
                activations.append(x)
        return self.linears[-1](x)


def make_norm():
    """A hidden layer's normalization."""
    return $norm_module


def build_network(X_train, n_outputs, seed=SEED):
    """The network above, each layer initialized as above.$role_text"""
    torch.manual_seed(seed)
    model = Network([X_train.shape[1]] + [WIDTH] * DEPTH + [n_outputs])
    for linear, role in zip(model.linears, model.roles + ["output"]):
        init_layer_(linear)$role_call
    return model


@torch.no_grad()
def activation_stds(model, X):
    """Each hidden layer's activation std over all examples and units (wil's act_std), then the output's.
    BatchNorm uses the batch's statistics, as wil's record does; on a copy, whose running statistics the pass
    may update while the model's stay as they are."""
    model = copy.deepcopy(model).train()
    activations = []
    output = model(X, activations)
    return [a.std(correction=0).item() for a in activations + [output]]


''')


# The factor of each layer's role on top of the draw (Fixup's zeros and scaled branches).
TORCH_ROLE = Template('''


@torch.no_grad()
def init_role_(linear, role):
    $formula
    w = linear.weight
$body''')


KERAS_NETWORK = Template('''# ---------------------------------------------------------------- the network
$architecture
NORMALIZATION = $normalization  # before each hidden layer's activation: None, "batch" or "layer"
RESIDUAL = $residual  # a projection layer, then residual blocks of two layers


$roles


class BranchScalar(keras.layers.Layer):
    """alpha * x, one scalar per block."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # $alpha_text
        self.alpha = self.add_weight(shape=(), initializer=keras.initializers.Constant($alpha),
                                     trainable=$alpha_trained, name="alpha")

    def call(self, x):
        return self.alpha * x


def make_norm(layer):
    """The normalization of hidden layer ``layer`` (1-based).$norm_note"""
    return $norm_layer


def build_network(X_train, n_outputs, seed=SEED):
    """DEPTH hidden layers of WIDTH $activation units (linear, normalization, activation) and a linear output
    layer, initialized as above. In a residual network each block's last layer adds its linear output,
    times alpha, to the stream of linear outputs h, which never goes through the activation.$role_text"""
    keras.utils.set_random_seed(seed)
    sizes = [X_train.shape[1]] + [WIDTH] * DEPTH + [n_outputs]
    inputs = keras.Input((sizes[0],))
    x, stream = inputs, None
    for layer, role in enumerate(layer_roles(), start=1):
        fan_in, fan_out = sizes[layer - 1], sizes[layer]
        h = keras.layers.Dense(fan_out, kernel_initializer=$kernel_call,
                               bias_initializer=bias_initializer(fan_in, fan_out))(x)
        if role == "branch_last":  # the block's end: the stream plus the branch times alpha
            h = keras.layers.Add()([stream, BranchScalar()(h)])
        if role in ("projection", "branch_last"):
            stream = h
        x = keras.layers.Activation($activation_keras, name=f"activation_{layer}")(make_norm(layer)(h))
    fan_in, fan_out = sizes[-2], sizes[-1]
    outputs = keras.layers.Dense(fan_out, name="output",
                                 kernel_initializer=$output_kernel_call,
                                 bias_initializer=bias_initializer(fan_in, fan_out))(x)
    return keras.Model(inputs, outputs)


def activation_stds(model, X):
    """Each hidden layer's activation std over all examples and units (wil's act_std), then the output's.
    BatchNorm uses the batch's statistics, as wil's record does (the moving statistics are put back after)."""
    names = [f"activation_{layer}" for layer in range(1, DEPTH + 1)] + ["output"]
    probe = keras.Model(model.inputs, [model.get_layer(name).output for name in names])
    weights = model.get_weights()
    stds = [float(np.std(keras.ops.convert_to_numpy(a))) for a in probe(X, training=True)]
    model.set_weights(weights)
    return stds


''')


# The kernel initializer of a layer whose role changes the draw (Fixup's zeros and scaled branches).
KERAS_ROLE = Template('''


def role_kernel_initializer(fan_in, fan_out, role):
    $formula
$body
    return kernel_initializer(fan_in, fan_out)''')

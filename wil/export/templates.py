"""The text of the scripts ``wil.codegen`` writes: ``string.Template`` bodies with ``$name`` fields.

Kept apart from the logic that fills them (``wil.codegen``), so each reads as the Python it becomes.
A template's fields are filled only with registry keys, numbers and code that ``wil.codegen`` writes.
"""

from __future__ import annotations

from string import Template

KERAS_ACTIVATION_CODE = {
    "leaky_relu": '''def leaky_relu(z):
    """max(0.01 z, z), as wil and PyTorch: Keras' own leaky_relu defaults to a slope of 0.2."""
    return keras.activations.leaky_relu(z, negative_slope=0.01)''',
    "gelu": '''def gelu_tanh(z):
    """GELU's tanh approximation, written out (keras.activations.gelu's default form differs by version)."""
    inner = math.sqrt(2.0 / math.pi) * (z + 0.044715 * z ** 3)
    return 0.5 * z * (1.0 + keras.ops.tanh(inner))''',
}


TORCH_HELPERS = {  # name -> helper function, $correction: wil.spec.initializers.TRUNCATED_STD_CORRECTION
    "truncated": Template('''def keras_truncated_normal_(w, std):
    """Keras' truncated normal, as wil draws it: N(0, sigma^2) cut at +-2 sigma, with sigma chosen so that
    the cut distribution has exactly the std ``std`` (0.8796 is the std of a unit normal cut at +-2)."""
    sigma = std / $correction
    return nn.init.trunc_normal_(w, mean=0.0, std=sigma, a=-2.0 * sigma, b=2.0 * sigma)'''),
}


TORCH_LSUV = Template('''


@torch.no_grad()
def lsuv_(model, X, tol=$tol, max_iter=$max_iter, scale=$scale):
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
        linear.weight *= scale''')

TORCH = Template('''$header

import math

import numpy as np
$data_imports
import torch
from torch import nn

SEED = $seed  # the data, the split, the mini-batch order and the weights
DEPTH, WIDTH = $depth, $width  # hidden layers, units in each
EPOCHS = $epochs
LEARNING_RATE = $learning_rate
BATCH_SIZE = $batch_size  # None: full batch, one step per epoch
DTYPE = torch.$dtype


# ---------------------------------------------------------------- data: as wil.load_dataset
$data_code


# ---------------------------------------------------------------- the initializer: $label
@torch.no_grad()
def init_layer_(linear):
    $docstring
    w, b = linear.weight, linear.bias
    fan_out, fan_in = w.shape  # PyTorch stores a layer's weights as (fan_out, fan_in)
$init_body$helpers$lsuv


# ---------------------------------------------------------------- the network
def build_network(X_train, n_outputs, seed=SEED):
    """DEPTH hidden layers of WIDTH $activation units and a linear output layer, initialized as above."""
    torch.manual_seed(seed)
    sizes = [X_train.shape[1]] + [WIDTH] * DEPTH + [n_outputs]
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = nn.Linear(fan_in, fan_out, dtype=DTYPE)
        init_layer_(linear)
        layers.append(nn.Sequential(linear, $activation_module) if i < DEPTH else linear)
    model = nn.Sequential(*layers)$lsuv_call
    return model


@torch.no_grad()
def activation_stds(model, X):
    """Each layer's output std over all examples and units (wil's act_std); the last is the output layer."""
    stds, a = [], X
    for layer in model:
        a = layer(a)
        stds.append(a.std(correction=0).item())
    return stds


LOSS = $loss


@torch.no_grad()
def evaluate(model, X, y):
    """Loss and accuracy (NaN for regression) of ``model`` on ``(X, y)``."""
    output = model(X)
    return LOSS(output, y).item(), $accuracy


def train(model, X_train, y_train, X_test, y_test):
    """EPOCHS epochs of $optimizer_text, on wil's mini-batch order."""
$optimizer_note
    optimizer = $optimizer
    shuffle = np.random.default_rng([SEED, 1])  # wil's mini-batch order
    n_train = X_train.shape[0]
    for epoch in range(1, EPOCHS + 1):
        if BATCH_SIZE is None:
            batches = [slice(None)]
        else:
            order = torch.from_numpy(shuffle.permutation(n_train))
            batches = [order[start:start + BATCH_SIZE] for start in range(0, n_train, BATCH_SIZE)]
        for rows in batches:
            optimizer.zero_grad()
            loss = LOSS(model(X_train[rows]), y_train[rows])
            if not loss.item() <= $loss_bound:  # wil stops a network whose loss passes $loss_bound or is NaN
                print(f"diverged in epoch {epoch}: loss {loss.item():.3g}")
                return
            loss.backward()
            optimizer.step()
        if epoch % max(1, EPOCHS // 10) == 0:
            test_loss, test_accuracy = evaluate(model, X_test, y_test)
            print(f"epoch {epoch:5d}  test loss {test_loss:.4f}  test accuracy {test_accuracy:.4f}")


def main():
    X_train, X_test, y_train, y_test = (torch.from_numpy(array) for array in load_data())
    X_train, X_test = X_train.to(DTYPE), X_test.to(DTYPE)
$targets
    model = build_network(X_train, n_outputs)
    print("epoch 0 activation std per layer (the last is the output layer):")
    for layer, std in enumerate(activation_stds(model, X_train), start=1):
        print(f"  layer {layer}: {std:.6g}")
    train(model, X_train, y_train, X_test, y_test)
    test_loss, test_accuracy = evaluate(model, X_test, y_test)
    print(f"final test loss: {test_loss:.6g}")
    print(f"final test accuracy: {test_accuracy:.4f}")


if __name__ == "__main__":
    main()
''')


KERAS_LSUV = Template('''


def lsuv(model, X, tol=$tol, max_iter=$max_iter, scale=$scale):
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
        layer.set_weights([W * scale, b])''')

KERAS_ADAM = '''

class WilAdam(keras.optimizers.Optimizer):
    """Adam as wil and torch.optim.Adam: p -= lr * m_hat / (sqrt(v_hat) + 1e-8). Keras' own Adam adds its
    epsilon (default 1e-7) to sqrt(v) before the bias correction, a slightly different step."""

    def __init__(self, learning_rate):
        super().__init__(learning_rate=learning_rate, name="wil_adam")

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.m = [self.add_variable_from_reference(v, name="m") for v in variables]
        self.v = [self.add_variable_from_reference(v, name="v") for v in variables]

    def update_step(self, gradient, variable, learning_rate):
        ops = keras.ops
        i = self._get_variable_index(variable)
        m, v = self.m[i], self.v[i]
        gradient = ops.cast(gradient, variable.dtype)
        lr = ops.cast(learning_rate, variable.dtype)
        t = ops.cast(self.iterations + 1, variable.dtype)
        self.assign(m, ops.add(ops.multiply(m, 0.9), ops.multiply(gradient, 0.1)))
        self.assign(v, ops.add(ops.multiply(v, 0.999), ops.multiply(ops.square(gradient), 0.001)))
        m_hat = ops.divide(m, ops.subtract(1.0, ops.power(ops.cast(0.9, variable.dtype), t)))
        v_hat = ops.divide(v, ops.subtract(1.0, ops.power(ops.cast(0.999, variable.dtype), t)))
        self.assign_sub(variable, ops.divide(ops.multiply(lr, m_hat), ops.add(ops.sqrt(v_hat), 1e-8)))'''


KERAS = Template('''$header

import math

import keras
import numpy as np
$data_imports

SEED = $seed  # the data, the split, the mini-batch order and the weights
DEPTH, WIDTH = $depth, $width  # hidden layers, units in each
EPOCHS = $epochs
LEARNING_RATE = $learning_rate
BATCH_SIZE = $batch_size  # None: full batch, one step per epoch
keras.config.set_floatx("$dtype")


# ---------------------------------------------------------------- data: as wil.load_dataset
$data_code


# ---------------------------------------------------------------- the initializer: $label
def kernel_initializer(fan_in, fan_out):
    $docstring
$kernel_body


def bias_initializer(fan_in, fan_out):
    """The biases' initializer."""
$bias_body$lsuv$activation_code


# ---------------------------------------------------------------- the network
def build_network(X_train, n_outputs, seed=SEED):
    """DEPTH hidden layers of WIDTH $activation units and a linear output layer, initialized as above."""
    keras.utils.set_random_seed(seed)
    sizes = [X_train.shape[1]] + [WIDTH] * DEPTH + [n_outputs]
    model = keras.Sequential([keras.Input((sizes[0],))])
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        model.add(keras.layers.Dense(fan_out, activation=$activation_keras if i < DEPTH else None,
                                     kernel_initializer=kernel_initializer(fan_in, fan_out),
                                     bias_initializer=bias_initializer(fan_in, fan_out)))$lsuv_call
    return model


def activation_stds(model, X):
    """Each layer's output std over all examples and units (wil's act_std); the last is the output layer."""
    stds, a = [], X
    for layer in model.layers:
        a = keras.ops.convert_to_numpy(layer(a))
        stds.append(float(np.std(a)))
    return stds


LOSS = $loss


def evaluate(model, X, y):
    """Loss and accuracy (NaN for regression) of ``model`` on ``(X, y)``."""
    output = keras.ops.convert_to_numpy(model(X, training=False))
    loss = float(keras.ops.convert_to_numpy(LOSS(y, output)))
    return loss, $accuracy
$adam

def train(model, X_train, y_train, X_test, y_test):
    """EPOCHS epochs of $optimizer_text, on wil's mini-batch order."""
$optimizer_note
    model.compile(optimizer=$optimizer, loss=LOSS)
    shuffle = np.random.default_rng([SEED, 1])  # wil's mini-batch order
    n_train = X_train.shape[0]
    for epoch in range(1, EPOCHS + 1):
        if BATCH_SIZE is None:
            batches = [slice(None)]
        else:
            order = shuffle.permutation(n_train)
            batches = [order[start:start + BATCH_SIZE] for start in range(0, n_train, BATCH_SIZE)]
        for rows in batches:
            loss = float(np.asarray(model.train_on_batch(X_train[rows], y_train[rows])).ravel()[0])
            if not loss <= $loss_bound:  # wil stops a network whose loss passes $loss_bound or is NaN
                print(f"diverged in epoch {epoch}: loss {loss:.3g}")
                return
        if epoch % max(1, EPOCHS // 10) == 0:
            test_loss, test_accuracy = evaluate(model, X_test, y_test)
            print(f"epoch {epoch:5d}  test loss {test_loss:.4f}  test accuracy {test_accuracy:.4f}")


def main():
    X_train, X_test, y_train, y_test = load_data()
    X_train, X_test = X_train.astype("$dtype"), X_test.astype("$dtype")
$targets
    model = build_network(X_train, n_outputs)
    print("epoch 0 activation std per layer (the last is the output layer):")
    for layer, std in enumerate(activation_stds(model, X_train), start=1):
        print(f"  layer {layer}: {std:.6g}")
    train(model, X_train, y_train, X_test, y_test)
    test_loss, test_accuracy = evaluate(model, X_test, y_test)
    print(f"final test loss: {test_loss:.6g}")
    print(f"final test accuracy: {test_accuracy:.4f}")


if __name__ == "__main__":
    main()
''')


WIL = Template('''$header

import numpy as np
$data_imports

import wil

SEED = $seed
CONFIG = $config_call


# ---------------------------------------------------------------- data: what wil.load_dataset does
$data_code


def main():
    # the scikit-learn data above is exactly what wil trains on
    X_train, X_test, y_train, y_test = load_data()
    data = wil.load_dataset(CONFIG.dataset, CONFIG.n_samples, CONFIG.noise, CONFIG.seed)
    assert np.array_equal(X_train, data.X_train) and np.array_equal(X_test, data.X_test)
    assert np.array_equal(y_train, data.y_train) and np.array_equal(y_test, data.y_test)

$formula
    print(wil.INITIALIZERS["$name"].description)
    result = wil.train(CONFIG)  # or wil.compare(CONFIG, initializers=[...], seeds=[0, 1, 2])

    epoch0 = result.layers[result.layers["epoch"] == 0]
    print("epoch 0 activation std per layer (the last is the output layer):")
    for layer, std in zip(epoch0["layer"], epoch0["act_std"]):
        print(f"  layer {layer}: {std:.6g}")
    status = result.status.iloc[0]
    if status["diverged"]:
        print(status["reason"])
    print(f"final test loss: {status['final_test_loss']:.6g}")
    print(f"final test accuracy: {status['final_test_accuracy']:.4f}")


if __name__ == "__main__":
    main()
''')

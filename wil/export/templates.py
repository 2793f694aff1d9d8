"""The text of the scripts ``wil.export.codegen`` writes: ``string.Template`` bodies with ``$name`` fields.

Kept apart from the logic that fills them (``wil.export.codegen``), so each reads as the Python it becomes.
A template's fields are filled only with registry keys, numbers, and the code the registry entries carry
(``export``: an initializer's lines and helpers, an activation's module, an optimizer's constructor).
"""

from __future__ import annotations

from string import Template

TORCH = Template('''$header

${more_imports}import math

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
$init_body$helpers


${network}LOSS = $loss


@torch.no_grad()
def evaluate(model, X, y):
    """Loss and accuracy (NaN for regression) of ``model`` on ``(X, y)``."""
${eval_mode}    output = model(X)
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
${train_mode}        for rows in batches:
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
$bias_body$helpers$activation_code


${network}LOSS = $loss


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


# The network sections of the scripts for a plain MLP (``$network`` above); a network with normalization or
# residual blocks has its own (``wil.export.cure_templates``).
TORCH_PLAIN_NETWORK = Template('''# ---------------------------------------------------------------- the network
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


''')


KERAS_PLAIN_NETWORK = Template('''# ---------------------------------------------------------------- the network
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


''')

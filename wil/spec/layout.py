"""The layout of a run: every shape it records, and the bytes it holds, in one place.

Holds:

* what is recorded per layer: ``LAYER_STATS`` (and ``GRAD_NORM``, its index), the histograms'
  ``HISTOGRAM_QUANTITIES``, their ``N_BINS`` bins, the ``HISTOGRAM_ROWS`` training examples they bin;
* the decision boundary's ``GRID_SIZE`` x ``GRID_SIZE`` grid (``GRID_POINTS``);
* which epochs are recorded: ``histogram_epochs`` and ``grid_epochs`` (``snapshots`` of them, at most
  ``MAX_SNAPSHOTS``), and at most how many (``snapshot_counts``);
* how a pass is cut into blocks of rows (``row_parts``, from ``work_per_call``): a function of one
  network's shapes;
* the byte estimate of a run computed from all of the above (``run_bytes``, read by ``Config.memory``).

The engine records into arrays of these shapes, the result frames have these rows, and a server's
budgets (``wil_app/policy.py``) count them: each reads them here.
"""

from __future__ import annotations

import numpy as np

from wil.spec.optimizers import OPTIMIZERS

# ------------------------------------------------------------ what is recorded

LAYER_STATS = ("act_mean", "act_std", "dead_fraction", "saturated_fraction", "grad_norm", "weight_std",
               "distinct_units")
GRAD_NORM = LAYER_STATS.index("grad_norm")
HISTOGRAM_QUANTITIES = ("activation", "preactivation", "weight", "gradient")
N_BINS = 30  # bins of every histogram
# Training examples whose activations and pre-activations the histograms bin: the first ones, a random
# sample (the split is shuffled), the same at every epoch. Binning costs as much as a layer product.
HISTOGRAM_ROWS = 256
GRID_SIZE = 40  # decision-boundary grid points per axis
GRID_POINTS = GRID_SIZE * GRID_SIZE
HISTOGRAM_FRACTIONS = (0.1, 0.3, 0.6)  # of training, the default histogram epochs between the first and last
MAX_SNAPSHOTS = 100  # recorded epochs of histograms and boundaries: enough to animate, bounded in memory
STATISTICS_CHUNK = 1 << 22  # elements of the largest temporary a statistic makes (32 MB in float64)
# elements a per-epoch statistic takes at once (a layer or a network at least): its temporaries stay in the
# cache between the pass that writes them and the one that reads them (at width 256, 1.8x faster than
# STATISTICS_CHUNK), and a small network's layers still go in one call
STATISTICS_BLOCK = 1 << 19


def histogram_epochs(epochs: int, snapshots: int | None = None) -> list[int]:
    """The epochs whose histograms are recorded: by default epoch 0, the last, and three in between (10%,
    30%, 60% of training); with ``snapshots``, that many evenly spaced from 0 to the last (fewer if there
    are fewer epochs), enough to animate training."""
    if snapshots is None:
        return sorted({0, epochs, *(int(round(epochs * f)) for f in HISTOGRAM_FRACTIONS)})
    return sorted({int(round(e)) for e in np.linspace(0, epochs, max(2, int(snapshots)))})


def grid_epochs(epochs: int, snapshots: int | None = None) -> list[int]:
    """The epochs whose decision boundary is recorded: 0 and the last, or the ``snapshots`` of
    ``histogram_epochs``."""
    return [0, epochs] if snapshots is None else histogram_epochs(epochs, snapshots)


def snapshot_counts(snapshots: int | None = None) -> tuple[int, int]:
    """At most how many epochs of histograms and of decision boundaries a run records (fewer when it has
    fewer epochs): ``(5, 2)`` by default, ``(snapshots, snapshots)`` otherwise."""
    if snapshots is None:
        return 2 + len(HISTOGRAM_FRACTIONS), 2
    return snapshots, snapshots


# ------------------------------------------------------------ blocks of rows

ROW_SPLIT_WORK = 3e6  # multiply-adds per NumPy call from which a single network's passes are cut into blocks
ROW_PARTS = 2  # blocks of rows a single network's passes are cut into
EPOCH_CALLS, LAYER_CALLS = 60, 5  # NumPy calls per epoch besides the layers, and per layer of a pass


def work_per_call(n_networks: int, width: int, depth: int, n_train: int, n_test: int,
                  batch_size: int | None) -> float:
    """Multiply-adds of the hidden layers' products per NumPy call, over one epoch: the record pass over
    the training set (forward, and backward in full batch, where it is the step), the test pass and the
    mini-batch steps (forward and backward), against ``EPOCH_CALLS`` calls per epoch (loss,
    statistics, optimizer) and ``LAYER_CALLS`` per layer of each pass (product, bias, activation)."""
    if batch_size is None or batch_size >= n_train:
        rows, passes = 3 * n_train + n_test, 3  # a backward pass makes two products per layer
    else:
        rows, passes = n_train + n_test + 3 * n_train, 2 + 2 * -(-n_train // batch_size)
    return n_networks * width * width * depth * rows / (EPOCH_CALLS + LAYER_CALLS * depth * passes)


def row_parts(width: int, depth: int, n_train: int, n_test: int, batch_size: int | None) -> int:
    """Blocks of rows each pass of one network of these shapes is cut into: ``ROW_PARTS`` from
    ``ROW_SPLIT_WORK`` multiply-adds per NumPy call (``work_per_call`` of one network), else 1. It reads
    one network's shapes only, so a network is cut the same way alone or in any comparison."""
    work = work_per_call(1, width, depth, n_train, n_test, batch_size)
    return ROW_PARTS if work >= ROW_SPLIT_WORK else 1


# ------------------------------------------------------------ bytes

# bytes per row of each result frame as pandas builds it (columns, index, and the copy a filter makes);
# measured on float64 runs with tracemalloc, rounded up
HISTORY_ROW_BYTES, LAYERS_ROW_BYTES, HISTOGRAM_ROW_BYTES, GRID_ROW_BYTES = 90, 200, 150, 130
FIXED_BYTES = 64 << 20  # scikit-learn's and pandas' working memory for a small run, whatever its shape
# the sum in run_bytes was within 0.99-1.31 of the measured peak on runs of 0.6-2 GB
# (benchmarks/bench_research.py): the margin keeps the estimate above it
MARGIN = 1.15


def run_bytes(*, n_networks: int, n_train: int, n_test: int, n_features: int, n_outputs: int, depth: int,
              width: int, epochs: int, itemsize: int, optimizer: str, diagnostics: bool, row_parts: int = 1,
              grid: bool = False, snapshots: int | None = None, cures: bool = False) -> dict[str, float]:
    """The arrays a run holds, in bytes, by what they are for; ``peak`` is the largest total at one time.

    Training holds the parameters (and their float64 draws while they are stacked), the optimizer's
    buffers (``Optimizer.buffers``), the pass buffers of every layer and the diagnostics' temporaries,
    beside the records. Building the result then holds the records and the frames made of them.
    """
    K, rows = float(n_networks), float(max(n_train, n_test, 1))
    histogram_count, grid_count = snapshot_counts(snapshots)
    # one network's weights (and biases) over layers of sizes n_features, width x depth, n_outputs: in
    # closed form, so that a deep network (depth 10**6 is valid) is sized at once
    weights_one = n_features * width + (depth - 1) * width * width + width * n_outputs
    weights, parameters = K * weights_one, K * (weights_one + depth * width + n_outputs)
    layers, recorded, quantities = depth + 1, epochs + 1, len(HISTOGRAM_QUANTITIES)
    hidden = K * rows * width  # one hidden layer's activations for every network
    # one quantity's copies at a time
    histogram_values = max(depth * K * min(n_train, HISTOGRAM_ROWS) * width, weights)
    buffers = OPTIMIZERS[optimizer].buffers if optimizer in OPTIMIZERS else 2
    histogram_cells = histogram_count * quantities * layers * K * N_BINS
    grid_cells = grid_count * K * GRID_POINTS
    parts = {
        "data": 8.0 * (n_train + n_test) * n_features * 4,  # generated, split, scaled, cast
        # the stack, a copy per group of networks trained on its own thread, and the float64 draws
        "parameters": parameters * (2 * itemsize + 2 * 8),
        # the optimizer's buffers, its scratch, and the finite-gradient mask
        "optimizer": parameters * (itemsize * (buffers + 1) + 1),
        # pre-activations and activations of every layer, two deltas, a scratch, the output, gradients
        # (one stack per block of rows) and the transposed weights
        # (``cures``: normalization or residual blocks keep three more arrays per layer, wil.engine.cures)
        "passes": itemsize * (hidden * (2 * depth + 3 + (3 * depth if cures else 0)) + K * rows * n_outputs
                              + parameters * (row_parts + 1)),
        # statistics' temporaries (a layer or a chunk of layers, the squared weights), the histograms'
        # copies of one quantity and their binning's temporaries (positions, bins, edge tests)
        "diagnostics": (itemsize * (min(depth * hidden, max(STATISTICS_CHUNK, hidden)) + weights
                                    + histogram_values)
                        + 40.0 * min(STATISTICS_CHUNK, histogram_values) if diagnostics else 0.0),
        "records": 8.0 * K * recorded * 4
        + (8.0 * K * recorded * layers * len(LAYER_STATS) + 24.0 * histogram_cells if diagnostics else 0.0)
        + (16.0 * grid_cells if grid else 0.0),
        "frames": HISTORY_ROW_BYTES * K * recorded * 2
        + (LAYERS_ROW_BYTES * K * recorded * layers + HISTOGRAM_ROW_BYTES * histogram_cells if diagnostics else 0.0)
        + (GRID_ROW_BYTES * grid_cells if grid else 0.0),
    }
    training = sum(parts[key] for key in ("data", "parameters", "optimizer", "passes", "diagnostics", "records"))
    building = parts["data"] + parts["records"] + parts["frames"]
    parts["peak"] = FIXED_BYTES + MARGIN * max(training, building)
    return parts

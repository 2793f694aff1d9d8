"""``Result``: what a run recorded, as tidy pandas DataFrames (one row per observation)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataclasses import dataclass, field, fields

import numpy as np

from wil.spec.config import Config

if TYPE_CHECKING:
    import pandas as pd  # imported where used: it takes longer to import than the rest of wil
from wil.spec.datasets import Dataset
from wil.spec.layout import LAYER_STATS
from wil.spec.residual import block_layers
from wil.engine.checkpoint import Checkpoint
from wil.engine.record import Records


@dataclass
class Result:
    """The frames of one run. Every frame names each network by ``initializer`` (its label) and ``seed``.

    Attributes
    ----------
    history : initializer, seed, epoch, split ("train"/"test"), loss, accuracy (NaN for regression)
    layers : initializer, seed, epoch, layer, act_mean, act_std, dead_fraction, saturated_fraction,
        grad_norm, weight_std, distinct_units. Layers are 1..depth, the output layer depth + 1.
        Epoch e is the state after e epochs. Activation statistics come from a pass over the whole
        training split; ``grad_norm`` is the norm of the loss gradient at that epoch's weights, over the
        whole training split in full batch, else over the next step's mini-batch (the gradient the
        optimizer uses; after the last epoch, the first mini-batch of one more epoch's order), NaN
        for a network stopped by that epoch's record (and it has no gradient histogram there).
    histograms : initializer, seed, epoch, layer, quantity ("activation", "preactivation", "weight",
        "gradient"), bin_left, bin_right, count. Activations and pre-activations are binned over the
        first ``wil.spec.layout.HISTOGRAM_ROWS`` (256) training examples, a random sample; gradients are
        those of ``grad_norm``.
    status : initializer, seed, diverged (bool), diverged_epoch (NA if none), reason, final_train_loss,
        final_test_loss, final_train_accuracy, final_test_accuracy
    grid : initializer, seed, epoch, x1, x2, prediction, probability (2-D datasets; epoch 0 and last, or
        the ``snapshots`` of ``wil.compare``)
    points : x1, x2, target, split (2-D datasets), the data the grid is drawn over
    config : the Config of the run
    stopped_epoch : the last epoch trained when the run was stopped early (``wil.StopTraining``), else None
    scalars : residual networks (``Config.residual``): initializer, seed, epoch, block, layer (the hidden layer
        that closes the block), alpha (the block's branch scalar; fixed at 1 but for fixup, skipinit and
        rezero); None otherwise. Not saved by ``Result.save``.
    checkpoint : the networks' parameters, optimizer buffers and random streams at the last epoch, which
        ``wil.resume`` continues from; None for a live view. Not saved by ``Result.save``.

    ``verdicts()`` names what happened to each network, from these frames (see ``wil.verdicts``).

    A network that diverged keeps its rows up to its ``diverged_epoch`` and none after; a stopped run
    keeps its rows up to ``stopped_epoch``.
    """

    config: Config
    history: pd.DataFrame
    layers: pd.DataFrame
    histograms: pd.DataFrame
    status: pd.DataFrame
    grid: pd.DataFrame
    points: pd.DataFrame
    stopped_epoch: int | None = None
    scalars: pd.DataFrame | None = None
    # what ``wil.resume`` continues from (wil.engine.checkpoint.Checkpoint): None for a live view or a loaded file
    checkpoint: Checkpoint | None = field(default=None, repr=False, compare=False)
    # by -> the verdicts, judged once (``verdicts``); a new Result (``dataclasses.replace``) judges anew
    _verdicts: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def resumable(self) -> bool:
        """Whether ``wil.resume`` can continue this result: it carries its training state (not a live view
        or a loaded file) and at least one network is still live."""
        return self.checkpoint is not None and bool(self.checkpoint.groups)

    @property
    def labels(self) -> list[str]:
        """The initializers' labels, in the order they were given."""
        return list(self.status["initializer"].cat.categories)

    @property
    def diverged(self) -> pd.DataFrame:
        """The rows of ``status`` for networks that diverged."""
        return self.status[self.status["diverged"]]

    def verdicts(self, by: str = "network") -> pd.DataFrame:
        """Each network's verdict (symmetric, exploding, dead, vanishing, saturated, learned or slow) with its
        evidence and a sentence, or each initializer's over its seeds (``by="initializer"``); see
        ``wil.verdicts``. Judged once per ``by`` and kept (a copy is returned): a Result's frames are its
        run's, so a changed frame belongs in a new Result (``dataclasses.replace``), which judges anew."""
        from wil.analysis.verdicts import verdicts

        if by not in self._verdicts:
            self._verdicts[by] = verdicts(self, by=by)
        return self._verdicts[by].copy()


# the frames of a Result, in their order: its fields of type DataFrame (what ``Result.save`` writes)
FRAMES = tuple(f.name for f in fields(Result) if f.type == "pd.DataFrame")

def _network_columns(records: Records, index: np.ndarray) -> dict:
    """initializer (ordered categorical) and seed columns for network indices ``index``."""
    import pandas as pd

    n_seeds = len(records.seeds)
    labels = pd.Categorical.from_codes(index // n_seeds, categories=records.labels, ordered=True)
    return {"initializer": labels, "seed": np.asarray(records.seeds)[index % n_seeds]}


def _final_epoch(records: Records) -> int:
    """The last epoch the run trained: its last, or where it was stopped."""
    epochs = records.history.shape[1] - 1
    return epochs if records.stopped_epoch is None else min(records.stopped_epoch, epochs)


def _last_epoch(records: Records) -> np.ndarray:
    """(K,) the last epoch whose per-layer records are valid for each network."""
    epochs = _final_epoch(records)
    last = np.where(records.diverged_epoch >= 0, records.diverged_epoch, epochs)
    return last - records.stopped_mid_epoch


def build_result(config: Config, data: Dataset, records: Records, checkpoint: Checkpoint | None = None) -> Result:
    """Turn the loop's arrays into a ``Result`` of tidy frames (``checkpoint``: what ``wil.resume`` needs)."""
    K, n_epochs = records.history.shape[:2]
    last_valid = _last_epoch(records)
    history = _history_frame(records)
    layers = _layers_frame(records, last_valid)
    return Result(config, history, layers, _histograms_frame(records, last_valid), _status_frame(records),
                  _grid_frame(records, last_valid), _points_frame(data), records.stopped_epoch,
                  _scalars_frame(config, records, last_valid), checkpoint)


def _scalars_frame(config: Config, records: Records, last_valid: np.ndarray) -> pd.DataFrame | None:
    """The residual blocks' scalars epoch by epoch (None without residual blocks)."""
    import pandas as pd

    if records.scalars is None:
        return None
    closing = np.array([last + 1 for last, _ in block_layers(config.depth)])
    K, n_epochs, blocks = records.scalars.shape
    k, epoch, block = (a.ravel() for a in np.indices((K, n_epochs, blocks)))
    frame = pd.DataFrame({**_network_columns(records, k), "epoch": epoch, "block": block + 1,
                          "layer": closing[block], "alpha": records.scalars.ravel()})
    final = np.maximum(last_valid, np.where(records.diverged_epoch >= 0, records.diverged_epoch, last_valid))
    return frame[epoch <= final[k]].reset_index(drop=True)


def _history_frame(records: Records) -> pd.DataFrame:
    import pandas as pd

    values = records.history.copy()
    mid = np.flatnonzero(records.stopped_mid_epoch)
    # a network stopped mid-epoch: its row at that epoch holds the loss that exploded, nothing else
    values[mid, records.diverged_epoch[mid]] = np.nan
    values[mid, records.diverged_epoch[mid], 0, 0] = records.exploded_loss[mid]
    K, n_epochs = values.shape[:2]
    k, epoch, split = (a.ravel() for a in np.indices((K, n_epochs, 2)))
    frame = pd.DataFrame({**_network_columns(records, k), "epoch": epoch,
                          "split": pd.Categorical.from_codes(split, ["train", "test"]),
                          "loss": values[..., 0].ravel(), "accuracy": values[..., 1].ravel()})
    final = np.where(records.diverged_epoch >= 0, records.diverged_epoch, _final_epoch(records))
    return frame[frame["epoch"].to_numpy() <= final[k]].reset_index(drop=True)


def _layers_frame(records: Records, last_valid: np.ndarray) -> pd.DataFrame:
    import pandas as pd

    columns = ["initializer", "seed", "epoch", "layer", *LAYER_STATS]
    if records.layers is None:
        return pd.DataFrame(columns=columns)
    K, n_epochs, n_layers, _ = records.layers.shape
    k, epoch, layer = (a.ravel() for a in np.indices((K, n_epochs, n_layers)))
    stats = records.layers.reshape(-1, len(LAYER_STATS))
    frame = pd.DataFrame({**_network_columns(records, k), "epoch": epoch, "layer": layer + 1,
                          **{name: stats[:, i] for i, name in enumerate(LAYER_STATS)}})
    frame["distinct_units"] = frame["distinct_units"].astype("Int64")
    return frame[epoch <= last_valid[k]].reset_index(drop=True)


def _histograms_frame(records: Records, last_valid: np.ndarray) -> pd.DataFrame:
    import pandas as pd

    columns = ["initializer", "seed", "epoch", "layer", "quantity", "bin_left", "bin_right", "count"]
    if not records.histograms:
        return pd.DataFrame(columns=columns)
    epochs, layers, quantities, counts, lefts, rights = zip(*records.histograms)
    K, n_bins = counts[0].shape
    per_part = K * n_bins  # rows of one (epoch, layer, quantity)
    k = np.tile(np.repeat(np.arange(K), n_bins), len(epochs))
    epoch = np.repeat(np.asarray(epochs), per_part)
    # a histogram no pass recorded keeps the sink's NaN edges: the gradient of a network that diverged at
    # an epoch's record, before the next mini-batch would have given it (a recorded one has finite edges)
    recorded = np.isfinite(np.concatenate(lefts, axis=None))
    keep = (epoch <= last_valid[k]) & recorded
    return pd.DataFrame({
        **_network_columns(records, k[keep]), "epoch": epoch[keep],
        "layer": np.repeat(np.asarray(layers), per_part)[keep],
        "quantity": np.repeat(np.asarray(quantities, dtype=object), per_part)[keep],
        "bin_left": np.concatenate(lefts, axis=None)[keep], "bin_right": np.concatenate(rights, axis=None)[keep],
        "count": np.concatenate(counts, axis=None)[keep]})


def _status_frame(records: Records) -> pd.DataFrame:
    import pandas as pd

    K, n_epochs = records.history.shape[:2]
    k = np.arange(K)
    diverged = records.diverged_epoch >= 0
    # final = the last recorded epoch before stopping
    final = np.where(diverged, np.maximum(_last_epoch(records), 0), _final_epoch(records))
    history = records.history[k, final]  # (K, split, metric)
    return pd.DataFrame({
        **_network_columns(records, k),
        "diverged": diverged,
        "diverged_epoch": pd.array([int(e) if e >= 0 else pd.NA for e in records.diverged_epoch], dtype="Int64"),
        "reason": records.reason,
        "final_train_loss": history[:, 0, 0], "final_test_loss": history[:, 1, 0],
        "final_train_accuracy": history[:, 0, 1], "final_test_accuracy": history[:, 1, 1],
    })


def _grid_frame(records: Records, last_valid: np.ndarray) -> pd.DataFrame:
    import pandas as pd

    columns = ["initializer", "seed", "epoch", "x1", "x2", "prediction", "probability"]
    if records.grid_points is None or not records.grid:
        return pd.DataFrame(columns=columns)
    epochs = sorted(records.grid)
    K, m = records.grid[epochs[0]][0].shape
    k = np.tile(np.repeat(np.arange(K), m), len(epochs))
    epoch = np.repeat(epochs, K * m)
    keep = epoch <= last_valid[k]
    n_copies = K * len(epochs)
    return pd.DataFrame({
        **_network_columns(records, k[keep]), "epoch": epoch[keep],
        "x1": np.tile(records.grid_points[:, 0], n_copies)[keep],
        "x2": np.tile(records.grid_points[:, 1], n_copies)[keep],
        "prediction": np.concatenate([records.grid[e][0] for e in epochs], axis=None)[keep],
        "probability": np.concatenate([records.grid[e][1] for e in epochs], axis=None)[keep]})


def _points_frame(data: Dataset) -> pd.DataFrame:
    import pandas as pd

    if data.n_features != 2:
        return pd.DataFrame(columns=["x1", "x2", "target", "split"])
    return pd.DataFrame({
        "x1": np.concatenate([data.X_train[:, 0], data.X_test[:, 0]]),
        "x2": np.concatenate([data.X_train[:, 1], data.X_test[:, 1]]),
        "target": np.concatenate([data.y_train, data.y_test]),
        "split": ["train"] * len(data.y_train) + ["test"] * len(data.y_test),
    })


class _Accessor:
    """A property made by ``register_accessor``: ``result.<name>`` is ``factory(result)``."""

    def __init__(self, name: str, factory):
        self.name, self.factory = name, factory
        self.__doc__ = factory.__doc__

    def __get__(self, result, owner=None):
        return self if result is None else self.factory(result)


def register_accessor(name: str):
    """Register ``factory(result)`` as the attribute ``Result.<name>``, as pandas registers ``df.plot``:
    the layers above (``wil.charts``: ``res.plot``; ``wil.export``: ``res.save``) extend ``Result`` from
    their own side, so this module imports no charts and no io."""
    def decorator(factory):
        setattr(Result, name, _Accessor(name, factory))
        return factory
    return decorator

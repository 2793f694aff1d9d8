"""What "learned" and "trainable" mean: two criteria, side by side, each defined once.

They answer different questions, so a network may pass one and fail the other:

* ``LEARNED`` measures **generalization**, on the test split: the final test accuracy removed at least
  ``LEARNED.share`` (half) of chance's errors, chance being the majority class's share of the test split
  (``chance_accuracy``). The verdicts (``Result.verdicts``, the app's explorer) read it.
* ``TRAINABLE`` measures **optimization**, on the training split, as the papers on signal propagation
  measure it (Schoenholz et al. 2017): the network did not diverge and its final training accuracy is at
  least ``TRAINABLE.share`` (half) of the way from 1/classes to 1. The sweeps' ``trainable`` column and
  the phase diagram read it.

``TRAINABLE_LAST10`` is ``TRAINABLE`` read on the mean training accuracy of the last 10 epochs instead of
the final one: the criterion of the ``schoenholz2017`` sweep protocol (``wil.sweep.protocols``), robust to
SGD's oscillations, which flip a final-epoch verdict with the stopping epoch. ``LEARNED`` (test split) and
the ``TRAINABLE`` pair (training split) do not mean the same thing, so neither replaces the other.

For regression the targets are standardized on the training split, so the best constant guess has a
loss of about 1: ``LEARNED`` asks for a final test loss at most 1 - share, ``TRAINABLE`` for a final
training loss at most (1 - share) times the initial one.

Each criterion carries a one-sentence ``definition`` that a page can show beside what it measured.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Callable

import numpy as np

from wil.spec.checks import ArgumentTypeError, shown
from wil.spec.config import Config
from wil.spec.datasets import DATASETS, check_dataset, load_dataset

LEARNED_SHARE = 0.5  # learned: the share of chance's errors (or of the target's variance) removed on the test split
TRAINABLE_SHARE = 0.5  # trainable: the share of the way from 1/classes to 1 reached on the training split


@dataclasses.dataclass(frozen=True)
class Criterion:
    """A yes-or-no judgement of one network, with the words that say what it measures.

    Attributes
    ----------
    name : ``"learned"`` or ``"trainable"``.
    measures : ``"generalization"`` (test split) or ``"optimization"`` (training split).
    share : the share of the way from chance to perfect that the network must reach.
    definition : one sentence for a page, e.g. the app's explorer or phase diagram.
    holds : the judgement itself, from numbers (see ``learned`` and ``trainable``).
    """

    name: str
    measures: str
    share: float
    definition: str
    holds: Callable[..., bool]

    def threshold(self, chance: float) -> float:
        """The accuracy that passes, given chance's: ``chance + share * (1 - chance)``."""
        return chance + self.share * (1.0 - chance)


def is_missing(value) -> bool:
    """None, NA or NaN: a number that was not measured (a criterion never holds on one)."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN is the one value unequal to itself
    except TypeError:  # pandas.NA: its truth value is ambiguous
        return True


def learned(test_accuracy: float, test_loss: float, chance: float | None) -> bool:
    """Whether a network generalized: see ``LEARNED``.

    Parameters
    ----------
    test_accuracy : final accuracy on the test split (ignored for regression).
    test_loss : final loss on the test split (read for regression only).
    chance : the majority class's share of the test split (``chance_accuracy``); None or NaN for
        regression.

    Returns
    -------
    bool : False when the number it reads is missing.
    """
    if is_missing(chance):  # regression: against the standardized target's variance, 1
        return not is_missing(test_loss) and test_loss <= 1.0 - LEARNED_SHARE
    return not is_missing(test_accuracy) and test_accuracy >= LEARNED.threshold(chance)


def trainable(diverged: bool, train_accuracy: float, train_loss: float, initial_loss: float,
              n_classes: int | None) -> bool:
    """Whether a network's training succeeded: see ``TRAINABLE``.

    Parameters
    ----------
    diverged : the training loop stopped it (never trainable).
    train_accuracy : final accuracy on the training split (classification).
    train_loss, initial_loss : final and epoch-0 losses on the training split (regression).
    n_classes : the task's classes; None for regression.

    Returns
    -------
    bool
    """
    if diverged:
        return False
    if n_classes is not None:
        return bool(train_accuracy >= TRAINABLE.threshold(1.0 / n_classes))
    return bool(train_loss <= (1.0 - TRAINABLE_SHARE) * initial_loss)


def dataset_classes(dataset: str) -> int | None:
    """The classes of a registered dataset (its outputs), None for regression: ``trainable``'s chance."""
    spec = DATASETS[check_dataset("dataset", dataset)]
    return spec.n_outputs if spec.task == "classification" else None


LEARNED = Criterion(
    "learned", "generalization", LEARNED_SHARE,
    f"Learned (generalization, on the test split): the final test accuracy is at least "
    f"{LEARNED_SHARE:.0%} of the way from chance (the majority class's share of the test split) to 100%, "
    f"e.g. 75% on two balanced classes; for regression, a final test loss of at most {1 - LEARNED_SHARE:g} "
    f"(the standardized target's variance is 1).",
    learned)
TRAINABLE = Criterion(
    "trainable", "optimization", TRAINABLE_SHARE,
    f"Trainable (optimization, on the training split, as the papers measure it): the network did not "
    f"diverge and its final training accuracy is at least {TRAINABLE_SHARE:.0%} of the way from "
    f"1/classes to 100%, e.g. 75% on two classes; for regression, a final training loss of at most "
    f"{1 - TRAINABLE_SHARE:g} times the initial one.",
    trainable)


TRAINABLE_LAST10 = Criterion(
    "trainable", "optimization", TRAINABLE_SHARE,
    f"Trainable (optimization, on the training split): the network did not diverge and its training "
    f"accuracy, averaged over the last 10 epochs, is at least {TRAINABLE_SHARE:.0%} of the way from "
    f"1/classes to 100% (10% to 55% on ten classes); for regression, as the final-epoch criterion.",
    trainable)


def chance_accuracy(config) -> float:
    """Share of the majority class in the test split of ``config``'s data (``LEARNED``'s chance); NaN for
    regression.

    Parameters
    ----------
    config : wil.Config

    Returns
    -------
    float
    """
    if not isinstance(config, Config):
        raise ArgumentTypeError(f"Invalid config: expected a wil.Config, got {shown(config)}")
    if DATASETS[config.dataset].task != "classification":
        return np.nan
    return float(class_shares(config.dataset, config.n_samples, config.noise, config.seed)[1].max())


@functools.lru_cache(maxsize=32)
def class_shares(dataset: str, n_samples: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) class shares, each (n_classes,), of the same split the training loop makes
    (rebuilt with ``load_dataset``: milliseconds, cached).

    ``Result.points`` holds the split only for 2-D data, and the epoch-0 accuracy is not chance (an
    untrained network can be anti-correlated), hence the rebuild.
    """
    data = load_dataset(dataset, n_samples, noise, seed)
    return tuple(np.bincount(y, minlength=data.n_classes) / len(y) for y in (data.y_train, data.y_test))

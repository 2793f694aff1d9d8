"""The rules of the verdicts: which one word names what happened to a network, and the thresholds.

Each rule reads a network's evidence (``wil.analysis.evidence``: one dict of numbers). The first rule
that holds decides, in this order (``PRECEDENCE``):

1. ``symmetric``: every hidden layer has 1 distinct unit at the end (and width > 1). The units of a
   layer compute the same thing and get the same gradient, so they stay identical forever (zeros,
   constant): nothing later can undo it, so it is named first.
2. ``exploding``: the network diverged (the training loop stopped it: loss past ``wil.LOSS_BOUND``,
   infinite or NaN); or at epoch 0 the deepest hidden layer's activation std is more than
   ``SIGNAL_EXPLODED`` (1e3) times layer 1's, or layer 1's weight gradient norm more than
   ``GRADIENT_EXPLODED`` (1e3) times the output layer's (BatchNorm without skip connections: Yang et al.
   2019); or the loss blew up late: the final training loss is at
   least ``LOSS_BLOWUP`` (3) times its lowest and at least ``WORSE_THAN_GUESSING`` (1.25) times the loss
   of guessing the base rates (``guess_loss``: ln 2 for two balanced classes, 1 for regression). A network
   that learned and was then thrown out of range by a step (measured: Glorot on the demo, seed 1, training
   loss 0.17 at epoch 145, 1.04 at epoch 150, test accuracy 95% then 50%, in float32 and float64 alike).
3. ``dead``: at the end some hidden layer has every ReLU unit dead (it outputs zero for every example: the
   layers above see a constant and no gradient reaches below), or at least ``DEAD_SHARE`` (0.6) of all
   hidden units are dead. Before ``vanishing``, because a dead layer also makes the signal ratio 0.
4. ``vanishing``: at epoch 0 the deepest hidden layer's activation std is below ``SIGNAL_VANISHED``
   (1e-3) of layer 1's, or layer 1's weight gradient norm is below ``GRADIENT_VANISHED`` (1e-3) of the
   output layer's.
5. ``saturated``: at epoch 0 at least ``SATURATED_SHARE`` (0.25) of the (example, unit) values of the
   hidden layers sit in the flat tails of tanh/sigmoid/softsign (derivative under 5% of its maximum).
6. ``learned``: ``wil.criteria.LEARNED`` holds (generalization: the final test accuracy removed at
   least half of chance's errors, chance being the majority class's share of the test split: 75% on two
   balanced classes, 55% on ten; for regression a final test loss of at most 0.5, i.e. R^2 of about 0.5).
7. ``slow``: none of the above; it trained, but not enough.

Why these values (all measured with the app's lessons and the papers' configurations, 5 seeds; see
tests/test_verdicts.py):

- Signal ratios, 1e-3 and 1e3: Glorot init with ReLU halves the signal's variance per layer, so 30
  layers leave 2^-14.5 = 4e-5 of it (measured 2e-6 to 8e-5, Glorot uniform and normal, 8 seeds), std 0.01
  at 8 layers 1e-10; He's finite-width fluctuations at 30 layers went as low as 0.046 and as high as 1.8.
  1e-3 sits a factor of twelve from Glorot's highest and 46 from He's lowest. Below it, the gradient
  reaching layer 1 is scaled alike, so the first layers learn a thousand times slower than the last.
  std 1 with ReLU at 8 layers gives 8e3 to 2e4.
- Gradient ratio above 1e3: a 60-layer ReLU network with BatchNorm and no skip connections measured
  2.6e4 to 6.6e4 at epoch 0 (its forward signal keeps its scale, ratio ~1), with skips 1.2 to 3.7, plain
  He 0.04 to 1.1 (3 seeds each); the ReLU networks that learn above, at most 4.
- The other cures at 60 ReLU layers (the lesson "The other cures", seeds 0-4, tests/test_cures_lesson.py):
  a residual network with He weights and no normalization adds each branch's variance to the stream's,
  signal ratio 5e3 to 1e5 at epoch 0, then NaN at epoch 1 (``exploding``); Fixup, SkipInit and ReZero start
  every block as the identity, signal ratio exactly 1. Fixup's output layer starts at zero, so no gradient
  reaches below it at epoch 0: its gradient ratio is not measured (``evidence``), not "vanishing".
- Gradient ratio, 1e-3: catches networks whose forward signal keeps its scale while the backward one
  shrinks. Sigmoid's slope is at most 1/4 (the activation Glorot & Bengio 2010 found hardest to train):
  with Glorot's scale at 5 layers layer 1 gets 1e-4 of the output layer's gradient norm (measured), with
  std 0.01 1e-9 to 1e-8; ReLU networks that learn (Glorot and He at 8 layers, He and LSUV at 30)
  measured 0.05 to 4.
- Dead share, 0.6: at He init a finite-width ReLU layer has up to half its units dead in the deep layers
  (He at 30 layers: per layer up to 0.59, over the network up to 0.31; LSUV up to 0.47); 0.6 means more
  than half the network contributes nothing whatever the input. A whole dead layer always counts.
- Saturated share, 0.25: a value in the tails passes under 5% of the gradient, so with a share s the
  backward signal keeps at most 1 - 0.95 s per layer: 0.76 at s = 0.25, 0.1 after eight layers.
  Measured at epoch 0: tanh with std 1, 0.52 to 0.61; sigmoid with std 4, 0.67; sigmoid with std 1,
  0.09 to 0.15 (it learns); He with tanh 0.02; Glorot 0.
- Learned, half of chance's errors: on 100 test points of two balanced classes chance has a standard
  deviation of 5 points, so 75% is five of them away; and "learned" should mean most of the task, not
  a trace of it.
- Late blow-up, 3x its lowest and 1.25x guessing: a learning network's loss fluctuates by tens of percent,
  not threefold; and a network that fell back to chance ends at the guessing loss (measured: He at 30
  layers on circles, lr 0.05, bouncing between 0.2 and 0.75 and ending at 1.00x of ln 2), which is
  ``slow``, with the lowest loss in its sentence. Confidently wrong, a quarter above guessing, is blown up.

Saturation and the signal ratios are read at epoch 0: they are what the initialization did (training
may saturate units on purpose). Symmetry and dead units are read at the end: they are permanent. A
pathology is named even where training later overcame it (a vanishing network may reach 90%): the
sentence then gives the accuracy too.

Chance accuracy: see ``wil.analysis.criteria.chance_accuracy``.
"""

from __future__ import annotations

from wil.analysis.criteria import LEARNED, is_missing

# The order in which rules are tried; the first that holds is the verdict (see the module docstring).
PRECEDENCE = ("symmetric", "exploding", "dead", "vanishing", "saturated", "learned", "slow")
# exploding: epoch-0 act_std of the deepest hidden layer over layer 1's above this (std 1 ReLU: ~1e4)
SIGNAL_EXPLODED = 1e3
# exploding: the final training loss at least this many times its lowest, and ...
LOSS_BLOWUP = 3.0
# ... at least this many times the loss of guessing the base rates (confidently wrong, not back at chance)
WORSE_THAN_GUESSING = 1.25
# dead: share of all hidden ReLU units dead at the end at or above this (He at 30 layers: up to 0.31)
DEAD_SHARE = 0.6
# exploding: epoch-0 weight-gradient norm of layer 1 over the output layer's above this (BatchNorm, 60 ReLU: 3e4)
GRADIENT_EXPLODED = 1e3
# vanishing: epoch-0 act_std of the deepest hidden layer over layer 1's below this (Glorot, 30 ReLU: 4e-5)
SIGNAL_VANISHED = 1e-3
# vanishing: epoch-0 weight-gradient norm of layer 1 over the output layer's below this (Glorot sigmoid: 1e-4)
GRADIENT_VANISHED = 1e-3
# saturated: mean share of hidden (example, unit) values in the flat tails at epoch 0 (tanh std 1: 0.55)
SATURATED_SHARE = 0.25


def classify(evidence: dict) -> str:
    """The verdict of one network from its evidence (a row of ``network_verdicts``): the first rule of
    ``PRECEDENCE`` that holds. Missing evidence (NaN, NA, None) never makes a rule hold.

    Parameters
    ----------
    evidence : dict with the columns of ``wil.analysis.evidence.EVIDENCE_COLUMNS``.

    Returns
    -------
    str : one of ``PRECEDENCE``.
    """
    evidence = filled(evidence)
    for verdict in PRECEDENCE[:-1]:
        if RULES[verdict](evidence):
            return verdict
    return "slow"


def _symmetric(e: dict) -> bool:
    return e["width"] > 1 and e["distinct_units"] == 1


def _exploding(e: dict) -> bool:
    return bool(diverged(e) or e["signal_ratio"] > SIGNAL_EXPLODED or e["gradient_ratio"] > GRADIENT_EXPLODED
                or _blew_up(e))


def _blew_up(e: dict) -> bool:
    """The training loss fell, then rose to well above what guessing the base rates gives."""
    return bool(e["final_loss"] >= LOSS_BLOWUP * e["lowest_loss"]
                and e["final_loss"] >= WORSE_THAN_GUESSING * e["guess_loss"])


def _dead(e: dict) -> bool:
    return e["dead_layers"] >= 1 or e["dead_fraction"] >= DEAD_SHARE


def _vanishing(e: dict) -> bool:
    return e["signal_ratio"] < SIGNAL_VANISHED or e["gradient_ratio"] < GRADIENT_VANISHED


def _saturated(e: dict) -> bool:
    return e["saturated_fraction"] >= SATURATED_SHARE


def _learned(e: dict) -> bool:
    return LEARNED.holds(e["final_test_accuracy"], e["final_test_loss"], e["chance_accuracy"])


# verdict -> whether its rule holds for a network's evidence (``slow`` is what is left)
RULES = {"symmetric": _symmetric, "exploding": _exploding, "dead": _dead, "vanishing": _vanishing,
         "saturated": _saturated, "learned": _learned}


def diverged(e: dict) -> bool:
    """The training loop stopped the network."""
    return not is_missing(e["diverged_epoch"])


def filled(evidence: dict) -> dict:
    """``evidence`` with NA and None as NaN, which fails every comparison."""
    return {key: float("nan") if is_missing(value) else value for key, value in evidence.items()}

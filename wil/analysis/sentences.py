"""The verdicts in words: one sentence per network, "<name>: <verb>, <evidence>", and one over its seeds."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from wil.analysis.criteria import LEARNED, is_missing
from wil.analysis.rules import (GRADIENT_EXPLODED, GRADIENT_VANISHED, LOSS_BLOWUP, SIGNAL_EXPLODED,
                                SIGNAL_VANISHED, classify, diverged, filled)
from wil.spec.text import format_scientific

# verb of each verdict, for sentences: "<name>: <verb>, <evidence>" (a vanishing gradient says so instead)
VERBS = {"symmetric": "stuck", "exploding": "exploded", "dead": "died", "vanishing": "the signal vanished",
         "saturated": "saturated", "learned": "learned", "slow": "slow"}
# the test accuracy's peak over epochs is said beside its final value when it is this much higher (30 ReLU
# layers, Glorot: the curve spikes to ~90% and ends at 50%); a test split of 100 points has ~5 points of noise
PEAK_GAP = 0.15
LISTED_OTHERS = 3  # seeds that disagree with the majority, listed by name in the sentence over seeds


def describe(e: dict, verdict: str | None = None) -> str:
    """The plain-words part of a network's sentence, after its name: verb, then evidence.

    Parameters
    ----------
    e : the network's evidence (a row of ``network_verdicts``).
    verdict : its verdict; defaults to ``classify(e)``.

    Returns
    -------
    str : e.g. ``"died, 70% of the units never fire (2 of 8 layers entirely), test accuracy 50%"``.
    """
    e = filled(e)
    verdict = str(verdict) if verdict is not None else classify(e)
    return _SAYINGS[verdict](e, VERBS[verdict], _outcome(e)) + _despite(e, verdict)


def _despite(e: dict, verdict: str) -> str:
    """The reason a failure's mark sits beside an accuracy that passes ``LEARNED`` (maybe above a ✓'s): the
    verdict names what the initialization did, and training overcame it."""
    if verdict in ("learned", "slow") or not LEARNED.holds(e["final_test_accuracy"], e["final_test_loss"],
                                                           e["chance_accuracy"]):
        return ""
    return "; it learned all the same (training overcame the start)"


def _symmetric(e: dict, verb: str, accuracy: str) -> str:
    return (f"{verb}, every unit of a layer identical ({_whole(e['distinct_units'])} distinct of "
            f"{_whole(e['width'])}), {accuracy}")


def _exploding(e: dict, verb: str, accuracy: str) -> str:
    # a residual network without normalization: each block adds its branch's variance to the stream's
    why = ("; the residual branches' variances add up, block after block"
           if e.get("residual") is True and e.get("normalization") == "none" else "")
    if diverged(e):
        grew = (f" (layer {e['depth']}'s activations {format_scientific(e['signal_ratio'])} times layer 1's at the "
                "start)" if why and e["signal_ratio"] > SIGNAL_EXPLODED else "")
        return f"{verb}, {_reason(e)}{why}{grew}"
    if e["signal_ratio"] > SIGNAL_EXPLODED:
        return (f"{verb}, layer {e['depth']}'s activations are {format_scientific(e['signal_ratio'])} times "
                f"layer 1's at the start{why}, {accuracy}")
    if e["gradient_ratio"] > GRADIENT_EXPLODED:
        why = (" (BatchNorm without skip connections makes gradients explode with depth)"
               if e.get("normalization") == "batch" and e.get("residual") is False else "")
        return (f"{verb} backwards, layer 1's gradient is {format_scientific(e['gradient_ratio'])} times the "
                f"output layer's at the start{why}, {accuracy}")
    return (f"{verb}, the loss rose from {measured(e['lowest_loss'])} at epoch {_whole(e['lowest_loss_epoch'])} "
            f"to {measured(e['final_loss'])} at the end, {accuracy}")


def _dead(e: dict, verb: str, accuracy: str) -> str:
    layers = f" ({_whole(e['dead_layers'])} of {e['depth']} layers entirely)" if e["dead_layers"] >= 1 else ""
    return f"{verb}, {percent(e['dead_fraction'])} of the units never fire{layers}, {accuracy}"


def _vanishing(e: dict, verb: str, accuracy: str) -> str:
    if e["gradient_ratio"] < GRADIENT_VANISHED and not e["signal_ratio"] < SIGNAL_VANISHED:
        if e["gradient_ratio"] == 0:  # underflowed to exactly zero: "0e0 of" would read as a typo
            return f"the gradient vanished, layer 1's gradient is exactly 0 (the output layer's is not), {accuracy}"
        return (f"the gradient vanished, layer 1's gradient is {format_scientific(e['gradient_ratio'])} of the "
                f"output layer's, {accuracy}")
    if e["signal_ratio"] == 0:
        return f"{verb}, layer {e['depth']}'s activations are all exactly 0 (layer 1's are not), {accuracy}"
    return (f"{verb}, layer {e['depth']}'s activations are {format_scientific(e['signal_ratio'])} of layer 1's, "
            f"{accuracy}")


def _saturated(e: dict, verb: str, accuracy: str) -> str:
    return (f"{verb}, {percent(e['saturated_fraction'])} of the {e['activation']} values in the flat "
            f"tails at the start, {accuracy}")


def _learned(e: dict, verb: str, accuracy: str) -> str:
    return f"{verb}, {_outcome(e, short=True)}"


def _slow(e: dict, verb: str, accuracy: str) -> str:
    chance = "" if is_missing(e["chance_accuracy"]) else f" (chance {percent(e['chance_accuracy'])})"
    fell = ""
    if e["final_loss"] >= LOSS_BLOWUP * e["lowest_loss"]:
        fell = (f"; its training loss had fallen to {measured(e['lowest_loss'])} at epoch "
                f"{_whole(e['lowest_loss_epoch'])} and ended at {measured(e['final_loss'])}")
    return f"{verb}, {accuracy} after {e['epochs']} epochs{chance}{fell}"


# verdict -> its sentence from (evidence, verb, "test accuracy 95%")
_SAYINGS = {"symmetric": _symmetric, "exploding": _exploding, "dead": _dead, "vanishing": _vanishing,
            "saturated": _saturated, "learned": _learned, "slow": _slow}


def _whole(value) -> str:
    """An integer count for a sentence, "?" if missing."""
    return "?" if is_missing(value) else str(int(value))


def _outcome(e: dict, short: bool = False) -> str:
    """"test accuracy 95%" (or "95%" if ``short``); for regression the test loss against 1."""
    if not is_missing(e["chance_accuracy"]):
        final, peak, chance = e["final_test_accuracy"], e.get("peak_test_accuracy", float("nan")), e["chance_accuracy"]
        if _peaked(e, final, peak):  # what the curve shows: it learned on the way, then lost it
            return (f"{'' if short else 'test accuracy '}ended at {percent(final)}, peaked at {percent(peak)} "
                    f"at epoch {_whole(e.get('peak_test_epoch'))}")
        below = f", below chance ({percent(chance)})" if final <= chance - PEAK_GAP else ""
        return percent(final) + below if short else f"test accuracy {percent(final)}{below}"
    return f"test loss {measured(e['final_test_loss'])} (the target's variance is 1)"


def _peaked(e: dict, final: float, peak: float) -> bool:
    """The test accuracy passed ``LEARNED`` after epoch 0 and ended ``PEAK_GAP`` or more below that peak."""
    epoch = e.get("peak_test_epoch")
    return (not is_missing(peak) and not is_missing(final) and not is_missing(epoch) and epoch > 0
            and peak - final >= PEAK_GAP and LEARNED.holds(peak, float("nan"), e["chance_accuracy"]))


def _reason(e: dict) -> str:
    """The training loop's reason for stopping, tightened: "loss past 1e6 at epoch 1"."""
    reason = str(e["reason"] or f"diverged at epoch {int(e['diverged_epoch'])}")
    reason = reason.replace("loss exploded past", "loss past")
    return re.sub(r"(\d)e\+?0*(\d+)", r"\1e\2", reason)


def percent(value: float) -> str:
    """0.953 -> "95%"."""
    return "NaN%" if is_missing(value) else f"{100 * value:.0f}%"


def measured(value: float) -> str:
    """A measured number to two significant digits, its trailing zeros kept as its precision: 0.14, 1.0,
    0.010, 42; scientific (``format_scientific``) outside [1e-3, 1e5): 1e6."""
    if is_missing(value):
        return "NaN"
    if value == 0:
        return "0"
    if not 1e-3 <= abs(value) < 1e5:
        return format_scientific(value)
    return f"{value:.0f}" if abs(value) >= 10 else f"{value:#.2g}".rstrip(".")


# ---------------------------------------------------------------- over seeds

def over_seeds(seeds: pd.DataFrame, majority: str, n_agree: int) -> str:
    """"He normal: learned in 2 of 3 seeds, test accuracy 93-96%; seed 1 slow, test accuracy 61% ..."."""
    records = seeds.to_dict("records")
    if len(records) == 1:
        return records[0]["sentence"]
    agreeing = [r for r in records if str(r["verdict"]) == majority]
    # the seed whose accuracy is the median of the majority speaks for it
    agreeing.sort(key=lambda r: (np.nan_to_num(r["final_test_accuracy"], nan=-1.0), r["seed"]))
    typical = agreeing[(len(agreeing) - 1) // 2]
    verb, _, evidence = describe(typical, majority).partition(", ")
    if majority == "learned" or (majority == "slow" and not is_missing(typical["chance_accuracy"])):
        evidence = _accuracy_range(agreeing) or evidence
    head = f"{records[0]['name']}: {verb} in {n_agree} of {len(records)} seeds"
    if evidence:
        head += f", {evidence}" if n_agree == 1 or majority in ("learned", "slow") else f", e.g. {evidence}"
    others = [r for r in records if str(r["verdict"]) != majority]
    listed = [f"seed {r['seed']} {describe(r, r['verdict'])}" for r in others[:LISTED_OTHERS]]
    if len(others) > LISTED_OTHERS:
        listed.append(f"{len(others) - LISTED_OTHERS} more")
    return "; ".join([head, *listed])


def _accuracy_range(records: list[dict]) -> str:
    """"test accuracy 93-96%" over ``records`` (one value if they agree), "" for regression."""
    if is_missing(records[0]["chance_accuracy"]):
        return ""
    values = sorted(round(100 * r["final_test_accuracy"]) for r in records if not is_missing(r["final_test_accuracy"]))
    if not values:
        return ""
    span = f"{values[0]}%" if values[0] == values[-1] else f"{values[0]}–{values[-1]}%"
    return f"test accuracy {span}"

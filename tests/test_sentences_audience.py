"""Issue 17, "verdicts an audience believes": a failure's mark never sits beside an accuracy that passes
``LEARNED`` without the reason in the same sentence, and the final accuracy is said beside the curve's
peak when the curve the audience sees ends far below it ("ended at 50%, peaked at 89% at epoch 137")."""

from __future__ import annotations

import dataclasses

import pytest

import wil
from wil.analysis import sentences
from wil.analysis.rules import classify
from wil.analysis.verdicts import network_verdicts

DEMO = wil.Config(dataset="moons", n_samples=400, noise=0.2, depth=8, width=32, epochs=150, learning_rate=0.05)


def evidence(**changes) -> dict:
    """One real network's evidence (He normal on a small run), with ``changes``."""
    config = wil.Config(dataset="moons", n_samples=200, depth=3, width=8, epochs=20)
    row = network_verdicts(wil.compare(config, initializers=["he_normal"])).iloc[0].to_dict()
    return {**row, **changes}


def test_a_failure_that_learned_anyway_says_why_in_the_same_line():
    e = evidence(gradient_ratio=1e-5, final_test_accuracy=0.93, peak_test_accuracy=0.94, peak_test_epoch=20)
    assert classify(e) == "vanishing"
    text = sentences.describe(e)
    assert "test accuracy 93%" in text and "it learned all the same" in text, text
    # below LEARNED's 75% on two balanced classes: no such clause
    e["final_test_accuracy"] = 0.6
    assert "learned all the same" not in sentences.describe(e)


def test_the_sentence_says_where_the_curve_peaked_when_it_ended_far_below():
    e = evidence(signal_ratio=4e-5, final_test_accuracy=0.5, peak_test_accuracy=0.89, peak_test_epoch=137)
    assert sentences.describe(e).endswith("test accuracy ended at 50%, peaked at 89% at epoch 137")
    # a peak at epoch 0 (an untrained network's luck) or one that never passed LEARNED is not news
    for peak, epoch in ((0.89, 0), (0.70, 40)):
        e.update(peak_test_accuracy=peak, peak_test_epoch=epoch)
        assert "peaked" not in sentences.describe(e)


def test_worse_than_chance_is_said_as_such():
    e = evidence(gradient_ratio=1e-4, final_test_accuracy=0.24, peak_test_accuracy=0.5, peak_test_epoch=0)
    assert "test accuracy 24%, below chance (50%)" in sentences.describe(e)


def test_no_cross_beside_a_higher_accuracy_than_a_tick_without_a_reason():
    """Sigmoid on the demo (Glorot: the gradient vanished, yet it learns) and tanh (std 1 saturated)."""
    for activation in ("sigmoid", "tanh"):
        frame = wil.compare(dataclasses.replace(DEMO, activation=activation)).verdicts(by="initializer")
        ticks = frame[frame["verdict"] == "learned"]["final_test_accuracy"]
        lowest_tick = ticks.min() if len(ticks) else 1.0
        crosses = frame[~frame["verdict"].isin(["learned", "slow"])]
        for row in crosses.itertuples():
            if row.final_test_accuracy >= lowest_tick:
                assert "learned all the same" in row.sentence, row.sentence


@pytest.mark.slow
def test_the_thirty_layer_lesson_says_glorot_peaked():
    config = dataclasses.replace(DEMO, depth=30, compare=("glorot_uniform", "he_normal"))
    frame = wil.compare(config).verdicts(by="initializer")
    glorot = frame[frame["initializer"].astype(str) == "glorot_uniform"].iloc[0]
    assert "peaked at" in glorot.sentence or glorot.final_test_accuracy >= 0.75, glorot.sentence

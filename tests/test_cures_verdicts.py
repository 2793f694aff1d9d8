"""The verdicts know the other cures (issue 20): a residual network without normalization whose branches'
variances add up and explode; BatchNorm without skip connections whose gradients explode with depth (Yang et
al. 2019); Fixup, whose output layer starts at zero, is not "vanishing". Small networks of a few epochs (about
3 s); the lesson at its full size over five seeds: tests/test_cures_lesson.py."""

import dataclasses
import math

import pytest

import wil
from wil.analysis.rules import GRADIENT_EXPLODED, SIGNAL_EXPLODED, classify
from wil.analysis.sentences import describe

SMALL = wil.Config(dataset="moons", n_samples=100, depth=40, width=16, epochs=3, learning_rate=0.05)


def verdicts(config: wil.Config, initializers: list[str]):
    return wil.compare(config, initializers).verdicts().set_index("initializer")


@pytest.fixture(scope="module")
def residual():
    return verdicts(dataclasses.replace(SMALL, residual=True), ["he_normal", "fixup", "skipinit", "rezero"])


def test_a_residual_network_without_normalization_explodes_because_its_branches_add_up(residual):
    he = residual.loc["he_normal"]
    # 19 blocks, each doubling the stream's variance at He: 2^19 in variance, ~700x in std (measured 4e3)
    assert he["signal_ratio"] > SIGNAL_EXPLODED
    assert he["verdict"] == "exploding"
    assert "the residual branches' variances add up" in he["sentence"]
    assert f"layer {SMALL.depth}'s activations" in he["sentence"]


def test_fixup_skipinit_and_rezero_start_as_the_identity_and_are_not_called_vanishing(residual):
    for name in ("fixup", "skipinit", "rezero"):
        row = residual.loc[name]
        assert row["signal_ratio"] == pytest.approx(1.0)  # every block is the identity at the start
        assert row["verdict"] not in ("vanishing", "exploding"), row["sentence"]
    # Fixup's output layer starts at zero: no gradient reaches below it at epoch 0, by design, so no ratio
    assert math.isnan(residual.loc["fixup", "gradient_ratio"])


def test_batchnorm_without_skips_explodes_backwards_and_says_why():
    plain = verdicts(dataclasses.replace(SMALL, depth=50, normalization="batch"), ["he_normal"]).loc["he_normal"]
    assert plain["signal_ratio"] < 10  # the forward signal keeps its scale ...
    assert plain["gradient_ratio"] > GRADIENT_EXPLODED  # ... the backward one explodes
    assert plain["verdict"] == "exploding"
    assert "BatchNorm without skip connections makes gradients explode with depth" in plain["sentence"]
    with_skips = verdicts(dataclasses.replace(SMALL, depth=50, normalization="batch", residual=True), ["he_normal"])
    assert with_skips.loc["he_normal", "gradient_ratio"] < 10


EVIDENCE = dict(width=32, distinct_units=32, depth=60, signal_ratio=1.0, gradient_ratio=1.0, diverged_epoch=None,
                reason=None, initial_loss=0.69, lowest_loss=0.2, lowest_loss_epoch=150, final_loss=0.2,
                dead_fraction=0.1, dead_layers=0, saturated_fraction=float("nan"), final_test_accuracy=0.95,
                final_test_loss=0.2, chance_accuracy=0.5, guess_loss=0.69, epochs=150, activation="relu",
                normalization="none", residual=False)


@pytest.mark.parametrize("changes, verdict, words", [
    (dict(gradient_ratio=4e4, normalization="batch"), "exploding", "BatchNorm without skip connections"),
    (dict(gradient_ratio=4e4, normalization="batch", residual=True), "exploding", "times the output layer's"),
    (dict(diverged_epoch=1, reason="loss became NaN at epoch 1", signal_ratio=6e3, residual=True), "exploding",
     "variances add up, block after block (layer 60's activations 6e3 times layer 1's at the start)"),
    (dict(diverged_epoch=1, reason="loss became NaN at epoch 1", residual=True, normalization="batch"),
     "exploding", "loss became NaN at epoch 1"),
    (dict(gradient_ratio=float("nan"), residual=True), "learned", "learned, 95%"),
])
def test_the_rules_and_sentences_of_the_new_cases(changes, verdict, words):
    evidence = {**EVIDENCE, **changes}
    assert classify(evidence) == verdict
    sentence = describe(evidence)
    assert words in sentence
    if not (changes.get("residual") and changes.get("normalization", "none") == "none"):
        assert "variances add up" not in sentence  # only a residual network without normalization

"""The lesson "The other cures" (``wil_app/lessons.py``: ``CURES``) holds over seeds 0-4: each network of it,
trained as the page trains it (same configuration; network seeds 0-4 on the page's data), gets the verdict
the page's text gives it, in every seed. About 30 s: the slow tier."""

import pytest

import wil
from wil.analysis.rules import GRADIENT_EXPLODED
from wil_app.lessons import CURES

pytestmark = pytest.mark.slow
SEEDS = [0, 1, 2, 3, 4]


@pytest.fixture(scope="module")
def verdicts():
    return {case.title: wil.compare(case.config, seeds=SEEDS).verdicts() for case in CURES}


@pytest.mark.parametrize("case", CURES, ids=[case.title for case in CURES])
def test_each_network_gets_its_verdict_in_every_seed(verdicts, case):
    frame = verdicts[case.title]
    assert list(frame["seed"]) == SEEDS
    assert [str(v) for v in frame["verdict"]] == [case.verdict] * len(SEEDS), frame["sentence"].tolist()


def test_the_cures_learn_where_the_plain_and_the_unscaled_networks_do_not(verdicts):
    accuracy = {title: frame["final_test_accuracy"] for title, frame in verdicts.items()}
    plain, batchnorm_only, residual_he, *cured = [case.title for case in CURES]
    assert (accuracy[plain] <= 0.55).all()  # chance on two balanced classes
    assert verdicts[residual_he]["diverged_epoch"].notna().all()  # NaN after its first steps
    assert (verdicts[batchnorm_only]["gradient_ratio"] > GRADIENT_EXPLODED).all()
    for title in cured:  # residual + BatchNorm, Fixup, SkipInit, ReZero: within a few points of each other
        assert (accuracy[title] >= 0.9).all(), (title, accuracy[title].tolist())

"""Issue 17, "stop and continue": after Stop, "Train to the end" continues the stopped run from its epoch
(``wil.resume``, the same optimizer state), the page then shows what one uninterrupted run shows, and the
"Stopped by you" note goes away."""

from __future__ import annotations

import dataclasses
import html
import pathlib
import re

from streamlit.testing.v1 import AppTest

import wil
from wil_app.policy import POLICY

APP = str(pathlib.Path(__file__).resolve().parents[2] / "wil_app" / "page.py")
SMALL = wil.Config(dataset="moons", n_samples=100, noise=0.2, depth=3, width=8, epochs=40,
                   compare=("random_normal(std=0.01)", "he_normal"))
STOP_AT = 13


def sentences(at: AppTest) -> list[str]:
    body = next(e.proto.body for e in at.get("html") if "data-testid='wil-verdicts'" in e.proto.body)
    return [html.unescape(s) for s in re.findall(r"</b>: ([^<]*)</span>", body)]


def test_train_to_the_end_continues_from_the_stopped_epoch_and_the_note_goes(monkeypatch, train_in_server):
    trained, _ = POLICY.fit(SMALL)

    def stop(fraction):
        if fraction >= STOP_AT / trained.epochs:
            raise wil.StopTraining

    stopped = wil.compare(trained, progress=stop, snapshots=POLICY.snapshots(trained))
    assert stopped.stopped_epoch == STOP_AT
    at = AppTest.from_file(APP, default_timeout=90)
    for key, value in SMALL.to_query_params().items():
        at.query_params[key] = value
    at.session_state["kept_runs"] = {trained: stopped}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(f"Stopped by you after epoch {STOP_AT} of {trained.epochs}" in i.value for i in at.info)

    calls = []
    for name in ("compare", "resume"):
        monkeypatch.setattr(wil, name, lambda *a, _f=getattr(wil, name), _n=name, **k: calls.append(_n) or _f(*a, **k))
    at.button(key="train_whole").click().run()
    monkeypatch.undo()
    assert calls == ["resume"]  # continued, not trained again from epoch 0
    assert not at.exception, [e.value for e in at.exception]
    assert not any("Stopped by you" in i.value for i in at.info)
    whole = wil.compare(trained)  # one uninterrupted run: the same sentences, numbers and all
    assert sentences(at) == [s.partition(": ")[2] for s in whole.verdicts(by="initializer")["sentence"]]
    kept = at.session_state["kept_runs"][trained]
    assert kept.stopped_epoch is None
    assert kept.history.equals(whole.history)
    at.run()  # a later rerun keeps the whole run, without the note
    assert not any("Stopped by you" in i.value for i in at.info)


def test_a_stop_waits_for_the_interrupted_script_run_of_its_own_session_to_leave():
    """Streamlit's fast reruns start a new script run before the one it replaces has left the run it
    followed: a Stop must wait for its own session's followers to leave before it judges whether others
    still follow (if it did not, it kept a live view, which cannot be continued, and lost the epochs)."""
    import threading

    from wil_app import runs

    run = runs.SharedRun(SMALL, None)
    run.follow("visitor")           # the script run the click interrupted, still leaving
    run.follow("visitor")           # the rerun before it, which follows the same run
    run.follow("someone else")
    assert not run.wait_left("visitor", 0.05)
    run.leave("visitor")
    leaving = threading.Timer(0.1, run.leave, args=("visitor",))
    leaving.start()
    assert run.wait_left("visitor", 5.0) and run.followers == 1 and dict(run.sessions) == {"someone else": 1}
    run.leave("someone else")
    assert run.followers == 0 and run.alone_since is not None and not run.sessions

"""Issue 17, item 7 through AppTest and plain calls: the QR code's address (the operator's public one, or
the browser's, said to be local when it is), the downloaded JSON's tab (the chart in view), and the
upload's limit in words."""
from __future__ import annotations

import dataclasses
import pathlib

import pytest
from streamlit.testing.v1 import AppTest

import wil
from wil_app import workshop
from wil_app.policy import POLICY

APP = str(pathlib.Path(__file__).resolve().parents[2] / "wil_app" / "page.py")
SMALL = wil.Config(dataset="moons", n_samples=100, noise=0.2, depth=3, width=8, epochs=5,
                   compare=("zeros", "he_normal"))


def test_local_addresses_are_told_apart_from_the_rooms():
    for local in ("http://127.0.0.1:8501/?quiz=1", "http://localhost:8501", "http://0.0.0.0:8501",
                  "http://[::1]:8501", "http://app.localhost/"):
        assert workshop.is_local(local), local
    for public in ("http://192.168.1.20:8501/?quiz=1", "https://wil.example.org", "http://presenter-laptop:8501"):
        assert not workshop.is_local(public), public


def test_the_operators_public_address_comes_first(monkeypatch):
    monkeypatch.setenv(workshop.PUBLIC_URL, "https://wil.example.org/")
    assert workshop.page_address() == "https://wil.example.org"
    monkeypatch.setenv(workshop.PUBLIC_URL, "javascript:alert(1)")  # not an address: the browser's is used
    assert workshop.page_address() != "javascript:alert(1)"


def test_the_json_reopens_on_the_chart_in_view():
    at = AppTest.from_file(APP, default_timeout=90)
    for key, value in SMALL.to_query_params().items():
        at.query_params[key] = value
    at.query_params["tab"] = "Activations"
    at.run()
    at.session_state["tab"] = "Share & export"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    from wil_app.tabs.share import VIEWED_TAB
    assert at.session_state[VIEWED_TAB] == "Activations"


def test_the_upload_limit_is_written_beside_the_uploader():
    at = AppTest.from_file(APP, default_timeout=90)
    for key, value in SMALL.to_query_params().items():
        at.query_params[key] = value
    at.run()
    assert any(f"at most {POLICY.max_upload_mb} MB (a larger file is refused)" in c.value for c in at.sidebar.caption)


def test_sessions_that_ask_at_once_each_see_the_run_and_none_waits_behind_the_cache(monkeypatch):
    """A room asking for one configuration at the same moment: each session follows the one run and sees its
    progress while it trains. Before: a session that asked while another was entering the cached function
    (its run not yet in flight) waited on the cache's lock for the whole run, a blank page (78 s in a room of
    30). The window is widened here: the run appears 0.3 s after the first session enters."""
    import threading
    import time

    from wil_app import run as run_module
    from wil_app import runs

    config = wil.Config(dataset="moons", n_samples=100, depth=3, width=16, epochs=200, compare=("he_normal",),
                        seed=4242)
    run_module.run_comparison.clear()
    real_start = runs.start_or_follow

    def late_start(*args, **kwargs):
        time.sleep(0.3)
        return real_start(*args, **kwargs)

    monkeypatch.setattr(runs, "start_or_follow", late_start)
    real_progress = runs._progress

    def slow_progress(run, fraction):  # ~100 calls: a run of at least 2 s on any machine
        time.sleep(0.02)
        real_progress(run, fraction)

    monkeypatch.setattr(runs, "_progress", slow_progress)  # on the server's thread: no trainer process
    monkeypatch.setattr(runs, "POLICY", dataclasses.replace(runs.POLICY, trainer_process=False))
    names = threading.local()
    monkeypatch.setattr(run_module, "_session", lambda: names.value)
    began, first_seen, results, done_at = time.perf_counter(), {}, {}, {}

    def session(name: str) -> None:
        names.value = name

        def watch(run):
            first_seen.setdefault(name, time.perf_counter() - began)

        results[name] = run_module._cached_or_followed(config, watch)
        done_at[name] = time.perf_counter() - began

    threads = [threading.Thread(target=session, args=(f"s{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
        time.sleep(0.05)  # they ask one after another while the first is still entering
    for thread in threads:
        thread.join(120)
    assert sorted(results) == ["s0", "s1", "s2", "s3"]
    first_done = min(done_at.values())
    assert first_done > 1.0  # a real run, long enough to tell "followed" from "waited"
    for name in results:  # every session saw the run before it ended, not only its result
        assert name in first_seen and first_seen[name] < first_done - 0.5, (name, first_seen, done_at)
    losses = [results[name].history["loss"].to_numpy() for name in sorted(results)]
    assert all((loss == losses[0]).all() for loss in losses)  # one run, the same numbers for all
    assert not run_module._ENTERING  # nobody left a mark behind


def test_shared_verdicts_tell_a_stopped_run_from_the_whole_one():
    """verdict_html is judged once per run, epoch and status and shared between sessions: a run stopped
    early and the whole run of the same configuration keep their own verdicts, and asking again returns the
    same text without judging again."""
    from wil_app import story

    config = wil.Config(dataset="moons", n_samples=100, depth=3, width=8, epochs=60, compare=("zeros", "he_normal"),
                        seed=777)
    whole = wil.compare(config)
    stopped = wil.compare(config, progress=lambda fraction: (_ for _ in ()).throw(wil.StopTraining)
                          if fraction >= 0.1 else None)
    assert stopped.stopped_epoch is not None and stopped.stopped_epoch < config.epochs
    first = story.verdict_html(whole)
    assert story.verdict_html(stopped) != first
    assert story.verdict_html(whole) is first  # the shared answer, not judged again
    assert story.verdict_html(whole, note="So far") != first  # the note is part of what is shown


def test_the_time_left_is_the_runs_own_pace_once_measured_and_the_servers_before(monkeypatch):
    """A run tells its time left from its own pace once it has trained 3% of its epochs for 0.5 s
    (elapsed / fraction x (1 - fraction)); before that nothing, or, for the queue's wait, the server's pace
    (seconds per second of the policy's estimate, kept apart for runs split over the cores)."""
    from wil_app import runs

    monkeypatch.setattr(runs, "PACE", runs.Pace())
    narrow = wil.Config(dataset="moons", n_samples=400, depth=8, width=32, epochs=150)
    wide = dataclasses.replace(narrow, width=512)
    monkeypatch.setattr(runs, "_cores", lambda config: 2 if config.width > 100 else 1)  # as on 2 cores, on any
    assert runs.PACE.expected(narrow) is None  # nothing measured yet
    runs.PACE.record(narrow, 3.0 * POLICY.seconds(narrow))
    assert runs.PACE.expected(narrow) == pytest.approx(3.0 * POLICY.seconds(narrow))
    # a split run, before any was measured: the engine's median gain of a split over one core
    assert runs.PACE.expected(wide) == pytest.approx(3.0 * runs.SPLIT_TIME * POLICY.seconds(wide))
    runs.PACE.record(wide, 0.5 * POLICY.seconds(wide))
    runs.PACE.record(wide, 1.5 * POLICY.seconds(wide))  # weighted to the latest: (0.5 + 1.5) / 2
    assert runs.PACE.expected(wide) == pytest.approx(1.0 * POLICY.seconds(wide))
    assert runs.PACE.expected(narrow) == pytest.approx(3.0 * POLICY.seconds(narrow))  # kept apart

    run = runs.SharedRun(narrow, None)
    clock = [1000.0]
    monkeypatch.setattr(runs.time, "perf_counter", lambda: clock[0])
    runs._progressed(run, 0.0)
    assert run.training == 1000.0
    assert run.seconds_left() is None and run.seconds_left(guess=True) == pytest.approx(run.expected)
    clock[0] = 1001.0
    runs._progressed(run, 0.05)  # the first epochs, slower: the pace is measured from here
    assert run.pace_from == (1001.0, 0.05) and run.seconds_left() is None
    clock[0] = 1001.4
    runs._progressed(run, 0.25)  # 20% more, but only 0.4 s: not measured yet
    assert run.seconds_left() is None
    clock[0] = 1003.0
    runs._progressed(run, 0.45)  # 2 s for 40%: 5 s per run, 55% of it left
    assert run.seconds_left() == pytest.approx(2.75) and run.seconds_left(guess=True) == pytest.approx(2.75)

    resumed = runs.SharedRun(narrow, None)
    resumed.done_before = resumed.fraction = 0.5  # continues from half: measured over what it trains itself
    runs._progressed(resumed, 0.5)
    assert resumed.pace_from is None
    clock[0] = 1004.0
    runs._progressed(resumed, 0.6)
    clock[0] = 1005.0
    runs._progressed(resumed, 0.8)  # 1 s for 20%: 0.2 x 5 s left
    assert resumed.seconds_left() == pytest.approx(1.0)


def test_answers_asked_at_once_by_several_sessions_are_computed_once():
    """``story.Shared``: sessions asking for the same key at the same moment (woken by the same epoch) get
    one computation's answer; if that computation fails, each of the others computes its own."""
    import threading
    import time

    from wil_app import story

    shared, calls, answers = story.Shared(kept=4), [], []

    def slow(value):
        def compute():
            calls.append(value)
            time.sleep(0.3)
            return value
        return compute

    threads = [threading.Thread(target=lambda: answers.append(shared.get("k", slow("first")))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert calls == ["first"] and answers == ["first"] * 4
    assert shared.get("k", slow("again")) == "first" and calls == ["first"]  # kept

    def failing():
        calls.append("failed")
        time.sleep(0.2)
        raise RuntimeError("boom")

    errors, late = [], []

    def first():
        try:
            shared.get("bad", failing)
        except RuntimeError as error:
            errors.append(str(error))

    thread = threading.Thread(target=first)
    thread.start()
    time.sleep(0.05)
    late.append(shared.get("bad", slow("own")))  # waits for the first, which fails: computes its own
    thread.join(10)
    assert errors == ["boom"] and late == ["own"]
    for key in ("a", "b", "c", "d", "e"):  # at most ``kept`` answers
        shared.get(key, lambda: key)
    assert len(shared._answers) == 4


def test_a_follower_is_woken_by_a_live_view_at_once_and_by_the_end():
    """A session following a run draws a live view when it arrives, not at its next look (``watch_every``);
    with nothing new it looks again after ``watch_every``."""
    import threading
    import time

    from wil_app import runs

    run = runs.SharedRun(wil.Config(epochs=5), None)
    start = time.perf_counter()
    run.wait_for_news(run.version, 0.15)  # nothing new: the whole timeout
    assert time.perf_counter() - start >= 0.14
    timer = threading.Timer(0.05, runs._live, (run, "a partial result"))
    start = time.perf_counter()
    timer.start()
    run.wait_for_news(run.version, 5.0)
    assert time.perf_counter() - start < 2.0 and run.version == 1 and run.partial == "a partial result"
    run.wait_for_news(0, 5.0)  # an update newer than the one the caller saw has already come: no wait

    def end():  # as the run's thread ends it
        run.done.set()
        with run.news:
            run.news.notify_all()

    ended = threading.Timer(0.05, end)
    start = time.perf_counter()
    ended.start()
    run.wait_for_news(run.version, 5.0)
    assert time.perf_counter() - start < 2.0

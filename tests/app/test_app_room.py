"""Issue 17, item 7 through AppTest and plain calls: the QR code's address (the operator's public one, or
the browser's, said to be local when it is), the downloaded JSON's tab (the chart in view), and the
upload's limit in words."""

from __future__ import annotations

import pathlib

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

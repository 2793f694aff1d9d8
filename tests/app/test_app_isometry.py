"""The dynamical isometry page: the Jacobian spectra of orthogonal and Gaussian weights, the theory beside the
measurement, and the training lesson."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import wil

ROOT = Path(__file__).resolve().parents[2]
ISOMETRY = str(ROOT / "wil_app" / "isometry.py")


def test_the_spectra_and_the_lesson_show():
    at = AppTest.from_file(ISOMETRY, default_timeout=60)
    at.session_state["isometry_width"] = 64  # the smallest choice: the page's cost is its Jacobians
    at.session_state["isometry_depth"] = 16
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    specs = [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]
    spectrum = specs[0]
    assert spectrum["title"]["text"] == "Singular values of the Jacobian at initialization"
    assert spectrum["facet"]["column"]["sort"] == ["tanh", "ReLU"]
    text = " ".join(block.value for block in at.markdown)
    assert "every direction keeps its length" in text and "a few directions carry the signal" in text
    # the training lesson, read from docs/isometry_training.csv: orthogonal reaches 90% on digits in 7-8 epochs
    # (median 7.5), the Gaussians in 52-60 or never; on moons it is the slowest (27 against 3-5)
    assert "**digits**: orthogonal 7.5," in text and "isometry trains faster" in text
    assert "**moons**: orthogonal 27," in text and "isometry does not train faster" in text
    table = at.dataframe[0].value
    assert list(table["Weights"]) == ["orthogonal", "Gaussian", "orthogonal", "Gaussian (He)"]
    # tanh at q* = 0 with orthogonal weights: exactly isometric, as the theory says
    assert table["var λ measured"].iloc[0] == pytest.approx(0.0, abs=1e-12) and table["var λ theory"].iloc[0] == 0


def test_the_page_is_in_the_navigation():
    source = (ROOT / "wil_app" / "navigation.py").read_text()
    assert 'st.Page("isometry.py"' in source
    assert callable(wil.jacobian_spectrum) and hasattr(wil.isometry, "jacobian_moments")

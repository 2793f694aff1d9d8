"""Issue 17, "defaults that show the lesson": on the opening page and every prepared lesson, each
histogram panel of the Activations tab at initialization is informative (its values spread over more
than one bar), read from the chart's data as the browser gets it (Arrow datasets via AppTest), not pixels.
The one exception is the lesson itself: all-zeros (and constant) networks have one value per layer."""

from __future__ import annotations

import json
import pathlib

import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from wil_app.lessons import DEMO, LESSONS

pytestmark = pytest.mark.slow  # an AppTest run per lesson
PAGE = str(pathlib.Path(__file__).resolve().parents[2] / "wil_app" / "page.py")
ONE_VALUE = ("zeros", "constant")  # initializers whose every unit of a layer is the same: one bar is the lesson


def histogram_rows(at: AppTest):
    """The histogram chart's rows at epoch 0 (the frame its slider starts at)."""
    for element in at.get("vega_lite_chart"):
        spec = json.loads(element.proto.spec)
        if "histograms per layer" not in json.dumps(spec.get("title")):
            continue
        frames = [pa.ipc.open_stream(d.data.data).read_pandas() for d in element.proto.datasets]
        return spec, frames
    raise AssertionError("no histogram chart")


@pytest.mark.parametrize("config", [DEMO, *LESSONS.values()], ids=["opening", *range(len(LESSONS))])
def test_each_histogram_panel_at_initialization_is_informative(config):
    at = AppTest.from_file(PAGE, default_timeout=240)
    for key, value in config.to_query_params().items():
        at.query_params[key] = value
    at.query_params["tab"] = "Activations"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    spec, frames = histogram_rows(at)
    assert "log10" in json.dumps(spec)  # the default axis: log magnitude
    checked = 0
    for frame in frames:
        first = frame[(frame["_frame"].astype(int) & 1) == 1]  # rows in frame 0 (epoch 0)
        for (label, layer), panel in first.groupby(["initializer", "layer_name"], observed=True):
            if str(label).split("(")[0] in ONE_VALUE:
                continue
            bars = int((panel["share"] > 0.01).sum())
            assert bars >= 2 and panel["share"].max() < 0.95, (label, layer, bars)
            checked += 1
    assert checked >= 2 * len(config.labels) - 2

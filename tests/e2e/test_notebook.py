"""The example notebook in docs/ runs from top to bottom and shows what it claims (He et al. 2015, Figure 3)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

# nbclient, nbformat and ipykernel: in requirements-dev.txt; without them the notebook tier skips, saying so
nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed: pip install -r requirements-dev.txt")
nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed: pip install -r requirements-dev.txt")
pytest.importorskip("ipykernel", reason="ipykernel is not installed: pip install -r requirements-dev.txt")

pytestmark = pytest.mark.notebook

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "docs" / "he2015_30_layers.ipynb"
# what the test appends to its copy, after the notebook's own cells: the notebook's summary as JSON
PROBE = "import json; print('SUMMARY ' + json.dumps(summary.to_dict(orient='index')))"


def outputs_of(cell) -> list[dict]:
    return [dict(output) for output in cell.get("outputs", [])]


def text_of(cell) -> str:
    return "".join(output.get("text", "") for output in outputs_of(cell) if output["output_type"] == "stream")


def test_the_he_notebook_runs_and_he_beats_xavier(tmp_path, monkeypatch):
    tracked = NOTEBOOK.read_bytes()
    copy = tmp_path / NOTEBOOK.name
    shutil.copy(NOTEBOOK, copy)  # executed in a temporary folder: the tracked notebook is never rewritten
    notebook = nbformat.read(copy, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(PROBE))
    # the kernel imports this checkout's wil; "python3" is jupyter_client's native kernel: this interpreter
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    client = nbclient.NotebookClient(notebook, kernel_name="python3", timeout=600,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError on the first cell that fails (the notebook's asserts included)

    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    errors = [output for cell in code for output in outputs_of(cell) if output["output_type"] == "error"]
    assert not errors
    # the training cell reports its 15 networks; the status table shows them
    assert "15 networks trained in" in text_of(code[0])
    status = next(cell for cell in code if cell.source.strip() == "res.status")
    html = "".join(output.get("data", {}).get("text/html", "") for output in outputs_of(status))
    assert html.count("<tr") == 16  # a header row and one per network
    # the two charts come out as what Jupyter draws: Altair's default renderer, HTML running vega-embed on the spec
    for source, title in [("res.plot.loss()", "Loss per epoch"), ("res.plot.activation_std()",
                                                                  "Activation spread per layer")]:
        cell = next(cell for cell in code if cell.source.strip() == source)
        html = "".join(output.get("data", {}).get("text/html", "") for output in outputs_of(cell)
                       if output["output_type"] == "execute_result")
        assert "vegaEmbed" in html and title in html, source
    # what the notebook prints: one line per initializer
    printed = text_of(code[-2])
    assert all(label in printed for label in ("glorot_normal", "he_normal", "random_normal(std=0.01)"))

    summary = json.loads(text_of(code[-1]).split("SUMMARY ", 1)[1])
    xavier, he, tiny = summary["glorot_normal"], summary["he_normal"], summary["random_normal(std=0.01)"]
    ratio = "std ratio, layer 30 / 1"
    # The theory: a ReLU layer multiplies the std by sqrt(fan_in * v / 2): Xavier 1/sqrt(2) (29 layers from layer 1
    # to 30: 2**-14.5 = 4.3e-5), He 1, std 0.01 0.057.
    assert xavier["predicted"] == pytest.approx(2**-14.5, rel=0.01)
    assert he["predicted"] == pytest.approx(1.0, rel=0.01)
    # Measured at width 64, each layer's factor is random around its mean (the log of the std wanders, by about
    # sqrt(5 x 30 / 64) ~ 1.5 in natural-log units over 30 layers: a factor of ~4-5 for one network); the median
    # over five seeds stays within a factor 10 of the prediction.
    assert xavier["predicted"] / 10 < xavier[ratio] < xavier["predicted"] * 10
    assert 0.1 < he[ratio] < 10
    assert tiny[ratio] < 1e-20
    # He learns, Xavier and std 0.01 stay at chance (50% on balanced moons)
    assert he["final test accuracy"] > 0.85
    assert xavier["final test accuracy"] == pytest.approx(0.5, abs=0.05)
    assert tiny["final test accuracy"] == pytest.approx(0.5, abs=0.05)
    assert NOTEBOOK.read_bytes() == tracked

"""The decision boundary: predicted class on a grid with the data on top, at initialization and after
training."""

from __future__ import annotations

from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd

from wil.charts.frames import first_seed, labels_of, plain
from wil.charts.style import CLASS_PALETTE, PER_ROW, WIDTH, finish, fitted, wrapped_labels


_LEFT, _SPACING = 100, 16  # px: the y axis and the row labels; between panels


@dataclass(frozen=True)
class BoundaryFrame:
    """What ``decision_boundary`` draws, prepared in pandas (``boundary_frame``)."""

    data: pd.DataFrame  # rows by ``kind``: "cell" (the grid), "point" (the data, per panel), "note"
    labels: list[str]  # the initializers, a column each
    stages: dict[int, str]  # epoch -> the name of its row ("at initialization", "after 200 epochs")
    x_domain: list[float]  # the grid's extent, its last cell included
    y_domain: list[float]
    dx: float  # a cell's size
    dy: float
    classification: bool  # classes (tinted by probability) or a regression's value
    n_classes: int
    seed: int | None  # the network shown


def boundary_frame(grid: pd.DataFrame, points: pd.DataFrame, status: pd.DataFrame | None = None, *,
                   seed: int | None = None, epochs: list[int] | None = None,
                   later: str | None = None) -> BoundaryFrame:
    """The cells, points and notes of ``decision_boundary`` for one seed (default the first) at ``epochs``
    (default the first and the last recorded)."""
    labels = labels_of(grid)
    grid, seed = first_seed(grid, seed)
    recorded = sorted(int(e) for e in grid["epoch"].unique())
    if recorded:
        shown = [recorded[0], recorded[-1]] if epochs is None else [e for e in epochs if e in recorded]
        grid = grid[grid["epoch"].isin(sorted(set(shown)))]
    grid = plain(grid)
    classification = bool(np.isfinite(pd.to_numeric(grid["probability"], errors="coerce")).any())
    xs, ys = np.sort(grid["x1"].unique()), np.sort(grid["x2"].unique())
    dx = float(np.diff(xs).min()) if len(xs) > 1 else 1.0
    dy = float(np.diff(ys).min()) if len(ys) > 1 else 1.0
    epochs = sorted(int(e) for e in grid["epoch"].unique())
    stages = {e: "at initialization" if e == 0 else later or f"after {e} epochs" for e in epochs}
    n_classes = int(max(grid["prediction"].max() if len(grid) else 0,
                        points["target"].max() if len(points) else 0)) + 1

    def class_name(values):
        return ("class " + values.astype(int).astype(str)) if classification else values

    # a cell's far corner is computed in the browser (x1 + dx): two columns fewer for ~16,000 cells
    cells = pd.DataFrame({"kind": "cell", "initializer": grid["initializer"], "stage": grid["epoch"].map(stages),
                          "x1": grid["x1"], "x2": grid["x2"], "class": class_name(grid["prediction"]),
                          "probability": grid["probability"].round(3)})
    dots = pd.DataFrame({"kind": "point", "x1": points["x1"], "x2": points["x2"],
                         "class": class_name(points["target"]), "split": points["split"]})
    panels = pd.DataFrame([(label, stage) for label in labels for stage in stages.values()],
                          columns=["initializer", "stage"])
    notes = _panel_notes(grid, status, labels, epochs, stages, seed, classification,
                         recorded[-1] if recorded else 0)
    data = pd.concat([cells, panels.merge(dots, how="cross"), notes], ignore_index=True)
    return BoundaryFrame(data, labels, stages,
                         [float(xs.min()), float(xs.max() + dx)] if len(xs) else [0, 1],
                         [float(ys.min()), float(ys.max() + dy)] if len(ys) else [0, 1],
                         dx, dy, classification, n_classes, seed)


def decision_boundary(grid: pd.DataFrame, points: pd.DataFrame, status: pd.DataFrame | None = None, *,
                      seed: int | None = None, panel_size: int | None = None,
                      epochs: list[int] | None = None, fit_width: int | None = None,
                      later: str | None = None) -> alt.FacetChart:
    """Predicted class on a grid with the data on top: a row at initialization and a row after training,
    a column per initializer.

    Regions are tinted by the predicted class and fade where the network is unsure (opacity follows the
    predicted probability). One seed is shown; a network that diverged before the last epoch gets a note
    instead of a boundary.

    Parameters
    ----------
    grid : ``Result.grid``; points : ``Result.points``
    status : ``Result.status``, for the final accuracy written on each panel
    seed : the network shown (default the first seed); panel_size : pixels per panel
    fit_width : the whole chart's width at most, in pixels (the panels shrink to fit it)
    epochs : the recorded epochs shown, a row each (default the first and the last recorded)
    later : the name of the rows after initialization (default "after 150 epochs"; a chart that plays
        through training names its epoch in the title instead)
    """
    frame = boundary_frame(grid, points, status, seed=seed, epochs=epochs, later=later)
    labels = frame.labels
    # panels, the space between them and the y axis and row labels on the left fit WIDTH
    per_row = PER_ROW if fit_width is None else max(1, min(PER_ROW, int(
        (fit_width - 26 - 40 - _LEFT) // (90 + _SPACING))))  # panels of 90 px at least
    columns = max(1, min(per_row, len(labels)))
    size = panel_size or int(max(100, min(210, (WIDTH - _LEFT - _SPACING * (columns - 1)) / columns)))
    size = fitted(fit_width, 26 + 40 + _LEFT + _SPACING * (columns - 1), columns, size)
    panel = _boundary_panel(frame).properties(width=size, height=size)

    def block(chunk: list[str]):
        """Rows: at initialization, after training; columns: up to PER_ROW initializers."""
        return panel.facet(
            data=frame.data[frame.data["initializer"].isin(chunk)],
            row=alt.Row("stage:N", sort=list(frame.stages.values()), title=None,
                        header=alt.Header(labelAngle=-90, labelFontSize=15)),
            column=alt.Column("initializer:N", sort=chunk, title=None,
                              # long labels such as random_normal(std=0.01) break into lines over the panel
                              header=alt.Header(labelFontWeight="bold", labelFontSize=13, labelLimit=size + 20,
                                                labelExpr=wrapped_labels(chunk, size + 20, 13))),
            spacing=_SPACING)

    chunks = [labels[i:i + per_row] for i in range(0, len(labels), per_row)] or [[]]
    chart = block(chunks[0]) if len(chunks) == 1 else alt.vconcat(*(block(chunk) for chunk in chunks))
    return finish(chart.properties(title=alt.TitleParams("Decision boundary", subtitle=[
        f"Seed {frame.seed}. Tint: predicted class, faint where the network is unsure. Dots: the data (train and "
        "test)."])), fit_width)


def _boundary_panel(frame: BoundaryFrame) -> alt.LayerChart:
    """The encoding of one panel: the tinted cells, the data on top, and the panel's note."""
    x = alt.X("x1:Q", title="x1", scale=alt.Scale(domain=frame.x_domain, nice=False, zero=False),
              axis=alt.Axis(tickCount=3))
    y = alt.Y("x2:Q", title="x2", scale=alt.Scale(domain=frame.y_domain, nice=False, zero=False),
              axis=alt.Axis(tickCount=3))
    if frame.classification:
        classes = [f"class {c}" for c in range(frame.n_classes)]
        color = alt.Color("class:N", title="Class", scale=alt.Scale(domain=classes,
                                                                    range=list(CLASS_PALETTE[:len(classes)])),
                          legend=alt.Legend(orient="top"))
        opacity = alt.Opacity("probability:Q", legend=None,
                              scale=alt.Scale(domain=[1.0 / max(frame.n_classes, 2), 1.0], range=[0.04, 0.55]))
    else:
        color, opacity = alt.Color("class:Q", title="Prediction", scale=alt.Scale(scheme="viridis")), alt.value(0.6)
    base = alt.Chart()
    regions = base.transform_filter(alt.datum.kind == "cell").transform_calculate(
        x1_end=alt.datum.x1 + frame.dx, x2_end=alt.datum.x2 + frame.dy).mark_rect().encode(
        x=x, x2="x1_end:Q", y=y, y2="x2_end:Q", color=color, opacity=opacity,
        tooltip=[alt.Tooltip("x1:Q", format=".2f"), alt.Tooltip("x2:Q", format=".2f"),
                 alt.Tooltip("class:N", title="Predicted"),
                 alt.Tooltip("probability:Q", title="Probability", format=".0%")])
    dots = base.transform_filter(alt.datum.kind == "point").mark_circle(
        size=20, stroke="white", strokeWidth=0.5, opacity=0.95).encode(
        x=x, y=y, color=color,
        tooltip=[alt.Tooltip("class:N", title="True class"), alt.Tooltip("split:N", title="Split")])
    text = base.transform_filter(alt.datum.kind == "note").mark_text(
        align="left", baseline="top", dx=4, dy=4, fontSize=13, fontWeight="bold", lineBreak="\n").encode(
        x=alt.value(0), y=alt.value(0), text="note:N", color=alt.condition(alt.datum.bad, alt.value("#B00020"),
                                                                            alt.value("#111111")))
    return alt.layer(regions, dots, text)


def _panel_notes(grid, status, labels, epochs, stages, seed, classification, last: int) -> pd.DataFrame:
    """A note per panel, in two short lines that fit a narrow panel: the network's accuracy after
    training (on the panel of the ``last`` recorded epoch), or why there is no boundary."""
    rows = []
    finals = {}
    if status is not None:
        finals = {row.initializer: row for row in plain(status[status["seed"] == seed]).itertuples()}
    present = set(zip(grid["initializer"], grid["epoch"]))
    for label in labels:
        for epoch in epochs:
            row = finals.get(label)
            if (label, epoch) not in present:
                note, bad = "diverged:\nno boundary", True
            elif epoch == last and row is not None and epoch > 0:
                note = (f"diverged at\nepoch {row.diverged_epoch}" if row.diverged else
                        f"test accuracy\n{row.final_test_accuracy:.0%}" if classification else
                        f"test loss\n{row.final_test_loss:.3g}")
                bad = bool(row.diverged)
            else:
                continue
            rows.append({"kind": "note", "initializer": label, "stage": stages[epoch], "note": note, "bad": bad})
    return pd.DataFrame(rows, columns=["kind", "initializer", "stage", "note", "bad"])

"""One chart that plays through training in the browser: every recorded epoch's frame of a builder's
chart in one spec, and a slider (a Vega-Lite parameter bound to a range input) that picks the frame shown.

Moving the slider, or a script stepping it, redraws the chart in the browser without asking the server
anything, so every frame is as fast as Vega can draw it. The builder is called once per epoch; each of its
data frames' rows are kept once with the frames they are in (``_frame``: the "at initialization" row of a
decision boundary is sent once, not once per frame), and a filter keeps the frame chosen.
"""

from __future__ import annotations

import json
from typing import Callable

import altair as alt
import numpy as np
import pandas as pd

FRAME = "_frame"  # the column of the frames a row is in (``_frames_data``)
MASK_FRAMES = 30  # up to this many frames, FRAME is a bit mask (Vega's bitwise operators work on 32 bits)
PARAM = "epoch"  # the parameter's name, and the slider's label


def _data_nodes(chart, path: str = "") -> dict[str, alt.SchemaBase]:
    """Every object of ``chart`` that holds a data frame, by its place in the chart, or by its initializer
    where its data holds one only (a histogram's column: a network that diverged has no column in later
    frames, and the columns after it move)."""
    found = {}
    if isinstance(chart, alt.SchemaBase):
        data = chart._kwds.get("data")
        if isinstance(data, pd.DataFrame):
            labels = data["initializer"].unique() if "initializer" in data.columns else []
            found[f"initializer={labels[0]}" if len(labels) == 1 else path] = chart
        for key, value in chart._kwds.items():
            if key not in ("data", "config", "datasets"):
                found.update(_data_nodes(value, f"{path}/{key}"))
    elif isinstance(chart, list):
        for index, value in enumerate(chart):
            found.update(_data_nodes(value, f"{path}/{index}"))
    return found


def _frames_data(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The frames' rows in one frame, each distinct row once with the frames it is in: ``_frame`` a bit
    mask (bit i: frame i) up to ``MASK_FRAMES`` frames, else its frame's index with -1 for a row in every
    frame. Strings as categories and floats as float32: a decision boundary's 16 frames in ~2 MB."""
    stacked = pd.concat([frame.assign(**{FRAME: index}) for index, frame in enumerate(frames)],
                        ignore_index=True)
    if stacked.empty:
        return stacked
    columns = [c for c in stacked.columns if c != FRAME]
    keys = pd.util.hash_pandas_object(stacked[columns], index=False)  # a row's content, as one number
    if len(frames) <= MASK_FRAMES:
        # a row repeated within a frame stays repeated: its identity is its content and its occurrence
        identity = pd.DataFrame({"key": keys.to_numpy(), "occurrence": keys.groupby(
            [keys.to_numpy(), stacked[FRAME].to_numpy()]).cumcount().to_numpy()})
        bits = pd.Series(np.left_shift(1, stacked[FRAME].to_numpy(dtype=np.int64)))
        masks = bits.groupby([identity["key"], identity["occurrence"]]).transform("sum")
        data = stacked.assign(**{FRAME: masks.to_numpy()})[~identity.duplicated().to_numpy()]
    else:
        everywhere = keys.map(keys.groupby(keys).size()) == len(frames)  # in each frame once
        common = stacked[everywhere & (stacked[FRAME] == 0)].assign(**{FRAME: -1})
        data = pd.concat([common, stacked[~everywhere]], ignore_index=True)
    return _compact(data.reset_index(drop=True))


def _compact(data: pd.DataFrame) -> pd.DataFrame:
    """Repeated strings as categories, floats as float32, the frame column as int32."""
    out = {}
    for column in data.columns:
        values = data[column]
        if values.dtype == object and values.map(lambda v: isinstance(v, str) or v is None).all():
            values = values.astype("category")
        elif values.dtype == "float64":
            values = values.astype("float32")
        elif column == FRAME:
            values = values.astype("int32")
        out[column] = values
    return pd.DataFrame(out)


def _keep(frames: int) -> str:
    """The filter that keeps the rows of the frame the slider picks."""
    if frames <= MASK_FRAMES:
        return f"(datum.{FRAME} >> {PARAM}_index) & 1"
    return f"datum.{FRAME} < 0 || datum.{FRAME} == {PARAM}_index"


def over_epochs(build: Callable[[int], alt.TopLevelMixin], epochs: list[int], value: int | None = None):
    """The chart ``build(epoch)`` for every one of ``epochs``, as one chart whose slider ("epoch") picks
    the frame shown, starting at ``value`` (default the first). Titles and sizes are the first frame's;
    each frame's data, axes and labels are its own."""
    epochs = [int(e) for e in epochs] or [0]
    value = epochs[0] if value not in epochs else int(value)
    charts = [build(epoch) for epoch in epochs]
    template = charts[0].copy(deep=True)
    nodes = [_data_nodes(chart) for chart in charts]
    index = alt.param(name=PARAM + "_index", expr=f"indexof({epochs}, {PARAM})")
    for path, node in _data_nodes(template).items():
        frames = [found[path]._kwds["data"] if path in found else pd.DataFrame() for found in nodes]
        node["data"] = _frames_data(frames)
        keep = alt.FilterTransform(filter=_keep(len(epochs)))
        transforms = node._kwds.get("transform")
        node["transform"] = [keep, *(transforms if isinstance(transforms, list) else [])]
    step = _step(epochs)
    binding = (alt.binding_range(min=epochs[0], max=epochs[-1], step=step, name="epoch ") if step else
               alt.binding_select(options=epochs, name="epoch "))
    slider = alt.param(name=PARAM, value=value, bind=binding)
    _keep_common_subtitle(template, charts)
    _title_with_epoch(template)
    params = template._kwds.get("params")  # set, not ``add_params``: a variable belongs at the top level
    template["params"] = [*(params if isinstance(params, list) else []), slider.param, index.param]
    return template


def _keep_common_subtitle(template, charts) -> None:
    """The subtitle's lines that every frame shares (a line naming the epoch would be the first frame's
    only: the slider names it)."""
    def lines(chart):
        title = chart._kwds.get("title")
        subtitle = title._kwds.get("subtitle") if isinstance(title, alt.TitleParams) else None
        return subtitle if isinstance(subtitle, list) else [subtitle] if isinstance(subtitle, str) else []

    common = [line for line in lines(template) if all(line in lines(chart) for chart in charts)]
    if lines(template):
        template._kwds["title"]["subtitle"] = common or [""]


def _title_with_epoch(template) -> None:
    """The title says the epoch the chart shows (" · epoch 40"): it never lags the chart."""
    title = template._kwds.get("title")
    text = title._kwds.get("text") if isinstance(title, alt.TitleParams) else None
    if isinstance(text, str):
        title["text"] = alt.ExprRef(expr=f"{json.dumps(text)} + ' · epoch ' + {PARAM}")


def _step(epochs: list[int]) -> int | None:
    """The epochs' common spacing if they are evenly spaced (a range slider then stops at each), else None."""
    if len(epochs) < 2:
        return 1
    steps = {b - a for a, b in zip(epochs, epochs[1:])}
    return steps.pop() if len(steps) == 1 else None


def at_epoch(chart, value: int):
    """A copy of an ``over_epochs`` chart whose slider starts at epoch ``value``."""
    chart = chart.copy(deep=True)
    for param in chart._kwds.get("params", []):
        if getattr(param, "_kwds", {}).get("name") == PARAM:
            param["value"] = int(value)
    return chart

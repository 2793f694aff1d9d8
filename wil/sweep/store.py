"""A sweep's rows on disk: the frame's columns and types, and ``out`` streamed to parquet, resumable.

Each finished task is written at once to ``<out>.parts/``; at the end the parts are combined into
``out`` and removed. Rows already in ``out`` or its parts are not trained again.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import TYPE_CHECKING

from wil.analysis.criteria import TRAINABLE
from wil.spec.config import Config
from wil.sweep.plan import axis_kind
from wil.sweep.worker import RESULT_COLUMNS

if TYPE_CHECKING:
    import pandas as pd  # imported where used: it takes longer to import than the rest of wil

METADATA_KEY = b"wil_sweep"  # the parquet metadata entry holding a sweep's identity


def columns(axes: list[str]) -> list[str]:
    """The frame's columns: the axes, then the results (``initializer`` once, when it is an axis)."""
    return [*axes, *(c for c in RESULT_COLUMNS if c not in axes)]


def empty_frame(axes: list[str]) -> pd.DataFrame:
    """A frame of no rows with the sweep's columns."""
    import pandas as pd

    return pd.DataFrame(columns=columns(axes))


def row_keys(frame: pd.DataFrame, axes: list[str]) -> list[tuple]:
    """The (grid values..., seed) of each row, NA as None."""
    import pandas as pd

    values = [frame[a].tolist() for a in [*axes, "seed"]]
    return [tuple(None if v is None or v is pd.NA else v for v in row) for row in zip(*values)]


def normalized(frame: pd.DataFrame, axes: list[str]) -> pd.DataFrame:
    """Fixed column order and types, so rows from a worker, a part file and ``out`` compare equal."""
    import pandas as pd

    frame = frame[columns(axes)].copy()
    for axis in axes:
        kind = axis_kind(axis)
        if kind == "int":
            frame[axis] = frame[axis].astype("int64")
        elif kind == "nullable_int":
            frame[axis] = frame[axis].astype("Int64")
        elif kind == "float":
            frame[axis] = frame[axis].astype("float64")
        else:
            frame[axis] = frame[axis].astype("str")
    frame["initializer"] = frame["initializer"].astype("str")
    frame["seed"] = frame["seed"].astype("int64")
    for column in RESULT_COLUMNS[2:6] + ["act_std_last", "chi1_measured", "seconds"]:
        frame[column] = frame[column].astype("float64")
    frame["diverged"] = frame["diverged"].astype(bool)
    frame["trainable"] = frame["trainable"].astype(bool)
    frame["diverged_epoch"] = pd.array(frame["diverged_epoch"].tolist(), dtype="Int64")
    return frame.reset_index(drop=True)


def in_grid_order(frame: pd.DataFrame, keys: list[tuple], axes: list[str]) -> pd.DataFrame:
    """The rows of ``keys`` (the last of any repeated key), in that order (the grid's product, then the
    seeds), normalized."""
    frame = normalized(frame, axes)
    position = {key: i for i, key in enumerate(row_keys(frame, axes))}
    return normalized(frame.iloc[[position[key] for key in keys]], axes)


class Store:
    """``out`` and its folder of parts: one parquet file per finished task, combined at the end.

    Each file carries the sweep's base config and axes in its metadata; resuming into a file made by
    another sweep is refused rather than mixed."""

    def __init__(self, out, config: Config, axes: list[str]):
        self.path = os.fspath(out)
        self.parts = self.path + ".parts"
        base = {k: v for k, v in config.to_query_params().items() if k not in axes}
        self.identity = json.dumps({"config": base, "axes": axes, "trainable_share": TRAINABLE.share},
                                   sort_keys=True)
        self.axes = axes

    def load(self) -> pd.DataFrame:
        """Rows already stored, in ``out`` and in its parts."""
        import pandas as pd

        frames = [empty_frame(self.axes)]
        paths = [self.path] if os.path.exists(self.path) else []
        if os.path.isdir(self.parts):
            paths += [os.path.join(self.parts, n) for n in sorted(os.listdir(self.parts)) if n.endswith(".parquet")]
        for path in paths:
            frames.append(normalized(self._read(path), self.axes))
        return normalized(pd.concat(frames, ignore_index=True), self.axes)

    def _read(self, path: str) -> pd.DataFrame:
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        identity = (table.schema.metadata or {}).get(METADATA_KEY, b"").decode()
        if identity != self.identity:
            raise ValueError(f"Invalid out {self.path!r}: {path!r} holds another sweep (other base config, axes "
                             f"or criterion); choose another file or delete it")
        return table.to_pandas()

    def _write(self, frame: pd.DataFrame, path: str) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                               METADATA_KEY: self.identity.encode()})
        temporary = f"{path}.{os.getpid()}.tmp"
        pq.write_table(table, temporary)
        os.replace(temporary, path)  # a reader never sees half a file

    def put(self, frame: pd.DataFrame) -> None:
        """Store one task's rows at once."""
        os.makedirs(self.parts, exist_ok=True)
        keys = json.dumps(row_keys(frame, self.axes), default=str)
        name = hashlib.sha1(keys.encode()).hexdigest()[:16]
        self._write(frame, os.path.join(self.parts, f"{name}.parquet"))

    def finish(self, frame: pd.DataFrame) -> None:
        """Write the whole sweep to ``out`` and remove the parts."""
        import shutil

        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        self._write(frame, self.path)
        shutil.rmtree(self.parts, ignore_errors=True)

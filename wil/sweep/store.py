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
from wil.spec.checks import check_path
from wil.spec.config import Config
from wil.sweep.plan import axis_kind
from wil.sweep.worker import BUDGET_COLUMNS, RESULT_COLUMNS

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

    for column in ["train_accuracy_last10", *BUDGET_COLUMNS]:
        if column not in frame:  # a file of an older wil: not measured
            frame = frame.assign(**{column: float("nan")})
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
    for column in RESULT_COLUMNS[2:6] + ["act_std_last", "chi1_measured", "train_accuracy_last10", *BUDGET_COLUMNS,
                                         "seconds"]:
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
        self.path = check_path("out", out)
        self.parts = self.path + ".parts"
        check_writable(self.path, self.parts)
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
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except (OSError, ValueError, pa.ArrowException) as error:  # pyarrow's errors: not a parquet file
            raise ValueError(f"Invalid out {self.path!r}: {path!r} is not a parquet file written by wil.sweep "
                             f"({str(error)[:120]}); choose another file or delete it") from None
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

    def finish(self, frame: pd.DataFrame, stored: pd.DataFrame) -> None:
        """Write the sweep's rows ``frame`` to ``out`` with the rows of ``stored`` (what ``out`` and the parts
        held) outside it, and remove the parts: ``out`` only grows, each network once (see ``union``)."""
        import shutil

        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        self._write(union(frame, stored, self.axes), self.path)
        shutil.rmtree(self.parts, ignore_errors=True)


def union(frame: pd.DataFrame, stored: pd.DataFrame, axes: list[str]) -> pd.DataFrame:
    """``frame``'s rows, then those of ``stored`` whose networks it does not hold (in their order), normalized."""
    import pandas as pd

    keys = set(row_keys(frame, axes))
    others = [key not in keys for key in row_keys(stored, axes)]
    return normalized(pd.concat([frame, stored[others]], ignore_index=True), axes)


def check_writable(path: str, parts: str) -> None:
    """Refuse, before any work, an ``out`` that cannot be written: a folder, a file under a file, a folder
    without write permission (probed by creating a file in it), or parts that are not a folder."""
    if os.path.isdir(path):
        raise ValueError(f"Invalid out {path!r}: it is a folder; give a file name such as 'sweep.parquet'")
    if os.path.exists(parts) and not os.path.isdir(parts):
        raise ValueError(f"Invalid out {path!r}: {parts!r} (where finished tasks are kept) is a file; move it away")
    directory = os.path.dirname(os.path.abspath(path))
    existing = directory
    while not os.path.exists(existing) and os.path.dirname(existing) != existing:
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise ValueError(f"Invalid out {path!r}: {existing!r} is a file, not a folder")
    probe = f"{path}.{os.getpid()}.probe.tmp"  # longer than any name written beside out (its parts, temporaries)
    try:
        os.makedirs(directory, exist_ok=True)
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL))
        os.unlink(probe)
    except OSError as error:
        raise ValueError(f"Invalid out {path!r}: cannot write in {directory!r} ({error.strerror or error})") from None
    if os.path.exists(path) and not os.access(path, os.R_OK):
        raise ValueError(f"Invalid out {path!r}: the file exists and cannot be read, so it cannot be resumed")

"""Save a ``Result`` to one file and load it back: ``res.save("run.zip")``, ``wil.load("run.zip")``.

The file is a zip archive anyone can open without wil:

- ``history.csv``, ``layers.csv``, ``histograms.csv``, ``status.csv``, ``grid.csv``, ``points.csv``: the
  frames, one row per observation, exactly as ``Result`` holds them;
- ``config.json``: the run's ``Config`` as a dict of its fields;
- ``manifest.json``: the format's name and version, the wil version that wrote it, each frame's
  columns with their dtypes (categories in their order), so that ``load`` restores the same frames,
  and ``stopped_epoch`` (a run stopped early: the last epoch trained; else null).

Floats are written with the shortest text that reads back to the same double, so a loaded frame equals
the saved one exactly, dtypes included.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import tempfile
import zipfile
import zlib

from wil.spec.checks import MissingPathError, check_path
from wil.spec.config import Config, clipped
from wil.spec.resources import check_fits
from wil.analysis.result import FRAMES, Result, register_accessor
from wil.spec.version import __version__

FORMAT = "wil-result"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CONFIG = "config.json"
# dtypes a frame column may have, by ``str(dtype)``: how a CSV column is read back into each
_NUMERIC = ("float64", "float32", "int64", "int32")
_SUPPORTED = (*_NUMERIC, "Int64", "bool", "str", "object", "category")
MAX_MEMBERS = 64  # a result has 8; a central directory of millions is an attack
MAX_JSON_BYTES = 1 << 20  # manifest.json and config.json are a few kB
MAX_RATIO = 200  # inflated / stored size of a member over 10 MB: saved frames measure 2-15x, a zip bomb ~1000x
PARSED_PER_TEXT_BYTE = 4  # the inflated text, pandas' parse of it and the frame, per byte of text (measured ~2-3)


def save(result: Result, path: str | os.PathLike) -> None:
    """Write ``result`` to the zip file ``path`` (replaced if it exists); ``load(path)`` reads it back.

    Parameters
    ----------
    result : a ``wil.Result``
    path : where to write, e.g. ``"run.zip"``; its folder must exist

    Raises
    ------
    TypeError : ``result`` is not a ``Result``, or ``path`` is not a string or path
    FileNotFoundError : the folder of ``path`` does not exist (``wil.spec.checks.MissingPathError``, also a
        ``ValueError``)
    ValueError : ``path`` is a folder or empty
    """
    if not isinstance(result, Result):
        raise TypeError(f"Invalid result: expected a wil.Result, got a {type(result).__name__}")
    path = check_path("path", path)
    if os.path.isdir(path):
        raise ValueError(f"Invalid path: {path!r} is a folder; give a file name such as 'run.zip'")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise MissingPathError(f"Invalid path: the folder {folder!r} does not exist")
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "wil_version": _wil_version(),
                "frames": {name: _schema(getattr(result, name)) for name in FRAMES},
                "stopped_epoch": result.stopped_epoch}
    # written beside the target and renamed over it: a failed save never leaves a half-written file
    try:
        handle, temporary = tempfile.mkstemp(prefix=".wil-save-", suffix=".zip", dir=folder)
    except OSError as error:  # a folder without write permission, or /proc
        raise ValueError(f"Invalid path {path!r}: cannot write in {folder!r} ({error.strerror or error})") from None
    try:
        with os.fdopen(handle, "wb") as file, zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(MANIFEST, json.dumps(manifest, indent=1))
            archive.writestr(CONFIG, json.dumps(dataclasses.asdict(result.config), indent=1))
            for name in FRAMES:
                archive.writestr(f"{name}.csv", getattr(result, name).to_csv(index=False, lineterminator="\n"))
        os.replace(temporary, path)
    except BaseException as error:
        os.unlink(temporary)
        if isinstance(error, OSError):  # a name too long, a full disk
            raise ValueError(f"Invalid path {path!r}: cannot write it ({error.strerror or error})") from None
        raise


def load(path: str | os.PathLike) -> Result:
    """Read a ``Result`` written by ``Result.save``: the same config and frames, dtypes included.

    Parameters
    ----------
    path : the file ``Result.save`` wrote

    Returns
    -------
    The ``wil.Result``.

    Raises
    ------
    TypeError : ``path`` is not a string or path
    FileNotFoundError : there is no file at ``path`` (``wil.spec.checks.MissingPathError``, also a ``ValueError``)
    ValueError : the file is not a wil result (not a zip, a member missing or malformed, another format
        version), or its configuration is invalid
    """
    path = check_path("path", path)
    if not os.path.exists(path):
        raise MissingPathError(f"Invalid path: no file {path!r}")
    if os.path.isdir(path):
        raise ValueError(f"Invalid path: {path!r} is a folder, not a file written by Result.save")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"Invalid file {path!r}: not a zip archive, so not a file written by Result.save")
    try:
        with zipfile.ZipFile(path) as archive:
            _check_sizes(archive, path)
            manifest = _manifest(archive, path)
            config = _config(_json(archive, CONFIG, path), path)
            frames = {name: _frame(archive, name, manifest["frames"][name], path) for name in FRAMES}
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as error:
        raise ValueError(f"Invalid file {path!r}: a damaged zip archive ({_short(error)})") from None
    try:
        return Result(config, **frames, stopped_epoch=_stopped_epoch(manifest, path))
    except (TypeError, KeyError, IndexError) as error:
        raise ValueError(f"Invalid file {path!r}: its frames do not make a Result ({_short(error)})") from None


# ---------------------------------------------------------------- writing

def _wil_version() -> str:
    """The version of wil that wrote a file."""
    return __version__


def _schema(frame) -> list[dict]:
    """Each column's name and dtype (a categorical's categories and order too), to read the CSV back."""
    import pandas as pd

    columns = []
    for name, dtype in frame.dtypes.items():
        entry = {"name": str(name), "dtype": str(dtype)}
        if isinstance(dtype, pd.CategoricalDtype):
            entry.update(dtype="category", categories=dtype.categories.tolist(), ordered=bool(dtype.ordered),
                         categories_dtype=str(dtype.categories.dtype))
        if entry["dtype"] not in _SUPPORTED:  # a new column type in Result: teach this module to read it
            raise TypeError(f"Cannot save column {name!r} of dtype {dtype}; supported: {list(_SUPPORTED)}")
        columns.append(entry)
    return columns


# ---------------------------------------------------------------- reading

def _short(error: BaseException) -> str:
    """An error's message for ours: printable ASCII, at most 200 characters."""
    return clipped(f"{type(error).__name__}: {error}", 200)


def _check_sizes(archive: zipfile.ZipFile, path: str) -> None:
    """Refuse, before inflating anything, an archive of too many members, a JSON member over
    ``MAX_JSON_BYTES``, or frames whose declared sizes (text, then parsed) cannot fit this machine's memory:
    a zip bomb is refused by the sizes it declares, and no member is read past its declared size."""
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise ValueError(f"Invalid file {path!r}: {len(members):,} members, not a file written by Result.save")
    sizes = {member.filename: member.file_size for member in members}
    for name in (MANIFEST, CONFIG):
        if sizes.get(name, 0) > MAX_JSON_BYTES:
            raise ValueError(f"Invalid file {path!r}: the member {name} declares {sizes[name]:,} bytes, more than "
                             f"the {MAX_JSON_BYTES:,} a manifest or configuration needs")
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > 10 * MAX_JSON_BYTES and ratio > MAX_RATIO:
            raise ValueError(f"Invalid file {path!r}: the member {clipped(member.filename, 60)} declares "
                             f"{member.file_size:,} bytes from {member.compress_size:,} stored ({ratio:,.0f} times: "
                             f"the frames Result.save writes inflate under {MAX_RATIO}x); refused unread")
    text = sum(sizes.get(f"{name}.csv", 0) for name in FRAMES)
    check_fits(f"Loading {path!r} ({text:,} bytes of frames once inflated)", text * PARSED_PER_TEXT_BYTE,
               "load it on a machine with more memory")


def _member(archive: zipfile.ZipFile, name: str, path: str) -> bytes:
    try:
        return archive.read(name)
    except KeyError:
        raise ValueError(f"Invalid file {path!r}: the member {name!r} is missing, so it is not a complete file "
                         f"written by Result.save (members: {clipped(str(archive.namelist()[:10]), 200)})") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as error:
        raise ValueError(f"Invalid file {path!r}: the member {name} is damaged ({_short(error)})") from None


def _json(archive: zipfile.ZipFile, name: str, path: str) -> dict:
    try:
        value = json.loads(_member(archive, name, path))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
        raise ValueError(f"Invalid file {path!r}: {name} is not valid JSON of a sane depth ({_short(error)})") from None
    if not isinstance(value, dict):
        raise ValueError(f"Invalid file {path!r}: {name} should hold a JSON object, got a {type(value).__name__}")
    return value


def _manifest(archive: zipfile.ZipFile, path: str) -> dict:
    manifest = _json(archive, MANIFEST, path)
    if manifest.get("format") != FORMAT:
        raise ValueError(f"Invalid file {path!r}: {MANIFEST} names the format {manifest.get('format')!r}, "
                         f"not {FORMAT!r}")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(f"Invalid file {path!r}: written in format version {version!r} (by wil "
                         f"{manifest.get('wil_version', '?')}); this wil {_wil_version()} reads version "
                         f"{FORMAT_VERSION}")
    frames = manifest.get("frames")
    if not isinstance(frames, dict) or not all(isinstance(frames.get(name), list) for name in FRAMES):
        raise ValueError(f"Invalid file {path!r}: {MANIFEST} should list the columns of the frames {list(FRAMES)}")
    for name in FRAMES:
        for column in frames[name]:
            _check_column(column, f"{MANIFEST}, frame {name}", path)
    return manifest


def _check_column(column: object, where: str, path: str) -> None:
    """One column of the manifest: its name, a dtype this module reads, a categorical's categories."""
    def bad(what: str):
        return ValueError(f"Invalid file {path!r}: {where} has a column {what}")

    if not isinstance(column, dict) or not isinstance(column.get("name"), str):
        raise bad(f"without a name: {clipped(str(column), 80)}")
    if column.get("dtype") not in _SUPPORTED:
        raise bad(f"{column['name']!r} of dtype {clipped(str(column.get('dtype')), 40)}; this wil reads "
                  f"{list(_SUPPORTED)}")
    if column["dtype"] == "category":
        categories = column.get("categories")
        if not isinstance(categories, list) or not all(isinstance(c, (str, int, float)) for c in categories):
            raise bad(f"{column['name']!r} whose categories are not a list of values")
        if column.get("categories_dtype", "str") not in _SUPPORTED or not isinstance(column.get("ordered", False), bool):
            raise bad(f"{column['name']!r} whose categories' dtype or order is not readable")


def _stopped_epoch(manifest: dict, path: str) -> int | None:
    """The last epoch of a run stopped early (``wil.StopTraining``), else None (files written before it
    was recorded have none)."""
    stopped = manifest.get("stopped_epoch")
    if stopped is not None and (isinstance(stopped, bool) or not isinstance(stopped, int) or stopped < 0):
        raise ValueError(f"Invalid file {path!r}: {MANIFEST} gives stopped_epoch {stopped!r}, expected an "
                         f"epoch (an integer >= 0) or null")
    return stopped


def _config(fields: dict, path: str) -> Config:
    known = {field.name for field in dataclasses.fields(Config)}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise ValueError(f"Invalid file {path!r}: {CONFIG} has fields this wil's Config does not know: {unknown}")
    values = {name: tuple(value) if isinstance(value, list) else value for name, value in fields.items()}
    try:
        return Config(**values)
    except (TypeError, ValueError) as error:
        raise ValueError(f"Invalid file {path!r}: {CONFIG} is not a valid Config: {error}") from None


def _frame(archive: zipfile.ZipFile, name: str, columns: list[dict], path: str):
    """Frame ``name`` read back from its CSV with the dtypes of ``columns`` (from the manifest)."""
    import pandas as pd

    member = f"{name}.csv"
    try:
        names = [column["name"] for column in columns]
        kinds = [column["dtype"] for column in columns]
    except (TypeError, KeyError):
        raise ValueError(f"Invalid file {path!r}: {MANIFEST} describes the columns of {name} badly") from None
    unsupported = [kind for kind in kinds if kind not in _SUPPORTED]
    if unsupported:
        raise ValueError(f"Invalid file {path!r}: {name} has a column of dtype {unsupported[0]!r}; this wil reads "
                         f"{list(_SUPPORTED)}")
    # Read every column as written: "" is a missing value only where the dtype has one (floats, Int64).
    dtypes, missing = {}, {}
    for column in columns:
        kind = column["dtype"]
        if kind == "category":
            kind = column.get("categories_dtype", "str")
        dtypes[column["name"]] = kind
        missing[column["name"]] = [""] if kind in ("float64", "float32", "Int64") else []
    text = _member(archive, member, path)
    try:
        # pandas >= 3 parses floats correctly rounded by default (tests/test_io.py checks random doubles)
        frame = pd.read_csv(io.BytesIO(text), dtype=dtypes, keep_default_na=False, na_values=missing)
    except (ValueError, TypeError, OverflowError, KeyError, IndexError, pd.errors.ParserError) as error:
        raise ValueError(f"Invalid file {path!r}: {member} cannot be read with its manifest's dtypes "
                         f"({_short(error)})") from None
    if list(frame.columns) != names:
        raise ValueError(f"Invalid file {path!r}: {member} has the columns {list(frame.columns)[:12]}, its manifest "
                         f"{names[:12]}")
    for column in columns:
        if column["dtype"] == "category":
            values = frame[column["name"]]
            try:
                dtype = pd.CategoricalDtype(column["categories"], ordered=bool(column.get("ordered", False)))
            except (ValueError, TypeError) as error:  # repeated or mixed categories
                raise ValueError(f"Invalid file {path!r}: {MANIFEST} gives {name}'s column {column['name']!r} "
                                 f"categories pandas refuses ({_short(error)})") from None
            unknown = set(values.unique()) - set(dtype.categories)
            if unknown:
                raise ValueError(f"Invalid file {path!r}: {member} column {column['name']!r} holds "
                                 f"{sorted(map(str, unknown))[:3]}, not among its categories")
            frame[column["name"]] = values.astype(dtype)
    return frame


@register_accessor("save")
def _bound_save(result: Result):
    """``res.save(path)``: write this result to ``path``, a zip that ``wil.load(path)`` reads back with the same
    frames (see ``wil.export.io.save``)."""
    return lambda path: save(result, path)

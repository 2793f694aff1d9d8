"""Your own data: a CSV file uploaded in the sidebar, its target column chosen, trained like the built-ins.

The file is read here, within the server's limits (``POLICY.max_upload_*``: size, rows, columns, classes),
then handed to the library (``wil.from_frame``), which checks that it can train (numbers only,
nothing missing, no constant column, enough rows, two classes or more) and registers it under the hash of
its content. The data stays in the visitor's session: the session keeps its dataset and registers it again
on every run (the process forgets the oldest uploads beyond ``POLICY.max_user_datasets``); other visitors'
lists never show it; and the URL carries the default dataset with the flag ``data=uploaded`` instead, so a
copied link says that the data could not travel with it.

Everything a file brings (cells, headers, its name) reaches the page as plain text: a dataframe preview,
widget options, messages escaped by ``wil_app.text.plain_text``, and a file name reduced to safe characters.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re

import pandas as pd
import streamlit as st

import wil

from .inputs import never_raises
from .lessons import DEMO
from .policy import POLICY
from .state import DATA_FLAG, DATA_FLAG_VALUE, sync_url
from .text import plain_text

STATE = "user_datasets"  # session state: name -> DatasetSpec of the datasets this session uploaded
PARSED = "upload_parsed"  # session state: (file_id, DataFrame or None, error or None) of the last file
UPLOAD_SLACK = 4  # the upload widget takes files up to this many times the policy's size (refused in words)
BINARY_PROBE = 8192  # bytes looked at for NUL characters: a text file has none
NO_DATA_IN_LINK = ("A link to this page carries the configuration, not your data: for anyone else it opens "
                   "on the default dataset. Your data stays in this browser tab's session.")


# ---------------------------------------------------------------- reading a file

def read_csv(content: bytes) -> tuple[pd.DataFrame | None, str | None]:
    """The frame in ``content`` (the bytes of a CSV file), or None and the reason, in plain words.

    The server's limits are checked on the raw bytes and text first, so a hostile file costs little:
    size, binary content, the number of columns in the header and of lines, then the parse itself.
    """
    limit = POLICY.max_upload_bytes
    if len(content) > limit:
        return None, (f"The file is {len(content) / 1024 / 1024:.1f} MB; this server takes CSV files of at most "
                      f"{POLICY.max_upload_mb} MB.")
    if not content.strip():
        return None, "The file is empty."
    if b"\x00" in content[:BINARY_PROBE]:
        return None, ("This is not a text file (it holds binary data: a spreadsheet, an image?). Save the table "
                      "as CSV (comma-separated values, UTF-8) and upload that.")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("cp1252")  # what spreadsheets on Windows save as "CSV"
        except UnicodeDecodeError:
            return None, "The file is not text in UTF-8 or Windows encoding. Save it as CSV UTF-8."
    problem = shape_problem(text)
    if problem:
        return None, problem
    try:
        frame = pd.read_csv(io.StringIO(text), skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, csv.Error) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return None, f"The file could not be read as CSV: {first}"
    if frame.shape[1] > POLICY.max_upload_columns:
        return None, (f"The file has {frame.shape[1]:,} columns; this server takes at most "
                      f"{POLICY.max_upload_columns}.")
    if len(frame) > POLICY.max_upload_rows:
        return None, f"The file has {len(frame):,} rows; this server takes at most {POLICY.max_upload_rows:,}."
    if frame.shape[1] < 2:
        return None, ("The file has a single column: it needs a target column and at least one feature column, "
                      "separated by commas, with a header row.")
    frame.columns = [str(column) for column in frame.columns]
    return frame, None


def shape_problem(text: str) -> str | None:
    """Why the CSV ``text`` is over the server's limits or malformed, from one pass of the C csv reader
    before pandas sees it, or None: more columns than ``max_upload_columns`` (in the header or any row:
    a row of 100,000 fields kept pandas busy for minutes), a row wider than the header (pandas would
    silently make its first fields the index), more rows than ``max_upload_rows``, or no rows at all."""
    reader = csv.reader(io.StringIO(text), skipinitialspace=True)
    try:
        width, rows = len(next(reader, [])), 0
        if width > POLICY.max_upload_columns:
            return (f"The file has {width:,} columns; this server takes at most {POLICY.max_upload_columns} "
                    "(the features and the target).")
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue  # a blank line
            rows += 1
            if len(row) > width:
                fields = f"{len(row):,} fields" if len(row) <= POLICY.max_upload_columns else \
                    f"{len(row):,} columns; this server takes at most {POLICY.max_upload_columns}"
                return (f"Row {rows:,} (line {reader.line_num:,}) has {fields}, more than the header's "
                        f"{width}. Every row needs one value per column of the header.")
            if rows > POLICY.max_upload_rows:
                return (f"The file has more than {POLICY.max_upload_rows:,} rows; this server takes at most "
                        f"{POLICY.max_upload_rows:,}. Use a sample of them.")
    except csv.Error as error:
        return f"The file could not be read as CSV: line {reader.line_num:,}: {str(error)[:200]}"
    if rows == 0:
        return "The file has a header row but no data rows: nothing to train on."
    return None


def safe_label(file_name: str) -> str:
    """A dataset label from a file name: letters, digits and ``._-`` only, at most 40 of them."""
    stem = re.sub(r"[^A-Za-z0-9._ -]+", "_", str(file_name)).strip(" ._") or "upload"
    return f"Your data: {stem[:40]}"


def register(frame: pd.DataFrame, target: str, task: str | None, label: str) -> tuple[str | None, str | None]:
    """Register ``frame`` with the library within the server's limits: (name, None) or (None, reason)."""
    if task == "classification" or (task is None and wil.detect_task(frame[target].dropna()) == "classification"):
        n_classes = frame[target].nunique()
        if n_classes > POLICY.max_upload_classes:
            return None, (f"The target has {n_classes:,} classes; this server shows at most "
                          f"{POLICY.max_upload_classes}. Pick another target, or regression if it is a number.")
    try:
        name = wil.from_frame(frame, target, task=task, label=label)
    except ValueError as error:  # in the app a column is dropped by leaving it out, not from the frame
        return None, str(error).removeprefix("Invalid frame: ").replace("or drop it", "or leave it out").replace(
            "or drop them", "or leave them out").replace("; drop it", "; leave it out").replace(
            "; drop them", "; leave them out")
    _remember(name)
    return name, None


def _remember(name: str) -> None:
    """Keep ``name``'s spec in this session, and the process's registry of uploads within its bound."""
    mine = st.session_state.setdefault(STATE, {})
    mine[name] = wil.DATASETS[name]
    # list(): a copy in one step, as other sessions' threads may register or drop datasets meanwhile
    uploads = [key for key in list(wil.DATASETS) if key.startswith(wil.USER_PREFIX)]
    others = [key for key in uploads if key not in mine]
    excess = len(uploads) - POLICY.max_user_datasets
    for key in others[:max(excess, 0)]:  # the oldest first: dicts keep insertion order
        wil.DATASETS.pop(key, None)


# ---------------------------------------------------------------- the sidebar's hooks

def dataset_options() -> list[str]:
    """The dataset picker's options: the built-in datasets, then this session's uploads (registered again
    if the process dropped them). Other sessions' uploads are never listed."""
    mine = st.session_state.get(STATE, {})
    for name, spec in mine.items():
        wil.DATASETS.setdefault(name, spec)
    return [name for name in list(wil.DATASETS) if not name.startswith(wil.USER_PREFIX)] + list(mine)


def upload_panel() -> None:
    """The sidebar's "Your own data" expander: the file, its target and task, and the button that uses it."""
    chosen = str(st.session_state.get("dataset", "")).startswith(wil.USER_PREFIX)
    with st.expander("Your own data (CSV)", expanded=chosen or st.session_state.get("upload_file") is not None):
        uploaded = st.file_uploader(
            # the widget takes up to UPLOAD_SLACK times the policy's size, so that a file somewhat over it reaches
            # ``_parsed``, which refuses it in words (the widget's own refusal is a red mark and a tooltip)
            "A CSV file with a header row", type=["csv"], key="upload_file",
            max_upload_size=UPLOAD_SLACK * POLICY.max_upload_mb,
            help=f"Numbers only (besides a text target), at most {POLICY.max_upload_rows:,} rows, "
                 f"{POLICY.max_upload_columns} columns and {POLICY.max_upload_mb} MB. It stays in this session.")
        if uploaded is None:
            st.caption(f"Numeric columns and one target column, at most {POLICY.max_upload_mb} MB (a larger file "
                       "is refused). " + NO_DATA_IN_LINK.split(":")[0] + ".")
            return
        frame = _parsed(uploaded)
        if frame is None:
            return
        columns = list(frame.columns)
        if st.session_state.get("upload_target") not in columns:
            st.session_state["upload_target"] = columns[-1]
            _detect()
        st.caption(f"{len(frame):,} rows, {len(columns)} columns.")
        st.dataframe(frame.head(5), hide_index=True, key="upload_preview", height=150)
        st.selectbox("Target column (what to predict)", options=columns, key="upload_target", on_change=_detect)
        st.radio("Task", options=list(wil.TASKS), key="upload_task", horizontal=True,
                 help="Detected from the target: text, or up to 20 whole numbers, are classes.")
        target = st.session_state["upload_target"]
        st.session_state["upload_ignore"] = [c for c in st.session_state.get("upload_ignore", []) if c != target]
        st.multiselect("Columns to leave out (names, IDs, text)", options=[c for c in columns if c != target],
                       key="upload_ignore", placeholder="None: every other column is a feature")
        st.button("Train on this data", key="upload_use", on_click=_use, args=(uploaded.name,), type="primary",
                  width="stretch")
        error = st.session_state.get("upload_error")
        if error:
            st.error(plain_text(error), icon=":material/error:")
        if chosen:
            st.caption(NO_DATA_IN_LINK)


def _parsed(uploaded) -> pd.DataFrame | None:
    """The uploaded file's frame, read once per file (kept in the session); shows the reason if unreadable."""
    cached = st.session_state.get(PARSED)
    if cached is None or cached[0] != uploaded.file_id:
        size = getattr(uploaded, "size", None)
        if size is not None and size > POLICY.max_upload_bytes:  # never read a huge file at all
            frame, error = None, (f"The file is {size / 1024 / 1024:.1f} MB; this server takes CSV files of at "
                                  f"most {POLICY.max_upload_mb} MB.")
        else:  # a frame or a reason; anything unforeseen becomes a reason too (wil_app/inputs.py)
            (frame, error), problems = never_raises(lambda: (read_csv(uploaded.getvalue()), []),
                                                    lambda: (None, None), "The file")
            error = error or (problems[0] if problems else None)
        st.session_state[PARSED] = cached = (uploaded.file_id, frame, error)
        st.session_state.pop("upload_error", None)
        st.session_state.pop("upload_target", None)
        st.session_state.pop("upload_ignore", None)
    if cached[2]:
        st.error(plain_text(cached[2]), icon=":material/error:")
    return cached[1]


def _detect() -> None:
    """Callback of the target picker: the task detected from the new target."""
    frame = st.session_state.get(PARSED, (None, None, None))[1]
    target = st.session_state.get("upload_target")
    if frame is not None and target in frame.columns:
        column = frame[target].dropna()
        st.session_state["upload_task"] = wil.detect_task(column) if len(column) else "classification"


def _use(file_name: str) -> None:
    """Callback of "Train on this data": register it and point the dataset picker at it."""
    frame = st.session_state.get(PARSED, (None, None, None))[1]
    if frame is None:
        return
    ignored = [c for c in st.session_state.get("upload_ignore", []) if c in frame.columns]
    name, error = register(frame.drop(columns=ignored), st.session_state.get("upload_target"),
                           st.session_state.get("upload_task"), safe_label(file_name))
    st.session_state["upload_error"] = error
    if name is not None:
        st.session_state["dataset"] = name


# ---------------------------------------------------------------- the URL's hooks

def public_config(config: wil.Config) -> wil.Config:
    """``config`` as a link may carry it: uploaded data replaced by the default dataset."""
    if not config.dataset.startswith(wil.USER_PREFIX):
        return config
    try:
        return dataclasses.replace(config, dataset=DEMO.dataset)
    except ValueError:  # a mini-batch larger than the default dataset's training split
        return dataclasses.replace(config, dataset=DEMO.dataset, batch_size=None)


def public_query_params(config: wil.Config) -> dict[str, str]:
    """The query string of ``config``'s link: ``public_config``'s, plus the flag if the data was uploaded."""
    params = public_config(config).to_query_params()
    if config.dataset.startswith(wil.USER_PREFIX):
        params[DATA_FLAG] = DATA_FLAG_VALUE
    return params


def sync_url_with_data(config: wil.Config) -> None:
    """``sync_url`` of ``public_config(config)`` (``wil_app/state.py``), and the flag set or cleared."""
    sync_url(public_config(config))
    uploaded = config.dataset.startswith(wil.USER_PREFIX)
    if uploaded and st.query_params.get(DATA_FLAG) != DATA_FLAG_VALUE:
        st.query_params[DATA_FLAG] = DATA_FLAG_VALUE
    elif not uploaded and DATA_FLAG in st.query_params:
        if st.query_params.get(DATA_FLAG) == DATA_FLAG_VALUE and not st.session_state.get(STATE):
            st.session_state["_link_without_data"] = True  # opened from a link of someone's uploaded data
        del st.query_params[DATA_FLAG]


def data_notes(config: wil.Config) -> None:
    """Above the results: say that uploaded data is not in the link (theirs or the one this page opened)."""
    if config.dataset.startswith(wil.USER_PREFIX):
        st.info(NO_DATA_IN_LINK, icon=":material/lock:")
    elif st.session_state.get("_link_without_data") and config.dataset == DEMO.dataset:
        st.info("This link was copied from a page that showed uploaded data. Uploaded data cannot travel in "
                f"a link, so it opens on {wil.DATASETS[config.dataset].label} with the same network and "
                "training; upload the file here (sidebar, Your own data) to see it.", icon=":material/link_off:")

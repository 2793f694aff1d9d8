"""The Share & export tab: the link's query string, the configuration (and the view) as JSON, the result
frames as CSV; and loading such a JSON back, which restores the configuration and the view (the tab it
names is checked by the tabs' table, ``result_tabs``)."""

from __future__ import annotations

import dataclasses
import io
import json
import urllib.parse
import zipfile

import streamlit as st

import wil
from wil import charts

from ..lessons import DEMO
from ..policy import POLICY
from ..inputs import InputError, json_kind, never_raises, read_json_object
from ..state import ASKED_TAB, LAYERS, LOADED_NOTE, TAB_KEY, read_view, start_from, view_params
from ..text import quoted
from ..upload import NO_DATA_IN_LINK, public_query_params  # issue 13 hook: uploaded data is not in the link
from .training import TITLE as FIRST_TAB

VIEWED_TAB = "_viewed_tab"  # session key: the last tab opened other than this one (``result_tabs`` keeps it)

TITLE = "Share & export"
MAX_JSON_BYTES = 100_000  # a configuration is under 1 kB; anything much larger is not one
MAX_JSON_DEPTH = 3  # {..., "compare": [...], "view": {...}}: two levels; a third is refused when read
FRAMES = ("history", "layers", "histograms", "status", "grid", "points")


def share_tab(result: wil.Result) -> None:
    """Draw the tab for ``result``."""
    if st.session_state.pop("_loaded_upload", False):  # the uploader's callback changed the configuration:
        st.rerun()  # the whole page again (this tab is drawn in a fragment), so the sidebar shows it
    config = result.config
    st.markdown("**Share this view.** The address bar already holds the whole configuration; copy it. "
                "The query string is:")
    st.code("?" + urllib.parse.urlencode(public_query_params(config)), language=None, wrap_lines=True)
    if config.dataset.startswith(wil.USER_PREFIX):  # issue 13 hook
        st.caption(NO_DATA_IN_LINK)
    st.markdown("**Download.**")
    # the tab the visitor looked at before this one: the file reopens on the chart in view, not on Share
    view = {**view_params(charts.pick_layers(config.depth)), TAB_KEY: st.session_state.get(VIEWED_TAB) or FIRST_TAB}
    config_json = json.dumps({**dataclasses.asdict(config), "view": view}, indent=2)
    left, middle, right = st.columns(3)
    left.download_button("Configuration (JSON)", data=config_json, file_name="wil-config.json",
                         mime="application/json", key="download_config", on_click="ignore")
    middle.download_button("All result frames (CSV, zip)", data=lambda: zip_frames(result),
                           file_name="wil-results.zip", mime="application/zip", key="download_zip",
                           on_click="ignore")
    frame = right.selectbox("One frame as CSV", options=FRAMES, key="export_frame")
    right.download_button(f"{frame}.csv", data=lambda: getattr(result, frame).to_csv(index=False),
                          file_name=f"wil-{frame}.csv", mime="text/csv", key="download_frame", on_click="ignore")
    st.markdown("**Load a configuration.** A JSON downloaded above restores its configuration and its view "
                "(tab, epoch, layers).")
    st.file_uploader("Configuration (JSON)", type=["json"], key="upload_config", on_change=load_uploaded,
                     label_visibility="collapsed")


def read_config_json(data: bytes) -> tuple[wil.Config, dict[str, str], list[str]]:
    """The configuration and view a downloaded JSON describes, read as leniently as a link (through
    ``POLICY.parse_url``), and a message per problem. Never raises: a file that is not a configuration
    gives the default and says why."""
    (config, view), problems = never_raises(lambda: _read_config_json(data), lambda: (DEMO, {}), "The file")
    return config, view, problems


def _read_config_json(data: bytes) -> tuple[tuple[wil.Config, dict[str, str]], list[str]]:
    try:  # refused by its size and nesting before it is parsed (wil_app/inputs.py)
        document = read_json_object(data, "the file", MAX_JSON_BYTES, MAX_JSON_DEPTH)
    except InputError as error:
        return (DEMO, {}), [f"Not a configuration: {error}; using the default"]
    view = document.pop("view", {})
    problems, params = [], {}
    for key, value in document.items():
        text = json_text(value, key == "batch_size")
        if text is None:
            problems.append(f"Invalid {quoted(key)}: expected a number, a word or a list of them, got "
                            f"{json_kind(value)}; using the default")
        else:
            params[key] = text
    config, more = POLICY.parse_url(params, base=DEMO)
    problems += more
    if not isinstance(view, dict):
        problems.append(f"Invalid view: expected an object of view settings, got {json_kind(view)}; ignored")
        view = {}
    view_params = {}
    for key, value in view.items():
        text = json_text(value) if key == LAYERS or not isinstance(value, list) else None
        if text is None:
            problems.append(f"Invalid view {quoted(key)}: expected a number or a word, got {json_kind(value)}; "
                            "ignored")
        else:
            view_params[key] = text.replace(";", ",") if key == LAYERS else text
    return (config, view_params), problems


def json_text(value: object, none_is_full: bool = False) -> str | None:
    """A JSON value as a link's text: a number or a word as it is, a list of them joined by ``;``, null as
    ``full`` (the batch size's); None for anything else (an object, a nested list)."""
    if value is None:
        return "full" if none_is_full else ""
    if isinstance(value, list):
        parts = [json_text(item) for item in value]
        return None if any(part is None or isinstance(item, list) for part, item in zip(parts, value)) \
            else ";".join(parts)
    return None if isinstance(value, dict) else str(value)


def load_uploaded() -> None:
    """Callback of the file uploader: show the uploaded configuration and view (before the widgets are
    drawn), its problems quoted as a link's are, and the tab it names (checked by ``open_asked_tab`` on
    the next run, with the link's)."""
    uploaded = st.session_state.get("upload_config")
    if uploaded is None:
        return
    config, view, problems = read_config_json(uploaded.getvalue())
    start_from(config)
    problems += read_view(view, config.depth)
    if view.get(TAB_KEY):
        st.session_state[ASKED_TAB] = view[TAB_KEY]
    st.session_state["url_problems"] = problems
    st.session_state.pop("url_opened_config", None)  # the page sets it from what the widgets make of it
    st.session_state[LOADED_NOTE] = (f"Loaded the configuration of {quoted(getattr(uploaded, 'name', 'the file'))}"
                                     + (" (with problems, quoted below)." if problems else "."))
    st.session_state["_loaded_upload"] = True


def zip_frames(result: wil.Result) -> bytes:
    """Every result frame as CSV, and the configuration as JSON, in one zip archive."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in FRAMES:
            archive.writestr(f"{name}.csv", getattr(result, name).to_csv(index=False))
        archive.writestr("config.json", json.dumps(dataclasses.asdict(result.config), indent=2))
    return buffer.getvalue()

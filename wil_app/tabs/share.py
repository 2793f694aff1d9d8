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
from ..state import TAB_KEY, read_view, start_from, view_params
from ..upload import NO_DATA_IN_LINK, public_query_params  # issue 13 hook: uploaded data is not in the link
from .training import TITLE as FIRST_TAB

TITLE = "Share & export"
MAX_JSON_BYTES = 100_000  # a configuration is under 1 kB; anything much larger is not one
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
    view = {**view_params(charts.pick_layers(config.depth)), TAB_KEY: st.session_state.get(TAB_KEY) or FIRST_TAB}
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
    ``POLICY.parse_url``), and a message per problem. Never raises."""
    try:
        if len(data) > MAX_JSON_BYTES:
            raise ValueError(f"the file has {len(data):,} bytes, more than a configuration's {MAX_JSON_BYTES:,}")
        document = json.loads(data.decode("utf-8"))
        if not isinstance(document, dict):
            raise ValueError(f"expected a JSON object, got {type(document).__name__}")
    except (ValueError, UnicodeDecodeError) as error:
        return DEMO, {}, [f"the file is not a configuration ({str(error)[:200]}); using the default"]
    view = document.pop("view", {})
    params = {}
    for key, value in document.items():
        if isinstance(value, (list, tuple)):
            value = ";".join(str(v) for v in value)
        elif value is None and key == "batch_size":
            value = "full"
        params[str(key)] = str(value)
    config, problems = POLICY.parse_url(params, base=DEMO)
    view = {str(k): str(v) for k, v in view.items()} if isinstance(view, dict) else {}
    return config, view, problems


def load_uploaded() -> None:
    """Callback of the file uploader: show the uploaded configuration and view (before the widgets are
    drawn), its problems quoted as a link's are. The view's tab is kept as it is: the tabs drop a name
    that is not theirs."""
    uploaded = st.session_state.get("upload_config")
    if uploaded is None:
        return
    config, view, problems = read_config_json(uploaded.getvalue())
    start_from(config)
    problems += read_view(view, config.depth)
    if view.get(TAB_KEY):
        st.session_state[TAB_KEY] = view[TAB_KEY]
    st.session_state["url_problems"] = problems
    st.session_state["url_opened_config"] = config
    st.session_state["_loaded_upload"] = True


def zip_frames(result: wil.Result) -> bytes:
    """Every result frame as CSV, and the configuration as JSON, in one zip archive."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in FRAMES:
            archive.writestr(f"{name}.csv", getattr(result, name).to_csv(index=False))
        archive.writestr("config.json", json.dumps(dataclasses.asdict(result.config), indent=2))
    return buffer.getvalue()

"""The Share & export tab: the link's query string, the configuration as JSON, the result frames as CSV."""

from __future__ import annotations

import dataclasses
import io
import json
import urllib.parse
import zipfile

import streamlit as st

import wil

from .upload import NO_DATA_IN_LINK, public_query_params  # issue 13 hook: uploaded data is not in the link

FRAMES = ("history", "layers", "histograms", "status", "grid", "points")


def export_tab(result: wil.Result) -> None:
    config = result.config
    st.markdown("**Share this view.** The address bar already holds the whole configuration; copy it. "
                "The query string is:")
    st.code("?" + urllib.parse.urlencode(public_query_params(config)), language=None, wrap_lines=True)
    if config.dataset.startswith(wil.USER_PREFIX):  # issue 13 hook
        st.caption(NO_DATA_IN_LINK)
    st.markdown("**Download.**")
    config_json = json.dumps(dataclasses.asdict(config), indent=2)
    left, middle, right = st.columns(3)
    left.download_button("Configuration (JSON)", data=config_json, file_name="wil-config.json",
                         mime="application/json", key="download_config", on_click="ignore")
    middle.download_button("All result frames (CSV, zip)", data=lambda: _zip_frames(result),
                           file_name="wil-results.zip", mime="application/zip", key="download_zip",
                           on_click="ignore")
    frame = right.selectbox("One frame as CSV", options=FRAMES, key="export_frame")
    right.download_button(f"{frame}.csv", data=lambda: getattr(result, frame).to_csv(index=False),
                          file_name=f"wil-{frame}.csv", mime="text/csv", key="download_frame", on_click="ignore")


def _zip_frames(result: wil.Result) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in FRAMES:
            archive.writestr(f"{name}.csv", getattr(result, name).to_csv(index=False))
        archive.writestr("config.json", json.dumps(dataclasses.asdict(result.config), indent=2))
    return buffer.getvalue()

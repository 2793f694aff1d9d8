"""The view: what a visitor looks at besides the configuration (the epoch, the layers, the histogram's
quantity and x axis, presenter mode, the presenter's slide; the open tab is ``st.tabs``' own), in the URL.

A link is the view: ``?depth=8&...&epoch=150&layers=1,4,9&quantity=preactivation&presenter=1``. The
view's keys sit beside the configuration's; each is read once, on a session's first run, into the
session state the view's widgets use (invalid values are reported like the configuration's and
ignored), and written back whenever the view changes. Defaults are left out of the URL.
"""

from __future__ import annotations

import streamlit as st

# URL key -> session key of the widget (or of its shadow, for widgets a tab draws only when open)
EPOCH, LAYERS, QUANTITY, HISTOGRAM_X, PRESENTER, SLIDE = "epoch", "layers", "quantity", "hist", "presenter", "slide"
SESSION_KEYS = {EPOCH: "_view_epoch", LAYERS: "_view_layers", QUANTITY: "act_quantity", HISTOGRAM_X: "hist_x",
                PRESENTER: "presenter", SLIDE: "slide"}
VIEW_KEYS = tuple(SESSION_KEYS)
QUANTITIES = ("activation", "preactivation")
# the histograms' x axis: one per initializer, one shared by all, or log10 of the magnitude
HISTOGRAM_AXES = {"shared": "one x axis for all", "log": "log magnitude |x|", "own": "each its own x axis"}
DEFAULTS = {EPOCH: 0, QUANTITY: "activation", HISTOGRAM_X: "shared", PRESENTER: False, SLIDE: 0}
MAX_LAYERS_SHOWN = 51  # layers are numbered 1..depth + 1, depth <= 50


def url_params() -> dict[str, object]:
    """The URL's parameters, a repeated key as the list of its values (so that it can be reported)."""
    params = {}
    for key in st.query_params:
        values = st.query_params.get_all(key)
        params[key] = values if len(values) > 1 else (values[0] if values else "")
    return params


def presenter_requested() -> bool:
    """Presenter mode: the session's toggle, or on a first run the URL's flag (read before the page's
    config, which collapses the sidebar for a presenter)."""
    if PRESENTER in st.session_state:
        return bool(st.session_state[PRESENTER])
    value = st.query_params.get(PRESENTER)
    return _flag(value) is True


def read_view(params: dict[str, object], depth: int) -> list[str]:
    """Put the URL's view into session state (``depth``: the configuration's, for the layers). Returns a
    message per problem, quoting what was received in a short form; bad values are ignored."""
    problems = []
    for key in VIEW_KEYS:
        if key not in params:
            continue
        raw = params[key]
        if isinstance(raw, list):
            problems.append(f"{key} was given {len(raw)} times; using the last")
            raw = raw[-1]
        raw = str(raw)
        value = _parse(key, raw, depth)
        if value is None:
            problems.append(f"Invalid {key}: got {_short(raw)}; {_allowed(key)}")
            continue
        st.session_state[SESSION_KEYS[key]] = value
        if key == LAYERS:
            st.session_state["_view_layers_depth"] = depth
    return problems


def _parse(key: str, raw: str, depth: int):
    """The session value of a view key's URL text, or None if it is invalid."""
    raw = raw.strip()
    if key in (EPOCH, SLIDE):
        return int(raw) if raw.isdigit() and len(raw) <= 6 else None
    if key == LAYERS:
        parts = [part.strip() for part in raw.split(",") if part.strip()]
        if not parts or len(parts) > MAX_LAYERS_SHOWN or not all(p.isdigit() and len(p) <= 3 for p in parts):
            return None
        layers = sorted({int(p) for p in parts})
        return layers if all(1 <= layer <= depth + 1 for layer in layers) else None
    if key == QUANTITY:
        return raw if raw in QUANTITIES else None
    if key == HISTOGRAM_X:
        return raw if raw in HISTOGRAM_AXES else None
    return _flag(raw)


def _flag(raw) -> bool | None:
    text = str(raw).strip().lower() if raw is not None else ""
    return True if text in ("1", "true", "on", "yes") else False if text in ("0", "false", "off", "no") else None


def _allowed(key: str) -> str:
    return {EPOCH: "allowed a recorded epoch (a whole number)", SLIDE: "allowed a whole number",
            LAYERS: "allowed layer numbers 1..depth + 1, comma-separated",
            QUANTITY: f"allowed {', '.join(QUANTITIES)}", HISTOGRAM_X: f"allowed {', '.join(HISTOGRAM_AXES)}",
            PRESENTER: "allowed 1 or 0"}[key] + "; ignored"


def _short(raw: str, limit: int = 40) -> str:
    """What was received, as printable ASCII, at most ``limit`` characters, quoted."""
    text = raw.encode("ascii", "backslashreplace").decode("ascii")
    text = "".join(c if " " <= c <= "~" else f"\\x{ord(c):02x}" for c in text)
    return repr(text if len(text) <= limit else text[:limit] + "...")


def view_params(default_layers: list[int]) -> dict[str, str]:
    """The view in the session as URL parameters, defaults left out (``default_layers``: the layers shown
    when none are chosen)."""
    state = st.session_state
    out = {}
    epoch = state.get("_view_epoch", 0)
    if epoch:
        out[EPOCH] = str(int(epoch))
    layers = state.get("_view_layers")
    if layers and sorted(layers) != sorted(default_layers):
        out[LAYERS] = ",".join(str(int(layer)) for layer in sorted(layers))
    for key in (QUANTITY, HISTOGRAM_X):
        value = state.get(SESSION_KEYS[key], DEFAULTS[key])
        if value != DEFAULTS[key]:
            out[key] = str(value)
    if state.get(PRESENTER):
        out[PRESENTER] = "1"
        if state.get(SLIDE):
            out[SLIDE] = str(int(state[SLIDE]))
    return out


def sync_view(default_layers: list[int]) -> None:
    """Make the URL's view keys hold the session's view (the configuration's keys are ``sync_url``'s)."""
    wanted = view_params(default_layers)
    for key in VIEW_KEYS:
        if key in wanted:
            if st.query_params.get(key) != wanted[key]:
                st.query_params[key] = wanted[key]
        elif key in st.query_params:
            del st.query_params[key]

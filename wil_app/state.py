"""URL <-> session state, in one place: the configuration and the view a link carries, read once into the
session the widgets use, and written back.

State flows one way: the URL (first load) -> session state -> sidebar widgets -> ``Config`` -> URL.

- The configuration: its fields are the query's keys (``wil.Config.to_query_params``), read through the
  server's policy (``POLICY.parse_url``) over the demo, on a session's first run (``init_from_url``), and
  written back whenever it changes (``sync_url``).
- The view: what a visitor looks at besides the configuration (the epoch, the layers, the histogram's
  quantity and x axis, presenter mode, the presenter's slide; the open tab is ``st.tabs``' own, bound to
  ``TAB_KEY``). A link is the view: ``?depth=8&...&epoch=150&layers=1,4,9&quantity=preactivation&presenter=1``.
  Each view key is read once into the session state its widget uses (invalid values are reported like the
  configuration's and ignored), and written back whenever the view changes (``sync_view``). Defaults are
  left out of the URL.
- The other keys: the workshop modes (``QUIZ_PARAM``, ``TOUR_PARAM``), the flag of uploaded data
  (``DATA_FLAG``) and Streamlit's own.

Callbacks that point every widget at a configuration (``start_from``, the lessons') live here too.
"""

from __future__ import annotations

import streamlit as st

import wil

from .lessons import DEMO, LESSONS
from .inputs import never_raises, whole_number
from .policy import POLICY
from .text import quoted

# URL key -> session key of the widget (or of its shadow, for widgets a tab draws only when open)
EPOCH, LAYERS, QUANTITY, HISTOGRAM_X, PRESENTER, SLIDE = "epoch", "layers", "quantity", "hist", "presenter", "slide"
SESSION_KEYS = {EPOCH: "_view_epoch", LAYERS: "_view_layers", QUANTITY: "act_quantity", HISTOGRAM_X: "hist_x",
                PRESENTER: "presenter", SLIDE: "slide"}
VIEW_KEYS = tuple(SESSION_KEYS)
QUANTITIES = ("activation", "preactivation")
# the histograms' x axis: log10 of the magnitude (the default: a signal 1e-10 times smaller is ten decades to
# the left, where a shared linear axis draws every small initializer as one bar at 0), one per initializer,
# or one shared by all (a click away)
HISTOGRAM_AXES = {"log": "log magnitude |x|", "own": "each its own x axis", "shared": "one x axis for all"}
DEFAULTS = {EPOCH: 0, QUANTITY: "activation", HISTOGRAM_X: "log", PRESENTER: False, SLIDE: 0}
MAX_LAYERS_SHOWN = 51  # layers are numbered 1..depth + 1, depth <= 50
TAB_KEY = "tab"  # the open tab (st.tabs binds it to the URL itself)
ASKED_TAB = "_tab_asked"  # session: a tab a loaded configuration names, opened (or refused) on the next run
LOADED_NOTE = "_loaded_note"  # session: the line that says a configuration file was loaded, shown once
QUIZ_PARAM, TOUR_PARAM = "quiz", "tour"  # the workshop modes' keys (1-based question or step)
DATA_FLAG, DATA_FLAG_VALUE = "data", "uploaded"  # this page showed uploaded data, which a link does not carry
URL_KEYS_NOT_CONFIG = (TAB_KEY, "embed", "embed_options", *VIEW_KEYS,  # the view, Streamlit's own
                       DATA_FLAG, QUIZ_PARAM, TOUR_PARAM)
# the Config fields whose widget holds the field's value as it is
PLAIN_FIELDS = ("dataset", "n_samples", "noise", "depth", "width", "activation", "optimizer", "learning_rate",
                "epochs", "n_seeds", "seed", "dtype")


# ---------------------------------------------------------------- the URL

def url_params() -> dict[str, object]:
    """The URL's parameters, a repeated key as the list of its values (so that it can be reported)."""
    params = {}
    for key in st.query_params:
        values = st.query_params.get_all(key)
        params[key] = values if len(values) > 1 else (values[0] if values else "")
    return params


def init_from_url() -> None:
    """On a session's first run: read the URL once, remember its problems, and seed the widgets."""
    if "url_config" in st.session_state:
        return
    params = url_params()

    def read() -> tuple[wil.Config, list[str]]:
        config, problems = config_from_url(params)
        return config, problems + read_view(params, config.depth)

    config, problems = never_raises(read, lambda: DEMO, "The link")  # a config or a message, never an error
    st.session_state["url_config"] = config
    st.session_state["url_problems"] = problems
    load_config(config)


def config_from_url(params: dict) -> tuple[wil.Config, list[str]]:
    """The demo config with the URL's valid fields applied, and one message per problem. Never raises."""
    params = {key: value for key, value in params.items() if key not in URL_KEYS_NOT_CONFIG}
    return POLICY.parse_url(params, base=DEMO)


def sync_url(config: wil.Config) -> None:
    """Make the URL hold exactly ``config`` (plus the view and the other keys, which are kept)."""
    wanted = config.to_query_params()
    for key in [key for key in st.query_params if key not in wanted and key not in URL_KEYS_NOT_CONFIG]:
        del st.query_params[key]
    changed = {key: value for key, value in wanted.items() if st.query_params.get(key) != value}
    if changed:
        st.query_params.update(changed)


# ---------------------------------------------------------------- Config <-> session state

def slot_key(slot: int, name: str | None = None, param: str | None = None) -> str:
    """The session key of initializer slot ``slot``'s name, or of parameter ``param`` of initializer ``name``."""
    return f"init{slot}_name" if name is None else f"init{slot}_{name}_{param}"


def config_to_state(cfg: wil.Config) -> dict:
    """The widget values that show ``cfg``."""
    state = {field: getattr(cfg, field) for field in PLAIN_FIELDS}
    state["batch_size"] = "full" if cfg.batch_size is None else cfg.batch_size
    state["normalization"] = normalization_word(cfg.normalization)
    state["residual"] = cfg.residual
    state["n_initializers"] = len(cfg.labels)
    state["base_initializer"] = cfg.initializer
    for slot, label in enumerate(cfg.labels):
        name, params = wil.parse_entry(label)
        state[slot_key(slot)] = name
        for param, value in params.items():
            state[slot_key(slot, name, param)] = value
    return state


def normalization_word(normalization: str | None) -> str:
    """The normalization widget's value of ``Config.normalization``: its URL form, "none" for None."""
    return "none" if normalization is None else normalization


def load_config(cfg: wil.Config) -> None:
    """Point every widget at ``cfg`` (before the widgets are drawn, or from a callback)."""
    for key, value in config_to_state(cfg).items():
        st.session_state[key] = value


def start_from(config: wil.Config) -> None:
    """Callback: forget every initializer slot's widgets, then show ``config``."""
    for key in [key for key in st.session_state
                if str(key).lstrip("_").startswith("init") and str(key).lstrip("_")[4:5].isdigit()]:
        del st.session_state[key]  # the slots' widgets and their shadows
    load_config(config)


def start_lesson() -> None:
    """Callback of the lesson picker: load the lesson, then show the picker empty again."""
    lesson = st.session_state.get("lesson")
    if lesson in LESSONS:
        start_from(LESSONS[lesson])
        st.session_state["lesson_index"] = list(LESSONS).index(lesson)
    st.session_state["lesson"] = None


def lesson_step(step: int) -> None:
    """Callback of presenter mode's previous/next lesson buttons: the lessons in turn, from the one shown."""
    names = list(LESSONS)
    index = (int(st.session_state.get("lesson_index", 0)) + step) % len(names)
    start_from(LESSONS[names[index]])
    st.session_state["lesson_index"] = index
    st.session_state[SLIDE] = 0


# ---------------------------------------------------------------- the view

def presenter_requested() -> bool:
    """Presenter mode: the session's toggle, or on a first run the URL's flag (read before the page's
    config, which collapses the sidebar for a presenter)."""
    if PRESENTER in st.session_state:
        return bool(st.session_state[PRESENTER])
    return flag(st.query_params.get(PRESENTER)) is True


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
        value = parse_view_value(key, raw, depth)
        if value is None:
            problems.append(f"Invalid {key}: got {quoted(raw)}; {allowed_view_values(key)}")
            continue
        st.session_state[SESSION_KEYS[key]] = value
        if key == LAYERS:
            st.session_state["_view_layers_depth"] = depth
    return problems


def parse_view_value(key: str, raw: str, depth: int):
    """The session value of a view key's URL text, or None if it is invalid."""
    raw = raw.strip()
    if key in (EPOCH, SLIDE):
        return whole_number(raw, 0, 999_999)
    if key == LAYERS:
        parts = [part.strip() for part in raw.split(",") if part.strip()]
        if not parts or len(parts) > MAX_LAYERS_SHOWN or not all(p.isascii() and p.isdigit() and len(p) <= 3 for p in parts):
            return None
        layers = sorted({int(p) for p in parts})
        return layers if all(1 <= layer <= depth + 1 for layer in layers) else None
    if key == QUANTITY:
        return raw if raw in QUANTITIES else None
    if key == HISTOGRAM_X:
        return raw if raw in HISTOGRAM_AXES else None
    return flag(raw)


def flag(raw) -> bool | None:
    """A URL flag's value: True for 1/true/on/yes, False for 0/false/off/no, else None."""
    text = str(raw).strip().lower() if raw is not None else ""
    return True if text in ("1", "true", "on", "yes") else False if text in ("0", "false", "off", "no") else None


def allowed_view_values(key: str) -> str:
    """What view key ``key`` allows, for a problem message."""
    return {EPOCH: "allowed a recorded epoch (a whole number)", SLIDE: "allowed a whole number",
            LAYERS: "allowed layer numbers 1..depth + 1, comma-separated",
            QUANTITY: f"allowed {', '.join(QUANTITIES)}", HISTOGRAM_X: f"allowed {', '.join(HISTOGRAM_AXES)}",
            PRESENTER: "allowed 1 or 0"}[key] + "; ignored"


def view_params(default_layers: list[int]) -> dict[str, str]:
    """The view in the session as URL parameters, defaults left out (``default_layers``: the layers shown
    when none are chosen)."""
    state = st.session_state
    out = {}
    epoch = state.get(SESSION_KEYS[EPOCH], 0)
    if epoch:
        out[EPOCH] = str(int(epoch))
    layers = state.get(SESSION_KEYS[LAYERS])
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

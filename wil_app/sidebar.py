"""The sidebar: every configuration widget, read into a ``Config``; and the state behind it.

State flows one way: the URL (first load) -> session state -> sidebar widgets -> ``Config`` -> URL.
"""

from __future__ import annotations

import streamlit as st

import wil
from wil import charts

from .lessons import DEMO, LESSONS
from .policy import POLICY
from .upload import dataset_options, upload_panel  # issue 13 hook: your own data
from .view import PRESENTER, VIEW_KEYS, read_view, url_params

MAX_SLOTS = int(POLICY.caps["compare"][1])
# Offered when a slot is added: the next of these not yet compared.
NEW_SLOT_NAMES = ("he_normal", "glorot_uniform", "lecun_normal", "orthogonal", "zeros", "random_normal",
                  "he_uniform", "glorot_normal", "lsuv", "torch_default", "random_uniform", "truncated_normal")
SECONDARY_PARAMS = ("mean", "tol", "max_iter")  # rarely changed: behind "More parameters"
OPTIMIZER_LABELS = {"sgd": "SGD", "momentum": "SGD + momentum (0.9)", "adam": "Adam"}
DTYPE_LABELS = {"float64": "float64 (exact)", "float32": "float32 (faster)"}
FAMILY_NOTES = {"relu": "ReLU family: a unit that never fires is dead.",
                "saturating": "Saturating: a unit pushed to its flat tails stops learning.",
                "smooth": "Smooth: no dead or saturated units to count."}
TAB_KEY = "tab"
URL_KEYS_NOT_CONFIG = (TAB_KEY, "embed", "embed_options", *VIEW_KEYS,  # the view (wil_app/view.py), Streamlit's own
                       "data", "quiz", "tour")  # issue 13 hook: uploaded data's flag, the workshop modes


# ---------------------------------------------------------------- option lists (display only)

def _decades(low: float, high: float, mantissas=(1, 2, 5)) -> list[float]:
    """1-2-5 steps from ``low`` to ``high``, as exact decimal floats."""
    values = []
    for exponent in range(-8, 6):
        for mantissa in mantissas:
            value = float(f"{mantissa}e{exponent}")
            if low <= value <= high:
                values.append(value)
    return values


def _with(options: list, value) -> list:
    """``options`` plus ``value`` (from a URL, say) if it is missing, numbers kept in order."""
    if value is None or value in options:
        return list(options)
    words = [option for option in options if isinstance(option, str)]
    return words + sorted([option for option in options if not isinstance(option, str)] + [value])


SAMPLES = [50, 100, 200, 300, 400, 500, 750, 1000, 1500, 2000, 3000, 5000]
WIDTHS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
EPOCHS = [1, 2, 5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000]
BATCHES = [8, 16, 32, 64, 128, 256, 512, 1024, 2048]
LEARNING_RATES = _decades(1e-4, 10.0)
PARAM_RANGES = {"scale": (0.01, 100.0)}  # the multiplier offered: x0.01 ... x100
LOG_PARAM_RANGE = (1e-4, 100.0)


def _param_options(name: str, key: str, value: float) -> list[float]:
    param = wil.INITIALIZERS[name].params[key]
    low, high = PARAM_RANGES.get(key, LOG_PARAM_RANGE)
    return _with(_decades(max(low, param.low), min(high, param.high)), value)


def _number(value: float) -> str:
    return f"{value:g}"


# ---------------------------------------------------------------- Config <-> session state

def _slot_key(slot: int, name: str | None = None, param: str | None = None) -> str:
    return f"init{slot}_name" if name is None else f"init{slot}_{name}_{param}"


def config_to_state(cfg: wil.Config) -> dict:
    """The widget values that show ``cfg``."""
    state = {field: getattr(cfg, field) for field in
             ("dataset", "n_samples", "noise", "depth", "width", "activation", "optimizer", "learning_rate",
              "epochs", "n_seeds", "seed", "dtype")}
    state["batch_size"] = "full" if cfg.batch_size is None else cfg.batch_size
    state["n_initializers"] = len(cfg.labels)
    state["base_initializer"] = cfg.initializer
    for slot, label in enumerate(cfg.labels):
        name, params = wil.parse_entry(label)
        state[_slot_key(slot)] = name
        for param, value in params.items():
            state[_slot_key(slot, name, param)] = value
    return state


def load_config(cfg: wil.Config) -> None:
    """Point every widget at ``cfg`` (before the widgets are drawn, or from a callback)."""
    for key, value in config_to_state(cfg).items():
        st.session_state[key] = value


def config_from_url(params: dict) -> tuple[wil.Config, list[str]]:
    """The demo config with the URL's valid fields applied, and one message per problem. Never raises."""
    params = {key: value for key, value in params.items() if key not in URL_KEYS_NOT_CONFIG}
    return POLICY.parse_url(params, base=DEMO)


def plain_text(message: str, limit: int = 300) -> str:
    """``message`` (which may quote URL text) shown literally: the policy's escaping (``POLICY.escape``)."""
    return POLICY.escape(message, limit)


def sync_url(config: wil.Config) -> None:
    """Make the URL hold exactly ``config`` (plus the open tab, which ``st.tabs`` keeps itself)."""
    wanted = config.to_query_params()
    for key in [key for key in st.query_params if key not in wanted and key not in URL_KEYS_NOT_CONFIG]:
        del st.query_params[key]
    changed = {key: value for key, value in wanted.items() if st.query_params.get(key) != value}
    if changed:
        st.query_params.update(changed)


def init_from_url() -> None:
    """On a session's first run: read the URL once, remember its problems, and seed the widgets."""
    if "url_config" in st.session_state:
        return
    params = url_params()
    config, problems = config_from_url(params)
    problems += read_view(params, config.depth)
    st.session_state["url_config"] = config
    st.session_state["url_problems"] = problems
    load_config(config)


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
    st.session_state["slide"] = 0


# ---------------------------------------------------------------- sidebar

def _select_slider(label: str, key: str, options: list, **kwargs):
    return st.select_slider(label, options=_with(options, st.session_state.get(key)), key=key, **kwargs)


def initializer_slot(slot: int, used: list[str]) -> str | None:
    """One initializer of the comparison: its name and parameters. Returns its label (None if invalid).

    Streamlit forgets the state of widgets it did not draw, so a slot removed by lowering the count would
    come back as a new one: each slot's choices are kept in shadow keys ("_init2_name", ...) and restored."""
    for key in [key for key in st.session_state if str(key).startswith(f"_init{slot}_")]:
        st.session_state.setdefault(key[1:], st.session_state[key])
    if _slot_key(slot) not in st.session_state:
        st.session_state[_slot_key(slot)] = next((n for n in NEW_SLOT_NAMES if n not in used), "he_normal")
    with st.container(border=True):
        swatch = st.empty()
        name = st.selectbox(f"Initializer {slot + 1}", options=list(wil.INITIALIZERS), key=_slot_key(slot),
                            format_func=lambda n: wil.INITIALIZERS[n].label)
        spec = wil.INITIALIZERS[name]
        params = {}
        main = [k for k in spec.params if k not in SECONDARY_PARAMS]
        extra = [k for k in spec.params if k in SECONDARY_PARAMS]
        for key in main:
            params[key] = _param_widget(slot, name, key)
        if extra:
            with st.expander("More parameters"):
                for key in extra:
                    params[key] = _param_widget(slot, name, key)
        for key in [key for key in st.session_state if str(key).startswith(f"init{slot}_")]:
            st.session_state["_" + key] = st.session_state[key]  # the shadow of the slot's choices
        try:
            label = wil.make_label(name, params)
        except ValueError as error:
            st.error(str(error))
            return None
        # the colour this initializer has in every chart (a constant from the palette, no user text)
        labels = used if label in used else [*used, label]
        swatch.html(f"<div style='height:6px;border-radius:3px;background:{charts.color_of(labels, label)}'></div>")
        return label


def _param_widget(slot: int, name: str, key: str) -> float:
    param = wil.INITIALIZERS[name].params[key]
    widget_key = _slot_key(slot, name, key)
    st.session_state.setdefault(widget_key, param.default)
    if param.log:
        label = "Scale (multiplier ×)" if key == "scale" else f"{key} (log scale)"
        return st.select_slider(label, options=_param_options(name, key, st.session_state[widget_key]),
                                key=widget_key, format_func=_number, help=param.description)
    if param.integer:
        return st.number_input(key, min_value=int(param.low), max_value=int(param.high), step=1,
                               key=widget_key, help=param.description)
    return st.number_input(key, min_value=float(param.low), max_value=float(param.high), step=0.01,
                           format="%.3f", key=widget_key, help=param.description)


def sidebar_config() -> tuple[wil.Config | None, list[str], list[str]]:
    """Read the sidebar. Returns the Config (None if invalid; maybe over the server's budgets, which the
    page adapts it to), error messages and notes."""
    sidebar = st.sidebar
    errors, notes = [], []
    with sidebar:
        st.toggle("Presenter mode", key=PRESENTER, help="Big chart text, the verdicts and one chart per screen, "
                  "next and previous lesson. Also in the link (presenter=1).")
        st.button("↺ Reset to the demo", key="reset", on_click=start_from, args=(DEMO,), width="stretch",
                  help="Zeros, a too-small and a too-large normal, Glorot and He on two moons with ReLU.")
        st.selectbox("Start from a lesson", options=list(LESSONS), index=None, key="lesson",
                     placeholder="A prepared comparison…", on_change=start_lesson)

        st.header("Data")
        dataset = st.selectbox("Dataset", options=dataset_options(), key="dataset",  # issue 13 hook: + uploads
                               format_func=lambda n: wil.DATASETS[n].label)
        spec = wil.DATASETS[dataset]
        st.caption(spec.description)
        upload_panel()  # issue 13 hook: the CSV upload (wil_app/upload.py)
        n_samples = _select_slider("Samples (25% held out for testing)", "n_samples", SAMPLES,
                                   disabled=not spec.uses_samples)
        noise = st.slider("Noise", min_value=0.0, max_value=2.0, step=0.05, key="noise",
                          disabled=not spec.uses_noise)

        st.header("Network")
        depth = st.slider("Hidden layers (depth)", min_value=1, max_value=int(POLICY.caps["depth"][1]), key="depth")
        width = _select_slider("Units per hidden layer (width)", "width", WIDTHS)
        activation = st.selectbox("Activation", options=list(wil.ACTIVATIONS), key="activation",
                                  format_func=lambda n: wil.ACTIVATIONS[n].label)
        st.caption(FAMILY_NOTES[wil.ACTIVATIONS[activation].family])

        st.header("Initialization")
        st.number_input("Initializers to compare", min_value=1, max_value=MAX_SLOTS, step=1, key="n_initializers")
        labels = []
        for slot in range(int(st.session_state["n_initializers"])):
            label = initializer_slot(slot, labels)
            if label is None:
                errors.append(f"Initializer {slot + 1} has an invalid parameter.")
            elif label in labels:
                notes.append(f"Initializer {slot + 1} repeats {label}; it is compared once.")
            else:
                labels.append(label)

        st.header("Training")
        optimizer = st.selectbox("Optimizer", options=list(OPTIMIZER_LABELS), key="optimizer",
                                 format_func=OPTIMIZER_LABELS.get)
        learning_rate = _select_slider("Learning rate (log scale)", "learning_rate", LEARNING_RATES,
                                       format_func=_number)
        epochs = _select_slider("Epochs", "epochs", EPOCHS)
        n_train = wil.Config(dataset=dataset, n_samples=int(n_samples)).n_train()
        asked = st.session_state.get("batch_size")
        if asked != "full" and asked is not None and int(asked) >= n_train:  # e.g. 256, then Iris (112)
            st.session_state["batch_size"] = "full"
            notes.append(f"A batch of {asked} is at least the {n_train} training examples of "
                         f"{spec.label}: training on the full batch.")
        batch = _select_slider("Batch size", "batch_size", ["full", *(b for b in BATCHES if b < n_train)],
                               format_func=lambda b: "full batch" if b == "full" else str(b),
                               help=f"{n_train} training examples; a mini-batch order shared by every network.")
        n_seeds = st.slider("Seeds per initializer (bands)", min_value=1, max_value=10, key="n_seeds")
        seed = st.number_input("Seed (data, batches, first network)", min_value=0,
                               max_value=int(POLICY.caps["seed"][1]), step=1, key="seed")
        dtype = st.selectbox("Precision", options=list(DTYPE_LABELS), key="dtype", format_func=DTYPE_LABELS.get)

    if errors:
        return None, errors, notes
    try:
        config = wil.Config(
            dataset=dataset, n_samples=int(n_samples), noise=float(noise),
            initializer=st.session_state.get("base_initializer", labels[0]), compare=tuple(labels),
            activation=activation, depth=int(depth), width=int(width), epochs=int(epochs),
            learning_rate=float(learning_rate), optimizer=optimizer,
            batch_size=None if batch == "full" else int(batch), seed=int(seed), n_seeds=int(n_seeds), dtype=dtype)
    except ValueError as error:
        return None, [str(error)], notes
    return config, errors, notes  # maybe over the server's budgets: the page fits it (POLICY.fit)

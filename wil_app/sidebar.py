"""The sidebar: every configuration widget, read into a ``Config`` (``sidebar_config``).

The options are the registries' (``wil.DATASETS``, ``wil.ACTIVATIONS``, ``wil.INITIALIZERS``,
``wil.OPTIMIZERS``, each entry's ``label``): an entry added to one appears here with no other edit. The
widgets' values live in session state, which ``wil_app/state.py`` fills from the URL and from the lessons;
this module only draws the widgets and reads them.
"""

from __future__ import annotations

from typing import NamedTuple

import streamlit as st

import wil
from wil import charts

from .lessons import DEMO, LESSONS
from .policy import POLICY
from .state import PRESENTER, normalization_word, slot_key, start_from, start_lesson
from .text import number
from .upload import dataset_options, upload_panel  # issue 13 hook: your own data

MAX_SLOTS = int(POLICY.caps["compare"][1])
# Offered first when a slot is added: the next of these not yet compared (then any other initializer).
NEW_SLOT_NAMES = ("he_normal", "glorot_uniform", "lecun_normal", "orthogonal", "zeros", "random_normal",
                  "he_uniform", "glorot_normal", "lsuv", "torch_default", "random_uniform", "truncated_normal")
SECONDARY_PARAMS = ("mean", "tol", "max_iter")  # rarely changed: behind "More parameters"
DTYPE_LABELS = {"float64": "float64 (exact)", "float32": "float32 (faster)"}
FAMILY_NOTES = {"relu": "ReLU family: a unit that never fires is dead.",
                "saturating": "Saturating: a unit pushed to its flat tails stops learning.",
                "smooth": "Smooth: no dead or saturated units to count."}


class SidebarReading(NamedTuple):
    """What the sidebar's widgets say: the ``Config`` (None if invalid; maybe over the server's budgets,
    which the page adapts it to, ``POLICY.fit``), error messages, and notes on how it was read."""

    config: wil.Config | None
    errors: list[str]
    notes: list[str]


# ---------------------------------------------------------------- option lists (display only)

def decades(low: float, high: float, mantissas=(1, 2, 5)) -> list[float]:
    """1-2-5 steps from ``low`` to ``high``, as exact decimal floats."""
    values = []
    for exponent in range(-8, 6):
        for mantissa in mantissas:
            value = float(f"{mantissa}e{exponent}")
            if low <= value <= high:
                values.append(value)
    return values


def with_value(options: list, value) -> list:
    """``options`` plus ``value`` (from a URL, say) if it is missing, numbers kept in order."""
    if value is None or value in options:
        return list(options)
    words = [option for option in options if isinstance(option, str)]
    return words + sorted([option for option in options if not isinstance(option, str)] + [value])


SAMPLES = [50, 100, 200, 300, 400, 500, 750, 1000, 1500, 2000, 3000, 5000]
WIDTHS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
EPOCHS = [1, 2, 5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000]
BATCHES = [8, 16, 32, 64, 128, 256, 512, 1024, 2048]
LEARNING_RATES = decades(1e-4, 10.0)
PARAM_RANGES = {"scale": (0.01, 100.0)}  # the multiplier offered: x0.01 ... x100
LOG_PARAM_RANGE = (1e-4, 100.0)


def param_options(name: str, key: str, value: float) -> list[float]:
    """The values offered for log-scale parameter ``key`` of initializer ``name`` (and ``value``)."""
    param = wil.INITIALIZERS[name].params[key]
    low, high = PARAM_RANGES.get(key, LOG_PARAM_RANGE)
    return with_value(decades(max(low, param.low), min(high, param.high)), value)


def select_slider(label: str, key: str, options: list, **kwargs):
    """A select slider whose options include the session's value (from a URL or a lesson)."""
    return st.select_slider(label, options=with_value(options, st.session_state.get(key)), key=key, **kwargs)


def registry_select(label: str, key: str, registry: dict, names: list[str] | None = None, **kwargs) -> str:
    """A select box over a registry's names (or ``names`` of it), each shown by its entry's ``label``."""
    options = list(registry) if names is None else with_value(names, st.session_state.get(key))
    return st.selectbox(label, options=options, key=key, format_func=lambda n: registry[n].label, **kwargs)


def valid_initializers(architecture: dict) -> list[str]:
    """The initializers that make a network of ``architecture`` (the network section's fields): Fixup, SkipInit
    and ReZero only with residual connections, LSUV only without the cures; ``wil.Config`` decides. All of
    them if the architecture itself is invalid (its error is shown)."""
    names = []
    for name in wil.INITIALIZERS:
        try:
            wil.Config(initializer=name, **architecture)
        except ValueError:
            continue
        names.append(name)
    return names or list(wil.INITIALIZERS)


# ---------------------------------------------------------------- the initializers

def initializer_slot(slot: int, used: list[str], names: list[str]) -> str | None:
    """One initializer of the comparison (``names``: those offered): its name and parameters. Returns its
    label (None if invalid).

    Streamlit forgets the state of widgets it did not draw, so a slot removed by lowering the count would
    come back as a new one: each slot's choices are kept in shadow keys ("_init2_name", ...) and restored."""
    for key in [key for key in st.session_state if str(key).startswith(f"_init{slot}_")]:
        st.session_state.setdefault(key[1:], st.session_state[key])
    if slot_key(slot) not in st.session_state:
        fresh = [n for n in (*NEW_SLOT_NAMES, *names) if n in names and n not in used]
        st.session_state[slot_key(slot)] = fresh[0] if fresh else names[0]
    with st.container(border=True):
        swatch = st.empty()
        name = registry_select(f"Initializer {slot + 1}", slot_key(slot), wil.INITIALIZERS, names)
        spec = wil.INITIALIZERS[name]
        params = {key: param_widget(slot, name, key) for key in spec.params if key not in SECONDARY_PARAMS}
        extra = [key for key in spec.params if key in SECONDARY_PARAMS]
        if extra:
            with st.expander("More parameters"):
                params.update({key: param_widget(slot, name, key) for key in extra})
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


def param_widget(slot: int, name: str, key: str) -> float:
    """The widget of parameter ``key`` of initializer ``name`` in slot ``slot``, as the parameter's spec
    describes it (log scale, integer or plain number)."""
    param = wil.INITIALIZERS[name].params[key]
    widget_key = slot_key(slot, name, key)
    st.session_state.setdefault(widget_key, param.default)
    if param.log:
        label = "Scale (multiplier ×)" if key == "scale" else f"{key} (log scale)"
        return st.select_slider(label, options=param_options(name, key, st.session_state[widget_key]),
                                key=widget_key, format_func=number, help=param.description)
    if param.integer:
        return st.number_input(key, min_value=int(param.low), max_value=int(param.high), step=1,
                               key=widget_key, help=param.description)
    return st.number_input(key, min_value=float(param.low), max_value=float(param.high), step=0.01,
                           format="%.3f", key=widget_key, help=param.description)


# ---------------------------------------------------------------- the sections

def start_section() -> None:
    """Presenter mode, the demo and the lessons."""
    st.toggle("Presenter mode", key=PRESENTER, help="Big chart text, the verdicts and one chart per screen, "
              "next and previous lesson. Also in the link (presenter=1).")
    st.button("↺ Reset to the demo", key="reset", on_click=start_from, args=(DEMO,), width="stretch",
              help="Zeros, a too-small and a too-large normal, Glorot and He on two moons with ReLU.")
    st.selectbox("Start from a lesson", options=list(LESSONS), index=None, key="lesson",
                 placeholder="A prepared comparison…", on_change=start_lesson)


def data_section() -> dict:
    """The dataset, its samples and noise (the fields of ``wil.Config``)."""
    st.header("Data")
    dataset = st.selectbox("Dataset", options=dataset_options(), key="dataset",  # issue 13 hook: + uploads
                           format_func=lambda n: wil.DATASETS[n].label)
    spec = wil.DATASETS[dataset]
    st.caption(spec.description)
    upload_panel()  # issue 13 hook: the CSV upload (wil_app/upload.py)
    n_samples = select_slider("Samples (25% held out for testing)", "n_samples", SAMPLES,
                              disabled=not spec.uses_samples)
    noise = st.slider("Noise", min_value=0.0, max_value=2.0, step=0.05, key="noise", disabled=not spec.uses_noise)
    return dict(dataset=dataset, n_samples=int(n_samples), noise=float(noise))


def network_section() -> dict:
    """Depth, width, activation, normalization and residual connections."""
    st.header("Network")
    depth = st.slider("Hidden layers (depth)", min_value=1, max_value=int(POLICY.caps["depth"][1]), key="depth")
    width = select_slider("Units per hidden layer (width)", "width", WIDTHS)
    activation = registry_select("Activation", "activation", wil.ACTIVATIONS)
    family = wil.ACTIVATIONS[activation].family
    st.caption(FAMILY_NOTES.get(family, f"{family.capitalize()} family."))
    return dict(depth=int(depth), width=int(width), activation=activation, **cures_section())


def cures_section() -> dict:
    """The other cures: a normalization before each activation and residual connections (``wil.Config``'s
    ``normalization`` and ``residual``), with a caption on the initializers made for residual networks."""
    words = {normalization_word(value): value for value in wil.NORMALIZATIONS}  # widget value -> Config's
    word = st.selectbox("Normalization", options=list(words), key="normalization",
                        format_func=lambda w: wil.NORMALIZATION_LABELS[words[w]],
                        help="BatchNorm (over the examples) or LayerNorm (over the units), before each activation.")
    residual = st.checkbox("Residual connections", key="residual",
                           help="A projection layer, then blocks of two layers, each added to its input "
                                "(He et al. 2016).")
    made_for = {name: entry.residual for name, entry in wil.INITIALIZERS.items() if entry.residual is not None}
    without = [wil.short_name(name) for name, rule in made_for.items() if not rule.allows_normalization]
    st.caption(f"{', '.join(wil.short_name(name) for name in made_for)} initialize residual branches: offered "
               "under Initialization when residual connections are on"
               + (f" ({', '.join(without)} only without normalization)." if without else "."))
    return dict(normalization=words[word], residual=bool(residual))


def initialization_section(network: dict, errors: list[str], notes: list[str]) -> dict:
    """The initializers compared, one slot each, those valid for ``network`` (the network section's fields)
    offered; problems go to ``errors`` and ``notes``."""
    st.header("Initialization")
    st.number_input("Initializers to compare", min_value=1, max_value=MAX_SLOTS, step=1, key="n_initializers")
    names = valid_initializers(network)
    labels = []
    for slot in range(int(st.session_state["n_initializers"])):
        label = initializer_slot(slot, labels, names)
        if label is None:
            errors.append(f"Initializer {slot + 1} has an invalid parameter.")
        elif label in labels:
            notes.append(f"Initializer {slot + 1} repeats {label}; it is compared once.")
        else:
            labels.append(label)
    base = st.session_state.get("base_initializer")
    if base is None or wil.parse_entry(base)[0] not in names:  # e.g. a lesson's Fixup, then residual off
        base = labels[0] if labels else None
    return dict(initializer=base,
                compare=tuple(labels))


def training_section(data: dict, notes: list[str]) -> dict:
    """The optimizer, learning rate, epochs, batch size, seeds and precision (``data``: the data section's
    fields, for the batch sizes offered); a batch too large for the data goes to ``notes``."""
    st.header("Training")
    optimizer = registry_select("Optimizer", "optimizer", wil.OPTIMIZERS)
    learning_rate = select_slider("Learning rate (log scale)", "learning_rate", LEARNING_RATES, format_func=number)
    epochs = select_slider("Epochs", "epochs", EPOCHS)
    n_train = wil.Config(dataset=data["dataset"], n_samples=data["n_samples"]).n_train()
    asked = st.session_state.get("batch_size")
    if asked != "full" and asked is not None and int(asked) >= n_train:  # e.g. 256, then Iris (112)
        st.session_state["batch_size"] = "full"
        notes.append(f"A batch of {asked} is at least the {n_train} training examples of "
                     f"{wil.DATASETS[data['dataset']].label}: training on the full batch.")
    batch = select_slider("Batch size", "batch_size", ["full", *(b for b in BATCHES if b < n_train)],
                          format_func=lambda b: "full batch" if b == "full" else str(b),
                          help=f"{n_train} training examples; a mini-batch order shared by every network.")
    n_seeds = st.slider("Seeds per initializer (bands)", min_value=1, max_value=int(POLICY.caps["n_seeds"][1]),
                        key="n_seeds")
    seed = st.number_input("Seed (data, batches, first network)", min_value=0,
                           max_value=int(POLICY.caps["seed"][1]), step=1, key="seed")
    dtype = st.selectbox("Precision", options=list(DTYPE_LABELS), key="dtype", format_func=DTYPE_LABELS.get)
    return dict(optimizer=optimizer, learning_rate=float(learning_rate), epochs=int(epochs),
                batch_size=None if batch == "full" else int(batch), n_seeds=int(n_seeds), seed=int(seed),
                dtype=dtype)


def sidebar_config() -> SidebarReading:
    """Read the sidebar's widgets into a ``Config``. Returns it (None if invalid; maybe over the server's
    budgets, which the page adapts it to), error messages and notes."""
    errors, notes = [], []
    with st.sidebar:
        start_section()
        data = data_section()
        network = network_section()
        initializers = initialization_section(network, errors, notes)
        training = training_section(data, notes)
    if errors:
        return SidebarReading(None, errors, notes)
    try:
        config = wil.Config(**data, **network, **initializers, **training)
    except ValueError as error:
        return SidebarReading(None, [str(error)], notes)
    return SidebarReading(config, errors, notes)  # maybe over the server's budgets: the page fits it (POLICY.fit)

"""wil's explorer: ``streamlit run app.py``.

The same network, the same data, the same mini-batches; only the initialization differs. This file only
reads widgets, calls ``wil`` and lays out ``wil.charts``: no math and no chart building here.

State flows one way: the URL (first load) -> session state -> sidebar widgets -> ``Config`` -> URL.
"""

from __future__ import annotations

import contextvars
import dataclasses
import io
import json
import urllib.parse
import zipfile

import streamlit as st

import wil
from wil import charts

st.set_page_config(page_title="wil · the weight-initialization lab", page_icon="⚖️", layout="wide",
                   initial_sidebar_state="expanded")

MAX_SLOTS = int(wil.LIMITS["compare"][1])
# The app trains in float32: about 1.6x faster than float64 for the demo, and the lessons on screen are
# the same (the precision selector offers float64).
APP_DTYPE = "float32"
DEMO = dataclasses.replace(wil.Config.demo(), dtype=APP_DTYPE)
# Prepared comparisons for a presenter, each a story that shows on the first screen.
LESSONS = {
    "The classic: ReLU, 8 layers (the demo)": DEMO,
    "Deep ReLU, 30 layers: He keeps the signal, Glorot loses it": wil.Config(
        dataset="moons", n_samples=400, noise=0.2, activation="relu", depth=30, width=32, epochs=150,
        learning_rate=0.05, compare=("glorot_uniform", "he_normal", "orthogonal", "lsuv"), dtype=APP_DTYPE),
    "Tanh: too small fades, too large saturates, Glorot learns": wil.Config(
        dataset="circles", n_samples=400, noise=0.1, activation="tanh", depth=8, width=32, epochs=150,
        learning_rate=0.1, compare=("random_normal(std=0.01)", "random_normal(std=1)", "glorot_uniform", "he_normal"),
        dtype=APP_DTYPE),
}
# Offered when a slot is added: the next of these not yet compared.
NEW_SLOT_NAMES = ("he_normal", "glorot_uniform", "lecun_normal", "orthogonal", "zeros", "random_normal",
                  "he_uniform", "glorot_normal", "lsuv", "torch_default", "random_uniform", "truncated_normal")
SECONDARY_PARAMS = ("mean", "tol", "max_iter")  # rarely changed: behind "More parameters"
OPTIMIZER_LABELS = {"sgd": "SGD", "momentum": "SGD + momentum (0.9)", "adam": "Adam"}
DTYPE_LABELS = {"float64": "float64 (exact)", "float32": "float32 (faster)"}
FAMILY_NOTES = {"relu": "ReLU family: a unit that never fires is dead.",
                "saturating": "Saturating: a unit pushed to its flat tails stops learning.",
                "smooth": "Smooth: no dead or saturated units to count."}
FRAMES = ("history", "layers", "histograms", "status", "grid", "points")
TAB_KEY = "tab"
URL_KEYS_NOT_CONFIG = (TAB_KEY, "embed", "embed_options")  # the open tab, and Streamlit's own
MARKDOWN_PUNCTUATION = set("\\`*_{}[]()#+-.!|<>~$:&=\"'")


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
    return wil.Config.parse_query_params(params, base=DEMO)


def plain_text(message: str, limit: int = 300) -> str:
    """``message`` (which may quote URL text) shown literally: markdown punctuation escaped, length capped."""
    message = message if len(message) <= limit else message[:limit] + "…"
    return "".join("\\" + char if char in MARKDOWN_PUNCTUATION else char for char in message)


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
    config, problems = config_from_url(st.query_params.to_dict())
    st.session_state["url_config"] = config
    st.session_state["url_problems"] = problems
    load_config(config)


def start_from(config: wil.Config) -> None:
    """Callback: forget every initializer slot's widgets, then show ``config``."""
    for key in [key for key in st.session_state if str(key).startswith("init") and str(key)[4:5].isdigit()]:
        del st.session_state[key]
    load_config(config)


def start_lesson() -> None:
    """Callback of the lesson picker: load the lesson, then show the picker empty again."""
    lesson = st.session_state.get("lesson")
    if lesson in LESSONS:
        start_from(LESSONS[lesson])
    st.session_state["lesson"] = None


# ---------------------------------------------------------------- sidebar

def _select_slider(label: str, key: str, options: list, **kwargs):
    return st.select_slider(label, options=_with(options, st.session_state.get(key)), key=key, **kwargs)


def initializer_slot(slot: int, used: list[str]) -> str | None:
    """One initializer of the comparison: its name and parameters. Returns its label (None if invalid)."""
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
        try:
            label = wil.make_label(name, params)
        except ValueError as error:
            st.error(str(error))
            return None
        # the colour this initializer has in every chart (a constant from the palette, no user text)
        index = len(used) if label not in used else used.index(label)
        swatch.html(f"<div style='height:6px;border-radius:3px;background:"
                    f"{charts.PALETTE[index % len(charts.PALETTE)]}'></div>")
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
    """Read the sidebar. Returns the Config (None if invalid), error messages and notes."""
    sidebar = st.sidebar
    errors, notes = [], []
    with sidebar:
        st.button("↺ Reset to the demo", key="reset", on_click=start_from, args=(DEMO,), width="stretch",
                  help="Zeros, a too-small and a too-large normal, Glorot and He on two moons with ReLU.")
        st.selectbox("Start from a lesson", options=list(LESSONS), index=None, key="lesson",
                     placeholder="A prepared comparison…", on_change=start_lesson)

        st.header("Data")
        dataset = st.selectbox("Dataset", options=list(wil.DATASETS), key="dataset",
                               format_func=lambda n: wil.DATASETS[n].label)
        spec = wil.DATASETS[dataset]
        st.caption(spec.description)
        n_samples = _select_slider("Samples (25% held out for testing)", "n_samples", SAMPLES,
                                   disabled=not spec.uses_samples)
        noise = st.slider("Noise", min_value=0.0, max_value=2.0, step=0.05, key="noise",
                          disabled=not spec.uses_noise)

        st.header("Network")
        depth = st.slider("Hidden layers (depth)", min_value=1, max_value=50, key="depth")
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
        batch = _select_slider("Batch size", "batch_size", ["full", *(b for b in BATCHES if b < n_train)],
                               format_func=lambda b: "full batch" if b == "full" else str(b),
                               help=f"{n_train} training examples; a mini-batch order shared by every network.")
        n_seeds = st.slider("Seeds per initializer (bands)", min_value=1, max_value=10, key="n_seeds")
        seed = st.number_input("Seed (data, batches, first network)", min_value=0,
                               max_value=int(wil.LIMITS["seed"][1]), step=1, key="seed")
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
    return config, errors, notes


# ---------------------------------------------------------------- training, cached

@st.cache_data(max_entries=6, show_spinner=False)
def run_comparison(config: wil.Config, _progress=None) -> wil.Result:
    """All of ``config.compare`` x ``config.n_seeds`` networks, trained at once; cached on the config."""
    return wil.compare(config, progress=_progress)


def train_with_progress(config: wil.Config) -> wil.Result:
    """``run_comparison`` with a progress bar that only appears when it actually trains."""
    bar = st.empty()
    # The bar lives outside the cached function: updating it from the caller's context keeps the
    # update out of the cache's element replay, so a cache hit draws nothing.
    outside = contextvars.copy_context()
    n_networks = len(config.labels) * config.n_seeds
    shown = [-1]

    def report(fraction: float) -> None:
        percent = int(fraction * 100)
        if percent != shown[0]:
            shown[0] = percent
            outside.run(bar.progress, percent, text=f"Training {n_networks} networks: {percent}%")

    try:
        return run_comparison(config, _progress=report)
    finally:
        bar.empty()


# ---------------------------------------------------------------- main area

# Every chart of the page, by name: a ``wil.charts`` builder applied to a Result and view options.
CHARTS = {
    "loss": lambda result: charts.loss_curves(result.history, result.status),
    "accuracy": lambda result: charts.accuracy_curves(result.history, result.status),
    "final_scores": lambda result: charts.final_scores(result.status),
    "activation_std": lambda result, epoch: charts.activation_std_by_layer(
        result.layers, wil.theory_frame(result.config), epoch=epoch),
    "histograms": lambda result, **options: charts.histogram_grid(result.histograms, **options),
    "profile": lambda result, field, **options: charts.layer_profile(result.layers, field, **options),
    "heatmap": lambda result, field, **options: charts.layer_heatmap(result.layers, field, **options),
    "boundary": lambda result: charts.decision_boundary(result.grid, result.points, result.status),
}


# A few configurations' worth of drawn charts: each is small for the demo (under 0.2 MB of data) and at
# most ~1 MB within the limits (12 initializers, 50 layers), so the cache holds at most ~60 MB.
@st.cache_data(max_entries=60, show_spinner=False)
def _draw_chart(config: wil.Config, name: str, _result: wil.Result, **options) -> None:
    """Build and draw one chart. Streamlit caches the drawn element with the call: a rerun (or another
    session) asking for the same chart of the same configuration replays it and builds nothing."""
    # Every chart keeps the size its builder chose (about 900 px wide, for a projector's 1280 px).
    st.altair_chart(CHARTS[name](_result, **options), width="content")


# The decision boundary (a cell per grid point, panel and stage) and the heatmaps (a cell per epoch, layer
# and initializer) reach 2-5 MB of data within the limits: a few of them, at most ~40 MB.
@st.cache_data(max_entries=8, show_spinner=False)
def _draw_large_chart(config: wil.Config, name: str, _result: wil.Result, **options) -> None:
    """``_draw_chart`` for the charts with the most data."""
    st.altair_chart(CHARTS[name](_result, **options), width="content")


LARGE_CHARTS = ("boundary", "heatmap")


def _chart(result: wil.Result, name: str, **options) -> None:
    """Chart ``name`` of ``CHARTS`` for ``result`` with view ``options``, cached on the configuration."""
    draw = _draw_large_chart if name in LARGE_CHARTS else _draw_chart
    draw(result.config, name, result, **options)


def _summary(config: wil.Config) -> str:
    dataset = wil.DATASETS[config.dataset]
    samples = (f"{config.n_samples} samples, noise {config.noise:g}" if dataset.uses_samples
               else f"{dataset.size} samples")
    batch = "full batch" if config.batch_size is None else f"batches of {config.batch_size}"
    seeds = "1 seed" if config.n_seeds == 1 else f"{config.n_seeds} seeds per initializer"
    return (f"**{dataset.label}** ({samples}) · **{config.depth} × {config.width} "
            f"{wil.ACTIVATIONS[config.activation].label}** · {OPTIMIZER_LABELS[config.optimizer]}, "
            f"learning rate {config.learning_rate:g}, {config.epochs} epochs, {batch} · {seeds}")


def epoch_control(result: wil.Result) -> int:
    """Which recorded epoch to inspect. View-only: never retrains.

    Each tab that needs it draws its own copy under the same key; a shadow entry remembers the choice
    while the widget is off screen (Streamlit forgets the state of widgets it did not draw).
    """
    config = result.config
    epochs = sorted(int(e) for e in result.histograms["epoch"].unique()) or [0]
    if st.session_state.get("view_epoch") not in epochs:
        remembered = st.session_state.get("_view_epoch", 0)
        st.session_state["view_epoch"] = remembered if remembered in epochs else 0
    epoch = st.select_slider(
        "Epoch to inspect", options=epochs, key="view_epoch",
        format_func=lambda e: "0 · at initialization" if e == 0 else
        f"{e} · end of training" if e == config.epochs else f"{e} · {round(100 * e / config.epochs)}% of training")
    st.session_state["_view_epoch"] = epoch
    return int(epoch)


def layers_control(result: wil.Result) -> list[int]:
    """Which layers the histograms show (a spread of five by default). View-only: never retrains."""
    depth = result.config.depth
    options = list(range(1, depth + 2))
    if st.session_state.get("_view_layers_depth") != depth:  # a new depth: spread the layers again
        st.session_state["_view_layers"] = charts.pick_layers(depth)
        st.session_state["_view_layers_depth"] = depth
        st.session_state.pop("view_layers", None)
    if "view_layers" not in st.session_state:
        st.session_state["view_layers"] = st.session_state["_view_layers"]
    layers = st.multiselect("Layers in the histograms", options=options, key="view_layers",
                            format_func=lambda layer: "output" if layer == depth + 1 else f"layer {layer}")
    st.session_state["_view_layers"] = layers
    return sorted(layers) or charts.pick_layers(depth)


def epoch_and_layers(result: wil.Result) -> tuple[int, list[int]]:
    left, right = st.columns([3, 2])
    with left:
        epoch = epoch_control(result)
    with right:
        layers = layers_control(result)
    return epoch, layers


def training_tab(result: wil.Result) -> None:
    _chart(result, "loss")
    if wil.DATASETS[result.config.dataset].task == "classification":
        _chart(result, "accuracy")
    _chart(result, "final_scores")
    st.subheader("Every network")
    st.dataframe(charts.status_table(result.status), hide_index=True, key="status_table", column_config={
        "Diverged at epoch": st.column_config.NumberColumn(format="%d"),
        "Final train loss": st.column_config.NumberColumn(format="%.4g"),
        "Final test loss": st.column_config.NumberColumn(format="%.4g"),
        "Train accuracy": st.column_config.NumberColumn(format="percent"),
        "Test accuracy": st.column_config.NumberColumn(format="percent"),
    })


def activations_tab(result: wil.Result) -> None:
    epoch, layers = epoch_and_layers(result)
    st.markdown("Each layer should pass on a signal of about the same size. Too small and it fades to "
                "nothing with depth; too large and it blows up. The dashed lines are what the "
                "Glorot/He variance recursion predicts at initialization.")
    _chart(result, "activation_std", epoch=epoch)
    quantity = st.radio("Histogram of", options=["activation", "preactivation"], horizontal=True,
                        key="act_quantity", format_func=lambda q: "activations f(z)" if q == "activation"
                        else "pre-activations z")
    _chart(result, "histograms", quantity=quantity, epoch=epoch, layers=layers)


def gradients_tab(result: wil.Result) -> None:
    epoch = epoch_control(result)
    st.markdown("How much each layer's weights are pushed: the norm of the loss's gradient with respect to "
                "them. Orders of magnitude below the others means **vanishing** gradients (those weights "
                "barely move); far above means **exploding** ones (one step throws them away). A slope across "
                "layers means some layers learn much faster than others.")
    _chart(result, "profile", field="grad_norm", epoch=epoch, log=True, title="Gradient norm per layer",
           y_title="‖∂loss/∂W‖ (log scale)")
    _chart(result, "heatmap", field="grad_norm", log=True, title="Gradient norm over training",
           color_title="‖∂loss/∂W‖")


def dead_units_tab(result: wil.Result) -> None:
    epoch = epoch_control(result)
    family = wil.ACTIVATIONS[result.config.activation].family
    if family == "relu":
        field, what = "dead_fraction", "Dead units (never fire on the training set)"
        st.markdown("A ReLU unit whose input is negative for every example outputs 0 and gets no gradient: "
                    "it is **dead** and stays dead.")
    elif family == "saturating":
        field, what = "saturated_fraction", "Saturated units (slope under 5% of its maximum)"
        st.markdown("A sigmoid or tanh unit driven far into its flat tails has almost no slope, so almost no "
                    "gradient passes through it: it is **saturated**.")
    else:
        field, what = None, None
        st.info(f"{wil.ACTIVATIONS[result.config.activation].label} is smooth and has no flat region: "
                "no units die or saturate. Distinct units (below) still show symmetry.")
    if field:
        _chart(result, "profile", field=field, epoch=epoch, percent=True, title=what, y_title="Share of units (%)")
        _chart(result, "heatmap", field=field, percent=True, scheme="reds",
               title=f"{what.split(' (')[0]} over training", color_title="Share of units")
    st.markdown("**Symmetry.** Units that start equal get equal gradients and stay equal: with all-zero or "
                "constant weights a layer of many units acts like one.")
    _chart(result, "profile", field="distinct_units", epoch=epoch, title="Distinct units per layer",
           y_title="Distinct units (count)")


def boundary_tab(result: wil.Result) -> None:
    if result.grid.empty:
        st.info(f"{wil.DATASETS[result.config.dataset].label} has more than two features, so there is no "
                "plane to draw a decision boundary on. Pick a 2-D dataset such as two moons.")
        return
    _chart(result, "boundary")


def weights_tab(result: wil.Result) -> None:
    epoch, layers = epoch_and_layers(result)
    st.markdown("The weights themselves: their spread per layer is what each initializer chooses.")
    _chart(result, "profile", field="weight_std", epoch=epoch, log=True, title="Weight std per layer",
           y_title="Weight std (log scale)")
    _chart(result, "histograms", quantity="weight", epoch=epoch, layers=layers)


LESSON = r"""
### Why initialize at all?
Training starts somewhere and walks downhill. Each layer multiplies its input by a weight matrix, so after
$L$ layers the signal has been multiplied $L$ times, forward and again backward. A factor a bit below 1
per layer compounds to nothing ($0.5^8 \approx 0.004$), a factor a bit above 1 to a flood ($2^8 = 256$).
Initialization picks that factor before the first step.

### All zeros: nothing to break the symmetry
If every weight starts equal, every unit of a layer computes the same thing and receives the same
gradient, so the units stay identical forever: 32 units act like one (see *Distinct units*). With zeros and
ReLU the gradient is exactly zero and nothing moves at all. Random weights break the symmetry.

### Too small: the signal vanishes
With variance $\sigma^2$ and $n$ inputs, a ReLU layer scales the signal's std by about
$\sqrt{n\sigma^2/2}$. For $\sigma = 0.01$ and $n = 32$ that is $0.04$ per layer, so eight layers leave
$10^{-11}$ of it. The output is a constant, the loss sits at chance ($\ln 2 \approx 0.69$) and the
gradients reaching the first layers vanish the same way.

### Too large: the signal explodes
For $\sigma = 1$ the factor is $4$ per layer: $4^8 \approx 65\,000$. Outputs and gradients are huge, and one
step throws the weights so far that the loss overflows: the network **diverges**. With tanh or sigmoid,
large weights instead push units into their flat tails, where the slope, and so the gradient, is zero.

### Xavier / Glorot (2010)
Make the factor 1: forward this needs $n_{in}\,\mathrm{Var}(w) = 1$, backward $n_{out}\,\mathrm{Var}(w) = 1$;
Glorot and Bengio take the compromise $\mathrm{Var}(w) = 2/(n_{in} + n_{out})$. It assumes an activation
that is linear around zero: **tanh, softsign, sigmoid, linear**.

### He / Kaiming (2015)
ReLU zeroes half of its inputs, which halves the signal's second moment, so He et al. double the
variance: $\mathrm{Var}(w) = 2/n_{in}$. Use it for the **ReLU family** (and GELU, Swish). Glorot with ReLU
shrinks the signal by about $\sqrt 2$ per layer, which only shows in deep networks.

### And the others
**LeCun** ($1/n_{in}$) is the partner of SELU. **Orthogonal** matrices preserve norms exactly in linear
networks and suit very deep ones. **LSUV** measures each layer on a batch of data and rescales it until
its output variance is 1, whatever the activation.
"""


def learn_tab(result: wil.Result) -> None:
    st.markdown(LESSON)
    activation = wil.ACTIVATIONS[result.config.activation]
    st.markdown(f"#### The activation here: {activation.label}")
    st.latex(activation.latex)
    st.markdown(f"{activation.description} Recommended gain: **{activation.gain:.3g}** ({activation.gain_source}).")
    compared = list(dict.fromkeys(wil.parse_entry(label)[0] for label in result.config.labels))
    st.markdown("#### The initializers in this comparison")
    for name in compared:
        _initializer_card(name)
    with st.expander("Every initializer in wil"):
        for name in wil.INITIALIZERS:
            if name not in compared:
                _initializer_card(name)


def _initializer_card(name: str) -> None:
    spec = wil.INITIALIZERS[name]
    st.markdown(f"**{spec.label}** (`{name}`): {spec.description}")
    st.latex(spec.latex)
    st.markdown(f"PyTorch: `{spec.pytorch}`  \nKeras: `{spec.keras}`")


def export_tab(result: wil.Result) -> None:
    config = result.config
    st.markdown("**Share this view.** The address bar already holds the whole configuration; copy it. "
                "The query string is:")
    st.code("?" + urllib.parse.urlencode(config.to_query_params()), language=None, wrap_lines=True)
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


def divergence_note(result: wil.Result) -> None:
    """One line per initializer with diverged networks: how many, and the first cause."""
    diverged = result.diverged
    if not len(diverged):
        return
    parts = []
    for label, rows in diverged.groupby("initializer", observed=True, sort=False):
        runs = int((result.status["initializer"] == label).sum())
        seeds = "" if runs == 1 else f" ({len(rows)} of {runs} seeds)"
        parts.append(f"**{label}**: {rows['reason'].iloc[0]}{seeds}")
    st.warning("Diverged (their curves stop there): " + "; ".join(parts) + ".", icon=":material/warning:")


def main() -> None:
    init_from_url()
    config, errors, notes = sidebar_config()

    # a narrower side margin than Streamlit's wide layout: the charts fit a 1280 px projector beside the sidebar
    st.html("<style>[data-testid='stMainBlockContainer']{padding-left:2.5rem;padding-right:2.5rem}</style>")
    st.markdown("## wil · the weight-initialization lab")
    st.markdown("The same network, the same data, the same mini-batches: **only the initialization differs.**")
    # the link's problems stay on screen until the visitor changes the configuration the link opened
    # (compared with what the widgets made of it, which may normalize it, e.g. an empty compare=)
    st.session_state.setdefault("url_opened_config", config)
    if config is not None and config == st.session_state["url_opened_config"]:
        for problem in st.session_state["url_problems"]:
            st.warning("The link had a problem: " + plain_text(problem), icon=":material/link_off:")
    for note in notes:
        st.info(note)
    if config is None:
        for error in errors:
            st.error(error)
        st.stop()
    sync_url(config)
    networks = len(config.labels) * config.n_seeds
    st.sidebar.caption(f"{networks} network{'s' if networks > 1 else ''} to train, "
                       f"{config.work() / wil.MAX_WORK:.0%} of the work one run may take.")

    result = train_with_progress(config)
    st.markdown(_summary(config))
    divergence_note(result)

    result_tabs(result)


PAGES = {
    "Training": training_tab, "Activations": activations_tab, "Gradients": gradients_tab,
    "Dead neurons": dead_units_tab, "Decision boundary": boundary_tab, "Weights": weights_tab,
    "Learn": learn_tab, "Share & export": export_tab,
}


@st.fragment
def result_tabs(result: wil.Result) -> None:
    """The tabs. A fragment: switching tabs or moving a view-only control reruns only this part of the
    page (the configuration cannot change there), so the sidebar and the header are not sent again."""
    # Lazy tabs: only the open one is drawn. The open tab is part of the link (?tab=...), so a shared
    # link opens on the same view.
    tabs = st.tabs(list(PAGES), key=TAB_KEY, bind="query-params")
    for tab, draw in zip(tabs, PAGES.values()):
        if tab.open:
            with tab:
                draw(result)


main()

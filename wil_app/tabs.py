"""The result tabs: one page per view of a run, their view-only controls, and the cached drawing of
their charts (a ``wil.charts`` builder per chart; no chart building here). In presenter mode, one chart
per screen instead (``presenter_view``).

The view (epoch, layers, quantity, the histograms' axis, the tab, presenter mode and slide) is kept in
the URL (``wil_app/view.py``). A play control steps the epoch-dependent charts through the recorded
snapshots (``POLICY.snapshots``)."""

from __future__ import annotations

import time

import streamlit as st
from streamlit.errors import StreamlitAPIException

import wil
from wil import charts

from .export import export_tab
from .lessons import LESSON
from .sidebar import TAB_KEY
from .takehome import takehome_tab  # issue 13 hook: the "Take it home" tab
from .view import HISTOGRAM_AXES, sync_view
from .viewport import fit_width

PLAY_STEP = 0.7  # seconds per frame of the play control (16 frames: about 11 s)

# Every chart of the page, by name: a ``wil.charts`` builder applied to a Result and view options.
CHARTS = {
    "loss": lambda result, **options: charts.loss_curves(result.history, result.status, **options),
    "accuracy": lambda result, **options: charts.accuracy_curves(result.history, result.status, **options),
    "final_scores": lambda result, **options: charts.final_scores(result.status, **options),
    "activation_std": lambda result, epoch, **options: charts.activation_std_by_layer(
        result.layers, wil.theory_frame(result.config), epoch=epoch, **options),
    "histograms": lambda result, **options: charts.histogram_grid(result.histograms, **options),
    "profile": lambda result, field, **options: charts.layer_profile(result.layers, field, **options),
    "heatmap": lambda result, field, **options: charts.layer_heatmap(result.layers, field, **options),
    "boundary": lambda result, **options: charts.decision_boundary(result.grid, result.points, result.status,
                                                                   **options),
}


def run_key(result: wil.Result) -> tuple:
    """What a result's charts are cached on: its configuration, and where it was stopped (a stopped run
    is another result than the whole run of the same configuration)."""
    return result.config, result.stopped_epoch


# A few configurations' worth of drawn charts: each is small for the demo (under 0.2 MB of data) and at
# most ~1 MB within the limits (12 initializers, 50 layers), so the cache holds at most ~60 MB.
@st.cache_data(max_entries=60, show_spinner=False)
def _draw_chart(key: tuple, name: str, _result: wil.Result, presenter: bool = False, **options) -> None:
    """Build and draw one chart. Streamlit caches the drawn element with the call: a rerun (or another
    session) asking for the same chart of the same run (``run_key``) replays it and builds nothing."""
    # Every chart keeps the size its builder chose (about 900 px wide, for a projector's 1280 px).
    chart = CHARTS[name](_result, **options)
    st.altair_chart(charts.presenter(chart) if presenter else chart, width="content")


# The decision boundary (a cell per grid point, panel and stage) and the heatmaps (a cell per epoch, layer
# and initializer) reach 2-5 MB of data within the limits: a few of them, at most ~40 MB.
@st.cache_data(max_entries=8, show_spinner=False)
def _draw_large_chart(key: tuple, name: str, _result: wil.Result, presenter: bool = False, **options) -> None:
    """``_draw_chart`` for the charts with the most data."""
    chart = CHARTS[name](_result, **options)
    st.altair_chart(charts.presenter(chart) if presenter else chart, width="content")


LARGE_CHARTS = ("boundary", "heatmap")


def _chart(result: wil.Result, name: str, **options) -> None:
    """Chart ``name`` of ``CHARTS`` for ``result`` with view ``options``, cached on the configuration."""
    draw = _draw_large_chart if name in LARGE_CHARTS else _draw_chart
    fit = fit_width()  # None at full width: the charts' own size, and the same cache entries as before
    if fit is not None:
        options["fit_width"] = fit
    draw(run_key(result), name, result, presenter=bool(st.session_state.get("presenter")), **options)


def epoch_control(result: wil.Result) -> int:
    """Which recorded epoch to inspect. View-only: never retrains.

    Each tab that needs it draws its own copy under the same key; a shadow entry remembers the choice
    while the widget is off screen (Streamlit forgets the state of widgets it did not draw).
    """
    config = result.config
    epochs = recorded_epochs(result)
    if "_play_to" in st.session_state:  # the play control's last frame
        st.session_state["view_epoch"] = st.session_state.pop("_play_to")
    if st.session_state.get("view_epoch") not in epochs:
        remembered = st.session_state.get("_view_epoch", 0)
        # a link's epoch, or one of another run: the nearest recorded one
        st.session_state["view_epoch"] = min(epochs, key=lambda e: (abs(e - remembered), e))
    last = result.stopped_epoch if result.stopped_epoch is not None else config.epochs
    epoch = st.select_slider(
        "Epoch to inspect", options=epochs, key="view_epoch",
        format_func=lambda e: "0 · at initialization" if e == 0 else
        f"{e} · end of training" if e == last else f"{e} · {round(100 * e / config.epochs)}% of training")
    st.session_state["_view_epoch"] = epoch
    return int(epoch)


def recorded_epochs(result: wil.Result) -> list[int]:
    """The epochs with histograms (and, for 2-D data, decision boundaries): the ones to inspect and play."""
    return sorted(int(e) for e in result.histograms["epoch"].unique()) or [0]


def play_button(key: str) -> bool:
    """A button that plays the epoch-dependent charts through training; True in the run it was clicked."""
    return st.button("▶ Play through training", key=key, help="Step through the recorded epochs (about "
                     f"{PLAY_STEP:g} s each); any click stops it.")


def play(result: wil.Result, draw_frame) -> None:
    """Call ``draw_frame(epoch)`` for every recorded epoch, ``PLAY_STEP`` seconds apart, then leave the
    view at the last one. Any click stops it (Streamlit interrupts the script to rerun)."""
    epochs = recorded_epochs(result)
    caption = st.empty()
    for epoch in epochs:
        caption.caption(f"▶ epoch {epoch} of {epochs[-1]}")
        draw_frame(epoch)
        time.sleep(PLAY_STEP)
    caption.empty()
    st.session_state["_play_to"] = st.session_state["_view_epoch"] = epochs[-1]
    try:  # the slider to the last frame: only the tabs again when this run is a fragment's, else the page
        st.rerun(scope="fragment")
    except StreamlitAPIException:
        st.rerun()


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


def histogram_axis() -> dict:
    """The histograms' x axis (view-only): shared by every initializer by default, since the lesson is
    scale; log magnitude; or each its own. Returns the options of ``charts.histogram_grid``."""
    axis = st.radio("Histogram x axis", options=list(HISTOGRAM_AXES), key="hist_x", horizontal=True,
                    format_func=HISTOGRAM_AXES.get)
    return {"shared_x": axis == "shared", "log_magnitude": axis == "log"}


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
    playing = play_button("play_activations")
    spread = st.empty()
    left, right = st.columns([1, 2])
    quantity = left.radio("Histogram of", options=["activation", "preactivation"], horizontal=True,
                          key="act_quantity", format_func=lambda q: "activations f(z)" if q == "activation"
                          else "pre-activations z")
    with right:
        axis = histogram_axis()
    histograms = st.empty()

    def frame(at: int) -> None:
        with spread.container():
            _chart(result, "activation_std", epoch=at)
        with histograms.container():
            _chart(result, "histograms", quantity=quantity, epoch=at, layers=layers, **axis)

    play(result, frame) if playing else frame(epoch)


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
    _chart(result, "profile", field="distinct_units", epoch=epoch, log=True, title="Distinct units per layer",
           y_title="Distinct units (log scale)")


def boundary_tab(result: wil.Result) -> None:
    if result.grid.empty:
        st.info(f"{wil.DATASETS[result.config.dataset].label} has more than two features, so there is no "
                "plane to draw a decision boundary on. Pick a 2-D dataset such as two moons.")
        return
    epoch = epoch_control(result)
    st.markdown("The network's prediction over the plane at initialization and at the epoch chosen above; "
                "the colour fades where it is unsure.")
    playing = play_button("play_boundary")
    boundary = st.empty()

    def frame(at: int) -> None:
        with boundary.container():
            _chart(result, "boundary", epochs=[0, at] if at else [0])

    play(result, frame) if playing else frame(epoch)


def weights_tab(result: wil.Result) -> None:
    epoch, layers = epoch_and_layers(result)
    st.markdown("The weights themselves: their spread per layer is what each initializer chooses.")
    _chart(result, "profile", field="weight_std", epoch=epoch, log=True, title="Weight std per layer",
           y_title="Weight std (log scale)")
    axis = histogram_axis()
    _chart(result, "histograms", quantity="weight", epoch=epoch, layers=layers, **axis)


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


PAGES = {
    "Training": training_tab, "Activations": activations_tab, "Gradients": gradients_tab,
    "Dead neurons": dead_units_tab, "Decision boundary": boundary_tab, "Weights": weights_tab,
    "Learn": learn_tab, "Share & export": export_tab,
    "Take it home": takehome_tab,  # issue 13 hook
}


@st.fragment
def result_tabs(result: wil.Result) -> None:
    """The tabs. A fragment: switching tabs or moving a view-only control reruns only this part of the
    page (the configuration cannot change there), so the sidebar and the header are not sent again."""
    # Lazy tabs: only the open one is drawn. The open tab is part of the link (?tab=...), so a shared
    # link opens on the same view; so are the epoch, the layers and the other view-only choices.
    tabs = st.tabs(list(PAGES), key=TAB_KEY, bind="query-params")
    for tab, draw in zip(tabs, PAGES.values()):
        if tab.open:
            with tab:
                draw(result)
    sync_view(charts.pick_layers(result.config.depth))


# ---------------------------------------------------------------- presenter mode

def _slides(result: wil.Result) -> dict:
    """Presenter mode's screens: a title and what draws it, one chart each."""
    config = result.config
    # narrower than the tabs' charts: presenter text is larger, and a 1024 px projector has ~940 px
    slides = {"Loss": lambda: _chart(result, "loss", width=300)}
    if wil.DATASETS[config.dataset].task == "classification":
        slides["Final test accuracy"] = lambda: _chart(result, "final_scores")
    slides["Signal per layer"] = lambda: _chart(result, "activation_std", epoch=0, width=580)
    slides["Activation histograms"] = lambda: _chart(result, "histograms", quantity="activation", epoch=0,
                                                     layers=charts.pick_layers(config.depth, 4), log_magnitude=True)
    slides["Gradients per layer"] = lambda: dead_or_gradients(result)
    if not result.grid.empty:
        slides["Decision boundary"] = lambda: _chart(result, "boundary")
    return slides


def dead_or_gradients(result: wil.Result) -> None:
    _chart(result, "profile", field="grad_norm", epoch=0, log=True, title="Gradient norm per layer",
           y_title="‖∂loss/∂W‖ (log scale)", width=580)


def step_slide(step: int, count: int) -> None:
    """Callback of the previous/next chart buttons."""
    st.session_state["slide"] = (int(st.session_state.get("slide", 0)) + step) % count


@st.fragment
def presenter_view(result: wil.Result) -> None:
    """One chart per screen, with previous and next (the verdicts are above, the lessons' buttons too)."""
    slides = _slides(result)
    names = list(slides)
    index = int(st.session_state.get("slide", 0)) % len(names)
    st.session_state["slide"] = index
    back, title, forward = st.columns([1, 4, 1], vertical_alignment="center")
    back.button("◀ Chart", key="slide_back", on_click=step_slide, args=(-1, len(names)), width="stretch")
    title.markdown(f"**{index + 1} / {len(names)} · {names[index]}**")
    forward.button("Chart ▶", key="slide_next", on_click=step_slide, args=(1, len(names)), width="stretch")
    slides[names[index]]()
    sync_view(charts.pick_layers(result.config.depth))

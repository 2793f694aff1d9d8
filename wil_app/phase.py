"""The trainability phase diagram page: the mean-field theory at once, the measured sweep shipped with the
repository beside it, and a live coarse sweep of the visitor's own, refined step by step within the
server's policy.

Schoenholz et al. (2017) showed that a deep network is trainable only to a depth of about 6 xi_c, where
xi_c is the correlation depth scale of the random network at initialization, which diverges at the edge
of chaos (chi1 = 1). ``wil.theory`` computes it; ``wil.sweep`` measures trainability over sigma_w2 x depth.
"""

from __future__ import annotations

import contextvars
import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

import wil
from wil import charts

from wil_app.policy import POLICY
from wil_app.run import run_slot
from wil_app.text import plain_text
from wil_app.viewport import FULL_WIDTH, STYLE, fit_width, measure

DOCS = Path(__file__).resolve().parents[1] / "docs"
SHIPPED = DOCS / "phase_sweep.parquet"
# the schoenholz2017 protocol's runs shipped with the repository (docs/PHASE_DIAGRAM.md), by dataset
PROTOCOL_RUNS = {"digits": DOCS / "phase_protocol.parquet", "breast_cancer": DOCS / "phase_protocol_breast_cancer.parquet"}
THEORY_POINTS = np.round(np.linspace(1.0, 4.0, 241), 4)  # sigma_w2 values the theory is drawn at
# The live sweep's refinement steps: (sigma_w2 points, depth points); each step adds networks between
# the previous ones, so the picture sharpens while the earlier runs stay in the cache.
STEPS = ((4, 4), (7, 6), (13, 9))
LIVE_DEPTHS = (2, 40)  # the live sweep's depth range: inside the server's depth cap
LIVE_EPOCHS = 20
LIVE_ACTIVATIONS = ("tanh", "relu", "sigmoid", "softsign", "selu")
LIVE_DATASETS = ("digits", "moons", "circles", "iris", "wine")
LIVE_WIDTHS = (8, 16, 32)
NARROW = 720  # px: a main column narrower than this stacks the theory and the measured diagram


def shipped_sweep() -> tuple[pd.DataFrame, dict] | tuple[None, None]:
    """The shipped sweep and the configuration it was made with (parquet metadata), or (None, None)."""
    if not SHIPPED.exists():
        return None, None
    return _read_shipped(str(SHIPPED), SHIPPED.stat().st_mtime)


@st.cache_data(max_entries=2, show_spinner=False)
def _read_shipped(path: str, _mtime: float):
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    meta = (table.schema.metadata or {}).get(b"wil_sweep")
    return table.to_pandas(), json.loads(meta) if meta else {}


@st.cache_data(max_entries=64, show_spinner=False)
def theory(activation: str, sigma_b2: float) -> tuple[pd.DataFrame, float | None]:
    """The mean-field quantities over sigma_w2 from 1 to 4, and the critical sigma_w2 (None if none)."""
    frame = wil.theory.phase_frame(activation, sigma_b2, THEORY_POINTS)
    try:
        critical = float(wil.theory.critical_sigma_w2(activation, sigma_b2))
    except ValueError:
        critical = None
    return frame, critical


def theory_chart(frame: pd.DataFrame, critical: float | None, c: float = 6.0):
    """Ordered and chaotic regions, the edge of chaos, and c xi_c over sigma_w2 (``charts.trainable_depth``)."""
    return charts.trainable_depth(frame, critical, c)


@st.cache_data(max_entries=32, show_spinner=False)
def live_sweep(config: wil.Config, sigma_w2: tuple[float, ...], depths: tuple[int, ...], _progress=None) -> pd.DataFrame:
    """One refinement step of the live sweep, in this process (the server runs one run at a time)."""
    with run_slot():  # one run at a time, as every training on this server
        return wil.sweep(config, {"sigma_w2": list(sigma_w2), "depth": list(depths)}, seeds=[0], backend=None,
                         progress=_progress or False)


def live_config(activation: str, sigma_b2: float, dataset: str, width: int) -> wil.Config:
    return wil.Config(dataset=dataset, n_samples=400, activation=activation, width=width, depth=LIVE_DEPTHS[0],
                      epochs=LIVE_EPOCHS, learning_rate=0.01, batch_size=64,
                      initializer=wil.make_label("mean_field", {"sigma_b2": sigma_b2}), dtype="float32")


def grid_of(step: int) -> tuple[tuple[float, ...], tuple[int, ...]]:
    n_sigma, n_depth = STEPS[step]
    sigma = tuple(float(v) for v in np.round(np.linspace(1.0, 4.0, n_sigma), 3))
    depth = tuple(int(v) for v in np.unique(np.round(np.geomspace(*LIVE_DEPTHS, n_depth)).astype(int)))
    return sigma, depth


def within_policy(config: wil.Config, sigma: tuple, depths: tuple) -> str | None:
    """Why a step of the live sweep is beyond the server's policy, or None: its deepest run is checked
    with the networks of one column."""
    return POLICY.problem(dataclasses.replace(config, depth=max(depths)), n_networks=len(sigma))


def main() -> None:
    st.set_page_config(page_title="wil · phase diagram", page_icon="⚖️", layout="wide")
    st.html(STYLE)
    st.markdown("## The trainability phase diagram: the edge of chaos")
    st.markdown(
        "A deep network at initialization either forgets its input layer by layer (**ordered**: every input "
        "ends up alike) or scrambles it (**chaotic**: nearby inputs fly apart). Between the two lies the "
        "**edge of chaos**, where signals travel furthest. The mean-field theory (Poole et al. 2016; "
        "Schoenholz et al. 2017) predicts that a network is trainable only to a depth of about **6 ξ_c**, "
        "a depth scale that diverges at the edge. Below: the theory at once, and trainability *measured* "
        "on thousands of trained networks.")
    with st.sidebar:
        st.header("Theory and live sweep")
        activation = st.selectbox("Activation", LIVE_ACTIVATIONS, key="phase_activation")
        sigma_b2 = st.select_slider("Bias variance σ_b²", options=[0.0, 0.01, 0.05, 0.1, 0.2, 0.5], value=0.05,
                                    key="phase_sigma_b2")
        dataset = st.selectbox("Dataset (live sweep)", LIVE_DATASETS, key="phase_dataset",
                               format_func=lambda n: wil.DATASETS[n].label)
        width = st.select_slider("Width (live sweep)", options=LIVE_WIDTHS, value=16, key="phase_width")
        measure()  # the main column's width in the visitor's browser: the charts are built to fit it
    column = fit_width() or FULL_WIDTH
    frame, critical = theory(activation, float(sigma_b2))
    if column >= NARROW:
        left, right = st.columns([2, 3])  # of the column: 2/5 and 3/5, less the 1 rem gap between them
    else:  # a 1024 px screen beside the sidebar: the theory, then the measurement below it
        left = right = st.container()
    with left:
        theory_column(activation, float(sigma_b2), frame, critical)
    with right:
        measured_column(column)
    st.markdown(
        "**What it shows.** Trainable depth peaks near the edge of chaos and falls on both sides, as ξ_c "
        "does, but more slowly: fitting log(boundary) = a + β·log(ξ_c) to the shipped sweep gives **β = 0.43** "
        "(95% bootstrap interval 0.13 to 0.64), where the theory's c·ξ_c means β = 1, and a constant depth of "
        "about 28 fits its 12 columns better than c·ξ_c. **Where they disagree:** this sweep's protocol "
        "(width 16, 60 epochs of SGD at 0.01, one seed, the final epoch's accuracy) caps the trainable depth "
        "at 25-40 whatever ξ_c, and its measured χ1 crosses 1 at σ_w² ≈ 2.2, not 1.76. Under the paper's "
        "protocol (below: width 64, 3 seeds, 3,000 steps, the best of 3 learning rates, each boundary placed "
        "within ξ_c / 2) the boundary grows with ξ_c at a slope whose interval holds the paper's 1, at a "
        "larger constant than its 6; details in docs/PHASE_DIAGRAM.md.")
    st.divider()
    protocol_section(column)
    st.divider()
    st.markdown("#### Your own sweep, live")
    config = live_config(activation, float(sigma_b2), dataset, width)
    st.caption(f"Mean-field initialization (σ_b² = {sigma_b2:g}), {activation}, width {width}, on "
               f"{wil.DATASETS[dataset].label}; {LIVE_EPOCHS} epochs, one seed; depth {LIVE_DEPTHS[0]} to "
               f"{LIVE_DEPTHS[1]}. Each step refines the grid; steps already run come from the cache.")
    steps = st.session_state.setdefault("phase_steps", 0)  # a click's callback counts it before this line
    st.button("Run a coarse sweep" if steps == 0 else "Refine the sweep", key="phase_run", on_click=_next_step,
              disabled=steps >= len(STEPS))
    if steps:
        _live(config, steps, frame, critical)


def theory_column(activation: str, sigma_b2: float, frame: pd.DataFrame, critical: float | None) -> None:
    """The theory's trainable depth over sigma_w2, and where the edge of chaos is."""
    st.altair_chart(theory_chart(frame, critical), width="stretch")
    if critical is None:
        st.info(f"{wil.ACTIVATIONS[activation].label} with σ_b² = {sigma_b2:g} has no edge of chaos between "
                "σ_w² = 1 and 4: χ1 stays on one side.")
    else:
        st.caption(f"Edge of chaos for {wil.ACTIVATIONS[activation].label}, σ_b² = {sigma_b2:g}: "
                   f"σ_w² = {critical:.3f} (χ1 = 1).")
    st.caption("ξ_c is the correlation map's depth scale, −1/ln(its slope at c*). Where the signal vanishes "
               "(σ_b² = 0, ordered) or explodes (ReLU above 2) that slope tends to 1 and ξ_c is ∞: correlations "
               "are kept; the ordered formula −1/ln χ1 is ξ_q there (`wil.theory.mean_field`).")


def measured_column(column: int) -> None:
    """The shipped sweep's measured diagram (``column``: the main column's width in px), and what
    "trainable" means in it."""
    shipped, meta = shipped_sweep()
    if shipped is None:
        st.info("The measured sweep (docs/phase_sweep.parquet) is not in this copy of the repository.")
        return
    base = (meta or {}).get("config", {})
    shipped_theory, shipped_critical = theory(base.get("activation", "tanh"), _sigma_b2_of(base))
    st.altair_chart(charts.phase_diagram(shipped, theory=shipped_theory, critical=shipped_critical,
                                         title="Measured: which networks trained", width=340, height=300,
                                         fit_width=int((column - 16) * 0.6) if column >= NARROW else column),
                    width="content")
    st.caption(f"Shipped sweep: {len(shipped):,} networks, {base.get('activation', 'tanh')} on "
               f"{base.get('dataset', 'digits')} (made by `python -m wil sweep`; command in "
               "docs/phase_sweep.md).")
    st.caption(wil.criteria.TRAINABLE.definition)  # the criterion these diagrams show (not the explorer's)


@st.cache_data(max_entries=4, show_spinner=False)
def protocol_summary(path: str, mtime: float) -> dict:
    """A shipped protocol run (``mtime`` keys the cache to the file's version): its base config, the rows of
    the best learning rate per depth, the boundary table, both fits with their bootstrap intervals, and
    the budget curve (empty for a run made before the budget columns), all by ``wil.trainability``."""
    frame, config = wil.trainability.read(path)
    sigma_b2 = _sigma_b2_of({"initializer": config.initializer})
    kept = wil.trainability.protocol_rows(frame, config)
    _, table = wil.trainability.fit(kept, config.activation, sigma_b2)
    steps = wil.trainability.brackets(kept).assign(xi_c=table["xi_c"].to_numpy())
    return {"config": config, "sigma_b2": sigma_b2, "kept": kept, "table": table, "steps": steps,
            "fits": wil.trainability.bootstrap(kept, config.activation, sigma_b2),
            "curve": wil.trainability.budget_curve(frame, config, config.activation, sigma_b2)}


def protocol_section(column: int) -> None:
    """The paper's protocol, run and shipped: its diagram, the fitted constant and slope with their intervals,
    the boundary against the step budget, and where it falls short of the paper."""
    st.markdown("#### The paper's protocol, measured")
    runs = {name: path for name, path in PROTOCOL_RUNS.items() if path.exists()}
    if not runs:
        st.info("The protocol runs (docs/phase_protocol*.parquet) are not in this copy of the repository.")
        return
    name = st.radio("Dataset", list(runs), key="phase_protocol_dataset", horizontal=True,
                    format_func=lambda n: wil.DATASETS[n].label)
    summary = protocol_summary(str(runs[name]), runs[name].stat().st_mtime)
    config, fits, table = summary["config"], summary["fits"], summary["table"]
    kept = summary["kept"]
    shipped_theory, critical = theory(config.activation, summary["sigma_b2"])
    left, right = st.columns([3, 2]) if column >= NARROW else (st.container(), st.container())
    with left:
        title = f"The protocol on {wil.DATASETS[name].label}"
        st.altair_chart(charts.phase_diagram(kept, theory=shipped_theory, critical=critical, title=title,
                                             width=340, height=300,
                                             fit_width=int((column - 16) * 0.6) if column >= NARROW else column),
                        width="content")
    with right:
        st.markdown(_fit_sentence(fits, table))
        st.caption(f"Protocol `schoenholz2017`: width {config.width}, {kept['seed'].nunique()} seeds, "
                   f"{config.epochs * config.n_batches():,} SGD steps ({config.epochs} epochs of "
                   f"{config.n_batches()} batches of {config.batch_size}), {config.activation}, σ_b² = "
                   f"{summary['sigma_b2']:g}. {wil.criteria.TRAINABLE_LAST10.definition}")
    if len(summary["curve"]):
        st.altair_chart(charts.budget_curve(summary["curve"], fit_width=column), width="content")
        st.markdown(_budget_sentence(summary["curve"]))
        st.caption("The same run read at an eighth, a quarter, half and all of its steps (the mean training "
                   "accuracy of the 10 epochs ending there; the learning rate has no schedule, so these are "
                   "the shorter runs), the learning rate chosen again at each budget.")
    st.markdown(_shortfall_sentence(summary["steps"], config))


def _shortfall_sentence(steps: pd.DataFrame, config: wil.Config) -> str:
    """Where the shipped run falls short of the paper, in words: its width and optimizer, and how finely each
    column's boundary is placed against the protocol's ξ_c / 2 (``wil.trainability.brackets``)."""
    placed = steps[steps["failed"].notna() & steps["boundary"].notna()]
    gaps = (placed["failed"] - placed["boundary"]) / placed["xi_c"]
    coarse = [f"{s:g} ({int(b)}-{int(f)})" for s, b, f, g in zip(placed["sigma_w2"], placed["boundary"],
                                                                   placed["failed"], gaps) if g > 0.5]
    if len(placed) and not coarse:
        depth = (f"each boundary is placed within {gaps.max():.2f} ξ_c (the protocol asks for at most 0.5), by "
                 "bisection between the deepest depth that trained and the first that failed "
                 "(`python -m wil sweep --refine`)")
    else:
        depth = (f"the boundaries of σ_w² = {', '.join(coarse)} lie between depths further apart than the "
                 "protocol's ξ_c / 2 (`python -m wil sweep --refine` places them)")
    return (f"**Where it falls short of the paper.** Width {config.width}, not ~300; SGD at three learning "
            f"rates, not RMSProp; {depth}. At width 256 the digits run would take ~65 core-hours, more than "
            "this machine had (docs/PHASE_DIAGRAM.md).")


def _budget_sentence(curve: pd.DataFrame) -> str:
    """The budget curve in words: the fits at the smallest and the largest budget."""
    fits = curve.groupby("steps")[["c", "beta"]].first()
    first, last = fits.index[0], fits.index[-1]
    ends = curve[curve["steps"].isin([first, last])].pivot(index="sigma_w2", columns="steps", values="boundary")

    def shown(depth: float, censored: bool) -> str:
        return "none" if not np.isfinite(depth) else f"≥ {depth:g}" if censored else f"{depth:g}"

    censored = curve[curve["steps"] == last].set_index("sigma_w2")["censored"] != ""
    grew = [f"{s:g} ({shown(row[first], False)} → {shown(row[last], censored[s])})"
            for s, row in ends.iterrows() if row[last] > row[first]]
    kept = [f"{s:g}" for s, row in ends.iterrows() if row[last] == row[first]]
    return (f"**As training lengthens:** at {first:,} steps boundary ∝ ξ_c^β with β = {fits['beta'][first]:.2f} "
            f"and c = {fits['c'][first]:.2f}; at {last:,} steps β = {fits['beta'][last]:.2f} and c = "
            f"{fits['c'][last]:.2f}. Deeper with more steps: σ_w² = {', '.join(grew) or 'none'}"
            + (f"; the same depth at every budget: σ_w² = {', '.join(kept)}." if kept else "."))


def _fit_sentence(fits: dict, table: pd.DataFrame) -> str:
    """The two fits in words, with their 95% intervals, and which columns they use."""
    used, censored = table[table["used"]], table[table["censored"] != ""]
    text = (f"**Fitted over {len(used)} columns** (bootstrap over seeds, {fits['n']:,} draws): with the "
            f"paper's slope, boundary = **{fits['c']:.2f} ξ_c** (95% interval {fits['c_ci'][0]:.2f} to "
            f"{fits['c_ci'][1]:.2f}; the paper: about 6). With the slope free, boundary ∝ ξ_c^β with "
            f"**β = {fits['beta']:.2f}** ({fits['beta_ci'][0]:.2f} to {fits['beta_ci'][1]:.2f}); the paper's law "
            f"is β = 1.")
    if len(censored):
        text += (" Left out: σ_w² = " + ", ".join(f"{s:g}" for s in censored["sigma_w2"])
                 + " (no boundary inside the grid).")
    return text


def _next_step() -> None:
    """Callback of the sweep button: one more refinement step (the button's label then says so)."""
    st.session_state["phase_steps"] = st.session_state.get("phase_steps", 0) + 1


def _live(config: wil.Config, steps: int, theory_frame: pd.DataFrame, critical: float | None) -> None:
    sigma, depths = grid_of(steps - 1)
    if within_policy(config, sigma, depths) is not None:  # adapt: the finest grid, at the widest width, that fits
        fits = [(width, step) for step in reversed(range(steps))
                for width in sorted(LIVE_WIDTHS, reverse=True) if width <= config.width and within_policy(
                    dataclasses.replace(config, width=width), *grid_of(step)) is None]
        if not fits:
            st.warning(plain_text("This sweep is beyond the server's budgets: "
                                  f"{within_policy(config, *grid_of(0))}"))
            return
        asked = f"{len(sigma)} × {len(depths)} grid at width {config.width}"
        config = dataclasses.replace(config, width=fits[0][0])
        sigma, depths = grid_of(fits[0][1])
        st.info(f"A {asked} is more than this server's budget for one run allows; here is the finest that "
                f"fits: {len(sigma)} σ_w² × {len(depths)} depths at width {config.width}.")
    bar = st.progress(0, text="Training the sweep…")
    # updates come from inside the cached function; running them in the caller's context keeps them out of
    # the cache's element replay (another visitor's cache hit replayed them onto a bar of this session's
    # run: CacheReplayClosureError), as wil_app/run.py does for training
    outside = contextvars.copy_context()

    def report(done: int, total: int) -> None:
        outside.run(bar.progress, int(100 * done / max(total, 1)),
                    text=f"Training the sweep: {done} of {total} depths done")

    measured = live_sweep(config, sigma, depths, _progress=report)
    bar.empty()
    st.altair_chart(charts.phase_diagram(measured, theory=theory_frame, critical=critical,
                                         title=f"Your sweep: {len(measured)} networks",
                                         fit_width=fit_width() or FULL_WIDTH), width="content")
    trainable = measured.groupby("sigma_w2")["trainable"].mean()
    st.caption(f"Most trainable column: σ_w² = {trainable.idxmax():g} ({trainable.max():.0%} of depths); "
               + (f"the theory's edge of chaos: {critical:.3f}." if critical is not None else ""))


def _sigma_b2_of(base: dict) -> float:
    label = str(base.get("initializer", "mean_field(sigma_b2=0.05)"))
    try:
        return float(wil.parse_entry(label)[1].get("sigma_b2", 0.05))
    except ValueError:
        return 0.05


main()

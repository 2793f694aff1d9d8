"""The result tabs, one module per tab, and this table of them (``PAGES``: title -> what draws it).

``result_tabs`` draws the tabs (only the open one), ``presenter_view`` one chart per screen instead.
The view (epoch, layers, quantity, the histograms' axis, the tab, presenter mode and slide) is kept in
the URL (``wil_app/state.py``). Beside the tabs: ``drawing`` (the cached drawing of their charts, a
``wil.charts`` builder each) and ``controls`` (the view-only controls and the play control).
"""

from __future__ import annotations

import streamlit as st

import wil
from wil import charts

from ..inputs import last_value, pick_name
from ..state import ASKED_TAB, SLIDE, TAB_KEY, sync_view
from ..text import quoted
from . import activations, boundary, dead, gradients, learn, share, takehome, training, weights
from .drawing import chart, view_chart

PAGES = {
    training.TITLE: training.training_tab, activations.TITLE: activations.activations_tab,
    gradients.TITLE: gradients.gradients_tab, dead.TITLE: dead.dead_units_tab,
    boundary.TITLE: boundary.boundary_tab, weights.TITLE: weights.weights_tab, learn.TITLE: learn.learn_tab,
    share.TITLE: share.share_tab,
    takehome.TITLE: takehome.takehome_tab,  # issue 13 hook
}


def open_asked_tab() -> list[str]:
    """The tab a link (``?tab=``, on a session's first run) or a loaded configuration (its view's tab)
    asks for: opened, its title matched leniently (``Share`` from a link whose ``&`` was not encoded), or
    the first tab with a message saying why. Returns the messages."""
    if "_tab_checked" not in st.session_state:
        st.session_state["_tab_checked"] = True
        values = st.query_params.get_all(TAB_KEY)
        asked = values if len(values) > 1 else (values[0] if values else None)
    else:
        asked = st.session_state.pop(ASKED_TAB, None)
    problems = []
    text = last_value(TAB_KEY, asked, problems)
    if text is None:
        return problems
    title = pick_name(text, list(PAGES))
    if title is None:
        first = next(iter(PAGES))
        problems.append(f"Invalid tab: got {quoted(text)}; allowed {', '.join(PAGES)}; showing {first}")
    st.session_state[TAB_KEY] = title or next(iter(PAGES))
    return problems


@st.fragment
def result_tabs(result: wil.Result) -> None:
    """The tabs. A fragment: switching tabs or moving a view-only control reruns only this part of the
    page (the configuration cannot change there), so the sidebar and the header are not sent again."""
    # Lazy tabs: only the open one is drawn. The open tab is part of the link (?tab=...), so a shared
    # link opens on the same view; so are the epoch, the layers and the other view-only choices.
    if st.session_state.get(TAB_KEY) not in (None, *PAGES):  # a loaded configuration's unknown tab
        del st.session_state[TAB_KEY]
    tabs = st.tabs(list(PAGES), key=TAB_KEY, bind="query-params")
    for title, tab, draw in zip(PAGES, tabs, PAGES.values()):
        if tab.open and title != share.TITLE:
            st.session_state[share.VIEWED_TAB] = title  # what a downloaded configuration reopens on
        if tab.open:
            with tab:
                draw(result)
    sync_view(charts.pick_layers(result.config.depth))


# ---------------------------------------------------------------- presenter mode

def slides(result: wil.Result) -> dict:
    """Presenter mode's screens: a short name (a tab's label) and what draws it, one chart each."""
    config = result.config
    # sized for a 1024 x 768 projector (measured in Chromium: tests/e2e/test_browser_presenter.py): about
    # 940 px across and, below the verdicts and one row of tabs, about 480 px down, presenter text and all
    fit, height = PRESENTER_FIT_WIDTH, PRESENTER_PLOT_HEIGHT
    screens = {"Loss": lambda: chart(result, "loss", width=300, height=height)}
    if wil.DATASETS[config.dataset].task == "classification":
        screens["Accuracy"] = lambda: chart(result, "final_scores")
    screens["Signal"] = lambda: chart(result, "activation_std", epoch=0, width=580, height=height)
    # three layers of each initializer, in one row of up to five initializers; more wrap to a second row,
    # so each then shows two layers, lower, and the whole grid still fits below the verdicts
    few = len(config.labels) <= charts.HISTOGRAMS_PER_ROW
    screens["Histograms"] = lambda: chart(
        result, "histograms", quantity="activation", epoch=0, layers=charts.pick_layers(config.depth, 3 if few else 2),
        log_magnitude=True, panel_height=64 if few else 44)
    screens["Gradients"] = lambda: view_chart(result, "profile", "grad_norm", epoch=0, width=580, height=height)
    if not result.grid.empty:  # a row of panels a slide: larger panels than both rows at once
        epochs = sorted(int(e) for e in result.grid["epoch"].unique())
        screens["Boundary: start"] = lambda: chart(result, "boundary", epochs=epochs[:1], fit_width=fit)
        screens["Boundary: trained"] = lambda: chart(result, "boundary", epochs=epochs[-1:], fit_width=fit)
    return screens


PRESENTER_FIT_WIDTH = 880  # px: a chart's whole width on a slide (a 1024 px projector's column is ~944 px)
PRESENTER_PLOT_HEIGHT = 230  # px: a line chart's plot on a slide
SLIDE_TABS = "slide_tabs"  # the slides' tab strip (its label); SLIDE holds the index the link keeps


def pick_slide(names: list[str]) -> None:
    """Callback of the slides' tabs: the index of the tab picked, for the link."""
    picked = st.session_state.get(SLIDE_TABS)
    st.session_state[SLIDE] = names.index(picked) if picked in names else 0


@st.fragment
def presenter_view(result: wil.Result) -> None:
    """One chart per screen, as a strip of tabs (the verdicts are above, the lessons' buttons too). Every
    slide is drawn (from the chart cache once drawn): the next one shows in the browser the moment its tab
    is clicked (or reached with the arrow keys), and the rerun that follows only records it in the link."""
    screens = slides(result)
    names = list(screens)
    index = int(st.session_state.get(SLIDE, 0)) % len(names)
    st.session_state[SLIDE] = index
    st.session_state[SLIDE_TABS] = names[index]  # before the widget: a link's slide, or a new lesson's first
    tabs = st.tabs(names, key=SLIDE_TABS, on_change=pick_slide, args=(names,))
    for tab, draw in zip(tabs, screens.values()):
        with tab:
            draw()
    sync_view(charts.pick_layers(result.config.depth))

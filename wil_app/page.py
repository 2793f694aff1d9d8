"""wil's explorer, the page every visitor's session runs (``streamlit run app.py`` serves it).

The same network, the same data, the same mini-batches; only the initialization differs. This file wires
the page together: the sidebar's ``Config`` -> the server's policy (``POLICY.fit``) -> ``wil`` -> the
verdicts and the tabs' ``wil.charts``. No math and no chart building here, and the pieces live beside it
in ``wil_app/`` (the sidebar, the URL <-> session state, the live run, the verdicts, the tabs, the
lessons). ``app.py`` at the repository root is the server's entry: it serves this
page and warms the server's caches at start-up (``wil_app/warm.py``).

Never an empty page: a run over the server's budgets is adapted (fewer epochs, seeds or samples) and
says so in one line; a configuration that cannot be trained keeps the last results on screen with the
reason beside them.

State flows one way: the URL (first load) -> session state -> sidebar widgets -> ``Config`` -> URL.
"""

from __future__ import annotations

import streamlit as st

import wil
from wil_app.lessons import DEMO
from wil_app.policy import POLICY
from wil_app.run import continue_kept, page_result, summary
from wil_app.sidebar import sidebar_config
from wil_app.state import LOADED_NOTE, PRESENTER, init_from_url, lesson_step, presenter_requested
from wil_app.story import live_drawer, show_verdicts
from wil_app.tabs import open_asked_tab, presenter_view, result_tabs
from wil_app.text import plain_text
from wil_app.upload import data_notes, sync_url_with_data  # issue 13 hook: uploaded data stays out of the URL
from wil_app.viewport import PRESENTER_STYLE, STYLE, measure
from wil_app.workshop import MODE_KEY, workshop_after, workshop_before, workshop_init  # issue 13 hook: quiz and tour

st.set_page_config(page_title="wil · the weight-initialization lab", page_icon="⚖️", layout="wide",
                   initial_sidebar_state="collapsed" if presenter_requested() else "expanded")



def choose_run(config: wil.Config | None, errors: list[str]) -> tuple[wil.Config, wil.Config | None, str | None,
                                                                    str | None]:
    """What to train for the sidebar's ``config``: (the configuration asked for, the one trained, a note
    on how it was adapted, a problem that kept the last results on screen instead). The one trained is
    None when nothing fits the server's budgets, not even the demo (an operator's ``WIL_POLICY``)."""
    last = st.session_state.get("last_config", DEMO)
    problem = "; ".join(errors) if config is None else None
    if config is not None:
        fitted, note = POLICY.fit(config)
        if fitted is not None:
            st.session_state["last_config"] = config
            return config, fitted, note, None
        problem = note
    fitted, note = POLICY.fit(last)
    if fitted is None and last != DEMO:  # the demo, if the server's budgets let it train
        last = DEMO
        fitted, note = POLICY.fit(DEMO)
    return last, fitted, note, problem


def show_messages(config: wil.Config | None, problem: str | None, notes: list[str], fit_note: str | None) -> None:
    """Above the results: a loaded file, the link's problems, why the last results stay, the notes."""
    loaded = st.session_state.pop(LOADED_NOTE, None)
    if loaded:
        st.success(plain_text(loaded), icon=":material/upload_file:")
    # the link's problems stay on screen until the visitor changes the configuration the link opened
    # (compared with what the widgets made of it, which may normalize it, e.g. an empty compare=); shown as
    # plain text (st.code): nothing from a URL is rendered as Markdown or as a Streamlit directive
    st.session_state.setdefault("url_opened_config", config)
    link_problems = st.session_state.get("url_problems", [])
    if link_problems and config is not None and config == st.session_state["url_opened_config"]:
        count = len(link_problems)
        st.warning(f"The link had {count} problem{'s' if count > 1 else ''}, quoted below; the rest of it is "
                   "applied.", icon=":material/link_off:")
        st.code("\n".join(link_problems), language=None, wrap_lines=True)
    if problem:
        st.warning("Showing the last results that trained. This configuration cannot: " + plain_text(problem),
                   icon=":material/undo:")
    for note in notes:
        st.info(note)
    if fit_note:
        st.info(fit_note, icon=":material/tune:")


def stop_with(message: str) -> None:
    """End the page with ``message`` (plain text) where the results would be."""
    st.error(plain_text(message, limit=600), icon=":material/block:")
    st.stop()


def main() -> None:
    init_from_url()
    workshop_init()  # issue 13 hook: ?quiz= or ?tour= loads its configuration
    st.session_state["url_problems"] = st.session_state.get("url_problems", []) + open_asked_tab()
    config, errors, notes = sidebar_config()
    with st.sidebar:
        measure()  # the main column's width in the visitor's browser: the charts are built to fit it
    presenter = bool(st.session_state.get(PRESENTER))

    st.html(PRESENTER_STYLE if presenter else STYLE)
    if presenter:  # one row for the lessons and the mode: a 768 px projector keeps its height for the chart
        presenter_bar()
    else:
        st.markdown("### wil · the weight-initialization lab")
        st.caption("The same network, the same data, the same mini-batches: only the initialization differs.")
    verdicts = st.empty()  # first: each initializer's verdict, above the fold
    if not presenter:  # what the verdicts' "learned" means (the phase page's differs)
        st.caption(wil.criteria.LEARNED.definition)

    asked, trained, fit_note, problem = choose_run(config, errors)
    show_messages(config, problem, notes, fit_note)
    if trained is None:  # an operator's budgets so small that not even the demo fits: say so, train nothing
        stop_with("This server's budgets (its WIL_POLICY setting) are too small for any run, even the demo's: "
                  f"{POLICY.problem(DEMO) or problem} The server's operator can raise them.")
    sync_url_with_data(asked)  # issue 13 hook: sync_url of the config a link may carry
    data_notes(trained)  # issue 13 hook
    if not presenter or st.session_state.get(MODE_KEY, "explore") != "explore":
        workshop_before(trained)  # issue 13 hook: the mode, the question (stops here until Reveal) or the tour step
    networks = len(trained.labels) * trained.n_seeds
    st.sidebar.caption(f"{networks} network{'s' if networks > 1 else ''} to train, "
                       f"about {POLICY.seconds(trained):.3g} s of training (estimated), {POLICY.seconds(trained) / POLICY.max_seconds:.0%} "
                       f"of the {POLICY.max_seconds:g} s one run may take on this server.")

    stopped = st.empty()  # a stopped run's note (empty while a run trains: an earlier note never lingers)
    progress = st.empty()  # while the run trains: the epoch running, the time left, and Stop
    live_chart = st.empty()  # and the loss curves growing
    try:
        result = page_result(trained, on_live=live_drawer(verdicts, live_chart, presenter), line=progress)
    except (ValueError, MemoryError) as error:  # e.g. the library's memory refusal under an operator's budgets
        live_chart.empty()
        stop_with(f"This run cannot train on this server: {error or type(error).__name__}")
    live_chart.empty()
    show_verdicts(verdicts, result, big=presenter)
    if result.stopped_epoch is not None:
        left, right = stopped.container().columns([4, 1], vertical_alignment="center")
        left.info(f"Stopped by you after epoch {result.stopped_epoch} of {trained.epochs}: these are the "
                  "networks as they were then.", icon=":material/stop_circle:")
        right.button("Train to the end", key="train_whole", on_click=continue_kept, args=(trained,),
                     width="stretch", help=f"Continue from epoch {result.stopped_epoch}, where it stopped.")
    if not presenter:
        st.markdown(summary(trained))
    workshop_after(result)  # issue 13 hook: the verdicts beside the predictions, or the tour's chart

    if presenter:
        presenter_view(result)
    else:
        result_tabs(result)


def presenter_bar() -> None:
    """Presenter mode's top row: the lab's name, the previous and next lessons, and the way out."""
    name, back, forward, leave = st.columns([3, 2, 2, 2], vertical_alignment="center")
    name.markdown("**wil** · weight initialization")
    back.button("◀ Lesson", key="lesson_back", on_click=lesson_step, args=(-1,), width="stretch",
                help="The previous prepared lesson")
    forward.button("Lesson ▶", key="lesson_next", on_click=lesson_step, args=(1,), width="stretch",
                   help="The next prepared lesson")
    leave.toggle("Presenter mode", key="presenter_main", value=True, on_change=leave_presenter)


def leave_presenter() -> None:
    """Callback of the main area's presenter toggle (the sidebar is collapsed in presenter mode)."""
    st.session_state[PRESENTER] = False


main()

"""The width of the page's main column, as the visitor's browser lays it out, so that charts fit it.

Charts are built at a fixed size in pixels (Vega-Lite's faceted charts cannot stretch to a container),
sized for the main column of a 1280 px screen beside the sidebar (``FULL_WIDTH``). On a narrower one, a
1024 px projector with the sidebar open, their right side was cut off. A Streamlit component
(``st.components.v2``, the pattern of its documentation's sidebar detector) measures the column in the
browser and reports it whenever it changes by a step (a window resized, the sidebar opened or closed);
the page then builds its charts to fit (``wil.charts``' ``fit_width``). Where the column is at least
``FULL_WIDTH`` wide, nothing is reported and nothing changes: the charts keep their full size and cache.
"""

from __future__ import annotations

import streamlit as st

# a narrower side margin and top than Streamlit's wide layout (on every page): the charts fit a 1280 px
# projector beside the sidebar at full size, and the verdicts fit above the fold at 800 px
# With the sidebar closed the header is opaque (64 px) and holds the expand button: the title starts below
# it. The tab strip wraps onto a second line rather than hiding its last tabs behind a scroll arrow (1024 px
# beside the sidebar).
STYLE = ("<style>[data-testid='stMainBlockContainer']{padding-left:2.5rem;padding-right:2.5rem;"
         "padding-top:2.2rem}"
         ".stApp:has(header [data-testid='stExpandSidebarButton']) [data-testid='stMainBlockContainer']"
         "{padding-top:4.1rem}"
         "[role='tablist']{flex-wrap:wrap;row-gap:.2rem}</style>")
# presenter mode: no header bar (its own toggle leaves the mode) and a small top, so that the verdicts, one
# row of buttons and one whole chart fit a 1024 x 768 projector
PRESENTER_STYLE = ("<style>[data-testid='stMainBlockContainer']{padding-left:2.5rem;padding-right:2.5rem;"
                   "padding-top:.6rem;padding-bottom:1rem}header[data-testid='stHeader']{display:none}"
                   "[data-testid='stMainBlockContainer'] [data-testid='stVerticalBlock']{gap:.45rem}"
                   # the slides' tab strip, legible from the back of a room
                   ".st-key-slide_tabs [role=tab] p{font-size:1.15rem}</style>")
FULL_WIDTH = 880  # px: the main column at 1280 px beside the open sidebar (877), with a little room
STEP = 40  # px: widths are reported rounded down to this, so a resize reruns the page only now and then
KEY = "content_width"
_KNOWN = "_content_width"  # session key: the width last reported

# Reports the main column's inner width (its padding excluded), rounded down to STEP, whenever it differs
# from the one the page last built for (``data.known``); at most once per 300 ms while a window is resized
# or the sidebar slides. A width of FULL_WIDTH or more is reported as FULL_WIDTH.
_JS = """
export default function({ setStateValue, data }) {
  const column = document.querySelector('[data-testid="stMainBlockContainer"]');
  if (!column) return;
  let known = data.known, timer = null;
  const report = () => {
    const style = getComputedStyle(column);
    const inner = column.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const width = Math.min(data.full, Math.floor(inner / data.step) * data.step);
    if (width > 0 && width !== known) { known = width; setStateValue('width', width); }
    document.body.dataset.wilColumn = width;  // what was measured, for the browser tests to wait on
  };
  const observer = new ResizeObserver(() => { clearTimeout(timer); timer = setTimeout(report, 300); });
  observer.observe(column);
  report();
  return () => { observer.disconnect(); clearTimeout(timer); };
}
"""

_measure = st.components.v2.component("wil_content_width", js=_JS)


def measure() -> None:
    """Mount the measuring component (invisible) where it is called, and keep the width it reported in
    the session. Nothing is reported in ``AppTest`` (which runs no browser)."""
    known = st.session_state.get(_KNOWN, FULL_WIDTH)
    result = _measure(key=KEY, data={"known": known, "full": FULL_WIDTH, "step": STEP},
                      default={"width": None}, on_width_change=lambda: None, height=0)
    width = getattr(result, "width", None)
    if isinstance(width, (int, float)) and not isinstance(width, bool) and 0 < width <= FULL_WIDTH:
        st.session_state[_KNOWN] = int(width)


def fit_width() -> int | None:
    """The main column's width in px, as last measured, if it is narrower than ``FULL_WIDTH``; else None
    (the charts' full size)."""
    known = st.session_state.get(_KNOWN, FULL_WIDTH)
    return int(known) if known < FULL_WIDTH else None

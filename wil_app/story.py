"""The first screen's story: each initializer's verdict in words with its evidence in numbers
(``wil.Result.verdicts``, computed by the library from the diagnostics), in the initializer's colour, and
the charts that grow while a run trains.

The verdicts are HTML (a colour swatch per line): every piece of text in it is escaped
(``html.escape``) and comes from the library's sentences over canonical initializer labels, never from
URL text as such.
"""

from __future__ import annotations

import collections
import html
import threading

import streamlit as st

import wil
from wil import charts

from .viewport import fit_width

# verdict -> the mark before its line: a tick for learned, a cross for the failures, a dash for slow
MARKS = {"learned": "✓", "slow": "–"}
MANY_VERDICTS = 5  # presenter mode: more initializers than this put their verdicts in two columns
STYLE = """<style>
.wil-verdicts{margin:0 0 .4rem 0;line-height:1.45}
.wil-verdict{display:flex;align-items:baseline;gap:.5rem;font-size:1.02rem}
.wil-verdicts.big .wil-verdict{font-size:1.25rem;line-height:1.3}
.wil-verdicts.big.many{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);column-gap:1.2rem}
.wil-verdicts.big .wil-text{white-space:nowrap;overflow:hidden;text-overflow:ellipsis;min-width:0}
.wil-swatch{flex:none;width:.9em;height:.9em;border-radius:.2em;display:inline-block;transform:translateY(.1em)}
.wil-mark{flex:none;width:1em;font-weight:bold}
.wil-note{color:#555;font-size:.9rem}
</style>"""


class Shared:
    """Recent answers shared by the sessions of a server, each computed once: a session asking for a key
    another session is computing waits for its answer (sessions that follow one run ask at the same moment,
    woken by the same epoch; py-spy saw each compute it again), up to ``wait`` seconds."""

    def __init__(self, kept: int, wait: float = 10.0):
        self.kept, self.wait = kept, wait
        self._answers: collections.OrderedDict = collections.OrderedDict()
        self._computing: dict = {}  # key -> an Event set once its answer is stored (or its computation failed)
        self._lock = threading.Lock()

    def get(self, key, compute):
        with self._lock:
            if key in self._answers:
                self._answers.move_to_end(key)
                return self._answers[key]
            computing = self._computing.get(key)
            if computing is None:
                self._computing[key] = threading.Event()
        if computing is not None:
            computing.wait(self.wait)
            with self._lock:
                if key in self._answers:
                    return self._answers[key]
            return compute()  # the other session failed or is slow: this one computes its own
        try:
            answer = compute()
            with self._lock:
                self._answers[key] = answer
                while len(self._answers) > self.kept:
                    self._answers.popitem(last=False)
            return answer
        finally:
            with self._lock:
                self._computing.pop(key).set()


# the verdicts of recent runs and epochs (a run's numbers are its configuration's): ~0.2 s each to judge
_VERDICTS = Shared(kept=64)
# the live loss chart of recent views of the runs training, by the view (kept with it: its id stays its own)
_LIVE_CHARTS = Shared(kept=8)


def verdict_html(result: wil.Result, big: bool = False, note: str = "") -> str:
    """One line per initializer: its colour, a mark, its name in bold and the library's sentence over its
    seeds ("He normal: learned in 3 of 3 seeds, test accuracy 93-96%"). Judged once per run, epoch and
    status (a run's numbers are its configuration's), then shared."""
    import pandas as pd

    key = (result.config, result.stopped_epoch, int(pd.util.hash_pandas_object(result.status, index=False).sum()),
           big, note)
    return _VERDICTS.get(key, lambda: _verdict_html(result, big, note))


def _verdict_html(result: wil.Result, big: bool, note: str) -> str:
    verdicts = result.verdicts(by="initializer")
    labels = [str(label) for label in result.labels]
    colors = dict(zip(labels, charts.initializer_colors(labels)))
    lines = []
    for row in verdicts.itertuples():
        label, verdict = str(row.initializer), str(row.verdict)
        name, _, rest = str(row.sentence).partition(": ")
        mark = MARKS.get(verdict, "✗")
        lines.append(
            f"<div class='wil-verdict' data-initializer='{html.escape(label, quote=True)}' "
            f"data-verdict='{html.escape(verdict, quote=True)}' data-color='{colors[label]}'>"
            f"<span class='wil-swatch' style='background:{colors[label]}'></span>"
            f"<span class='wil-mark'>{mark}</span>"
            f"<span class='wil-text' title='{html.escape(str(row.sentence), quote=True)}'>"
            f"<b>{html.escape(name)}</b>: {html.escape(rest)}</span></div>")
    if note:
        lines.append(f"<div class='wil-note'>{html.escape(note)}</div>")
    # presenter mode: one line each (the whole sentence on hover), in two columns beyond MANY_VERDICTS
    size = (" big many" if len(verdicts) > MANY_VERDICTS else " big") if big else ""
    return f"{STYLE}<div class='wil-verdicts{size}' data-testid='wil-verdicts'>{''.join(lines)}</div>"


def show_verdicts(slot, result: wil.Result, big: bool = False, note: str = "") -> None:
    """The verdicts into ``slot`` (an ``st.empty``)."""
    slot.html(verdict_html(result, big, note))


def live_drawer(verdict_slot, chart_slot, big: bool = False):
    """A ``train_live`` callback: the verdicts so far and the loss curves so far, at each live update."""

    def draw(partial: wil.Result) -> None:
        epoch = partial.stopped_epoch
        show_verdicts(verdict_slot, partial, big, note=f"So far, after {epoch} of {partial.config.epochs} epochs.")
        width = fit_width()
        _, chart = _LIVE_CHARTS.get((id(partial), width, big), lambda: (partial, _live_chart(partial, width, big)))
        chart_slot.altair_chart(chart, width="content")

    return draw


def _live_chart(partial: wil.Result, width, big: bool):
    chart = charts.loss_curves(partial.history, partial.status, fit_width=width)
    return charts.presenter(chart) if big else chart

"""The tabs' view-only controls: the epoch to inspect, the layers, the histograms' axis, and the play
control that steps the epoch-dependent charts through the recorded snapshots (``POLICY.snapshots``).
None of them retrains."""

from __future__ import annotations

import streamlit as st

import wil
from wil import charts

from ..state import HISTOGRAM_AXES, SESSION_KEYS, HISTOGRAM_X

PLAY_STEP = 0.5  # seconds per frame of the play control (16 frames: 8 s); each frame draws in the browser


def recorded_epochs(result: wil.Result) -> list[int]:
    """The epochs with histograms (and, for 2-D data, decision boundaries): the ones to inspect and play."""
    return sorted(int(e) for e in result.histograms["epoch"].unique()) or [0]


def epoch_control(result: wil.Result) -> int:
    """Which recorded epoch to inspect.

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


# The play control runs in the visitor's browser: it steps the epoch slider of the charts beside it
# (``drawing.played``: every frame is in the chart already), so no frame waits on the server and nothing
# runs there while it plays. Any click or key press stops it; where it stopped is reported back, and the
# page's epoch slider (and the link) moves there. ``document.body.dataset.wilPlay`` records each frame's
# drawing time in ms for the browser tests.
_PLAY_JS = """
export default function({ parentElement, data, setStateValue }) {
  const button = parentElement.querySelector('button');
  if (button.textContent === '' || document.body.dataset.wilPlaying !== '1') button.textContent = data.label;
  const scope = () => {
    let node = parentElement.host || parentElement;
    while (node && !(node.querySelector && node.querySelector('.vega-bindings input, .vega-bindings select'))) {
      node = node.parentElement || (node.getRootNode && node.getRootNode().host);
    }
    return node;
  };
  let timer = null, last = null;
  const stop = (report) => {
    if (timer === null) return;
    clearInterval(timer); timer = null;
    document.removeEventListener('pointerdown', onClick, true);
    document.removeEventListener('keydown', onClick, true);
    button.textContent = data.label; document.body.dataset.wilPlaying = '0';
    if (report && last !== null) setStateValue('epoch', last);
  };
  const onClick = () => stop(true);
  const show = (inputs, value) => {
    const start = performance.now();
    for (const input of inputs) {
      input.value = String(value);
      input.dispatchEvent(new Event(input.tagName === 'SELECT' ? 'change' : 'input', { bubbles: true }));
    }
    requestAnimationFrame(() => requestAnimationFrame(() => {
      const times = JSON.parse(document.body.dataset.wilPlay || '[]');
      times.push(Math.round(performance.now() - start));
      document.body.dataset.wilPlay = JSON.stringify(times);
    }));
  };
  button.onclick = () => {
    if (timer !== null) return;
    const root = scope();
    if (!root) return;
    const inputs = [...root.querySelectorAll('.vega-bindings input[type=range], .vega-bindings select')];
    if (!inputs.length) return;
    document.body.dataset.wilPlay = '[]'; document.body.dataset.wilPlaying = '1';
    button.textContent = data.playing;
    let index = 0;
    const step = () => {
      if (index >= data.epochs.length) { stop(true); return; }
      last = data.epochs[index++];
      show(inputs, last);
    };
    step();
    timer = setInterval(step, data.step_ms);
    // after this click has gone by: the next one anywhere stops the play
    setTimeout(() => {
      document.addEventListener('pointerdown', onClick, true);
      document.addEventListener('keydown', onClick, true);
    }, 0);
  };
  return () => stop(false);
}
"""
_PLAY_CSS = """
button { font: inherit; padding: .35rem .9rem; border-radius: .5rem; border: 1px solid rgba(49,51,63,.2);
         background: white; cursor: pointer; }
button:hover { border-color: #ff4b4b; color: #ff4b4b; }
"""
_play = st.components.v2.component("wil_play", html="<button type='button'></button>", css=_PLAY_CSS,
                                   js=_PLAY_JS)


def play_control(key: str, result: wil.Result) -> None:
    """A ▶ Play button that steps the charts beside it through the recorded epochs in the browser,
    ``PLAY_STEP`` seconds a frame; any click stops it, and the page's epoch follows where it stopped."""
    epochs = recorded_epochs(result)
    label = f"▶ Play through training ({len(epochs)} frames, any click stops it)"
    _play(key=key, data={"epochs": epochs, "step_ms": int(PLAY_STEP * 1000), "label": label,
                         "playing": "■ Playing… click anywhere to stop"},
          default={"epoch": None}, on_epoch_change=lambda: _played_to(key), height=44)


def _played_to(key: str) -> None:
    """Callback of the play control: the page's epoch goes where play stopped."""
    state = st.session_state.get(key)
    epoch = getattr(state, "epoch", None) if state is not None else None
    if epoch is None and isinstance(state, dict):
        epoch = state.get("epoch")
    if isinstance(epoch, (int, float)) and not isinstance(epoch, bool):
        st.session_state["_play_to"] = st.session_state["_view_epoch"] = int(epoch)


def layers_control(result: wil.Result) -> list[int]:
    """Which layers the histograms show (a spread of five by default)."""
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
    """The histograms' x axis: log magnitude by default (every initializer's scale shows, ten decades
    apart if need be); each its own; or one shared linear axis. Returns the options of
    ``charts.histogram_grid``."""
    axis = st.radio("Histogram x axis", options=list(HISTOGRAM_AXES), key=SESSION_KEYS[HISTOGRAM_X],
                    horizontal=True, format_func=HISTOGRAM_AXES.get)
    return {"shared_x": axis == "shared", "log_magnitude": axis == "log"}


def epoch_and_layers(result: wil.Result) -> tuple[int, list[int]]:
    """The epoch and the layers, side by side."""
    left, right = st.columns([3, 2])
    with left:
        epoch = epoch_control(result)
    with right:
        layers = layers_control(result)
    return epoch, layers

"""One run: all networks of a configuration trained at once (cached per configuration, with a progress
bar), and the lines above the tabs that describe it."""

from __future__ import annotations

import contextvars

import streamlit as st

import wil

from .policy import POLICY
from .sidebar import OPTIMIZER_LABELS


@st.cache_data(max_entries=6, show_spinner=False)
def run_comparison(config: wil.Config, _progress=None) -> wil.Result:
    """All of ``config.compare`` x ``config.n_seeds`` networks, trained at once; cached on the config."""
    return POLICY.run(config, progress=_progress)


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


def summary(config: wil.Config) -> str:
    """One line of markdown: the data, the network and the training of ``config``."""
    dataset = wil.DATASETS[config.dataset]
    samples = (f"{config.n_samples} samples, noise {config.noise:g}" if dataset.uses_samples
               else f"{dataset.size} samples")
    batch = "full batch" if config.batch_size is None else f"batches of {config.batch_size}"
    seeds = "1 seed" if config.n_seeds == 1 else f"{config.n_seeds} seeds per initializer"
    return (f"**{dataset.label}** ({samples}) · **{config.depth} × {config.width} "
            f"{wil.ACTIVATIONS[config.activation].label}** · {OPTIMIZER_LABELS[config.optimizer]}, "
            f"learning rate {config.learning_rate:g}, {config.epochs} epochs, {batch} · {seeds}")


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

"""``wil.train`` and ``wil.compare``: check the arguments, check that the run fits in memory, train.

The library sets no budget of its own: any valid run trains if its estimated peak memory
(``Config.memory``) fits what this process may still allocate (``wil.spec.resources.available_bytes``); else it
is refused before anything is allocated, with the estimate. A server's policy (how many runs at once, how
large) lives with the server (``wil_app/policy.py``).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Callable, Iterable, Sequence

import numpy as np

from wil.spec.checks import MAX_ITEMS, ArgumentTypeError, check_bool, check_int, check_items, shown
from wil.spec.config import MAX_SEED, Config, checked_labels
from wil.spec.datasets import load_dataset
from wil.spec.layout import MAX_SNAPSHOTS
from wil.engine.checkpoint import Checkpoint
from wil.engine.train import StopTraining, resume_run, run
from wil.spec.resources import check_fits, format_bytes
from wil.analysis.result import Result, build_result
from wil.engine.threads import blas_threads, plan

ProgressCallback = Callable[[float], None]
Entry = "str | tuple[str, dict]"

__all__ = ["StopTraining", "compare", "resume", "train"]


def train(config: Config, *, progress: ProgressCallback | bool | None = None, diagnostics: bool = True) -> Result:
    """Train one network: ``config.initializer`` seeded with ``config.seed``. See ``compare``."""
    check_config(config)
    return compare(config, [config.initializer], [config.seed], progress=progress, diagnostics=diagnostics)


def compare(config: Config, initializers: Sequence[Entry] | None = None, seeds: Iterable[int] | None = None,
            *, progress: ProgressCallback | bool | None = None, diagnostics: bool = True,
            live: Callable[[Result], None] | None = None, live_every: float = 0.3,
            live_share: float | None = None, snapshots: int | None = None) -> Result:
    """Train one network per (initializer, seed), all at once, on the same data and mini-batches.

    Parameters
    ----------
    config : the run; its ``compare`` (or ``initializer``) and ``seeds`` are the defaults below.
    initializers : entries, each a name, a ``(name, params)`` pair or a label ``"name(k=v)"``; distinct.
    seeds : the networks' seeds, shared by every initializer; distinct integers in [0, 2**32 - 1].
    progress : True for a progress bar (``tqdm.auto``: a widget in Jupyter, text in a terminal), or a
        callable given the fraction done, from 0 to 1. The callable may raise ``wil.StopTraining`` to end
        the run after the epoch in progress: the result then holds every epoch trained
        (``Result.stopped_epoch``).
    diagnostics : record per-layer statistics and histograms (off: losses and accuracies only).
    live : a callable given a partial ``Result`` while the run trains (every epoch recorded so far, its
        ``stopped_epoch`` the last of them): after the first epoch (charts on screen at once), then at most
        every ``live_every`` seconds, for charts that grow as
        the networks learn. Building it costs about as much as building the final result, so keep
        ``live_every`` well above that, or set ``live_share``. It may raise ``wil.StopTraining`` as
        ``progress`` may.
    live_every : the least seconds between two calls of ``live`` (> 0).
    live_share : None (default), or the most share of the training thread's time the live views may take,
        in (0, 1): each call is then followed by at least ``(1 - live_share) / live_share`` times its cost
        (building the view and the callable's own time) before the next, e.g. 9x for 0.1.
    snapshots : the number of evenly spaced epochs (from 0 to the last) whose histograms and decision
        boundary are recorded, e.g. 16 to animate training; default five histograms (epoch 0, 10%, 30%,
        60%, the end) and two boundaries (0, the end). Each snapshot costs memory: see ``Config.memory``.

    Returns
    -------
    Result with tidy frames; see ``wil.Result``.

    Raises
    ------
    ValueError
        an invalid argument, or a run whose estimated peak memory exceeds what is available (the message
        gives both); ``TypeError`` (``wil.spec.checks.ArgumentTypeError``) for an argument of the wrong type.
    """
    check_config(config)
    labels = list(config.labels if initializers is None else checked_labels("initializers", initializers))
    seeds = config.seeds if seeds is None else _checked_seeds(seeds)
    diagnostics = check_bool("diagnostics", diagnostics)
    if snapshots is not None:
        snapshots = check_int("snapshots", snapshots, 2, MAX_SNAPSHOTS)
    live_every = _checked_live(live, live_every, live_share)
    n_networks = len(labels) * len(seeds)
    _check_memory(config, n_networks, diagnostics, snapshots)
    report, bar = _progress(progress, n_networks)
    if live is not None and report is None:
        report = _ignore  # the loop calls ``live`` from the thread that reports progress
    try:
        if report is not None:
            report(0.0)
        data = load_dataset(config.dataset, config.n_samples, config.noise, config.seed)
        how = plan(n_networks, config.width, config.depth, data.X_train.shape[0], data.X_test.shape[0],
                   config.batch_size)
        with np.errstate(all="ignore"), blas_threads(how.blas):
            records = run(config, data, labels, seeds, report, diagnostics, how, snapshots=snapshots,
                          live=None if live is None else lambda partial: live(build_result(config, data, partial)),
                          live_every=live_every, live_share=live_share)
    finally:
        if bar is not None:
            bar.close()
    return build_result(config, data, records, Checkpoint(records, list(records.groups.values()), how, diagnostics,
                                                          snapshots))


def resume(result: Result, epochs: int | None = None, *, progress: ProgressCallback | bool | None = None,
           live: Callable[[Result], None] | None = None, live_every: float = 0.3,
           live_share: float | None = None) -> Result:
    """Continue a run that was stopped (``wil.StopTraining``) or that finished, up to ``epochs`` epochs in all.

    The networks go on from their last epoch with the same optimizer state, mini-batch order and random
    streams, so every frame is that of one uninterrupted ``wil.compare`` of ``epochs`` epochs. Histograms
    and boundaries are recorded at that run's epochs from the last epoch trained on (the ones before it
    stay as the result recorded them; they are the same when ``epochs`` is ``config.epochs``).

    Parameters
    ----------
    result : a ``wil.Result`` of ``wil.compare``, ``wil.train`` or ``wil.resume`` in this process (it
        carries the networks' parameters, optimizer buffers and mini-batch stream at its last epoch).
    epochs : the number of epochs in all (default ``result.config.epochs``); at least the last epoch
        trained (``result.stopped_epoch``, or ``config.epochs`` for a run that finished).
    progress, live, live_every, live_share : as in ``wil.compare``; ``progress`` or ``live`` may raise
        ``wil.StopTraining`` to stop again, and the new result can be continued in turn.

    Returns
    -------
    Result of ``dataclasses.replace(result.config, epochs=epochs)``.

    Raises
    ------
    ValueError
        a result with nothing to continue (loaded by ``wil.load``, a live view, every network diverged),
        ``epochs`` below the last epoch trained, or a run that does not fit in memory; ``TypeError``
        (``wil.spec.checks.ArgumentTypeError``) for an argument of the wrong type.

    Examples
    --------
    >>> res = wil.compare(cfg, progress=stop_at_epoch_50)   # raises wil.StopTraining in the callback
    >>> res = wil.resume(res)                                # the same numbers as one run of cfg.epochs
    """
    if not isinstance(result, Result):
        raise ArgumentTypeError(f"Invalid result: expected a wil.Result, got {shown(result)}")
    checkpoint = result.checkpoint
    if not isinstance(checkpoint, Checkpoint):
        raise ValueError("Invalid result: it holds no training state to continue (a result loaded by wil.load, "
                         "or a live view); train it again with wil.compare")
    if not checkpoint.groups:
        raise ValueError("Invalid result: every network diverged, so there is nothing to continue")
    last = checkpoint.last_epoch
    epochs = result.config.epochs if epochs is None else epochs
    if isinstance(epochs, int) and not isinstance(epochs, bool) and epochs < last:
        raise ValueError(f"Invalid epochs: {epochs} is below the last epoch trained ({last}); expected {last} "
                         "or more")
    config = dataclasses.replace(result.config, epochs=epochs)  # checks epochs
    live_every = _checked_live(live, live_every, live_share)
    records = checkpoint.records
    n_networks = records.history.shape[0]
    _check_memory(config, n_networks, checkpoint.diagnostics, checkpoint.snapshots)
    report, bar = _progress(progress, n_networks)
    if live is not None and report is None:
        report = _ignore
    try:
        if report is not None:
            report(last / epochs if epochs else 1.0)
        data = load_dataset(config.dataset, config.n_samples, config.noise, config.seed)
        with np.errstate(all="ignore"), blas_threads(checkpoint.how.blas):
            records = resume_run(checkpoint, config, data, report, live_every=live_every, live_share=live_share,
                                 live=None if live is None else lambda partial: live(build_result(config, data,
                                                                                                  partial)))
    finally:
        if bar is not None:
            bar.close()
    return build_result(config, data, records, Checkpoint(records, list(records.groups.values()), checkpoint.how,
                                                          checkpoint.diagnostics, checkpoint.snapshots))


def _checked_live(live, live_every, live_share=None) -> float:
    """``live_every`` as a float, after checking ``live``, it and ``live_share``."""
    if live is not None and not callable(live):
        raise ArgumentTypeError(f"Invalid live: expected a callable or None, got {shown(live)}")
    if not (isinstance(live_every, (int, float)) and not isinstance(live_every, bool) and live_every > 0):
        raise ValueError(f"Invalid live_every: expected a number of seconds > 0, got {shown(live_every)}")
    if live_share is not None and not (isinstance(live_share, (int, float)) and not isinstance(live_share, bool)
                                       and 0 < live_share < 1):
        raise ValueError(f"Invalid live_share: expected None or a share of the time in (0, 1), got {shown(live_share)}")
    return float(live_every)


def _check_memory(config: Config, n_networks: int, diagnostics: bool, snapshots: int | None) -> None:
    """Refuse a run whose estimated peak memory exceeds what is available, with the estimate."""
    memory = config.memory(n_networks, diagnostics, snapshots)
    check_fits(f"This run ({n_networks} network{'s' if n_networks > 1 else ''} of {config.depth} x {config.width}, "
               f"{config.epochs} epochs)", memory["peak"],
               "train fewer networks, or reduce width, depth, samples or epochs (largest part: "
               + ", ".join(f"{part} {format_bytes(memory[part])}" for part in _largest_parts(memory)) + ")")


def _ignore(fraction: float) -> None:
    """A progress callback that does nothing."""


def check_config(config: object) -> None:
    if not isinstance(config, Config):
        raise ArgumentTypeError(f"Invalid config: expected a wil.Config, got {shown(config)}")


def _checked_seeds(seeds: object) -> list[int]:
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Iterable):
        raise ArgumentTypeError(f"Invalid seeds: expected a list of integers, got {shown(seeds)}")
    seeds = [check_int("seed", seed, 0, MAX_SEED) for seed in check_items("seeds", seeds, MAX_ITEMS)]
    if not seeds:
        raise ValueError("Invalid seeds: expected at least one seed, got an empty list")
    if len(set(seeds)) < len(seeds):
        repeated = min(seed for seed, count in Counter(seeds).items() if count > 1)
        raise ValueError(f"Invalid seeds: {repeated} is listed twice")
    return seeds


def _largest_parts(memory: dict[str, float]) -> list[str]:
    parts = {key: value for key, value in memory.items() if key != "peak"}
    return sorted(parts, key=parts.get, reverse=True)[:2]


def _progress(progress, n_networks: int):
    """A callable for the loop and the bar to close (None if none): ``progress`` as given, or a
    ``tqdm.auto`` bar for ``True``."""
    if progress is None or progress is False:
        return None, None
    if progress is True:
        from tqdm.auto import tqdm

        bar = tqdm(total=100, desc=f"wil: {n_networks} network{'s' if n_networks > 1 else ''}", unit="%",
                   bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f}% [{elapsed}<{remaining}]")

        def report(fraction: float) -> None:
            bar.update(round(fraction * 100) - bar.n)

        return report, bar
    if not callable(progress):
        raise ArgumentTypeError(f"Invalid progress: expected True, False, None or a callable, got {shown(progress)}")
    return progress, None

"""Sweep protocols: presets, held as data, that make a sweep able to test a paper's claim.

``PROTOCOLS["schoenholz2017"]`` is the trainability protocol of Schoenholz, Gilmer, Ganguli & Sohl-Dickstein
(2017), "Deep information propagation", as far as this engine can follow it: width >= 64, >= 3 seeds, a
fixed budget of optimizer steps, a learning rate chosen per depth from a small grid (the engine has no
RMSProp), trainability from one criterion (``wil.criteria.TRAINABLE_LAST10``: the mean training accuracy of
the last 10 epochs) and depth steps of at most xi_c / 2 near the boundary. ``wil.sweep(..., protocol=...)``
and ``python -m wil sweep --protocol ...`` apply it: ``prepare`` turns the caller's config, grid and seeds
into the protocol's, ``estimate`` says what it costs before anything trains, and ``select`` keeps, per
depth, the rows of the learning rate that trained best. ``wil.sweep(..., refine=True)`` then places each
boundary within ``depth_step`` x xi_c by bisection (``wil.trainability.next_depths``), instead of a grid
that fine everywhere.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np

from wil.analysis.criteria import TRAINABLE_LAST10, dataset_classes
from wil.analysis.theory import mean_field
from wil.spec.checks import check_seeds, shown
from wil.spec.config import Config
from wil.spec.datasets import MAX_SEED
from wil.spec.labels import parse_entry
from wil.sweep.plan import MAX_NETWORKS, checked_axes, estimated_seconds, plan_tasks

if TYPE_CHECKING:
    import pandas as pd


@dataclasses.dataclass(frozen=True)
class Protocol:
    """A sweep preset: what it fixes, with the paper it follows."""

    name: str
    cites: str
    min_width: int  # the width is raised to this when the config's is smaller
    n_seeds: int  # at least this many seeds (missing ones are added after the smallest given)
    steps: int  # optimizer steps per network: epochs = ceil(steps / batches per epoch)
    batch_size: int  # when the config trains full batch
    optimizer: str
    learning_rates: tuple[float, ...]  # swept; per depth the best (``select``) is kept
    depth_step: float  # near the boundary consecutive depths differ by at most depth_step * xi_c
    boundary_window: tuple[float, float]  # "near the boundary": depths from window[0] to window[1] times xi_c
    max_depth: int  # the deepest network of a depth grid the protocol makes
    criterion: str = "train_accuracy_last10"  # the column TRAINABLE_LAST10 reads


PROTOCOLS: dict[str, Protocol] = {p.name: p for p in [
    Protocol("schoenholz2017", "Schoenholz, Gilmer, Ganguli & Sohl-Dickstein (2017), Deep information propagation",
             min_width=64, n_seeds=3, steps=3000, batch_size=128, optimizer="sgd",
             learning_rates=(1e-3, 3e-3, 1e-2), depth_step=0.5, boundary_window=(2.0, 12.0), max_depth=128),
]}


def get_protocol(name: object) -> Protocol:
    """The protocol called ``name``, or ValueError listing them."""
    if not isinstance(name, str) or name not in PROTOCOLS:
        raise ValueError(f"Invalid protocol {shown(name)}; choose from {sorted(PROTOCOLS)}")
    return PROTOCOLS[name]


def prepare(name: str, config: Config, grid: Mapping[str, Sequence], seeds: Sequence[int]
            ) -> tuple[Config, dict, tuple[int, ...]]:
    """The protocol's (config, grid, seeds) from the caller's: width raised to ``min_width``, the batch size
    (if full batch) and the optimizer set, epochs from the step budget, a ``learning_rate`` axis added
    (unless given), a depth grid made from xi_c (unless ``depth`` is an axis) and seeds completed to
    ``n_seeds``. Classification only (the criterion reads accuracies)."""
    protocol = get_protocol(name)
    if not isinstance(config, Config) or not isinstance(grid, Mapping) or not grid:
        plan_tasks(config, grid, seeds)  # raises the plan's own error, naming the argument
    seeds = tuple(check_seeds("seeds", seeds, MAX_SEED, MAX_NETWORKS))
    if dataset_classes(config.dataset) is None:
        raise ValueError(f"Invalid dataset {config.dataset!r} for protocol {name!r}: its criterion reads training "
                         f"accuracies; choose a classification dataset")
    batch = config.batch_size or min(protocol.batch_size, config.n_train())
    config = dataclasses.replace(config, width=max(config.width, protocol.min_width), batch_size=batch,
                                 optimizer=protocol.optimizer)
    config = dataclasses.replace(config, epochs=math.ceil(protocol.steps / config.n_batches()))
    grid = checked_axes(config, grid)  # the plan's checks and plain values, before xi_c reads them
    if "depth" not in grid:
        grid["depth"] = boundary_depths(protocol, config, grid.get("sigma_w2", ()))
    grid.setdefault("learning_rate", list(protocol.learning_rates))
    start = min(seeds, default=0)
    extra = [s for s in range(start, start + 2 * protocol.n_seeds) if s not in seeds]
    return config, grid, tuple(sorted(seeds + tuple(extra[:max(0, protocol.n_seeds - len(seeds))])))


def xi_c_values(config: Config, sigma_w2_values) -> list[float]:
    """xi_c of each sigma_w2 for ``config``'s activation and its ``mean_field`` initializer's sigma_b2 (an
    empty list for other initializers)."""
    name, params = parse_entry(config.initializer)
    if name != "mean_field":
        return []
    return [mean_field(config.activation, float(s), params["sigma_b2"]).xi_c for s in sigma_w2_values]


def boundary_depths(protocol: Protocol, config: Config, sigma_w2_values) -> list[int]:
    """A depth grid, 2 to ``max_depth``, whose steps are at most ``depth_step * xi_c`` across each sigma_w2's
    window ``boundary_window * xi_c`` (steps of 4 elsewhere, and wherever xi_c is infinite)."""
    depths = set(range(2, protocol.max_depth + 1, 4)) | {protocol.max_depth}
    for xi in xi_c_values(config, sigma_w2_values):
        if math.isfinite(xi) and xi > 0:
            low, high = (min(protocol.max_depth, max(2, round(f * xi))) for f in protocol.boundary_window)
            step = max(1, math.floor(protocol.depth_step * xi))
            depths |= set(range(low, high + 1, step)) | {high}
    return sorted(depths)


def coarse_steps(protocol: Protocol, config: Config, grid: Mapping[str, Sequence]) -> list[tuple[float, float]]:
    """The (sigma_w2, largest depth step across its boundary window) pairs whose step exceeds
    ``depth_step * xi_c``: where the depth grid is too coarse to place the boundary as the protocol asks."""
    depths = sorted(grid.get("depth", ()))
    coarse = []
    for sigma_w2, xi in zip(grid.get("sigma_w2", ()), xi_c_values(config, grid.get("sigma_w2", ()))):
        if not (math.isfinite(xi) and xi > 0) or len(depths) < 2:
            continue
        low, high = (f * xi for f in protocol.boundary_window)
        gaps = [b - a for a, b in zip(depths, depths[1:]) if b >= low and a <= high]
        if gaps and max(gaps) > protocol.depth_step * xi:
            coarse.append((float(sigma_w2), float(max(gaps))))
    return coarse


def estimate(name: str, config: Config, grid: Mapping[str, Sequence], seeds: Sequence[int],
             workers: int = 1) -> str:
    """What the prepared sweep will cost, in words, before anything trains: its networks, steps, the CPU time
    estimated by ``wil.sweep.plan.estimated_seconds`` and the wall time on ``workers``, and where its depth
    grid is coarser than the protocol asks."""
    protocol = get_protocol(name)
    tasks = plan_tasks(config, grid, seeds)
    seconds = sum(estimated_seconds(t) for t in tasks)
    networks = sum(t.n_networks for t in tasks)
    steps = config.epochs * config.n_batches()
    lines = [f"protocol {name}: {networks:,} networks ({' x '.join(f'{len(v)} {a}' for a, v in grid.items())} x "
             f"{len(seeds)} seeds), width {config.width}, {steps:,} steps ({config.epochs} epochs of "
             f"{config.n_batches()} batches of {config.batch_size}), {config.optimizer}; estimated "
             f"{duration(seconds)} of one core, {duration(seconds / max(1, workers))} on {workers} worker(s) (the "
             f"estimate is ~4x pessimistic on an idle core: docs/PHASE_DIAGRAM.md)"]
    coarse = coarse_steps(protocol, config, grid)
    if coarse:
        shown_ = ", ".join(f"{s:g} (step {g:g})" for s, g in coarse[:6])
        lines.append(f"  depth grid coarser than {protocol.depth_step:g} xi_c near the boundary at sigma_w2 = "
                     f"{shown_}{' ...' if len(coarse) > 6 else ''}")
    return "\n".join(lines)


def duration(seconds: float) -> str:
    """``seconds`` in words: "42 s", "12.5 min" or "3.2 h"."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min" if seconds < 3600 else f"{seconds / 3600:,.1f} h"


def select(frame: pd.DataFrame, n_classes: int, name: str = "schoenholz2017", criterion: str | None = None
           ) -> pd.DataFrame:
    """Per depth, the rows of the learning rate whose networks (every other axis and seed) reached the highest
    mean criterion accuracy (a diverged network counts 0), with ``trainable`` recomputed by
    ``TRAINABLE_LAST10`` for a task of ``n_classes`` classes. One row per (other axes, seed), in the frame's
    order.

    ``criterion``: the column read (default the protocol's, ``train_accuracy_last10``); a budget column
    (``train_accuracy_last10_half``, ``_quarter``, ``_eighth``, see ``wil.sweep.worker``) reads the sweep as
    if trained for that share of its steps: there NaN marks a network that diverged within the budget, and
    one that diverged later counts as not diverged."""
    protocol = get_protocol(name)
    criterion = protocol.criterion if criterion is None else criterion
    if "learning_rate" not in frame or "depth" not in frame or criterion not in frame:
        raise ValueError(f"Invalid frame: a protocol sweep's frame has learning_rate, depth and {criterion} "
                         f"columns")
    budget = criterion != protocol.criterion
    diverged = frame[criterion].isna() if budget else frame["diverged"].astype(bool)
    score = frame[criterion].where(~diverged, 0.0).fillna(0.0)
    means = score.groupby([frame["depth"], frame["learning_rate"]]).mean()
    best = means.groupby(level="depth").idxmax().map(lambda key: key[1])
    kept = frame[frame["learning_rate"].to_numpy() == frame["depth"].map(best).to_numpy()].copy()
    kept["trainable"] = [TRAINABLE_LAST10.holds(bool(d), float(a), np.nan, np.nan, n_classes)
                         for d, a in zip(diverged[kept.index], kept[criterion])]
    return kept.reset_index(drop=True)

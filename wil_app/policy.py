"""The server's policy: the budgets of a small shared Streamlit server, in one object the app applies.

``wil`` itself trains any valid run that fits the machine's memory. A Streamlit server is one process
serving every visitor, on a fraction of a core and under 1 GB (Community Cloud's small instances), so the
app adds, here and only here:

- caps that exist only for the server (``caps``: depth, width, samples, epochs, seeds, initializers);
- two budgets on a whole run, in seconds and megabytes (``max_seconds``, ``max_memory_mb``), estimated
  before it trains from its shapes at rates measured by ``benchmarks/bench_budgets.py``; their defaults
  let every move of the opening page train as asked (docs/PERFORMANCE.md);
- one run at a time (``concurrent_runs``; ``wil_app/runs.py`` holds the slots), each in a trainer process
  of its own (``trainer_process``; ``wil_app/worker.py``): runs at once would not finish sooner on a
  fraction of a core, only hold more memory at once;
- the uploads' limits (``max_upload_mb`` and the others) and how often a run's charts update
  (``live_every``, seconds).

A URL is read through the policy (``parse_url``): the library's lenient parse, then the caps and budgets.
The shapes a run records (histogram bins, the boundary's grid, the snapshots) are the library's
(``wil.layout``); the policy only counts them. Elsewhere: the demo configuration (``wil_app/lessons.py``),
escaping text for Markdown (``wil_app/text.py``), malloc tuning (``wil_app/memory.py``).

An operator tunes the budgets without editing code: the environment variable ``WIL_POLICY`` holds a JSON
object of budget fields (``TUNABLE``), e.g. ``{"max_seconds": 600, "max_memory_mb": 4000}`` on a presenter's
laptop that may train longer runs. (On Streamlit Community Cloud, a root-level secret ``WIL_POLICY`` is
such an environment variable.) Entries that are not budgets, or not positive numbers, are ignored, each
with a message the page shows (``POLICY_PROBLEMS``).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass, field
from typing import Mapping

import wil

from .inputs import InputError, never_raises, read_json_object
from .lessons import DEMO
from .text import number, quoted

# field -> (low, high, why): the ranges the server offers, inside the library's valid ones.
CAPS: dict[str, tuple[float, float, str]] = {
    "n_samples": (20, 5000, "toy datasets; more samples only slow the lesson down"),
    "noise": (0.0, 2.0, "beyond 2 the classes are indistinguishable"),
    "depth": (1, 50, "50 hidden layers show vanishing and exploding signals plainly"),
    "width": (1, 512, "wider layers cost memory quadratically and show nothing new"),
    "epochs": (1, 2000, "toy problems converge in a few hundred epochs"),
    "learning_rate": (1e-6, 10.0, "above 10 every network diverges at once"),
    "batch_size": (1, 5000, "at most the number of samples"),
    "seed": (0, 2**31 - 1, "a 31-bit seed is portable"),
    "n_seeds": (1, 10, "ten seeds give a clear band"),
    "compare": (0, 12, "more than 12 colours cannot be told apart"),
}
# the two measured corrections of the work count (see benchmarks/bench_limits.py):
UNIT_OPERATIONS = 16  # element-wise operations per hidden unit and sample, in units of a multiply-add
UPDATE_SAMPLES = 8  # the per-epoch work on each parameter, in samples' worth
# the rates of a run's time, fitted by benchmarks/bench_budgets.py over the opening page's moves and the
# lessons (diagnostics on, one core's BLAS; docs/PERFORMANCE.md): seconds per unit of work and per step
SECONDS_PER_WORK = 5e-11
SECONDS_PER_STEP = 5e-5
# The play control steps histograms and the decision boundary through this many recorded epochs, or the
# most of these that fit the rows budget (``ServerPolicy.snapshots``); none of them: the library's default.
PLAY_SNAPSHOTS = (16, 12, 8)


@dataclass(frozen=True)
class ServerPolicy:
    """What the server allows one run, and how it runs them. See the module."""

    caps: Mapping[str, tuple[float, float, str]] = field(default_factory=lambda: dict(CAPS))
    # The two budgets of one run, in the units an operator thinks in (both estimated before it trains):
    # seconds of training on this server (``seconds``: its work and steps at the rates
    # benchmarks/bench_budgets.py measured), and megabytes of peak memory (``memory_bytes``: the library's
    # ``Config.memory``, within 0.99-1.31 of measured peaks). The defaults let every move of the opening
    # page train as asked (width 512, depth 50, 10 seeds, digits: docs/PERFORMANCE.md).
    max_seconds: float = 60.0
    max_memory_mb: float = 1000.0
    # megabytes of a result's tables (``Config.memory``'s "frames"): what Streamlit's cache keeps per run and
    # copies for every session that follows it. It bounds the play control's snapshots (``snapshots``):
    # a room of 30 peaked at 2.1 GB with results of up to ~300 MB (10 seeds with 16 snapshots)
    max_result_mb: float = 64.0
    # seconds between two live updates of the charts while a run trains (each costs ~20-60 ms to build)
    live_every: float = 0.5
    # the most share of a run's time its live views may take, on the training thread (building them) and,
    # split between the sessions that follow it, on theirs (drawing them): issue 17 measured 1.8-2.0x the
    # library's time without any share, 1.21x at 0.1 each; at 0.05, with runs in a trainer process, a room
    # of 30's runs took 1.2x their library time (benchmarks/load.py --clients protocol; docs/PERFORMANCE.md)
    live_share: float = 0.05
    # seconds between two looks of a session at the run it follows (its progress line; a live view is drawn
    # when one has come). 0.5 s instead left a room of 30 no faster (34.3 s against 32.4 s, within the
    # rooms' spread) and its time left coarser (3 of 6 sessions within 30% against 5 of 6): docs/PERFORMANCE.md
    watch_every: float = 0.2
    concurrent_runs: int = 1  # runs training at once in the process
    # each run slot trains in a process of its own (wil_app/worker.py), off the interpreter lock the
    # sessions' scripts hold while they draw: in a room of 30 the runs took 1.2-5x their library time on
    # a thread of the server (issue 17). False: on a thread of the server (a test patching the library)
    trainer_process: bool = os.name == "posix"  # (Windows: no socket handed to a child; on a thread there)
    # the sessions' scripts run this much nicer than the server's main thread and its trainers (Linux nice
    # values, per thread): drawing 30 pages yields the cores to the run training beside them
    drawing_nice: int = 5
    # Uploaded CSV files (wil_app/upload.py); the library only checks that data can train.
    max_upload_mb: int = 5  # megabytes of CSV: 5,000 rows x 100 columns of numbers fit in about 5 MB
    max_upload_rows: int = 5000  # the samples cap: more only slow the lesson down
    max_upload_columns: int = 100  # features and target: the first layer's width in the same range
    max_upload_classes: int = 20  # more colours than that cannot be told apart in the charts
    # uploaded datasets registered in the process at once, at most ~4 MB each (5,000 x 100 float64); each
    # session keeps its own and registers it again on its next run if it was dropped meanwhile
    max_user_datasets: int = 16

    @property
    def max_upload_bytes(self) -> int:
        """``max_upload_mb`` in bytes."""
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def max_memory_bytes(self) -> float:
        """``max_memory_mb`` in bytes."""
        return self.max_memory_mb * 1024 * 1024

    # ------------------------------------------------------------ sizes of a run

    def work(self, config: wil.Config, n_networks: int | None = None, epochs: int | None = None) -> float:
        """networks x epochs x (training samples + 8) x (parameters + 16 x hidden units): the arithmetic."""
        n_networks = n_networks or config.n_networks()
        epochs = config.epochs if epochs is None else epochs
        return (float(n_networks) * epochs * (config.n_train() + UPDATE_SAMPLES)
                * (config.n_parameters() + UNIT_OPERATIONS * config.depth * config.width))

    def steps(self, config: wil.Config, epochs: int | None = None) -> float:
        """epochs x (mini-batches + 2) x layers: each epoch runs a recording pass (about two updates'
        overhead) and its updates, each through every layer, one NumPy call sequence at a time."""
        epochs = config.epochs if epochs is None else epochs
        return float(epochs) * (config.n_batches() + 2) * (config.depth + 1)

    def seconds(self, config: wil.Config, n_networks: int | None = None, epochs: int | None = None) -> float:
        """The estimated training time of a run on this server, with diagnostics, as the app trains it:
        ``SECONDS_PER_WORK`` x ``work`` + ``SECONDS_PER_STEP`` x ``steps`` (benchmarks/bench_budgets.py)."""
        return (SECONDS_PER_WORK * self.work(config, n_networks, epochs)
                + SECONDS_PER_STEP * self.steps(config, epochs))

    def memory_bytes(self, config: wil.Config, n_networks: int | None = None, epochs: int | None = None,
                     snapshots: int | None = -1) -> float:
        """The estimated peak memory of a run as the app trains it (the library's ``Config.memory``, with
        the play control's ``snapshots``; -1: those ``snapshots`` chooses)."""
        if epochs is not None:
            config = dataclasses.replace(config, epochs=max(1, epochs))
        if snapshots == -1:
            snapshots = self.snapshots(config, n_networks)
        return config.memory(n_networks or config.n_networks(), snapshots=snapshots)["peak"]

    def snapshots(self, config: wil.Config, n_networks: int | None = None) -> int | None:
        """How many epochs of histograms and boundaries the app records for its play control: the most of
        ``PLAY_SNAPSHOTS`` that keep ``config`` within the memory budget and its result's tables within
        ``max_result_mb``, else None (the library's five histograms and two boundaries, which ``check``
        counts)."""
        n_networks = n_networks or config.n_networks()
        for n in PLAY_SNAPSHOTS:
            memory = config.memory(n_networks, snapshots=n)
            if memory["peak"] <= self.max_memory_bytes and memory["frames"] <= self.max_result_mb * 2**20:
                return n
        return None

    # ------------------------------------------------------------ checks

    def check(self, config: wil.Config, n_networks: int | None = None) -> None:
        """Raise ``ValueError`` if ``config`` (with ``n_networks`` networks) is outside the caps or budgets."""
        problem = self.problem(config, n_networks)
        if problem:
            raise ValueError(problem)

    def problem(self, config: wil.Config, n_networks: int | None = None) -> str | None:
        """The first reason ``config`` is outside the policy, or None."""
        return self._cap_problem(config) or self._budget_problem(config, n_networks)

    def _cap_problem(self, config: wil.Config) -> str | None:
        for name, (low, high, why) in self.caps.items():
            if name == "compare":
                value = len(config.compare)
                if value > high:
                    return f"Invalid compare: got {value} initializers, allowed at most {high:g} ({why})"
                continue
            value = getattr(config, name)
            if value is None:
                continue
            if not low <= value <= high:
                return (f"Invalid {name}: got {number(value)}, allowed [{number(low)}, {number(high)}] "
                        f"on this server ({why})")
        last_seed = config.seed + config.n_seeds - 1
        if last_seed > self.caps["seed"][1]:
            return (f"Invalid seed: networks are seeded {config.seed}..{last_seed}, above "
                    f"{int(self.caps['seed'][1])}; lower seed or n_seeds")
        return None

    def _budget_problem(self, config: wil.Config, n_networks: int | None) -> str | None:
        n_networks = n_networks or config.n_networks()
        networks = f"{n_networks} network{'s' if n_networks != 1 else ''}"
        memory = self.memory_bytes(config, n_networks)
        if memory > self.max_memory_bytes:
            fit = self._epochs_text(self.largest_epochs(config, n_networks))
            return (f"This run needs about {memory / 2**20:,.0f} MB of memory at its peak ({networks} of "
                    f"{config.n_parameters():,} parameters, {config.n_train()} training samples through "
                    f"{config.depth * config.width:,} hidden units, {config.epochs} epoch{'s' if config.epochs != 1 else ''} recorded), above this "
                    f"server's {self.max_memory_mb:,.0f} MB per run. Reduce width, depth or samples{fit}, or "
                    f"train fewer networks (seeds, initializers).")
        seconds = self.seconds(config, n_networks)
        if seconds > self.max_seconds:
            fit = self._epochs_text(self.largest_epochs(config, n_networks))
            return (f"This run would train for about {seconds:,.0f} s on this server ({networks}, "
                    f"{config.epochs} epochs of {config.n_batches()} step{'s' if config.n_batches() != 1 else ''} "
                    f"through {config.depth + 1} layers; estimated), above its {self.max_seconds:,.0f} s per "
                    f"run. Reduce epochs{fit}, samples, width or depth, use larger batches, or train fewer "
                    f"networks (seeds, initializers).")
        return None

    def largest_epochs(self, config: wil.Config, n_networks: int | None = None) -> int:
        """The most epochs, at most ``config.epochs``, with which the run fits every epoch-dependent
        budget (0 if even one epoch does not)."""
        n_networks = n_networks or config.n_networks()

        def fits(epochs: int) -> bool:
            return (epochs == 0 or self.seconds(config, n_networks, epochs) <= self.max_seconds
                    and self.memory_bytes(config, n_networks, epochs) <= self.max_memory_bytes)

        low, high = 0, config.epochs
        while low < high:
            middle = (low + high + 1) // 2
            low, high = (middle, high) if fits(middle) else (low, middle - 1)
        return low

    @staticmethod
    def _epochs_text(epochs: int) -> str:
        return f" (at most {epochs} fit with the rest unchanged)" if epochs >= 1 else ""

    def fit(self, config: wil.Config) -> tuple[wil.Config | None, str | None]:
        """``config`` made to fit the policy, with a one-line note saying how; ``(config, None)`` if it fits
        as it is; ``(None, reason)`` if nothing below makes it fit.

        In order, the first that fits: fewer epochs; fewer seeds (then fewer epochs if still needed); fewer
        samples, for datasets whose size is a choice (then fewer epochs). The architecture and the
        initializers compared are never changed: they are the lesson."""
        problem = self.problem(config)
        if problem is None:
            return config, None
        if self._cap_problem(config) is not None:
            return None, problem
        fitted = self._fewer_epochs(config)
        if fitted is not None:
            return fitted, (f"This server trains at most {fitted.epochs} of the {config.epochs} epochs asked "
                            f"for with this network; the rest of the configuration is as chosen.")
        for n_seeds in range(config.n_seeds - 1, 0, -1):
            fitted = self._fewer_epochs(dataclasses.replace(config, n_seeds=n_seeds))
            if fitted is not None:
                return fitted, (f"This server trains {n_seeds} of the {config.n_seeds} seeds asked for"
                                + self._epochs_note(config, fitted) + "; the rest is as chosen.")
        if wil.DATASETS[config.dataset].uses_samples:
            for n_samples in (3000, 2000, 1500, 1000, 750, 500, 400, 300, 200, 100, 50):
                if n_samples >= config.n_samples:
                    continue
                smaller = dataclasses.replace(config, n_samples=n_samples, batch_size=None)
                if config.batch_size is not None and config.batch_size <= smaller.n_train():
                    smaller = dataclasses.replace(smaller, batch_size=config.batch_size)  # else full batch
                fitted = self._fewer_epochs(smaller)
                if fitted is not None:
                    return fitted, (f"This server trains on {n_samples} of the {config.n_samples} samples asked "
                                    f"for" + self._epochs_note(config, fitted) + "; the rest is as chosen.")
        return None, problem

    def _fewer_epochs(self, config: wil.Config) -> wil.Config | None:
        """``config``, or with the most epochs that fit; None if even one epoch does not."""
        if self.problem(config) is None:
            return config
        epochs = self.largest_epochs(config)
        if epochs >= 1:
            fitted = dataclasses.replace(config, epochs=epochs)
            if self.problem(fitted) is None:
                return fitted
        return None

    @staticmethod
    def _epochs_note(asked: wil.Config, fitted: wil.Config) -> str:
        return "" if fitted.epochs == asked.epochs else f" and {fitted.epochs} of the {asked.epochs} epochs"

    # ------------------------------------------------------------ URL

    def parse_url(self, params: Mapping[str, object], base: wil.Config | None = None) -> tuple[wil.Config, list[str]]:
        """The configuration a URL describes under this policy, and a message per problem. Never raises.

        The library's lenient reading (``wil.Config.parse_query_params``) over ``base`` (default the demo),
        then the caps and budgets: a field outside a cap keeps ``base``'s value, with a message; a whole
        outside a budget that ``fit`` can adapt is kept (the page trains what fits, and says so); one it
        cannot falls back to ``base``, with the reason. Never a silent clamp."""
        base = base if isinstance(base, wil.Config) else DEMO
        dataset = params.get("dataset") if isinstance(params, Mapping) else None
        if isinstance(dataset, str) and dataset.strip().startswith(wil.USER_PREFIX):
            # uploaded data lives in its visitor's session only: a link never opens it, not even its hash
            params = {key: value for key, value in params.items() if key != "dataset"}
            config, problems = wil.Config.parse_query_params(params, base)
            problems.insert(0, "uploaded data cannot travel in a link; using the default dataset")
        else:
            config, problems = wil.Config.parse_query_params(params, base)
        capped = {}
        for name, (low, high, why) in self.caps.items():
            value = getattr(config, name)
            if name == "compare":
                if len(value) > high:
                    problems.append(f"Invalid compare: got {len(value)} initializers, allowed at most "
                                    f"{high:g}; using the default")
                    capped[name] = base.compare
                continue
            if value is not None and not low <= value <= high:
                problems.append(f"Invalid {name}: got {number(value)}, allowed [{number(low)}, {number(high)}] "
                                f"on this server; using the default")
                capped[name] = getattr(base, name)
        if capped:
            try:
                config = dataclasses.replace(config, **capped)
            except ValueError as error:
                return base, problems + [f"{error}; using the default configuration".replace(".;", ";")]
        problem = self.problem(config)
        if problem and self.fit(config)[0] is None:  # what fits in part is trained in part, and said so
            return base, problems + [f"{problem.rstrip('.')}; using the default configuration"]
        return config, problems


# the fields ``WIL_POLICY`` may set: the budgets, not the caps (the widgets' ranges) nor the machinery; each
# with the range an operator may choose from (a value outside is clamped to it, with a message)
TUNABLE: dict[str, tuple[float, float]] = {
    "max_seconds": (0.01, 1e7), "max_memory_mb": (1, 1e7), "max_result_mb": (1, 1e6),
    "live_share": (0.01, 0.9),  # the live views share of a run (a share of 1 would leave no time to train)
    "live_every": (0.1, 60.0),  # more often than 10 a second the page only draws: 300 epochs took 188 s at 1e-300
    "watch_every": (0.05, 5.0),  # a follower's looks at its run: smoother progress against the server's cores
    "drawing_nice": (0, 19),  # Linux nice values: how far the pages' drawing yields the cores to the runs
    "max_upload_mb": (1, 200),  # Streamlit's own upload limit (server.maxUploadSize) is 200 MB by default
    "max_upload_rows": (10, 100_000), "max_upload_columns": (2, 1_000), "max_upload_classes": (2, 100),
    "max_user_datasets": (1, 1_000)}
ENVIRONMENT_VARIABLE = "WIL_POLICY"
MAX_SETTING_BYTES = 10_000  # an object of eleven numbers is under 500 bytes


def from_environment(environ: Mapping[str, str] = os.environ) -> tuple[ServerPolicy, list[str]]:
    """The default policy with the budgets ``environ["WIL_POLICY"]`` sets (a JSON object; see the module),
    and a message per entry ignored or clamped. Never raises: a server with a mistyped setting still serves."""
    return never_raises(lambda: _read_environment(environ), ServerPolicy, ENVIRONMENT_VARIABLE)


def _read_environment(environ: Mapping[str, str]) -> tuple[ServerPolicy, list[str]]:
    text = str(environ.get(ENVIRONMENT_VARIABLE, "")).strip()
    if not text:
        return ServerPolicy(), []
    try:  # refused by its size and nesting before it is parsed (wil_app/inputs.py)
        settings = read_json_object(text, ENVIRONMENT_VARIABLE, MAX_SETTING_BYTES, max_depth=1)
    except InputError as error:
        return ServerPolicy(), [f"{error}; using the default budgets"]
    defaults, changes, problems = ServerPolicy(), {}, []
    for name, value in settings.items():
        if name not in TUNABLE:
            problems.append(f"{ENVIRONMENT_VARIABLE}: {quoted(name)} is not a budget the server lets you set "
                            f"(one of {', '.join(TUNABLE)}); ignored")
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or value <= 0:
            problems.append(f"{ENVIRONMENT_VARIABLE}: {name} must be a positive number, got {quoted(value)}; "
                            "ignored")
        elif isinstance(getattr(defaults, name), int) and value != int(value):
            problems.append(f"{ENVIRONMENT_VARIABLE}: {name} must be a whole number, got {quoted(value)}; ignored")
        else:
            low, high = TUNABLE[name]
            if not low <= value <= high:
                problems.append(f"{ENVIRONMENT_VARIABLE}: {name} {number(value)} is outside [{number(low)}, "
                                f"{number(high)}]; using {number(min(max(value, low), high))}")
                value = min(max(value, low), high)
            changes[name] = type(getattr(defaults, name))(value)
    return dataclasses.replace(defaults, **changes), problems


POLICY, POLICY_PROBLEMS = from_environment()

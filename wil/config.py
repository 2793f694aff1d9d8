"""``Config``: one frozen, validated description of a run, with limits, and its URL form.

The same limits hold from Python, from the app's widgets and from a shared URL, because all three
build a ``Config``. Every invalid value raises ``ValueError`` naming the field, what was received and
what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Mapping

from .activations import ACTIVATIONS
from .datasets import DATASETS
from .initializers import make_label, parse_entry

OPTIMIZERS = ("sgd", "momentum", "adam")
DTYPES = ("float64", "float32")

# field -> (low, high, why). Each limit keeps one run small enough for a shared, small server.
LIMITS: dict[str, tuple[float, float, str]] = {
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
# Budgets on a whole run, measured by benchmarks/bench_limits.py so that the largest run they allow
# stays within ~500 MB of peak memory and ~15 s on two shared cores (a small Community Cloud instance has
# under 1 GB and a fraction of a core, and serves everyone from one process). See docs/RELIABILITY.md.
#
# networks x epochs x (training samples + 8) x (parameters + 16 x hidden units): the arithmetic of a run,
# ~1 ns each here. The matmuls cost samples x parameters; the corrections are measured: each hidden unit
# costs ~16 element-wise operations per sample (activation, derivative, statistics), and each parameter
# ~8 samples' worth per epoch (optimizer update, statistics), which dominates when data is small.
MAX_WORK = 1e10
# networks x training samples x hidden units: what one pass holds in memory (~34 bytes each, all copies).
MAX_ACTIVATIONS = 6e6
# networks x parameters: weights, gradients and optimizer buffers (~85 bytes each with Adam, all copies).
MAX_PARAMETERS = 2.5e6
# rows of the result's tables: what the app caches and copies for every visitor (~500 bytes each to build).
MAX_ROWS = 3e5
# epochs x (mini-batches + 2) x layers: the Python overhead of the loop (~0.07 ms each), which the
# arithmetic above misses when layers are thin and batches small.
MAX_STEPS = 5e4
_MAX_TEXT = 4000  # longest string a URL field may carry
_SHOWN = 40  # longest echo of a received value in a message
# the two measured corrections of MAX_WORK (see benchmarks/bench_limits.py):
_UNIT_OPERATIONS = 16  # element-wise operations per hidden unit and sample, in units of a multiply-add
_UPDATE_SAMPLES = 8  # the per-epoch work on each parameter, in samples' worth
# rows each network adds to the result's tables besides its per-epoch rows (see training.py):
_HISTOGRAM_ROWS_PER_LAYER = 5 * 4 * 30  # recorded epochs x quantities x bins
_GRID_ROWS = 2 * 40 * 40  # 2-D datasets: the decision boundary at epoch 0 and the last, 40 x 40 points
# Messages end up on pages that render Markdown (st.warning). A page escapes Markdown punctuation in
# what it shows, but GitHub-flavoured autolinks form from plain text and survive that escaping
# (https://..., www...., someone@host): what a message quotes from a URL has those sequences broken.
_AUTOLINK_SEQUENCES = (("://", ":\\x2f\\x2f"), ("www.", "www\\x2e"), ("@", "\\x40"))
# The app's first screen: zeros stay symmetric, std 0.01 vanishes, std 1 explodes, Glorot and He learn.
DEMO = dict(dataset="moons", n_samples=400, noise=0.2, activation="relu", depth=8, width=32, epochs=150,
            learning_rate=0.1, optimizer="sgd",
            compare=("zeros", "random_normal(std=0.01)", "random_normal(std=1)", "glorot_uniform", "he_normal"))


def _shown(value: object) -> str:
    """A received value for a message: short, printable ASCII, no autolink (see ``_defanged``)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**15:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    try:
        text = _defanged(ascii(value))
    except Exception:  # a hostile __repr__
        text = f"a {type(value).__name__}"
    return text if len(text) <= _SHOWN else text[:_SHOWN - 3] + "..."


def _defanged(text: str) -> str:
    """``text`` in printable ASCII (anything else escaped: no bidi overrides, no line breaks) and with
    no sequence that would become a link by itself."""
    text = text.encode("ascii", "backslashreplace").decode("ascii")
    text = "".join(c if " " <= c <= "~" else f"\\x{ord(c):02x}" for c in text)
    for sequence, escaped in _AUTOLINK_SEQUENCES:
        text = text.replace(sequence, escaped)
    return text


def _check_int(name: str, value: object) -> int:
    low, high, _ = LIMITS[name]
    if isinstance(value, bool) or not isinstance(value, int) and not (hasattr(value, "__index__")):
        raise ValueError(f"Invalid {name}: expected an integer in [{low:g}, {high:g}], got {_shown(value)}")
    value = int(value.__index__())
    if not low <= value <= high:
        raise ValueError(f"Invalid {name}: got {_shown(value)}, allowed [{low:g}, {high:g}]")
    return value


def _check_float(name: str, value: object) -> float:
    low, high, _ = LIMITS[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        raise ValueError(f"Invalid {name}: expected a number in [{low:g}, {high:g}], got {_shown(value)}")
    try:
        value = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"Invalid {name}: expected a number in [{low:g}, {high:g}], got {_shown(value)}") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"Invalid {name}: got {_shown(value)}, allowed [{low:g}, {high:g}]")
    return value


def _check_choice(name: str, value: object, choices) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"Invalid {name} {_shown(value)}; choose from {sorted(choices)}")
    return value


@dataclass(frozen=True)
class Config:
    """Everything that determines a run. Frozen and hashable, so it can key a cache.

    ``depth`` counts hidden layers; the output layer is layer ``depth + 1``. ``compare`` lists the
    initializers that ``wil.compare`` trains side by side (empty: just ``initializer``), each a name or a
    label such as ``"random_normal(std=0.01)"``; networks are seeded ``seed, seed + 1, ...``
    (``n_seeds`` of them per initializer), while the data and the mini-batch order use ``seed`` for all.
    """

    dataset: str = "moons"  # a key of wil.DATASETS
    n_samples: int = 500  # generated datasets only; 25% of them are held out for testing
    noise: float = 0.2  # generated datasets only
    initializer: str = "he_normal"  # name or label, for wil.train
    compare: tuple[str, ...] = ()  # initializers for wil.compare
    activation: str = "relu"  # a key of wil.ACTIVATIONS, for every hidden layer
    depth: int = 5  # hidden layers
    width: int = 32  # units per hidden layer
    epochs: int = 200  # passes over the training set
    learning_rate: float = 0.1
    optimizer: str = "sgd"  # sgd, momentum (0.9) or adam (0.9, 0.999)
    batch_size: int | None = None  # None = full batch
    seed: int = 0  # data, split, mini-batch order, and the first network's weights
    n_seeds: int = 1  # networks per initializer, seeded seed, seed + 1, ...
    dtype: str = "float64"  # float32 trains faster, float64 is exact to test against

    def __post_init__(self):
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, _check_field(f.name, getattr(self, f.name)))
        last_seed, high = self.seed + self.n_seeds - 1, LIMITS["seed"][1]
        if last_seed > high:
            raise ValueError(f"Invalid seed: networks are seeded {self.seed}..{last_seed}, above {int(high)}; "
                             f"lower seed or n_seeds")
        self._check_budget()

    @staticmethod
    def _checked_compare(entries) -> tuple[str, ...]:
        if isinstance(entries, str) or not isinstance(entries, (tuple, list)):
            raise ValueError(f"Invalid compare: expected a list of initializers, got {_shown(entries)}")
        high = LIMITS["compare"][1]
        if len(entries) > high:
            raise ValueError(f"Invalid compare: got {len(entries)} initializers, allowed at most {high:g}")
        labels = tuple(_canonical_label("compare", entry) for entry in entries)
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            raise ValueError(f"Invalid compare: {_shown(repeated[0])} is listed twice")
        return labels

    @classmethod
    def demo(cls) -> "Config":
        """The comparison the app opens with: the classic lessons on one screen (moons, ReLU, depth 8)."""
        return cls(**DEMO)

    # ------------------------------------------------------------ derived sizes

    @property
    def labels(self) -> tuple[str, ...]:
        """The initializers ``wil.compare`` trains by default."""
        return self.compare or (self.initializer,)

    @property
    def seeds(self) -> list[int]:
        """The networks' seeds for each initializer."""
        return [self.seed + i for i in range(self.n_seeds)]

    def n_train(self) -> int:
        """Training samples after the 25% test split."""
        spec = DATASETS[self.dataset]
        total = spec.size or self.n_samples
        return total - math.ceil(total * 0.25)

    def n_parameters(self) -> int:
        """Weights and biases of one network."""
        spec = DATASETS[self.dataset]
        sizes = [spec.n_features] + [self.width] * self.depth + [spec.n_outputs]
        return sum((fan_in + 1) * fan_out for fan_in, fan_out in zip(sizes[:-1], sizes[1:]))

    def n_networks(self) -> int:
        """Networks ``wil.compare`` trains by default: initializers x seeds."""
        return len(self.labels) * self.n_seeds

    def n_batches(self) -> int:
        """Updates per epoch: 1 for full batch, else mini-batches over the training split."""
        return 1 if self.batch_size is None else math.ceil(self.n_train() / self.batch_size)

    def work(self, n_networks: int | None = None, epochs: int | None = None) -> float:
        """networks x epochs x (training samples + 8) x (parameters + 16 x hidden units), the quantity
        ``MAX_WORK`` bounds."""
        n_networks = n_networks or self.n_networks()
        epochs = self.epochs if epochs is None else epochs
        return (float(n_networks) * epochs * (self.n_train() + _UPDATE_SAMPLES)
                * (self.n_parameters() + _UNIT_OPERATIONS * self.depth * self.width))

    def n_activations(self, n_networks: int | None = None) -> float:
        """networks x training samples x hidden units, the quantity ``MAX_ACTIVATIONS`` bounds."""
        n_networks = n_networks or self.n_networks()
        return float(n_networks) * self.n_train() * self.width * self.depth

    def n_rows(self, n_networks: int | None = None, epochs: int | None = None) -> float:
        """Rows of the result's tables at most (history, layers, histograms, grid, status), the
        quantity ``MAX_ROWS`` bounds."""
        n_networks = n_networks or self.n_networks()
        epochs = self.epochs if epochs is None else epochs
        layers = self.depth + 1
        grid = _GRID_ROWS if DATASETS[self.dataset].n_features == 2 else 0
        per_network = (epochs + 1) * (2 + layers) + _HISTOGRAM_ROWS_PER_LAYER * layers + grid + 1
        return float(n_networks) * per_network

    def n_steps(self) -> float:
        """epochs x (mini-batches + 2) x layers, the quantity ``MAX_STEPS`` bounds: each epoch runs a
        recording pass over the whole training split (about two updates' overhead) and its updates,
        each through every layer, one NumPy call sequence at a time."""
        return float(self.epochs) * (self.n_batches() + 2) * (self.depth + 1)

    def _check_budget(self, n_networks: int | None = None) -> None:
        n_networks = n_networks or self.n_networks()
        n_train = self.n_train()
        if self.batch_size is not None and self.batch_size > n_train:
            raise ValueError(f"Invalid batch_size: got {self.batch_size}, but the training split has only "
                             f"{n_train} samples; use at most {n_train} or full batch (None)")
        networks = f"{n_networks} network{'s' if n_networks != 1 else ''}"
        parameters = float(n_networks) * self.n_parameters()
        if parameters > MAX_PARAMETERS:
            raise ValueError(
                f"This run needs too much memory for its weights: {networks} x {self.n_parameters():,} "
                f"parameters = {parameters:.3g}, above the limit of {MAX_PARAMETERS:.3g}. "
                f"Reduce width or depth, or train fewer networks (seeds, initializers).")
        activations = self.n_activations(n_networks)
        if activations > MAX_ACTIVATIONS:
            raise ValueError(
                f"This run needs too much memory for its activations: {networks} x {n_train} training "
                f"samples x {self.depth * self.width:,} hidden units = {activations:.3g}, above the limit of "
                f"{MAX_ACTIVATIONS:.3g}. Reduce samples, width or depth, or train fewer networks "
                f"(seeds, initializers).")
        rows = self.n_rows(n_networks)
        if rows > MAX_ROWS:
            fit = self._largest_epochs(lambda epochs: self.n_rows(n_networks, epochs) <= MAX_ROWS)
            raise ValueError(
                f"This run records too much: {networks} x {self.epochs} epochs x {self.depth + 1} layers "
                f"make {rows:.3g} rows of results, above the limit of {MAX_ROWS:.3g}. Reduce epochs{fit}, "
                f"depth, or train fewer networks (seeds, initializers).")
        work = self.work(n_networks)
        if work > MAX_WORK:
            fit = self._largest_epochs(lambda epochs: self.work(n_networks, epochs) <= MAX_WORK)
            raise ValueError(
                f"This run is too long: {networks} x {self.epochs} epochs x ({n_train} training samples + "
                f"{_UPDATE_SAMPLES}) x ({self.n_parameters():,} parameters + {_UNIT_OPERATIONS} x "
                f"{self.depth * self.width:,} hidden units) = {work:.3g}, above the limit of {MAX_WORK:.3g}. "
                f"Reduce epochs{fit}, samples, width or depth, or train fewer networks (seeds, initializers).")
        steps = self.n_steps()
        if steps > MAX_STEPS:
            per_epoch = steps / self.epochs
            fit = self._largest_epochs(lambda epochs: per_epoch * epochs <= MAX_STEPS)
            raise ValueError(
                f"This run takes too many steps: {self.epochs} epochs x ({self.n_batches()} batches + 2) x "
                f"{self.depth + 1} layers = {steps:.3g}, above the limit of {MAX_STEPS:.3g}. Increase "
                f"batch_size (or use full batch), reduce epochs{fit} or depth.")

    def _largest_epochs(self, fits) -> str:
        """", at most N with the rest unchanged" for the largest N epochs that ``fits``, or ""."""
        low, high = 0, self.epochs
        while low < high:
            middle = (low + high + 1) // 2
            low, high = (middle, high) if fits(middle) else (low, middle - 1)
        return f" (at most {low} fit with the rest unchanged)" if low >= LIMITS["epochs"][0] else ""

    def check_networks(self, n_networks: int) -> None:
        """Raise ``ValueError`` if ``n_networks`` networks of this config exceed the limits."""
        self._check_budget(n_networks)

    # ------------------------------------------------------------ URL form

    def to_query_params(self) -> dict[str, str]:
        """Every field as a string, for ``st.query_params``; ``from_query_params`` reverses it."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "compare":
                out[f.name] = ";".join(value)
            elif f.name == "batch_size":
                out[f.name] = "full" if value is None else str(value)
            elif isinstance(value, float):
                out[f.name] = repr(value)
            else:
                out[f.name] = str(value)
        return out

    @classmethod
    def from_query_params(cls, params: Mapping[str, object], base: "Config | None" = None) -> "Config":
        """The config a URL describes; missing fields take their values from ``base`` (default ``Config()``).

        Strict: an unknown key, a malformed or out-of-range value raises ``ValueError`` listing every
        problem, and nothing is half-applied.
        """
        config, problems = cls.parse_query_params(params, base)
        if problems:
            raise ValueError("Invalid URL parameters: " + "; ".join(problems))
        return config

    @classmethod
    def parse_query_params(cls, params: Mapping[str, object],
                           base: "Config | None" = None) -> tuple["Config", list[str]]:
        """Lenient reading of a URL: the valid fields applied over ``base`` (default ``Config()``), plus a
        message per problem.

        Each field is checked alone (type and range); a bad one keeps ``base``'s value and gets a message.
        A repeated key (a list of values) takes its last value, with a message. Unknown keys share one
        message. If the valid fields together still make an invalid config (over a budget, say), the
        result is ``base`` and the reason is the last message: never a silent clamp. Messages quote what
        was received in a short ASCII form without markup. Never raises.
        """
        defaults = base if isinstance(base, Config) else cls()
        try:
            items = list(params.items())
        except Exception:  # not a mapping at all
            return defaults, ["the URL parameters could not be read; using the default configuration"]
        problems, values, unknown = [], {}, []
        names = {f.name for f in dataclasses.fields(cls)}
        for key, raw in items:
            if not isinstance(key, str) or key not in names:
                unknown.append(_shown(key))
                continue
            if isinstance(raw, (list, tuple)):  # a repeated key: the last one wins, as in st.query_params
                if len(raw) > 1:
                    problems.append(f"{key} was given {len(raw)} times; using the last")
                raw = raw[-1] if raw else ""
            try:
                values[key] = _check_field(key, _parse_field(key, raw))
            except ValueError as error:
                problems.append(f"{_clipped(error).rstrip('.')}; using the default")
        if unknown:
            more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
            problems.insert(0, f"unknown parameter{'s' if len(unknown) > 1 else ''} "
                               f"{', '.join(unknown[:5])}{more} ignored")
        try:
            return dataclasses.replace(defaults, **values), problems
        except ValueError as error:
            return defaults, problems + [f"{_clipped(error).rstrip('.')}; using the default configuration"]


def _check_field(name: str, value: object) -> object:
    """One field's value checked alone (type and range, not the budgets); ValueError naming the field."""
    if name in ("dataset", "activation", "optimizer", "dtype"):
        choices = {"dataset": DATASETS, "activation": ACTIVATIONS, "optimizer": OPTIMIZERS, "dtype": DTYPES}
        return _check_choice(name, value, choices[name])
    if name in ("n_samples", "depth", "width", "epochs", "seed", "n_seeds"):
        return _check_int(name, value)
    if name == "batch_size":
        return None if value is None else _check_int(name, value)
    if name in ("noise", "learning_rate"):
        return _check_float(name, value)
    if name == "initializer":
        return _canonical_label(name, value)
    if name == "compare":
        return Config._checked_compare(value)
    raise ValueError(f"Invalid field {_shown(name)}")


def _clipped(error: Exception, limit: int = 300) -> str:
    """A message made safe to show (see ``_defanged``) and at most ``limit`` long."""
    text = _defanged(str(error))
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _canonical_label(field_name: str, entry) -> str:
    try:
        name, params = parse_entry(entry)
        return make_label(name, params)
    except ValueError as error:
        raise ValueError(f"Invalid {field_name}: {_clipped(error, 200)}") from None


def _parse_field(name: str, raw: object):
    """Text from a URL to the field's type; ValueError with a message naming the field."""
    text = str(raw)
    if len(text) > _MAX_TEXT:
        raise ValueError(f"Invalid {name}: a value of {len(text)} characters is too long")
    text = text.strip()
    if name == "compare":
        return tuple(part.strip() for part in text.split(";") if part.strip())
    if name == "batch_size" and text.lower() in ("full", "none", ""):
        return None
    if name in ("n_samples", "depth", "width", "epochs", "seed", "n_seeds", "batch_size"):
        try:
            if not text.isascii():  # int() also reads other scripts' digits; a URL has no need of them
                raise ValueError
            return int(text)
        except ValueError:
            raise ValueError(f"Invalid {name}: expected an integer, got {_shown(text)}") from None
    if name in ("noise", "learning_rate"):
        try:
            if not text.isascii():
                raise ValueError
            return float(text)
        except ValueError:
            raise ValueError(f"Invalid {name}: expected a number, got {_shown(text)}") from None
    return text

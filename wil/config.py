"""``Config``: one frozen, validated description of a run, with limits, and its URL form.

The same limits hold from Python, from the app's widgets and from a shared URL, because all three
build a ``Config``. Every invalid value raises ``ValueError`` naming the field, what was received and
what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
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
# networks x epochs x training samples x parameters: proportional to the arithmetic of a run.
MAX_WORK = 3e10
# networks x samples x hidden units: the activations one pass holds in memory (8 bytes each, a few copies).
MAX_ACTIVATIONS = 1.5e7
_MAX_TEXT = 4000
# The app's first screen: zeros stay symmetric, std 0.01 vanishes, std 1 explodes, Glorot and He learn.
DEMO = dict(dataset="moons", n_samples=400, noise=0.2, activation="relu", depth=8, width=32, epochs=150,
            learning_rate=0.1, optimizer="sgd",
            compare=("zeros", "random_normal(std=0.01)", "random_normal(std=1)", "glorot_uniform", "he_normal"))  # longest string a URL field may carry


def _check_int(name: str, value: object) -> int:
    low, high, _ = LIMITS[name]
    if isinstance(value, bool) or not isinstance(value, int) and not (hasattr(value, "__index__")):
        raise ValueError(f"Invalid {name}: expected an integer in [{low:g}, {high:g}], got {value!r}")
    value = int(value)
    if not low <= value <= high:
        raise ValueError(f"Invalid {name}: got {value}, allowed [{low:g}, {high:g}]")
    return value


def _check_float(name: str, value: object) -> float:
    low, high, _ = LIMITS[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        raise ValueError(f"Invalid {name}: expected a number in [{low:g}, {high:g}], got {value!r}")
    value = float(value)
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"Invalid {name}: got {value!r}, allowed [{low:g}, {high:g}]")
    return value


def _check_choice(name: str, value: object, choices) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"Invalid {name} {value!r}; choose from {sorted(choices)}")
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
        def put(name, value):
            object.__setattr__(self, name, value)

        put("dataset", _check_choice("dataset", self.dataset, DATASETS))
        put("activation", _check_choice("activation", self.activation, ACTIVATIONS))
        put("optimizer", _check_choice("optimizer", self.optimizer, OPTIMIZERS))
        put("dtype", _check_choice("dtype", self.dtype, DTYPES))
        for name in ("n_samples", "depth", "width", "epochs", "seed", "n_seeds"):
            put(name, _check_int(name, getattr(self, name)))
        for name in ("noise", "learning_rate"):
            put(name, _check_float(name, getattr(self, name)))
        if self.batch_size is not None:
            put("batch_size", _check_int("batch_size", self.batch_size))
        put("initializer", _canonical_label("initializer", self.initializer))
        put("compare", self._checked_compare(self.compare))
        self._check_budget()

    @staticmethod
    def _checked_compare(entries) -> tuple[str, ...]:
        if isinstance(entries, str) or not isinstance(entries, (tuple, list)):
            raise ValueError(f"Invalid compare: expected a list of initializers, got {entries!r}")
        high = LIMITS["compare"][1]
        if len(entries) > high:
            raise ValueError(f"Invalid compare: got {len(entries)} initializers, allowed at most {high:g}")
        labels = tuple(_canonical_label("compare", entry) for entry in entries)
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            raise ValueError(f"Invalid compare: {repeated[0]!r} is listed twice")
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

    def work(self, n_networks: int | None = None) -> float:
        """networks x epochs x training samples x parameters, the quantity ``MAX_WORK`` bounds."""
        n_networks = n_networks or len(self.labels) * self.n_seeds
        return float(n_networks) * self.epochs * self.n_train() * self.n_parameters()

    def _check_budget(self, n_networks: int | None = None) -> None:
        n_networks = n_networks or len(self.labels) * self.n_seeds
        n_train = self.n_train()
        if self.batch_size is not None and self.batch_size > n_train:
            raise ValueError(f"Invalid batch_size: got {self.batch_size}, but the training split has only "
                             f"{n_train} samples; use at most {n_train} or full batch (None)")
        work = self.work(n_networks)
        if work > MAX_WORK:
            raise ValueError(
                f"This run is too large: {n_networks} networks x {self.epochs} epochs x {n_train} samples x "
                f"{self.n_parameters()} parameters = {work:.2g}, above the limit of {MAX_WORK:.2g}. "
                f"Reduce epochs, depth, width, samples, seeds or the number of initializers.")
        activations = float(n_networks) * n_train * self.width * self.depth
        if activations > MAX_ACTIVATIONS:
            raise ValueError(
                f"This run needs too much memory: {n_networks} networks x {n_train} samples x "
                f"{self.depth * self.width} hidden units = {activations:.2g} activations, above the limit of "
                f"{MAX_ACTIVATIONS:.2g}. Reduce samples, depth, width, seeds or the number of initializers.")

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

        If the valid fields together still make an invalid config (over the budget, say), the result is
        ``base`` and the reason is among the messages. Never raises.
        """
        problems, values = [], {}
        defaults = base if base is not None else cls()
        names = {f.name for f in dataclasses.fields(cls)}
        for key, raw in params.items():
            if key not in names:
                problems.append(f"unknown parameter {str(key)[:40]!r} ignored")
                continue
            if isinstance(raw, (list, tuple)):  # a repeated key: the last one wins, as in st.query_params
                raw = raw[-1] if raw else ""
            try:
                values[key] = _parse_field(key, raw)
                dataclasses.replace(defaults, **{key: values[key]})  # validates this field alone
            except ValueError as error:
                values.pop(key, None)
                problems.append(f"{error}; using the default")
        try:
            return dataclasses.replace(defaults, **values), problems
        except ValueError as error:
            return defaults, problems + [f"{error}; using the default configuration"]


def _canonical_label(field_name: str, entry) -> str:
    try:
        name, params = parse_entry(entry)
        return make_label(name, params)
    except ValueError as error:
        raise ValueError(f"Invalid {field_name}: {error}") from None


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
            return int(text)
        except ValueError:
            raise ValueError(f"Invalid {name}: expected an integer, got {text[:40]!r}") from None
    if name in ("noise", "learning_rate"):
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"Invalid {name}: expected a number, got {text[:40]!r}") from None
    return text

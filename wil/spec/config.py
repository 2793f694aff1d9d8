"""``Config``: one frozen, validated description of a run, and its URL form.

``Config`` checks that a run is *valid*: the types, finite numbers, and ranges with a mathematical
reason (``RANGES``). It sets no budget: any run that fits the machine's memory trains (``wil.compare``
checks that before allocating, see ``wil.spec.resources``). A server that wants smaller runs applies its own
policy on top; the app's is ``wil_app/policy.py``.

Every invalid value raises ``ValueError`` (``wil.spec.checks.ArgumentTypeError``, also a ``TypeError``, for a
wrong type) naming the field, what was received and what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Mapping

from wil.spec.activations import ACTIVATIONS
from wil.spec.checks import MAX_SIZE, ArgumentTypeError, check_bool, check_choice, check_float, check_int, shown
from wil.spec.datasets import DATASETS, MAX_SEED, TEST_FRACTION, check_dataset
from wil.spec.labels import get_initializer, make_label, parse_entry
from wil.spec.layout import row_parts, run_bytes
from wil.spec.optimizers import OPTIMIZERS
from wil.spec.residual import NORMALIZATIONS, n_blocks

DTYPES = ("float64", "float32")

# field -> (low, high, why); None: no bound. Each bound has a reason other than a server's size.
RANGES: dict[str, tuple[float | None, float | None, str]] = {
    "n_samples": (20, MAX_SIZE, "the stratified 25% test split needs several examples of every class; "
                               "NumPy sizes are 64-bit"),
    "noise": (0.0, None, "a standard deviation or spread is not negative"),
    "depth": (1, MAX_SIZE, "a network has at least one hidden layer; NumPy sizes are 64-bit"),
    "width": (1, MAX_SIZE, "a layer has at least one unit; NumPy sizes are 64-bit"),
    "epochs": (1, MAX_SIZE, "training takes at least one pass; NumPy sizes are 64-bit"),
    "learning_rate": (0.0, None, "a step size is positive (0 excluded: nothing would train)"),
    "batch_size": (1, MAX_SIZE, "a mini-batch holds at least one example, at most the training split"),
    "seed": (0, MAX_SEED, "scikit-learn seeds its generators with 32-bit integers"),
    "n_seeds": (1, MAX_SIZE, "at least one network per initializer; NumPy sizes are 64-bit"),
}
_MAX_TEXT = 4000  # longest string a URL field may carry
# the fields that make a comparison of several networks (wil.compare's initializers and seeds): one network's
# run, as a script exports it or a sweep point trains it, leaves them out (Config.network_fields)
COMPARISON_FIELDS = ("compare", "n_seeds")


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
    optimizer: str = "sgd"  # a key of wil.OPTIMIZERS: sgd, momentum (0.9) or adam (0.9, 0.999)
    batch_size: int | None = None  # None = full batch
    seed: int = 0  # data, split, mini-batch order, and the first network's weights
    n_seeds: int = 1  # networks per initializer, seeded seed, seed + 1, ...
    dtype: str = "float64"  # float32 trains faster, float64 is exact to test against
    normalization: str | None = None  # None, "batch" (BatchNorm) or "layer" (LayerNorm): before each activation
    residual: bool = False  # a projection layer, then residual blocks of two layers (wil.spec.residual)

    def __post_init__(self):
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, check_field(f.name, getattr(self, f.name)))
        last_seed = self.seed + self.n_seeds - 1
        if last_seed > MAX_SEED:
            raise ValueError(f"Invalid seed: networks are seeded {self.seed}..{last_seed}, above {MAX_SEED}; "
                             f"lower seed or n_seeds")
        check_cures(self)
        n_train = self.n_train()
        if self.batch_size is not None and self.batch_size > n_train:
            raise ValueError(f"Invalid batch_size: got {self.batch_size}, but the training split has only "
                             f"{n_train} samples; use at most {n_train} or full batch (None)")

    @classmethod
    def network_fields(cls) -> tuple[str, ...]:
        """The names of the fields that describe one network's run: all but ``COMPARISON_FIELDS``."""
        return tuple(f.name for f in dataclasses.fields(cls) if f.name not in COMPARISON_FIELDS)

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
        total = DATASETS[self.dataset].size or self.n_samples
        return total - math.ceil(total * TEST_FRACTION)

    def n_test(self) -> int:
        """Test samples: 25% of the dataset, rounded up."""
        total = DATASETS[self.dataset].size or self.n_samples
        return math.ceil(total * TEST_FRACTION)

    def n_parameters(self) -> int:
        """Weights and biases of one network."""
        spec = DATASETS[self.dataset]
        sizes = [spec.n_features] + [self.width] * self.depth + [spec.n_outputs]
        plain = sum((fan_in + 1) * fan_out for fan_in, fan_out in zip(sizes[:-1], sizes[1:]))
        return plain + extra_parameters(self.depth, self.width, self.normalization, self.residual)

    def n_networks(self) -> int:
        """Networks ``wil.compare`` trains by default: initializers x seeds."""
        return len(self.labels) * self.n_seeds

    def n_batches(self) -> int:
        """Updates per epoch: 1 for full batch, else mini-batches over the training split."""
        return 1 if self.batch_size is None else math.ceil(self.n_train() / self.batch_size)

    def memory(self, n_networks: int | None = None, diagnostics: bool = True,
               snapshots: int | None = None) -> dict[str, float]:
        """The bytes a run of ``n_networks`` networks (default ``n_networks()``) holds, by part, and its
        ``peak``, recording ``snapshots`` epochs of histograms and boundaries (see ``wil.compare``): see
        ``wil.spec.layout.run_bytes``."""
        spec = DATASETS[self.dataset]
        n_networks = self.n_networks() if n_networks is None else check_int("n_networks", n_networks, 1)
        return run_bytes(n_networks=n_networks, n_train=self.n_train(), n_test=self.n_test(),
                         n_features=spec.n_features, n_outputs=spec.n_outputs, depth=self.depth,
                         width=self.width, epochs=self.epochs, itemsize=8 if self.dtype == "float64" else 4,
                         optimizer=self.optimizer, diagnostics=diagnostics, grid=spec.n_features == 2,
                         row_parts=row_parts(self.width, self.depth, self.n_train(), self.n_test(),
                                             self.batch_size), snapshots=snapshots,
                         cures=self.normalization is not None or self.residual)

    # ------------------------------------------------------------ URL form

    def to_query_params(self) -> dict[str, str]:
        """Every field as a string, for ``st.query_params``; ``from_query_params`` reverses it."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "compare":
                out[f.name] = ";".join(value)
            elif f.name in ("normalization", "residual"):
                out[f.name] = str(value).lower()
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

        Strict: an unknown key, a malformed or invalid value raises ``ValueError`` listing every problem,
        and nothing is half-applied.
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
        message. If the valid fields together still make an invalid config, the result is ``base`` and
        the reason is the last message: never a silent clamp. Messages quote what was received in a
        short ASCII form. Never raises.
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
                unknown.append(shown(key))
                continue
            if isinstance(raw, (list, tuple)):  # a repeated key: the last one wins, as in st.query_params
                if len(raw) > 1:
                    problems.append(f"{key} was given {len(raw)} times; using the last")
                raw = raw[-1] if raw else ""
            try:
                values[key] = check_field(key, parse_field(key, raw))
            except ValueError as error:
                problems.append(f"{clipped(error).rstrip('.')}; using the default")
        if unknown:
            more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
            problems.insert(0, f"unknown parameter{'s' if len(unknown) > 1 else ''} "
                               f"{', '.join(unknown[:5])}{more} ignored")
        try:
            return dataclasses.replace(defaults, **values), problems
        except ValueError as error:
            return defaults, problems + [f"{clipped(error).rstrip('.')}; using the default configuration"]



# Each field's kind, read from its annotation, the one source: the checks, the URL form and the command line
# read these (batch_size, ``int | None``, is an integer field that may be None).
INTEGER_FIELDS = tuple(f.name for f in dataclasses.fields(Config) if f.type in ("int", "int | None"))
FLOAT_FIELDS = tuple(f.name for f in dataclasses.fields(Config) if f.type == "float")

def check_field(name: str, value: object) -> object:
    """One field's value checked alone (type and range); ``ValueError`` naming the field."""
    if name == "dataset":  # a built-in name or a registered user dataset's (wil.spec.datasets.from_frame)
        return check_dataset(name, value)
    if name in ("activation", "optimizer", "dtype"):
        choices = {"activation": ACTIVATIONS, "optimizer": OPTIMIZERS, "dtype": DTYPES}
        return check_choice(name, value, choices[name])
    if name == "normalization":
        if value is None:
            return None
        if not isinstance(value, str) or value not in NORMALIZATIONS[1:]:
            raise ValueError(f"Invalid normalization {shown(value)}; choose from {list(NORMALIZATIONS)}")
        return value
    if name == "residual":
        return check_bool(name, value)
    if name in INTEGER_FIELDS:
        if name == "batch_size" and value is None:
            return None
        low, high, _ = RANGES[name]
        return check_int(name, value, low, high)
    if name in FLOAT_FIELDS:
        low, high, _ = RANGES[name]
        return check_float(name, value, low, high, low_open=name == "learning_rate")
    if name == "initializer":
        return canonical_label(name, value)
    if name == "compare":
        return checked_labels(name, value, allow_empty=True)
    raise ValueError(f"Invalid field {shown(name)}")


def checked_labels(name: str, entries: object, allow_empty: bool = False) -> tuple[str, ...]:
    """Initializer entries as their canonical labels: a list or tuple, none repeated."""
    if isinstance(entries, (str, bytes)) or not isinstance(entries, (tuple, list)):
        raise ArgumentTypeError(f"Invalid {name}: expected a list of initializers, got {shown(entries)}")
    if not entries and not allow_empty:
        raise ValueError(f"Invalid {name}: expected at least one initializer, got an empty list")
    labels = tuple(canonical_label(name, entry) for entry in entries)
    if len(set(labels)) < len(labels):
        repeated = next(label for label in labels if labels.count(label) > 1)
        raise ValueError(f"Invalid {name}: {shown(repeated)} is listed twice")
    return labels


def canonical_label(field_name: str, entry) -> str:
    """The label of one initializer entry; errors name ``field_name``."""
    try:
        name, params = parse_entry(entry)
        return make_label(name, params)
    except ArgumentTypeError as error:
        raise ArgumentTypeError(f"Invalid {field_name}: {clipped(error, 200)}") from None
    except ValueError as error:
        raise ValueError(f"Invalid {field_name}: {clipped(error, 200)}") from None


def clipped(error: Exception, limit: int = 300) -> str:
    """An error's message in printable ASCII and at most ``limit`` long."""
    text = str(error).encode("ascii", "backslashreplace").decode("ascii")
    text = "".join(c if " " <= c <= "~" else f"\\x{ord(c):02x}" for c in text)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def parse_field(name: str, raw: object):
    """Text from a URL to the field's type; ``ValueError`` with a message naming the field."""
    text = str(raw)
    if len(text) > _MAX_TEXT:
        raise ValueError(f"Invalid {name}: a value of {len(text)} characters is too long")
    text = text.strip()
    if name == "compare":
        return tuple(part.strip() for part in text.split(";") if part.strip())
    if name == "batch_size" and text.lower() in ("full", "none", ""):
        return None
    if name == "normalization":
        return None if text.lower() in ("none", "") else text
    if name == "residual":
        if text.lower() not in ("true", "false", "1", "0"):
            raise ValueError(f"Invalid residual: expected true or false, got {shown(text)}")
        return text.lower() in ("true", "1")
    if name in INTEGER_FIELDS:
        try:
            if not text.isascii():  # int() also reads other scripts' digits; a URL has no need of them
                raise ValueError
            return int(text)
        except ValueError:
            raise ValueError(f"Invalid {name}: expected an integer, got {shown(text)}") from None
    if name in FLOAT_FIELDS:
        try:
            if not text.isascii():
                raise ValueError
            return float(text)
        except ValueError:
            raise ValueError(f"Invalid {name}: expected a number, got {shown(text)}") from None
    return text


def extra_parameters(depth: int, width: int, normalization: str | None, residual: bool) -> int:
    """One network's parameters beside its weights and biases: a scale and a shift per normalized unit,
    a scalar per residual block."""
    return (2 * depth * width if normalization is not None else 0) + (n_blocks(depth) if residual else 0)


def check_cures(config: Config) -> None:
    """The combinations of ``normalization``, ``residual``, ``depth`` and the initializers that make no
    network: ``ValueError`` naming the fields."""
    if config.residual and config.depth < 2:
        raise ValueError(f"Invalid depth: residual=True needs depth >= 2 (layer 1 is the projection, the "
                         f"residual blocks come after it); got depth={config.depth}")
    for field_name, labels in (("initializer", (config.initializer,)), ("compare", config.compare)):
        for label in labels:
            name, _ = parse_entry(label)
            entry = get_initializer(name)
            if entry.residual is not None and not config.residual:
                raise ValueError(f"Invalid {field_name}: {name!r} needs residual=True (it initializes residual "
                                 f"branches); got residual=False")
            if entry.residual is not None and config.normalization is not None \
                    and not entry.residual.allows_normalization:
                raise ValueError(f"Invalid {field_name}: {name!r} is for networks without normalization; got "
                                 f"normalization={config.normalization!r} (use normalization=None)")
            if entry.data_dependent and (config.residual or config.normalization is not None):
                raise ValueError(f"Invalid {field_name}: {name!r} rescales the layers of a plain network on "
                                 f"data; it is not defined with normalization={config.normalization!r}, "
                                 f"residual={config.residual}")

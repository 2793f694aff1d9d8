"""Verdicts: what happened to each network, in one word, with the numbers it rests on and a sentence.

``verdicts(result)`` reads only the frames of a ``Result`` (``status``, ``history``, ``layers``,
``config``) and gives one row per network (initializer, seed), or per initializer over its seeds. The
first rule that holds decides, in this order (``PRECEDENCE``):

1. ``symmetric``: every hidden layer has 1 distinct unit at the end (and width > 1). The units of a
   layer compute the same thing and get the same gradient, so they stay identical forever (zeros,
   constant): nothing later can undo it, so it is named first.
2. ``exploding``: the network diverged (the training loop stopped it: loss past ``wil.LOSS_BOUND``,
   infinite or NaN); or at epoch 0 the deepest hidden layer's activation std is more than
   ``SIGNAL_EXPLODED`` (1e3) times layer 1's; or the loss blew up late: the final training loss is at
   least ``LOSS_BLOWUP`` (3) times its lowest and at least ``WORSE_THAN_GUESSING`` (1.25) times the loss
   of guessing the base rates (``guess_loss``: ln 2 for two balanced classes, 1 for regression). A network
   that learned and was then thrown out of range by a step (measured: Glorot on the demo, seed 1, training
   loss 0.17 at epoch 145, 1.04 at epoch 150, test accuracy 95% then 50%, in float32 and float64 alike).
3. ``dead``: at the end some hidden layer has every ReLU unit dead (it outputs zero for every example: the
   layers above see a constant and no gradient reaches below), or at least ``DEAD_SHARE`` (0.6) of all
   hidden units are dead. Before ``vanishing``, because a dead layer also makes the signal ratio 0.
4. ``vanishing``: at epoch 0 the deepest hidden layer's activation std is below ``SIGNAL_VANISHED``
   (1e-3) of layer 1's, or layer 1's weight gradient norm is below ``GRADIENT_VANISHED`` (1e-3) of the
   output layer's.
5. ``saturated``: at epoch 0 at least ``SATURATED_SHARE`` (0.25) of the (example, unit) values of the
   hidden layers sit in the flat tails of tanh/sigmoid/softsign (derivative under 5% of its maximum).
6. ``learned``: the final test accuracy removed at least ``LEARNED_SHARE`` (half) of chance's errors:
   accuracy >= chance + 0.5 (1 - chance), e.g. 75% on two balanced classes, 55% on ten. For regression
   (targets standardized on the training split, so the best constant guess has a test loss of about 1):
   final test loss <= 1 - LEARNED_SHARE = 0.5, i.e. R^2 of about 0.5 or more.
7. ``slow``: none of the above; it trained, but not enough.

Why these values (all measured with the app's lessons and the papers' configurations, 5 seeds; see
tests/test_verdicts.py):

- Signal ratios, 1e-3 and 1e3: Glorot init with ReLU halves the signal's variance per layer, so 30
  layers leave 2^-14.5 = 4e-5 of it (measured 2e-6 to 8e-5, Glorot uniform and normal, 8 seeds), std 0.01
  at 8 layers 1e-10; He's finite-width fluctuations at 30 layers went as low as 0.046 and as high as 1.8.
  1e-3 sits a factor of twelve from Glorot's highest and 46 from He's lowest. Below it, the gradient
  reaching layer 1 is scaled alike, so the first layers learn a thousand times slower than the last.
  std 1 with ReLU at 8 layers gives 8e3 to 2e4.
- Gradient ratio, 1e-3: catches networks whose forward signal keeps its scale while the backward one
  shrinks. Sigmoid's slope is at most 1/4 (the activation Glorot & Bengio 2010 found hardest to train):
  with Glorot's scale at 5 layers layer 1 gets 1e-4 of the output layer's gradient norm (measured), with
  std 0.01 1e-9 to 1e-8; ReLU networks that learn (Glorot and He at 8 layers, He and LSUV at 30)
  measured 0.05 to 4.
- Dead share, 0.6: at He init a finite-width ReLU layer has up to half its units dead in the deep layers
  (He at 30 layers: per layer up to 0.59, over the network up to 0.31; LSUV up to 0.47); 0.6 means more
  than half the network contributes nothing whatever the input. A whole dead layer always counts.
- Saturated share, 0.25: a value in the tails passes under 5% of the gradient, so with a share s the
  backward signal keeps at most 1 - 0.95 s per layer: 0.76 at s = 0.25, 0.1 after eight layers.
  Measured at epoch 0: tanh with std 1, 0.52 to 0.61; sigmoid with std 4, 0.67; sigmoid with std 1,
  0.09 to 0.15 (it learns); He with tanh 0.02; Glorot 0.
- Learned, half of chance's errors: on 100 test points of two balanced classes chance has a standard
  deviation of 5 points, so 75% is five of them away; and "learned" should mean most of the task, not
  a trace of it.
- Late blow-up, 3x its lowest and 1.25x guessing: a learning network's loss fluctuates by tens of percent,
  not threefold; and a network that fell back to chance ends at the guessing loss (measured: He at 30
  layers on circles, lr 0.05, bouncing between 0.2 and 0.75 and ending at 1.00x of ln 2), which is
  ``slow``, with the lowest loss in its sentence. Confidently wrong, a quarter above guessing, is blown up.

Saturation and the signal ratios are read at epoch 0: they are what the initialization did (training
may saturate units on purpose). Symmetry and dead units are read at the end: they are permanent. A
pathology is named even where training later overcame it (a vanishing network may reach 90%): the
sentence then gives the accuracy too.

Chance accuracy is the share of the majority class in the test split. ``Result.points`` holds the split
only for 2-D data, and the epoch-0 accuracy is not chance (an untrained network can be anti-correlated),
so the split is rebuilt with ``load_dataset`` from the config's dataset, n_samples, noise and seed, exactly
as the training loop does (milliseconds; cached).
"""

from __future__ import annotations

import functools
import math
import re

import numpy as np
import pandas as pd

from wil.spec.datasets import DATASETS, load_dataset
from wil.spec.initializers import INITIALIZERS, parse_entry

# The order in which rules are tried; the first that holds is the verdict (see the module docstring).
PRECEDENCE = ("symmetric", "exploding", "dead", "vanishing", "saturated", "learned", "slow")
# exploding: epoch-0 act_std of the deepest hidden layer over layer 1's above this (std 1 ReLU: ~1e4)
SIGNAL_EXPLODED = 1e3
# exploding: the final training loss at least this many times its lowest, and ...
LOSS_BLOWUP = 3.0
# ... at least this many times the loss of guessing the base rates (confidently wrong, not back at chance)
WORSE_THAN_GUESSING = 1.25
# dead: share of all hidden ReLU units dead at the end at or above this (He at 30 layers: up to 0.31)
DEAD_SHARE = 0.6
# vanishing: epoch-0 act_std of the deepest hidden layer over layer 1's below this (Glorot, 30 ReLU: 4e-5)
SIGNAL_VANISHED = 1e-3
# vanishing: epoch-0 weight-gradient norm of layer 1 over the output layer's below this (Glorot sigmoid: 1e-4)
GRADIENT_VANISHED = 1e-3
# saturated: mean share of hidden (example, unit) values in the flat tails at epoch 0 (tanh std 1: 0.55)
SATURATED_SHARE = 0.25
# learned: the share of chance's errors (or of the standardized target's variance) removed at the end
LEARNED_SHARE = 0.5

# verb of each verdict, for sentences: "<name>: <verb>, <evidence>" (a vanishing gradient says so instead)
VERBS = {"symmetric": "stuck", "exploding": "exploded", "dead": "died", "vanishing": "the signal vanished",
         "saturated": "saturated", "learned": "learned", "slow": "slow"}

NETWORK_COLUMNS = [
    "initializer", "seed", "name", "verdict", "sentence", "activation", "width", "distinct_units", "depth",
    "signal_ratio", "gradient_ratio", "diverged_epoch", "reason", "initial_loss", "lowest_loss", "lowest_loss_epoch",
    "final_loss", "dead_fraction", "dead_layers", "saturated_fraction", "final_test_accuracy",
    "final_test_loss", "chance_accuracy", "guess_loss", "epochs"]
INITIALIZER_COLUMNS = [
    "initializer", "name", "verdict", "sentence", "n_seeds", "n_agree", "counts", "final_test_accuracy",
    "min_test_accuracy", "max_test_accuracy", "final_test_loss", "chance_accuracy"]

# initializer name -> its short name for labels; parameters that differ from the defaults follow
_SHORT_NAMES = {
    "zeros": "all zeros", "constant": "constant", "random_normal": "normal", "random_uniform": "uniform",
    "truncated_normal": "truncated normal", "glorot_uniform": "Glorot uniform", "glorot_normal": "Glorot normal",
    "he_uniform": "He uniform", "he_normal": "He normal", "lecun_uniform": "LeCun uniform",
    "lecun_normal": "LeCun normal", "orthogonal": "orthogonal", "lsuv": "LSUV", "torch_default": "PyTorch default",
    "sklearn_default": "scikit-learn default"}


def short_name(label: str) -> str:
    """A readable short name for an initializer label, for chart legends and sentences.

    Parameters
    ----------
    label : an initializer label such as ``"he_normal"`` or ``"random_normal(std=0.01)"``.

    Returns
    -------
    str : e.g. ``"He normal"``, ``"std 0.01"``, ``"uniform ±0.1"``, ``"constant -0.1"``,
        ``"Glorot uniform ×2"`` (scale 2). A label that does not parse is returned unchanged.
    """
    try:
        name, params = parse_entry(label)
    except ValueError:
        return str(label)
    defaults = {key: spec.default for key, spec in INITIALIZERS[name].params.items()}
    changed = {key: value for key, value in params.items() if value != defaults[key]}
    parts = []
    if name in ("random_normal", "truncated_normal"):
        mean = params.get("mean", 0.0)
        prefix = "truncated " if name == "truncated_normal" else ""
        parts.append(f"{prefix}std {_plain(params['std'])}" + (f", mean {_plain(mean)}" if mean else ""))
    elif name == "random_uniform":
        parts.append(f"uniform ±{_plain(params['limit'])}")
    elif name == "constant":
        parts.append(f"constant {_plain(params['value'])}")
    else:
        parts.append(_SHORT_NAMES.get(name, name))
        parts += [f"{key} {_plain(value)}" for key, value in changed.items() if key != "scale"]
    if "scale" in changed:
        parts.append(f"×{_plain(changed['scale'])}")
    return " ".join(parts) if len(parts) > 1 and parts[-1].startswith("×") else ", ".join(parts)


def verdicts(result, by: str = "network") -> pd.DataFrame:
    """The verdict of every network of ``result``, or of every initializer over its seeds.

    Parameters
    ----------
    result : wil.Result
    by : ``"network"`` (one row per initializer and seed) or ``"initializer"`` (one row per initializer,
        the majority verdict over its seeds).

    Returns
    -------
    pandas.DataFrame
        by="network": ``NETWORK_COLUMNS``: the verdict (one of ``PRECEDENCE``), a sentence, and the
        evidence: ``distinct_units`` (most of any hidden layer at the end: 1 when every layer
        is symmetric) of ``width``;
        ``signal_ratio`` (epoch-0 act_std of layer ``depth`` over layer 1's); ``gradient_ratio``
        (epoch-0 grad_norm of layer 1 over the output layer's); ``diverged_epoch`` and ``reason``;
        training losses at epoch 0, at their lowest and at the end; ``dead_fraction`` (share of hidden
        units dead at the end) and ``dead_layers`` (hidden layers wholly dead); ``saturated_fraction``
        (epoch 0); final test accuracy and loss; ``chance_accuracy`` (majority class share of the test
        split, NaN for regression). Evidence a run did not record (no diagnostics, a ReLU's saturation)
        is NaN.
        by="initializer": ``INITIALIZER_COLUMNS``: the majority verdict (a tie goes to the verdict earlier
        in ``PRECEDENCE``), ``n_agree`` of ``n_seeds``, ``counts`` ("learned 4, exploding 1"), median,
        lowest and highest final test accuracy, and a sentence over the seeds.
    """
    from wil.spec.checks import check_choice

    check_choice("by", by, ("network", "initializer"))
    frame = network_verdicts(result)
    return frame if by == "network" else summarize(frame)


def network_verdicts(result) -> pd.DataFrame:
    """One row per network: verdict, sentence and evidence (see ``verdicts``)."""
    frame = _evidence(result)
    frame["verdict"] = [classify(row) for row in frame.to_dict("records")]
    frame["sentence"] = [f"{row['name']}: {describe(row, row['verdict'])}" for row in frame.to_dict("records")]
    frame["verdict"] = pd.Categorical(frame["verdict"], categories=PRECEDENCE)
    return frame[NETWORK_COLUMNS]


def classify(evidence: dict) -> str:
    """The verdict of one network from its evidence (a row of ``network_verdicts``): the first rule of
    ``PRECEDENCE`` that holds. Missing evidence (NaN, NA, None) never makes a rule hold."""
    evidence = _filled(evidence)
    for verdict in PRECEDENCE[:-1]:
        if _RULES[verdict](evidence):
            return verdict
    return "slow"


def _symmetric(e: dict) -> bool:
    return e["width"] > 1 and e["distinct_units"] == 1


def _exploding(e: dict) -> bool:
    return bool(_diverged(e) or e["signal_ratio"] > SIGNAL_EXPLODED or _blew_up(e))


def _blew_up(e: dict) -> bool:
    """The training loss fell, then rose to well above what guessing the base rates gives."""
    return bool(e["final_loss"] >= LOSS_BLOWUP * e["lowest_loss"]
                and e["final_loss"] >= WORSE_THAN_GUESSING * e["guess_loss"])


def _dead(e: dict) -> bool:
    return e["dead_layers"] >= 1 or e["dead_fraction"] >= DEAD_SHARE


def _vanishing(e: dict) -> bool:
    return e["signal_ratio"] < SIGNAL_VANISHED or e["gradient_ratio"] < GRADIENT_VANISHED


def _saturated(e: dict) -> bool:
    return e["saturated_fraction"] >= SATURATED_SHARE


def _learned(e: dict) -> bool:
    chance = e["chance_accuracy"]
    if _is_missing(chance):  # regression: against the standardized target's variance, 1
        return e["final_test_loss"] <= 1.0 - LEARNED_SHARE
    return e["final_test_accuracy"] >= chance + LEARNED_SHARE * (1.0 - chance)


_RULES = {"symmetric": _symmetric, "exploding": _exploding, "dead": _dead, "vanishing": _vanishing,
          "saturated": _saturated, "learned": _learned}


def _diverged(e: dict) -> bool:
    """The training loop stopped the network."""
    return not _is_missing(e["diverged_epoch"])


def _filled(evidence: dict) -> dict:
    """``evidence`` with NA and None as NaN, which fails every comparison."""
    return {key: np.nan if _is_missing(value) else value for key, value in evidence.items()}


def _is_missing(value) -> bool:
    """None, NA or NaN."""
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


# ---------------------------------------------------------------- evidence

def _evidence(result) -> pd.DataFrame:
    """The numbers each rule reads, one row per network, in the status frame's order."""
    config = result.config
    depth = config.depth
    status = result.status
    frame = pd.DataFrame({"initializer": status["initializer"], "seed": status["seed"].to_numpy()})
    frame["name"] = [short_name(label) for label in frame["initializer"]]
    frame["activation"] = config.activation
    frame["width"] = config.width
    frame["depth"] = depth
    frame["diverged_epoch"] = status["diverged_epoch"].array
    frame["reason"] = status["reason"].to_numpy()
    frame["final_test_accuracy"] = status["final_test_accuracy"].to_numpy(dtype=float)
    frame["final_test_loss"] = status["final_test_loss"].to_numpy(dtype=float)
    frame["chance_accuracy"] = chance_accuracy(config)
    frame["guess_loss"] = guess_loss(config)
    stopped = getattr(result, "stopped_epoch", None)
    frame["epochs"] = config.epochs if stopped is None else stopped
    keys = ["initializer", "seed"]
    frame = frame.merge(_loss_evidence(result.history), on=keys, how="left")
    frame = frame.merge(_layer_evidence(result.layers, depth), on=keys, how="left")
    return frame


def _loss_evidence(history: pd.DataFrame) -> pd.DataFrame:
    """Training loss at epoch 0, at its lowest (and when), and at the last epoch recorded."""
    train = history[history["split"] == "train"].dropna(subset=["loss"]).sort_values("epoch")
    groups = train.groupby(["initializer", "seed"], observed=True)
    lowest = train.loc[groups["loss"].idxmin(), ["initializer", "seed", "loss", "epoch"]]
    return (groups["loss"].agg(initial_loss="first", final_loss="last").reset_index()
            .merge(lowest.rename(columns={"loss": "lowest_loss", "epoch": "lowest_loss_epoch"}),
                   on=["initializer", "seed"]))


def _layer_evidence(layers: pd.DataFrame, depth: int) -> pd.DataFrame:
    """Per network: the epoch-0 ratios and saturation, and the end's distinct and dead units."""
    columns = ["initializer", "seed", "distinct_units", "signal_ratio", "gradient_ratio", "dead_fraction",
               "dead_layers", "saturated_fraction"]
    if layers.empty:
        return pd.DataFrame(columns=columns).astype({"seed": int})
    rows = []
    for (label, seed), net in layers.groupby(["initializer", "seed"], observed=True):
        start = net[net["epoch"] == 0].set_index("layer")
        end = net[net["epoch"] == net["epoch"].max()].set_index("layer")
        hidden_end = end.loc[end.index <= depth]
        hidden_start = start.loc[start.index <= depth]
        dead = hidden_end["dead_fraction"].to_numpy(dtype=float)  # (depth,) NaN outside the ReLU family
        rows.append({
            "initializer": label, "seed": seed,
            "distinct_units": _max_or_nan(hidden_end["distinct_units"]),
            "signal_ratio": _ratio(start, "act_std", depth, 1),
            "gradient_ratio": _ratio(start, "grad_norm", 1, depth + 1),
            "dead_fraction": float(np.mean(dead)) if dead.size and not np.isnan(dead).all() else np.nan,
            "dead_layers": int(np.sum(dead >= 1.0)) if dead.size and not np.isnan(dead).all() else np.nan,
            "saturated_fraction": _mean_or_nan(hidden_start["saturated_fraction"])})
    evidence = pd.DataFrame(rows, columns=columns)
    evidence = evidence.astype({"distinct_units": "Float64", "dead_layers": "Float64"}).astype(
        {"distinct_units": "Int64", "dead_layers": "Int64"})
    evidence["initializer"] = pd.Categorical(evidence["initializer"],
                                             categories=layers["initializer"].cat.categories, ordered=True)
    return evidence


def _ratio(stats: pd.DataFrame, column: str, top: int, bottom: int) -> float:
    """stats[column] at layer ``top`` over layer ``bottom``; NaN if either is missing, 0/0 or x/0."""
    if top not in stats.index or bottom not in stats.index:
        return np.nan
    numerator, denominator = float(stats.at[top, column]), float(stats.at[bottom, column])
    if not denominator > 0 or not math.isfinite(numerator):
        return np.nan
    return numerator / denominator


def _max_or_nan(values: pd.Series) -> float:
    """The largest value; NaN when none is recorded. For distinct units: 1 only if every layer has 1."""
    values = pd.to_numeric(values, errors="coerce").dropna()
    return float(values.max()) if len(values) else np.nan


def _mean_or_nan(values: pd.Series) -> float:
    """The mean of the recorded values, NaN if none."""
    values = pd.to_numeric(values, errors="coerce").dropna()
    return float(values.mean()) if len(values) else np.nan


def guess_loss(config) -> float:
    """The training loss of guessing the base rates: the entropy of the training split's class shares
    (ln 2 for two balanced classes), or 1 for regression (the standardized target's variance).

    Parameters
    ----------
    config : wil.Config

    Returns
    -------
    float
    """
    if DATASETS[config.dataset].task != "classification":
        return 1.0
    shares = _class_shares(config.dataset, config.n_samples, config.noise, config.seed)[0]
    shares = shares[shares > 0]
    return float(-np.sum(shares * np.log(shares)))


def chance_accuracy(config) -> float:
    """Share of the majority class in the test split of ``config``'s data; NaN for regression.

    Parameters
    ----------
    config : wil.Config

    Returns
    -------
    float
    """
    if DATASETS[config.dataset].task != "classification":
        return np.nan
    return float(_class_shares(config.dataset, config.n_samples, config.noise, config.seed)[1].max())


@functools.lru_cache(maxsize=32)
def _class_shares(dataset: str, n_samples: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) class shares, each (n_classes,), of the same split the training loop makes."""
    data = load_dataset(dataset, n_samples, noise, seed)
    return tuple(np.bincount(y, minlength=data.n_classes) / len(y) for y in (data.y_train, data.y_test))


# ---------------------------------------------------------------- sentences

def describe(e: dict, verdict: str | None = None) -> str:
    """The plain-words part of a network's sentence, after its name: verb, then evidence. ``verdict``
    defaults to ``classify(e)``."""
    e = _filled(e)
    verdict = str(verdict) if verdict is not None else classify(e)
    verb, accuracy = VERBS[verdict], _outcome(e)
    if verdict == "symmetric":
        return (f"{verb}, every unit of a layer identical ({_whole(e['distinct_units'])} distinct of "
                f"{_whole(e['width'])}), {accuracy}")
    if verdict == "exploding":
        if _diverged(e):
            return f"{verb}, {_reason(e)}"
        if e["signal_ratio"] > SIGNAL_EXPLODED:
            return (f"{verb}, layer {e['depth']}'s activations are {_sci(e['signal_ratio'])} times layer 1's "
                    f"at the start, {accuracy}")
        return (f"{verb}, the loss rose from {_number(e['lowest_loss'])} at epoch {_whole(e['lowest_loss_epoch'])} "
                f"to {_number(e['final_loss'])} at the end, {accuracy}")
    if verdict == "dead":
        layers = f" ({_whole(e['dead_layers'])} of {e['depth']} layers entirely)" if e["dead_layers"] >= 1 else ""
        return f"{verb}, {_percent(e['dead_fraction'])} of the units never fire{layers}, {accuracy}"
    if verdict == "vanishing":
        if e["gradient_ratio"] < GRADIENT_VANISHED and not e["signal_ratio"] < SIGNAL_VANISHED:
            if e["gradient_ratio"] == 0:  # underflowed to exactly zero: "0e0 of" would read as a typo
                return f"the gradient vanished, layer 1's gradient is exactly 0 (the output layer's is not), {accuracy}"
            return (f"the gradient vanished, layer 1's gradient is {_sci(e['gradient_ratio'])} of the output "
                    f"layer's, {accuracy}")
        if e["signal_ratio"] == 0:
            return f"{verb}, layer {e['depth']}'s activations are all exactly 0 (layer 1's are not), {accuracy}"
        return (f"{verb}, layer {e['depth']}'s activations are {_sci(e['signal_ratio'])} of layer 1's, "
                f"{accuracy}")
    if verdict == "saturated":
        return (f"{verb}, {_percent(e['saturated_fraction'])} of the {e['activation']} values in the flat "
                f"tails at the start, {accuracy}")
    if verdict == "learned":
        return f"{verb}, {_outcome(e, short=True)}"
    chance = "" if _is_missing(e["chance_accuracy"]) else f" (chance {_percent(e['chance_accuracy'])})"
    fell = ""
    if e["final_loss"] >= LOSS_BLOWUP * e["lowest_loss"]:
        fell = (f"; its training loss had fallen to {_number(e['lowest_loss'])} at epoch "
                f"{_whole(e['lowest_loss_epoch'])} and ended at {_number(e['final_loss'])}")
    return f"{verb}, {accuracy} after {e['epochs']} epochs{chance}{fell}"


def _whole(value) -> str:
    """An integer count for a sentence, "?" if missing."""
    return "?" if _is_missing(value) else str(int(value))


def _outcome(e: dict, short: bool = False) -> str:
    """"test accuracy 95%" (or "95%" if ``short``); for regression the test loss against 1."""
    if not _is_missing(e["chance_accuracy"]):
        return _percent(e["final_test_accuracy"]) if short else f"test accuracy {_percent(e['final_test_accuracy'])}"
    return f"test loss {_number(e['final_test_loss'])} (the target's variance is 1)"


def _reason(e: dict) -> str:
    """The training loop's reason for stopping, tightened: "loss past 1e6 at epoch 1"."""
    reason = str(e["reason"] or f"diverged at epoch {int(e['diverged_epoch'])}")
    reason = reason.replace("loss exploded past", "loss past")
    return re.sub(r"(\d)e\+?0*(\d+)", r"\1e\2", reason)


def _plain(value: float) -> str:
    """A parameter as its label writes it: 0.01, -0.1, 2."""
    return f"{value:g}"


def _percent(value: float) -> str:
    """0.953 -> "95%"."""
    return "NaN%" if _is_missing(value) else f"{100 * value:.0f}%"


def _number(value: float) -> str:
    """Two significant digits, plain: 0.14, 1.0, 0.010, 42, 1e6."""
    if _is_missing(value):
        return "NaN"
    if value == 0:
        return "0"
    if not 1e-3 <= abs(value) < 1e5:
        return _sci(value)
    return f"{value:.0f}" if abs(value) >= 10 else f"{value:#.2g}".rstrip(".")


def _sci(value: float) -> str:
    """One significant digit in scientific form without padding: 4.3e-05 -> "4e-5", 12000 -> "1e4"."""
    if _is_missing(value):
        return "NaN"
    if not math.isfinite(value):  # e.g. a signal ratio over a layer whose activations overflowed
        return "inf" if value > 0 else "-inf"
    if value == 0:
        return "0"
    mantissa, exponent = f"{value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


# ---------------------------------------------------------------- over seeds

def summarize(networks: pd.DataFrame) -> pd.DataFrame:
    """One row per initializer from a frame of ``network_verdicts`` (or several concatenated, e.g. seeds
    trained in separate runs): the majority verdict and a sentence over the seeds.

    Parameters
    ----------
    networks : pandas.DataFrame with ``NETWORK_COLUMNS``.

    Returns
    -------
    pandas.DataFrame with ``INITIALIZER_COLUMNS``, initializers in their order of appearance.
    """
    rows = []
    for label in pd.unique(networks["initializer"].astype(str)):
        seeds = networks[networks["initializer"].astype(str) == label]
        verdict_list = [str(v) for v in seeds["verdict"]]
        counts = {v: verdict_list.count(v) for v in PRECEDENCE if v in verdict_list}
        majority = max(counts, key=lambda v: (counts[v], -PRECEDENCE.index(v)))
        accuracy = seeds["final_test_accuracy"].to_numpy(dtype=float)
        rows.append({
            "initializer": label, "name": seeds["name"].iloc[0], "verdict": majority,
            "sentence": _over_seeds(seeds, majority, counts[majority]), "n_seeds": len(seeds),
            "n_agree": counts[majority],
            "counts": ", ".join(f"{v} {n}" for v, n in sorted(counts.items(), key=lambda item: -item[1])),
            "final_test_accuracy": _nanmedian(accuracy), "min_test_accuracy": _nanextreme(accuracy, np.nanmin),
            "max_test_accuracy": _nanextreme(accuracy, np.nanmax),
            "final_test_loss": _nanmedian(seeds["final_test_loss"].to_numpy(dtype=float)),
            "chance_accuracy": float(seeds["chance_accuracy"].iloc[0])})
    frame = pd.DataFrame(rows, columns=INITIALIZER_COLUMNS)
    labels = networks["initializer"]
    categories = labels.cat.categories if isinstance(labels.dtype, pd.CategoricalDtype) else frame["initializer"]
    frame["initializer"] = pd.Categorical(frame["initializer"], categories=categories, ordered=True)
    frame["verdict"] = pd.Categorical(frame["verdict"], categories=PRECEDENCE)
    return frame


_LISTED_OTHERS = 3  # seeds that disagree with the majority, listed by name in the sentence


def _over_seeds(seeds: pd.DataFrame, majority: str, n_agree: int) -> str:
    """"He normal: learned in 2 of 3 seeds, test accuracy 93-96%; seed 1 slow, test accuracy 61% ..."."""
    records = seeds.to_dict("records")
    if len(records) == 1:
        return records[0]["sentence"]
    agreeing = [r for r in records if str(r["verdict"]) == majority]
    # the seed whose accuracy is the median of the majority speaks for it
    agreeing.sort(key=lambda r: (np.nan_to_num(r["final_test_accuracy"], nan=-1.0), r["seed"]))
    typical = agreeing[(len(agreeing) - 1) // 2]
    verb, _, evidence = describe(typical, majority).partition(", ")
    if majority == "learned" or (majority == "slow" and not _is_missing(typical["chance_accuracy"])):
        evidence = _accuracy_range(agreeing) or evidence
    head = f"{records[0]['name']}: {verb} in {n_agree} of {len(records)} seeds"
    if evidence:
        head += f", {evidence}" if n_agree == 1 or majority in ("learned", "slow") else f", e.g. {evidence}"
    others = [r for r in records if str(r["verdict"]) != majority]
    listed = [f"seed {r['seed']} {describe(r, r['verdict'])}" for r in others[:_LISTED_OTHERS]]
    if len(others) > _LISTED_OTHERS:
        listed.append(f"{len(others) - _LISTED_OTHERS} more")
    return "; ".join([head, *listed])


def _accuracy_range(records: list[dict]) -> str:
    """"test accuracy 93-96%" over ``records`` (one value if they agree), "" for regression."""
    if _is_missing(records[0]["chance_accuracy"]):
        return ""
    values = sorted(round(100 * r["final_test_accuracy"]) for r in records if not _is_missing(r["final_test_accuracy"]))
    if not values:
        return ""
    span = f"{values[0]}%" if values[0] == values[-1] else f"{values[0]}–{values[-1]}%"
    return f"test accuracy {span}"


def _nanmedian(values: np.ndarray) -> float:
    """The median of the finite values, NaN if none."""
    values = values[~np.isnan(values)]
    return float(np.median(values)) if values.size else np.nan


def _nanextreme(values: np.ndarray, reduce) -> float:
    """``reduce`` of the non-NaN values, NaN if none."""
    return float(reduce(values)) if (~np.isnan(values)).any() else np.nan

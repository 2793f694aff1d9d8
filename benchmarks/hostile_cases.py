"""The library's hostile inputs (issue 18), one list of ``Case`` per group, for ``probe_hostile.py``.

Each case calls one public function of ``wil.__all__`` (or ``Result.save``) with one argument set to a
hostile value; ``name`` is the argument its error must name. ``refuse``: the value must be refused (a
value that may also be accepted is checked for what came back instead: finite numbers, sane types).
"""

from __future__ import annotations

import dataclasses
import decimal
import fractions
import json
import math
import os
import struct
import zipfile
from typing import Callable

import numpy as np
import pandas as pd

import wil


@dataclasses.dataclass
class Case:
    group: str
    name: str  # the argument the error must name
    call: Callable[[], object]
    refuse: bool = False  # True: accepting the value is a failure
    check: Callable[[object], str | None] | None = None  # for an accepted value: a problem, or None
    leaves: tuple[str, ...] = ()  # files an accepted case may leave in its scratch folder


class Hostile:
    """A value whose ``__repr__``, ``__index__``, ``__float__`` and ``__len__`` all raise."""

    def __repr__(self):
        raise RuntimeError("hostile repr")

    __index__ = __float__ = __len__ = __iter__ = __repr__


# values no numeric, text or list argument should take silently (each case says which it must refuse)
VALUES = [None, True, False, np.bool_(True), -1, 0, 2**64, 10**400, -(10**400), 1e308, -1e308, 5e-324,
          math.nan, math.inf, -math.inf, np.float64("nan"), 1 + 2j, "1", "\u0661", "1_0", "", " ", "nan",
          "9" * 5000, b"1", [1], (1, 2), {}, {"a": 1}, set(), object(), np.array([1, 2]), np.array(3.0),
          decimal.Decimal("1.5"), fractions.Fraction(1, 3), Hostile(), range(3), 2.5, -0.0, np.int64(-7)]
NUMBER_NAMES = ["random_normal(std=\u0661)", "he_normal(scale=1_0)", "random_normal(std=nan)",
                "random_normal(std=inf)", "random_normal(std=1e400)", "random_normal(std=)",
                "random_normal(std=1,std=2)", "random_normal(foo=1)", "he_normal(", "he_normal)(", "HE_NORMAL",
                "random_normal(std=0x10)", "random_normal(std=1e-400)", "random_normal(std=" + "9" * 5000 + ")",
                "\x00", "a" * 100_000, "orthogonal(gain=\u00b2)", "random_normal(std=0.01))", "he_normal()()",
                "he_normal(scale=-1)", "random_normal(std=\uff11)", "he_normal(scale=1e-5000)", "he_normal\n",
                "zeros(scale=1)" if "scale" not in wil.INITIALIZERS["zeros"].params else "zeros(std=1)", "mean_field(sigma_w2=1e101)", "random_normal(std=0.01, std=0.02)"]
TINY = wil.Config(dataset="moons", n_samples=40, depth=1, width=3, epochs=2)
DEEPER = dataclasses.replace(TINY, depth=2)  # a Jacobian between hidden layers needs two


def finite(value) -> str | None:
    """A problem if ``value`` (a number, an array or a dataclass of numbers) holds NaN without saying so."""
    if dataclasses.is_dataclass(value):
        values = [getattr(value, f.name) for f in dataclasses.fields(value)]
        return next((p for p in map(finite, values) if p), None)
    if isinstance(value, (tuple, list)):
        return next((p for p in map(finite, value) if p), None)
    if isinstance(value, (float, np.floating)) and math.isnan(value):
        return "returned NaN"
    if isinstance(value, np.ndarray) and value.dtype.kind == "f" and np.isnan(value).any():
        return "returned an array holding NaN"
    return None


def sane_config(config) -> str | None:
    """A problem if a ``Config`` kept a value of the wrong type (a bool as a number, a NumPy scalar, NaN)."""
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        kind = str(field.type)
        if kind.startswith("int") and not (type(value) is int or value is None and "None" in kind):
            return f"Config kept {field.name}={value!r}"
        if kind == "float" and not (type(value) is float and math.isfinite(value)):
            return f"Config kept {field.name}={value!r}"
    return None


def sane_result(result) -> str | None:
    """A problem if a network ends with a NaN loss without being reported as diverged."""
    status = result.status
    silent = status["final_train_loss"].isna() & ~status["diverged"].astype(bool)
    return "a NaN loss not reported as diverged" if silent.any() else None


def config_cases() -> list[Case]:
    cases = []
    for field in dataclasses.fields(wil.Config):
        for value in VALUES:
            cases.append(Case("Config fields", field.name, lambda f=field.name, v=value: wil.Config(**{f: v}),
                              check=sane_config))
    cases += [Case("Config fields", "noise", lambda: wil.train(dataclasses.replace(TINY, noise=1e200)), True)]
    return cases


def initialize_cases() -> list[Case]:
    base = dict(name="he_normal", fan_in=4, fan_out=3, seed=0)
    cases = [Case("initialize", "initializer" if key == "name" else key, lambda k=key, v=value: wil.initialize(**{**base, k: v}), check=finite)
             for key in base for value in VALUES]
    cases += [Case("initialize", "std", lambda v=value: wil.initialize("random_normal", 4, 3, seed=0, std=v),
                   check=finite) for value in VALUES]
    cases += [Case("initialize", "fan_in", lambda: wil.initialize("he_normal", 10**9, 10**9, seed=0), True),
              Case("initialize", "activation", lambda: wil.initialize("he_normal", 4, 3, 0, activation="nope"), True),
              Case("initialize", "rng", lambda: wil.initialize("he_normal", 4, 3, rng="nope"), True),
              Case("initialize", "nope", lambda: wil.initialize("he_normal", 4, 3, 0, nope=1.0), True)]
    return cases


def label_cases() -> list[Case]:
    entries = NUMBER_NAMES + VALUES + [("he_normal", {"scale": math.nan}), ("he_normal", None), ("he_normal",),
                                       ("he_normal", {"scale": "1"}), ("he_normal", {1: 2}), ("nope", {}),
                                       ("he_normal", {"scale": True}), ("he_normal", {"scale": 10**400})]
    must = lambda entry: not (isinstance(entry, str) and entry.strip() in wil.INITIALIZERS)  # noqa: E731
    cases = [Case("labels", "initializer", lambda e=e: wil.parse_entry(e), refuse=must(e)) for e in entries]
    cases += [Case("labels", "initializer", lambda e=e: wil.make_label(e), refuse=must(e)) for e in entries]
    cases += [Case("labels", "scale", lambda v=v: wil.make_label("he_normal", {"scale": v}), check=finite)
              for v in VALUES]
    cases += [Case("labels", "label", lambda e=e: wil.short_name(e)) for e in NUMBER_NAMES + VALUES]
    return cases


def dataset_cases() -> list[Case]:
    base = dict(name="moons", n_samples=40, noise=0.1, seed=0)
    cases = [Case("datasets", key if key != "name" else "dataset",
                  lambda k=key, v=value: wil.load_dataset(**{**base, k: v}), check=lambda d: finite(d.X_train))
             for key in base for value in VALUES]
    cases += [Case("datasets", "noise", lambda n=n: wil.load_dataset(n, noise=1e200), True)
              for n in ("moons", "circles", "blobs", "xor", "spirals", "gaussian_quantiles", "friedman1")]
    cases += [Case("datasets", "n_samples", lambda: wil.load_dataset("moons", n_samples=10**13), True)]
    return cases


def _frame(**columns) -> pd.DataFrame:
    rows = 40
    data = {"a": np.linspace(0, 1, rows), "b": np.cos(np.arange(rows)), "y": np.arange(rows) % 2}
    data.update(columns)
    return pd.DataFrame(data)


def frame_cases() -> list[Case]:
    rows = 40
    frames = [_frame(a=np.linspace(0, 1, rows) + 1j), _frame(a=np.tile([1e308, -1e308], rows // 2)),
              _frame(a=np.full(rows, np.nan)), _frame(a=np.full(rows, np.inf)), _frame(a=["x"] * rows),
              _frame(a=np.full(rows, 3.0)), _frame(y=np.zeros(rows)), _frame(y=np.arange(rows)),
              _frame(a=pd.date_range("2020", periods=rows)), _frame(a=[object()] * rows), _frame().head(3),
              _frame().iloc[:0], _frame(a=[None] * rows), _frame(a=np.tile([1e200, -1e200], rows // 2)),
              _frame(y=["a\u0661"] * (rows // 2) + ["b"] * (rows // 2)), _frame(y=[math.nan] * rows),
              _frame(a=np.tile([2**70, 1], rows // 2).astype(object)), _frame(a=[True, False] * (rows // 2)),
              pd.DataFrame(np.ones((rows, 3)), columns=["a", "a", "y"]), pd.DataFrame({"y": [0, 1] * 20}),
              _frame(a=np.tile([1e-320, 0], rows // 2)), _frame(a=np.arange(rows) * 1e154)]
    cases = [Case("from_frame", "frame|target", lambda f=f: wil.from_frame(f, "y")) for f in frames]
    cases += [Case("from_frame", "frame", lambda v=v: wil.from_frame(v, "y"), True) for v in VALUES]
    cases += [Case("from_frame", "target", lambda v=v: wil.from_frame(_frame(), v), True) for v in VALUES]
    cases += [Case("from_frame", "task", lambda v=v: wil.from_frame(_frame(), "y", task=v), v is not None)
              for v in VALUES]
    cases += [Case("from_frame", "label", lambda v=v: wil.from_frame(_frame(), "y", label=v)) for v in VALUES]
    cases += [Case("detect_task", "column", lambda v=v: wil.detect_task(v)) for v in VALUES + frames[:8]]
    series = [pd.Series([], dtype=float), pd.Series([math.nan] * 3), pd.Series([1 + 2j] * 3), pd.Series([math.inf, 1]),
              pd.Series(["a", None]), pd.Series([2**70, 1], dtype=object), pd.Series([True, False]),
              pd.Series(pd.date_range("2020", periods=3)), pd.Series([1e308, -1e308]), pd.Series(list(range(25)))]
    cases += [Case("detect_task", "column", lambda v=v: wil.detect_task(v),
                   check=lambda task: None if task in wil.TASKS else f"returned {task!r}") for v in series]
    return cases


def run_cases() -> list[Case]:
    cases = [Case("compare/train", "config", lambda v=v: wil.compare(v), True) for v in VALUES]
    cases += [Case("compare/train", "config", lambda v=v: wil.train(v), True) for v in VALUES]
    entries = NUMBER_NAMES + VALUES + [["zeros", "zeros"], [], ["he_normal"] * 10_001, [("he_normal", {"x": 1})]]
    cases += [Case("compare/train", "initializer", lambda e=e: wil.compare(TINY, e if isinstance(e, list) else [e]),
                   check=sane_result) for e in entries]
    cases += [Case("compare/train", "seed", lambda v=v: wil.compare(TINY, seeds=v), check=sane_result)  # seeds[i]
              for v in VALUES + [[0, 0], [-1], [2**32], [True], ["0"], [1.5], [math.nan]]]
    for key in ("progress", "diagnostics", "live", "live_every", "snapshots"):
        cases += [Case("compare/train", key, lambda k=key, v=v: wil.compare(TINY, **{k: v}), check=sane_result)
                  for v in VALUES[::2]]
    cases += [Case("compare/train", "epochs", lambda v=v: wil.resume(wil.train(TINY), epochs=v), check=sane_result)
              for v in VALUES[::3]]
    cases += [Case("compare/train", "result", lambda v=v: wil.resume(v), True) for v in VALUES[::3]]
    return cases


def theory_cases() -> list[Case]:
    theory, isometry, cases = wil.theory, wil.isometry, []
    for name, call in (("activation", lambda v: theory.mean_field(v, 1.5, 0.05)),
                       ("sigma_w2", lambda v: theory.mean_field("tanh", v, 0.05)),
                       ("sigma_b2", lambda v: theory.mean_field("tanh", 1.5, v)),
                       ("sigma_b2", lambda v: theory.critical_sigma_w2("tanh", v)),
                       ("activation", lambda v: theory.critical_sigma_w2(v, 0.05)),
                       ("sigma_w2_values", lambda v: theory.phase_frame("tanh", 0.05, v)),
                       ("sigma_w2_values", lambda v: theory.phase_frame("tanh", 0.05, [v])),
                       ("activation", lambda v: theory.phase_frame(v, 0.05, [1.0])),
                       ("config", lambda v: wil.theory_frame(v)),
                       ("initializer", lambda v: wil.theory_frame(TINY, [v])),
                       ("layer_sizes", lambda v: theory.expected_variances(v, [1.0], "relu")),
                       ("weight_variances", lambda v: theory.expected_variances([2, 3], v, "relu")),
                       ("variance", lambda v: theory.gaussian_moments(np.tanh, v)),
                       ("sigma_w2", lambda v: isometry.fixed_point_variance("tanh", v, 0.05)),
                       ("q", lambda v: isometry.derivative_moments("tanh", v)),
                       ("layers", lambda v: isometry.jacobian_moments("tanh", 1.0, 0.05, v)),
                       ("ensemble", lambda v: isometry.jacobian_moments("tanh", 1.0, 0.05, 3, v)),
                       ("config", lambda v: isometry.isometry_frame(v)),
                       ("config", lambda v: wil.jacobian_spectrum(v)),
                       ("initializer", lambda v: wil.jacobian_spectrum(DEEPER, [v])),
                       ("seeds", lambda v: wil.jacobian_spectrum(DEEPER, seeds=v)),
                       ("inputs", lambda v: wil.jacobian_spectrum(DEEPER, inputs=v)),
                       ("n_inputs", lambda v: wil.jacobian_spectrum(DEEPER, n_inputs=v))):
        cases += [Case("theory", name, lambda c=call, v=v: c(v), check=finite) for v in VALUES]
    cases += [Case("theory", "sigma_w2", lambda: theory.mean_field("tanh", 10**400, 0.05), True),
              Case("theory", "sigma_w2_values", lambda: theory.phase_frame("tanh", 0.05, range(10**9)), True)]
    return cases


def export_cases() -> list[Case]:
    cases = []
    for function in (wil.to_keras, wil.to_pytorch, wil.to_wil):
        cases += [Case("export", "config", lambda f=function, v=v: f(v), True) for v in VALUES]
        cases += [Case("export", "initializer", lambda f=function, v=v: f(TINY, v)) for v in NUMBER_NAMES + VALUES]
    cases += [Case("criteria", "config", lambda v=v: wil.criteria.chance_accuracy(v), True) for v in VALUES]
    cases += [Case("criteria", "dataset", lambda v=v: wil.criteria.dataset_classes(v)) for v in VALUES]
    return cases


def sweep_cases() -> list[Case]:
    run = lambda **options: wil.sweep(TINY, options.pop("grid", {"depth": [1]}), backend=None, **options)  # noqa
    grids = [{}, None, {"depth": []}, {"depth": [math.nan]}, {"depth": [1, 1]}, {"depth": {1: 2}}, {"nope": [1]},
             {1: [1]}, {"depth": range(10**6)}, {"depth": [10**6]}, {"depth": "1"}, {"depth": [1.5]},
             {"depth": [True]}, {"learning_rate": [math.nan]}, {"epochs": [10**9], "width": [10**4]},
             {"compare": [("zeros",)]}, {"sigma_w2": [1.0]}, {"initializer": ["nope"]}, {"depth": [b"1"]},
             {"depth": [[1]]}, {"depth": np.array([[1]])}, {"depth": [{"a": 1}]}, {"width": range(1, 10**5)},
             {"depth": list(range(1, 10_001)), "width": [64, 128]}, {"dataset": ["moons", "nope"]},
             {"depth": [Hostile()]}, {"\u0661": [1]}, {"depth": [1], "depth ": [2]}]
    cases = [Case("sweep", "grid", lambda g=g: run(grid=g), True) for g in grids]
    cases += [Case("sweep", "config", lambda v=v: wil.sweep(v, {"depth": [1]}, backend=None), True) for v in VALUES]
    seeds = VALUES + ["01", [1.7], [True], ["a"], [math.nan], [0, 0], range(10**6), (s for s in [0, 1])]
    cases += [Case("sweep", "seeds", lambda v=v: run(seeds=v), not valid_seeds(v)) for v in seeds]
    for key in ("n_jobs", "backend", "scheduler", "client", "progress"):
        cases += [Case("sweep", key, lambda k=key, v=v: run(**{k: v}), key in ("scheduler", "client")
                       and v is not None) for v in VALUES]
    cases += [Case("sweep", "backend", lambda v=v: run(backend=v), True) for v in ("LOKY", "loky ", "threading")]
    outs = [5, b"x.parquet", "", " ", "\x00", "/proc/x.parquet", "/etc/passwd/x.parquet", "folder", "file/x.parquet",
            "not_parquet.parquet", "x" * 300 + ".parquet", ".", "/", "other_sweep.parquet", "/dev/null"]
    cases += [Case("sweep", "out", lambda o=o: run(out=o), True) for o in outs]
    return cases + [Case("sweep", "out", never_shrinks, check=lambda rows: None if rows == 6 else f"{rows} rows",
                         leaves=("x.parquet",))]


def valid_seeds(seeds) -> bool:
    """Distinct integer seeds (not bools) in a list, tuple, range, array or generator: what a sweep takes."""
    if not isinstance(seeds, (list, tuple, range, np.ndarray)):
        return type(seeds).__name__ == "generator"
    if isinstance(seeds, np.ndarray) and seeds.ndim != 1 or len(seeds) > 100_000:
        return False
    items = list(seeds)
    return bool(items) and len(set(map(repr, items))) == len(items) and len(items) <= 100_000 and all(
        isinstance(s, (int, np.integer)) and not isinstance(s, bool) and 0 <= s < 2**32 for s in items)


def never_shrinks() -> int:
    """A rerun with a smaller grid keeps the rows already in ``out`` (issue 18's data loss)."""
    wil.sweep(TINY, {"depth": [1, 2, 3]}, seeds=[0, 1], backend=None, out="x.parquet")
    wil.sweep(TINY, {"depth": [1]}, seeds=[0], backend=None, out="x.parquet")
    return len(pd.read_parquet("x.parquet"))


def prepare_scratch(folder: str, saved: str) -> None:
    """The files the sweep and load cases name, in the scratch folder."""
    os.makedirs(os.path.join(folder, "folder"), exist_ok=True)
    for name, data in (("file", b"a regular file"), ("not_parquet.parquet", b"PAR1 not really"),
                       ("text.zip", b"hello"), ("empty.zip", b"")):
        with open(os.path.join(folder, name), "wb") as handle:
            handle.write(data)
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        wil.sweep(dataclasses.replace(TINY, epochs=3), {"width": [2]}, backend=None, out="other_sweep.parquet")
    finally:
        os.chdir(cwd)
    for name, replace in tampered_members(saved).items():
        with zipfile.ZipFile(saved) as old, zipfile.ZipFile(os.path.join(folder, name), "w",
                                                              zipfile.ZIP_DEFLATED) as new:
            for member in old.namelist():
                if replace.get(member, "") is not None:
                    new.writestr(member, replace.get(member, old.read(member)))
    bomb = os.path.join(folder, "bomb.zip")
    with open(saved, "rb") as source, open(bomb, "wb") as target:
        data = bytearray(source.read())
        start = 0  # declare 4 GB for history.csv in the central directory and the local header
        while (start := data.find(b"history.csv", start)) >= 0:
            for header, offset, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
                head = start - name_at
                if data[head:head + 4] == header:
                    data[head + offset:head + offset + 4] = struct.pack("<I", 4_000_000_000)
            start += 1
        target.write(bytes(data))


def tampered_members(saved: str) -> dict[str, dict]:
    """Archives made from ``saved`` with one member replaced (None: removed)."""
    with zipfile.ZipFile(saved) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        config = json.loads(archive.read("config.json"))
        status = archive.read("status.csv").decode()
    no_categories = json.loads(json.dumps(manifest))
    for frame in no_categories["frames"].values():  # each a list of columns {"name", "dtype", ...}
        for column in frame:
            column.pop("categories", None)
    cases = {"deep.zip": {"manifest.json": "[" * 50_000 + "]" * 50_000},
             "deep_config.zip": {"config.json": '{"a":' * 10_000 + "1" + "}" * 10_000},
             "no_categories.zip": {"manifest.json": json.dumps(no_categories)},
             "overflow.zip": {"status.csv": status.replace("\n", "\n" + "9" * 30, 2)[:len(status) + 60]},
             "no_manifest.zip": {"manifest.json": None}, "no_config.zip": {"config.json": None},
             "version.zip": {"manifest.json": json.dumps({**manifest, "format_version": 999})},
             "nan_config.zip": {"config.json": json.dumps({**config, "depth": "NaN"})},
             "huge_config.zip": {"config.json": json.dumps({**config, "width": 10**4000})},
             "list_config.zip": {"config.json": "[1, 2]"}, "bom.zip": {"config.json": "\ufeff" + json.dumps(config)}}
    for member in ("manifest.json", "config.json", "history.csv", "layers.csv", "status.csv", "grid.csv"):
        cases[f"garbage_{member}.zip"] = {member: bytes(range(256)) * 8}
    return cases


def io_cases(result) -> list[Case]:
    names = ["absent.zip", "folder", "file", "text.zip", "empty.zip", "bomb.zip", *tampered_members_names()]
    cases = [Case("load/save", n, lambda n=n: wil.load(n), True) for n in names]  # the message names the file
    cases += [Case("load/save", "path", lambda v=v: wil.load(v), True) for v in VALUES]
    cases += [Case("load/save", "path", lambda v=v: result.save(v), not isinstance(v, str) or not v.strip(),
                   leaves=(v,) if isinstance(v, str) else ()) for v in VALUES]  # "1", "nan": file names
    cases += [Case("load/save", "path", lambda v=v: result.save(v), True)
              for v in ["folder", "absent/run.zip", "file/run.zip", "\x00", "/proc/run.zip", "x" * 300]]
    return cases


def tampered_members_names() -> list[str]:
    members = ("manifest.json", "config.json", "history.csv", "layers.csv", "status.csv", "grid.csv")
    return ["deep.zip", "deep_config.zip", "no_categories.zip", "overflow.zip", "no_manifest.zip", "no_config.zip",
            "version.zip", "nan_config.zip", "huge_config.zip", "list_config.zip",
            *(f"garbage_{m}.zip" for m in members)]

"""The architecture: imports run one way, the core never imports Streamlit, heavy imports are lazy."""

import ast
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
CORE = sorted((ROOT / "wil").glob("*.py"))
CHARTS = sorted((ROOT / "wil" / "charts").glob("*.py"))  # a package: its modules import each other
# module -> the wil modules it may import (DESIGN.md: app -> wil -> training -> network... -> registries)
ALLOWED = {
    "checks": set(), "memory": {"checks"},
    "activations": set(), "lsuv": set(), "initializers": {"checks", "activations", "lsuv", "memory"}, "datasets": {"checks", "memory"},
    "threads": set(), "optimizers": set(), "divergence": set(),
    "config": {"activations", "checks", "datasets", "initializers", "optimizers", "memory", "threads"},
    "codegen": {"activations", "codegen_templates", "config", "datasets", "initializers"},
    "codegen_templates": set(),
    "network": {"activations"},
    "diagnostics": {"network"},
    "initialization": {"activations", "initializers", "network"},
    "recording": {"diagnostics", "network"},
    "results": {"config", "datasets", "diagnostics", "recording", "verdicts", "charts", "io"},  # charts, io: lazily
    "verdicts": {"checks", "datasets", "initializers"},
    "io": {"config", "results"},
    "loop": {"divergence", "diagnostics", "initialization", "network", "optimizers", "recording", "threads"},
    "training": {"checks", "config", "datasets", "loop", "memory", "results", "threads"},
    "theory": {"activations", "checks", "config", "datasets", "initializers", "memory", "training"},
    "sweep": {"backends", "config", "datasets", "initializers", "memory", "threads", "training"},
    "backends": {"threads"},
    "__main__": {"charts", "config", "initializers", "sweep", "theory"},
    "charts": set(),  # the package wil/charts: nothing of the core, it reads only DataFrames
    # ... but for Result.plot, the bridge from a Result to the builders (lazily: the family of the activation,
    # the task of the dataset, the theory's prediction for the run's config)
    "charts.accessor": {"activations", "datasets", "results", "theory"},
}


def code_lines(path) -> int:
    """Lines of a module that hold code: not blank, not comments, not docstrings."""
    source = path.read_text()
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                docstrings.update(range(first.lineno, first.end_lineno + 1))
    return sum(1 for number, line in enumerate(source.splitlines(), 1)
               if line.strip() and not line.strip().startswith("#") and number not in docstrings)


def test_no_module_runs_over_about_400_lines():
    """STYLE.md: small modules that each do one thing (lines of code; documentation is not counted)."""
    for path in CORE + CHARTS:
        lines = code_lines(path)
        assert lines <= 400, f"{path.name} has {lines} lines of code"


def wil_imports(path, level=1):
    """The wil modules ``path`` imports; ``level``: the relative level that reaches wil/ (2 from wil/charts/)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == level:
            if node.module:
                names.add(node.module.split(".")[0])
            else:
                names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("wil."):
            names.add(node.module.split(".")[1])
    return names


def all_imports(path):
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_imports_run_one_way():
    for path in CORE:
        if path.stem == "__init__":
            continue
        assert path.stem in ALLOWED, f"new module {path.stem}: add it to the import rules"
        assert wil_imports(path) <= ALLOWED[path.stem], (path.stem, wil_imports(path) - ALLOWED[path.stem])


def test_the_charts_import_only_each_other():
    siblings = {path.stem for path in CHARTS}
    for path in CHARTS:
        allowed = ALLOWED.get(f"charts.{path.stem}", ALLOWED["charts"])
        assert wil_imports(path, level=2) <= allowed, path.name  # from ..x import: the core
        assert {name for name in wil_imports(path) if name not in siblings} <= allowed, path.name


def test_no_core_module_imports_streamlit_or_the_app():
    for path in CORE + CHARTS:
        assert not {"streamlit", "app", "wil_app"} & all_imports(path), path.name


def test_import_wil_is_light():
    code = ("import sys, wil; heavy = [m for m in ('streamlit', 'sklearn', 'pandas', 'altair') if m in sys.modules];"
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_public_api_is_complete():
    import wil
    for name in ("INITIALIZERS", "ACTIVATIONS", "DATASETS", "Config", "initialize", "train", "compare", "Result"):
        assert hasattr(wil, name), name
    required = {"zeros", "constant", "random_normal", "random_uniform", "truncated_normal", "glorot_uniform",
                "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal", "orthogonal", "lsuv"}
    assert required <= set(wil.INITIALIZERS)
    assert {"linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu", "softsign",
            "swish"} <= set(wil.ACTIVATIONS)


def test_the_app_uses_the_public_api_and_the_charts():
    """``app.py`` and its pieces in ``wil_app/`` import ``wil`` and ``wil.charts``, never a core module."""
    for path in [ROOT / "app.py", *sorted((ROOT / "wil_app").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                assert not any(alias.name.startswith("wil.") for alias in node.names), path.name
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == "wil":
                assert {alias.name for alias in node.names} <= {"charts"}, path.name
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                assert not node.module.startswith("wil."), (path.name, node.module)

"""The architecture (docs/ARCHITECTURE.md): layers that import only downward, no cycles, small modules.

Every import statement of ``app.py``, ``wil/`` and ``wil_app/`` is read with ``ast``: the ones inside functions
(lazy imports) and ``importlib.import_module`` calls included. There is no allow-list: a failure names the file,
the line and the rule, and is fixed in the code.
"""

from __future__ import annotations

import ast
import io
import subprocess
import sys
import tokenize
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parents[1]

# THE ONE TABLE: the layers, from the top down. A module may import modules of its own unit (the package it
# belongs to) and of any layer below its own; never a layer above, never a sibling unit of its own layer.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("app",),                                   # app.py, the server's entry
    ("wil_app",),                               # everything Streamlit
    ("wil",),                                   # the public API: wil/__init__.py and wil/__main__.py only
    ("wil.sweep", "wil.export", "wil.charts"),  # what is built on results, side by side
    ("wil.analysis",),                          # Result, criteria, verdicts, theory
    ("wil.engine",),                            # NumPy: the model, the loop, recording, memory
    ("wil.spec",),                              # what describes a run; imports nothing else of wil
)
LAYER_OF = {unit: depth for depth, layer in enumerate(LAYERS) for unit in layer}
# what the app (app.py and wil_app/) may import of wil: the public API and the chart builders
PUBLIC = ("wil", "wil.charts")
MAX_MODULE_LINES = 400  # every line, docstrings and comments included
MAX_FUNCTION_LINES = 60  # lines of code: no blank lines, comments or docstrings


def module_name(path: Path) -> str:
    """``wil/spec/config.py`` -> ``wil.spec.config``; ``wil/charts/__init__.py`` -> ``wil.charts``."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


SOURCES = sorted([ROOT / "app.py", *(ROOT / "wil").rglob("*.py"), *(ROOT / "wil_app").rglob("*.py")])
MODULES = {module_name(path): path for path in SOURCES}
PACKAGES = {module_name(path) for path in SOURCES if path.name == "__init__.py"}


def unit_of(module: str) -> str:
    """The entry of ``LAYERS`` a module belongs to: the longest unit that is the module or contains it."""
    return max((unit for unit in LAYER_OF if module == unit or module.startswith(unit + ".")), key=len)


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


class Import(NamedTuple):
    source: str  # the importing module
    target: str  # the imported module of this repository (the deepest one the statement names)
    line: int
    names: tuple[str, ...]  # for ``from target import a, b``: the names taken from the module

    def where(self) -> str:
        return f"{MODULES[self.source].relative_to(ROOT)}:{self.line}"


def resolve(module: str, level: int, name: str | None) -> str:
    """The absolute name of ``from <level dots><name> import ...`` written in ``module``."""
    if level == 0:
        return name or ""
    package = module.split(".") if module in PACKAGES else module.split(".")[:-1]
    base = package[: len(package) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def is_import_module_call(node: ast.AST) -> bool:
    """``importlib.import_module(...)``, ``import_module(...)`` or ``__import__(...)``."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name in ("import_module", "__import__")


def ours(name: str) -> bool:
    return name in MODULES or name.split(".")[0] in ("wil", "wil_app", "app")


def imports_of(module: str) -> list[Import]:
    """Every import of a module of this repository that ``module`` makes, wherever it is written."""
    tree = ast.parse(MODULES[module].read_text(), filename=str(MODULES[module]))
    found: list[Import] = []
    dynamic = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(module, alias.name, node.lineno, ()) for alias in node.names if ours(alias.name)]
        elif isinstance(node, ast.ImportFrom):
            base = resolve(module, node.level, node.module)
            if not ours(base):
                continue
            taken = tuple(alias.name for alias in node.names if f"{base}.{alias.name}" not in MODULES)
            if taken:
                found.append(Import(module, base, node.lineno, taken))
            # ``from package import submodule`` imports the submodule
            found += [Import(module, f"{base}.{alias.name}", node.lineno, ())
                      for alias in node.names if f"{base}.{alias.name}" in MODULES]
        elif is_import_module_call(node) and node.args:
            argument = node.args[0]
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                package = next((keyword.value.value for keyword in node.keywords if keyword.arg == "package"
                                and isinstance(keyword.value, ast.Constant)), module)
                level = len(argument.value) - len(argument.value.lstrip("."))
                target = resolve(package, level, argument.value.lstrip(".") or None) if level else argument.value
                if ours(target):
                    found.append(Import(module, target, node.lineno, ()))
            else:
                dynamic = True
    if dynamic:  # a name computed at run time: every string of the module that names one of our modules counts
        found += [Import(module, node.value, node.lineno, ()) for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in MODULES]
    return [edge for edge in found if edge.target != module]


EDGES = [edge for module in MODULES for edge in imports_of(module)]


def layering_violation(edge: Import) -> str | None:
    """Why an import breaks the layers, or None."""
    source, target = unit_of(edge.source), unit_of(edge.target) if edge.target in MODULES else None
    if target is None:
        return f"imports {edge.target!r}, which is no module of this repository"
    if source == target:
        return None
    if LAYER_OF[target] < LAYER_OF[source]:
        return f"upward import: {edge.source} ({source}) imports {edge.target} ({target}), a layer above"
    if LAYER_OF[target] == LAYER_OF[source]:
        return f"sibling import: {edge.source} ({source}) imports {edge.target} ({target}), of the same layer"
    return None


def violations(rule) -> list[str]:
    return sorted(f"{edge.where()}: {message}" for edge in EDGES if (message := rule(edge)))


def fail_on(found: list[str], rule: str):
    assert not found, f"{rule}: {len(found)} violation(s)\n" + "\n".join(found)


def test_every_module_of_wil_lives_in_a_layer_package():
    """``wil/`` holds only ``__init__.py`` and ``__main__.py`` at its top; everything else is in a layer."""
    stray = [f"{path.relative_to(ROOT)}:1: module outside the layers: move it into one of {sorted(LAYER_OF)}"
             for name, path in MODULES.items() if unit_of(name) == "wil" and name not in ("wil", "wil.__main__")]
    fail_on(stray, "a module outside the layer table")


def test_imports_only_go_down_and_siblings_do_not_import_each_other():
    fail_on(violations(layering_violation), "the layers (" + " -> ".join("/".join(layer) for layer in LAYERS) + ")")


def test_the_app_imports_only_the_public_api():
    """``app.py`` and ``wil_app/`` import ``wil`` (names of ``wil/__init__.py``) and ``wil.charts``, nothing deeper."""
    def rule(edge: Import) -> str | None:
        deep = unit_of(edge.target).startswith("wil") and not unit_of(edge.target).startswith("wil_app")
        if unit_of(edge.source) in ("app", "wil_app") and deep and edge.target not in PUBLIC:
            return f"the app imports {edge.target}: only {' and '.join(PUBLIC)} (re-export it in wil/__init__.py)"
        return None
    fail_on(violations(rule), "the app uses the public API")


def test_no_private_name_is_imported_from_another_module():
    """A name ``_x`` stays in its module (a private module ``_m`` stays in its package): shared means public."""
    def rule(edge: Import) -> str | None:
        private = [name for name in edge.names if is_private(name)]
        if private:
            return f"imports the private name(s) {', '.join(private)} from {edge.target}: make them public"
        parts = edge.target.split(".")
        for depth, part in enumerate(parts):
            package = ".".join(parts[:depth])
            if is_private(part) and not (edge.source == package or edge.source.startswith(package + ".")):
                return f"imports the private module {edge.target} from outside its package {package}"
        return None
    fail_on(violations(rule), "no private name across modules")


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of more than one module (iterative: no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def test_no_import_cycles_between_modules():
    """Lazy imports included: a cycle hidden inside a function is still a cycle of the design."""
    graph: dict[str, set[str]] = {module: set() for module in MODULES}
    for edge in EDGES:
        if edge.target in MODULES:
            graph[edge.source].add(edge.target)
    found = []
    for component in strongly_connected(graph):
        members = set(component)
        lines = [f"  {edge.where()}: {edge.source} imports {edge.target}" for edge in EDGES
                 if edge.source in members and edge.target in members]
        found.append(f"cycle between {', '.join(component)}:\n" + "\n".join(sorted(set(lines))))
    fail_on(found, "no import cycles")


def code_lines(source: str) -> set[int]:
    """The numbers of the lines that hold code: not blank, not only a comment, not a docstring."""
    lines: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                              tokenize.ENDMARKER):
            lines.update(range(token.start[0], token.end[0] + 1))
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(
                    first.value.value, str):
                lines.difference_update(range(first.lineno, first.end_lineno + 1))
    return lines


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(ROOT)))
def test_modules_and_functions_are_small(path):
    """No module over 400 lines (every line counts); no function over 60 lines of code (nested ones included)."""
    source = path.read_text()
    where = path.relative_to(ROOT)
    found = []
    if len(source.splitlines()) > MAX_MODULE_LINES:
        found.append(f"{where}:1: module of {len(source.splitlines())} lines, over {MAX_MODULE_LINES}: split it")
    code = code_lines(source)
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            start = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])
            length = len(code & set(range(start, node.end_lineno + 1)))
            if length > MAX_FUNCTION_LINES:
                found.append(f"{where}:{node.lineno}: function {node.name} has {length} lines of code, "
                             f"over {MAX_FUNCTION_LINES}: split it")
    fail_on(found, "small modules and functions")


def test_the_library_never_imports_streamlit():
    """wil/ runs in a notebook or a sweep worker: no Streamlit there (and no app, which the layers forbid)."""
    found = []
    for module, path in MODULES.items():
        if unit_of(module) in ("app", "wil_app"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
            found += [f"{path.relative_to(ROOT)}:{node.lineno}: the library imports {name}"
                      for name in names if name.split(".")[0] == "streamlit"]
    fail_on(found, "no Streamlit in wil/")


def test_import_wil_is_light():
    """``import wil`` loads neither Streamlit nor the heavy libraries: they load on first use."""
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


def test_the_checker_sees_lazy_relative_and_dynamic_imports():
    """The reader above finds what it must: a guard that it does not silently pass."""
    assert resolve("wil.charts.accessor", 1, "_common") == "wil.charts._common"
    assert resolve("wil.charts", 1, "training") == "wil.charts.training"
    assert resolve("wil.charts.accessor", 2, "analysis.result") == "wil.analysis.result"
    assert unit_of("wil.__main__") == "wil" and unit_of("wil.spec.config") == "wil.spec"
    assert unit_of("wil_app.tabs") == "wil_app" and unit_of("app") == "app"
    upward = Import("wil.spec.config", "wil.engine.model", 1, ())
    assert layering_violation(upward).startswith("upward import")
    if "wil.sweep.run" in MODULES and "wil.export.io" in MODULES:
        assert layering_violation(Import("wil.sweep.run", "wil.export.io", 1, ())).startswith("sibling import")
    # the charts package loads its builders with importlib from a table of names: those count as imports
    assert any(edge.source == "wil.charts" and edge.target.startswith("wil.charts.") for edge in EDGES)
    # an import inside a function counts
    assert any(edge.source == "wil.__main__" and edge.target == "wil.sweep.run" for edge in EDGES)
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]

"""The layers, read off the source: imports only point down
(crosscheck → references, crosscheck → manual), none of ours hides inside a
function, the module graph has no cycle, and importing ``references`` or
``manual`` loads no framework."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = ("manual", "references", "crosscheck")
ALLOWED = {"manual": {"manual"}, "references": {"references"}, "crosscheck": set(OURS)}


def module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for pkg in OURS for p in sorted((ROOT / pkg).rglob("*.py"))}


def imported(name, path):
    """``[(module, inside_a_function)]`` for every import statement of ours in a module."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            targets = []
            if isinstance(child, ast.Import):
                targets = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join(anchor + ([child.module] if child.module else []))
                # "from pkg import mod" names a module when mod is a file of ours
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in child.names]
            found.extend((t, inner) for t in targets if t.split(".")[0] in OURS)
            visit(child, inner)

    visit(ast.parse(path.read_text()), False)
    return found


GRAPH = {name: imported(name, path) for name, path in MODULES.items()}


def test_the_source_was_read():
    assert {"manual.backprop", "manual.layers.linear", "references.torch_ref", "crosscheck.cli"} <= set(
        MODULES
    )
    assert ("manual.losses", False) in GRAPH["manual.mlp"]


@pytest.mark.parametrize("name", list(MODULES))
def test_imports_only_point_down(name):
    package = name.split(".")[0]
    wrong = sorted({t for t, _ in GRAPH[name] if t.split(".")[0] not in ALLOWED[package]})
    assert not wrong, f"{name} imports {wrong}; {package} may import only {sorted(ALLOWED[package])}"


@pytest.mark.parametrize("name", list(MODULES))
def test_no_import_of_ours_is_tucked_inside_a_function(name):
    tucked = sorted({t for t, inside in GRAPH[name] if inside})
    assert not tucked, f"{name} imports {tucked} inside a function"


def test_the_module_graph_has_no_cycle():
    edges = {name: {t for t, _ in targets if t in MODULES and t != name} for name, targets in GRAPH.items()}
    state = {}

    def walk(node, path):
        state[node] = "open"
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                cycle = path[path.index(nxt) :] + [nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                walk(nxt, path + [nxt])
        state[node] = "done"

    for name in sorted(edges):
        if name not in state:
            walk(name, [name])


@pytest.mark.parametrize("package", ["manual", "references"])
def test_importing_the_engine_or_the_references_loads_no_framework(package):
    others = ("torch", "jax", "crosscheck", "references", "manual")
    code = (
        f"import sys, {package}; print(sorted(m for m in {others} if m in sys.modules and m != {package!r}))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"

"""No import cycles between nooverfit's modules.

Every module under ``src/nooverfit`` is parsed (not imported); an arrow goes from a module
to each nooverfit module it imports, at the top or inside a function (an import moved into
a function, or under ``if TYPE_CHECKING:``, still ties the two modules together; it only
hides the cycle from Python). A ``from package import name`` points at ``package.name``
where that is a module, else at the package. Importing ``a.b`` also runs ``a/__init__``,
but that implied arrow is left out: every module would otherwise reach the root package,
which imports nearly everything.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).parents[1] / "src"
ROOT = SRC / "nooverfit"

# Cycles that exist today and are being broken elsewhere, each with who is breaking it.
# Add nothing here without a reason and an owner; remove an entry once it is broken.
KNOWN: set[frozenset[str]] = set()  # none since issue 15 split diagnose.py


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _imports(name: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from .x import y
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                yield sub if sub in known else target


def import_graph() -> dict[str, set[str]]:
    """Each nooverfit module and the nooverfit modules it imports (itself excluded)."""
    known = modules()
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        targets = set()
        for imported in _imports(name, path, known):
            # ``import nooverfit.a.b`` or an attribute path: the longest known prefix
            parts = imported.split(".")
            while parts and ".".join(parts) not in known:
                parts.pop()
            if parts and ".".join(parts) != name:
                targets.add(".".join(parts))
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each given as
    one cycle through its members so the report names the arrows to cut."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(_cycle_through(sorted(component), graph))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _cycle_through(component: list[str], graph: dict[str, set[str]]) -> list[str]:
    """A shortest path from the component's first module back to itself (breadth first)."""
    members = set(component)
    start = component[0]
    parent: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & members):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return [start, *reversed(path[:-1]), start] if v != start else [start] * 2
                if w not in parent:
                    parent[w] = v
                    nxt.append(w)
        frontier = nxt
    return component  # unreachable for a strongly connected component


def test_the_graph_sees_function_level_and_relative_imports(tmp_path, monkeypatch):
    pkg = tmp_path / "nooverfit"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from nooverfit.sub import b\n")
    (pkg / "sub" / "__init__.py").write_text("from .b import g\n")
    (pkg / "sub" / "b.py").write_text("import nooverfit.a as a\n")
    monkeypatch.setattr(sys.modules[__name__], "SRC", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "ROOT", pkg)
    graph = import_graph()
    assert graph == {
        "nooverfit": set(),
        "nooverfit.a": {"nooverfit.sub.b"},
        "nooverfit.sub": {"nooverfit.sub.b"},
        "nooverfit.sub.b": {"nooverfit.a"},
    }
    assert cycles(graph) == [["nooverfit.a", "nooverfit.sub.b", "nooverfit.a"]]


def test_no_import_cycles():
    graph = import_graph()
    assert len(graph) > 50  # the walk found the package
    found = [c for c in cycles(graph) if frozenset(c) not in KNOWN]
    assert not found, "import cycles: " + "; ".join(" -> ".join(c) for c in found)


def test_every_known_cycle_still_exists():
    # once a listed cycle is broken its entry must go, so that it cannot come back unseen
    found = {frozenset(c) for c in cycles(import_graph())}
    gone = [sorted(k) for k in KNOWN if k not in found]
    assert not gone, f"no longer a cycle, remove from KNOWN: {gone}"

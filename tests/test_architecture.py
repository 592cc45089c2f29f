"""The shape the code keeps: no circle between files, a thin window, short functions where the
decisions are (engine, session). The import rules themselves are import-linter contracts in
pyproject.toml (run by ``make test``)."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

PACKAGE = Path(__file__).resolve().parents[1] / "deeptrance_gui"


def _cycles(graph: grimp.ImportGraph, modules: set[str]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), import edges within ``modules``."""
    edges = {m: graph.find_modules_directly_imported_by(m) & modules for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for module in sorted(modules):
        if module not in index:
            visit(module)
    return groups


def test_no_circle_between_files() -> None:
    graph = grimp.build_graph("deeptrance_gui")
    # Packages' __init__ files re-export their modules: an edge from a module to its own
    # package is not a circle between files.
    modules = {m for m in graph.modules if m.startswith("deeptrance_gui.") and not graph.find_children(m)}
    assert _cycles(graph, modules) == []


def test_the_check_finds_a_circle() -> None:
    graph = grimp.ImportGraph()
    for module in ("a", "b", "c"):
        graph.add_module(module)
    graph.add_import(importer="a", imported="b")
    graph.add_import(importer="b", imported="a")
    graph.add_import(importer="b", imported="c")
    assert _cycles(graph, {"a", "b", "c"}) == [["a", "b"]]


def test_the_window_is_thin() -> None:
    lengths = {p.name: len(p.read_text().splitlines()) for p in (PACKAGE / "ui").glob("*.py")}
    assert lengths["main_window.py"] <= 400
    assert {name: n for name, n in lengths.items() if n > 400} == {}


def _long_functions(path: Path, limit: int) -> dict[str, int]:
    tree = ast.parse(path.read_text())
    return {
        node.name: node.end_lineno - node.lineno + 1
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > limit
    }


def test_no_long_functions_where_the_decisions_are() -> None:
    for path in (PACKAGE / "core" / "dream" / "engine.py", *(PACKAGE / "core" / "session").glob("*.py")):
        assert _long_functions(path, 60) == {}, path.name

"""No import circle among the modules of ``leaderboard/measure/`` (lazy imports included).

A circle (``campaign_v2`` taking private names from ``campaign``, which imported it back) means
two modules that cannot be read, changed or tested apart. The graph is read from the source,
so an import inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

MEASURE = Path(__file__).resolve().parents[1] / "leaderboard" / "measure"
PREFIX = "leaderboard.measure"


def module_of(path: Path) -> str:
    parts = list(path.relative_to(MEASURE).with_suffix("").parts)
    return ".".join([PREFIX, *(parts[:-1] if parts[-1] == "__init__" else parts)])


def measure_graph() -> dict[str, set[str]]:
    """module -> the ``leaderboard.measure`` modules it imports (``from .. import x`` resolved)."""
    modules = {module_of(p): p for p in MEASURE.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            for target in targets:
                # the longest known module the target names: `measure.windows.Window` -> windows
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name and target != PREFIX:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle, each as the path that closes it (depth-first, one per back edge)."""
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                found.append(path[path.index(target):] + [target])
            elif target not in state:
                visit(target)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_lazy_and_package_imports():
    graph = measure_graph()
    # campaign imports its workers at the top; the v1 worker imports the runner inside a function
    assert f"{PREFIX}.campaign_workers" in graph[f"{PREFIX}.campaign"]
    assert f"{PREFIX}.runner" in graph[f"{PREFIX}.worker"]


def test_no_import_circle_in_leaderboard_measure():
    found = cycles(measure_graph())
    assert not found, "import circles in leaderboard/measure:\n" + "\n".join(
        " -> ".join(c.removeprefix(PREFIX + ".") for c in cycle) for cycle in found)

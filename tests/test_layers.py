"""No import cycles between the project's modules, hidden or not: an import inside a function or
under ``TYPE_CHECKING`` counts like one at the top. A cycle means neither module can be read,
tested or replaced without the other."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("assistant", "ingest")


def _modules(root: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            name = ".".join(path.relative_to(root).with_suffix("").parts)
            out[name.removesuffix(".__init__")] = path
    return out


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the project's modules it imports (anywhere in its body)."""
    modules = _modules(root)
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            graph[module] |= {t for t in targets if t in modules and t != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_project_has_no_import_cycles() -> None:
    assert cycles(import_graph(ROOT)) == []


def test_a_cycle_hidden_in_a_function_is_found(tmp_path: Path) -> None:
    (tmp_path / "assistant").mkdir()
    (tmp_path / "ingest").mkdir()
    (tmp_path / "assistant" / "a.py").write_text("from assistant.b import x\n")
    (tmp_path / "assistant" / "b.py").write_text("def f():\n    from assistant import a\n")
    (tmp_path / "assistant" / "c.py").write_text("from typing import TYPE_CHECKING\n")
    (tmp_path / "ingest" / "d.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from assistant.c import y\n"
    )
    (tmp_path / "assistant" / "__init__.py").write_text("")
    graph = import_graph(tmp_path)
    assert graph["ingest.d"] == {"assistant.c"}
    assert cycles(graph) == [["assistant.a", "assistant.b"]]

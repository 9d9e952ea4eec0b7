"""No import cycles between the project's modules, hidden or not: an import inside a function or
under ``TYPE_CHECKING`` counts like one at the top. A cycle means neither module can be read,
tested or replaced without the other."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "ingest", "assistant")  # each imports only the ones before it


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


def upward_packages(graph: dict[str, set[str]]) -> list[str]:
    """Imports of a package that comes later in ``PACKAGES`` (``core`` imports neither of the
    others; ``ingest`` only ``core``)."""
    rank = {p: n for n, p in enumerate(PACKAGES)}
    return sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        for target in targets
        if rank[target.split(".")[0]] > rank[module.split(".")[0]]
    )


def test_core_stands_alone_and_ingest_stands_on_core_only() -> None:
    assert upward_packages(import_graph(ROOT)) == []


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
    (tmp_path / "core").mkdir()
    graph = import_graph(tmp_path)
    assert graph["ingest.d"] == {"assistant.c"}
    assert cycles(graph) == [["assistant.a", "assistant.b"]]
    assert upward_packages(graph) == ["ingest.d imports assistant.c"]


# -- the layers the README describes ("How the code is laid out") -------------------------------

_TICKED = re.compile(r"`([^`]+)`")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def readme_layout(readme: str) -> tuple[list[str], str]:
    """The section's bullets (one per layer, in order) and the paragraph after them."""
    section = readme.split("## How the code is laid out", 1)[1].split("\n## ", 1)[0]
    *layers, last = re.split(r"\n- ", section.strip())[1:]
    last, _, after = last.partition("\n\n")
    return [" ".join(b.split()) for b in (*layers, last)], " ".join(after.split())


def _paths(text: str) -> list[str]:
    return [t for t in _TICKED.findall(text) if "/" in t]


def _names(text: str) -> list[str]:
    return [t for t in _TICKED.findall(text) if _IDENTIFIER.fullmatch(t)]


def _defines(path: Path, name: str) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name == name:
            return True
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return True
    return False


def _layer_of(path: str, layers: list[list[str]]) -> int | None:
    """The layer of the most specific path in the README that holds ``path``."""
    best: tuple[int, int] | None = None
    for n, named in enumerate(layers):
        for p in named:
            holds = path == p or (p.endswith("/") and path.startswith(p))
            if holds and (best is None or len(p) > best[1]):
                best = (n, len(p))
    return best[0] if best else None


def test_the_readme_layout_names_what_exists_and_the_imports_follow_it() -> None:
    bullets, additions = readme_layout((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(bullets) >= 6, bullets
    sentences = [*bullets, *re.split(r"(?<=\.) (?=[A-Z`])", additions)]
    for sentence in sentences:
        paths = _paths(sentence)
        for p in paths:
            assert (ROOT / p).exists(), f"README names {p}, which does not exist"
        files = [ROOT / p for p in paths if p.endswith(".py")]
        for name in _names(sentence):
            assert any(_defines(f, name) for f in files), f"{name} is not in {paths}: {sentence}"
    layers = [_paths(b) for b in bullets]
    graph = import_graph(ROOT)
    modules = _modules(ROOT)
    upward = []
    for module, targets in graph.items():
        here = _layer_of(modules[module].relative_to(ROOT).as_posix(), layers)
        for target in targets:
            there = _layer_of(modules[target].relative_to(ROOT).as_posix(), layers)
            if here is not None and there is not None and there > here:
                upward.append(f"{module} (layer {here + 1}) imports {target} (layer {there + 1})")
    assert upward == [], "\n".join(upward)


def test_an_upward_import_is_found(tmp_path: Path) -> None:
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "assistant" / "low.py").write_text("from ingest.high import x\n")
    (tmp_path / "ingest" / "high.py").write_text("x = 1\n")
    layers = [["assistant/low.py"], ["ingest/"]]
    graph = import_graph(tmp_path)
    assert graph["assistant.low"] == {"ingest.high"}
    assert _layer_of("ingest/high.py", layers) == 1 and _layer_of("assistant/low.py", layers) == 0

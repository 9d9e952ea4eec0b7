"""Every package the code imports is declared in pyproject.toml: the application's in
``dependencies``, the scripts' there or in the ``dev`` extra. An undeclared import works only as
long as some other package happens to pull it in."""

from __future__ import annotations

import ast
import importlib.metadata as md
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OWN = {"core", "assistant", "ingest", "benchmarks", "scripts", "tests"}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared(requirements: list[str]) -> set[str]:
    return {_canonical(re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0]) for r in requirements}


def _imported(folder: Path, skip: Path | None = None) -> set[str]:
    """Top-level modules imported anywhere under ``folder`` but ``skip`` (inside functions too)."""
    found: set[str] = set()
    for path in folder.rglob("*.py"):
        if skip is not None and path.is_relative_to(skip):
            continue
        here: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                here.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                here.add(node.module.split(".")[0])
        if not (path.parent / "__init__.py").exists():  # a script importing its sibling
            here -= {p.stem for p in path.parent.glob("*.py")}
        found |= here
    return {m for m in found if m not in sys.stdlib_module_names and m not in OWN}


def _undeclared(folder: Path, declared: set[str], skip: Path | None = None) -> dict[str, list[str]]:
    dists = md.packages_distributions()
    out: dict[str, list[str]] = {}
    for module in sorted(_imported(folder, skip)):
        names = [_canonical(d) for d in dists.get(module, [module])]
        if not any(n in declared for n in names):
            out[module] = names
    return out


def test_every_imported_package_is_declared() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = _declared(project["dependencies"])
    extras = project["optional-dependencies"]
    evaluation = runtime | _declared(extras["eval"])
    dev = evaluation | _declared(extras["dev"])
    # the eval's packages (the 'eval' extra) only in the evaluation package
    assessing = ROOT / "assistant" / "evaluation"
    assert _undeclared(ROOT / "assistant", runtime, skip=assessing) == {}
    assert _undeclared(assessing, evaluation) == {}
    assert _undeclared(ROOT / "ingest", runtime) == {}
    assert _undeclared(ROOT / "core", runtime) == {}
    assert _undeclared(ROOT / "scripts", dev) == {}
    assert _undeclared(ROOT / "benchmarks", dev) == {}


def test_the_check_sees_an_undeclared_import(tmp_path: Path) -> None:
    (tmp_path / "mod.py").write_text("import yaml\n\ndef f():\n    from fastapi import FastAPI\n")
    assert set(_undeclared(tmp_path, {"pyyaml"})) == {"fastapi"}
    assert _undeclared(tmp_path, {"pyyaml", "fastapi"}) == {}


def test_the_server_and_the_cli_do_not_import_the_eval_packages() -> None:
    code = (
        "import sys, assistant.cli, assistant.service, assistant.ui.app, assistant.ui.api\n"
        "print(sorted(m for m in ('ragas', 'rapidfuzz', 'matplotlib', 'langchain_community',"
        " 'rouge_score') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_the_eval_without_its_packages_says_which_extra(monkeypatch) -> None:
    from assistant.commands import eval as eval_command
    from core.errors import ConfigError

    monkeypatch.setattr(eval_command, "find_spec", lambda name: None if name == "ragas" else 1)
    with pytest.raises(ConfigError, match=r"missing: ragas\).*hipaa-assistant\[eval\]"):
        eval_command.require_eval_packages()

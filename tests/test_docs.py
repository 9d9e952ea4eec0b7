"""The README stays a front door (short), every relative link in it and the guides leads to a
file that exists, and the guides build as a site."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README_MAX_WORDS = 1500
# [text](target) or ![alt](target); alt text may hold brackets ("[1] is open")
_LINK = re.compile(r"\]\(([^)\s]+)\)|\bsrc=\"([^\"]+)\"")


def _pages() -> list[Path]:
    return [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]


def broken_links(page: Path) -> list[str]:
    out = []
    for match in _LINK.finditer(page.read_text(encoding="utf-8")):
        link = match.group(1) or match.group(2)
        target = link.split("#", 1)[0]
        if not target or re.match(r"^(?:https?|mailto):", target):
            continue
        if not (page.parent / target).exists():
            out.append(link)
    return out


def test_the_readme_is_read_in_five_minutes() -> None:
    words = len((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert words <= README_MAX_WORDS, f"README.md has {words} words; detail goes to docs/"


def test_every_relative_link_leads_to_a_file() -> None:
    assert {p.name: bad for p in _pages() if (bad := broken_links(p))} == {}


def test_a_broken_link_is_found(tmp_path: Path) -> None:
    (tmp_path / "here.md").write_text("x")
    page = tmp_path / "page.md"
    page.write_text(
        '[ok](here.md) ![alt [1]](gone.png) [web](https://example.org) [a](#top) <img src="x.png">'
    )
    assert broken_links(page) == ["gone.png", "x.png"]


def test_the_guides_build_as_a_site_without_a_warning(tmp_path: Path) -> None:
    """`make docs`: MkDocs in strict mode, so a broken link or anchor between guides fails."""
    out = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert (tmp_path / "site" / "staff-guide" / "index.html").exists()


def test_the_configuration_reference_is_generated_from_the_settings() -> None:
    """docs/configuration.md is what scripts/settings_reference.py writes from the settings'
    own descriptions, so it cannot drift from the code."""
    out = subprocess.run(
        [sys.executable, "scripts/settings_reference.py", "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr[-2000:]


_SHELL = {"", "sh", "bash", "shell", "console"}
_SPAN = re.compile(r"`((?:\S*/)?hipaa-assistant [^`]+)`")
_STOP = {"|", "||", "&&", ";", ">", ">>", "<", "&"}


def shell_blocks(text: str) -> list[str]:
    """The fenced code blocks in a shell language (or none), each as its text."""
    blocks: list[str] = []
    language: str | None = None  # inside a block: its language
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith("```"):
            if language is None:
                language, lines = line[3:].strip(), []
            else:
                if language in _SHELL:
                    blocks.append("\n".join(lines) + "\n")
                language = None
        elif language is not None:
            lines.append(line)
    return blocks


def block_commands(text: str) -> list[str]:
    """The hipaa-assistant command lines of a page's shell blocks (continued lines joined):
    the examples a reader copies and runs."""
    found: list[str] = []
    for block in shell_blocks(text):
        for line in block.replace("\\\n", " ").splitlines():
            if "hipaa-assistant " in line and "[-" not in line:  # not usage syntax
                found.append(line.strip())
    return found


def shown_commands(text: str) -> list[str]:
    """The hipaa-assistant command lines a page shows: in its code blocks and in inline code,
    leaving out usage syntax ("[--k N]") and table rows."""
    found = block_commands(text)
    for line in text.splitlines():
        if line.lstrip().startswith("|"):
            continue
        found += [m for m in _SPAN.findall(line) if "[" not in m and "<" not in m]
    return found


def cli_arguments(line: str) -> list[str]:
    """The arguments after ``hipaa-assistant`` in one shell line (environment assignments,
    pipes, redirections and comments left out)."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    tokens = list(lexer)
    start = next(i for i, t in enumerate(tokens) if t.endswith("hipaa-assistant"))
    args: list[str] = []
    for token in tokens[start + 1 :]:
        if token in _STOP:
            break
        args.append(token)
    return args


def test_every_command_the_docs_show_is_one_the_cli_takes() -> None:
    """Each hipaa-assistant command line in the README and the guides parses with the real
    command line: no subcommand or option the docs name is missing or misspelled."""
    from assistant.cli import _parser

    parser = _parser()
    checked, wrong = 0, []
    for page in _pages():
        for line in shown_commands(page.read_text(encoding="utf-8")):
            try:
                parser.parse_args(cli_arguments(line))
            except SystemExit:
                wrong.append(f"{page.name}: {line}")
            checked += 1
    assert not wrong, wrong
    assert checked >= 20


def test_a_command_the_cli_does_not_take_is_found() -> None:
    page = "```sh\nX=1 .venv/bin/hipaa-assistant ingest --no-progress | tail  # note\n```\n"
    assert [cli_arguments(c) for c in shown_commands(page)] == [["ingest", "--no-progress"]]
    from assistant.cli import _parser

    with pytest.raises(SystemExit):
        _parser().parse_args(cli_arguments("hipaa-assistant ingest --no-such-flag"))

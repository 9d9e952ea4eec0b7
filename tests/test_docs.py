"""The README stays a front door (short), every relative link in it and the guides leads to a
file that exists, and the guides build as a site."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

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
    assert {p.name: broken_links(p) for p in _pages() if broken_links(p)} == {}


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

"""The organisation's documents as the privacy office manages them while the server runs.

A new or revised policy or BAA is checked as ingest will read it (a bad file is refused with its
one-line reason and nothing is written), then placed in the first corpus folder (``policies/`` or
``baas/``) beside a sidecar naming its type and access groups. A document it replaces, or one
that is retired, moves to ``.retired/`` in that folder (which ingest never reads), stamped with
the time, so nothing is lost. Indexing is the ordinary incremental ingest.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from core.errors import ConfigError, DocumentError
from core.groups import parse_groups
from core.settings import Settings
from ingest.loaders import SourceFile, load

SUFFIXES = (".pdf", ".docx", ".md")
FOLDERS = {"policy": "policies", "baa": "baas"}
RETIRED = ".retired"
_UNSAFE = re.compile(r"[^A-Za-z0-9 ._-]+")


@dataclass(frozen=True)
class Placed:
    path: Path
    doc_id: str
    title: str
    replaced: Path | None  # where the previous version went


def safe_name(filename: str) -> str:
    """The file name as stored: its last path part, keeping letters, digits, spaces, '.', '-'
    and '_' (a leading policy number, "SHP-HR-03 Training.docx", still names the document)."""
    name = " ".join(_UNSAFE.sub("", Path(filename.replace("\\", "/")).name).split()).strip("-. ")
    stem, suffix = os.path.splitext(name)
    if suffix.lower() not in SUFFIXES:
        raise DocumentError(
            f"'{suffix or filename}' files cannot be added (use PDF, Word .docx or Markdown)"
        )
    if not stem:
        raise DocumentError("the file needs a name")
    return stem + suffix.lower()


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".meta.yaml")


def _write(path: Path, data: bytes) -> None:
    """Whole or not at all: a reader (an ingest) never sees half a file."""
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class Library:
    def __init__(self, settings: Settings) -> None:
        if not settings.paths.corpus_dirs:
            raise ConfigError("no corpus folder is configured (paths.corpus_dirs)")
        self.settings = settings
        self.root = settings.paths.corpus_dirs[0]

    def place(self, filename: str, data: bytes, doc_type: str, groups: Sequence[str]) -> Placed:
        """Checks the file and puts it where ingest will find it (replacing a file of the same
        name and type). Raises ``DocumentError`` with the reason when it cannot be indexed."""
        if doc_type not in FOLDERS:
            raise DocumentError(f"documents added here are policies or BAAs, not '{doc_type}'")
        name = safe_name(filename)
        limit = self.settings.ingest.max_file_mb << 20
        if not data:
            raise DocumentError("empty file (0 bytes)")
        if len(data) > limit:
            raise DocumentError(
                f"file is too large: {len(data) / (1 << 20):.0f} MB (limit {limit >> 20} MB)"
            )
        try:
            access = list(parse_groups(list(groups)))
        except ConfigError as exc:
            raise DocumentError(str(exc)) from exc
        meta = yaml.safe_dump({"type": doc_type, "access_groups": access}, sort_keys=False)
        target = self.root / FOLDERS[doc_type] / name
        with tempfile.TemporaryDirectory() as tmp:
            trial = Path(tmp) / FOLDERS[doc_type] / name
            trial.parent.mkdir()
            trial.write_bytes(data)
            _sidecar(trial).write_text(meta, encoding="utf-8")
            loaded = load(SourceFile(trial, "corpus"), data, self.settings)
        replaced = self._retire_file(target) if target.exists() else None
        target.parent.mkdir(parents=True, exist_ok=True)
        _write(_sidecar(target), meta.encode())
        _write(target, data)
        return Placed(target, loaded.document.doc_id, loaded.document.title, replaced)

    def retire(self, path: Path) -> Path:
        """Moves an indexed corpus file (and its sidecar) out of the corpus; returns where."""
        path = path.resolve()
        roots = [d.resolve() for d in self.settings.paths.corpus_dirs]
        if not any(path.is_relative_to(r) for r in roots) or not path.is_file():
            raise DocumentError("only the organisation's own documents can be retired")
        return self._retire_file(path)

    def _retire_file(self, path: Path) -> Path:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        folder = self.root / RETIRED
        folder.mkdir(parents=True, exist_ok=True)
        moved = folder / f"{stamp}-{path.name}"
        os.replace(path, moved)
        if _sidecar(path).exists():
            os.replace(_sidecar(path), _sidecar(moved))
        return moved

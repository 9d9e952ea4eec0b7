"""Questions a privacy officer confirms a passage answers: the organisation's question index
growing from use.

A confirmed pair (a staff question, the locator of the passage that answers it) is written to
``<first corpus folder>/<retrieval.corpus_questions>/confirmed.yaml`` in the question-index format
(``- locator: ...  asks: [...]``), so the next start and the next ingest read it like any
question file; the running process adds it to its question index at once (no re-ingest). Only
the PHI guard's redacted text is ever written."""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from assistant.retrieval.topics import load_topic_file
from core.errors import ConfigError
from core.settings import Settings

CONFIRMED_FILE = "confirmed.yaml"
_HEADER = (
    "# Questions privacy officers confirmed a passage answers (hipaa-assistant questions add, the\n"
    "# chat's citation panel, POST /api/questions). Redacted by the PHI guard; edit freely.\n"
)


@dataclass(frozen=True)
class Confirmation:
    question: str  # redacted
    locator: str
    chunk_id: str
    added: bool  # False: the file (or shared database) already held it for this locator
    path: Path | None  # the question file; None where the index is shared (the database)


def confirmed_file(settings: Settings) -> Path:
    folder = settings.retrieval.corpus_questions
    if not folder:
        raise ConfigError(
            "the organisation's question files are switched off (retrieval.corpus_questions)"
        )
    if not settings.paths.corpus_dirs:
        raise ConfigError("no corpus folder is configured (paths.corpus_dirs)")
    return settings.paths.corpus_dirs[0] / folder / CONFIRMED_FILE


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def append_question(path: Path, locator: str, question: str) -> bool:
    """Add ``question`` under ``locator`` (a new entry if the file has none for it); atomic, and
    serialised with other writers. False when it is there already."""
    with _locked(path):
        entries: list[tuple[str, list[str]]] = [
            (t.locator, list(t.asks)) for t in load_topic_file(path)
        ]
        for loc, asks in entries:
            if loc == locator:
                if question in asks:
                    return False
                asks.append(question)
                break
        else:
            entries.append((locator, [question]))
        data = [{"locator": loc, "asks": asks} for loc, asks in entries]
        text = _HEADER + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".confirmed-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return True

"""Drafts of question-index entries written by the configured LLM, one section at a time, into a
review file (``<corpus>/<questions>/review/suggested.yaml``, not read by the index). Nothing a
model writes is used until a person accepts it (``hipaa-assistant questions accept``), which
confirms it like any other question: redacted, audited, written to the question file."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from assistant.prompts import load_prompt
from assistant.retrieval.confirmed import confirmed_file
from assistant.retrieval.topics import load_topic_file
from core.errors import AssistantError, ConfigError
from core.index.reader import Index
from core.settings import Settings

log = logging.getLogger(__name__)

REVIEW_FILE = Path("review") / "suggested.yaml"
_LINE = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])?\s*(.+?)\s*$")
_MIN_SECTION_WORDS = 25


@dataclass(frozen=True)
class Suggested:
    locator: str
    asks: tuple[str, ...]


def review_file(settings: Settings) -> Path:
    return confirmed_file(settings).parent / REVIEW_FILE


def parse_questions(reply: str, count: int) -> list[str]:
    """The model's reply -> at most ``count`` questions (list markers and non-questions gone)."""
    out: list[str] = []
    for line in reply.splitlines():
        m = _LINE.match(line)
        text = m.group(1) if m else ""
        if text.endswith("?") and 3 <= len(text.split()) <= 40 and text not in out:
            out.append(text)
    return out[:count]


def suggest(
    index: Index,
    chat_model: Any,
    *,
    count: int = 3,
    redact: Callable[[str], str] = lambda text: text,
    progress: Callable[[int, int], None] | None = None,
) -> list[Suggested]:
    """Questions for each section of the organisation's documents (policies and BAAs)."""
    prompt = load_prompt("suggest")
    sections = [
        c
        for c in index.chunks
        if index.document(c.doc_id).doc_type in ("policy", "baa")
        and len(c.text.split()) >= _MIN_SECTION_WORDS
    ]
    out: list[Suggested] = []
    for i, chunk in enumerate(sections):
        system, human = prompt.render(
            title=index.document(chunk.doc_id).title,
            locator=chunk.locator,
            text=chunk.text,
            count=str(count),
        )
        try:
            reply = chat_model.invoke([("system", system), ("human", human)])
        except Exception as exc:
            log.warning("question suggestion failed for %s", chunk.chunk_id, exc_info=True)
            raise AssistantError(
                f"the LLM could not be reached to draft questions ({type(exc).__name__})"
            ) from exc
        text = getattr(reply, "content", reply)
        asks = tuple(redact(q) for q in parse_questions(str(text), count))
        if asks:
            out.append(Suggested(chunk.locator, asks))
        if progress is not None:
            progress(i + 1, len(sections))
    return out


def write_review(path: Path, suggestions: list[Suggested]) -> int:
    """Merge drafts into the review file (questions already there are kept once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    entries: dict[str, list[str]] = {t.locator: list(t.asks) for t in load_topic_file(path)}
    added = 0
    for s in suggestions:
        asks = entries.setdefault(s.locator, [])
        for q in s.asks:
            if q not in asks:
                asks.append(q)
                added += 1
    header = (
        "# Questions drafted by the LLM for review. Not used until accepted:\n"
        "#   hipaa-assistant questions accept --user NAME [--locator LOCATOR]\n"
        "# Delete any you would not confirm before accepting.\n"
    )
    data = [{"locator": loc, "asks": asks} for loc, asks in entries.items() if asks]
    path.write_text(header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return added


def take_from_review(path: Path, locator: str | None) -> list[Suggested]:
    """Remove and return the review file's entries (all, or those of one locator)."""
    if not path.exists():
        raise ConfigError(f"no questions to review ({path})")
    topics = load_topic_file(path)
    taken = [Suggested(t.locator, t.asks) for t in topics if locator in (None, t.locator)]
    kept = [t for t in topics if locator not in (None, t.locator)]
    data = [{"locator": t.locator, "asks": list(t.asks)} for t in kept]
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True) if data else "")
    return taken

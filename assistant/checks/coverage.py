"""Which policy sections address each Security Rule standard and implementation specification.

Evidence, strongest first: a policy sentence that cites the specification (or a paragraph inside
it); a sentence on its topic (the catalog's patterns, read with the section title); a policy whose
``implements`` metadata names it. Statuses: ``covered`` (a sentence on its topic, in a policy that
cites or implements it or states what is done); ``partial`` (only cited or only claimed in
metadata, with no sentence saying what is done); ``gap`` (nothing); for an addressable
specification, ``alternative documented`` (a sentence on its topic documents an alternative
measure or why it is not reasonable and appropriate)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from assistant.checks.clauses import Sentence, sentences
from core.documents import Chunk, SourceDocument
from core.errors import ConfigError

CoverageStatus = Literal["covered", "partial", "gap", "alternative documented"]
COVERAGE_STATUSES: tuple[CoverageStatus, ...] = (
    "covered",
    "partial",
    "gap",
    "alternative documented",
)
_CITE = re.compile(r"\b16[04]\s*\.\s*\d{3}(?:\s*\([A-Za-z0-9]{1,5}\))*")
# The words of a documented alternative to an addressable specification (45 CFR
# 164.306(d)(3)(ii)(B)); an exception process with "compensating controls" is not one.
_ALTERNATIVE = re.compile(
    r"\b(?:not reasonable and appropriate|(?:alternative|equivalent) (?:measures?|controls?"
    r"|safeguards?))\b",
    re.IGNORECASE,
)
_ITEM_KEYS = {"id", "citation", "name", "required", "topic"}


@dataclass(frozen=True)
class Specification:
    id: str
    citation: str  # "45 CFR 164.312(a)(2)(iv)"
    name: str
    required: bool
    topic: tuple[re.Pattern[str], ...]

    @property
    def paragraph(self) -> str:
        """The citation without "45 CFR ": what policies write."""
        return self.citation.removeprefix("45 CFR ").replace(" ", "")


@dataclass(frozen=True)
class Policy:
    doc_id: str
    title: str
    implements: tuple[str, ...]
    sentences: tuple[Sentence, ...]


@dataclass(frozen=True)
class CoverageRow:
    item: Specification
    status: CoverageStatus
    locators: tuple[str, ...] = ()
    quote: str = ""
    note: str = ""
    chunk_ids: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "item": {
                "id": self.item.id,
                "citation": self.item.citation,
                "name": self.item.name,
                "required": self.item.required,
            },
            "status": self.status,
            "locators": list(self.locators),
            "quote": self.quote,
            "note": self.note,
            "chunk_ids": list(self.chunk_ids),
        }


def load_specifications(path: Path) -> tuple[Specification, ...]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the catalog {path}: {exc}") from exc
    items = raw.get("items") if isinstance(raw, dict) else None
    if not isinstance(items, list) or not items:
        raise ConfigError(f"{path}: no items")
    out = []
    for i, item in enumerate(items):
        where = f"{path.name} item {i + 1}"
        if not isinstance(item, dict) or set(item) - _ITEM_KEYS:
            raise ConfigError(f"{where}: expected the fields {sorted(_ITEM_KEYS)}")
        if not all(str(item.get(k) or "").strip() for k in ("id", "citation", "name")):
            raise ConfigError(f"{where}: id, citation and name are needed")
        try:
            topic = tuple(re.compile(t, re.IGNORECASE) for t in item.get("topic") or ())
        except re.error as exc:
            raise ConfigError(f"{where}: bad pattern ({exc})") from exc
        if not topic:
            raise ConfigError(f"{where}: give a topic")
        out.append(
            Specification(
                str(item["id"]),
                str(item["citation"]),
                str(item["name"]),
                bool(item.get("required")),
                topic,
            )
        )
    return tuple(out)


def policy(document: SourceDocument, chunks: Sequence[Chunk]) -> Policy:
    return Policy(document.doc_id, document.title, document.implements, tuple(sentences(chunks)))


def _cites(text: str, paragraph: str) -> bool:
    found = {re.sub(r"\s+", "", m.group(0)) for m in _CITE.finditer(text)}
    return any(f == paragraph or f.startswith(paragraph + "(") for f in found)


def _claims(p: Policy, spec: Specification) -> bool:
    """The policy's metadata says it implements the specification (or a paragraph of it, or the
    standard it belongs to)."""
    for claim in p.implements:
        c = claim.removeprefix("45 CFR ").replace(" ", "")
        if c == spec.paragraph or c.startswith(spec.paragraph + "("):
            return True
        if spec.paragraph.startswith(c + "(") and c.count("(") >= 2:
            return True
    return False


def _on_topic(spec: Specification, s: Sentence) -> bool:
    if s.is_title or _NOT_PRACTICE.search(s.title):
        return False
    own = sum(1 for p in spec.topic if p.search(s.text))
    if own == 0 or not all(p.search(f"{s.heading}\n{s.context}") for p in spec.topic):
        return False
    # named only as an example of something else: "(for example network segmentation, physical
    # security and restricted access)"
    m = spec.topic[0].search(s.text)
    return m is None or not _EXAMPLE.search(s.text[max(0, m.start() - 60) : m.start()])


# A policy scoped to AI tools, models or vendors covers an organisation-wide Security Rule
# specification only in part: its title names AI or vendors, and at least NARROW_SHARE of its
# sentences speak of them (a workforce training policy that mentions AI in its title is not one).
_AI_WORDS = re.compile(
    r"\b(?:AI|artificial intelligence|machine learning|models?|vendors?|LLMs?|generative"
    r"|chatbots?|algorithms?|third[- ]party)\b"
)
NARROW_SHARE = 0.3  # set on Lakemont's policies (the development key); see docs/baa-check.md
# Sections that describe no practice: reference lists, revision history, definitions.
_NOT_PRACTICE = re.compile(
    r"\b(?:related|references?|revision|history|definitions?|glossary)\b", re.IGNORECASE
)
# A mention in passing: "Based on its risk analysis under ..., Lakemont has determined ..."
_IN_PASSING = re.compile(
    r"\b(?:based on|under|per|as part of|according to|in line with|following|after)\s+"
    r"(?:\w+\s+){0,2}$",
    re.IGNORECASE,
)


_EXAMPLE = re.compile(r"\((?:for example|e\.g\.|such as|for instance)\b[^)]*$", re.IGNORECASE)


def narrow(p: Policy) -> bool:
    """Whether the policy is scoped to AI or to vendors rather than to the whole organisation."""
    if not _AI_WORDS.search(p.title) or not p.sentences:
        return False
    share = sum(1 for s in p.sentences if _AI_WORDS.search(s.text)) / len(p.sentences)
    return share >= NARROW_SHARE


def _section(locator: str) -> str:
    """The clause a lettered item belongs to: ``SHP-IS-07 §8.1(a)`` -> ``SHP-IS-07 §8.1``."""
    return re.sub(r"(?:\([A-Za-z0-9]{1,4}\))+$", "", locator)


def _states(spec: Specification, s: Sentence) -> bool:
    """A sentence that cites the specification and says what is done about it (its topic is
    what the sentence is about, not a passing mention)."""
    if not _cites(s.reading, spec.paragraph):
        return False
    return any(
        not _IN_PASSING.search(s.text[: m.start()])
        for pattern in spec.topic
        for m in pattern.finditer(s.text)
    )


def check_item(spec: Specification, policies: Sequence[Policy]) -> CoverageRow:
    cited = [(p, s) for p in policies for s in p.sentences if _cites(s.reading, spec.paragraph)]
    topical = [(p, s) for p in policies for s in p.sentences if _on_topic(spec, s)]
    claimed = {p.doc_id for p in policies if _claims(p, spec)}

    def strength(ps: tuple[Policy, Sentence]) -> tuple[bool, bool, int]:
        p, s = ps
        mates = sum(1 for q, t in topical if q is p and t.locator == s.locator)
        return (narrow(p), not _cites(s.reading, spec.paragraph), -mates)

    topical.sort(key=strength)

    def row(status: CoverageStatus, found: list[tuple[Policy, Sentence]], note: str) -> CoverageRow:
        chosen = [s for _, s in found][:3]
        return CoverageRow(
            spec,
            status,
            tuple(dict.fromkeys(s.locator for s in chosen)),
            " … ".join(s.text for s in chosen[:2]),
            note,
            tuple(dict.fromkeys(s.chunk_id for s in chosen if s.chunk_id)),
        )

    if not spec.required:
        alternative = [
            (p, s)
            for p, s in topical
            if _ALTERNATIVE.search(s.reading) and all(t.search(s.text) for t in spec.topic)
        ]
        if alternative:
            return row(
                "alternative documented", alternative, "an alternative measure is documented"
            )
    broad = [(p, s) for p, s in topical if not narrow(p)]
    # a section that says what is done: two or more of its sentences on the topic
    sections: dict[tuple[str, str], list[tuple[Policy, Sentence]]] = {}
    for p, s in broad:
        sections.setdefault((p.doc_id, _section(s.locator)), []).append((p, s))
    described = [
        found
        for found in sections.values()
        if len(found) >= 2 or any(_states(spec, s) for _, s in found)
    ]
    if described:
        best = max(described, key=len)
        return row("covered", best + [ps for ps in broad if ps not in best], "says what is done")
    if broad:
        return row("partial", broad, "mentioned, without saying what is done")
    if topical:
        return row("partial", topical, "addressed only for AI tools, models or vendors")
    if cited:
        return row("partial", cited, "cited, but no sentence says what is done")
    note = "no policy addresses it"
    if claimed:
        note += f" (claimed in the metadata of {', '.join(sorted(claimed))})"
    return CoverageRow(spec, "gap", (), "", note)


def check_coverage(specs: Sequence[Specification], policies: Sequence[Policy]) -> list[CoverageRow]:
    return [check_item(spec, policies) for spec in specs]

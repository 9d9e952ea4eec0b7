"""The typed result of a question: an answer with verified citations and the evidence behind it.

``Answer.to_json()`` is the stable ``ask --json`` payload (schema: docs/answer-json.md); change it
only with a new ``schema_version``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.retrieval.passages import ScoredPassage

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Citation:
    n: int
    chunk_id: str
    locator: str  # the most specific locator of the quoted text, e.g. 45 CFR 164.312(a)(2)(iv)
    title: str
    doc_type: str
    page: int | None
    quote: str  # the first sentence the answer quotes from the passage
    doc_id: str = ""
    version: str = ""
    quotes: tuple[str, ...] = ()  # every sentence it quotes from the passage, in answer order

    @property
    def all_quotes(self) -> tuple[str, ...]:
        """Every sentence quoted from the passage (``quote`` alone when only it is known)."""
        return self.quotes or (self.quote,)

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "chunk_id": self.chunk_id,
            "doc_id": self.doc_id,
            "locator": self.locator,
            "title": self.title,
            "doc_type": self.doc_type,
            "version": self.version,
            "page": self.page,
            "quote": self.quote,
            "quotes": list(self.all_quotes),
        }


@dataclass(frozen=True)
class Passage:
    """A retrieved passage as the answerer saw it, numbered as cited (``[n]``)."""

    n: int
    chunk_id: str
    doc_id: str
    locator: str
    title: str
    doc_type: str
    version: str
    page: int | None
    text: str
    heading_path: tuple[str, ...]
    score: float
    dense: float | None
    lexical: float | None
    # a rule paragraph that a retrieved policy or BAA passage cites, given to the answerer beside
    # the retrieved passages (``cited_rules``), not itself retrieved
    follows: bool = False

    @classmethod
    def of(cls, n: int, found: ScoredPassage, follows: bool = False) -> Passage:
        """A retrieved passage (or, ``follows``, one a retrieved passage cites), numbered ``n``."""
        doc = found.document
        return cls(
            n=n,
            chunk_id=found.chunk.chunk_id,
            doc_id=doc.doc_id,
            locator=found.chunk.locator,
            title=doc.title,
            doc_type=doc.doc_type,
            version=doc.version or doc.as_of,
            page=found.chunk.page,
            text=found.chunk.text,
            heading_path=found.chunk.heading_path,
            score=found.score,
            dense=found.dense,
            lexical=found.lexical,
            follows=follows,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "chunk_id": self.chunk_id,
            "doc_id": self.doc_id,
            "locator": self.locator,
            "title": self.title,
            "doc_type": self.doc_type,
            "version": self.version,
            "page": self.page,
            "heading_path": list(self.heading_path),
            "score": self.score,
            "dense_score": self.dense,
            "lexical_score": self.lexical,
            "followed_citation": self.follows,
            "text": self.text,
        }


@dataclass
class Answer:
    question: str
    text: str
    citations: list[Citation]
    passages: list[Passage]
    mode: str  # "extractive" or "llm:<provider>/<model>"
    abstained: bool
    timings: dict[str, float] = field(default_factory=dict)
    standalone_question: str = ""  # the question as retrieved for (follow-ups condensed)
    notes: list[str] = field(default_factory=list)  # e.g. "dropped citation [7]: no such source"
    abstain_reason: str = ""
    # a question across the organisation's contracts: one row per BAA (see answering/compare.py)
    comparison: list[Any] = field(default_factory=list)
    # what the question asks about that no document the caller may read mentions (focus.py)
    uncovered_terms: list[str] = field(default_factory=list)

    @property
    def searched_as(self) -> bool:
        """Whether the question was searched as something else than it was asked (a follow-up
        completed, an abbreviation spelled out, a redacted name read as "a patient")."""
        return bool(self.standalone_question) and self.standalone_question != self.question

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "question": self.question,
            "standalone_question": self.standalone_question or self.question,
            "answer": self.text,
            "abstained": self.abstained,
            "abstain_reason": self.abstain_reason,
            "mode": self.mode,
            "citations": [c.to_json() for c in self.citations],
            "passages": [p.to_json() for p in self.passages],
            "notes": list(self.notes),
            "comparison": [row.to_json() for row in self.comparison],
            "uncovered_terms": list(self.uncovered_terms),
            "timings_ms": {k: round(v, 1) for k, v in self.timings.items()},
        }

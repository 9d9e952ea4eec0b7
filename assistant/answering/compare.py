"""Questions across the organisation's contracts ("Which of our vendors may train on our data?",
"Compare breach-notice deadlines across our BAAs"), answered one BAA at a time.

The question is asked of each BAA the caller may read (retrieval confined to that contract), and
the sentence that best answers it is quoted with its citation. A contract with no sentence on the
question gets a row that says so ("not stated in this BAA"): no vendor is dropped silently."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assistant.answering.extractive import ASKS_TIME, Candidate, ExtractiveAnswerer, quote_of
from assistant.answering.text import content_terms
from assistant.answering.types import Passage
from assistant.checks.figures import time_limits
from assistant.retrieval.retriever import Retriever
from core.documents import Chunk
from core.index.reader import Scope
from core.words import word_list

_CONTRACTS = r"(?:vendors|business\s+associates|BAAs|contracts|agreements|suppliers)"
# "compare ... across our vendors": detects a comparison, but spans its topic too
_COMPARE_SPAN = re.compile(rf"\bcompar\w*\b.{{0,80}}\b(?:vendor|{_CONTRACTS})", re.I)
_ACROSS = (
    # "Which of our AI vendors ...", "what vendors ..."
    re.compile(
        rf"\b(?:which|what)\s+(?:of\s+)?(?:our\s+|the\s+)?(?:[\w-]+\s+){{0,2}}{_CONTRACTS}\b", re.I
    ),
    # "each of our BAAs", "every vendor", "all our AI vendors", "both vendors"
    re.compile(
        r"\b(?:each|every|all|both)\s+(?:of\s+)?(?:our\s+|the\s+)?(?:[\w-]+\s+){0,2}"
        r"(?:vendors?|business\s+associates?|BAAs?|contracts?|agreements?)\b",
        re.I,
    ),
    # "compare ... across our vendors", "compare the vendors' ..."
    _COMPARE_SPAN,
    re.compile(rf"\bacross\s+(?:our\s+|the\s+|all\s+)?(?:[\w-]+\s+){{0,2}}{_CONTRACTS}\b", re.I),
    re.compile(rf"\b(?:any|none)\s+of\s+(?:our|the)\s+(?:[\w-]+\s+){{0,2}}{_CONTRACTS}\b", re.I),
    re.compile(r"\b(?:per|by)\s+vendor\b|\bvendor[- ]by[- ]vendor\b", re.I),
    # "one of our vendors", "every one of our BAAs": any of them, so each of them
    re.compile(
        rf"\b(?:one|every\s+one|any\s+one)\s+of\s+(?:our|the)\s+(?:[\w-]+\s+){{0,2}}{_CONTRACTS}\b",
        re.I,
    ),
    # "If a vendor causes a breach, ...": a vendor in general, so every vendor
    re.compile(r"\b(?:if|when|whenever|once)\s+(?:a|an|any)\s+(?:[\w-]+\s+)?vendor\b", re.I),
    # "... which of them have agreed ..." after naming vendors or contracts
    re.compile(r"\b(?:vendors?|BAAs?|contracts?)\b.{0,80}\bwhich\s+of\s+them\b", re.I),
)
NOT_STATED = "not stated in this BAA"


# "How long does each vendor have ...": a sentence that sets a time limit answers it
def is_comparison(question: str) -> bool:
    """Whether the question asks about several or all of the organisation's contracts."""
    return any(p.search(question) for p in _ACROSS)


_SCAFFOLD = re.compile(r"\bcompar(?:e|ing|ison\s+of)\b|\bdiffer\w*\b", re.IGNORECASE)


def focus(question: str) -> str:
    """What is asked of each contract: the question without "which of our vendors", "across
    our BAAs", "compare": "Compare how long each of our vendors has to tell us about a breach"
    -> "how long has to tell us about a breach"."""
    out = question
    for p in _ACROSS:
        if p is not _COMPARE_SPAN:  # that one spans the topic too
            out = p.sub(" ", out)
    out = _SCAFFOLD.sub(" ", out)
    return " ".join(out.split()) or question


@dataclass(frozen=True)
class ComparisonRow:
    """One contract's answer: its clause (quoted, cited as ``[n]``), or ``NOT_STATED``."""

    vendor: str
    doc_id: str
    stated: bool
    n: int | None = None
    locator: str = ""
    quote: str = ""
    chunk_id: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "vendor": self.vendor,
            "doc_id": self.doc_id,
            "stated": self.stated,
            "n": self.n,
            "locator": self.locator,
            "quote": self.quote if self.stated else NOT_STATED,
            "chunk_id": self.chunk_id,
        }


@dataclass(frozen=True)
class Comparison:
    rows: tuple[ComparisonRow, ...]
    passages: tuple[Passage, ...]  # numbered as cited: row k's passage is [k]
    chunks: dict[str, Chunk]
    text: str


class Comparer:
    """Asks a question of each readable BAA and tabulates the answers.

    A contract's best sentence is quoted when it contains at least ``relative`` of what the best
    contract's best sentence contains of the question's words (weighted by rarity), and at least
    ``min_hit`` of them; otherwise its row says ``NOT_STATED``."""

    def __init__(
        self,
        retriever: Retriever,
        quoter: ExtractiveAnswerer,
        min_hit: float,
        relative: float = 0.5,
        per_contract: int = 5,
        generic: frozenset[str] | None = None,
    ) -> None:
        self.retriever = retriever
        self.quoter = quoter
        self.min_hit = min_hit
        self.relative = relative
        self.per_contract = per_contract
        self.generic = word_list("generic") if generic is None else generic

    def contracts(self, scope: Scope) -> list[tuple[str, str]]:
        """(doc_id, vendor) of the live BAAs ``scope`` may read, by vendor name."""
        if scope.doc_types is not None and "baa" not in scope.doc_types:
            return []
        out = []
        for doc_id, entry in self.retriever.index.entries.items():
            doc = entry.document
            if doc.doc_type == "baa" and entry.status != "superseded" and scope.allows(doc):
                out.append((doc_id, doc.vendor or doc.title))
        return sorted(out, key=lambda dv: dv[1].casefold())

    def compare(self, question: str, scope: Scope) -> Comparison | None:
        """The per-contract answer, or ``None`` when fewer than two contracts can be read."""
        contracts = self.contracts(scope)
        if len(contracts) < 2:
            return None
        asked = focus(question)
        found = {doc_id: self._best(asked, scope, vendor, doc_id) for doc_id, vendor in contracts}
        top = max((b[0].hit for b in found.values() if b is not None), default=0.0)
        bar = max(self.min_hit, self.relative * top)
        rows: list[ComparisonRow] = []
        passages: list[Passage] = []
        chunks: dict[str, Chunk] = {}
        for doc_id, vendor in contracts:
            best = found[doc_id]
            if best is None or best[0].hit < bar:
                rows.append(ComparisonRow(vendor, doc_id, stated=False))
                continue
            candidate, chunk = best
            n = len(passages) + 1
            passages.append(_renumbered(candidate.passage, n))
            chunks[chunk.chunk_id] = chunk
            locator, quote = quote_of(candidate, chunks)
            rows.append(ComparisonRow(vendor, doc_id, True, n, locator, quote, chunk.chunk_id))
        if not passages:
            return None
        return Comparison(tuple(rows), tuple(passages), chunks, _table(rows))

    def _best(
        self, question: str, scope: Scope, vendor: str, doc_id: str
    ) -> tuple[Candidate, Chunk] | None:
        one = Scope(scope.groups, frozenset({"baa"}), frozenset({vendor}))
        retrieval = self.retriever.retrieve(question, one, self.per_contract)
        found = [p for p in retrieval.passages if p.document.doc_id == doc_id]
        if not found:
            return None
        passages = [Passage.of(i, p) for i, p in enumerate(found, start=1)]
        chunks = {p.chunk.chunk_id: p.chunk for p in found}
        ranked = self.quoter.rank(question, passages, retrieval.plan.expansion, chunks)
        # a sentence answers for this contract only if it shares one of the question's rarer
        # words ("Canada", "failover"), not just a common one ("over", "data")
        keys = self.quoter.distinctive(question, self.generic | word_list("function_words"))
        ranked = [c for c in ranked if _shares(keys, content_terms(c.sentence.text))]
        if not ranked:
            return None
        # within one contract the passages' order says little; what the sentence shares with
        # the question says more, and for "how long" a sentence that sets a time limit
        timed = bool(ASKS_TIME.search(question))
        # and such a sentence says the question's "deadline" in its own words ("Clarion shall
        # notify Lakemont ... within 10 business days" for "breach-notice deadlines", where "The
        # notice shall identify ..." only shares "notice")
        said = self.quoter.share(word_list("time_limit_words"), question) if timed else 0.0

        def fit(c: Candidate) -> float:
            sets_time = timed and bool(time_limits(c.sentence.text))
            return c.hit + (0.25 + said if sets_time else 0.0) + 0.1 * c.score

        best = max(ranked, key=fit)
        return best, chunks[best.passage.chunk_id]


def _shares(keys: set[str], terms: set[str]) -> bool:
    """Whether ``terms`` hold one of ``keys``, a longer key also by its first five letters
    ("governs" / "governed", "disputes" / "dispute")."""
    if keys & terms:
        return True
    stems = {k[:5] for k in keys if len(k) >= 6}
    return any(t[:5] in stems for t in terms if len(t) >= 6)


def _renumbered(p: Passage, n: int) -> Passage:
    return Passage(
        n, p.chunk_id, p.doc_id, p.locator, p.title, p.doc_type, p.version, p.page, p.text,
        p.heading_path, p.score, p.dense, p.lexical,
    )  # fmt: skip


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(rows: Sequence[ComparisonRow]) -> str:
    """One row per contract: what it says (quoted, cited) or that it does not say."""
    stated = sum(r.stated for r in rows)
    lines = [
        f"Asked of each business associate agreement you may read ({len(rows)}; "
        f"{stated} state it):",
        "",
        "| vendor | what the agreement says | clause |",
        "| --- | --- | --- |",
    ]
    for r in rows:
        if r.stated:
            lines.append(
                f"| {_cell(r.vendor)} | \u201c{_cell(r.quote)}\u201d [{r.n}] | {r.locator} |"
            )
        else:
            lines.append(f"| {_cell(r.vendor)} | {NOT_STATED} | \u2013 |")
    return "\n".join(lines)

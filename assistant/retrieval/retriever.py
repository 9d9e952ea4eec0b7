"""Hybrid retrieval: dense (Chroma) + lexical (BM25) fused by weighted reciprocal rank, with the
vocabulary bridge, direct locator lookup, document/vendor boosts, filters and access scope."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from assistant.documents import Chunk, SourceDocument
from assistant.index.reader import Index, Scope
from assistant.retrieval.query import QueryPlan, analyze
from assistant.retrieval.rerank import Reranker
from assistant.retrieval.vocabulary import Vocabulary
from assistant.settings import RetrievalSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScoredPassage:
    chunk: Chunk
    document: SourceDocument
    score: float  # fused score (ranking)
    dense: float | None  # cosine similarity to the question, when the dense search found it
    lexical: float | None  # BM25 score, when the lexical search found it
    matched_locator: bool = False


@dataclass
class Retrieval:
    plan: QueryPlan
    passages: list[ScoredPassage]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def best_dense(self) -> float:
        return max((p.dense or 0.0 for p in self.passages), default=0.0)


class Retriever(Protocol):
    def retrieve(self, question: str, scope: Scope, k: int | None = None) -> Retrieval: ...


class HybridRetriever:
    def __init__(
        self,
        index: Index,
        settings: RetrievalSettings,
        vocabulary: Vocabulary,
        reranker: Reranker | None = None,
    ) -> None:
        self.index = index
        self.settings = settings
        self.vocabulary = vocabulary
        self.reranker = reranker
        self._demote = tuple(f" {name}" for name in settings.demote_sections)
        self._doc_prefixes: dict[str, str] = {}
        self._vendors: dict[str, str] = {}
        for doc_id, entry in index.entries.items():
            doc = entry.document
            if doc.doc_type in ("policy", "baa"):
                prefix = f"{doc.vendor} BAA" if doc.doc_type == "baa" and doc.vendor else doc_id
                self._doc_prefixes[doc_id.upper()] = prefix
            if doc.vendor:
                name = doc.vendor.lower()
                self._vendors[name] = doc.vendor
                first = name.split()[0]
                if len(first) >= 4:
                    self._vendors.setdefault(first, doc.vendor)

    def plan(self, question: str) -> QueryPlan:
        return analyze(
            question,
            doc_prefixes=self._doc_prefixes,
            vendors=self._vendors,
            expansion=self.vocabulary.expand(question),
            bridged_words=self.vocabulary.known_words(question),
        )

    def retrieve(self, question: str, scope: Scope, k: int | None = None) -> Retrieval:
        k = k or self.settings.k
        s = self.settings
        t0 = time.perf_counter()
        plan = self.plan(question)
        timings: dict[str, float] = {}
        dense = self.index.dense(question, s.dense_candidates, scope)
        t1 = time.perf_counter()
        lexical = self.index.lexical_search(plan.lexical_query, s.lexical_candidates, scope)
        t2 = time.perf_counter()
        timings["dense_ms"] = (t1 - t0) * 1000
        timings["lexical_ms"] = (t2 - t1) * 1000

        fused: dict[str, float] = {}
        dense_score: dict[str, float] = {}
        lex_score: dict[str, float] = {}
        chunks: dict[str, tuple[Chunk, SourceDocument]] = {}
        for rank, hit in enumerate(dense):
            cid = hit.chunk.chunk_id
            fused[cid] = fused.get(cid, 0.0) + s.dense_weight / (s.rrf_k + rank + 1)
            dense_score[cid] = hit.score
            chunks[cid] = (hit.chunk, hit.document)
        for rank, hit in enumerate(lexical):
            cid = hit.chunk.chunk_id
            fused[cid] = fused.get(cid, 0.0) + s.lexical_weight / (s.rrf_k + rank + 1)
            lex_score[cid] = hit.score
            chunks[cid] = (hit.chunk, hit.document)
        # Documents or vendors named in the question: their passages move up.
        boost = s.named_document_boost / (s.rrf_k + 1)
        for cid, (chunk, doc) in chunks.items():
            if chunk.doc_id.upper() in plan.doc_ids or (doc.vendor and doc.vendor in plan.vendors):
                fused[cid] += boost
        # Rule paragraphs the vocabulary bridge links to the question's words.
        related = s.related_locator_boost / (s.rrf_k + 1)
        for loc in plan.related_locators:
            for chunk in self.index.find_locator(loc, scope)[: s.locator_max_chunks]:
                cid = chunk.chunk_id
                fused[cid] = fused.get(cid, 0.0) + related
                chunks.setdefault(cid, (chunk, self.index.document(chunk.doc_id)))
        for cid, (chunk, _doc) in chunks.items():
            last = chunk.heading_path[-1] if chunk.heading_path else ""
            if cid in fused and any(word in last for word in self._demote):
                fused[cid] *= 0.5
        # A locator named in the question: that passage comes first.
        located: list[str] = []
        for loc in plan.locators:
            for chunk in self.index.find_locator(loc, scope)[: s.locator_max_chunks]:
                cid = chunk.chunk_id
                if cid not in located:
                    located.append(cid)
                    chunks[cid] = (chunk, self.index.document(chunk.doc_id))
        top = sorted(fused, key=lambda cid: -fused[cid])
        ordered = located + [cid for cid in top if cid not in located]
        if s.ensure_rule_passage and len(ordered) > k:
            ordered = _with_rule(ordered, k, s.rule_depth, lambda c: chunks[c][1].doc_type)
        head = max(fused.values(), default=0.0)
        passages = [
            ScoredPassage(
                chunk=chunks[cid][0],
                document=chunks[cid][1],
                score=round(float(fused.get(cid, 0.0) + (2 * head if cid in located else 0.0)), 6),
                dense=round(float(dense_score[cid]), 6) if cid in dense_score else None,
                lexical=round(float(lex_score[cid]), 6) if cid in lex_score else None,
                matched_locator=cid in located,
            )
            for cid in ordered
        ]
        if self.reranker is not None:
            t3 = time.perf_counter()
            passages = self.reranker.rerank(question, passages[: s.rerank_candidates])
            timings["rerank_ms"] = (time.perf_counter() - t3) * 1000
        timings["retrieve_ms"] = (time.perf_counter() - t0) * 1000
        return Retrieval(plan=plan, passages=passages[:k], timings=timings)


def _with_rule(ordered: list[str], k: int, depth: int, kind: Callable[[str], str]) -> list[str]:
    """If the first ``k`` hold no rule passage but one ranks within ``depth``, it takes place k."""
    if any(kind(c) == "rule" for c in ordered[:k]):
        return ordered
    for i in range(k, min(depth, len(ordered))):
        if kind(ordered[i]) == "rule":
            return [*ordered[: k - 1], ordered[i], *ordered[k - 1 : i], *ordered[i + 1 :]]
    return ordered

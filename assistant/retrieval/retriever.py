"""Hybrid retrieval: dense (Chroma) + lexical (BM25) fused by weighted reciprocal rank, with the
vocabulary bridge, direct locator lookup, document/vendor boosts, filters and access scope."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from assistant.documents import Chunk, SourceDocument
from assistant.index.reader import Index, Scope
from assistant.retrieval.adapter import QueryAdapter
from assistant.retrieval.query import QueryPlan, analyze, find_cfr_locators
from assistant.retrieval.rerank import Reranker
from assistant.retrieval.topics import TopicIndex
from assistant.retrieval.vendors import described_vendors, descriptors, name_aliases
from assistant.retrieval.vocabulary import Vocabulary
from assistant.safety.placeholders import without_placeholders
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
    top_dense: float = 0.0  # the closest passage in scope by cosine similarity, kept or not
    top_topic: float = 0.0  # the closest question of the question index (0: none)

    @property
    def best_dense(self) -> float:
        """How close the closest passage comes to the question (cosine similarity)."""
        return max(self.top_dense, max((p.dense or 0.0 for p in self.passages), default=0.0))


class Retriever(Protocol):
    def retrieve(self, question: str, scope: Scope, k: int | None = None) -> Retrieval: ...


class HybridRetriever:
    def __init__(
        self,
        index: Index,
        settings: RetrievalSettings,
        vocabulary: Vocabulary,
        reranker: Reranker | None = None,
        topics: TopicIndex | None = None,
        adapter: QueryAdapter | None = None,
    ) -> None:
        self.index = index
        self.settings = settings
        self.vocabulary = vocabulary
        self.reranker = reranker
        self.topics = topics
        self.adapter = adapter
        self._demote = tuple(f" {name}" for name in settings.demote_sections)
        self._doc_prefixes: dict[str, str] = {}
        openings: dict[str, str] = {}
        for doc_id, entry in index.entries.items():
            doc = entry.document
            if doc.doc_type in ("policy", "baa"):
                prefix = f"{doc.vendor} BAA" if doc.doc_type == "baa" and doc.vendor else doc_id
                self._doc_prefixes[doc_id.upper()] = prefix
                if doc.doc_type == "baa" and doc.vendor:
                    # the agreement's opening, before its first section, says what the vendor does
                    opening = [
                        c.text
                        for c in index.find_locator(prefix, Scope.unrestricted())
                        if c.doc_id == doc_id and c.locator == prefix
                    ]
                    openings[doc.vendor] = " ".join([openings.get(doc.vendor, ""), *opening])
        names = (e.document.vendor for e in index.entries.values() if e.document.vendor)
        self._vendors = name_aliases(names)
        self._described = descriptors(openings)

    def _is_rule(self, chunk: Chunk) -> bool:
        return self.index.document(chunk.doc_id).doc_type == "rule"

    def plan(self, question: str) -> QueryPlan:
        plan = analyze(
            question,
            doc_prefixes=self._doc_prefixes,
            vendors=self._vendors,
            expansion=self.vocabulary.expand(question),
            bridged_words=self.vocabulary.known_words(question),
        )
        for vendor in described_vendors(question, self._described):
            if vendor not in plan.vendors:
                plan.vendors.append(vendor)
        return plan

    def retrieve(self, question: str, scope: Scope, k: int | None = None) -> Retrieval:
        k = k or self.settings.k
        s = self.settings
        t0 = time.perf_counter()
        question = without_placeholders(question)  # "MRN [MRN]" is not what is asked
        plan = self.plan(question)
        timings: dict[str, float] = {}
        vector = self.index.embed_query(question)
        dense = self.index.dense(question, s.dense_candidates, scope, vector)
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
        # The question carried by the query adapter towards the passages that answer such
        # questions: one more dense ranking (the plain one keeps its similarities).
        adapted = self.adapter.apply(vector) if self.adapter is not None else None
        if adapted is not None and s.adapted_dense_weight:
            mapped = self.index.dense(question, s.dense_candidates, scope, adapted)
            for rank, hit in enumerate(mapped):
                cid = hit.chunk.chunk_id
                fused[cid] = fused.get(cid, 0.0) + s.adapted_dense_weight / (s.rrf_k + rank + 1)
                chunks.setdefault(cid, (hit.chunk, hit.document))
        # The rule's own wording rarely matches staff words as well as a policy that restates
        # it does: rankings over the rule text alone give its best paragraphs a fair place.
        if s.rule_ranking_weight and (scope.doc_types is None or "rule" in scope.doc_types):
            rule_scope = Scope(scope.groups, frozenset({"rule"}), scope.vendors)
            for ranked in (
                self.index.dense(
                    question,
                    s.rule_candidates,
                    rule_scope,
                    vector if adapted is None else adapted,
                ),
                self.index.lexical_search(plan.lexical_query, s.rule_candidates, rule_scope),
            ):
                for rank, hit in enumerate(ranked):
                    cid = hit.chunk.chunk_id
                    fused[cid] = fused.get(cid, 0.0) + s.rule_ranking_weight / (s.rrf_k + rank + 1)
                    chunks.setdefault(cid, (hit.chunk, hit.document))
                    if hit.source == "dense":
                        if adapted is None:  # a mapped question's similarity is not the plain one
                            dense_score.setdefault(cid, hit.score)
                    else:
                        lex_score.setdefault(cid, hit.score)
        # Passages whose plain-language questions come closest to this one.
        lead = 0.0
        if self.topics is not None and s.topic_weight:
            # Only entries whose passage the caller may read count, even for the lead.
            # The rules' questions and the organisation's own are two rankings, each with its
            # own candidates and lead: a policy section that restates a rule does not take the
            # rule's place.
            found: list[tuple[float, Chunk, bool]] = []
            taken: dict[bool, int] = {}
            matches = self.topics.rank(
                vector, 4 * s.topic_candidates, -1.0, question, s.topic_lexical_weight
            )
            for match in matches:
                hits = self.index.find_locator(match.locator, scope)
                kind = bool(hits) and self._is_rule(hits[0])
                if not hits or taken.get(kind, 0) >= s.topic_candidates:
                    continue
                taken[kind] = taken.get(kind, 0) + 1
                found.append((match.score, hits[0], kind))
                lead = max(lead, match.similarity)  # by meaning alone, for abstention
            gains = topic_gains([f[0] for f in found], [f[2] for f in found], s)
            for (_, chunk, _), gain in zip(found, gains, strict=True):
                if gain:
                    cid = chunk.chunk_id
                    fused[cid] = fused.get(cid, 0.0) + gain
                    chunks.setdefault(cid, (chunk, self.index.document(chunk.doc_id)))
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
        # Citation following: the organisation's passages cite the rule paragraphs they implement
        # ("... (45 CFR 164.312(b))"); those paragraphs join the candidates.
        cited_boost = s.cited_rule_boost / (s.rrf_k + 1)
        leaders = sorted(fused, key=lambda c: -fused[c])[: s.cited_rule_from_top]
        for cid in leaders:
            chunk, doc = chunks[cid]
            if doc.doc_type not in ("policy", "baa"):
                continue
            for loc in find_cfr_locators(chunk.text)[:4]:
                for target in self.index.find_locator(loc, scope)[:1]:
                    tid = target.chunk_id
                    fused[tid] = fused.get(tid, 0.0) + cited_boost
                    chunks.setdefault(tid, (target, self.index.document(target.doc_id)))
        for cid, (chunk, doc) in chunks.items():
            if cid not in fused:
                continue
            last = chunk.heading_path[-1] if chunk.heading_path else ""
            if any(word in last for word in self._demote):
                fused[cid] *= 0.5
            fused[cid] *= s.doc_type_weights.get(doc.doc_type, 1.0)
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
        if len(ordered) > k:
            quotas = {("rule",): s.min_rule_passages, ("policy", "baa"): s.min_org_passages}
            ordered = _with_quotas(
                ordered, k, quotas, s.rule_depth, lambda c: chunks[c][1].doc_type
            )
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
        return Retrieval(
            plan=plan,
            passages=passages[:k],
            timings=timings,
            top_dense=max((h.score for h in dense), default=0.0),
            top_topic=max(lead, 0.0),
        )


def topic_gains(sims: list[float], kinds: list[bool], s: RetrievalSettings) -> list[float]:
    """The boost of each question-index match (best first; ``kinds``: which ranking it belongs
    to, the rules' or the organisation's). By similarity, not rank: each ranking's best match
    gets the full weight, near-ties share it (``topic_spread``), and a ranking whose best match
    trails the other's is scaled down by its gap (``topic_kind_spread``). Matches below
    ``topic_min_similarity`` get nothing."""
    if not sims:
        return []
    lead = max(sims)
    leads: dict[bool, float] = {}
    for sim, kind in zip(sims, kinds, strict=True):
        leads[kind] = max(leads.get(kind, sim), sim)
    full = s.topic_weight / (s.rrf_k + 1)
    return [
        0.0
        if sim < s.topic_min_similarity
        else full
        * math.exp((sim - leads[kind]) / s.topic_spread)
        * math.exp((leads[kind] - lead) / s.topic_kind_spread)
        for sim, kind in zip(sims, kinds, strict=True)
    ]


def _with_quotas(
    ordered: list[str],
    k: int,
    quotas: dict[tuple[str, ...], int],
    depth: int,
    kind: Callable[[str], str],
) -> list[str]:
    """Make sure the first ``k`` hold at least the quota of each kind of source when such
    passages rank within ``depth`` (the rule beside the organisation's own documents). A promoted
    passage takes the place of the lowest one whose kind stays above its own quota."""
    head, tail = list(ordered[:k]), list(ordered[k:depth])

    def count(kinds: tuple[str, ...]) -> int:
        return sum(1 for c in head if kind(c) in kinds)

    def spare(c: str) -> bool:
        return all(kind(c) not in kinds or count(kinds) > want for kinds, want in quotas.items())

    for kinds, want in quotas.items():
        for cand in [c for c in tail if kind(c) in kinds]:
            if count(kinds) >= want:
                break
            lowest = max(
                (i for i, c in enumerate(head) if kind(c) not in kinds and spare(c)), default=None
            )
            if lowest is None:
                break
            demoted = head.pop(lowest)
            head.append(cand)
            tail.remove(cand)
            tail.insert(0, demoted)
    return head + tail + list(ordered[depth:])

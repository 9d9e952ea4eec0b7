"""The rankings retrieval fuses: each finds passages for the question on its own evidence.

- ``dense``: passages by meaning (cosine similarity of embeddings);
- ``lexical``: passages by words (BM25 over the question and the vocabulary bridge's rule words);
- ``adapted_dense``: by meaning, with the question carried by the query adapter towards the
  passages that answer such questions;
- ``tuned_dense``: by meaning, with the question embedded by the encoder trained here on the
  rules' questions of the question index (``tuning.py``); it reorders the rule passages within
  the rule's places and never takes a place from the organisation's documents (a ``reorder``
  stage);
- ``rule_dense`` / ``rule_lexical``: the same over the rule text alone, so the rule's own wording
  gets a fair place beside policies that restate it in staff words;
- ``named_contract``: the contract of a vendor the question names, its clauses ranked by meaning
  and by words among themselves (the rankings over everything find few of one contract's clauses,
  and a boost alone leaves the ones they found in their order);
- ``question_index``: passages whose plain-language questions come closest to this one;
- ``vocabulary_bridge``: rule paragraphs the staff-words bridge links to the question's words.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from assistant.retrieval.stages import Contribution, Query, StageKind, rrf_units
from assistant.retrieval.topics import TopicIndex
from core.index.reader import Index, Scope
from core.settings import RetrievalSettings


@dataclass(frozen=True)
class Dense:
    index: Index
    settings: RetrievalSettings
    name: str = "dense"
    kind: StageKind = "rank"

    def run(self, query: Query, fused: Mapping[str, float]) -> Contribution:
        hits = self.index.dense(
            query.text, self.settings.dense_candidates, query.scope, query.vector
        )
        return Contribution(
            scores=rrf_units([h.chunk.chunk_id for h in hits], self.settings.rrf_k),
            similarity={h.chunk.chunk_id: h.score for h in hits},
            top_similarity=max((h.score for h in hits), default=0.0),
        )


@dataclass(frozen=True)
class Lexical:
    index: Index
    settings: RetrievalSettings
    name: str = "lexical"
    kind: StageKind = "rank"

    def run(self, query: Query, fused: Mapping[str, float]) -> Contribution:
        hits = self.index.lexical_search(
            query.plan.lexical_query, self.settings.lexical_candidates, query.scope
        )
        return Contribution(
            scores=rrf_units([h.chunk.chunk_id for h in hits], self.settings.rrf_k),
            lexical={h.chunk.chunk_id: h.score for h in hits},
        )


@dataclass(frozen=True)
class AdaptedDense:
    index: Index
    settings: RetrievalSettings
    name: str = "adapted_dense"
    kind: StageKind = "rank"

    def run(self, query: Query, fused: Mapping[str, float]) -> Contribution:
        if query.adapted is None:
            return Contribution(scores={})
        hits = self.index.dense(
            query.text, self.settings.dense_candidates, query.scope, query.adapted
        )
        # a mapped question's similarity is not the plain one: no similarities reported
        return Contribution(scores=rrf_units([h.chunk.chunk_id for h in hits], self.settings.rrf_k))


@dataclass(frozen=True)
class TunedDense:
    index: Index
    settings: RetrievalSettings
    name: str = "tuned_dense"
    kind: StageKind = "reorder"

    def run(self, query: Query, fused: Mapping[str, float]) -> Contribution:
        kinds = query.tuned_kinds
        if query.scope.doc_types is not None:
            kinds = kinds & query.scope.doc_types
        if query.tuned is None or not kinds:
            return Contribution(scores={})
        scope = Scope(query.scope.groups, kinds, query.scope.vendors)
        hits = self.index.dense(query.text, self.settings.dense_candidates, scope, query.tuned)
        # the trained encoder's similarities are on another scale: none reported
        return Contribution(scores=rrf_units([h.chunk.chunk_id for h in hits], self.settings.rrf_k))


def _kind_scope(scope: Scope, kind: str, vendors: frozenset[str] | None = None) -> Scope | None:
    """The caller's scope kept to one kind of document (and, given, to those vendors); ``None``
    when the scope leaves that kind out."""
    if scope.doc_types is not None and kind not in scope.doc_types:
        return None
    return Scope(scope.groups, frozenset({kind}), scope.vendors if vendors is None else vendors)


@dataclass(frozen=True)
class RuleDense:
    index: Index
    settings: RetrievalSettings
    name: str = "rule_dense"
    kind: StageKind = "rank"

    def run(self, query: Query, fused: Mapping[str, float]) -> Contribution:
        scope = _kind_scope(query.scope, "rule")
        if scope is None:
            return Contribution(scores={})
        vector = query.vector if query.adapted is None else query.adapted
        hits = self.index.dense(query.text, self.settings.rule_candidates, scope, vector)
        ids = [h.chunk.chunk_id for h in hits]
        similarity = {h.chunk.chunk_id: h.score for h in hits} if query.adapted is None else {}
        return Contribution(scores=rrf_units(ids, self.settings.rrf_k), similarity=similarity)


@dataclass(frozen=True)
class RuleLexical:
    index: Index
    settings: RetrievalSettings
    name: str = "rule_lexical"
    kind: StageKind = "rank"

    def run(self, query: Query, fused: Mapping[str, float]) -> Contribution:
        scope = _kind_scope(query.scope, "rule")
        if scope is None:
            return Contribution(scores={})
        hits = self.index.lexical_search(
            query.plan.lexical_query, self.settings.rule_candidates, scope
        )
        return Contribution(
            scores=rrf_units([h.chunk.chunk_id for h in hits], self.settings.rrf_k),
            lexical={h.chunk.chunk_id: h.score for h in hits},
        )


@dataclass(frozen=True)
class NamedContract:
    index: Index
    settings: RetrievalSettings
    name: str = "named_contract"
    kind: StageKind = "rank"

    def run(self, query: Query, fused: Mapping[str, float]) -> Contribution:
        vendors = query.plan.vendors
        scope = _kind_scope(query.scope, "baa", frozenset(vendors)) if vendors else None
        if scope is None:
            return Contribution(scores={})
        n = self.settings.named_contract_candidates
        by_meaning = self.index.dense(query.text, n, scope, query.vector)
        by_words = self.index.lexical_search(query.plan.lexical_query, n, scope)
        scores: dict[str, float] = {}
        for hits in (by_meaning, by_words):
            for cid, value in rrf_units(
                [h.chunk.chunk_id for h in hits], self.settings.rrf_k
            ).items():
                scores[cid] = scores.get(cid, 0.0) + value
        return Contribution(scores=scores)


@dataclass(frozen=True)
class QuestionIndex:
    """The question index's matches, by similarity rather than rank: each kind's best match (the
    rules' questions, the organisation's) is worth a first place, near-ties share it, and the
    kind whose best trails the other's counts less (``topic_gains``). Only entries whose passage
    the caller may read count, even for the lead."""

    index: Index
    settings: RetrievalSettings
    topics: TopicIndex
    name: str = "question_index"
    kind: StageKind = "rank"

    def run(self, query: Query, fused: Mapping[str, float]) -> Contribution:
        s = self.settings
        found: list[tuple[float, str, bool]] = []
        taken: dict[bool, int] = {}
        lead = 0.0
        matches = self.topics.rank(
            query.vector, 4 * s.topic_candidates, -1.0, query.text, s.topic_lexical_weight
        )
        for match in matches:
            hits = self.index.find_locator(match.locator, query.scope)
            rule = bool(hits) and self.index.document(hits[0].doc_id).doc_type == "rule"
            if not hits or taken.get(rule, 0) >= s.topic_candidates:
                continue
            taken[rule] = taken.get(rule, 0) + 1
            found.append((match.score, hits[0].chunk_id, rule))
            lead = max(lead, match.similarity)  # by meaning alone, for abstention
        gains = topic_gains([f[0] for f in found], [f[2] for f in found], s)
        scores: dict[str, float] = {}
        for (_, cid, _), gain in zip(found, gains, strict=True):
            if gain:
                scores[cid] = scores.get(cid, 0.0) + gain
        return Contribution(scores=scores, lead=max(lead, 0.0))


def topic_gains(sims: list[float], kinds: list[bool], s: RetrievalSettings) -> list[float]:
    """The value of each question-index match (best first; ``kinds``: which ranking it belongs
    to, the rules' or the organisation's), in reciprocal-rank units: each ranking's best match
    gets a first place, near-ties share it (``topic_spread``), and a ranking whose best match
    trails the other's is scaled down by its gap (``topic_kind_spread``). Matches below
    ``topic_min_similarity`` get nothing."""
    if not sims:
        return []
    lead = max(sims)
    leads: dict[bool, float] = {}
    for sim, kind in zip(sims, kinds, strict=True):
        leads[kind] = max(leads.get(kind, sim), sim)
    first = 1.0 / (s.rrf_k + 1)
    return [
        0.0
        if sim < s.topic_min_similarity
        else first
        * math.exp((sim - leads[kind]) / s.topic_spread)
        * math.exp((leads[kind] - lead) / s.topic_kind_spread)
        for sim, kind in zip(sims, kinds, strict=True)
    ]


@dataclass(frozen=True)
class VocabularyBridge:
    index: Index
    settings: RetrievalSettings
    name: str = "vocabulary_bridge"
    kind: StageKind = "rank"

    def run(self, query: Query, fused: Mapping[str, float]) -> Contribution:
        first = 1.0 / (self.settings.rrf_k + 1)
        scores: dict[str, float] = {}
        for loc in query.plan.related_locators:
            for chunk in self.index.find_locator(loc, query.scope)[
                : self.settings.locator_max_chunks
            ]:
                scores[chunk.chunk_id] = scores.get(chunk.chunk_id, 0.0) + first
        return Contribution(scores=scores)

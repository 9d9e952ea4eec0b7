"""Hybrid retrieval: named stages (``rankers``, ``boosts``) fused by weighted reciprocal rank
(``stages.combine``, weights in ``retrieval.weights``), then a named locator first and a place for
each kind of source (``ordering``), all within the caller's access scope."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from assistant.retrieval.adapter import QueryAdapter
from assistant.retrieval.boosts import CitedRule, NamedDocument, SectionDemotion
from assistant.retrieval.ordering import (
    named_locator_hits,
    organisation_first,
    organisation_lead,
    reorder_rule_places,
    shared_places,
    with_quotas,
)
from assistant.retrieval.passages import ScoredPassage
from assistant.retrieval.query import QueryPlan, analyze, short_ids, short_ids_named
from assistant.retrieval.rankers import (
    AdaptedDense,
    Dense,
    Lexical,
    NamedContract,
    QuestionIndex,
    RuleDense,
    RuleLexical,
    TunedDense,
    VocabularyBridge,
)
from assistant.retrieval.rerank import Reranker
from assistant.retrieval.stages import Query, Stage, combine, read_only
from assistant.retrieval.titles import title_words, titled_documents
from assistant.retrieval.topics import Topic, TopicIndex
from assistant.retrieval.tuning import TunedEncoder
from assistant.retrieval.vendors import (
    described_vendors,
    descriptors,
    name_aliases,
    named_outright,
)
from assistant.retrieval.vocabulary import Vocabulary
from assistant.safety.placeholders import without_placeholders
from core.index.reader import Index, Scope
from core.settings import RetrievalSettings

log = logging.getLogger(__name__)


@dataclass
class Retrieval:
    plan: QueryPlan
    passages: list[ScoredPassage]
    timings: dict[str, float] = field(default_factory=dict)
    top_dense: float = 0.0  # the closest passage in scope by cosine similarity, kept or not
    top_topic: float = 0.0  # the closest question of the question index (0: none)
    stage_ms: dict[str, float] = field(default_factory=dict)  # time each stage that ran took

    @property
    def best_dense(self) -> float:
        """How close the closest passage comes to the question (cosine similarity)."""
        return max(self.top_dense, max((p.dense or 0.0 for p in self.passages), default=0.0))


class Retriever(Protocol):
    """What the answering layer asks of retrieval: the index it searches (who may read what,
    its words), a ranking for a question, and one more question-index entry."""

    @property
    def index(self) -> Index: ...

    def retrieve(self, question: str, scope: Scope, k: int | None = None) -> Retrieval: ...

    def add_question(self, locator: str, question: str) -> bool: ...


class HybridRetriever:
    def __init__(
        self,
        index: Index,
        settings: RetrievalSettings,
        vocabulary: Vocabulary,
        reranker: Reranker | None = None,
        topics: TopicIndex | None = None,
        adapter: QueryAdapter | None = None,
        tuned: TunedEncoder | None = None,
    ) -> None:
        self.index = index
        self.settings = settings
        self.vocabulary = vocabulary
        self.reranker = reranker
        self.topics = topics
        self.adapter = adapter
        self.tuned = tuned  # the question encoder trained on the question index, if any
        self.stages = build_stages(index, settings, topics)
        self._doc_prefixes: dict[str, str] = {}
        openings: dict[str, str] = {}
        titles: dict[str, str] = {}
        for doc_id, entry in index.entries.items():
            doc = entry.document
            if doc.doc_type == "policy" and doc.title:
                titles[doc_id.upper()] = doc.title
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
        self._titles = title_words(titles)
        policies = (d for d, e in index.entries.items() if e.document.doc_type == "policy")
        self._short_ids = short_ids(policies)  # "VM-02" for "SHP-VM-02"

    def add_question(self, locator: str, question: str) -> bool:
        """One more question-index entry, in effect for the next retrieval (no re-ingest); False
        when the index holds it already."""
        if self.topics is not None and self.topics.holds(locator, question):
            return False
        vector = self.index.embedder.embed_query(question)
        if self.topics is None:
            topics = TopicIndex([Topic(locator, (question,))], np.asarray([vector], np.float32))
        else:
            topics = self.topics.with_question(locator, question, vector)
        stages = build_stages(self.index, self.settings, topics)
        self.topics, self.stages = topics, stages  # each request reads one or the other whole
        return True

    def plan(self, question: str) -> QueryPlan:
        """What the question names, and the vocabulary bridge's rule words for it (the bridge is
        the ``vocabulary_bridge`` stage: switched off, it adds nothing anywhere)."""
        bridge = self.settings.active("vocabulary_bridge")
        plan = analyze(
            question,
            doc_prefixes=self._doc_prefixes,
            vendors=self._vendors,
            expansion=self.vocabulary.expand(question) if bridge else [],
            bridged_words=self.vocabulary.known_words(question) if bridge else set(),
        )
        for vendor in described_vendors(question, self._described):
            if vendor not in plan.vendors:
                plan.vendors.append(vendor)
        shortened = short_ids_named(question, self._short_ids)
        for doc_id in [*(d for d, _ in shortened), *titled_documents(question, self._titles)]:
            if doc_id not in plan.doc_ids:
                plan.doc_ids.append(doc_id)
        for doc_id, clause in shortened:  # "VM-02 §5.1" is SHP-VM-02 §5.1
            locator = f"{self._doc_prefixes.get(doc_id, doc_id)} §{clause}"
            if clause and locator not in plan.locators:
                plan.locators.append(locator)
        return plan

    def retrieve(self, question: str, scope: Scope, k: int | None = None) -> Retrieval:
        k = k or self.settings.k
        s = self.settings
        t0 = time.perf_counter()
        question = without_placeholders(question)  # "MRN [MRN]" is not what is asked
        plan = self.plan(question)
        vector = self.index.embed_query(question)
        query = Query(
            text=question,
            plan=plan,
            scope=scope,
            vector=vector,
            adapted=self.adapter.apply(vector) if self.adapter is not None else None,
            tuned=self._tuned_vector(question),
            tuned_kinds=self.tuned.kinds if self.tuned is not None else frozenset(),
        )
        embed_ms = (time.perf_counter() - t0) * 1000
        stage_ms: dict[str, float] = {}
        fused: dict[str, float] = {}
        reorder: dict[str, float] = {}  # the reorder stages' values, kept out of ``fused``
        similarity: dict[str, float] = {}
        dense_similarity: dict[str, float] = {}
        lexical: dict[str, float] = {}
        top_dense = 0.0
        lead = 0.0
        for stage in self.stages:
            if not s.active(stage.name):
                continue
            t = time.perf_counter()
            out = stage.run(query, read_only(fused))
            if stage.kind == "reorder":
                reorder = combine(reorder, "rank", s.weights[stage.name], out)
            else:
                fused = combine(fused, stage.kind, s.weights[stage.name], out)
            stage_ms[stage.name] = (time.perf_counter() - t) * 1000
            for cid, value in out.similarity.items():
                similarity.setdefault(cid, value)
            if stage.name == "dense":  # the plain question's similarities decide the routing
                dense_similarity = dict(out.similarity)
            for cid, value in out.lexical.items():
                lexical.setdefault(cid, value)
            if out.top_similarity is not None:
                top_dense = max(top_dense, out.top_similarity)
            if out.lead is not None:
                lead = max(lead, out.lead)
        located = named_locator_hits(self.index, query, s) if s.active("named_locator") else []
        top = sorted(fused, key=lambda cid: -fused[cid])
        ordered = located + [cid for cid in top if cid not in located]
        lead_org = organisation_lead(dense_similarity, self._doc_type)
        # a question naming one of the organisation's vendors outright ("Can Kestrel ...?", not
        # "does our AI scribe vendor need a BAA?", which asks the rule) is about its contract
        named = any(named_outright(plan.question, v) for v in plan.vendors)
        if s.active("source_routing") and (lead_org >= s.route_margin or named) and not located:
            leads = lead_org >= s.route_order_margin or named
            rule_places = s.routed_rule_passages
            if named:  # the contract's clauses first, with the rule's minimum beside them
                rule_places = min(rule_places, s.min_rule_passages)
            ordered = organisation_first(ordered, k, rule_places, self._doc_type, org_leads=leads)
            if named and plan.doc_ids:  # a contract and a policy named: both are read
                ordered = self._shared_among_named(ordered, k, plan)
        elif len(ordered) > k and s.active("source_quotas"):
            quotas = {("rule",): s.min_rule_passages, ("policy", "baa"): s.min_org_passages}
            ordered = with_quotas(ordered, k, quotas, s.rule_depth, self._doc_type)
        if reorder and not located:
            ordered = reorder_rule_places(ordered, k, fused, reorder, self._doc_type, s.rule_depth)
        timings = {
            "dense_ms": embed_ms + stage_ms.get("dense", 0.0),
            "lexical_ms": stage_ms.get("lexical", 0.0),
        }
        head = max(fused.values(), default=0.0)
        passages = [
            ScoredPassage(
                chunk=self.index.by_id[cid],
                document=self.index.document(self.index.by_id[cid].doc_id),
                score=round(float(fused.get(cid, 0.0) + (2 * head if cid in located else 0.0)), 6),
                dense=round(float(similarity[cid]), 6) if cid in similarity else None,
                lexical=round(float(lexical[cid]), 6) if cid in lexical else None,
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
            top_dense=top_dense,
            top_topic=lead,
            stage_ms=stage_ms,
        )

    def _tuned_vector(self, question: str) -> np.ndarray | None:
        if self.tuned is None or not self.settings.active("tuned_dense"):
            return None
        vector = self.tuned.encoder.embed_query(question)
        return vector / max(float(np.linalg.norm(vector)), 1e-12)

    def _shared_among_named(self, ordered: list[str], k: int, plan: QueryPlan) -> list[str]:
        """The top ``k`` with its organisation places shared among the contracts of the vendors
        the question names and the documents it names by id or title."""
        sources = [
            doc_id
            for doc_id, entry in self.index.entries.items()
            if entry.document.doc_type == "baa" and entry.document.vendor in plan.vendors
        ]
        sources += [d for d in plan.doc_ids if d.upper() not in {x.upper() for x in sources}]
        by_id = {src.upper(): src for src in sources}

        def source_of(cid: str) -> str | None:
            return by_id.get(self.index.by_id[cid].doc_id.upper())

        return shared_places(ordered, k, source_of, sources)

    def _doc_type(self, cid: str) -> str:
        return self.index.document(self.index.by_id[cid].doc_id).doc_type


def build_stages(
    index: Index, settings: RetrievalSettings, topics: TopicIndex | None
) -> list[Stage]:
    """The stages in the order they run (boosts read what the rankings before them found)."""
    stages: list[Stage] = [
        Dense(index, settings),
        Lexical(index, settings),
        AdaptedDense(index, settings),
        TunedDense(index, settings),
        RuleDense(index, settings),
        RuleLexical(index, settings),
        NamedContract(index, settings),
    ]
    if topics is not None:
        stages.append(QuestionIndex(index, settings, topics))
    stages += [
        NamedDocument(index, settings),
        VocabularyBridge(index, settings),
        CitedRule(index, settings),
        SectionDemotion(index, settings),
    ]
    return stages

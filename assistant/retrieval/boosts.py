"""Stages that adjust the candidates the rankings found (they read the fused scores so far):

- ``named_document``: passages of a document or vendor the question names move up (a policy
  by its id, "AI-301", or its title, "our encryption policy": ``titles.py``);
- ``cited_rule``: the rule paragraphs that the leading policy or BAA passages cite join in
  (citation following: "... (45 CFR 164.312(b))");
- ``section_demotion``: sections that rarely answer a question (Purpose, Scope ...) count less,
  unless the question is about the document itself ("Does the AI policy apply to contractors?").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from assistant.retrieval.query import find_cfr_locators
from assistant.retrieval.stages import Contribution, Query, StageKind
from core.index.reader import Index
from core.settings import RetrievalSettings
from core.words import word_list


@dataclass(frozen=True)
class NamedDocument:
    index: Index
    settings: RetrievalSettings
    name: str = "named_document"
    kind: StageKind = "boost"

    def run(self, query: Query, fused: Mapping[str, float]) -> Contribution:
        plan = query.plan
        if not plan.doc_ids and not plan.vendors:
            return Contribution(scores={})
        first = 1.0 / (self.settings.rrf_k + 1)
        scores: dict[str, float] = {}
        for cid in fused:
            chunk = self.index.by_id[cid]
            doc = self.index.document(chunk.doc_id)
            if chunk.doc_id.upper() in plan.doc_ids or (doc.vendor and doc.vendor in plan.vendors):
                scores[cid] = first
        return Contribution(scores=scores)


@dataclass(frozen=True)
class CitedRule:
    index: Index
    settings: RetrievalSettings
    name: str = "cited_rule"
    kind: StageKind = "boost"

    def run(self, query: Query, fused: Mapping[str, float]) -> Contribution:
        first = 1.0 / (self.settings.rrf_k + 1)
        leaders = sorted(fused, key=lambda c: -fused[c])[: self.settings.cited_rule_from_top]
        scores: dict[str, float] = {}
        for cid in leaders:
            chunk = self.index.by_id[cid]
            if self.index.document(chunk.doc_id).doc_type not in ("policy", "baa"):
                continue
            for loc in find_cfr_locators(chunk.text)[:4]:
                for target in self.index.find_locator(loc, query.scope)[:1]:
                    scores[target.chunk_id] = scores.get(target.chunk_id, 0.0) + first
        return Contribution(scores=scores)


@dataclass(frozen=True)
class SectionDemotion:
    index: Index
    settings: RetrievalSettings
    name: str = "section_demotion"
    kind: StageKind = "factor"

    def run(self, query: Query, fused: Mapping[str, float]) -> Contribution:
        if set(re.findall(r"[a-z]+", query.text.lower())) & word_list("about_the_document"):
            return Contribution(scores={})  # "Does the AI policy apply to contractors?"
        words = tuple(f" {w}" for w in self.settings.demote_sections)
        scores: dict[str, float] = {}
        for cid in fused:
            path = self.index.by_id[cid].heading_path
            last = path[-1] if path else ""
            if any(w in last for w in words):
                scores[cid] = 0.5
        return Contribution(scores=scores)

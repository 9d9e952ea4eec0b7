"""The rule paragraphs the organisation's own passages cite.

A policy sentence such as "Access is disabled within 4 hours of an involuntary termination
(45 CFR 164.308(a)(3)(ii)(C))" names the paragraph of the rule it carries out. When that sentence
is quoted, the paragraph it names is the rule to quote beside it, whether or not retrieval ranked
it: the organisation's own citation is a better pointer to the rule than a paragraph that only
shares words with the question (the same "access" and "days" in the rule on patients' access
requests). ``followed`` finds those paragraphs for the answerer; the extractive answerer quotes
one only when a sentence it quotes cites it.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.retrieval.passages import ScoredPassage
from assistant.retrieval.query import find_cfr_locators
from core.index.reader import Index, Scope

_OWN_KINDS = ("policy", "baa")


def followed(
    index: Index, passages: Sequence[ScoredPassage], scope: Scope, limit: int = 6
) -> list[ScoredPassage]:
    """The rule passages (at most ``limit``) that the policy and BAA passages among ``passages``
    cite and that are not among them, in the order they are cited; within ``scope``."""
    have = {p.chunk.chunk_id for p in passages}
    out: list[ScoredPassage] = []
    for p in passages:
        if p.document.doc_type not in _OWN_KINDS:
            continue
        for locator in find_cfr_locators(p.chunk.text):
            for chunk in index.find_locator(locator, scope)[:1]:
                if chunk.chunk_id in have:
                    continue
                have.add(chunk.chunk_id)
                out.append(ScoredPassage(chunk, index.document(chunk.doc_id), 0.0, None, None))
                if len(out) >= limit:
                    return out
    return out

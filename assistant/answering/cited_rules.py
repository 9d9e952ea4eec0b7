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

import re
from collections.abc import Sequence

from assistant.answering.text import sentences
from assistant.retrieval.passages import ScoredPassage
from assistant.retrieval.query import find_cfr_locators
from core.documents import Chunk
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
        for sentence in sentences(p.chunk.text):
            for locator in find_cfr_locators(sentence.text):
                chunk = cited_part(index.find_locator(locator, scope), sentence.text)
                if chunk is None or chunk.chunk_id in have:
                    continue
                have.add(chunk.chunk_id)
                out.append(ScoredPassage(chunk, index.document(chunk.doc_id), 0.0, None, None))
                if len(out) >= limit:
                    return out
    return out


def cited_part(parts: Sequence[Chunk], citing: str) -> Chunk | None:
    """The passage of a cited section that the citing sentence means: a section cut into one
    passage per defined term (45 CFR 160.103) is cited for the term the sentence names, or its
    plural ("it is not a Subcontractor under 45 CFR 160.103"); otherwise the section's first
    passage, its opening."""
    lowered = citing.lower()

    def names(chunk: Chunk) -> bool:
        return any(
            re.search(rf"\b{re.escape(m.group(1).lower())}s?\b", lowered)
            for loc in (chunk.locator, *(span.locator for span in chunk.spans))
            for m in _DEFINED.finditer(loc)
        )

    return next((c for c in parts if names(c)), parts[0] if parts else None)


_DEFINED = re.compile(r'"([^"]+)"')  # a defined term in a locator: 45 CFR 160.103 "Subcontractor"

"""A passage as retrieval hands it on: the chunk, its document and the scores that ranked it."""

from __future__ import annotations

from dataclasses import dataclass

from core.documents import Chunk, SourceDocument


@dataclass(frozen=True)
class ScoredPassage:
    chunk: Chunk
    document: SourceDocument
    score: float  # fused score (ranking)
    dense: float | None  # cosine similarity to the question, when the dense search found it
    lexical: float | None  # BM25 score, when the lexical search found it
    matched_locator: bool = False

"""Read side of the index: the live generation's chunks, its lexical index and its collection."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from assistant.documents import Chunk, SourceDocument
from assistant.embeddings import Embedder
from assistant.errors import IndexMissingError, ModelMismatchError
from assistant.index.lexical import BM25
from assistant.index.state import DocEntry, Generation, IndexState
from assistant.index.vector_store import VectorStore
from assistant.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    document: SourceDocument
    score: float
    source: str  # dense | lexical | locator


class Index:
    """The live index. Built once per process and shared (read-only) by all requests."""

    def __init__(self, settings: Settings, embedder: Embedder, store: VectorStore) -> None:
        gen = IndexState(settings.paths.index_dir).load()
        if gen is None:
            raise IndexMissingError("no index yet: run `hipaa-assistant ingest` first")
        if gen.embedding_model != embedder.model_id:
            raise ModelMismatchError(
                f"the index was built with embedding model '{gen.embedding_model}', but "
                f"'{embedder.model_id}' is configured; re-ingest with `hipaa-assistant ingest "
                "--rebuild` or configure the model the index was built with"
            )
        stored = store.metadata(gen.collection) or {}
        if stored.get("embedding_model") not in (None, embedder.model_id):
            raise ModelMismatchError(
                f"the vector collection holds embeddings of '{stored.get('embedding_model')}'"
            )
        self.generation: Generation = gen
        self._embedder = embedder
        self._store = store
        self.entries: dict[str, DocEntry] = {e.document.doc_id: e for e in gen.documents}
        superseded = {cid for e in gen.documents for cid in e.superseded_ids}
        self.chunks: list[Chunk] = [c for c in gen.chunks if c.chunk_id not in superseded]
        self.by_id: dict[str, Chunk] = {c.chunk_id: c for c in self.chunks}
        self._row = {c.chunk_id: i for i, c in enumerate(self.chunks)}
        self.lexical = BM25([c.chunk_id for c in self.chunks], [c.embed_text for c in self.chunks])

    def document(self, doc_id: str) -> SourceDocument:
        return self.entries[doc_id].document

    def allowed_rows(self, groups: set[str] | None) -> set[int] | None:
        if groups is None:
            return None
        visible = groups | {"public"}
        return {
            row
            for row, c in enumerate(self.chunks)
            if visible & set(self.document(c.doc_id).access_groups)
        }

    def _where(self, groups: set[str] | None) -> dict[str, Any] | None:
        if groups is None:
            return None
        keys = [{f"group_{g}": True} for g in sorted(groups | {"public"})]
        return keys[0] if len(keys) == 1 else {"$or": keys}

    def dense(self, query: str, k: int, groups: set[str] | None = None) -> list[Hit]:
        vec = self._embedder.embed_query(query)
        found = self._store.query(self.generation.collection, vec, k, where=self._where(groups))
        hits = []
        for chunk_id, dist in found:
            chunk = self.by_id.get(chunk_id)
            if chunk is not None:
                hits.append(Hit(chunk, self.document(chunk.doc_id), 1.0 - dist, "dense"))
        return hits

    def lexical_search(self, query: str, k: int, groups: set[str] | None = None) -> list[Hit]:
        found = self.lexical.search(query, k, self.allowed_rows(groups))
        return [
            Hit(self.by_id[i], self.document(self.by_id[i].doc_id), s, "lexical") for i, s in found
        ]

    def search(self, query: str, k: int = 5, groups: set[str] | None = None) -> list[Hit]:
        """Reciprocal-rank fusion of dense and lexical results."""
        fused: dict[str, float] = {}
        hits: dict[str, Hit] = {}
        for ranked in (self.dense(query, k * 4, groups), self.lexical_search(query, k * 4, groups)):
            for rank, hit in enumerate(ranked):
                fused[hit.chunk.chunk_id] = fused.get(hit.chunk.chunk_id, 0.0) + 1.0 / (60 + rank)
                hits.setdefault(hit.chunk.chunk_id, hit)
        order = sorted(fused, key=lambda cid: -fused[cid])[:k]
        return [Hit(hits[c].chunk, hits[c].document, fused[c], "hybrid") for c in order]

    def find_locator(self, locator: str, groups: set[str] | None = None) -> list[Chunk]:
        """Chunks whose locator, or a paragraph span inside them, is ``locator`` or under it."""
        want = _norm_locator(locator)
        allowed = self.allowed_rows(groups)
        out = []
        for row, chunk in enumerate(self.chunks):
            if allowed is not None and row not in allowed:
                continue
            locs = [chunk.locator, *(s.locator for s in chunk.spans)]
            if any(_norm_locator(loc).startswith(want) for loc in locs):
                out.append(chunk)
        return out


_SPACE = re.compile(r"\s+")


def _norm_locator(loc: str) -> str:
    loc = loc.replace("§", "").replace("CFR", "CFR ").lower()
    return _SPACE.sub("", loc)

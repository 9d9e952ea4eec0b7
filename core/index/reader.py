"""Read side of the index: the live generation's chunks, its lexical index and its collection."""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.documents import Chunk, SourceDocument
from core.embeddings import Embedder
from core.errors import IndexMissingError, ModelMismatchError
from core.index.state import DocEntry, Generation, IndexState
from core.index.vector_store import VectorStore
from core.lexical import BM25
from core.locators import inside, root
from core.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    document: SourceDocument
    score: float
    source: str  # dense | lexical | locator


@dataclass(frozen=True)
class Scope:
    """What a caller may see and wants to search. Every read of the index goes through one.

    ``groups``: the caller's access groups (``public`` documents are always visible);
    ``None`` means unrestricted and is only for trusted tooling (ingest checks, evals).
    ``doc_types`` / ``vendors``: optional filters (``None`` = all).
    """

    groups: frozenset[str] | None
    doc_types: frozenset[str] | None = None
    vendors: frozenset[str] | None = None

    @classmethod
    def for_groups(cls, groups: set[str] | list[str] | tuple[str, ...]) -> Scope:
        return cls(frozenset(groups))

    @classmethod
    def unrestricted(cls) -> Scope:
        return cls(None)

    def allows(self, doc: SourceDocument) -> bool:
        if self.groups is not None and not (set(doc.access_groups) & (self.groups | {"public"})):
            return False
        if self.doc_types is not None and doc.doc_type not in self.doc_types:
            return False
        return self.vendors is None or doc.doc_type != "baa" or doc.vendor in self.vendors


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
        self._allowed: dict[Scope, tuple[frozenset[int], np.ndarray]] = {}
        self._exact = settings.retrieval.dense_search == "exact"
        self._matrix: np.ndarray | None = None  # one unit vector per chunk row, loaded on use
        self._matrix_lock = threading.Lock()
        self._has_vector = np.zeros(len(self.chunks), dtype=bool)
        self._by_root: dict[str, list[int]] = {}
        for row, chunk in enumerate(self.chunks):
            roots = {root(loc) for loc in (chunk.locator, *(s.locator for s in chunk.spans))}
            for r in roots:
                self._by_root.setdefault(r, []).append(row)

    @property
    def embedder(self) -> Embedder:
        """The embedder the index was built and is queried with."""
        return self._embedder

    def document(self, doc_id: str) -> SourceDocument:
        return self.entries[doc_id].document

    def allowed_rows(self, scope: Scope) -> frozenset[int]:
        """Rows of the chunks ``scope`` may see (cached: few distinct scopes are ever asked)."""
        return self._access(scope)[0]

    def allowed_mask(self, scope: Scope) -> np.ndarray:
        """The same rows as a boolean mask over ``chunks``."""
        return self._access(scope)[1]

    def _access(self, scope: Scope) -> tuple[frozenset[int], np.ndarray]:
        cached = self._allowed.get(scope)
        if cached is None:
            ok_docs = {d for d, e in self.entries.items() if scope.allows(e.document)}
            mask = np.fromiter((c.doc_id in ok_docs for c in self.chunks), bool, len(self.chunks))
            cached = (frozenset(np.flatnonzero(mask).tolist()), mask)
            if len(self._allowed) > 256:
                self._allowed.clear()
            self._allowed[scope] = cached
        return cached

    def _where(self, scope: Scope, groups: bool = True) -> dict[str, Any] | None:
        """The store's filter for ``scope``; ``groups=False`` leaves out the access groups (a
        filter on them is slow in Chroma; the rows are checked here in any case)."""
        clauses: list[dict[str, Any]] = []
        if groups and scope.groups is not None:
            keys = [{f"group_{g}": True} for g in sorted(scope.groups | {"public"})]
            clauses.append(keys[0] if len(keys) == 1 else {"$or": keys})
        if scope.doc_types is not None:
            clauses.append({"doc_type": {"$in": sorted(scope.doc_types)}})
        if scope.vendors is not None:
            clauses.append(
                {"$or": [{"doc_type": {"$ne": "baa"}}, {"vendor": {"$in": sorted(scope.vendors)}}]}
            )
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def embed_query(self, query: str) -> np.ndarray:
        return self._embedder.embed_query(query)

    def dense(
        self, query: str, k: int, scope: Scope, vector: np.ndarray | None = None
    ) -> list[Hit]:
        """``vector``: the query's embedding, when the caller already has it.

        By default (``retrieval.dense_search=exact``) every passage the scope allows is scored
        here (see ``_exact_dense``). With ``hnsw``, the store searches: when the caller may read
        most of what the type filters leave, it is asked for a few more than ``k`` without the
        access-group filter and the rows are filtered here (much faster in Chroma); when too few
        remain, it is asked again with the full filter. Every hit is checked against the scope
        either way."""
        vec = self._embedder.embed_query(query) if vector is None else vector
        if self._exact:
            return self._exact_dense(np.asarray(vec, dtype=np.float32), k, scope)
        allowed = self.allowed_rows(scope)
        typed = len(self.allowed_rows(Scope(None, scope.doc_types, scope.vendors)))
        share = len(allowed) / typed if typed else 0.0
        hits: list[Hit] | None = None
        if scope.groups is not None and share >= 0.5:
            want = min(typed, math.ceil(k / share) + k)
            found = self._store.query(
                self.generation.collection, vec, want, where=self._where(scope, groups=False)
            )
            hits = self._kept(found, allowed)
            if len(hits) < k and len(found) >= want:
                hits = None  # too few readable among them: ask with the full filter
        if hits is None:
            found = self._store.query(self.generation.collection, vec, k, where=self._where(scope))
            hits = self._kept(found, allowed)
        return hits[:k]

    def _exact_dense(self, vec: np.ndarray, k: int, scope: Scope) -> list[Hit]:
        """Every readable passage scored (cosine), best first, ties by index row: exact, and
        the same in every process (an approximate graph search is neither)."""
        matrix = self._vectors()
        mask = self.allowed_mask(scope) & self._has_vector
        readable = int(mask.sum())
        if not readable or k <= 0:
            return []
        # all rows at once (a gather of the readable rows would copy most of the matrix)
        scores = matrix @ (vec / max(float(np.linalg.norm(vec)), 1e-12))
        scores[~mask] = -np.inf
        take = min(k, readable)
        best = np.argpartition(-scores, take - 1)[:take]
        best = best[np.lexsort((best, -scores[best]))]
        return [
            Hit(self.chunks[r], self.document(self.chunks[r].doc_id), float(scores[r]), "dense")
            for r in best.tolist()
        ]

    def _vectors(self) -> np.ndarray:
        """The collection's embeddings as a matrix aligned with ``chunks`` (read once)."""
        if self._matrix is not None:
            return self._matrix
        with self._matrix_lock:
            if self._matrix is None:
                matrix: np.ndarray | None = None
                has = np.zeros(len(self.chunks), dtype=bool)
                for ids, vectors in self._store.vector_pages(self.generation.collection):
                    if matrix is None:
                        matrix = np.zeros((len(self.chunks), vectors.shape[1]), dtype=np.float32)
                    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
                    vectors = vectors / np.maximum(norms, 1e-12)
                    for chunk_id, v in zip(ids, vectors, strict=True):
                        row = self._row.get(chunk_id)
                        if row is not None:
                            matrix[row] = v
                            has[row] = True
                if matrix is None:
                    matrix = np.zeros((len(self.chunks), 1), dtype=np.float32)
                if not has.all():
                    log.warning("%d passages have no vector in the store", int((~has).sum()))
                self._has_vector = has
                self._matrix = matrix
        return self._matrix

    def _kept(self, found: list[tuple[str, float]], allowed: frozenset[int]) -> list[Hit]:
        hits = []
        for chunk_id, dist in found:
            row = self._row.get(chunk_id)
            if row is None or row not in allowed:  # the store's filter is checked again here
                continue
            chunk = self.chunks[row]
            hits.append(Hit(chunk, self.document(chunk.doc_id), 1.0 - dist, "dense"))
        return hits

    def lexical_search(self, query: str, k: int, scope: Scope) -> list[Hit]:
        found = self.lexical.search(query, k, self.allowed_mask(scope))
        return [
            Hit(self.by_id[i], self.document(self.by_id[i].doc_id), s, "lexical") for i, s in found
        ]

    def row_of_locator(self, locator: str) -> int | None:
        """The row of the first passage ``find_locator`` gives for ``locator`` (any scope)."""
        found = self.find_locator(locator, Scope.unrestricted())
        return self._row[found[0].chunk_id] if found else None

    def passage_vectors(self) -> np.ndarray:
        """Every passage's unit vector, by row (zeros where the store has none)."""
        return self._vectors()

    def find_locator(self, locator: str, scope: Scope) -> list[Chunk]:
        """Chunks whose locator, or a paragraph span inside them, is ``locator`` or under it."""
        allowed = self.allowed_rows(scope)
        out = []
        for row in self._by_root.get(root(locator), ()):
            chunk = self.chunks[row]
            if row not in allowed:
                continue
            locs = [chunk.locator, *(s.locator for s in chunk.spans)]
            if any(inside(loc, locator) for loc in locs):
                out.append(chunk)
        return out

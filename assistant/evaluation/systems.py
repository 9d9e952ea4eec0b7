"""The retrieval systems compared in one eval run: the project's hybrid retriever and three
baselines over the same documents, embeddings and access scope."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from assistant.retrieval.retriever import HybridRetriever, Retriever
from core.embeddings import Embedder
from core.index.embed_cache import EmbeddingCache
from core.index.reader import Index, Scope
from core.settings import RETRIEVAL_STAGES, RetrievalSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retrieved:
    id: str
    text: str
    locators: tuple[str, ...]  # the passage's locator and every paragraph locator inside it
    source_kind: str = ""  # "rule" or "organisation" (policies, BAAs); "" when not known


class System(Protocol):
    name: str

    def retrieve(self, question: str, scope: Scope, k: int) -> list[Retrieved]: ...


def source_kind(doc_type: str) -> str:
    """The two kinds of source a question is answered from: the rule, or the organisation's own
    documents (policies and BAAs). Guidance is neither."""
    return {"rule": "rule", "policy": "organisation", "baa": "organisation"}.get(doc_type, "")


def _from_chunk(chunk: Any, kind: str = "") -> Retrieved:
    locators = (chunk.locator, *(s.locator for s in chunk.spans))
    return Retrieved(chunk.chunk_id, chunk.text, locators, kind)


class ProjectSystem:
    name = "hipaa-assistant (hybrid)"

    def __init__(self, retriever: Retriever) -> None:
        self.retriever = retriever

    def retrieve(self, question: str, scope: Scope, k: int) -> list[Retrieved]:
        return [
            _from_chunk(p.chunk, source_kind(p.document.doc_type))
            for p in self.retriever.retrieve(question, scope, k).passages
        ]


class PlainHybrid:
    """Dense and BM25 fused by reciprocal rank over the same chunks, with every other stage of
    the project switched off (no question index, adapter, vocabulary, boosts, pins or quotas):
    what an organisation's documents get from hybrid search alone."""

    name = "plain hybrid (dense + BM25)"

    def __init__(self, index: Index, settings: RetrievalSettings) -> None:
        from assistant.retrieval.vocabulary import Vocabulary

        off = [s for s in RETRIEVAL_STAGES if s not in ("dense", "lexical")]
        plain = settings.model_copy(update={"disabled": off})
        self.retriever = HybridRetriever(index, plain, Vocabulary([]))

    def retrieve(self, question: str, scope: Scope, k: int) -> list[Retrieved]:
        return [
            _from_chunk(p.chunk, source_kind(p.document.doc_type))
            for p in self.retriever.retrieve(question, scope, k).passages
        ]


class DenseOnly:
    name = "dense only"

    def __init__(self, index: Index) -> None:
        self.index = index

    def retrieve(self, question: str, scope: Scope, k: int) -> list[Retrieved]:
        return [_from_chunk(h.chunk) for h in self.index.dense(question, k, scope)]


class BM25Only:
    name = "BM25 only"

    def __init__(self, index: Index) -> None:
        self.index = index

    def retrieve(self, question: str, scope: Scope, k: int) -> list[Retrieved]:
        return [_from_chunk(h.chunk) for h in self.index.lexical_search(question, k, scope)]


class TutorialPipeline:
    """The LangChain tutorial pipeline: each document's text split by
    RecursiveCharacterTextSplitter(1000, 200), the same embeddings, Chroma similarity top-k. A
    split's locators are those of every paragraph it overlaps (so it is judged generously)."""

    name = "LangChain tutorial (1000/200 + Chroma)"

    def __init__(self, index: Index, embedder: Embedder, cache: EmbeddingCache) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaClientSettings
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(
            chunk_size=1000, chunk_overlap=200, add_start_index=True
        )
        self.index = index
        self.embedder = embedder
        self.items: list[Retrieved] = []
        self.doc_of: list[str] = []
        by_doc: dict[str, list[Any]] = {}
        for chunk in index.chunks:
            by_doc.setdefault(chunk.doc_id, []).append(chunk)
        for doc_id, chunks in by_doc.items():
            text_parts, intervals, pos = [], [], 0
            for c in chunks:
                intervals.append((pos, pos + len(c.text), c.locator))
                intervals.extend((pos + s.start, pos + s.end, s.locator) for s in c.spans)
                text_parts.append(c.text)
                pos += len(c.text) + 2
            text = "\n\n".join(text_parts)
            for j, split in enumerate(splitter.create_documents([text])):
                start = int(split.metadata.get("start_index", 0))
                end = start + len(split.page_content)
                locs = tuple(dict.fromkeys(loc for a, b, loc in intervals if a < end and b > start))
                self.items.append(Retrieved(f"{doc_id}#{j}", split.page_content, locs))
                self.doc_of.append(doc_id)
        vectors = _cached_embed(embedder, cache, [i.text for i in self.items])
        client = chromadb.EphemeralClient(ChromaClientSettings(anonymized_telemetry=False))
        from core.index.vector_store import as_chroma_ef

        name = "tutorial_baseline"
        if name in [c.name if hasattr(c, "name") else c for c in client.list_collections()]:
            client.delete_collection(name)  # the in-memory client is shared within a process
        self.collection = client.create_collection(
            name,
            # a graph searched widely and built on one thread: the same neighbours every run
            # (the default search flipped one Saguaro question in and out of the top 5)
            configuration={
                "hnsw": {
                    "space": "cosine",
                    "ef_search": 400,
                    "ef_construction": 400,
                    "num_threads": 1,
                }
            },
            embedding_function=as_chroma_ef(embedder),
        )
        for i in range(0, len(self.items), 1000):
            part = self.items[i : i + 1000]
            self.collection.add(
                ids=[str(i + j) for j in range(len(part))],
                embeddings=vectors[i : i + len(part)],
                metadatas=[{"doc_id": self.doc_of[i + j]} for j in range(len(part))],
            )

    def retrieve(self, question: str, scope: Scope, k: int) -> list[Retrieved]:
        allowed: list[Any] = sorted(
            d for d, e in self.index.entries.items() if scope.allows(e.document)
        )
        where: Any = {"doc_id": {"$in": allowed}}
        res = self.collection.query(
            query_embeddings=[self.embedder.embed_query(question)], n_results=k, where=where
        )
        return [self.items[int(i)] for i in res["ids"][0]]


def _cached_embed(embedder: Embedder, cache: EmbeddingCache, texts: Sequence[str]) -> np.ndarray:
    import hashlib

    keys = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]
    have = cache.get_many(embedder.model_id, keys)
    missing = [(k, t) for k, t in zip(keys, texts, strict=True) if k not in have]
    missing = list(dict(missing).items())
    for i in range(0, len(missing), 128):
        part = missing[i : i + 128]
        fresh = dict(zip([k for k, _ in part], embedder.embed([t for _, t in part]), strict=True))
        cache.put_many(embedder.model_id, fresh)
        have.update(fresh)
    return np.stack([have[k] for k in keys]) if keys else np.zeros((0, embedder.dimension))

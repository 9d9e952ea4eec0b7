"""Build the long-lived parts (embedder, vector store, index) from settings, once per process."""

from __future__ import annotations

from assistant.query_embedding import with_query_copy
from core.embeddings import Embedder, build_embedder
from core.index.reader import Index
from core.index.vector_store import ChromaStore, VectorStore
from core.settings import Settings


def open_store(settings: Settings, embedder: Embedder) -> VectorStore:
    return ChromaStore(settings.chroma, settings.paths, embedder)


def open_index(settings: Settings, embedder: Embedder | None = None) -> Index:
    """The live index; questions are embedded by the embedder's checked ONNX copy when ingest
    made one (``assistant.query_embedding``)."""
    embedder = with_query_copy(settings.embedding, embedder or build_embedder(settings.embedding))
    return Index(settings, embedder, open_store(settings, embedder))


def one_blas_thread_per_question() -> None:
    """Questions are answered in parallel on threads (the server's thread pool), so each of
    numpy's products runs on one thread: OpenBLAS's own threads (one per core) oversubscribe
    the cores when dozens of questions run at once, and without torch loaded (questions
    embedded by the ONNX copy) nothing else limits them. Measured, 40 questions at once on 2
    cores: 144 ms each with them, 17 ms without; the bounded load test 3.2 → 26 answers/s."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")

"""Vector store interface and its Chroma implementation (embedded or a Chroma server)."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import numpy as np

from core.embeddings import Embedder
from core.errors import ConfigError
from core.settings import ChromaSettings, PathSettings

log = logging.getLogger(__name__)


class VectorStore(Protocol):
    """The narrow surface the index needs from a vector database."""

    def create(self, name: str, metadata: dict[str, Any]) -> None: ...

    def add(
        self,
        name: str,
        ids: Sequence[str],
        embeddings: np.ndarray,
        metadatas: Sequence[dict[str, Any]],
        documents: Sequence[str],
    ) -> None: ...

    def query(
        self, name: str, embedding: np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]: ...

    def vector_pages(self, name: str) -> Iterator[tuple[list[str], np.ndarray]]:
        """Every id of the collection with its embedding, a page at a time (rows in the order
        of the ids), so a reader can copy them out without holding them all twice."""
        ...

    def count(self, name: str) -> int: ...

    def metadata(self, name: str) -> dict[str, Any] | None: ...

    def names(self, prefix: str) -> list[str]: ...

    def drop(self, name: str) -> None: ...


class _ChromaEmbeddingFunction:
    """Chroma's embedding-function hook over our ``Embedder`` (Chroma never picks its default,
    which would try to download a model)."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder

    def __call__(self, input: Sequence[str]) -> list[np.ndarray]:
        return list(self._embedder.embed(list(input)))

    def embed_query(self, input: Sequence[str]) -> list[np.ndarray]:
        return self(input)

    @staticmethod
    def name() -> str:
        return "hipaa_assistant"

    def get_config(self) -> dict[str, Any]:
        return {"model_id": self._embedder.model_id}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> Any:
        raise NotImplementedError("built by hipaa-assistant, not from stored config")

    def is_legacy(self) -> bool:
        return False

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine"]


def as_chroma_ef(embedder: Embedder) -> Any:
    """The embedder as Chroma's embedding function (Chroma's own default downloads a model), for
    any code that opens a Chroma collection itself: the store, the eval's plain baseline, the
    benchmarks."""
    from chromadb.api.types import EmbeddingFunction

    class _EF(_ChromaEmbeddingFunction, EmbeddingFunction):  # type: ignore[misc]
        pass

    return _EF(embedder)


class ChromaStore:
    """Chroma as ``VectorStore``. ``mode='persistent'`` keeps it under the data directory;
    ``mode='http'`` talks to a Chroma server (``chroma run``), with an optional bearer token."""

    def __init__(self, chroma: ChromaSettings, paths: PathSettings, embedder: Embedder) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaClientSettings

        client_settings = ChromaClientSettings(anonymized_telemetry=False, allow_reset=False)
        try:
            if chroma.mode == "http":
                headers = {}
                if chroma.auth_token is not None:
                    headers["Authorization"] = f"Bearer {chroma.auth_token.get_secret_value()}"
                self._client = chromadb.HttpClient(
                    host=chroma.host,
                    port=chroma.port,
                    ssl=chroma.ssl,
                    headers=headers,
                    settings=client_settings,
                )
            else:
                path = paths.index_dir / "chroma"
                path.mkdir(parents=True, exist_ok=True)
                self._client = chromadb.PersistentClient(path=str(path), settings=client_settings)
        except Exception as exc:
            log.exception("chroma client failed")
            where = (
                f"{chroma.host}:{chroma.port}" if chroma.mode == "http" else "the data directory"
            )
            raise ConfigError(
                f"cannot open the Chroma store at {where} ({type(exc).__name__})"
            ) from exc
        self._ef = as_chroma_ef(embedder)
        self._collections: dict[str, Any] = {}
        # Chroma cannot rebuild our embedding function from its stored config (by design: it is
        # always passed in) and warns about it on every read; only that warning is silenced.
        warnings.filterwarnings(
            "ignore", message="Could not reconstruct embedding function hipaa_assistant"
        )

    def _get(self, name: str) -> Any:
        col = self._collections.get(name)
        if col is None:
            col = self._client.get_collection(name, embedding_function=self._ef)
            self._collections[name] = col
        return col

    def create(self, name: str, metadata: dict[str, Any]) -> None:
        self.drop(name)
        self._collections[name] = self._client.create_collection(
            name,
            metadata=metadata,
            configuration={"hnsw": {"space": "cosine"}},
            embedding_function=self._ef,
        )

    def add(
        self,
        name: str,
        ids: Sequence[str],
        embeddings: np.ndarray,
        metadatas: Sequence[dict[str, Any]],
        documents: Sequence[str],
    ) -> None:
        col = self._get(name)
        batch = 1000
        for i in range(0, len(ids), batch):
            col.add(
                ids=list(ids[i : i + batch]),
                embeddings=embeddings[i : i + batch],
                metadatas=list(metadatas[i : i + batch]),
                documents=list(documents[i : i + batch]),
            )

    def query(
        self, name: str, embedding: np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        col = self._get(name)
        res = col.query(
            query_embeddings=[embedding], n_results=k, where=where or None, include=["distances"]
        )
        ids = res["ids"][0] if res["ids"] else []
        dists = res["distances"][0] if res.get("distances") else [0.0] * len(ids)
        return [(i, float(d)) for i, d in zip(ids, dists, strict=False)]

    def vector_pages(self, name: str) -> Iterator[tuple[list[str], np.ndarray]]:
        col = self._get(name)
        page = 2000
        offset = 0
        while True:
            got = col.get(include=["embeddings"], limit=page, offset=offset)
            batch = list(got["ids"] or [])
            if not batch:
                return
            yield batch, np.asarray(got["embeddings"], dtype=np.float32)
            offset += len(batch)
            if len(batch) < page:
                return

    def count(self, name: str) -> int:
        return int(self._get(name).count())

    def metadata(self, name: str) -> dict[str, Any] | None:
        try:
            return dict(self._get(name).metadata or {})
        except Exception:
            return None

    def names(self, prefix: str) -> list[str]:
        out = []
        for col in self._client.list_collections():
            name = col if isinstance(col, str) else col.name
            if name.startswith(prefix):
                out.append(name)
        return out

    def drop(self, name: str) -> None:
        self._collections.pop(name, None)
        try:
            self._client.delete_collection(name)
        except Exception:  # absent is fine
            log.debug("drop of %s: not present", name)

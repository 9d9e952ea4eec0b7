"""Test doubles that plug in where the real parts do (same registry, same interfaces)."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence

import numpy as np

from core.embeddings import register_embedder
from core.lexical import tokenize
from core.settings import EmbeddingSettings

FAKE_PROVIDER = "fake-hash"


class HashingEmbedder:
    """Deterministic bag-of-words vectors (feature hashing): fast, offline, and similar texts get
    similar vectors, so retrieval tests are meaningful. ``FAKE_EMBED_DELAY`` (seconds per text)
    slows it down for tests that must interrupt an ingest mid-embedding."""

    def __init__(self, settings: EmbeddingSettings, dim: int = 256) -> None:
        self._model_id = f"fake-hash/{settings.model}"
        self._dim = dim
        self.calls = 0
        self.texts_embedded = 0

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimension(self) -> int:
        return self._dim

    def _one(self, text: str) -> np.ndarray:
        vec = np.zeros(self._dim, dtype=np.float32)
        for tok in tokenize(text):
            h = int.from_bytes(hashlib.blake2b(tok.encode(), digest_size=8).digest(), "little")
            vec[h % self._dim] += 1.0 if (h >> 32) & 1 else -1.0
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm else vec

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.texts_embedded += len(texts)
        delay = float(os.environ.get("FAKE_EMBED_DELAY", "0") or 0)
        if delay:
            time.sleep(delay * len(texts))
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        return np.stack([self._one(t) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


def register() -> None:
    register_embedder(FAKE_PROVIDER, HashingEmbedder)

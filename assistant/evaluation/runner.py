"""One evaluation run: the project's chain and the baselines over the golden dataset, metrics per
question group, thresholds checked, results written to ``evals/results/<run>/``."""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from assistant.answering.chain import AnswerChain
from assistant.evaluation import metrics as m
from assistant.evaluation.dataset import ANSWER_GROUPS, GROUPS, Item, load_dataset
from assistant.evaluation.key_facts import load_key_facts, stated
from assistant.evaluation.report import write_report
from assistant.evaluation.systems import (
    BM25Only,
    DenseOnly,
    PlainHybrid,
    ProjectSystem,
    System,
    TutorialPipeline,
    source_kind,
)
from assistant.runtime.build import build_chain
from core.errors import ConfigError
from core.index.embed_cache import EmbeddingCache
from core.index.reader import Index, Scope
from core.settings import Settings

log = logging.getLogger(__name__)

RETRIEVAL_METRICS = (
    "hit@1",
    "hit@3",
    "hit@5",
    "mrr",
    "recall@5",
    "precision@5",
    "ragas_id_context_recall",
    "ragas_id_context_precision",
)


@dataclass
class EvalResult:
    summary: dict[str, Any]
    failures: list[str] = field(default_factory=list)
    out_dir: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.failures


def _gold_chunks(index: Index, gold: tuple[str, ...]) -> list[tuple[str, Any]]:
    """Each gold locator with the first passage that holds it (none: left out)."""
    everything = Scope.unrestricted()
    return [(g, chunk) for g in gold for chunk in index.find_locator(g, everything)[:1]]


def _gold_texts(found: list[tuple[str, Any]]) -> list[str]:
    texts = []
    for g, chunk in found:
        span = next((s for s in chunk.spans if s.locator == g), None)
        texts.append(chunk.text[span.start : span.end] if span else chunk.text)
    return texts


def run_eval(
    settings: Settings,
    index: Index,
    *,
    dataset_dir: Path,
    thresholds_path: Path | None,
    out_root: Path | None,
    run_name: str | None = None,
    baselines: bool = True,
    k: int = 5,
    depths: tuple[int, ...] = m.DEPTHS,
    chain: AnswerChain | None = None,
    judge: m.JudgeMetrics | None = None,
    key_facts_path: Path | None = None,
) -> EvalResult:
    started = time.perf_counter()
    items = load_dataset(dataset_dir)
    facts = load_key_facts(key_facts_path) if key_facts_path else {}
    chain = chain or build_chain(settings, index)
    embedder = index.embedder  # the same embeddings for every system
    systems: list[System] = [ProjectSystem(chain.retriever)]
    cache = EmbeddingCache(settings.paths.data_dir / "embedding-cache.sqlite")
    try:
        if baselines:
            systems += [
                PlainHybrid(index, settings.retrieval),
                DenseOnly(index),
                BM25Only(index),
                TutorialPipeline(index, embedder, cache),
            ]
        answer_metrics = m.AnswerMetrics(embedder)
        per_item: list[dict[str, Any]] = []
        for item in items:
            args = (item, chain, systems, index, answer_metrics, k, depths, judge)
            per_item.append(_evaluate_item(*args, facts=facts.get(item.id)))
    finally:
        cache.close()
    summary = _summarise(items, per_item, systems)
    summary["run"] = {
        "name": run_name or dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ"),
        "questions": len(items),
        "k": k,
        "depths": list(depths),
        "embedding_model": embedder.model_id,
        "answer_mode": chain.answerer.mode,
        "index_generation": index.generation.gen_id,
        "index_chunks": len(index.chunks),
        "seconds": round(time.perf_counter() - started, 1),
    }
    summary["per_question"] = per_item
    failures = check_thresholds(summary, thresholds_path) if thresholds_path else []
    summary["threshold_failures"] = failures
    result = EvalResult(summary, failures)
    if out_root is not None:
        result.out_dir = write_report(summary, out_root / summary["run"]["name"])
    return result


def _gold_kinds(index: Index, found: list[tuple[str, Any]]) -> set[str]:
    return {source_kind(index.document(chunk.doc_id).doc_type) for _, chunk in found}


def _evaluate_item(
    item: Item,
    chain: AnswerChain,
    systems: list[System],
    index: Index,
    answer_metrics: m.AnswerMetrics,
    k: int,
    depths: tuple[int, ...],
    judge: m.JudgeMetrics | None = None,
    facts: list[tuple[str, ...]] | None = None,
) -> dict[str, Any]:
    """``facts``: the key facts the answer must state (none: not scored)."""
    scope = Scope.for_groups(set(item.groups) | {"staff"})
    row: dict[str, Any] = {"id": item.id, "group": item.group, "retrieval": {}}
    if item.answerable:
        for system in systems:
            retrieved = system.retrieve(item.question, scope, k)
            scores = m.retrieval_scores(item, retrieved, k)
            if isinstance(system, ProjectSystem):
                found = _gold_chunks(index, item.gold)
                scores["non_llm_context_recall"] = m.non_llm_context_recall(
                    [r.text for r in retrieved], _gold_texts(found)
                )
                row["retrieved"] = [r.locators[0] for r in retrieved]
                if depths:
                    deep = system.retrieve(item.question, scope, max(depths))
                    kinds = _gold_kinds(index, found)
                    scores.update(m.depth_scores(item, deep, kinds, k, depths))
            row["retrieval"][system.name] = scores
    answer = chain.ask(item.question, scope)
    valid, total = m.citation_validity(answer)
    row.update(
        {
            "abstained": answer.abstained,
            "uncovered": list(answer.uncovered_terms),
            "should_abstain": not item.answerable,
            "citations_valid": valid,
            "citations_total": total,
            "cited": [c.locator for c in answer.citations],
            "latency_ms": round(answer.timings.get("total_ms", math.nan), 1),
        }
    )
    if facts:
        said = 0 if answer.abstained else stated(facts, answer.text)  # a refusal states none
        row["key_facts"] = {"stated": said, "facts": len(facts)}
    if item.answerable and not answer.abstained:
        row["answer"] = answer_metrics.score(item.reference, answer.text)
    if judge is not None:
        if answer.abstained:
            # a refusal has no claims to judge: NaN, reported apart rather than averaged as zero
            row["judge"] = {name: math.nan for name in m.JudgeMetrics.NAMES}
        else:
            row["judge"] = judge.score(
                item.question, answer.text, [p.text for p in answer.passages], item.reference
            )
    return row


def _summarise(
    items: list[Item], rows: list[dict[str, Any]], systems: list[System]
) -> dict[str, Any]:
    retrieval: dict[str, dict[str, dict[str, float]]] = {}
    for system in systems:
        per_group: dict[str, dict[str, float]] = {}
        for group in (*ANSWER_GROUPS, "all"):
            chosen = [r for r in rows if r["retrieval"] and (group == "all" or r["group"] == group)]
            if not chosen:
                continue
            names = list(RETRIEVAL_METRICS)
            if isinstance(system, ProjectSystem):
                names.append("non_llm_context_recall")
                names += [n for n in chosen[0]["retrieval"][system.name] if n not in names]
            per_group[group] = {
                name: round(m.mean([r["retrieval"][system.name][name] for r in chosen]), 4)
                for name in names
            }
            per_group[group]["questions"] = len(chosen)
        retrieval[system.name] = per_group
    answered = [r for r in rows if "answer" in r]
    valid = sum(r["citations_valid"] for r in rows)
    total = sum(r["citations_total"] for r in rows)
    abst = m.abstention([(r["should_abstain"], r["abstained"]) for r in rows])
    answerable = sum(1 for r in rows if not r["should_abstain"])
    refused = sum(1 for r in rows if r["abstained"] and not r["should_abstain"])
    # answered, with "none of the documents mentions <its focus>" first (focus.py)
    flagged = [r for r in rows if r.get("uncovered") and not r["abstained"]]
    answers = {
        "answered": len(answered),
        "abstained_when_answerable": refused,
        "flagged_when_answerable": sum(1 for r in flagged if not r["should_abstain"]),
        "unanswerable_flagged": sum(1 for r in flagged if r["should_abstain"]),
        "refused_share": round(refused / answerable, 4) if answerable else math.nan,
        "semantic_similarity": round(
            m.mean([r["answer"]["semantic_similarity"] for r in answered]), 4
        ),
        "rouge_l": round(m.mean([r["answer"]["rouge_l"] for r in answered]), 4),
        "citation_validity": round(valid / total, 4) if total else math.nan,
        "citations": total,
        "judge": "not run: no judge LLM configured (Faithfulness, ResponseRelevancy, "
        "FactualCorrectness need one; `eval --judge`)",
    }
    with_facts = [r for r in rows if "key_facts" in r]
    if with_facts:
        recall: dict[str, float] = {}
        for group in (*ANSWER_GROUPS, "all"):
            chosen = [r for r in with_facts if group == "all" or r["group"] == group]
            if chosen:
                shares = [r["key_facts"]["stated"] / r["key_facts"]["facts"] for r in chosen]
                recall[group] = round(m.mean(shares), 4)
        answers["key_fact_recall"] = recall
        answers["key_fact_questions"] = len(with_facts)
    judged = [r for r in rows if "judge" in r]
    if judged:
        scored = [r for r in judged if not r["abstained"]]
        answers["judge"] = {
            name: round(m.mean([r["judge"][name] for r in scored]), 4)
            for name in m.JudgeMetrics.NAMES
        }
        answers["judge"]["scored"] = len(scored)
        answers["judge"]["refusals_not_scored"] = len(judged) - len(scored)
        answers["judge"]["judge_failures"] = sum(
            1 for r in scored for name in m.JudgeMetrics.NAMES if math.isnan(r["judge"][name])
        )
    latencies = sorted(r["latency_ms"] for r in rows)
    answers["latency_p50_ms"] = latencies[len(latencies) // 2] if latencies else math.nan
    answers["latency_p95_ms"] = (
        latencies[int(0.95 * (len(latencies) - 1))] if latencies else math.nan
    )
    counts = {g: sum(1 for i in items if i.group == g) for g in GROUPS}
    return {
        "dataset": counts,
        "retrieval": retrieval,
        "answers": answers,
        "abstention": {k: round(v, 4) for k, v in abst.items()},
        "project_system": systems[0].name,
        "baselines": [s.name for s in systems[1:]],
    }


def check_thresholds(summary: dict[str, Any], path: Path) -> list[str]:
    """Every threshold in the file that the run misses, as a readable line."""
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read thresholds {path}: {exc}") from exc
    failures: list[str] = []
    project = summary["retrieval"][summary["project_system"]]
    for metric, groups in (spec.get("retrieval") or {}).items():
        for group, minimum in groups.items():
            got = project.get(group, {}).get(metric)
            if got is None or got < minimum:
                failures.append(f"retrieval {metric} on {group}: {got} < {minimum}")
    for name, bound in (spec.get("answers") or {}).items():
        key = name.removesuffix("_max")
        value: Any = summary["answers"]
        for part in key.split("."):  # "key_fact_recall.policy": one group of a grouped figure
            value = value.get(part) if isinstance(value, dict) else None
        if value is None or (isinstance(value, float) and math.isnan(value)):
            failures.append(f"answers {key}: not measured")
        elif name.endswith("_max") and value > bound:
            failures.append(f"answers {key}: {value} > {bound}")
        elif not name.endswith("_max") and value < bound:
            failures.append(f"answers {key}: {value} < {bound}")
    for name, minimum in (spec.get("abstention") or {}).items():
        got = summary["abstention"].get(name)
        if got is None or got < minimum:
            failures.append(f"abstention {name}: {got} < {minimum}")
    for base, metrics in (spec.get("ahead_by") or {}).items():
        if base not in summary["retrieval"]:
            failures.append(f"baseline '{base}' was not run")
            continue
        for metric, groups in metrics.items():
            for group, margin in groups.items():
                ours = project.get(group, {}).get(metric, 0.0)
                theirs = summary["retrieval"][base].get(group, {}).get(metric, 0.0)
                if ours - theirs < margin - 1e-9:
                    failures.append(
                        f"{metric} on {group}: {ours} is not {margin} ahead of '{base}' ({theirs})"
                    )
    for metric in spec.get("ahead_of_baselines") or []:
        for base in summary["baselines"]:
            for group, values in summary["retrieval"][base].items():
                ours = project.get(group, {}).get(metric, 0.0)
                if ours < values[metric]:
                    failures.append(
                        f"{metric} on {group}: {ours} is behind the baseline '{base}' "
                        f"({values[metric]})"
                    )
    return failures

"""The eval suite: every reported profile (organisation x question files) run with its
thresholds, and, on request, the ablation table: each retrieval stage switched off in turn, per
profile, with what that does to recall, MRR and the answers refused or given.

Writes ``<out>/<run>/<profile>/`` (each profile's own summary, report and chart) and
``<out>/<run>/summary.json`` + ``report.md`` (the suite's overview and the ablation table)."""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.evaluation import metrics as m
from assistant.evaluation.check_keys import KeyScore, load_key_specs, score_key
from assistant.evaluation.comparisons import (
    ORGANISATION_OF,
    ComparisonScore,
    load_questions,
    score_comparisons,
)
from assistant.evaluation.conversations import (
    ConversationScore,
    load_conversations,
    score_conversations,
)
from assistant.evaluation.dataset import load_dataset
from assistant.evaluation.profiles import Profile, prepare_index, profile_settings
from assistant.evaluation.runner import EvalResult, run_eval
from assistant.evaluation.suite_report import ABLATION_GROUPS, write_suite_report
from assistant.evaluation.systems import ProjectSystem
from assistant.runtime.build import build_chain, build_topics, build_tuned
from assistant.runtime.stores import open_index
from core.index.reader import Index, Scope
from core.settings import RETRIEVAL_STAGES, Settings

log = logging.getLogger(__name__)

FULL = "all stages"
PLAIN = "plain hybrid (dense + BM25 only)"


@dataclass
class SuiteResult:
    results: dict[str, EvalResult]
    ablation: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    out_dir: Path | None = None
    keys: list[KeyScore] = field(default_factory=list)  # the BAA check and coverage keys
    comparisons: dict[str, ComparisonScore] = field(default_factory=dict)  # per profile
    conversations: dict[str, ConversationScore] = field(default_factory=dict)  # per profile

    @property
    def failures(self) -> list[str]:
        failed = [f"{name}: {f}" for name, r in self.results.items() for f in r.failures]
        return failed + [s.failure for s in self.keys if s.failure]

    @property
    def ok(self) -> bool:
        return not self.failures


def run_suite(
    base: Settings,
    profiles: list[Profile],
    *,
    out_root: Path | None,
    run_name: str | None = None,
    baselines: bool = True,
    k: int = 5,
    depths: tuple[int, ...] = m.DEPTHS,
    ablation: bool = False,
    judge: m.JudgeMetrics | None = None,
    check_keys: bool = False,
) -> SuiteResult:
    name = run_name or dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = out_root / name if out_root is not None else None
    suite = SuiteResult({})
    comparison_questions = load_questions() if check_keys else []
    conversations = load_conversations() if check_keys else []
    for profile in profiles:
        started = time.perf_counter()
        settings = profile_settings(base, profile)
        prepare_index(base, settings, profile)
        index = open_index(settings)
        if settings.retrieval.query_tuning:  # trained on the rules: one model serves them all
            build_tuned(
                settings,
                index,
                build_topics(settings, index.embedder),
                train=True,
                trained_elsewhere=base.paths.data_dir / "tuned" if profile.own_index else None,
            )
        suite.results[profile.name] = run_eval(
            settings,
            index,
            dataset_dir=profile.dataset,
            thresholds_path=profile.thresholds,
            out_root=run_dir,
            run_name=profile.name,
            baselines=baselines,
            k=k,
            depths=depths,
            judge=judge,
            key_facts_path=profile.key_facts,
        )
        if ablation:
            suite.ablation[profile.name] = ablate(settings, index, profile, k)
        organisation = ORGANISATION_OF.get(profile.name)
        asked = [q for q in comparison_questions if q.get("organisation") == organisation]
        if asked and organisation:
            chain = build_chain(settings, index)
            suite.comparisons[profile.name] = score_comparisons(chain, organisation, asked)
        talks = [c for c in conversations if c.get("org") == organisation]
        if talks and organisation:
            chain = build_chain(settings, index)
            suite.conversations[profile.name] = score_conversations(chain, organisation, talks, k)
        log.info("profile %s: %.0f s", profile.name, time.perf_counter() - started)
    if check_keys:
        suite.keys = [score_key(base, spec) for spec in load_key_specs()]
    if run_dir is not None:
        suite.out_dir = write_suite_report(suite_summary(suite, profiles, name), run_dir)
    return suite


def ablate(settings: Settings, index: Index, profile: Profile, k: int = 5) -> list[dict[str, Any]]:
    """One row per configuration: every stage on, each stage off in turn, and plain hybrid
    search. Each row: recall@5 and MRR per group, answerable questions refused, unanswerable
    ones abstained on."""
    items = load_dataset(profile.dataset)
    configs: list[tuple[str, list[str]]] = [(FULL, [])]
    configs += [(f"without {stage}", [stage]) for stage in RETRIEVAL_STAGES]
    configs.append((PLAIN, [s for s in RETRIEVAL_STAGES if s not in ("dense", "lexical")]))
    rows = []
    for label, disabled in configs:
        retrieval = settings.retrieval.model_copy(
            update={"disabled": [*settings.retrieval.disabled, *disabled]}
        )
        chain = build_chain(settings.model_copy(update={"retrieval": retrieval}), index)
        # ranked as retrieved, as in each profile's own table (the answer's passages are
        # renumbered in the order its quotes cite them)
        ranking = ProjectSystem(chain.retriever)
        scores: dict[str, list[dict[str, float]]] = {g: [] for g in ABLATION_GROUPS}
        refused = abstained = answerable = unanswerable = 0
        for item in items:
            scope = Scope.for_groups(set(item.groups) | {"staff"})
            answer = chain.ask(item.question, scope, k=k)
            if not item.answerable:
                unanswerable += 1
                abstained += answer.abstained
                continue
            answerable += 1
            refused += answer.abstained
            if item.group in scores:
                retrieved = ranking.retrieve(item.question, scope, k)
                scores[item.group].append(m.retrieval_scores(item, retrieved, k))
        row: dict[str, Any] = {"config": label, "disabled": disabled}
        for group, rows_ in scores.items():
            if rows_:
                row[f"recall@5 {group}"] = round(m.mean([r["recall@5"] for r in rows_]), 4)
                row[f"mrr {group}"] = round(m.mean([r["mrr"] for r in rows_]), 4)
        row["refused"] = f"{refused}/{answerable}"
        row["abstained"] = f"{abstained}/{unanswerable}"
        rows.append(row)
        log.info("ablation %s %s: %s", profile.name, label, row)
    return rows


def suite_summary(suite: SuiteResult, profiles: list[Profile], name: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "run": {"name": name},
        "profiles": {},
        "ablation": suite.ablation,
        "check_keys": {s.spec.name: s.to_json() for s in suite.keys},
        "comparisons": {name: c.to_json() for name, c in suite.comparisons.items()},
        "conversations": {name: c.to_json() for name, c in suite.conversations.items()},
    }
    for profile in profiles:
        result = suite.results.get(profile.name)
        if result is None:
            continue
        s = result.summary
        project = s["retrieval"][s["project_system"]]
        out["profiles"][profile.name] = {
            "description": profile.description,
            "questions": s["run"]["questions"],
            "recall@5": {g: v["recall@5"] for g, v in project.items()},
            "mrr": {g: v["mrr"] for g, v in project.items()},
            "baselines_recall@5": {
                b: {g: v["recall@5"] for g, v in s["retrieval"][b].items()} for b in s["baselines"]
            },
            "refused": f"{s['answers']['abstained_when_answerable']}/"
            f"{s['run']['questions'] - s['dataset'].get('unanswerable', 0)}",
            "abstained": f"{s['abstention']['tp']}/{s['dataset'].get('unanswerable', 0)}",
            "abstention_f1": s["abstention"]["f1"],
            "citation_validity": s["answers"]["citation_validity"],
            "key_fact_recall": s["answers"].get("key_fact_recall"),
            "flagged": f"{s['answers'].get('flagged_when_answerable', 0)}/"
            f"{s['run']['questions'] - s['dataset'].get('unanswerable', 0)}",
            "declined": f"{s['abstention']['tp'] + s['answers'].get('unanswerable_flagged', 0)}/"
            f"{s['dataset'].get('unanswerable', 0)}",
            "threshold_failures": result.failures,
        }
    return out

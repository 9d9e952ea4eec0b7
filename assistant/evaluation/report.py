"""summary.json, report.md (tables: the project next to its baselines) and a chart (PNG)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from assistant.evaluation.dataset import ANSWER_GROUPS

TABLE_METRICS = ("hit@1", "hit@5", "mrr", "recall@5", "precision@5", "ragas_id_context_recall")


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "–" if math.isnan(v) else f"{v:.3f}"
    return str(v)


def dump(summary: dict[str, Any]) -> str:
    return json.dumps(summary, indent=2, ensure_ascii=False, default=str, allow_nan=True)


def write_report(summary: dict[str, Any], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(dump(summary) + "\n", encoding="utf-8")
    _chart(summary, out / "recall_at_5.png")
    (out / "report.md").write_text(_markdown(summary), encoding="utf-8")
    return out


def _markdown(s: dict[str, Any]) -> str:
    run = s["run"]
    counts = ", ".join(f"{g}: {n}" for g, n in s["dataset"].items())
    lines = [
        f"# Evaluation run {run['name']}",
        "",
        f"{run['questions']} questions ({counts}); top-{run['k']} retrieval; "
        f"embeddings `{run['embedding_model']}`; answers `{run['answer_mode']}`; "
        f"index {run['index_chunks']} chunks; {run['seconds']} s.",
        "",
        "## Retrieval, per question group (hierarchy-aware locator matching)",
        "",
    ]
    systems = [s["project_system"], *s["baselines"]]
    for metric in TABLE_METRICS:
        lines += [f"### {metric}", "", "| system | " + " | ".join((*ANSWER_GROUPS, "all")) + " |"]
        lines.append("| --- |" + " ---: |" * (len(ANSWER_GROUPS) + 1))
        for name in systems:
            groups = s["retrieval"][name]
            cells = [_fmt(groups.get(g, {}).get(metric, math.nan)) for g in (*ANSWER_GROUPS, "all")]
            label = f"**{name}**" if name == s["project_system"] else name
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += _depth_table(s)
    proj = s["retrieval"][s["project_system"]].get("all", {})
    a, ab = s["answers"], s["abstention"]
    rows = [
        (
            "Ragas NonLLMContextRecall (all answerable)",
            _fmt(proj.get("non_llm_context_recall", 0.0)),
        ),
        (
            "Ragas IDBasedContextRecall (all answerable)",
            _fmt(proj.get("ragas_id_context_recall", 0.0)),
        ),
        ("Ragas IDBasedContextPrecision", _fmt(proj.get("ragas_id_context_precision", 0.0))),
        ("Ragas SemanticSimilarity (answered)", _fmt(a["semantic_similarity"])),
        ("Ragas RougeScore, ROUGE-L F1 (answered)", _fmt(a["rouge_l"])),
        (f"citation validity ({a['citations']} citations)", _fmt(a["citation_validity"])),
        (
            "answered / abstained although answerable",
            f"{a['answered']} / {a['abstained_when_answerable']}",
        ),
        (
            "abstention precision / recall / F1",
            f"{_fmt(ab['precision'])} / {_fmt(ab['recall'])} / {_fmt(ab['f1'])}",
        ),
        (
            "answer latency p50 / p95 (ms)",
            f"{_fmt(a['latency_p50_ms'])} / {_fmt(a['latency_p95_ms'])}",
        ),
        (
            "LLM-judged metrics (Faithfulness, ResponseRelevancy, FactualCorrectness)",
            _judge(a["judge"]),
        ),
    ]
    lines += ["## Answers (hipaa-assistant)", "", "| metric | value |", "| --- | ---: |"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    lines += [
        "",
        "![recall@5 per group](recall_at_5.png)",
        "",
    ]
    fails = s.get("threshold_failures") or []
    lines += ["## Thresholds", ""]
    lines += [f"- FAILED: {f}" for f in fails] if fails else ["All thresholds met."]
    misses = [
        r
        for r in s["per_question"]
        if r["retrieval"] and r["retrieval"][s["project_system"]]["recall@5"] < 1.0
    ]
    if misses:
        lines += ["", "## Questions whose gold passages were not all in the top 5", ""]
        lines += [f"- {r['id']}: retrieved {', '.join(r.get('retrieved', [])[:5])}" for r in misses]
    return "\n".join(lines) + "\n"


def _depth_table(s: dict[str, Any]) -> list[str]:
    """Where the project's misses are: gold outside the deeper candidates cannot be recovered by
    re-ordering them; routed recall shows what a perfect rule/organisation router would give."""
    k, depths = s["run"]["k"], s["run"].get("depths") or []
    groups = s["retrieval"][s["project_system"]]
    cols = [f"recall@{k}", f"routed_recall@{k}", *(f"recall@{d}" for d in depths)]
    if not depths or not any(cols[1] in v for v in groups.values()):
        return []
    lines = [
        f"### Where the misses are ({s['project_system']})",
        "",
        f"recall@N: the gold passages among the first N candidates, the most a reranker of them "
        f"could recover. routed_recall@{k}: the top {k} among passages of the gold's own kind of "
        f"source (the rule, or the organisation's policies and BAAs), as a perfect router between "
        f"them would choose.",
        "",
        "| group | " + " | ".join(cols) + " |",
        "| --- |" + " ---: |" * len(cols),
    ]
    for g in (*ANSWER_GROUPS, "all"):
        if g in groups:
            lines.append(
                f"| {g} | " + " | ".join(_fmt(groups[g].get(c, math.nan)) for c in cols) + " |"
            )
    return [*lines, ""]


def _chart(s: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = [s["project_system"], *s["baselines"]]
    groups = [g for g in ANSWER_GROUPS if g in s["retrieval"][s["project_system"]]]
    width = 0.8 / max(1, len(systems))
    fig, ax = plt.subplots(figsize=(8, 4), dpi=100)
    for i, name in enumerate(systems):
        values = [s["retrieval"][name].get(g, {}).get("recall@5", 0.0) for g in groups]
        ax.bar([x + i * width for x in range(len(groups))], values, width, label=name)
    ax.set_xticks([x + width * (len(systems) - 1) / 2 for x in range(len(groups))], groups)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("recall@5 (gold locators in the top 5)")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("Retrieval recall@5 by question group")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _judge(j: Any) -> str:
    if isinstance(j, str):
        return j
    return (
        f"{_fmt(j['faithfulness'])} / {_fmt(j['response_relevancy'])} / "
        f"{_fmt(j['factual_correctness'])} over {j['scored']} answers "
        f"({j['refusals_not_scored']} refusals not scored, {j['judge_failures']} judge failures)"
    )

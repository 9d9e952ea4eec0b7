"""The suite's report: one overview row per profile, then the ablation table per profile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assistant.evaluation.report import dump

ABLATION_GROUPS = ("rule", "policy", "baa", "multi")


def write_suite_report(summary: dict[str, Any], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(dump(summary) + "\n", encoding="utf-8")
    (out / "report.md").write_text(markdown(summary), encoding="utf-8")
    return out


def comparisons_markdown(scores: dict[str, dict[str, Any]]) -> list[str]:
    """Questions across an organisation's BAAs, scored per vendor row."""
    if not scores:
        return []
    lines = [
        "## Questions across the BAAs (one row per vendor)",
        "",
        "Each question of `evals/comparisons/questions.yaml` asked as a privacy officer; a vendor "
        "row is right when it cites the clause the key names for that vendor, or says "
        '"not stated in this BAA" where the key says the BAA does not address it. Written '
        "without running the tool; first run 0.58 (Lakemont) and 0.64 (Saguaro), before the "
        "fixes in CHANGELOG.md.",
        "",
        "| profile | questions | answered per vendor | vendor rows right | clause cited | "
        '"not stated" right | vendors missing |',
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, c in scores.items():
        lines.append(
            f"| {name} | {c['questions']} | {c['recognised']} | {c['rows_right']}/"
            f"{c['vendor_rows']} ({c['accuracy']:.2f}) | {c['stated_right']} | "
            f"{c['not_stated_right']} | {c['vendors_missing']} |"
        )
    lines.append("")
    return lines


def answers_markdown(profiles: dict[str, dict[str, Any]]) -> list[str]:
    """What the answer texts state: key-fact recall per group, and the questions whose focus no
    document mentions (flagged, or refused)."""
    rows = [(n, p) for n, p in profiles.items() if p.get("key_fact_recall")]
    if not rows:
        return []
    lines = [
        "## What the answers state",
        "",
        "Key-fact recall: the share of each answerable question's key facts (`evals/key-facts/`: "
        "the verdict phrase, figure, who or what, as the answering passage words them; written "
        "from the documents and reference answers without running the tool) that the answer "
        "text states, averaged per group; a refusal states none. *Flagged*: answered with "
        '"None of the documents you can read mentions …" first (`uncovered_terms`).',
        "",
        "| profile | key facts policy | baa | multi | all | answerable flagged | unanswerable "
        "abstained or flagged |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, p in rows:
        kf = p["key_fact_recall"]
        lines.append(
            f"| {name} | "
            + " | ".join(_cell(kf.get(g)) for g in ("policy", "baa", "multi", "all"))
            + f" | {p['flagged']} | {p['declined']} |"
        )
    lines.append("")
    return lines


def conversations_markdown(scores: dict[str, dict[str, Any]]) -> list[str]:
    """Multi-turn conversations: follow-up or new question, and the passage found in context."""
    if not scores:
        return []
    lines = [
        "## Conversations (follow-up or new question)",
        "",
        "Each conversation of `evals/conversations/questions.yaml` (written from the documents "
        "without running the tool) asked turn by turn with the earlier turns as history. "
        "*Told apart*: turns after the first taken as follow-up or new as their writer meant; "
        "recall@5: turns with a gold passage in the top 5, in their context.",
        "",
        "| profile | conversations | turns told apart | follow-ups found | new questions found |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, c in scores.items():
        lines.append(
            f"| {name} | {c['conversations']} | {c['follow_up_accuracy']:.2f} of "
            f"{c['later_turns']} | {c['follow_up_recall@5']} | {c['new_question_recall@5']} |"
        )
    lines.append("")
    return lines


BAA = (
    "## BAA check against answer keys written by hand",
    "Each contract × requirement row of `hipaa-assistant baa check` compared with a key a reader "
    "wrote from the contract, the rule and the organisation's policy, without running the "
    "checker. *dev*: the checker was developed against it; *held-out*: it was not.",
)
COVERAGE = (
    "## Security Rule coverage against answer keys written by hand",
    "Each Security Rule standard or implementation specification of `hipaa-assistant coverage` "
    "compared with a key a reader wrote from the organisation's policies, without running the "
    "tool. *dev*: the tool was developed against it; *held-out*: it was not.",
)


def keys_markdown(scores: dict[str, dict[str, Any]], heading: tuple[str, str]) -> list[str]:
    """One section of answer-key scores, from the summary's ``check_keys`` (``check_keys.py``)."""
    if not scores:
        return []
    statuses = list(next(iter(scores.values()))["by_status"])
    lines = [
        heading[0],
        "",
        heading[1],
        "",
        "| key | split | rows | accuracy | "
        + " | ".join(statuses)
        + " | clause agrees | threshold |",
        "| --- | --- | ---: | ---: | " + "---: | " * len(statuses) + "---: | --- |",
    ]
    for name, k in scores.items():
        cells = [f"{v['right']}/{v['rows']}" if v["rows"] else "–" for v in k["by_status"].values()]
        verdict = "met" if k["accuracy"] >= k["min_accuracy"] else f"below {k['min_accuracy']}"
        lines.append(
            f"| {name} | {k['split']} | {k['rows']} | {k['accuracy']:.2f} | "
            + " | ".join(cells)
            + f" | {k['clause_agreement']} | {verdict} |"
        )
    lines.append("")
    for name, k in scores.items():
        note = f" ({k['note']})" if k.get("note") else ""
        lines.append(f"- **{name}**: {k['description']}{note}.")
    lines += ["", "Rows where the tool disagrees with the key:", ""]
    for name, k in scores.items():
        for e in k["errors"]:
            where = f"{e['clause']}: " if e["clause"] else ""
            why = f" ({where}{e['why']})" if e["why"] else ""
            who = "" if e["vendor"] == "policies" else f"{e['vendor']}, "
            lines.append(
                f"- {name}: {who}`{e['requirement']}` ({e['citation']}): a `{e['got']}` "
                f"that is really `{e['expected']}`{why}"
            )
    lines.append("")
    return lines


def _cell(value: Any) -> str:
    return "–" if value is None else f"{value:.2f}" if isinstance(value, float) else str(value)


def markdown(s: dict[str, Any]) -> str:
    lines = [
        f"# Evaluation suite {s['run']['name']}",
        "",
        "Each profile is one organisation's documents, with or without its question files, and "
        "its own golden questions; each profile's full report is in its folder.",
        "",
        "| profile | questions | recall@5 rule | policy | baa | multi | MRR (all) | plain hybrid "
        "recall@5 policy / baa | answerable refused | unanswerable abstained | thresholds |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, p in s["profiles"].items():
        r = p["recall@5"]
        plain = p["baselines_recall@5"].get("plain hybrid (dense + BM25)", {})
        plain_cell = f"{_cell(plain.get('policy'))} / {_cell(plain.get('baa'))}" if plain else "–"
        verdict = "met" if not p["threshold_failures"] else f"{len(p['threshold_failures'])} below"
        lines.append(
            f"| [{name}]({name}/report.md) | {p['questions']} | "
            + " | ".join(_cell(r.get(g)) for g in ("rule", "policy", "baa", "multi"))
            + f" | {_cell(p['mrr'].get('all'))} | {plain_cell} | {p['refused']} | "
            f"{p['abstained']} | {verdict} |"
        )
    lines.append("")
    for name, p in s["profiles"].items():
        lines.append(f"- **{name}**: {p['description']}.")
        for failure in p["threshold_failures"]:
            lines.append(f"  - FAILED: {failure}")
    lines.append("")
    lines += answers_markdown(s["profiles"])
    lines += comparisons_markdown(s.get("comparisons") or {})
    lines += conversations_markdown(s.get("conversations") or {})
    keys = s.get("check_keys") or {}
    lines += keys_markdown({n: k for n, k in keys.items() if k.get("kind", "baa") == "baa"}, BAA)
    lines += keys_markdown({n: k for n, k in keys.items() if k.get("kind") == "coverage"}, COVERAGE)
    if s.get("ablation"):
        lines += [
            "## Ablation: each retrieval stage switched off in turn",
            "",
            "recall@5 and MRR per question group with the stage off (its change against all "
            "stages in brackets); answerable questions refused and unanswerable ones abstained "
            "on. A stage earns its place where switching it off costs something on documents it "
            "was not tuned on (Saguaro; Lakemont without its question files).",
            "",
        ]
        for name, rows in s["ablation"].items():
            lines += [f"### {name}", ""]
            groups = [g for g in ABLATION_GROUPS if f"recall@5 {g}" in rows[0]]
            head = " | ".join(f"recall@5 {g}" for g in groups)
            mrr_head = " | ".join(f"MRR {g}" for g in groups)
            lines.append(f"| configuration | {head} | {mrr_head} | refused | abstained |")
            lines.append("| --- |" + " ---: |" * (2 * len(groups) + 2))
            full = rows[0]
            for row in rows:
                cells = []
                for metric in ("recall@5", "mrr"):
                    for g in groups:
                        value = row.get(f"{metric} {g}")
                        delta = value - full[f"{metric} {g}"] if value is not None else None
                        shown = _cell(value)
                        if row is not full and delta is not None and abs(delta) >= 0.005:
                            shown += f" ({delta:+.2f})"
                        cells.append(shown)
                lines.append(
                    f"| {row['config']} | " + " | ".join(cells) + f" | {row['refused']} | "
                    f"{row['abstained']} |"
                )
            lines.append("")
    return "\n".join(lines)

"""Identifier recall and false-positive rate of the PHI guard on the synthetic test sets.

    python scripts/measure_phi.py [--json results.json] [--split dev|test|all] [--show-misses]

Questions: evals/phi/identifiers.yaml (planted identifiers, each annotated with its kind) and
evals/phi/clean.yaml (HIPAA questions without identifiers). Both have a "dev" part, which may be
looked at while tuning the guard, and a held-out "test" part; the table reports each.

A planted identifier counts as detected when the findings cover at least 80% of its
non-whitespace characters (several findings may share it) and the redacted text no longer contains
it. Recall per kind is by the planted kind; "kind agrees" is the share of detected identifiers
whose covering finding has the planted kind (wrong kinds still redact). A clean question with any
finding is a false positive.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.safety.phi import Finding, PhiGuard  # noqa: E402
from assistant.safety.phi_vocabulary import KINDS  # noqa: E402
from core.settings import PhiSettings  # noqa: E402

IDENTIFIERS = ROOT / "evals" / "phi" / "identifiers.yaml"
CLEAN = ROOT / "evals" / "phi" / "clean.yaml"
COVERAGE = 0.8
SPLITS = ("dev", "test")


@dataclass
class Tally:
    planted: dict[str, int] = field(default_factory=dict)
    found: dict[str, int] = field(default_factory=dict)
    kind_agrees: int = 0
    clean: int = 0
    false_positives: int = 0
    misses: list[str] = field(default_factory=list)
    false_positive_ids: list[str] = field(default_factory=list)

    def recall(self, kind: str | None = None) -> float:
        planted = self.planted.get(kind, 0) if kind else sum(self.planted.values())
        found = self.found.get(kind, 0) if kind else sum(self.found.values())
        return found / planted if planted else float("nan")

    @property
    def fp_rate(self) -> float:
        return self.false_positives / self.clean if self.clean else float("nan")


def detected(text: str, needle: str, findings: tuple[Finding, ...], redacted: str) -> str | None:
    """The kind of the main covering finding if ``needle`` counts as detected, else None."""
    start = text.find(needle)
    if start < 0:
        raise ValueError(f"planted identifier not in its question: {needle!r}")
    end = start + len(needle)
    chars = [i for i in range(start, end) if not text[i].isspace()]
    covered = [i for i in chars if any(f.start <= i < f.end for f in findings)]
    if len(covered) < COVERAGE * len(chars) or needle in redacted:
        return None
    best = max(findings, key=lambda f: min(end, f.end) - max(start, f.start))
    return best.kind


def load(path: Path) -> list[dict[str, Any]]:
    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(items, list):
        raise SystemExit(f"{path.name}: expected a list")
    for item in items:
        if item.get("split") not in SPLITS:
            raise SystemExit(f"{path.name}: {item.get('id')} has no split dev/test")
        for ident in item.get("identifiers", []):
            if ident["kind"] not in KINDS:
                raise SystemExit(f"{path.name}: {item['id']} has unknown kind {ident['kind']}")
    return items


def measure(
    guard: PhiGuard, identifiers: list[dict[str, Any]], clean: list[dict[str, Any]]
) -> dict[str, Tally]:
    tallies = {split: Tally() for split in (*SPLITS, "all")}
    for item in identifiers:
        result = guard.check(item["text"])
        for ident in item["identifiers"]:
            kind = ident["kind"]
            got = detected(item["text"], ident["text"], result.findings, result.text)
            for name in (item["split"], "all"):
                t = tallies[name]
                t.planted[kind] = t.planted.get(kind, 0) + 1
                if got is not None:
                    t.found[kind] = t.found.get(kind, 0) + 1
                    t.kind_agrees += got == kind
                else:
                    t.misses.append(f"{item['id']} {kind}: {ident['text']!r}")
    for item in clean:
        findings = guard.check(item["text"]).findings
        for name in (item["split"], "all"):
            t = tallies[name]
            t.clean += 1
            if findings:
                t.false_positives += 1
                t.false_positive_ids.append(
                    f"{item['id']}: "
                    + ", ".join(f"{f.kind}={item['text'][f.start : f.end]!r}" for f in findings)
                )
    return tallies


def table(tallies: dict[str, Tally]) -> str:
    cols = (*SPLITS, "all")
    lines = [
        "| kind | " + " | ".join(f"recall {c} (n)" for c in cols) + " |",
        "|---|" + "---:|" * len(cols),
    ]
    for kind in KINDS:
        cells = []
        for c in cols:
            t = tallies[c]
            cells.append(f"{t.recall(kind):.3f} ({t.planted.get(kind, 0)})")
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")

    def row(label: str, fn: Any) -> str:
        return f"| **{label}** | " + " | ".join(fn(tallies[c]) for c in cols) + " |"

    lines.append(
        row("overall recall", lambda t: f"**{t.recall():.3f}** ({sum(t.planted.values())})")
    )
    lines.append(
        row("kind agrees", lambda t: f"{t.kind_agrees / max(1, sum(t.found.values())):.3f}")
    )
    lines.append(
        row("false-positive rate", lambda t: f"**{t.fp_rate:.3f}** ({t.false_positives}/{t.clean})")
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the numbers to this JSON file")
    parser.add_argument(
        "--show-misses",
        action="store_true",
        help="list misses and false "
        "positives (of --split; default dev, so the held-out part stays unseen)",
    )
    parser.add_argument("--split", choices=(*SPLITS, "all"), default="dev")
    args = parser.parse_args()
    guard = PhiGuard(PhiSettings(mode="redact"))
    identifiers, clean = load(IDENTIFIERS), load(CLEAN)
    t0 = time.perf_counter()
    tallies = measure(guard, identifiers, clean)
    per_question_ms = (time.perf_counter() - t0) * 1000 / (len(identifiers) + len(clean))
    print(table(tallies))
    print(
        f"\n{len(identifiers)} questions with {sum(tallies['all'].planted.values())} planted "
        f"identifiers, {len(clean)} clean questions; {per_question_ms:.2f} ms per question."
    )
    if args.show_misses:
        t = tallies[args.split]
        print(f"\nMisses ({args.split}):", *t.misses, sep="\n  ")
        print(f"\nFalse positives ({args.split}):", *t.false_positive_ids, sep="\n  ")
    if args.json:
        payload = {
            name: {
                "recall": {k: t.recall(k) for k in KINDS if t.planted.get(k)},
                "planted": t.planted,
                "overall_recall": t.recall(),
                "kind_agreement": t.kind_agrees / max(1, sum(t.found.values())),
                "false_positive_rate": t.fp_rate,
                "false_positives": t.false_positives,
                "clean_questions": t.clean,
            }
            for name, t in tallies.items()
        }
        payload["ms_per_question"] = {"mean": per_question_ms}
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

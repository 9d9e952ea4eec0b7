"""Questions across an organisation's BAAs (``evals/comparisons/questions.yaml``), scored per
vendor row: the row cites the clause the key names for that vendor, or says "not stated" where
the key says the BAA does not address it; a vendor missing from the answer is counted wrong
(never dropped silently)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.answering.chain import AnswerChain
from assistant.evaluation.dataset import load_entries
from core.index.reader import Scope
from core.locators import inside
from core.settings import PROJECT_ROOT

QUESTIONS_FILE = PROJECT_ROOT / "evals" / "comparisons" / "questions.yaml"
PROFILE_OF = {"lakemont": "lakemont", "saguaro": "saguaro"}  # organisation -> eval profile
ORGANISATION_OF = {profile: org for org, profile in PROFILE_OF.items()}
PRIVACY_OFFICE = Scope.for_groups(["privacy-office", "legal", "staff"])


@dataclass
class ComparisonScore:
    organisation: str
    questions: int = 0
    recognised: int = 0  # answered as a comparison
    rows: int = 0
    right: int = 0
    stated_rows: int = 0  # rows whose BAA addresses the question
    stated_right: int = 0
    silent_rows: int = 0  # rows whose BAA does not
    silent_right: int = 0
    missing: int = 0  # vendors absent from the answer
    errors: list[dict[str, str]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.right / self.rows if self.rows else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "questions": self.questions,
            "recognised": self.recognised,
            "vendor_rows": self.rows,
            "rows_right": self.right,
            "accuracy": round(self.accuracy, 4),
            "stated_right": f"{self.stated_right}/{self.stated_rows}",
            "not_stated_right": f"{self.silent_right}/{self.silent_rows}",
            "vendors_missing": self.missing,
            "errors": self.errors,
        }


def load_questions(path: Path = QUESTIONS_FILE) -> list[dict[str, Any]]:
    return load_entries(path, "question")


def score_comparisons(
    chain: AnswerChain, organisation: str, questions: list[dict[str, Any]]
) -> ComparisonScore:
    """Ask each of the organisation's questions as a privacy officer and score every vendor row."""
    score = ComparisonScore(organisation)
    for q in (q for q in questions if q.get("organisation") == organisation):
        score.questions += 1
        answer = chain.ask(str(q["question"]), PRIVACY_OFFICE)
        rows = {r.vendor: r for r in answer.comparison}
        score.recognised += bool(rows)
        for vendor, gold in (q.get("vendors") or {}).items():
            gold = list(gold or [])
            row = rows.get(vendor)
            score.rows += 1
            if gold:
                score.stated_rows += 1
            else:
                score.silent_rows += 1
            if row is None:
                score.missing += 1
                ok, got = False, "no row"
            elif gold:
                ok = row.stated and any(
                    inside(row.locator, g) or inside(g, row.locator) for g in gold
                )
                got = row.locator if row.stated else "not stated"
            else:
                ok, got = not row.stated, row.locator or "not stated"
            score.right += ok
            if ok:
                score.stated_right += bool(gold)
                score.silent_right += not gold
            else:
                score.errors.append(
                    {
                        "id": str(q.get("id", "")),
                        "vendor": vendor,
                        "expected": ", ".join(gold) or "not stated",
                        "got": got,
                    }
                )
    return score

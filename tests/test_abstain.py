"""Abstention signals that need no model: named laws the documents never mention."""

from __future__ import annotations

import pytest

from assistant.answering.abstain import Evidence, decide, named_instruments
from assistant.settings import AnswerSettings


@pytest.mark.parametrize(
    ("question", "names"),
    [
        ("Would the EU AI Act treat our sepsis model as high-risk?", ["EU AI Act"]),
        (
            "Does the FTC Health Breach Notification Rule cover our app?",
            ["FTC Health Breach Notification Rule"],
        ),
        ("Does the CCPA apply to our patient portal?", ["CCPA"]),
        ("What does GDPR require for training data?", ["GDPR"]),
        ("How does the ONC HTI-1 rule regulate alerts?", ["ONC HTI-1 rule"]),
        ("Is the PCI DSS requirement relevant to the gift shop?", ["PCI DSS requirement"]),
        ("Which CPT code do we bill for the AI read?", ["CPT code"]),
        ("Is encryption required under the Security Rule?", ["Security Rule"]),
        ("Can I paste a discharge summary into a public chatbot?", []),
        ("Does Clarion keep our prompts after the contract ends?", []),
        ("What does 45 CFR 164.312(b) require?", []),
    ],
)
def test_named_laws_rules_and_standards_are_found(question: str, names: list[str]) -> None:
    assert named_instruments(question) == names


def _evidence(**kw: object) -> Evidence:
    base: dict = {"best_dense": 0.9, "coverage": 1.0, "unknown": (), "located": False}
    return Evidence(**{**base, **kw})


def test_a_named_law_the_documents_lack_is_a_refusal_however_close_the_rest() -> None:
    s = AnswerSettings()
    assert decide(_evidence(best_topic=0.95), s) == ""
    reason = decide(_evidence(best_topic=0.95, unknown_named=("EU AI Act",)), s)
    assert reason == "the documents do not cover EU AI Act"
    # a paragraph named by its locator is always answered from
    assert decide(_evidence(unknown_named=("EU AI Act",), located=True), s) == ""

"""Abstention signals that need no model: named laws the documents never mention."""

from __future__ import annotations

import pytest

from assistant.answering.abstain import Evidence, decide, named_instruments
from assistant.answering.answer_kinds import asked_kinds, unstated_kinds
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


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        ("How much are we paying Acme Scribe per clinician per month?", ["an amount of money"]),
        ("How much does the Acme Scribe license cost per seat?", ["an amount of money"]),
        ("How much did Anthem pay in its 2018 HIPAA settlement?", ["an amount of money"]),
        ("What is Medicare's reimbursement rate for telehealth visits?", ["an amount of money"]),
        ("What's the price of the Clarion enterprise tier?", ["an amount of money"]),
        ("What uptime does Clarion guarantee in its SLA?", ["a percentage"]),
        ("What percentage of charts must the auditors sample?", ["a percentage"]),
        # what is allowed is a rule, not a figure
        ("How much can we charge a patient for a copy of her records?", []),
        ("How much PHI can we send to the vendor?", []),
        ("A supplement company will pay us to promote its product. Can we do that?", []),
        ("What is the minimum necessary standard?", []),
    ],
)
def test_questions_that_ask_for_a_figure_are_recognised(question: str, kinds: list[str]) -> None:
    assert [k.name for k in asked_kinds(question)] == kinds


def test_a_figure_asked_for_and_stated_nowhere_is_a_refusal() -> None:
    q = "How much are we paying Acme Scribe per clinician per month?"
    about = "Acme Scribe provides ambient documentation to Lakemont clinicians under this BAA."
    assert unstated_kinds(q, [about]) == ("an amount of money",)
    assert unstated_kinds(q, [about, "The subscription is $120 per clinician per month."]) == ()
    assert unstated_kinds(q, ["Fees: 1,500 dollars a year."]) == ()
    uptime = "What uptime does Clarion guarantee?"
    assert unstated_kinds(uptime, ["Clarion shall keep the service available."]) == (
        "a percentage",
    )
    assert unstated_kinds(uptime, ["Availability of 99.9% each month."]) == ()
    assert unstated_kinds("Can Clarion keep our prompts?", [about]) == ()
    s = AnswerSettings()
    reason = decide(_evidence(best_topic=0.95, unstated=("an amount of money",)), s)
    assert reason == "none of the passages found states an amount of money"
    assert decide(_evidence(unstated=("a percentage",), located=True), s) == ""

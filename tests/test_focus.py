"""What a question asks about, and whether the documents the caller may read mention it."""

from __future__ import annotations

import pytest

from assistant.answering.abstain import Evidence, decide
from assistant.answering.focus import Mentions, focus_of, uncovered
from core.lexical import BM25
from core.settings import AnswerSettings
from core.words import word_list

GENERIC = word_list("generic")


@pytest.mark.parametrize(
    ("question", "phrases"),
    [
        (
            "How much cyber liability insurance must the scribe vendor carry?",
            ["cyber liability insurance"],
        ),
        (
            "What's the recovery time objective for ClaimsCore if the data centre goes down?",
            ["recovery time objective"],
        ),
        ("What is the actual cut-off for the membership-inference test?", ["cut-off"]),
        ("What's the liability cap in the Clarion BAA?", ["liability cap"]),
        ("Who is our named privacy contact at the vendor?", ["privacy contact"]),
        ("What HITRUST certification must the vendor hold?", ["HITRUST certification"]),
        ("What minimum accuracy or AUC must the model reach?", ["minimum accuracy"]),
        ("How many vacation days do nurses get?", ["vacation days"]),
        # a predicate adjective ends the phrase; a quantity word before it is not looked for
        ("What are data science teams responsible for under the policy?", ["data science teams"]),
        ("What extra security training do developers need?", ["security training"]),
    ],
)
def test_the_focus_is_read_from_the_questions_shape(question: str, phrases: list[str]) -> None:
    assert [f.phrase for f in focus_of(question, GENERIC)] == phrases


def test_a_word_naming_the_kind_of_answer_is_not_looked_for() -> None:
    # "coverage" says what kind of answer is wanted (the insurance's amount), as "limit" does:
    # "cyber liability insurance of at least $5,000,000" answers it
    (focus,) = focus_of("How much cyber liability coverage must Ledgerline carry?", GENERIC)
    assert focus.terms == ("cyber", "liability")


@pytest.mark.parametrize(
    "question",
    [
        "Can I paste a discharge summary into ChatGPT?",  # a yes/no question has no focus
        "What paperwork do we need before a vendor gets patient notes?",  # one everyday word
        "What is required for automatic logoff?",  # a predicate, not a thing
        "A nurse left yesterday. How fast must her access be removed?",
        "What does the policy say?",
        "Which computers count as shared workstations?",  # "which X" is too often "which X verb"
        "Which department treated the patient?",
    ],
)
def test_questions_of_other_shapes_have_no_focus(question: str) -> None:
    assert focus_of(question, GENERIC) == []


TEXTS = [
    "The Vendor shall carry cyber liability insurance of at least $5,000,000.",  # row 0
    "Tier 1 vendors are reviewed yearly; risk tiering is done at intake.",  # row 1
    "Models are retrained when the cutoff score drops.",  # row 2
    "Insurance is arranged by Finance. Liability for breaches is set out in the BAA. Cyber "
    "attacks are reported to IT.",  # row 3: the words, but far apart
]


@pytest.fixture()
def mentions() -> Mentions:
    return Mentions(BM25([f"c{i}" for i in range(len(TEXTS))], TEXTS), TEXTS)


def test_a_phrase_counts_only_with_its_words_together(mentions: Mentions) -> None:
    q = "How much cyber liability insurance must the vendor carry?"
    assert uncovered(q, mentions, {0, 1, 2, 3}, GENERIC) == ()
    # row 3 has each word, but not together: the phrase is not mentioned there
    assert uncovered(q, mentions, {1, 2, 3}, GENERIC) == ("cyber liability insurance",)


def test_inflections_and_hyphenated_words_match(mentions: Mentions) -> None:
    assert uncovered("What's the risk tier of a new vendor?", mentions, {1}, GENERIC) == ()
    assert uncovered("What's the exact cut-off score?", mentions, {2}, GENERIC) == ()


def test_a_phrase_only_documents_the_caller_cannot_read_hold_is_uncovered(
    mentions: Mentions,
) -> None:
    """What the caller may not read counts as absent, so the reason reveals nothing of it."""
    q = "How much cyber liability insurance must the vendor carry?"
    assert uncovered(q, mentions, {1, 2}, GENERIC) == ("cyber liability insurance",)


def test_a_focus_with_a_word_no_document_has_is_a_refusal_that_names_it() -> None:
    ev = Evidence(best_dense=0.7, coverage=1.0, unknown=(), located=False, best_topic=0.4)
    settings = AnswerSettings()
    # the words are there, never together: answered, with that said first (see the chain)
    apart = Evidence(**{**ev.__dict__, "uncovered": ("recovery time objective",)})
    assert decide(apart, settings) == ""
    absent = Evidence(**{**apart.__dict__, "unfamiliar": ("recovery time objective",)})
    assert "\u201crecovery time objective\u201d" in decide(absent, settings)
    # a passage the question names by locator is always answered from; a question the question
    # index knows is answered
    assert decide(Evidence(**{**absent.__dict__, "located": True}), settings) == ""
    assert decide(Evidence(**{**absent.__dict__, "best_topic": 0.9}), settings) == ""

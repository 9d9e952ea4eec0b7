"""Abbreviations the documents spell out: "What is PHI?" is searched and answered as "What is
protected health information (PHI)?", with what the caller may read."""

from __future__ import annotations

import pytest

from assistant.answering.abbreviations import Abbreviations
from assistant.answering.definitions import defined_terms

TEXTS = [
    'Capitalized terms, including Protected Health Information ("PHI"), have their meanings.',
    "This policy protects electronic protected health information (ePHI) at rest.",
    "Multi-factor authentication (MFA) is required for remote access.",
    "the Health Insurance Portability and Accountability Act of 1996 (HIPAA) applies",
    "Sign in with single sign-on (SSO).",
    "A standard setting organization (SSO) writes standards.",
    "Control Objectives for Information and Related Technology (COBIT) is a framework.",
    "Ask the Information Technology (IT) service desk.",
    "- **Limited data set (LDS)**: PHI from which direct identifiers are removed.",
]
ALL = frozenset(range(len(TEXTS)))


@pytest.fixture(scope="module")
def known() -> Abbreviations:
    return Abbreviations.from_texts(TEXTS)


def test_the_long_form_is_the_words_whose_initials_spell_it(known: Abbreviations) -> None:
    assert known.long_form("PHI", ALL) == ("PHI", "protected health information")
    assert known.long_form("ePHI", ALL) == ("ePHI", "electronic protected health information")
    assert known.long_form("MFA", ALL) == ("MFA", "multi-factor authentication")
    # little words skipped, and not kept at the end ("... Act of 1996")
    assert known.long_form("HIPAA", ALL) == (
        "HIPAA",
        "health insurance portability and accountability act",
    )
    assert known.long_form("LDS", ALL) == ("LDS", "limited data set")
    assert known.long_form("phis", ALL) == ("PHI", "protected health information")


def test_unclear_or_unknown_abbreviations_are_left_alone(known: Abbreviations) -> None:
    assert known.long_form("SSO", ALL) is None  # two long forms, as often each
    assert known.long_form("SSO", frozenset({4})) == ("SSO", "single sign-on")
    assert known.long_form("COBIT", ALL) is None  # its initials do not spell it
    assert known.long_form("XYZ", ALL) is None
    assert known.long_form("it", ALL) is None  # two letters only as written
    assert known.long_form("IT", ALL) == ("IT", "information technology")


def test_only_documents_the_caller_may_read_spell_it_out(known: Abbreviations) -> None:
    assert known.long_form("MFA", ALL - {2}) is None
    assert known.spelled_out("What is MFA?", ALL - {2}) == "What is MFA?"


@pytest.mark.parametrize(
    ("question", "searched"),
    [
        ("What is PHI?", "What is protected health information (PHI)?"),
        ("what's ePHI", "what's electronic protected health information (ePHI)"),
        ("What is an LDS?", "What is a limited data set (LDS)?"),
        ("What does MFA stand for?", "What does multi-factor authentication (MFA) stand for?"),
        ("What counts as PHI?", "What counts as protected health information (PHI)?"),
        ("Can I put PHI in an email?", "Can I put PHI in an email?"),  # no meaning asked
        ("What is it?", "What is it?"),
        ("What is the PHI retention period?", "What is the PHI retention period?"),
    ],
)
def test_a_question_asking_what_an_abbreviation_means_is_spelled_out(
    known: Abbreviations, question: str, searched: str
) -> None:
    assert known.spelled_out(question, ALL) == searched


def test_the_spelled_out_question_asks_for_both_the_words_and_the_letters() -> None:
    assert defined_terms("What is protected health information (PHI)?") == (
        "protected health information",
        "phi",
    )
    assert defined_terms("What is a business associate?") == ("business associate",)

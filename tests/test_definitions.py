"""Questions asking what a term means are answered by the sentence that defines it."""

from __future__ import annotations

import pytest

from assistant.answering.definitions import defined_term, defines
from assistant.answering.extractive import ExtractiveAnswerer
from assistant.answering.types import Passage
from core.settings import AnswerSettings


@pytest.mark.parametrize(
    ("question", "term"),
    [
        ("What is a business associate?", "business associate"),
        ("What's PHI?", "phi"),
        ("What is a direct treatment relationship under HIPAA?", "direct treatment relationship"),
        ("What does minimum necessary mean?", "minimum necessary"),
        ("What does HIPAA mean by payment?", "payment"),
        ("Define limited data set.", "limited data set"),
        ("What does PHI stand for?", "phi"),
        ("What counts as a breach?", "breach"),
        ("Can I text a patient?", None),
        ("What is the deadline to notify patients after a breach of their records?", None),
    ],
)
def test_the_term_a_question_asks_the_meaning_of(question: str, term: str | None) -> None:
    assert defined_term(question) == term


def test_a_sentence_defines_a_term_by_opening_with_it_or_saying_it_means() -> None:
    assert defines("phi", "- **PHI**: individually identifiable health information, in any form.")
    assert defines("limited data set", "Limited data set (LDS): PHI without direct identifiers.")
    assert defines("workforce", "Workforce means employees, volunteers and trainees.")
    assert defines("business associate", "Under this rule a business associate means a person.")
    assert not defines("business associate", "A business associate must report a breach.")
    assert not defines("use", "Users: anyone with an account.")
    assert defines("hhs", "HHS stands for the Department of Health and Human Services.")
    # a longer term that ends with the one asked does not define it
    assert not defines(
        "protected health information",
        "Electronic protected health information means information that comes within (1)(i).",
    )


def _passage(n: int, locator: str, text: str) -> Passage:
    return Passage(
        n=n, chunk_id=f"c{n}", doc_id="d", locator=locator, title="t", doc_type="rule",
        version="1", page=None, text=text, heading_path=(), score=1.0, dense=None, lexical=None,
    )  # fmt: skip


def test_the_definition_opens_the_answer_though_retrieval_ranked_it_last() -> None:
    contracts = _passage(
        1,
        "45 CFR 164.504(e)(4)(i)",
        "The contract between the covered entity and the business associate may permit the "
        "business associate to use the information for the business associate's own management.",
    )
    definition = _passage(
        2,
        '45 CFR 160.103 "Business associate"',
        "Business associate means, with respect to a covered entity, a person who creates, "
        "receives, maintains, or transmits protected health information on its behalf.",
    )
    answerer = ExtractiveAnswerer(AnswerSettings(max_sentences=1), idf=lambda term: 1.0)
    answer = answerer.answer("What is a business associate?", [contracts, definition], (), {})
    assert "Business associate means" in answer and "[2]" in answer
    # asked something else about business associates, the closer-ranked paragraph answers
    answer = answerer.answer(
        "May a business associate use the information for its own management?",
        [contracts, definition],
        (),
        {},
    )
    assert "[1]" in answer and "Business associate means" not in answer

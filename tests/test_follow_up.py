"""Follow-up or new question, and how a follow-up is searched (without a model)."""

from __future__ import annotations

import pytest

from assistant.answering.follow_up import HeuristicCondenser, is_follow_up

VENDORS = ["Acme Scribe", "Clarion Health AI", "Meridian Imaging", "Tessellate"]


@pytest.mark.parametrize(
    "question",
    [
        "what about for contractors?",
        "What about subcontractors?",
        "How about Clarion?",
        "And for Meridian?",
        "Same for residents?",
        "How fast?",
        "and the rule?",
        "Does that apply to contractors?",
        "Do they need to sign one?",
        "What if it is de-identified first?",
        "Can we keep it longer?",
        # a change to the question before, without a pronoun
        "what if we blank out the name and MRN first?",
        "ok but what if I already sent it?",
        # hardly a word of its own once chat fillers are set aside
        "how much trouble am I in?",
        "can I just use it for the tumor board too?",
        "and a student here for two weeks?",
    ],
)
def test_questions_that_lean_on_the_last_one_are_follow_ups(question: str) -> None:
    assert is_follow_up(question)


@pytest.mark.parametrize(
    "question",
    [
        # "it" that stands for nothing before it
        "Is it OK to text a patient their lab results?",
        "Is it allowed to record a telehealth visit for an AI scribe?",
        # "that" inside the question's own clause
        "Is a laptop that was stolen from a nurse's car a reportable breach?",
        # a complete question with a subject of its own
        "Can Clarion process our data in Canada?",
        "How long must we keep audit logs for the EHR?",
        "Does the Tessellate BAA allow subcontractors without our approval?",
        # "And" before a question of its own, and a "what if" that says enough to stand alone
        "And how often do staff have to repeat the privacy training?",
        "And is a limited data set still PHI?",
        "What if Tessellate loads our data into another customer's environment by mistake?",
    ],
)
def test_complete_questions_stand_alone(question: str) -> None:
    assert not is_follow_up(question)


def test_a_new_question_is_searched_as_written_whatever_came_before() -> None:
    c = HeuristicCondenser(VENDORS)
    previous = ["A nurse left yesterday. How fast must her EHR access be removed?"]
    q = "Is it OK to text a patient their lab results?"
    assert c.condense(q, previous) == q


def test_what_about_another_vendor_asks_the_same_of_it() -> None:
    c = HeuristicCondenser(VENDORS)
    assert c.condense("How about Clarion?", ["How fast must Acme report a breach?"]) == (
        "How fast must Clarion report a breach?"
    )
    assert c.condense("And for Meridian?", ["Can Tessellate process our data in Canada?"]) == (
        "Can Meridian process our data in Canada?"
    )


def test_what_about_other_people_asks_the_same_of_them() -> None:
    c = HeuristicCondenser(VENDORS)
    previous = ["A nurse left yesterday. How fast must her EHR access be removed?"]
    assert c.condense("what about for contractors?", previous) == (
        "A contractor left yesterday. How fast must her EHR access be removed?"
    )
    assert c.condense("And for the residents?", ["Can nurses use the scribe app?"]) == (
        "Can residents use the scribe app?"
    )
    # without a conversation, a fragment is searched as it is
    assert c.condense("what about for contractors?", []) == "what about for contractors?"


def test_which_of_them_after_a_comparison_asks_across_the_vendors() -> None:
    c = HeuristicCondenser(VENDORS)
    previous = ["Which of our AI vendors may use our data to train models?"]
    # not glued to the comparison before, which would be asked again
    assert c.condense("which of them lets us audit?", previous) == (
        "which of our vendors lets us audit?"
    )
    # after a question about one contract, "them" is searched with it as before
    glued = c.condense("which of them lets us audit?", ["Can Clarion keep our data?"])
    assert glued.startswith("Can Clarion keep our data?")


def test_x_instead_of_y_puts_x_in_the_place_of_y() -> None:
    c = HeuristicCondenser(VENDORS)
    searched = c.condense(
        "what if it's a text instead of an email?", ["Can I email a patient their lab results?"]
    )
    assert searched == "Can I text a patient their lab results?"


def test_other_follow_ups_are_searched_with_the_question_before() -> None:
    c = HeuristicCondenser(VENDORS)
    previous = ["A nurse left yesterday. How fast must her EHR access be removed?"]
    searched = c.condense("what about if she was fired?", previous)
    assert searched.startswith("A nurse left yesterday. How fast must her EHR access be removed?")
    assert searched.endswith("what about if she was fired?")

"""The offline answerer's choice of sentences, on hand-made passages."""

from __future__ import annotations

from assistant.answering.extractive import ExtractiveAnswerer
from assistant.answering.types import Passage
from core.settings import AnswerSettings


def _passage(n: int, locator: str, text: str, doc_type: str = "rule") -> Passage:
    return Passage(
        n=n, chunk_id=f"c{n}", doc_id="d", locator=locator, title="t", doc_type=doc_type,
        version="1", page=None, text=text, heading_path=(), score=1.0, dense=None, lexical=None,
    )  # fmt: skip


def _answer(question: str, passages: list[Passage]) -> str:
    answerer = ExtractiveAnswerer(AnswerSettings(max_sentences=1), idf=lambda term: 1.0)
    return answerer.answer(question, passages, expansion=(), chunks={})


def test_a_rule_list_item_ending_in_or_can_be_quoted() -> None:
    item = "(A) In the amount of less than $100 or more than $50,000 for each violation; or"
    answer = _answer("What is the penalty amount for each violation?", [_passage(1, "x", item)])
    assert "$50,000 for each violation" in answer and "[1]" in answer


def test_a_question_asking_for_a_figure_prefers_the_sentence_that_states_one() -> None:
    about = _passage(
        1, "a", "The vendor charges the hospital for the scribe service as the order form sets out."
    )
    figure = _passage(2, "b", "The vendor charges the hospital $120 monthly for the scribe work.")
    answer = _answer(
        "How much does the vendor charge the hospital for the scribe service?", [about, figure]
    )
    assert "$120" in answer
    # the same passages, asked what is allowed: no figure is asked for, the closer wording wins
    assert "$120" not in _answer(
        "Can the vendor charge the hospital for the ambient scribe service?", [about, figure]
    )


def _answers(question: str, passages: list[Passage], sentences: int) -> str:
    answerer = ExtractiveAnswerer(AnswerSettings(max_sentences=sentences), idf=lambda term: 1.0)
    return answerer.answer(question, passages, expansion=(), chunks={})


def test_each_part_the_question_asks_for_gets_a_sentence() -> None:
    section = _passage(
        1,
        "FAC-2 §4",
        "Supervisors confirm or correct each badge on the quarterly badge audit within 10 working "
        "days. Supervisors confirm badges in the Facilities portal with their own network login. "
        "If a badge is not confirmed in time, it is deactivated until Facilities reissues it.",
        doc_type="policy",
    )
    question = (
        "How long do supervisors have to confirm the badge audit, and what happens if they don't?"
    )
    answer = _answers(question, [section], sentences=2)
    assert "within 10 working days" in answer  # the time asked first
    assert "deactivated" in answer  # then the consequence, not the closer-worded portal sentence
    assert "Facilities portal" not in answer


def test_a_sentence_of_our_own_section_is_read_with_its_heading() -> None:
    text = (
        "Members may ask for a copy of their records in writing or through the member portal. "
        "The Plan responds within 30 calendar days of receipt and sends the copy electronically."
    )
    question = "A member asked for a copy of her records. How long do we have?"
    policy = _passage(1, "PR-2 §11", text, doc_type="policy")
    policy = Passage(**{**policy.__dict__, "heading_path": ("Member Requests for Their Records",)})
    assert "30 calendar days" in _answers(question, [policy], sentences=3)
    # the rule's paragraphs range wider than one subject: their sentences stand on their own
    rule = _passage(1, "45 CFR 164.524(b)", text, doc_type="rule")
    assert "30 calendar days" not in _answers(question, [rule], sentences=3)


def test_the_answer_opens_with_the_quote_that_says_what_is_asked() -> None:
    section = _passage(
        1,
        "SEC-4 §2",
        "The access list for each team is reviewed every quarter in the access portal. "
        "The Chief Information Security Officer signs off on each completed access review.",
        doc_type="policy",
    )
    answer = _answers(
        "Who signs off when managers review the access list for their team?", [section], 3
    )
    quotes = [line for line in answer.splitlines() if line.startswith("- ")]
    assert len(quotes) == 2
    assert "Chief Information Security Officer" in quotes[0]  # who, as asked, before the rest


def _follows(n: int, locator: str, text: str) -> Passage:
    return Passage(**{**_passage(n, locator, text).__dict__, "follows": True})


_TERMINATION = (
    "Access is removed within 5 business days when a workforce member changes role. Access is "
    "disabled within 4 hours of a termination (45 CFR 164.308(a)(3)(ii)(C))."
)
_ACCESS_REQUESTS = (
    "The covered entity must act on a request for access no later than 30 days after receipt "
    "of the request, and access must be removed from the record set only as permitted."
)
_TERMINATING = (
    "Implement procedures for terminating access to electronic protected health information "
    "when the employment of a workforce member ends."
)


def test_the_rule_quoted_is_the_paragraph_the_quoted_policy_cites() -> None:
    policy = _passage(1, "SEC-1 §4.3", _TERMINATION, doc_type="policy")
    loose = _passage(2, "45 CFR 164.524(b)(2)", _ACCESS_REQUESTS)  # shares words, not the subject
    cited = _follows(3, "45 CFR 164.308(a)(3)(ii)(C)", _TERMINATING)
    question = "A nurse was terminated. How fast must her access be removed?"
    answer = _answers(question, [policy, loose], sentences=4)
    assert "request for access" in answer  # without the cited paragraph: the loose match
    answer = _answers(question, [policy, loose, cited], sentences=4)
    assert "45 CFR 164.308(a)(3)(ii)(C): \u201cImplement procedures for terminating" in answer
    assert "request for access" not in answer and "[3]" in answer


def test_a_cited_paragraph_is_not_quoted_unless_a_quoted_sentence_cites_it() -> None:
    policy = _passage(1, "SEC-1 §4.3", _TERMINATION.split(" Access is disabled")[0], "policy")
    cited = _follows(2, "45 CFR 164.308(a)(3)(ii)(C)", _TERMINATING)
    answer = _answers("How fast must access be removed after a role change?", [policy, cited], 4)
    assert "5 business days" in answer and "[2]" not in answer


def test_a_cited_paragraph_without_the_questions_words_is_not_quoted() -> None:
    clause = _passage(
        1,
        "Meridian BAA §5.3",
        "Its annotation vendor is not a Subcontractor under 45 CFR 160.103, but the contract "
        "shall require deletion of images when annotation work ends.",
        doc_type="baa",
    )
    definition = _follows(
        2,
        '45 CFR 160.103 "Subcontractor"',
        "Subcontractor means a person to whom a business associate delegates a function, "
        "activity, or service.",
    )
    question = "Can our radiology vendor keep our images after the contract ends?"
    answer = _answers(question, [clause, definition], sentences=4)
    assert "deletion of images" in answer
    assert "[2]" not in answer and "Subcontractor means" not in answer
    # asked about what the cited paragraph says, it is quoted beside the clause
    answer = _answers(
        "Is the annotation vendor a subcontractor of our images?", [clause, definition], 4
    )
    assert "Subcontractor means" in answer and "[2]" in answer


def test_a_weak_quote_that_says_an_asked_part_does_not_open_the_answer() -> None:
    question = (
        "Can the clinic send scanned consent forms to the archive vendor by email, and what "
        "happens if a form is lost?"
    )
    policy = _passage(
        1,
        "REC-1 §3",
        "The clinic may send scanned consent forms to the archive vendor only through the "
        "secure portal, never by email.",
        doc_type="policy",
    )
    rule = _passage(
        2, "45 CFR 1.2(c)", "If a form is lost in transit, the covered entity documents it."
    )
    answer = _answers(question, [policy, rule], sentences=4)
    assert "If a form is lost" in answer  # it says what happens, so it is quoted ...
    assert answer.startswith(
        "Your policies:\n- REC-1 §3: \u201cThe clinic may send"
    )  # ... not first


def test_a_verdict_written_for_another_question_is_not_quoted() -> None:
    """ "Yes, you may use Lakemont Assist with PHI, on these conditions: ..." answers whether the
    approved tool may be used, not whether a discharge summary may be emailed to another
    hospital; quoted first, it read as a yes (found in a browser trial). A verdict on the asked
    thing stays ("No. A discharge summary ... is PHI.")."""
    tool = _passage(
        1,
        "AI-301 §4.2",
        "Yes, you may use Lakemont Assist with PHI, on these conditions:\n"
        "- Use it only for your job, about patients you have a reason to access.\n"
        "- Do not copy outputs containing PHI to personal email or unapproved tools.",
        doc_type="policy",
    )
    email = _passage(
        2,
        "SEC-210 §6.2",
        "ePHI may not be sent by unencrypted email to anyone outside Lakemont. To send PHI "
        "externally, use secure email.",
        doc_type="policy",
    )
    question = "Can I email a patient's discharge summary to another hospital?"
    answer = _answers(question, [tool, email], sentences=3)
    assert "Yes, you may use Lakemont Assist" not in answer
    assert "Do not copy outputs containing PHI" in answer  # its items, each on its own
    summary = _passage(
        3,
        "AI-301 §5.1",
        "No. A discharge summary, or any part of a medical record, is PHI.",
        "policy",
    )
    assert "No. A discharge summary" in _answers(
        "Can I paste a discharge summary into ChatGPT?", [summary], sentences=1
    )


_TEXTING = (
    "Appointment reminders sent by text under the patient's stated communication preferences "
    "are generated by the EHR and contain no clinical details beyond date and time. Standard "
    "text messages (SMS) and personal messaging apps may not be used for PHI."
)


def test_a_question_whether_something_is_allowed_opens_with_what_may_or_may_not_be_done() -> None:
    """ "Is it OK to text a patient their lab results?" quoted the reminder sentence first (it
    shares "text" and "patient"), which reads as if texting were fine (found in a browser trial);
    the sentence saying what may not be done opens the answer."""
    section = _passage(1, "SEC-210 §6.4", _TEXTING, doc_type="policy")
    answer = _answers("Is it OK to text a patient their lab results?", [section], sentences=2)
    quotes = [line for line in answer.splitlines() if line.startswith("- ")]
    assert "may not be used for PHI" in quotes[0]
    assert "Appointment reminders" in quotes[1]
    # asked what they say, not whether it is allowed: the closer wording opens
    answer = _answers("What do the text appointment reminders to a patient say?", [section], 2)
    assert "Appointment reminders" in answer.splitlines()[1]


def test_a_verdict_sharing_only_the_examples_in_its_brackets_is_on_something_else() -> None:
    summary = _passage(
        1,
        "AI-301 §5.1",
        "No. A discharge summary, or any part of a medical record (a note, a dated lab result, "
        "a medication list), is PHI.",
        doc_type="policy",
    )
    texting = _passage(2, "SEC-210 §6.4", _TEXTING, doc_type="policy")
    answer = _answers("Is it OK to text a patient their lab results?", [summary, texting], 3)
    assert "No. A discharge summary" not in answer
    assert answer.splitlines()[1].startswith("- SEC-210 §6.4: \u201cStandard text messages")

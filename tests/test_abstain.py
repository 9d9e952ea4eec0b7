"""Abstention signals that need no model: named laws the documents never mention."""

from __future__ import annotations

import pytest

from assistant.answering.abstain import (
    Evidence,
    decide,
    measure,
    named_instruments,
    salient_words,
)
from assistant.answering.answer_kinds import asked_kinds, unstated_kinds
from assistant.answering.focus import Mentions
from assistant.retrieval.query import QueryPlan
from assistant.retrieval.retriever import Retrieval
from core.lexical import BM25
from core.settings import AnswerSettings


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
        ("Under the CMS Patient Access API rule, must we ...?", ["CMS Patient Access API rule"]),
        ("Must we do an impact assessment under Colorado's AI law?", ["Colorado's AI law"]),
        ("Does California AB 3030 require a disclaimer?", ["California AB 3030"]),
        ("Are we certified to ISO/IEC 42001?", ["ISO/IEC 42001"]),
        ("Must we tell the Attorney General under A.R.S. 18-552?", ["A.R.S. 18-552"]),
        ("Is Level 3 the final warning?", []),
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


def test_a_named_law_counts_as_covered_only_with_its_words_together() -> None:
    texts = [
        "Parley Voice, Inc., a Colorado corporation, 1600 Broadway, Denver.",
        "This BAA is governed by the law of the State of Delaware.",
        "No AI tool may be used with PHI unless approved.",
    ]
    lexical = BM25([f"c{i}" for i in range(len(texts))], texts)
    mentions = Mentions(lexical, texts)
    question = "Do we need an impact assessment under Colorado's AI law?"
    retrieval = Retrieval(plan=QueryPlan(question=question), passages=[])
    ev = measure(retrieval, lexical, mentions=mentions)
    assert ev.unknown_named == ("Colorado's AI law",)
    # each word is known; only the words together make the law one the documents name
    texts.append("Colorado's AI law requires an impact assessment for high-risk systems.")
    lexical = BM25([f"c{i}" for i in range(len(texts))], texts)
    ev = measure(retrieval, lexical, mentions=Mentions(lexical, texts))
    assert ev.unknown_named == ()


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
        ("What's their direct phone number?", ["a phone number"]),
        ("Which email address do I report phishing to?", ["an email address"]),
        # a phone number or email address mentioned is not one asked for
        ("Can I sign up for a consumer AI account with my work email address?", []),
        ("I sent patient info to the wrong email address, how is that cleaned up?", []),
        ("I gave my phone number to the chatbot, is that a problem?", []),
        ("Which toll-free number do we list on the substitute notice?", ["a phone number"]),
        ("She wants a second set on paper. What do we charge for that?", ["an amount of money"]),
        ("What can we charge a patient for a second set of copies?", []),
        ("Who runs the council, and what email do I send my submission to?", ["an email address"]),
        ("How many business days do I have to file an appeal?", ["a length of time"]),
        ("What's the recovery time objective for the claims system?", ["a length of time"]),
        ("What's the actual cut-off for the re-identification test?", ["a figure"]),
        ("What containment rate is the voice agent supposed to hit?", ["a figure"]),
        ("What minimum accuracy must the model reach when revalidated?", ["a figure"]),
        # a more particular figure asked for is that one, not "a figure" too
        ("What is Medicare's reimbursement rate for telehealth visits?", ["an amount of money"]),
        ("What time does the Phoenix office open?", ["a time of day"]),
        ("At what time of day are backups run?", ["a time of day"]),
        ("What time does the cafeteria close on weekends?", ["a time of day"]),
        ("At what time do shared workstations lock?", []),
        # a count of things, not of time
        ("How many failed logins before my account locks?", ["a count"]),
        ("How many times can I retake the quiz?", []),
        # a person's name for a role holder; "who is the contact for ..." asks for a role
        ("Who is our account manager at the coding vendor?", ["a person's name"]),
        ("What's the name of our Chief Privacy Officer?", ["a person's name"]),
        ("Who is the contact for reporting a breach?", []),
        ("Who approves new AI tools?", []),
        ("Which US state is the vendor's data center in?", ["a US state"]),
        ("Which state's law governs the BAA?", ["a US state"]),
        ("What day of the month does the committee meet?", ["a day or date"]),
        ("When does our contract come up for renewal?", ["a day or date"]),
        ("What date goes on the Notice of Privacy Practices?", []),
        ("How much does the Plan budget each year for vendor audits?", ["an amount of money"]),
        ("How much are we allowed to charge for copies of records?", []),
        ("What time frame do we have to report a breach?", []),
        ("What time limit applies to an access request?", []),
        ("What time of year is the privacy refresher due?", []),
        ("What TLS version does Clarion require?", ["a version number"]),
        ("Which model is it, and which version of it is live?", ["a version number"]),
        ("Can we trace which model version produced a result?", []),
        # a price is asked with its verb, not anywhere after
        ("How many more business days does the vendor get?", ["a length of time"]),
        ("How much do we have to explain about using patient data for billing?", []),
        # a deadline may be an event or a date, and a retention period "as long as needed"
        ("What's my deadline to finish the privacy course?", []),
        ("How long do we keep audit logs?", []),
    ],
)
def test_questions_that_ask_for_a_figure_are_recognised(question: str, kinds: list[str]) -> None:
    assert [k.name for k in asked_kinds(question)] == kinds


def test_a_figure_counts_only_beside_what_the_question_asks_about() -> None:
    q = "What percentage of Copilot conversations does the Privacy Office review each month?"
    df = {"copilot": 3, "conversations": 2, "privacy": 400, "office": 300, "review": 90}
    elsewhere = (
        "The module ends with a 10-question assessment with a pass mark of 80 percent; the "
        "Privacy Office schedules a session after two failed attempts."
    )
    assert unstated_kinds(q, [elsewhere], df=lambda t: df.get(t, 50)) == ("a percentage",)
    beside = "Each month the Privacy Office reviews 5% of Copilot conversations."
    assert unstated_kinds(q, [elsewhere, beside], df=lambda t: df.get(t, 50)) == ()


def test_a_length_of_time_counts_anywhere_in_a_passage_on_the_subject() -> None:
    q = "How many days do we have to answer a member's appeal of a denied claim?"
    other = "A member may ask for a copy of the denial letter within 30 days."
    about = ("Appeals > 4. Timelines", "Each appeal of a denied claim gets a written decision.")
    stated = (
        "Appeals > 4. Timelines",
        "Each appeal of a denied claim is logged. A written decision follows within 30 days.",
    )
    # the closest passage states a length of time: answered whatever words it uses
    assert unstated_kinds(q, [other]) == ()
    assert unstated_kinds(q, [about, other]) == ("a length of time",)
    assert unstated_kinds(q, [about, stated]) == ()
    rto = "What's the recovery time objective for the claims system?"
    plan = "The contingency plan restores the claims system from backups after an outage."
    assert unstated_kinds(rto, [plan]) == ("a length of time",)
    assert unstated_kinds(rto, [plan + " Service returns within seventy-two hours."]) == ()


def test_a_name_asked_for_is_stated_by_a_person_or_a_state_not_a_role() -> None:
    q = "Who is our account manager at Quarry Analytics?"
    role = "Quarry Analytics assigns an account manager to Saguaro for the term of the agreement."
    named = "Quarry Analytics' account manager for Saguaro is Dana Whitfield."
    assert unstated_kinds(q, [role]) == ("a person's name",)
    assert unstated_kinds(q, [role, named]) == ()
    state = "Which US state is Clarion's data center in?"
    us = "Clarion keeps our tenant's data center in the United States."
    assert unstated_kinds(state, [us]) == ("a US state",)
    assert unstated_kinds(state, ["Clarion's data center is in Ashburn, Virginia."]) == ()


def test_a_count_is_stated_by_a_number_beside_the_subject() -> None:
    q = "How many failed logins does it take before my account gets locked?"
    vague = "Accounts are locked after repeated failed logins."
    assert unstated_kinds(q, [vague]) == ("a count",)
    assert unstated_kinds(q, ["Accounts are locked after five failed logins."]) == ()


def test_a_figure_asked_for_and_stated_nowhere_is_a_refusal() -> None:
    q = "How much are we paying Acme Scribe per clinician per month?"
    about = "Acme Scribe provides ambient documentation to Lakemont clinicians under this BAA."
    assert unstated_kinds(q, [about]) == ("an amount of money",)
    assert unstated_kinds(q, [about, "The subscription is $120 per clinician per month."]) == ()
    assert unstated_kinds(q, ["Acme Scribe fees: 1,500 dollars a clinician a year."]) == ()
    uptime = "What uptime does Clarion guarantee?"
    assert unstated_kinds(uptime, ["Clarion shall keep the service available."]) == (
        "a percentage",
    )
    # the sentence is read with its passage's headings
    sla = ("Clarion BAA > 7. Service levels", "Availability of 99.9% each month.")
    assert unstated_kinds(uptime, [sla]) == ()
    assert unstated_kinds("Can Clarion keep our prompts?", [about]) == ()
    s = AnswerSettings()
    reason = decide(_evidence(best_topic=0.95, unstated=("an amount of money",)), s)
    assert reason == "none of the passages found states an amount of money"
    assert decide(_evidence(unstated=("a percentage",), located=True), s) == ""


def test_days_and_months_are_not_names_the_documents_lack() -> None:
    question = "We're letting someone go Friday afternoon. How fast must IT shut off Okta access?"
    assert salient_words(question) == {"okta"}
    assert salient_words("Does the CCPA apply to our December mailing?") == {"ccpa"}


def test_a_version_is_a_name_and_its_number_not_a_section_or_a_citation() -> None:
    q = "Which TLS version must vendors use?"
    assert unstated_kinds(q, ["Vendors encrypt PHI in transit under Section 4.2."]) == (
        "a version number",
    )
    assert unstated_kinds(q, ["Vendors use TLS under 45 CFR 164.312(e)."]) == ("a version number",)
    assert unstated_kinds(q, ["Data in transit uses TLS 1.2 or higher."]) == ()
    office = "What time does the Phoenix office open?"
    assert unstated_kinds(office, ["Staff print at the Phoenix office."]) == ("a time of day",)
    assert unstated_kinds(office, ["The Phoenix office opens at 7:30 a.m."]) == ()


def test_the_subject_s_words_match_with_their_endings_off() -> None:
    q = "What percentage of locked accounts does the SOC check?"
    df = {"locked": 2, "accounts": 3, "soc": 90, "check": 90}
    # "lock" is the question's rarest word "locked"
    stated = "The SOC checks 5% of lock events each week."
    assert unstated_kinds(q, [stated], df=lambda t: df.get(t, 50)) == ()
    assert unstated_kinds(q, ["The SOC checks 5% of laptops."], df=lambda t: df.get(t, 50)) == (
        "a percentage",
    )


def test_a_value_asked_for_is_about_its_own_clause_not_the_next_question() -> None:
    q = "What score do I need to pass the quiz, and what happens if I keep failing it?"
    df = {"happen": 1, "failing": 4, "pass": 4, "quiz": 9, "keep": 90}
    stated = "The quiz has a pass mark of 80 percent."
    # "happens" and "failing" are the rarest words, but they belong to the second question
    assert unstated_kinds(q, [stated], df=lambda t: df.get(t, 50)) == ()
    assert unstated_kinds(
        q, ["The quiz covers the approved tools."], df=lambda t: df.get(t, 50)
    ) == ("a figure",)
    # a yes-or-no question after it is about the same value: its words still count
    paid = "How much are we paying Quarry per chart, and is the review billed separately?"
    fee = "Quarry's insurance covers $5 million per claim."
    assert unstated_kinds(paid, [fee], df=lambda t: {"billed": 1}.get(t, 50)) == (
        "an amount of money",
    )

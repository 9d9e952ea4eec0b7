"""Questions across the organisation's contracts: recognised, asked of every BAA the caller may
read, answered one row per vendor (a vendor whose BAA does not say is shown, never dropped)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from assistant.answering.chain import AnswerChain
from assistant.answering.compare import NOT_STATED, focus, is_comparison
from assistant.runtime.build import build_chain
from core.index.reader import Scope
from tests.conftest import index_org_corpus

PRIVACY = Scope.for_groups(["privacy-office"])
VENDORS = ["Acme Scribe", "Clarion AI", "Meridian Imaging", "Tessellate"]


@pytest.mark.parametrize(
    "question",
    [
        "Which of our AI vendors may use our data to train models?",
        "Compare breach-notice deadlines across our vendors",
        "Compare how long each of our three AI vendors has to tell us about a breach.",
        "Does each BAA require return of PHI?",
        "Do any of our vendors use subcontractors?",
    ],
)
def test_questions_across_the_contracts_are_recognised(question: str) -> None:
    assert is_comparison(question)


@pytest.mark.parametrize(
    "question",
    [
        "If our AI scribe vendor has a breach, how long do they have to tell us?",
        "What does HIPAA require in a BAA?",
        "What vendor hosts Saguaro Copilot?",
        "Compare our policy with HIPAA",
    ],
)
def test_questions_about_one_contract_or_none_are_not(question: str) -> None:
    assert not is_comparison(question)


def test_what_is_asked_of_each_contract_drops_the_scaffolding() -> None:
    assert focus("Compare breach notice deadlines across our vendors") == "breach notice deadlines"
    assert focus("Which of our AI vendors may use our data to train models?") == (
        "may use our data to train models?"
    )


@dataclass
class Org:
    chain: AnswerChain


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Org:
    settings, index = index_org_corpus(tmp_path_factory.mktemp("compare") / "data")
    return Org(build_chain(settings, index))


def test_every_vendor_gets_a_row_with_its_own_clause(org: Org) -> None:
    answer = org.chain.ask("Which of our AI vendors may use our data to train models?", PRIVACY)
    assert [r.vendor for r in answer.comparison] == VENDORS
    assert all(r.stated for r in answer.comparison)
    for r in answer.comparison:
        assert r.locator.startswith(f"{r.vendor} BAA §"), r
        assert f"[{r.n}]" in answer.text and r.quote in answer.text
    meridian = answer.comparison[2]
    assert meridian.quote.startswith("Meridian may use De-identified Data to train")
    # numbered in order of appearance, each citation checked against its passage
    assert [c.n for c in answer.citations][:4] == [1, 2, 3, 4]
    assert {c.locator for c in answer.citations[:4]} == {r.locator for r in answer.comparison}
    data = answer.to_json()
    assert [row["vendor"] for row in data["comparison"]] == VENDORS


def test_a_vendor_whose_baa_does_not_say_is_shown_as_such(org: Org) -> None:
    answer = org.chain.ask("Which of our vendors fail over to a region in Canada?", PRIVACY)
    rows = {r.vendor: r for r in answer.comparison}
    assert list(rows) == VENDORS
    assert rows["Clarion AI"].stated and rows["Clarion AI"].locator == "Clarion AI BAA §7.1"
    silent = [v for v, r in rows.items() if not r.stated]
    assert silent == ["Acme Scribe", "Meridian Imaging", "Tessellate"]
    assert answer.text.count(NOT_STATED) == 3
    assert answer.to_json()["comparison"][0]["quote"] == NOT_STATED


def test_the_comparison_is_confined_to_what_the_caller_may_read_and_chose(org: Org) -> None:
    staff = org.chain.ask(
        "Which of our AI vendors may use our data to train models?", Scope.for_groups(["staff"])
    )
    assert staff.comparison == []
    assert all(p.doc_type != "baa" for p in staff.passages)
    two = Scope(frozenset({"privacy-office"}), None, frozenset({"Acme Scribe", "Clarion AI"}))
    answer = org.chain.ask("Which of our AI vendors may use our data to train models?", two)
    assert [r.vendor for r in answer.comparison] == ["Acme Scribe", "Clarion AI"]
    one = Scope(frozenset({"privacy-office"}), None, frozenset({"Clarion AI"}))
    answer = org.chain.ask("Which of our AI vendors may use our data to train models?", one)
    assert answer.comparison == []  # a single contract is answered as usual


def test_a_deadline_asked_across_the_contracts_is_each_ones_time_limit(org: Org) -> None:
    """ "breach-notice deadlines": the clause that sets the time ("Clarion shall notify Lakemont
    ... no later than 10 business days after discovery") answers, not the next clause's "The
    notice shall identify ...", which shares more of the question's words but sets no time."""
    staff_and_privacy = Scope.for_groups(["staff", "privacy-office"])  # policies beside BAAs
    answer = org.chain.ask("Compare breach-notice deadlines across our vendors", staff_and_privacy)
    rows = {r.vendor: r for r in answer.comparison}
    assert list(rows) == VENDORS
    for vendor, row in rows.items():
        assert row.locator == f"{vendor} BAA §4.3", row
        assert "after discovery" in row.quote, row
    # every citation numbered in order of appearance, the other documents' quotes after the rows
    first_seen = list(dict.fromkeys(int(n) for n in re.findall(r"\[(\d+)\]", answer.text)))
    assert first_seen == list(range(1, len(first_seen) + 1)), answer.text
    assert [c.n for c in answer.citations] == first_seen
    assert len(first_seen) > len(VENDORS)  # a policy quoted beside the table

"""`hipaa-assistant baa check`: figures read from clauses, catalogs, statuses, access, formats."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import yaml

from assistant.checks.baa import Contract, check_contract, check_requirement
from assistant.checks.catalog import load_catalog
from assistant.checks.clauses import sentences
from assistant.checks.figures import Duration, amounts, countries, durations
from assistant.checks.request import parse_check_request
from assistant.checks.run import contract
from assistant.cli import main
from assistant.ui import render
from core.documents import Chunk, SourceDocument
from core.errors import ConfigError
from core.settings import PROJECT_ROOT
from tests.conftest import index_org_corpus

RULE = PROJECT_ROOT / "assistant" / "checks" / "baa_rule.yaml"
LAKEMONT_TERMS = PROJECT_ROOT / "corpus" / "baa-terms.yaml"
SAGUARO_TERMS = PROJECT_ROOT / "evals" / "orgs" / "saguaro" / "documents" / "baa-terms.yaml"


# --- figures -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("within ten (10) business days after discovery", "10 business days"),
        ("no later than 72 hours after", "72 hours"),
        ("within thirty (30) days after termination", "30 days"),
        ("forty-five (45) calendar days", "45 days"),
        ("5 Business Days", "5 business days"),
        ("two weeks' notice", "2 weeks"),
    ],
)
def test_durations_are_read_in_words_digits_and_both(text: str, expected: str) -> None:
    assert [str(d) for d, _ in durations(text)] == [expected]


def test_a_figure_the_clause_only_refers_to_is_not_its_limit() -> None:
    sentence = "This is shorter than the 60-calendar-day outer limit in 45 CFR 164.410(b)."
    assert durations(sentence) == []


def test_business_days_compare_with_calendar_days_at_their_worst() -> None:
    five_bd = Duration.parse("5 business days")
    assert Duration.parse("72 hours").within(five_bd)
    assert Duration.parse("7 days").within(five_bd)  # 5 business days always span 7 days
    assert not Duration.parse("8 days").within(five_bd)
    assert not Duration.parse("10 business days").within(five_bd)
    assert not Duration.parse("5 business days").within(Duration.parse("72 hours"))
    assert Duration.parse("30 days").at_least(Duration.parse("30 days"))
    assert not Duration.parse("15 days").at_least(Duration.parse("30 days"))
    assert Duration.parse("6 weeks").at_least(Duration.parse("30 days"))


def test_amounts_and_countries() -> None:
    assert amounts("at least $5,000,000 per claim, $2 million aggregate") == [5e6, 2e6]
    assert amounts("five million dollars ($5,000,000)") == [5e6, 5e6]
    named = [c for c, _ in countries("only in the United States and Canada, never in India")]
    assert named == ["United States", "Canada", "India"]
    # "us" is a pronoun, not the United States; Georgia is left out (a US state)
    assert countries("let us know from Atlanta, Georgia") == []


# --- catalogs ------------------------------------------------------------------------------------


def test_the_bundled_catalogs_load() -> None:
    rule = load_catalog(RULE)
    citations = [r.citation for r in rule.requirements]
    assert len(citations) == 15
    assert "45 CFR 164.504(e)(2)(ii)(J)" in citations
    assert "45 CFR 164.314(a)(2)(i)(C)" in citations
    lakemont = load_catalog(LAKEMONT_TERMS)
    assert lakemont.organisation == "Lakemont Regional Health"
    assert {r.id for r in lakemont.requirements} >= {"breach-notice", "no-training", "us-only"}
    assert len(lakemont.exceptions) == 13
    assert all(w.citation == "AI-310 §6.2" for w in lakemont.exceptions)
    saguaro = load_catalog(SAGUARO_TERMS)
    assert len(saguaro.requirements) == 11 and len(saguaro.exceptions) == 2
    assert not [r.id for c in (rule, lakemont, saguaro) for r in c.requirements if r.problem]


def _write(tmp_path: Path, terms: list[dict[str, object]], **extra: object) -> Path:
    path = tmp_path / "baa-terms.yaml"
    path.write_text(yaml.safe_dump({"organisation": "Test Org", "terms": terms, **extra}))
    return path


def test_a_malformed_catalog_fails_with_the_entry_named(tmp_path: Path) -> None:
    base = {"id": "x", "citation": "T-1 §1", "requirement": "r", "check": "presence"}
    with pytest.raises(ConfigError, match="unknown field 'topics'"):
        load_catalog(_write(tmp_path, [{**base, "topics": ["a"]}]))
    with pytest.raises(ConfigError, match="bad pattern"):
        load_catalog(_write(tmp_path, [{**base, "topic": ["(unclosed"]}]))
    with pytest.raises(ConfigError, match="check must be one of"):
        load_catalog(_write(tmp_path, [{**base, "check": "vibes", "topic": ["a"]}]))
    with pytest.raises(ConfigError, match="no term 'y'"):
        load_catalog(
            _write(
                tmp_path,
                [{**base, "topic": ["a"]}],
                exceptions=[{"vendor": "V", "term": "y", "citation": "T-1 §2"}],
            )
        )


def test_an_incomplete_entry_gives_needs_review_rows_never_a_guess(tmp_path: Path) -> None:
    catalog = load_catalog(
        _write(
            tmp_path,
            [
                {"id": "empty", "citation": "T-1 §1", "check": "presence"},
                {"id": "soon", "citation": "T-1 §2", "requirement": "notify", "check": "deadline",
                 "limit": "promptly", "topic": ["notif"]},
            ],
        )
    )  # fmt: skip
    c = _contract(["1 Notice", "Vendor shall notify the Plan within 5 days."])
    rows = check_contract(c, catalog.requirements)
    assert [r.status for r in rows] == ["needs review", "needs review"]
    assert "states no requirement" in rows[0].note and "no topic" in rows[0].note
    assert "'promptly' is not a time limit" in rows[1].note


# --- the checker on small contracts --------------------------------------------------------------


def _contract(*clauses: list[str], vendor: str = "Acme") -> Contract:
    """Clauses as [title, sentence, ...]; each becomes one passage ``Acme BAA §n``."""
    chunks = [
        Chunk(f"c{i}", "acme", f"Acme BAA §{i + 1}", "\n".join(lines), page=i + 1)
        for i, lines in enumerate(clauses)
    ]
    doc = SourceDocument("acme", "baa", "Acme BAA", "acme.md", "0", vendor=vendor)
    return contract(doc, chunks, "Test Org")


def _terms() -> dict[str, object]:
    catalog = load_catalog(SAGUARO_TERMS)
    return {r.id: r for r in catalog.requirements} | {"_waivers": catalog.exceptions}


def test_deadlines_present_weaker_and_within_an_approved_exception() -> None:
    terms = _terms()
    breach = terms["breach-notice"]
    fast = _contract(["4.1 Breach", "Vendor shall report any Breach within 3 business days."])
    late = "Vendor shall notify the Plan of a Breach within 10 Business Days."
    slow = _contract(["4.1 Breach", late])
    assert check_requirement(fast, breach).status == "present"
    row = check_requirement(slow, breach)
    assert (row.status, row.figure, row.locators) == (
        "weaker",
        "10 business days",
        ("Acme BAA §1",),
    )
    assert "10 business days vs 5 business days required" in row.note
    assert row.quote == late
    parley = _contract(
        ["4.1 Breach", "Vendor shall notify the Plan of a Breach within 10 Business Days."],
        vendor="Parley Voice",
    )
    waived = check_requirement(parley, breach, terms["_waivers"])
    assert (waived.status, waived.exception) == ("exception", "SHP-VM-02 §9.3 EX-2026-01")
    later = _contract(
        ["4.1 Breach", "Vendor shall notify the Plan of a Breach within 15 Business Days."],
        vendor="Parley Voice",
    )
    beyond = check_requirement(later, breach, terms["_waivers"])
    assert beyond.status == "weaker" and "beyond the approved exception" in beyond.note


def test_a_deadline_in_words_the_checker_cannot_read_needs_review() -> None:
    c = _contract(["6 Breach", "Vendor shall notify the Plan of any Breach promptly."])
    row = check_requirement(c, _terms()["breach-notice"])
    assert row.status == "needs review" and "promptly" in row.note


def test_a_lead_in_negation_carries_to_its_items_and_a_permission_contradicts() -> None:
    training = _terms()["no-training"]
    banned = _contract(
        ["3 Restrictions", "Vendor shall not:", "(a) sell PHI;", "(b) use PHI to train any model."]
    )
    assert check_requirement(banned, training).status == "present"
    allowed = _contract(["3 Data", "Vendor may use PHI to train and improve its general models."])
    assert check_requirement(allowed, training).status == "contradicts"


def test_locations_outside_the_allowed_countries_are_weaker() -> None:
    us_only = _terms()["us-only"]
    home = _contract(
        ["7 Location", "Vendor shall store and process PHI only in the United States."]
    )
    assert check_requirement(home, us_only).status == "present"
    abroad = _contract(["7 Location", "Vendor may process PHI in the United States and India."])
    row = check_requirement(abroad, us_only)
    assert (row.status, row.figure) == ("weaker", "United States, India")
    blocked = _contract(
        ["7 Location", "Vendor shall block access to PHI from outside the United States."]
    )
    assert check_requirement(blocked, us_only).status == "present"
    assert check_requirement(_contract(["1 Fees", "Fees are due monthly."]), us_only).status == (
        "missing"
    )


def test_amounts_below_the_minimum_are_weaker() -> None:
    insurance = _terms()["cyber-insurance"]
    low = _contract(["9 Insurance", "Vendor shall maintain cyber insurance of $2,000,000."])
    high = _contract(["9 Insurance", "Vendor shall maintain insurance of ten million dollars."])
    assert check_requirement(low, insurance).status == "weaker"
    assert check_requirement(high, insurance).status == "present"


def test_contracts_the_checker_cannot_read_need_review_in_every_row() -> None:
    rule = load_catalog(RULE).requirements
    doc = SourceDocument("scan", "baa", "Scanned BAA", "scan.pdf", "0", vendor="Scan")
    scanned = contract(doc, [Chunk("s", "scan", "Scanned BAA", "", page=1)])
    rows = check_contract(scanned, rule)
    assert {r.status for r in rows} == {"needs review"} and "no text" in rows[0].note
    flat = contract(
        doc, [Chunk("f", "scan", "Scanned BAA", "Vendor shall safeguard PHI. It may use PHI.")]
    )
    rows = check_contract(flat, rule)
    assert {r.status for r in rows} == {"needs review"} and "no numbered" in rows[0].note


def test_sentences_keep_wrapped_lines_and_abbreviations_together() -> None:
    chunk = Chunk(
        "x", "d", "D §1", "1 Title\nVendor may de-identify PHI only by the expert\nmethod. "
        "It is U.S. law. Next one.", page=2,
    )  # fmt: skip
    got = [s.text for s in sentences([chunk])]
    assert got == [
        "1 Title",
        "Vendor may de-identify PHI only by the expert method.",
        "It is U.S. law.",
        "Next one.",
    ]


# --- the command ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def org_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("baa-check") / "data"
    index_org_corpus(data)
    return data


def _run(data: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["--data-dir", str(data), "baa", "check", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_staff_are_refused_and_see_no_contract_text(
    org_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(org_data, "--format", "json", capsys=capsys)
    assert code == 2 and out == ""
    assert "needs access to the contracts" in err
    code, out, err = _run(org_data, "--groups", "staff", "--vendor", "Clarion", capsys=capsys)
    assert code == 2 and out == "" and "Clarion" not in err


def test_json_rows_for_every_baa_and_requirement(
    org_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(org_data, "--groups", "privacy-office", "--format", "json", capsys=capsys)
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 4 * 24  # four BAAs x (15 rule requirements + 9 AI-310 terms)
    assert set(rows[0]) >= {"vendor", "requirement", "status", "locators", "quote", "note"}
    by = {(r["vendor"], r["requirement"]["id"]): r for r in rows}
    clarion = by[("Clarion AI", "breach-notice")]
    assert clarion["requirement"]["citation"] == "AI-310 §5.1"
    assert clarion["status"] == "exception" and clarion["exception"] == "AI-310 §6.2"
    assert (
        clarion["locators"] == ["Clarion AI BAA §4.3"] and clarion["figure"] == "10 business days"
    )
    assert "10 business days after discovery" in clarion["quote"]
    assert by[("Clarion AI", "subcontractor-notice")]["status"] == "weaker"
    assert by[("Acme Scribe", "report-non-permitted")]["requirement"]["citation"] == (
        "45 CFR 164.504(e)(2)(ii)(C)"
    )
    # every quote is the contract's own words, and every status cites a clause or says missing
    for r in rows:
        assert r["status"] in ("present", "missing", "weaker", "exception", "contradicts")
        assert bool(r["locators"]) == (r["status"] != "missing")


def test_one_vendor_and_every_format(org_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ("--groups", "legal", "--vendor", "meridian")
    code, table, _ = _run(org_data, *args, capsys=capsys)
    assert code == 0 and "Meridian Imaging: " in table and "Clarion" not in table
    _, md, _ = _run(org_data, *args, "--format", "md", capsys=capsys)
    assert md.startswith("## Meridian Imaging") and "| **exception** |" in md
    _, text, _ = _run(org_data, *args, "--format", "csv", capsys=capsys)
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert len(parsed) == 24 and {p["vendor"] for p in parsed} == {"Meridian Imaging"}
    code, _, err = _run(org_data, "--groups", "legal", "--vendor", "Nobody", capsys=capsys)
    assert code == 2 and "no BAA you may read matches Nobody" in err


# --- the chat ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "vendors"),
    [
        ("check the Acme Scribe BAA", ("Acme Scribe",)),
        ("Can you check the Clarion and Meridian BAAs?", ("Clarion", "Meridian")),
        ("review Tessellate's BAA against our terms", ("Tessellate",)),
        ("Check our BAAs", ()),
        ("please check all of our business associate agreements.", ()),
    ],
)
def test_a_chat_message_asking_for_the_check_is_recognised(
    message: str, vendors: tuple[str, ...]
) -> None:
    request = parse_check_request(message)
    assert request is not None and request.vendors == vendors


@pytest.mark.parametrize(
    "message",
    ["What does the Acme BAA say about breach notice?", "How do I check a BAA?", "check email"],
)
def test_questions_about_baas_are_not_check_requests(message: str) -> None:
    assert parse_check_request(message) is None


def test_the_chat_table_links_each_clause_to_its_words() -> None:
    terms = _terms()
    c = _contract(
        ["4.1 Breach", "Vendor shall notify the Plan of a Breach within 10 Business Days."],
        ["9 Insurance", "Vendor | shall maintain cyber insurance of $9,000,000."],
    )
    rows = [
        check_requirement(c, terms["breach-notice"]),
        check_requirement(c, terms["cyber-insurance"]),
        check_requirement(c, terms["us-only"]),
    ]
    content, side = render.baa_check_markdown(rows)
    assert content.startswith("**Acme** (1 present, 1 missing, 1 weaker)")
    assert "| SHP-VM-02 §5.1(a) (breach-notice) | **weaker** | [1] Acme BAA §1 |" in content
    assert "| SHP-VM-02 §5.2(a) (us-only) | **missing** | – |" in content
    assert [s.name for s in side] == ["[1]", "[2]"]
    assert "within 10 Business Days" in side[0].content and "Status: weaker" in side[0].content
    assert "Vendor \\| shall maintain" in side[1].content  # the clause's words stay literal

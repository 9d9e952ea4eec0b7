"""Parsing of the official texts from the offline mirror (skipped, with the reason, without it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.ecfr import parse_ecfr_xml
from ingest.pdf_text import read_pdf
from ingest.regulation_pdf import parse_regulation_pdf
from ingest.tree import chunk_tree

SUBPART_SECTIONS = {
    "C": [
        "164.302",
        "164.304",
        "164.306",
        "164.308",
        "164.310",
        "164.312",
        "164.314",
        "164.316",
        "164.318",
    ],
    "D": ["164.400", "164.402", "164.404", "164.406", "164.408", "164.410", "164.412", "164.414"],
    "E": [
        "164.500",
        "164.501",
        "164.502",
        "164.504",
        "164.506",
        "164.508",
        "164.509",
        "164.510",
        "164.512",
        "164.514",
        "164.520",
        "164.522",
        "164.524",
        "164.526",
        "164.528",
        "164.530",
        "164.532",
        "164.534",
        "164.535",
    ],
}


def _xml(mirror: Path, subpart: str) -> bytes:
    return (mirror / "ecfr" / f"title-45-part-164-subpart-{subpart}-2026-07-01.xml").read_bytes()


@pytest.fixture(scope="module")
def ecfr_chunks(mirror: Path) -> dict[str, list]:
    out = {}
    for sub in "CDE":
        nodes = parse_ecfr_xml(_xml(mirror, sub))
        out[sub] = chunk_tree(f"ecfr-{sub}", nodes, max_words=200, min_words=25)
    return out


def _span_text(chunks: list, locator: str) -> str:
    """Text of a paragraph (or of its first subparagraph, when its words sit there)."""
    for c in chunks:
        for s in c.spans:
            if s.locator == locator or s.locator.startswith(locator + "("):
                return c.text[s.start : s.end]
        if c.locator == locator or c.locator.startswith(locator + "("):
            return c.text
    raise AssertionError(f"{locator} not found")


def test_every_section_of_subparts_c_d_e_is_indexed(ecfr_chunks: dict) -> None:
    for sub, sections in SUBPART_SECTIONS.items():
        present = {c.section for c in ecfr_chunks[sub]}
        for number in sections:
            assert f"45 CFR {number}" in present, number


def test_paragraph_level_locators(ecfr_chunks: dict) -> None:
    c = ecfr_chunks["C"]
    assert _span_text(c, "45 CFR 164.312(a)(2)(iv)").startswith("(iv) Encryption and decryption")
    assert _span_text(c, "45 CFR 164.308(a)(1)(ii)(A)").startswith("(A) Risk analysis (Required)")
    assert "audit controls" in _span_text(c, "45 CFR 164.312(b)").lower()
    e = ecfr_chunks["E"]
    j = _span_text(e, "45 CFR 164.504(e)(2)(ii)(J)")
    assert "return or destroy all protected health information" in j
    r = _span_text(e, "45 CFR 164.514(b)(2)(i)(R)")
    assert "Any other unique identifying number" in r
    assert _span_text(e, "45 CFR 164.512(i)").startswith(
        "(i) Standard: Uses and disclosures for research"
    )
    armed = _span_text(e, "45 CFR 164.512(k)(1)(i)")
    assert "Armed Forces personnel" in armed
    assert "Separation or discharge" in _span_text(e, "45 CFR 164.512(k)(1)(ii)")
    d = ecfr_chunks["D"]
    assert "60 calendar days" in _span_text(d, "45 CFR 164.404(b)")


def test_each_definition_numbers_its_own_paragraphs(ecfr_chunks: dict) -> None:
    """A definition's (1), (2)(ii)(A) are the definition's, named by its term; the next
    definition (no designator of its own) is never filed under the last paragraph before it."""
    e, d = ecfr_chunks["E"], ecfr_chunks["D"]
    assert "refill reminders" in _span_text(e, '45 CFR 164.501 "Marketing" (2)(i)')
    assert _span_text(e, '45 CFR 164.501 "Payment" (2)(vi)(F)').startswith("(F) Name and address")
    notes = _span_text(e, '45 CFR 164.501 "Psychotherapy notes"')
    assert notes.startswith("Psychotherapy notes means")
    assert "Psychotherapy notes" not in _span_text(e, '45 CFR 164.501 "Payment" (2)(vi)(F)')
    unsecured = _span_text(d, '45 CFR 164.402 "Unsecured protected health information"')
    assert unsecured.startswith("Unsecured protected health information means")
    assert "Unsecured" not in _span_text(d, '45 CFR 164.402 "Breach" (2)(iv)')
    assert "inadvertent disclosure" in _span_text(d, '45 CFR 164.402 "Breach" (1)(ii)')
    # definitions opened by a paragraph stay under it; the section then goes on
    assert "claims history" in _span_text(e, '45 CFR 164.504(a) "Summary health information" (1)')
    assert "[Reserved]" in _span_text(e, "45 CFR 164.504(b)")
    # no paragraph of a definitions section is cited as if the section were numbered
    locators = {loc for c in e + d for loc in (c.locator, *(s.locator for s in c.spans))}
    assert not {"45 CFR 164.501(1)", "45 CFR 164.501(2)(vi)(F)", "45 CFR 164.402(2)"} & locators


def test_standard_kept_with_its_implementation_specifications(ecfr_chunks: dict) -> None:
    chunk = next(c for c in ecfr_chunks["C"] if c.locator == "45 CFR 164.308(a)(1)")
    assert "Security management process" in chunk.text
    assert all(f"(ii)({x})" in " ".join(s.locator for s in chunk.spans) for x in "ABCD")
    assert chunk.heading_path[0] == "§ 164.308 Administrative safeguards"


def test_chunks_have_heading_and_fit_the_size(ecfr_chunks: dict) -> None:
    for chunks in ecfr_chunks.values():
        for c in chunks:
            assert c.heading_path and c.heading_path[0].startswith("§ 164.")
            assert len(c.text.split()) <= 200


@pytest.fixture(scope="module")
def hhs_pdf(mirror: Path) -> list:
    pdf = read_pdf((mirror / "ecfr" / "hipaa-simplification-201303.pdf").read_bytes())
    return parse_regulation_pdf(pdf)


def test_regulation_pdf_recovers_sections_with_pages(hhs_pdf: list) -> None:
    by = {n.locator: n for n in hhs_pdf}
    # a heading split across lines in the PDF ("§ 1\n60.103")
    assert "45 CFR 160.103" in by
    assert by["45 CFR 160.103"].paras[0].page == 11
    for number in (
        "160.101",
        "160.102",
        "160.306",
        "160.402",
        "164.102",
        "164.103",
        "164.104",
        "164.105",
        "164.106",
    ):
        assert f"45 CFR {number}" in by, number
    s105 = by["45 CFR 164.105"]
    assert s105.label.startswith("§ 164.105 Organizational requirements")
    assert any(c.locator == "45 CFR 164.105(a)" for c in s105.children)


def test_regulation_pdf_drops_toc_running_headers_and_rejoins_words(hhs_pdf: list) -> None:
    text = " ".join(p.text for n in hhs_pdf for node in n.walk() for p in node.paras)
    assert "Administrative Simplification Regulation Text" not in text
    assert "....." not in text
    assert "any requirement or prohibition" in text  # "requir\nement" rejoined
    assert "half-siblings" in text  # a real compound keeps its hyphen
    pages = [p.page for n in hhs_pdf for node in n.walk() for p in node.paras]
    assert min(pages) >= 10  # the table of contents (pp. 2-9) is gone


def test_regulation_pdf_gives_each_defined_term_its_own_part(hhs_pdf: list) -> None:
    by = {n.locator: n for n in hhs_pdf}
    s103 = by["45 CFR 160.103"]
    assert s103.paras[0].text.startswith("Except as otherwise provided")
    terms = [c.label for c in s103.children]
    assert len(terms) == 47  # every term the March 2013 text defines there
    assert terms[:4] == ["Act", "Administrative simplification provision", "ALJ", "ANSI"]
    for term in (
        "Business associate",
        "Covered entity",
        "Group health plan",  # "Group health plan (also see ...) means"
        "HHS",  # an acronym among the H-words
        "Health maintenance organization (HMO)",
        "Individually identifiable health information",  # "... is information that"
        "Transaction",  # after "...transaction.)"
        "Workforce",
    ):
        assert term in terms, term
    parts = {c.label: c for c in s103.children}
    ba = " ".join(p.text for p in parts["Business associate"].paras)
    assert ba.startswith("Business associate: (1) Except as provided")
    assert "A subcontractor that creates, receives, maintains" in ba
    assert "Civil money penalty" not in ba
    assert parts["Business associate"].locator == '45 CFR 160.103 "Business associate"'
    # "(2) For all other purposes, State means ..." stays inside the definition of "State"
    assert "State" in terms and "For all other purposes" not in " ".join(terms)
    assert [c.label for c in by["45 CFR 164.103"].children] == [
        "Common control",
        "Common ownership",
        "Covered functions",
        "Health care component",
        "Hybrid entity",
        "Law enforcement official",
        "Plan sponsor",
        "Required by law",
    ]
    chunks = chunk_tree("hhs", [s103], max_words=200, min_words=25)
    located = {sp.locator for c in chunks for sp in (*c.spans,)} | {c.locator for c in chunks}
    assert '45 CFR 160.103 "Business associate"' in located

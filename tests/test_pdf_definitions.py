"""Definitions sections of a regulation PDF: one part per defined term, without the italics."""

from __future__ import annotations

from ingest.regulation_pdf import _RawSection, _section_node
from ingest.tree import Para


def _node(*texts: str) -> object:
    sec = _RawSection("160.103", "Definitions.", 11, [Para(t, 11 + i) for i, t in enumerate(texts)])
    return _section_node(sec, "45 CFR")


def test_terms_become_parts_and_the_lead_in_stays_with_the_section() -> None:
    node = _node(
        "The following definitions apply to this subchapter: Act means the Social Security Act. "
        "Business associate: (1) Except as provided in paragraph (4), business associate means:",
        "(i) A person who acts on behalf of a covered entity. The Act is not changed by this.",
        "(2) For all other purposes, State means any of the several States. Covered entity means:",
        "(1) A health plan. Abacus means nothing, out of order. HHS stands for the Department.",
        "Health care means care. It includes services. Use means the sharing of information.",
    )
    assert [p.text for p in node.paras] == ["The following definitions apply to this subchapter:"]
    assert [c.locator for c in node.children] == [
        '45 CFR 160.103 "Act"',
        '45 CFR 160.103 "Business associate"',
        '45 CFR 160.103 "Covered entity"',
        '45 CFR 160.103 "HHS"',
        '45 CFR 160.103 "Health care"',
        '45 CFR 160.103 "Use"',
    ]
    parts = {c.label: c for c in node.children}
    ba = [p.text for p in parts["Business associate"].paras]
    # a sentence starting "The Act is" and "(2) For all other purposes, State means" do not cut
    assert ba[1].endswith("covered entity. The Act is not changed by this.")
    assert ba[2].endswith("State means any of the several States.")
    # a term out of alphabetical order is a sentence of the definition before it
    assert "Abacus means nothing" in parts["Covered entity"].paras[-1].text
    assert [p.page for p in parts["Business associate"].paras] == [11, 12, 13]


def test_a_section_without_terms_keeps_its_text() -> None:
    node = _node("Reserved for definitions the Secretary may adopt later, none yet.")
    assert node.children == []
    assert node.paras[0].text.startswith("Reserved")


def test_the_federal_register_source_note_is_not_part_of_the_text() -> None:
    node = _node(
        "The following definitions apply to this subchapter: Workforce means employees, "
        "volunteers and trainees. [65 FR 82798, Dec. 28, 2000, as amended at 78 FR 5687, "
        "Jan. 25, 2013]",
        "[78 FR 5696, Jan. 25, 2013]",
    )
    (workforce,) = node.children
    assert [p.text for p in workforce.paras] == [
        "Workforce means employees, volunteers and trainees."
    ]
    sec = _RawSection(
        "164.530",
        "Administrative requirements.",
        9,
        [Para("(a) Keep it. [68 FR 1, Jan. 2, 2003]", 9)],
    )
    assert _section_node(sec, "45 CFR").children[0].paras[0].text == "(a) Keep it."
    run_on = "(b) Comply. [78 FR 5693, Jan. 25, 2013] Subpart B [Reserved] Subpart C—Security "
    run_on += "Standards AUTHORITY: 42 U.S.C. 1320d-2. SOURCE: 68 FR 8376, Feb. 20, 2003."
    sec = _RawSection("164.106", "Relationship to other parts.", 9, [Para(run_on, 9)])
    assert _section_node(sec, "45 CFR").children[0].paras[0].text == "(b) Comply."
    # a bracket that is not a source note stays: "[Reserved]", "[the Secretary]"
    sec = _RawSection("164.105", "Organizational requirements.", 9, [Para("(c) [Reserved]", 9)])
    assert _section_node(sec, "45 CFR").children[0].paras[0].text == "(c) [Reserved]"

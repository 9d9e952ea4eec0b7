"""Which passage of a cited rule section a policy or contract sentence points to."""

from __future__ import annotations

from assistant.answering.cited_rules import cited_part
from core.documents import Chunk


def _chunk(n: int, locator: str, text: str) -> Chunk:
    return Chunk(chunk_id=f"c{n}", doc_id="45-cfr-160", locator=locator, text=text)


_DEFINITIONS = [
    _chunk(1, "45 CFR 160.103", "Except as otherwise provided, the following definitions apply:"),
    _chunk(2, '45 CFR 160.103 "Business associate"', "Business associate means a person who ..."),
    _chunk(3, '45 CFR 160.103 "Subcontractor"', "Subcontractor means a person to whom ..."),
    _chunk(4, '45 CFR 160.103 "Workforce"', "Workforce means employees, volunteers, ..."),
]


def test_a_definitions_section_is_cited_for_the_term_the_sentence_names() -> None:
    citing = "The annotation vendor is not a Subcontractor under 45 CFR 160.103."
    assert cited_part(_DEFINITIONS, citing) is _DEFINITIONS[2]
    citing = "This policy applies to all workforce members as defined in 45 CFR 160.103."
    assert cited_part(_DEFINITIONS, citing) is _DEFINITIONS[3]


def test_otherwise_the_sections_opening_and_nothing_for_no_passage() -> None:
    citing = "PHI is individually identifiable health information (45 CFR 160.103)."
    assert cited_part(_DEFINITIONS, citing) is _DEFINITIONS[0]
    # the plural names a term; a part of it does not
    assert cited_part(_DEFINITIONS, "No Subcontractors (45 CFR 160.103).") is _DEFINITIONS[2]
    assert cited_part(_DEFINITIONS, "An associate of ours, 45 CFR 160.103.") is _DEFINITIONS[0]
    assert cited_part([], "45 CFR 160.103") is None

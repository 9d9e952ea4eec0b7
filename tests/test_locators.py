"""Locator comparison: paragraphs inside sections, policy clauses, and definitions by term."""

from __future__ import annotations

import pytest

from core.locators import inside, root


@pytest.mark.parametrize(
    ("inner", "outer", "expected"),
    [
        ("45 CFR 164.312(a)(2)(iv)", "45 CFR 164.312(a)", True),
        ("45 CFR 164.312 (a)", "45 cfr 164.312(a)", True),
        ("45 CFR 164.3120", "45 CFR 164.312", False),
        ("45 CFR 164.312(a)", "45 CFR 164.312(a)(2)", False),
        ("AI-301 §3.2", "AI-301 §3", True),
        ("AI-301 §31", "AI-301 §3", False),
        # a definition's paragraphs: inside the section, the definition, and the short form
        ('45 CFR 164.402 "Breach" (1)(i)', "45 CFR 164.402", True),
        ('45 CFR 164.402 "Breach" (1)(i)', '45 CFR 164.402 "Breach"', True),
        ('45 CFR 164.402 "Breach" (1)(i)', "45 CFR 164.402(1)", True),
        ('45 CFR 164.402 "Breach" (1)(i)', "45 CFR 164.402(1)(i)", True),
        ('45 CFR 164.402 "Breach" (1)(i)', "45 CFR 164.402(1)(ii)", False),
        ('45 CFR 164.402 "Breach" (1)', "45 CFR 164.402(1)(i)", False),
        ('45 CFR 164.501 "Health care operations"', '45 CFR 164.501 "Health care"', False),
        ('45 CFR 164.501 "Marketing"', '45 CFR 164.501 "Payment"', False),
        ('45 CFR 164.504(a) "Summary health information" (1)', "45 CFR 164.504(a)", True),
        ("45 CFR 164.501", '45 CFR 164.501 "Marketing"', False),
        # items, unnumbered headings and articles of organisations' documents
        ("SHP-VM-02 §5.1(c)", "SHP-VM-02 §5.1", True),
        ("SHP-VM-02 §5.1(c)", "SHP-VM-02 §5.1(d)", False),
        ('HR-03 "Sanction Levels"', 'HR-03 "Sanction Levels"', True),
        ('HR-03 "Sanction Levels"', 'HR-03 "Sanction"', False),
    ],
)
def test_inside(inner: str, outer: str, expected: bool) -> None:
    assert inside(inner, outer) is expected


def test_root_is_the_section_or_document() -> None:
    assert root('45 CFR 164.501 "Marketing" (2)(i)') == "45cfr164.501"
    assert root("45 CFR 164.312(a)(2)") == "45cfr164.312"
    assert root("AI-301 §5.3") == "ai-301"
    assert root("Acme Scribe BAA §4.3") == "acmescribebaa"
    assert root("Acme Scribe BAA Art. IV") == "acmescribebaa"
    assert root('SHP-HR-03 "Sanction Levels"') == "shp-hr-03"

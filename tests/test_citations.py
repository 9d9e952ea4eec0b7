from __future__ import annotations

from assistant.answering.citations import markers, normalise_markers, renumber, verify
from assistant.answering.types import Passage
from core.documents import Chunk, Span


def _passage(n: int, text: str, locator: str = "45 CFR 164.410(b)") -> Passage:
    return Passage(
        n=n,
        chunk_id=f"c{n}",
        doc_id="d",
        locator=locator,
        title="T",
        doc_type="rule",
        version="2026-07-01",
        page=None,
        text=text,
        heading_path=(),
        score=1.0,
        dense=0.5,
        lexical=1.0,
    )


RULE = (
    "(a) A business associate shall notify the covered entity following discovery of a breach.\n"
    "(b) Notification shall be made without unreasonable delay and in no case later than 60 "
    "calendar days after discovery of a breach."
)


def test_markers_are_normalised_and_found() -> None:
    assert normalise_markers("Text [1, 2] and [3;4].") == "Text [1][2] and [3][4]."
    assert markers("a [1] b [12] c [x]") == [1, 12]


def test_fabricated_citation_is_dropped_and_noted() -> None:
    chunk = Chunk(
        "c1", "d", "45 CFR 164.410", RULE, spans=(Span("45 CFR 164.410(b)", 89, len(RULE)),)
    )
    text, cites, notes = verify(
        "Notice is due within 60 calendar days [1]. Vendors may keep data forever [7].",
        [_passage(1, RULE, "45 CFR 164.410")],
        {"c1": chunk},
    )
    assert "[7]" not in text and "[1]" in text
    assert [c.n for c in cites] == [1]
    assert any("[7]" in n for n in notes)
    assert cites[0].locator == "45 CFR 164.410(b)"  # the paragraph the quote comes from
    assert "60 calendar days" in cites[0].quote and cites[0].quote in RULE


def test_a_verbatim_quotation_is_the_quote() -> None:
    quote = "Notification shall be made without unreasonable delay"
    _, cites, notes = verify(f"- Rule: \u201c{quote}\u201d [1]", [_passage(1, RULE)], {})
    assert cites[0].quote == quote and not notes


def test_uncited_statements_are_flagged() -> None:
    _, cites, notes = verify(
        "The vendor must tell us within 60 days [1]. Also the moon is made of cheese and rock.",
        [_passage(1, RULE)],
        {},
    )
    assert len(cites) == 1
    assert any("no citation" in n for n in notes)


def test_citations_are_numbered_in_the_order_the_answer_cites_them() -> None:
    passages = [_passage(n, f"Passage number {n} says something.") for n in range(1, 6)]
    text, renumbered = renumber(
        "Policy: “x” [3]. Rule: “y” [5][3]. Bad [9]. More [1, 5].", passages
    )
    assert text == "Policy: “x” [1]. Rule: “y” [2][1]. Bad [9]. More [3][2]."
    # cited passages first, in that order, then the others; each keeps its text
    assert [p.n for p in renumbered] == [1, 2, 3, 4, 5]
    assert [p.text for p in renumbered] == [passages[i].text for i in (2, 4, 0, 1, 3)]


def test_a_quotation_across_line_breaks_is_the_quote_not_the_locators_term() -> None:
    text = (
        "Protected health information means individually identifiable health information:\n"
        "(1) Except as provided in paragraph (2) of this definition, that is:\n"
        "(i) Transmitted by electronic media;"
    )
    locator = '45 CFR 160.103 "Protected health information"'
    passage = _passage(1, text, locator)
    said = " ".join(text.split())  # the answer quotes the sentence on one line
    _, citations, _ = verify(f"- {locator}: \u201c{said}\u201d [1]", [passage], {})
    assert citations[0].quote == text  # the passage's own text, verbatim


def test_a_passage_cited_twice_keeps_each_quote() -> None:
    """Opening [1] after the second sentence quoted from it shows that sentence too, not the
    first one twice (found in a browser trial)."""
    first = "A business associate shall notify the covered entity following discovery of a breach."
    second = "Notification shall be made without unreasonable delay"
    text = f"- \u201c{first}\u201d [1]\n- \u201c{second}\u201d [1]"
    _, cites, _ = verify(text, [_passage(1, RULE)], {})
    assert [c.n for c in cites] == [1]
    assert cites[0].quote == first and cites[0].quotes == (first, second)
    assert cites[0].to_json()["quotes"] == [first, second]

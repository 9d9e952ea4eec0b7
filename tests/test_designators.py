from ingest.designators import Designator, DesignatorStack, plain_leading_designators


def _walk(values: list[str]) -> list[str]:
    stack = DesignatorStack()
    out = []
    designators = [Designator(v) for v in values]
    for i, d in enumerate(designators):
        stack.push(d, designators[i + 1 :])
        out.append(stack.citation())
    return out


def test_nesting_and_return_to_upper_levels() -> None:
    assert _walk(["a", "1", "i", "A", "B", "ii", "2", "b"]) == [
        "(a)",
        "(a)(1)",
        "(a)(1)(i)",
        "(a)(1)(i)(A)",
        "(a)(1)(i)(B)",
        "(a)(1)(ii)",
        "(a)(2)",
        "(b)",
    ]


def test_letter_i_after_h_is_a_paragraph_not_a_numeral() -> None:
    assert _walk(["g", "h", "1", "2", "i", "1"])[-2:] == ["(i)", "(i)(1)"]


def test_numeral_i_under_a_number_even_after_h() -> None:
    assert _walk(["h", "1", "i", "ii"])[-2:] == ["(h)(1)(i)", "(h)(1)(ii)"]


def test_v_after_iv_is_a_numeral() -> None:
    assert _walk(["a", "1", "i", "ii", "iii", "iv", "v"])[-1] == "(a)(1)(v)"


def test_plain_digits_that_cannot_continue_the_second_level_go_under_the_upper_letter() -> None:
    """eCFR 164.514(e)(4)(iii): (A) ... (1) ... (2) ... (B), the italics lost in the source."""
    assert _walk(["e", "4", "i", "ii", "iii", "A", "1", "2", "B", "f", "1"])[5:] == [
        "(e)(4)(iii)(A)",
        "(e)(4)(iii)(A)(1)",
        "(e)(4)(iii)(A)(2)",
        "(e)(4)(iii)(B)",
        "(f)",
        "(f)(1)",
    ]
    # a plain (2) that does continue the second level still returns to it
    assert _walk(["a", "1", "i", "A", "2"])[-1] == "(a)(2)"
    # and a gap in the numbering is not read as a deeper level without an (A) above it
    assert _walk(["a", "1", "i", "3"])[-1] == "(a)(3)"


def test_italic_digits_are_a_fifth_level() -> None:
    stack = DesignatorStack()
    for d in [Designator("d"), Designator("3"), Designator("ii"), Designator("B")]:
        stack.push(d)
    stack.push(Designator("1", italic=True))
    assert stack.citation() == "(d)(3)(ii)(B)(1)"


def test_plain_text_designators_and_heading_owned_subparagraph() -> None:
    found, owner = plain_leading_designators(
        "(1)(i) Standard: Security management process. Implement"
    )
    assert [d.value for d in found] == ["1", "i"] and owner == 1
    found, owner = plain_leading_designators(
        "(e) Deemed compliance. (1) Qualification. Notwithstanding"
    )
    assert [d.value for d in found] == ["e", "1"] and owner == 0
    assert plain_leading_designators("No designator here (a) inside.")[0] == []


def test_chained_headings_each_open_a_level() -> None:
    text = (
        "(k) Standard: Uses and disclosures for specialized government functions\u2014(1) Military"
        " and veterans activities\u2014(i) Armed Forces personnel. A covered entity may use"
    )
    found, owner = plain_leading_designators(text)
    assert [d.value for d in found] == ["k", "1", "i"] and owner == 0

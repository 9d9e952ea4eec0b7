"""Paragraph designators of U.S. regulations: (a) (1) (i) (A) (1-italic) (i-italic).

Shared by the eCFR XML parser and the regulation-PDF parser. The hierarchy is inferred from the
kind of each designator, with the classic ambiguity of (i), (v) and (x) — a letter after (h),
(u), (w), or a roman numeral — settled by looking ahead for the next numeral.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ROMAN = re.compile(r"^(x{0,3})(ix|iv|v?i{0,3})$")


def is_roman(s: str) -> bool:
    return bool(s) and bool(_ROMAN.match(s))


def _roman_next(s: str) -> str:
    values = {"i": 1, "v": 5, "x": 10}
    total, prev = 0, 0
    for ch in reversed(s):
        v = values[ch]
        total = total - v if v < prev else total + v
        prev = max(prev, v)
    return _to_roman(total + 1)


def _to_roman(n: int) -> str:
    out = ""
    for v, sym in ((10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while n >= v:
            out += sym
            n -= v
    return out


@dataclass(frozen=True)
class Designator:
    value: str
    italic: bool = False

    def kinds(self) -> tuple[str, ...]:
        """Possible kinds, most likely first."""
        v = self.value
        if v.isdigit():
            return ("idigit",) if self.italic else ("digit",)
        if v.isupper():
            return ("upper",)
        if self.italic:
            return ("iroman",) if is_roman(v) else ("ilower",)
        if is_roman(v) and len(v) == 1 and v in "ivx":
            return ("lower", "roman")
        if is_roman(v):
            return ("roman",)
        return ("lower",)


class DesignatorStack:
    """Tracks the current paragraph path while reading designators in document order."""

    def __init__(self) -> None:
        self.levels: list[tuple[str, str]] = []  # (kind, value)

    def push(self, d: Designator, lookahead: list[Designator] | None = None) -> None:
        kind = self._kind(d, lookahead or [])
        for i, (k, _) in enumerate(self.levels):
            if k == kind:
                self.levels = [*self.levels[:i], (kind, d.value)]
                return
        self.levels.append((kind, d.value))

    def _kind(self, d: Designator, lookahead: list[Designator]) -> str:
        kinds = d.kinds()
        if kinds == ("digit",):
            return self._digit_kind(d)
        if len(kinds) == 1:
            return kinds[0]
        # ambiguous i / v / x
        prev_lower = next((v for k, v in reversed(self.levels) if k == "lower"), None)
        prev_roman = next((v for k, v in reversed(self.levels) if k == "roman"), None)
        letter_follows = (
            prev_lower is not None
            and len(prev_lower) == 1
            and (ord(d.value) == ord(prev_lower) + 1)
        )
        roman_follows = (prev_roman is not None and _roman_next(prev_roman) == d.value) or (
            d.value == "i" and bool(self.levels) and self.levels[-1][0] == "digit"
        )
        if letter_follows and not roman_follows:
            return "lower"
        if roman_follows and not letter_follows:
            return "roman"
        if letter_follows and roman_follows:
            nxt_roman = _roman_next(d.value)
            nxt_letter = chr(ord(d.value) + 1)
            for la in lookahead:
                if la.value == nxt_roman and not la.italic:
                    return "roman"
                if la.value == nxt_letter and not la.italic:
                    return "lower"
            return "lower"
        return "lower" if not self.levels else "roman"

    def _digit_kind(self, d: Designator) -> str:
        """A plain (1) is the level under (a) — unless it cannot continue that level and does fit
        the italic level under (A): the source lost the italics, as eCFR does in
        164.514(e)(4)(iii)(A)(1)-(2), which would otherwise become a second (e)(1) and (e)(2)."""
        number = int(d.value)
        digit = next((v for k, v in self.levels if k == "digit"), None)
        if digit is None or number == int(digit) + 1:
            return "digit"
        italic = next((v for k, v in self.levels if k == "idigit"), None)
        deepest = self.levels[-1][0] if self.levels else ""
        if (number == 1 and deepest == "upper") or (
            italic is not None and number == int(italic) + 1
        ):
            return "idigit"
        return "digit"

    def citation(self) -> str:
        return "".join(f"({v})" for _, v in self.levels)

    def depth(self) -> int:
        return len(self.levels)


_PLAIN_DESIG = re.compile(r"^\s*\(([0-9]{1,3}|[a-z]{1,5}|[A-Z]{1,2})\)\s*")
_PLAIN_HEADING_THEN_ONE = re.compile(r"^[A-Z][^.()]{0,100}(?:\.\s+|\s*\u2014\s*)\((1|i|A)\)\s*")


def plain_leading_designators(text: str) -> tuple[list[Designator], int]:
    """Leading designators of a plain-text paragraph, and which one owns a heading after them.

    ``(b)(1) Standard...`` -> [(b), (1)];  ``(e) Deemed compliance. (1) Qualification...`` ->
    [(e), (1)] with the heading owned by (e).
    """
    found: list[Designator] = []
    rest = text
    while True:
        m = _PLAIN_DESIG.match(rest)
        if not m:
            break
        found.append(Designator(m.group(1)))
        rest = rest[m.end() :]
    owner = len(found) - 1
    while found:
        m = _PLAIN_HEADING_THEN_ONE.match(rest)
        if not m:
            break
        found.append(Designator(m.group(1)))
        rest = rest[m.end() :]
    return found, owner

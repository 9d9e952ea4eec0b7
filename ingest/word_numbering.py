"""Word's automatic numbering: the label a paragraph shows ("4.2.", "(b)", "Article IV") is not in
its text but computed from ``word/numbering.xml``. This module computes it the way Word does for
the common cases: levels with a start value, a number format and a label template (``%1.%2``),
counters that continue across a list's instances, deeper levels restarting when a higher level
advances, and ``startOverride`` restarting a list."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@dataclass(frozen=True)
class Level:
    start: int = 1
    fmt: str = (
        "decimal"  # decimal | lowerLetter | upperLetter | lowerRoman | upperRoman | bullet ...
    )
    text: str = "%1."
    legal: bool = False  # w:isLgl: every level shown as a decimal number


@dataclass
class _List:
    levels: dict[int, Level]
    counters: dict[int, int] = field(default_factory=dict)


def _val(el: Any, tag: str) -> str | None:
    child = el.find(f"{W}{tag}") if el is not None else None
    return None if child is None else child.get(f"{W}val")


def _roman(n: int) -> str:
    out = []
    for value, numeral in (
        (1000, "m"),
        (900, "cm"),
        (500, "d"),
        (400, "cd"),
        (100, "c"),
        (90, "xc"),
        (50, "l"),
        (40, "xl"),
        (10, "x"),
        (9, "ix"),
        (5, "v"),
        (4, "iv"),
        (1, "i"),
    ):
        while n >= value:
            out.append(numeral)
            n -= value
    return "".join(out)


def _letter(n: int) -> str:
    # Word's letters: a..z, then aa..zz, then aaa...
    if n < 1:
        return str(n)
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def format_number(n: int, fmt: str) -> str:
    if fmt == "lowerLetter":
        return _letter(n)
    if fmt == "upperLetter":
        return _letter(n).upper()
    if fmt == "lowerRoman":
        return _roman(n)
    if fmt == "upperRoman":
        return _roman(n).upper()
    if fmt == "decimalZero":
        return f"{n:02d}"
    return str(n)  # decimal, ordinal, cardinalText and the rest: the number itself


class WordNumbering:
    """Labels of numbered paragraphs, in reading order (call ``label`` once per paragraph)."""

    def __init__(self, numbering_xml: Any | None) -> None:
        self._abstract: dict[str, dict[int, Level]] = {}
        self._nums: dict[str, tuple[str, dict[int, int]]] = {}
        self._lists: dict[str, _List] = {}
        self._started: set[str] = set()
        if numbering_xml is None:
            return
        for absnum in numbering_xml.findall(f"{W}abstractNum"):
            levels: dict[int, Level] = {}
            for lvl in absnum.findall(f"{W}lvl"):
                ilvl = int(lvl.get(f"{W}ilvl", "0"))
                levels[ilvl] = Level(
                    start=int(_val(lvl, "start") or 1),
                    fmt=_val(lvl, "numFmt") or "decimal",
                    text=_val(lvl, "lvlText") or "",
                    legal=lvl.find(f"{W}isLgl") is not None,
                )
            self._abstract[absnum.get(f"{W}abstractNumId", "")] = levels
        for num in numbering_xml.findall(f"{W}num"):
            overrides: dict[int, int] = {}
            for ov in num.findall(f"{W}lvlOverride"):
                start = _val(ov, "startOverride")
                if start is not None:
                    overrides[int(ov.get(f"{W}ilvl", "0"))] = int(start)
            self._nums[num.get(f"{W}numId", "")] = (_val(num, "abstractNumId") or "", overrides)

    def label(self, num_id: str, ilvl: int) -> str | None:
        """The label this paragraph shows, advancing the list; None when the paragraph is not
        numbered; "" for a bullet or a level with no visible label."""
        if num_id in ("", "0") or num_id not in self._nums:
            return None
        abstract_id, overrides = self._nums[num_id]
        levels = self._abstract.get(abstract_id)
        if not levels:
            return None
        lst = self._lists.setdefault(abstract_id, _List(levels))
        if num_id not in self._started:
            self._started.add(num_id)
            for lvl, start in overrides.items():  # a restarted list: counters begin again
                lst.counters[lvl] = start - 1
                for deeper in [d for d in lst.counters if d > lvl]:
                    del lst.counters[deeper]
        level = levels.get(ilvl, Level())
        lst.counters[ilvl] = lst.counters.get(ilvl, level.start - 1) + 1
        for deeper in [d for d in lst.counters if d > ilvl]:
            del lst.counters[deeper]
        if level.fmt in ("bullet", "none"):
            return ""
        text = level.text
        for i in range(ilvl + 1):
            lv = levels.get(i, Level())
            value = lst.counters.get(i, lv.start)
            fmt = "decimal" if (level.legal and i < ilvl) else lv.fmt
            text = text.replace(f"%{i + 1}", format_number(value, fmt))
        return text.strip()

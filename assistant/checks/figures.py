"""Figures read from contract text: time limits, amounts of money, countries.

A time limit is compared in calendar days at its worst: a contract's "10 business days" may run
for up to 14 calendar days, a policy's "5 business days" for at least 7. Public holidays are not
counted, so a business-day figure near the line is compared as if no holiday fell inside it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_WORD_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90, "hundred": 100,
}  # fmt: skip
_TENS = r"(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
_UNITS = r"(?:one|two|three|four|five|six|seven|eight|nine)"
_WORD = (
    rf"(?:{_TENS}(?:[\s-]{_UNITS})?|" + "|".join(sorted(_WORD_NUMBERS, key=len, reverse=True)) + ")"
)
_UNIT = r"(?P<kind>business|working|calendar)?[\s-]*(?P<unit>hours?|days?|weeks?|months?)\b"
DURATION = re.compile(
    rf"\b(?P<num>\d{{1,3}}|{_WORD})(?:\s*\((?P<paren>\d{{1,3}})\))?[\s-]+{_UNIT}", re.IGNORECASE
)
# Figures a clause mentions without setting them: the rule's own outer limit, a cross-reference.
_NOT_SET_HERE = re.compile(
    r"\b(?:outer limit|maximum (?:period|time) (?:allowed|permitted) by|in 45 CFR|under 45 CFR"
    r"|164\.410)\b",
    re.IGNORECASE,
)
_FREQUENCY = re.compile(r"\b(?:any|each|every|per|a|one)\s+$", re.IGNORECASE)
_UNIT_NAMES = {"hour": "hours", "day": "days", "week": "weeks", "month": "months"}


def _number(text: str) -> int:
    text = text.lower().replace("-", " ")
    if text.isdigit():
        return int(text)
    return sum(_WORD_NUMBERS[w] for w in text.split())


@dataclass(frozen=True)
class Duration:
    """A time limit: ``amount`` of ``unit`` (hours, days, weeks, months), days being ``business``
    or calendar days."""

    amount: int
    unit: str  # hours | days | weeks | months
    business: bool = False

    @classmethod
    def parse(cls, text: str) -> Duration:
        m = DURATION.fullmatch(text.strip())
        if m is None:
            raise ValueError(f"not a time limit: {text!r} (e.g. '5 business days', '72 hours')")
        return cls.from_match(m)

    @classmethod
    def from_match(cls, m: re.Match[str]) -> Duration:
        amount = int(m.group("paren")) if m.group("paren") else _number(m.group("num"))
        unit = _UNIT_NAMES[m.group("unit").lower().rstrip("s")]
        kind = (m.group("kind") or "").lower()
        return cls(amount, unit, business=unit == "days" and kind in ("business", "working"))

    def fewest_days(self) -> float:
        """The shortest calendar span this limit can mean."""
        if self.unit == "hours":
            return self.amount / 24
        if self.unit == "weeks":
            return self.amount * 7
        if self.unit == "months":
            return self.amount * 28
        if self.business:
            return self.amount + 2 * (self.amount // 5)
        return self.amount

    def most_days(self) -> float:
        """The longest calendar span this limit can mean (holidays aside)."""
        if self.unit == "months":
            return self.amount * 31
        if self.business:
            return self.amount + 2 * math.ceil(self.amount / 5)
        return self.fewest_days()

    def within(self, limit: Duration) -> bool:
        """Whether this limit is never longer than ``limit``."""
        if (self.unit, self.business) == (limit.unit, limit.business):
            return self.amount <= limit.amount
        return self.most_days() <= limit.fewest_days()

    def at_least(self, floor: Duration) -> bool:
        """Whether this notice period is never shorter than ``floor``."""
        if (self.unit, self.business) == (floor.unit, floor.business):
            return self.amount >= floor.amount
        return self.fewest_days() >= floor.most_days()

    def __str__(self) -> str:
        kind = "business " if self.business else ""
        unit = self.unit if self.amount != 1 else self.unit.rstrip("s")
        return f"{self.amount} {kind}{unit}"


def durations(sentence: str) -> list[tuple[Duration, int]]:
    """Time limits a sentence sets, with their offsets; those it only refers to (the rule's
    "60-calendar-day outer limit in 45 CFR 164.410(b)") are left out."""
    out = []
    for m in DURATION.finditer(sentence):
        after = sentence[m.end() : m.end() + 40]
        if _NOT_SET_HERE.search(after) and not re.search(r"\bafter\b|\bof\b", after[:12]):
            continue
        if _FREQUENCY.search(sentence[max(0, m.start() - 12) : m.start()]) or after.startswith(
            (" period", "-period")
        ):
            continue  # "once in any twelve-month period": how often, not how soon
        out.append((Duration.from_match(m), m.start()))
    return out


# Words that make a figure a time limit: "within 5 days", "no later than 72 hours", "30 days after
# termination"; and a notice period: "30 days' notice", "at least 15 days before".
DEADLINE_CUE = (
    re.compile(r"\b(?:within|later than|by|up to|(?:not|no) (?:more|longer) than)\W*$", re.I),
    re.compile(r"^\W*(?:s\b)?\W*(?:after|of|from|following|prior|advance|written|notice)\b", re.I),
)
NOTICE_CUE = (
    re.compile(r"\b(?:at least|(?:no|not) (?:less|fewer) than|minimum of)\W*$", re.I),
    re.compile(r"^\W*(?:s\b)?\W*(?:prior|advance|written|notice|before|in advance)\b", re.I),
)


def cued(
    found: list[tuple[Duration, int]], text: str, cue: tuple[re.Pattern[str], re.Pattern[str]]
) -> list[tuple[Duration, int, bool]]:
    """The figures with whether words around them make them the kind of limit asked for; cued
    figures first, each group in order."""
    out = []
    for figure, offset in found:
        before = text[max(0, offset - 30) : offset]
        m = DURATION.match(text, offset)
        after = text[m.end() : m.end() + 30] if m else ""
        out.append((figure, offset, bool(cue[0].search(before) or cue[1].search(after))))
    return sorted(out, key=lambda f: not f[2])


# A figure that limits how soon something is done: "within 5 days", "no later than 72 hours",
# "10 business days after discovery" (not "on 30 days' notice").
WITHIN_CUE = (
    re.compile(r"\b(?:within|later than|(?:not|no) (?:more|longer) than)\W*$", re.I),
    re.compile(
        r"^\W*(?:after|following|of)\s+(?:the\s+)?"
        r"(?:discovery|termination|expiration|receipt|the date)\b",
        re.I,
    ),
)


def time_limits(text: str) -> list[Duration]:
    """The time limits ``text`` sets ("within 10 business days", "no later than 72 hours")."""
    return [figure for figure, _, limit in cued(durations(text), text, WITHIN_CUE) if limit]


_MONEY = re.compile(
    r"(?:US)?\$\s?(?P<num>\d[\d,]*(?:\.\d+)?)\s*(?P<scale>million|billion|thousand|[mMkK]\b)?"
    r"|(?P<word>(?:\d+(?:\.\d+)?|" + _WORD + r"))\s+(?P<wscale>million|billion|thousand)"
    r"\s+(?:U\.S\.\s+)?dollars",
    re.IGNORECASE,
)
_SCALES = {"thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "billion": 1e9}


def amounts(sentence: str) -> list[float]:
    """Amounts of money the sentence states, in dollars ("$5,000,000", "$2 million",
    "five million dollars")."""
    out = []
    for m in _MONEY.finditer(sentence):
        if m.group("num"):
            value = float(m.group("num").replace(",", ""))
            scale = (m.group("scale") or "").lower()
        else:
            word = m.group("word")
            value = float(word) if word[0].isdigit() else float(_number(word))
            scale = m.group("wscale").lower()
        out.append(value * _SCALES.get(scale, 1.0))
    return out


_COUNTRIES_FILE = Path(__file__).with_name("countries.txt")


@cache
def _country_names() -> dict[str, str]:
    """Each spelling (lower case) of a country's name -> its name as the catalogs write it."""
    names: dict[str, str] = {}
    for line in _COUNTRIES_FILE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        canonical, *aliases = (part.strip() for part in line.split("|"))
        for spelling in (canonical, *aliases):
            names[spelling.lower()] = canonical
    return names


@cache
def _country_pattern() -> re.Pattern[str]:
    spellings = sorted(_country_names(), key=len, reverse=True)
    alternatives = "|".join(re.escape(s) for s in spellings)
    return re.compile(rf"(?<![\w.])(?:{alternatives})(?![\w])", re.IGNORECASE)


def countries(sentence: str) -> list[tuple[str, int]]:
    """Countries named in the sentence, by the catalogs' name, with their offsets."""
    names = _country_names()
    return [(names[m.group(0).lower()], m.start()) for m in _country_pattern().finditer(sentence)]


def country_name(text: str) -> str:
    """A catalog's country as the checker names it ("USA" -> "United States")."""
    name = _country_names().get(text.strip().lower())
    if name is None:
        raise ValueError(f"unknown country {text!r} (see {_COUNTRIES_FILE.name})")
    return name

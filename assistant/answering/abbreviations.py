"""Abbreviations the documents spell out ("Protected Health Information ("PHI")", "electronic
protected health information (ePHI)", "Limited data set (LDS)"), read from the indexed text
itself, so that "What is PHI?" is searched and answered as "What is protected health information
(PHI)?": the rule defines the words, not the letters.

A long form counts only when the words just before the parenthesis start with the abbreviation's
letters in order (little words such as "of" and "and" may be skipped); an abbreviation spelled
out two ways as often ("single sign-on", "standard setting organization") is left alone. Who may
read what is kept: a long form is used only when a document the caller may read spells it out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Set
from dataclasses import dataclass

from assistant.answering.definitions import defined_term

_PAREN = re.compile(r"\(\s*(?:the\s+)?[\"“']?(?P<abbr>[a-z]?[A-Z]{2,7})s?[\"”']?\s*\)")
_WORD = re.compile(r"[A-Za-z][A-Za-z']*")
_SKIPPABLE = frozenset({"and", "of", "for", "the", "in", "on", "to", "a", "an", "or"})


def _long_form(before: str, abbr: str) -> str | None:
    """The words at the end of ``before`` whose initials spell ``abbr`` (lower case, as written),
    or None. Hyphenated words give a letter each ("Multi-factor authentication (MFA)")."""
    letters = abbr.lower()
    tail = before[-200:]
    found = list(_WORD.finditer(tail.replace("-", " ")))  # the same length: offsets hold
    words = [m.group(0) for m in found]
    for start in range(len(words) - 1, max(-1, len(words) - len(letters) - 5), -1):
        span = words[start:]
        if span[0].lower() in _SKIPPABLE or not _spells(span, letters):
            continue
        end = len(words)  # "... Act of 1996 (HIPAA)": not "of"; "single sign-on (SSO)": "on"
        while words[end - 1].lower() in _SKIPPABLE and _spells(words[start : end - 1], letters):
            end -= 1
        text = tail[found[start].start() : found[end - 1].end()]
        return " ".join(text.lower().split())
    return None


def _spells(words: list[str], letters: str) -> bool:
    """Whether ``words`` spell ``letters`` by first letters, each used word giving one letter and
    little words skipped or used."""
    if not letters:
        return not words or all(w.lower() in _SKIPPABLE for w in words)
    if not words:
        return False
    head, rest = words[0], words[1:]
    if head[0].lower() == letters[0] and _spells(rest, letters[1:]):
        return True
    return head.lower() in _SKIPPABLE and _spells(rest, letters)


@dataclass(frozen=True)
class Abbreviations:
    """Abbreviation (as written) -> long form (lower case) -> the rows of the passages that spell
    it out."""

    forms: dict[str, dict[str, frozenset[int]]]

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Abbreviations:
        found: dict[str, dict[str, set[int]]] = {}
        for row, text in enumerate(texts):
            for m in _PAREN.finditer(text):
                abbr = m.group("abbr")
                long = _long_form(text[: m.start()], abbr)
                if long is not None:
                    found.setdefault(abbr, {}).setdefault(long, set()).add(row)
        return cls({a: {f: frozenset(r) for f, r in fs.items()} for a, fs in found.items()})

    def long_form(self, term: str, readable: Set[int]) -> tuple[str, str] | None:
        """(abbreviation, long form) for ``term`` as a question writes it, from the passages in
        ``readable``; None when no readable document spells it out, or two spell it out
        differently as often. Two-letter abbreviations must be written in capitals ("IT", not
        "it")."""
        word = term.strip()
        singular = word[:-1] if word.endswith("s") and len(word) > 2 else word
        written = {word, singular}
        lower = {w.lower() for w in written}
        matching = [
            a for a in self.forms if a in written or (len(a) >= 3 and a.lower() in lower)
        ]  # "ePHI" and "EPHI" are one abbreviation
        if not matching:
            return None
        rows: dict[str, frozenset[int]] = {}
        for abbr in matching:
            for form, where in self.forms[abbr].items():
                rows[form] = rows.get(form, frozenset()) | (where & readable)
        counts = sorted(((len(r), form) for form, r in rows.items() if r), reverse=True)
        if not counts or (len(counts) > 1 and counts[0][0] == counts[1][0]):
            return None
        # spelled as the question spells it, else as the documents most often do
        abbr = next((a for a in matching if a in written), None) or max(
            matching, key=lambda a: sum(len(r & readable) for r in self.forms[a].values())
        )
        return abbr, counts[0][1]

    def spelled_out(self, question: str, readable: Set[int]) -> str:
        """``question`` with the abbreviation it asks the meaning of spelled out ("What is PHI?"
        -> "What is protected health information (PHI)?"); otherwise as it is."""
        term = defined_term(question)
        if term is None or " " in term:
            return question
        found = re.search(rf"\b{re.escape(term)}\b", question, re.IGNORECASE)
        if found is None:
            return question
        spelled = self.long_form(found.group(0), readable)
        if spelled is None:
            return question
        abbr, long = spelled
        before = question[: found.start()]
        article = re.search(r"\b(an?)\s+$", before, re.IGNORECASE)
        if article:  # "an LDS" -> "a limited data set (LDS)"
            fitting = "an" if long[0] in "aeiou" else "a"
            if article.group(1)[0].isupper():
                fitting = fitting.capitalize()
            before = before[: article.start()] + fitting + " "
        return f"{before}{long} ({abbr}){question[found.end() :]}"

"""Sentence splitting and word overlap, shared by the extractive answerer and citation checks."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from core.lexical import tokenize

# A sentence ends at . ; ? ! followed by space and a capital, a digit or an opening bracket —
# but not after the usual legal abbreviations.
_ABBREV = r"(?<!\bU\.S)(?<!\be\.g)(?<!\bi\.e)(?<!\bNo)(?<!\bSec)(?<!\bPub)(?<!\bStat)(?<!\bet al)"
_SPLIT = re.compile(rf"{_ABBREV}(?<=[.?!])\s+(?=[\"'(A-Z0-9§])")


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int  # offset in the passage text
    end: int


def sentences(text: str) -> list[Sentence]:
    """Sentences with their offsets; each line (paragraph) is split on its own."""
    out: list[Sentence] = []
    pos = 0
    for line in text.split("\n"):
        offset = pos
        last = 0
        for m in _SPLIT.finditer(line):
            piece = line[last : m.start()]
            if piece.strip():
                out.append(Sentence(piece.strip(), offset + last, offset + m.start()))
            last = m.end()
        piece = line[last:]
        if piece.strip():
            out.append(Sentence(piece.strip(), offset + last, offset + len(line)))
        pos += len(line) + 1
    return out


def content_terms(text: str) -> set[str]:
    return {t for t in tokenize(text) if len(t) > 2 or t.replace(".", "").isdigit()}


def stem5(terms: Iterable[str]) -> set[str]:
    """Words compared by their first five letters (encrypting, encryption)."""
    return {t[:5] for t in terms}


def overlap(a: str, b: str) -> float:
    """Share of ``a``'s content terms found in ``b``."""
    ta = content_terms(a)
    return len(ta & content_terms(b)) / len(ta) if ta else 0.0

"""What a question asks for, part by part (whether it is allowed, a time, an amount, who, what
happens, what proof, a number), and whether a sentence says that part (patterns in
``asked_parts.yaml``).

"How long do I have to sign off, and what happens if I miss it?" asks for a time and then a
consequence: the extractive answer quotes the best sentence for each, not only the sentence
sharing most words with the question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

PARTS_FILE = Path(__file__).with_name("asked_parts.yaml")


@dataclass(frozen=True)
class AskedPart:
    name: str
    asked: re.Pattern[str]
    stated: re.Pattern[str]

    def says(self, sentence: str) -> bool:
        """Whether ``sentence`` says something of this kind (a time, an amount, ...); the
        numbers of citations and paragraph designators ("45 CFR 164.502(b)", "(2)", "paragraph
        (a)(1)(i)") are not figures."""
        return bool(self.stated.search(_REFERENCES.sub(" ", sentence)))


# "45 CFR 164.502(b)(2)", "§ 164.530", "(2)", "(iv)", "(A)": where a sentence points, not a figure
_REFERENCES = re.compile(
    r"\b\d+\s*C\.?F\.?R\.?(?:\s*Parts?\s*\d+)?"  # "45 CFR", "45 CFR Part 164"
    r"|\bParts?\s+\d+(?:\s*(?:,|and|or)\s*\d+)*"  # "Parts 160 and 164"
    r"|\b1[6-9]\d\.\d+(?:\s?\([a-zA-Z0-9]{1,4}\))*"  # "164.502(a)(1)"
    r"|§+\s*[\d.]+"
    r"|\((?:\d{1,2}|[ivxl]{1,5}|[a-zA-Z])\)"  # "(2)", "(iv)", "(A)"
)


@cache
def _parts(path: Path = PARTS_FILE) -> tuple[AskedPart, ...]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return tuple(
        AskedPart(
            name,
            re.compile("|".join(f"(?:{p})" for p in spec["asked"]), re.I | re.M),
            re.compile("|".join(f"(?:{p})" for p in spec["stated"]), re.I | re.M),
        )
        for name, spec in raw.items()
    )


def asked_parts(question: str) -> list[AskedPart]:
    """The parts ``question`` asks for, in the order it asks them (usually none or one)."""
    found = []
    for part in _parts():
        m = part.asked.search(question)
        if m:
            found.append((m.start(), part))
    return [part for _, part in sorted(found, key=lambda x: x[0])]

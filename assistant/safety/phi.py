"""The PHI guard: every user message passes here before anything is logged, stored or sent.

It finds the 18 Safe Harbor identifier types (45 CFR 164.514(b)(2)(i)) with patterns and word
lists (no NER model), then redacts them (``[NAME]``, ``[DATE]``, ...) and says which kinds it
removed, or, in ``block`` mode, refuses the message. Regulation language (CFR citations, section
numbers, policy ids, dollar amounts, rule dates) passes untouched.

Build one ``PhiGuard`` at the entry point and share it: it holds only compiled patterns.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

from assistant.safety.phi_detectors import Candidate, Detector
from assistant.safety.phi_vocabulary import KINDS, PhiVocabulary
from core.settings import PhiSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Finding:
    """One identifier: its kind (a key of ``KINDS``) and its span in the original text."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class GuardResult:
    text: str  # the redacted text (the original when nothing was found or the mode is off);
    # also filled when blocked, so a caller may log or audit the redacted form
    findings: tuple[Finding, ...]  # in text order, not overlapping
    blocked: bool  # True in block mode when anything was found

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds found, sorted and unique."""
        return tuple(sorted({f.kind for f in self.findings}))

    @property
    def notice(self) -> str:
        """One sentence for the user about what was found; empty when nothing was."""
        if not self.findings:
            return ""
        what = describe(self.findings)
        if self.blocked:
            return (
                f"Your question seems to contain patient details ({what}), so I did not search "
                "or send it anywhere; please ask again without them."
            )
        return (
            f"I removed {what} from your question before searching; "
            "please don't enter patient details."
        )


def describe(findings: tuple[Finding, ...]) -> str:
    """'a name, a date or age and a medical record number', in order of first appearance."""
    counts = Counter(f.kind for f in findings)
    order = list(dict.fromkeys(f.kind for f in findings))
    parts = [KINDS[k].one if counts[k] == 1 else KINDS[k].many for k in order]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


class PhiGuard:
    """Finds identifiers in a message and redacts or blocks it, as ``settings.mode`` says."""

    def __init__(self, settings: PhiSettings) -> None:
        self.settings = settings
        vocabulary = PhiVocabulary.load(
            settings.vocabulary_file, settings.extra_names_file, settings.allow_terms
        )
        self._detector = Detector(vocabulary)

    def find(self, text: str) -> tuple[Finding, ...]:
        """The identifiers in ``text``, whatever the mode (for evaluation and tests)."""
        # Characters already taken: 1 = regulation language, 2 = a kept finding.
        taken = bytearray(len(text))
        for start, end in self._detector.protected(text):
            taken[start:end] = b"\x01" * (end - start)
        kept: list[Candidate] = []
        ranked = sorted(
            self._detector.candidates(text),
            key=lambda c: (-c.strength, -(c.end - c.start), c.start),
        )
        for cand in ranked:
            if cand.end <= cand.start or any(taken[cand.start : cand.end]):
                continue
            taken[cand.start : cand.end] = b"\x02" * (cand.end - cand.start)
            kept.append(cand)
        kept.sort(key=lambda c: c.start)
        return tuple(Finding(c.kind, c.start, c.end) for c in kept)

    def check(self, text: str) -> GuardResult:
        if self.settings.mode == "off":
            return GuardResult(text=text, findings=(), blocked=False)
        findings = self.find(text)
        if findings:
            # Kinds and counts only: never the text, which may hold PHI.
            log.info("PHI guard: %s", dict(Counter(f.kind for f in findings)))
        blocked = self.settings.mode == "block" and bool(findings)
        return GuardResult(text=redact(text, findings), findings=findings, blocked=blocked)


def redact(text: str, findings: tuple[Finding, ...]) -> str:
    """``text`` with each finding replaced by its kind's placeholder ("[NAME]")."""
    out, pos = [], 0
    for f in sorted(findings, key=lambda f: f.start):
        out.append(text[pos : f.start])
        out.append(KINDS[f.kind].label)
        pos = f.end
    out.append(text[pos:])
    return "".join(out)

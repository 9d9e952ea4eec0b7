"""Recognising a request for the BAA check ("check the Acme Scribe BAA") or for the Security
Rule coverage ("which Security Rule specifications do our policies not address?") in a chat
message."""

from __future__ import annotations

import re
from dataclasses import dataclass

_REQUEST = re.compile(
    r"^\s*(?:please\s+)?(?:(?:can|could|would)\s+you\s+)?(?:run\s+(?:a|the)\s+)?"
    r"(?:check|review|audit|vet)\s+(?P<what>.*?)\s*"
    r"\b(?:BAAs?|business\s+associate\s+agreements?)\b"
    r"(?P<rest>\s*(?:against\s+.*|for\s+gaps)?)\s*(?:please)?\s*[.?!]*\s*$",
    re.IGNORECASE,
)
_ALL = re.compile(r"^(?:(?:all|every|each)(?:\s+of)?)?\s*(?:the|our|my|a|an)?$", re.IGNORECASE)
_LEADING = re.compile(r"^(?:(?:the|our|my)\s+)", re.IGNORECASE)


@dataclass(frozen=True)
class CheckRequest:
    vendors: tuple[str, ...]  # empty: every BAA the caller may read


def parse_check_request(message: str) -> CheckRequest | None:
    """The vendors a message asks to have checked, or ``None`` when it is not such a request:
    "check the Acme Scribe BAA", "review our BAAs", "check the Clarion and Meridian BAAs"."""
    m = _REQUEST.match(message)
    if m is None:
        return None
    what = m.group("what").strip(" ,")
    if _ALL.match(what):
        return CheckRequest(())
    what = _LEADING.sub("", what)
    names = [n.strip() for n in re.split(r",|\band\b|&", what) if n.strip()]
    names = [re.sub(r"['’]s$", "", n) for n in names]
    return CheckRequest(tuple(names)) if names else None


_COVERAGE = (
    re.compile(
        r"^\s*(?:please\s+)?(?:show\s+(?:me\s+)?|run\s+|check\s+)?(?:the\s+|our\s+)?"
        r"(?:security\s+rule|policy|policies)\s+coverage\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?:which|what)\b.{0,60}\b(?:security\s+rule|implementation\s+specifications?|"
        r"security\s+standards?)\b.{0,60}\b(?:not|n't|fail\s+to)\s+(?:address|cover)",
        re.IGNORECASE,
    ),
)


def is_coverage_request(message: str) -> bool:
    """ "Security Rule coverage", "which Security Rule specifications do our policies not
    address?" """
    return any(p.search(message) for p in _COVERAGE)

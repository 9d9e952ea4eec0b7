"""Locator comparison shared by lookup, answering and evaluation."""

from __future__ import annotations

import re

_SPACE = re.compile(r"\s+")


def norm(locator: str) -> str:
    """Case- and space-insensitive form: ``45 CFR 164.312 (a)`` == ``45 cfr 164.312(a)``."""
    return _SPACE.sub("", locator).replace("CFR", "cfr").lower()


_TERM = re.compile(r'"[^"]*"')


def inside(inner: str, outer: str) -> bool:
    """``inner`` is ``outer`` or a subdivision of it: ``164.312(a)(2)`` inside ``164.312(a)``,
    ``AI-301 §3.2`` inside ``AI-301 §3`` (but not ``§31``, nor ``164.3120`` inside ``164.312``).

    A paragraph of a definition (``164.402 "Breach" (1)(i)``) is inside its section and its
    definition, and matches the usual short form that leaves the term out (``164.402(1)(i)``)."""
    a, b = norm(inner), norm(outer)
    if a == b:
        return True
    if '"' in a and '"' not in b:
        short = _TERM.sub("", a)
        if short == b or (short.startswith(b) and short[len(b)] == "("):
            return True
    if not a.startswith(b):
        return False
    nxt = a[len(b)]
    return nxt in '("' or (nxt == "." and "§" in b)


_ROOT = re.compile(r'^(.*?)(?:\(|\s*§|\s*"|\s+Art\.\s|$)')


def root(locator: str) -> str:
    """The document-or-section part of a locator, for lookup: ``45 CFR 164.312(a)(2)`` ->
    ``45cfr164.312``; ``45 CFR 164.501 "Marketing" (1)`` -> ``45cfr164.501``; ``AI-301 §5.3`` ->
    ``ai-301``; ``Acme BAA Art. IV`` -> ``acmebaa``."""
    m = _ROOT.match(locator)
    return norm(m.group(1) if m else locator)

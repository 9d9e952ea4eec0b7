"""What the PHI guard leaves in place of an identifier ("[NAME]", "[MRN]"), and a question's
text without them for searching: a placeholder and its label ("MRN [MRN]", "Mrs. [NAME]") say
nothing about what is asked, and only pull the question away from the passages that answer it."""

from __future__ import annotations

import re

PLACEHOLDER = re.compile(r"\[[A-Z][A-Z_]*\]")
# a placeholder with the label or honorific written before it: "MRN: [MRN]", "Dr. [NAME]"
_LABELLED = re.compile(
    r"(?:\b(?:[A-Z]{2,5}|Mrs|Mr|Ms|Mx|Miss|Dr)\b\.?\s*[:#]?\s*)?\[[A-Z][A-Z_]*\]"
)
_EMPTY_PARENS = re.compile(r"[(\[]\s*[,;/]?\s*[)\]]")
_REPEATED_PUNCT = re.compile(r"\s*[,;]\s*(?:[,;]\s*)+")
_LEADING = re.compile(r"^[\s,;:\-\u2013\u2014]+")


def without_placeholders(text: str) -> str:
    """``text`` with placeholders, their labels and the punctuation left around them removed;
    ``text`` itself when nothing else would remain."""
    if "[" not in text:
        return text
    out = _LABELLED.sub(" ", text)
    out = _EMPTY_PARENS.sub(" ", out)
    out = _REPEATED_PUNCT.sub(", ", out)
    out = _LEADING.sub("", out)
    out = re.sub(r"\s+([,;:?.!])", r"\1", out)
    out = re.sub(r"\s+", " ", out).strip()
    return out if re.search(r"[A-Za-z]{2}", out) else text

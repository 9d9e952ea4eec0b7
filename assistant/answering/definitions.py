"""Questions that ask what a term means ("What is a business associate?", "What does minimum
necessary mean?"), and the sentences that define it ("Business associate: (1) ... business
associate means ...", "- **PHI**: individually identifiable health information ...").

The answer to such a question is the definition, wherever retrieval ranked it: a paragraph on
business associate contracts says "business associate" more often than the definition does.
"""

from __future__ import annotations

import re

# "What is a X?", "What's the X under HIPAA?", "What are X?", "What does X mean?", "What does
# HIPAA mean by X?", "What does X stand for?", "What counts as X?", "Define X."
_ASKED = re.compile(
    r"^\s*(?:what\s+(?:does|do)\s+(?:HIPAA|the\s+rules?|our\s+policy|the\s+policy)\s+mean\s+by"
    r"\s+(?P<d>.+?)"
    r"|what(?:'s|’s|\s+is|\s+are)\s+(?:meant\s+by\s+)?(?P<a>.+?)"
    r"|what\s+does\s+(?P<b>.+?)\s+(?:mean|stand\s+for)"
    r"|what\s+counts\s+as\s+(?P<e>.+?)"
    r"|(?:define|definition\s+of)\s+(?P<c>.+?))"
    r"(?:\s+(?:under|in|for|according\s+to)\s+(?:the\s+)?(?:HIPAA|the\s+rules?|our\s+policies)"
    r"(?:\s+purposes)?)?\s*[?.]?\s*$",
    re.IGNORECASE,
)
_ARTICLE = re.compile(r"^(?:an?|the)\s+", re.IGNORECASE)
_SPELLED = re.compile(r"\s*\(([^()]{1,12})\)$")  # "protected health information (phi)"


def defined_term(question: str) -> str | None:
    """The term ``question`` asks the meaning of, lower-cased, or None."""
    terms = defined_terms(question)
    return terms[0] if terms else None


def defined_terms(question: str) -> tuple[str, ...]:
    """The term ``question`` asks the meaning of, lower-cased, and the abbreviation written after
    it ("protected health information (PHI)": both); empty when it asks no meaning."""
    m = _ASKED.match(question)
    if m is None:
        return ()
    term = _ARTICLE.sub("", next(g for g in m.groups() if g)).strip().lower()
    spelled = _SPELLED.search(term)
    short = spelled.group(1).strip() if spelled else ""
    term = _SPELLED.sub("", term)
    if not 1 <= len(term.split()) <= 6:
        return ()
    return (term, short) if short else (term,)


def defines(term: str, sentence: str) -> bool:
    """Whether ``sentence`` defines ``term`` (or its plural): it opens with the term followed by
    a colon, a dash, "means" or "stands for", or says "<term> means" / "<term> is defined as"
    (not as the end of a longer term: "Electronic protected health information means")."""
    t = rf"{re.escape(term)}s?"
    opening = (
        rf"^\W*(?:\*\*)?{t}(?:\*\*)?\s*(?:\([^)]{{1,40}}\)\s*)?"
        r"(?::|\u2014|\s-\s|means\b|stands\s+for\b)"
    )
    # "..., business associate means", "a workforce member means", not "Electronic protected
    # health information means"
    inline = rf"(?:^\W*|[^\w\s]\s*|\b(?:an?|the)\s+){t}\s+(?:means|is\s+defined\s+as)\b"
    return bool(re.search(opening, sentence, re.IGNORECASE)) or bool(
        re.search(inline, sentence, re.IGNORECASE)
    )

"""Questions that ask what a term means ("What is a business associate?", "What does minimum
necessary mean?"), and the sentences that define it ("Business associate: (1) ... business
associate means ...", "- **PHI**: individually identifiable health information ...").

The answer to such a question is the definition, wherever retrieval ranked it: a paragraph on
business associate contracts says "business associate" more often than the definition does.
"""

from __future__ import annotations

import re

# "What is a X?", "What's the X under HIPAA?", "What are X?", "What does X mean?", "What does
# HIPAA mean by X?", "Define X."
_ASKED = re.compile(
    r"^\s*(?:what\s+(?:does|do)\s+(?:HIPAA|the\s+rules?|our\s+policy|the\s+policy)\s+mean\s+by"
    r"\s+(?P<d>.+?)"
    r"|what(?:'s|’s|\s+is|\s+are)\s+(?:meant\s+by\s+)?(?P<a>.+?)"
    r"|what\s+does\s+(?P<b>.+?)\s+mean"
    r"|(?:define|definition\s+of)\s+(?P<c>.+?))"
    r"(?:\s+(?:under|in|for|according\s+to)\s+(?:the\s+)?(?:HIPAA|the\s+rules?|our\s+policies)"
    r"(?:\s+purposes)?)?\s*[?.]?\s*$",
    re.IGNORECASE,
)
_ARTICLE = re.compile(r"^(?:an?|the)\s+", re.IGNORECASE)


def defined_term(question: str) -> str | None:
    """The term ``question`` asks the meaning of, lower-cased, or None."""
    m = _ASKED.match(question)
    if m is None:
        return None
    term = _ARTICLE.sub("", next(g for g in m.groups() if g)).strip().lower()
    return term if 1 <= len(term.split()) <= 6 else None


def defines(term: str, sentence: str) -> bool:
    """Whether ``sentence`` defines ``term`` (or its plural): it opens with the term followed by
    a colon, a dash or "means", or says "<term> means" / "<term> is defined as"."""
    t = rf"{re.escape(term)}s?"
    opening = rf"^\W*(?:\*\*)?{t}(?:\*\*)?\s*(?:\([^)]{{1,40}}\)\s*)?(?::|\u2014|\s-\s|means\b)"
    inline = rf"\b{t}\s+(?:means|is\s+defined\s+as)\b"
    return bool(re.search(opening, sentence, re.IGNORECASE)) or bool(
        re.search(inline, sentence, re.IGNORECASE)
    )

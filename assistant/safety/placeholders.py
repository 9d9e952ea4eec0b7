"""What the PHI guard leaves in place of an identifier ("[NAME]", "[MRN]"), and a question's
text without them for searching: a placeholder and its label ("MRN [MRN]", "born [DATE]") say
nothing about what is asked, and only pull the question away from the passages that answer it.
A name that was the sentence's subject ("[NAME] asked for her chart on a USB stick") leaves "A
patient" in its place: without a subject the question reads as nothing in particular and no
passage comes close enough to answer it."""

from __future__ import annotations

import re

PLACEHOLDER = re.compile(r"\[[A-Z][A-Z_]*\]")
# a label written before a placeholder: "MRN: [MRN]", "born [DATE]", "date of birth [DATE]"
# (not a word that is also a verb: "Can I email [EMAIL] the results?")
_LABEL = (
    r"(?:\b(?:[A-Z]{2,5}|(?i:born|aged?|d\.o\.b|dob|date\s+of\s+birth|birth\s*date|"
    r"(?:medical\s+)?record\s+(?:number|no)|"
    r"(?:phone|cell|account|member|policy|license|licence)\s+(?:number|no)))\b\.?\s*[:#]?\s*)"
)
_LABELLED = re.compile(rf"{_LABEL}?\[(?!NAME\])[A-Z][A-Z_]*\]")
# a name with its honorific: "Mrs. [NAME]", "Dr. [NAME]"
_NAME = re.compile(r"(?:\b(Mrs|Mr|Ms|Mx|Miss|Dr)\b\.?\s*)?\[NAME\]")
_EMPTY_PARENS = re.compile(r"[(\[][\s,;/]*[)\]]")
_REPEATED_PUNCT = re.compile(r"\s*[,;]\s*(?:[,;]\s*)+")
_LEADING = re.compile(r"^[\s,;:\-\u2013\u2014]+")
_SENTENCE_START = re.compile(r"(?:^|[.?!]\s+)$")
_GIVEN = re.compile(r",?\s+(?:his|her|their|the|a|an)\s")
_RECEIVER_COMMA = re.compile(r"\b(a (?:patient|clinician)),\s+(?=(?:his|her|their|the|a|an)\s)")


def without_placeholders(text: str) -> str:
    """``text`` with placeholders, their labels and the punctuation left around them removed (a
    name that was a sentence's subject becomes "A patient"); ``text`` itself when nothing else
    would remain."""
    if "[" not in text:
        return text
    out = _LABELLED.sub(" ", text)
    out = _EMPTY_PARENS.sub(" ", out)
    out = _REPEATED_PUNCT.sub(", ", re.sub(r"\s+", " ", out))
    out = _NAME.sub(_named, out)
    out = _EMPTY_PARENS.sub(" ", out)
    out = _REPEATED_PUNCT.sub(", ", out)
    out = _RECEIVER_COMMA.sub(r"\1 ", out)  # "send a patient, his summary": no comma
    out = _LEADING.sub("", out)
    out = re.sub(r"\s+([,;:?.!])", r"\1", out)
    out = re.sub(r"\s+", " ", out).strip()
    return out if re.search(r"[A-Za-z]{2}", out) else text


def _named(m: re.Match[str]) -> str:
    """A name's replacement: "a patient" (or "a clinician" after "Dr.") where it is the subject
    of its sentence, owns something ("[NAME]'s chart") or is who something goes to ("send [NAME]
    his discharge summary"), else nothing ("my coworker [NAME] looked ...")."""
    rest = m.string[m.end() :]
    start = bool(_SENTENCE_START.search(m.string[: m.start()]))
    owns = rest.startswith(("'s", "’s"))
    subject = start and re.match(r"\s+[a-z]", rest)
    receives = (
        not start and _GIVEN.match(rest) and re.search(r"\b[a-z]+\s*$", m.string[: m.start()])
    )
    if not (owns or subject or receives):
        return " "
    who = "clinician" if m.group(1) == "Dr" else "patient"
    return f"{'A' if start else 'a'} {who}"

"""Follow-up or new question, without a model.

A question is a follow-up when it cannot stand alone:
- it starts by pointing back ("what about ...", "how about ...", "and for ...", "same for ...");
- it is a fragment (four words or fewer: "and contractors?", "How fast?");
- it refers back with a pronoun ("Does *that* apply to contractors?", "Do *they* need one?") and
  has few words of its own. "Is it OK to ...", "it is ..." and "that" inside a clause ("a laptop
  that was stolen") do not point back.
Anything else is a new question and is searched as written, however recent the last one. So is a
short question asking what a term means that the documents spell out or define ("What is PHI?",
"What is minimum necessary?"): the answer chain checks that against the index before condensing.

"What about X?" after a question about one of the organisation's vendors, X naming another,
asks the same of X: "How fast must Acme report a breach?" then "How about Clarion?" is searched as
"How fast must Clarion report a breach?". Any other follow-up is searched together with the
question before it, so the retrieval sees both.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.answering.text import content_terms
from core.words import word_list

# "what about (for) X", "how about X", "and for X", "and X?", "same for X", "also for X"
_POINTING = re.compile(
    r"^\s*(?:(?:and\s+)?(?:what|how)\s+about(?:\s+(?:for|with|if|when))?|and\s+(?:for|with|if|"
    r"when|also|the)?|same\s+(?:for|with|goes\s+for)|also\s+for|or\s+(?:for)?|then\s+what\s+about)"
    r"\b\s*(?P<rest>.*)$",
    re.I,
)
_PRONOUN = re.compile(r"\b(?:it|they|them|that|this|those|these|he|she|him|her)\b", re.I)
# "it" that stands for nothing before it: "is it OK to ...", "it is ...", "it's allowed"
_DUMMY_IT = re.compile(
    r"\b(?:is|was|would|will|isn't)\s+it\s+(?:ok|okay|allowed|possible|legal|fine|permitted|"
    r"acceptable|true|necessary|required|safe|compliant|against|a\s+problem|a\s+breach|a\s+"
    r"violation|enough|wrong|right|illegal|normal)\b|\bit(?:'s|\s+is)\s+(?:ok|okay|fine|allowed)\b",
    re.I,
)
# "that"/"this"/"those" point back at the start ("Does that ...", "Is this ...") or the end
# ("... about that?"); elsewhere they mostly start a clause or qualify a noun of the question
_DEMONSTRATIVE_BACK = re.compile(
    r"^\s*(?:\w+\s+){0,2}(?:that|this|those|these)\b(?!\s+(?:is|are)\s+\w+ed\b)|"
    r"\b(?:that|this|those|these)\s*[?.!]*\s*$",
    re.I,
)
_OWN_WORDS_MAX = 3  # a pronoun question with more content words of its own stands alone


def is_follow_up(question: str) -> bool:
    q = question.strip()
    if _POINTING.match(q) and len(q.split()) <= 12:
        return True
    words = q.rstrip("?.! ").split()
    if len(words) <= 4:
        return True
    unclear = _DUMMY_IT.sub(" ", q)
    refers = bool(re.search(r"\b(?:it|they|them|he|she|him|her)\b", unclear, re.I)) or bool(
        _DEMONSTRATIVE_BACK.search(unclear)
    )
    own = content_terms(_PRONOUN.sub(" ", unclear))
    return refers and len(own) <= _OWN_WORDS_MAX


class HeuristicCondenser:
    """Without a model: a follow-up (``is_follow_up``) is rewritten into the previous question
    (another vendor's name in place of the one asked about) or searched together with it."""

    def __init__(self, vendors: Sequence[str] = ()) -> None:
        self.vendors = [v for v in vendors if v]

    def condense(self, question: str, history: Sequence[str]) -> str:
        if not history or not is_follow_up(question):
            return question
        previous = history[-1].strip()
        m = _POINTING.match(question.strip())
        if m:
            replaced = self._other_vendor(previous, m.group("rest").strip(" ?.!"))
            if replaced:
                return replaced
        return f"{previous.rstrip('?.! ')}? {question.strip()}"

    def _other_vendor(self, previous: str, subject: str) -> str | None:
        """``previous`` with the vendor it names replaced by the vendor ``subject`` names."""
        wanted = [v for v in self.vendors if _names(subject, v)]
        if len(wanted) != 1:
            return None
        for vendor in self.vendors:
            if vendor == wanted[0]:
                continue
            for word in _distinctive(vendor):
                hit = re.search(rf"\b{re.escape(vendor)}\b|\b{re.escape(word)}\b", previous, re.I)
                if hit:
                    return previous[: hit.start()] + subject + previous[hit.end() :]
        return None


def _distinctive(vendor: str) -> list[str]:
    return [
        w
        for w in re.findall(r"[A-Za-z][\w-]{2,}", vendor)
        if w.lower() not in word_list("vendor_name_common")
    ]


def _names(text: str, vendor: str) -> bool:
    return any(re.search(rf"\b{re.escape(w)}\b", text, re.I) for w in _distinctive(vendor))

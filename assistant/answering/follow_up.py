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
"How fast must Clarion report a breach?". So it does when X names people and the question before
was about other people (``actor_nouns``): "A nurse left yesterday. How fast must her EHR access be
removed?" then "what about for contractors?" is searched as "A contractor left yesterday. How fast
must her EHR access be removed?". "X instead of Y" puts X in Y's place in the question before.
After a question across the vendors ("Which of our vendors may train on our data?"), "which of
them ..." asks across them.
Any other follow-up is searched together with the question before it, so the retrieval sees both.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.answering.compare import is_comparison
from assistant.answering.text import content_terms
from core.words import word_list

# "what about (for) X", "how about X", "and for X", "and X?", "same for X", "also for X"
# not "and" before a question of its own ("And how often does everyone redo the training?" is a new
# question)
_ASKING = (
    r"(?:how|what|when|where|who|which|why|is|are|was|were|do|does|did|can|could|should|would"
    r"|will|may|must|has|have)"
)
_POINTING = re.compile(
    r"^\s*(?:(?:and\s+)?(?:what|how)\s+about(?:\s+(?:for|with|if|when))?|and\s+(?:for|with|if|"
    rf"when|also|the)\b|and\b(?!\s+{_ASKING}\b)|same\s+(?:for|with|goes\s+for)|also\s+for"
    r"|or\s+(?:for)?|then\s+what\s+about)"
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
_THEM = re.compile(r"\b(?:them|they|those|these)\b", re.I)
_WHAT_IF = re.compile(r"^\s*(?:(?:ok|okay|so|but)[,\s]+){0,2}what\s+if\b", re.I)
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
    own = content_terms(_PRONOUN.sub(" ", unclear)) - word_list("conversation_fillers")
    # "how much trouble am I in?", "how would anyone even find out?": a word of its own or none
    if len(own) <= 1:
        return True
    # "what if I take the name and MRN out first?": a change to the question before, unless it
    # says enough to stand alone ("What if Tessellate loads our data into another customer's
    # environment by mistake?")
    if _WHAT_IF.match(q) and len(own) <= _OWN_WORDS_MAX + 1:
        return True
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
        # "which of them lets us audit?" after a question across the vendors asks it across them
        # (glued to that question, the comparison would be asked again)
        if is_comparison(previous):
            across = _THEM.sub("our vendors", question, count=1)
            if across != question and is_comparison(across):
                return across
        m = _POINTING.match(question.strip())
        if m:
            rest = m.group("rest").strip(" ?.!")
            replaced = self._other_vendor(previous, rest) or _other_actor(previous, rest)
            if replaced:
                return replaced
        instead = _instead(previous, question)
        if instead:
            return instead
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


_LEADING = re.compile(r"^(?:(?:for|with|to|if|when|the|a|an|our|any|all|those|these)\s+)+", re.I)


def _actor(word: str) -> str | None:
    """The singular of ``word`` when it names people ("contractors" -> "contractor")."""
    low = word.lower().strip("'’")
    nouns = word_list("actor_nouns")
    for singular in (
        low,
        low[:-1] if low.endswith("s") else "",
        low[:-3] + "y" if low.endswith("ies") else "",
    ):
        if singular and singular in nouns:
            return singular
    return None


def _other_actor(previous: str, subject: str) -> str | None:
    """``previous`` with the first word naming people replaced by ``subject``, when ``subject``
    is a short phrase ending in a word naming other people: "what about (for) contractors?"."""
    phrase = _LEADING.sub("", subject).strip()
    words = phrase.split()
    if not words or len(words) > 3:
        return None
    wanted = _actor(words[-1])
    if wanted is None:
        return None
    for hit in re.finditer(r"[A-Za-z][\w'’-]*", previous):
        had = _actor(hit.group(0))
        if had is None or had == wanted:
            continue
        plural = hit.group(0).lower().endswith("s") and had != hit.group(0).lower()
        head = words[-1] if plural else wanted
        new = " ".join([*words[:-1], head])
        return previous[: hit.start()] + new + previous[hit.end() :]
    return None


_INSTEAD = re.compile(
    r"\b(?P<new>[\w'’-]+(?:\s+[\w'’-]+)?)\s+instead\s+of\s+(?:an?\s+|the\s+)?"
    r"(?P<old>[\w'’-]+(?:\s+[\w'’-]+)?)",
    re.I,
)


def _instead(previous: str, question: str) -> str | None:
    """ "What if it's a text instead of an email?": the question before with "email" replaced by
    "text" (the last one or two words before "instead of", as many as the replaced phrase)."""
    m = _INSTEAD.search(question)
    if m is None:
        return None
    old_words = m.group("old").strip(" ?.!").split()
    new_words = m.group("new").split()
    for n in (len(old_words), 1):
        old = " ".join(old_words[:n])
        hit = re.search(rf"\b{re.escape(old)}\b", previous, re.I)
        if hit:
            new = " ".join(new_words[-n:])
            return previous[: hit.start()] + new + previous[hit.end() :]
    return None

"""Questions that ask for a value of a particular kind (an amount of money, a percentage, a phone
number, an email address, a length of time, a time of day, a version number, a count, another
figure, a person's name, a US state, a day or date), and whether a passage states one.

"How much are we paying Acme Scribe per clinician?" or "What uptime does Clarion guarantee?" is
answered by a figure. When none of the passages found states a figure of that kind beside what the
question asks about, whatever they say about the vendor or the contract does not answer the
question, however close it comes. A question about what is allowed ("How much can we charge a
patient for copies?") asks for a rule, not a figure, and is not one of these; nor is a phone
number or email address the question only mentions ("I used my work email address"). "Who is our
account manager at Quarry?" asks for a person's name, which a passage naming only the role ("the
account manager") does not give; "Who approves AI tools?" or "Who is the contact for breaches?"
asks for a role, and is not one of these.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import cache

from assistant.answering.text import content_terms, sentences, stem5
from assistant.safety.phi_vocabulary import PhiVocabulary
from core.words import word_list


@dataclass(frozen=True)
class AnswerKind:
    name: str  # what the reason to abstain calls it: "an amount of money"
    asked: re.Pattern[str]  # the question asks for a value of this kind
    stated: re.Pattern[str]  # a passage states one
    # the value anywhere in a passage with the subject, or anywhere in the closest passage: "act
    # on a request for access no later than 30 days" answers "how many days do we have to
    # respond to a patient?" in other words than the question's
    in_passage: bool = False


_FACTUAL_AUX = r"(?:do|does|did|are|is|was|were|will|would|has|have|had)"
_MONEY_VERB = r"(?:costs?|costing|pay|pays|paying|paid|charges?|charging|charged|spends?|spending"
_MONEY_VERB += r"|spent|bills?|billing|billed|owes?|owed|budgets?|budgeted)"
# a value asked for: "what is/are ...", "what's ...", "which ...", "give me ..."
_WHICH = r"(?:what(?:'s|’s|\s+is|\s+are|\s+was|\s+were)?|which|give\s+me|send\s+me|tell\s+me)\s+"
_MONEY_NOUN = r"(?:prices?|pricing|costs?|salary|salaries|wages?|budget|reimbursement rates?)"
_UNITS = r"(?:minutes?|hours?|days?|weeks?|months?|years?)"
_DAYS_OF = r"(?:(?:calendar|business|working)\s+)"
_NUMBER_WORDS = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen|fifteen"
    r"|twenty|twenty-four|thirty|forty-five|forty-eight|sixty|seventy-two|ninety|hundred)"
)

ANSWER_KINDS: tuple[AnswerKind, ...] = (
    AnswerKind(
        name="an amount of money",
        asked=re.compile(
            # "How much are we paying ...", "How much does the license cost", "how much money"
            # (the money verb within a few words: "how much do we have to explain about using
            # patient data for billing" asks for no price; "how much are we allowed to charge"
            # asks for a rule)
            rf"\bhow much\s+(?:money\b|{_FACTUAL_AUX}\s+"
            rf"(?!(?:[\w'’-]+\s+){{0,2}}?(?:allowed|permitted|able|entitled)\s+to\b)"
            rf"(?:[\w'’-]+\s+){{0,4}}?{_MONEY_VERB}\b)"
            # "What do we charge for a second copy?", "what does Quarry bill per chart?"
            rf"|\bwhat\s+{_FACTUAL_AUX}\s+(?:[\w'’-]+\s+){{1,3}}?{_MONEY_VERB}\b"
            # "What is the price of ...", "What is Medicare's reimbursement rate", "our budget"
            rf"|\bwhat(?:'s|\s+is|\s+are|\s+was|\s+were)\s+(?:the\s+|our\s+|its\s+|their\s+"
            rf"|[\w-]+'s\s+)?(?:[\w-]+\s+){{0,2}}?{_MONEY_NOUN}\b",
            re.IGNORECASE,
        ),
        stated=re.compile(
            r"[$€£]\s?\d|\b\d[\d,.]*\s*(?:dollars|euros|USD|EUR)\b|\bdollars?\b", re.IGNORECASE
        ),
    ),
    AnswerKind(
        name="a percentage",
        asked=re.compile(
            r"\b(?:what|which|how much)\s+(?:[\w-]+\s+){0,2}?(?:uptime|percentage|percent)\b"
            r"|\bhow many percent\b",
            re.IGNORECASE,
        ),
        stated=re.compile(r"\d\s?%|\bper\s?cent\b", re.IGNORECASE),
    ),
    AnswerKind(
        name="a phone number",
        asked=re.compile(
            # "what's their direct phone number", "the number I should call": asked for, not
            # merely mentioned ("I gave my phone number to the app" asks for none)
            rf"\b{_WHICH}(?:[\w'’-]+\s+){{0,4}}?(?:phone|telephone|fax|cell|mobile|direct|toll-free"
            r"|hotline)\s+"
            r"(?:number|no\.?|line)\b"
            r"|\bnumber\s+(?:to|I\s+should|should\s+I|do\s+I)\s+(?:call|dial|ring)\b",
            re.IGNORECASE,
        ),
        stated=re.compile(r"\(?\b\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b|\bext(?:ension|\.)?\s*\d{3,5}\b"),
    ),
    AnswerKind(
        name="an email address",
        asked=re.compile(
            rf"\b{_WHICH}(?:[\w'’-]+\s+){{0,4}}?e-?mail\s+address"
            # "what email do I send it to"
            r"|\b(?:what|which)\s+e-?mail\s+(?:do|should|can|must)\s+(?:I|we)\b",
            re.IGNORECASE,
        ),
        stated=re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    ),
    AnswerKind(
        name="a length of time",
        asked=re.compile(
            # "how many days do I have", "what's the recovery time objective": a length of time
            # (not a deadline, which may be a date or an event: "before access is granted")
            rf"\bhow many\s+(?:more\s+)?{_DAYS_OF}?{_UNITS}\b"
            r"|\bwhat(?:'s|’s|\s+is|\s+are)\s+(?:the\s+|our\s+|its\s+|their\s+)?(?:[\w-]+\s+){0,2}?"
            r"(?:turnaround\s+time|recovery\s+(?:time|point)(?:\s+objective)?)s?\b",
            re.IGNORECASE,
        ),
        stated=re.compile(
            rf"\b(?:\d[\d,.]*|{_NUMBER_WORDS})(?:\s*\(\d+\))?[\s-]+{_DAYS_OF}?{_UNITS}\b"
            r"|\bwithout\s+unreasonable\s+delay\b|\bimmediately\b|\bpromptly\b"
            r"|\b(?:same|next)\s+(?:business\s+)?day\b",
            re.IGNORECASE,
        ),
        in_passage=True,
    ),
    AnswerKind(
        name="a time of day",
        # a clock time: what time a place or an event opens, closes, starts or ends ("What time
        # does the Phoenix office open?"); not "what time frame", nor "at what time do
        # workstations lock?", which asks after how long
        asked=re.compile(
            r"\bwhat time of day\b|\bwhat time\s+(?:does|do|is|are|will|should|did)\s+"
            r"(?:[\w'’-]+\s+){0,5}?(?:opens?|closes?|starts?|begins?|ends?|finish(?:es)?|shuts?)\b",
            re.IGNORECASE,
        ),
        stated=re.compile(
            r"\b\d{1,2}(?::\d{2})?\s*(?:a\.?m\b\.?|p\.?m\b\.?)|\b\d{1,2}:\d{2}\b"
            r"|\bnoon\b|\bmidnight\b|\bo['’]clock\b",
            re.IGNORECASE,
        ),
    ),
    AnswerKind(
        name="a version number",
        # asked outright ("Which TLS version ...", "..., and which version of it"), not "Can we
        # trace which model version produced a result?"
        asked=re.compile(
            r"(?:^|[.?!,;:]\s*|\band\s+)(?:which|what)\s+(?:[\w'’-]+\s+){0,2}?versions?\b",
            re.IGNORECASE,
        ),
        stated=re.compile(
            # "version 4", "v2.1", "TLS 1.2" (a name before the number, not "Section 4.2",
            # "CFR 164.312" or "initially 0.90")
            r"(?i:\bversions?\s+(?:[\w-]+\s+)?\d|\bv\d+(?:\.\d+)*\b)"
            r"|\b(?!(?:Sections?|Parts?|Articles?|Clauses?|CFR|Appendix)\b)[A-Z][\w-]*\s+"
            r"\d+\.\d+(?:\.\d+)*\b(?!\s*\()"
        ),
        in_passage=True,  # "TLS 1.2" answers "which TLS version must vendors use?"
    ),
    AnswerKind(
        name="a count",
        # "How many wrong passcode tries ...", "how many member calls a month is it licensed
        # to handle": a number of things, not a length of time (above) nor "how many times"
        asked=re.compile(
            rf"\bhow many\s+(?!(?:more\s+)?{_DAYS_OF}?{_UNITS}\b|times\b)[a-z]",
            re.IGNORECASE,
        ),
        stated=re.compile(
            rf"\d|\b(?:{_NUMBER_WORDS}|a single|no more than one|at most one|half)\b",
            re.IGNORECASE,
        ),
    ),
    AnswerKind(
        name="a day or date",
        # "What day of the month does the committee meet?", "When does our Clarion contract
        # come up for renewal?": a day, a date or a term; not "What date goes on the notice?"
        # (the effective date: a rule) nor "when must we ..." (a deadline, often an event)
        asked=re.compile(
            r"\b(?:what|which)\s+days?\s+(?:of\s+the\s+(?:week|month)|(?:do|does|is|are)\b)"
            r"|\bwhen\s+(?:does|do|will|is|are)\s+(?:[\w'’-]+\s+){1,5}?"
            r"(?:come\s+up\s+for\s+renewal|up\s+for\s+renewal|renew|expire|meet)\b",
            re.IGNORECASE,
        ),
        stated=re.compile(
            r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|weekly|monthly"
            r"|quarterly|annually|daily)\b"
            r"|\b(?:january|february|march|april|may|june|july|august|september|october"
            r"|november|december)\s+\d|\b\d{1,2}(?:st|nd|rd|th)\b|\b\d{4}-\d{2}-\d{2}\b"
            r"|\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b(?:first|second|third|fourth|last)\s+"
            r"(?:day|week|monday|tuesday|wednesday|thursday|friday)\b"
            rf"|\b(?:\d[\d,.]*|{_NUMBER_WORDS})(?:\s*\(\d+\))?[\s-]+(?:months?|years?)\b"
            r"|\b(?:every|each)\s+(?:week|month|quarter|year)\b",
            re.IGNORECASE,
        ),
    ),
    AnswerKind(
        name="a figure",
        asked=re.compile(
            # "what's the actual cut-off for the test", "what containment rate is it supposed to
            # hit", "what minimum accuracy": a number, not a rule
            r"\bwhat(?:'s|’s|\s+is|\s+are)?\s+(?:the\s+|our\s+|its\s+|their\s+)?"
            r"(?:(?:actual|minimum|maximum|required|target|agreed)\s+){0,2}(?:[\w-]+\s+){0,2}?"
            r"(?:cut-?offs?|thresholds?|rates?|scores?|accuracy|targets?|ratios?|quotas?)\b"
            r"|\bwhat\s+(?:minimum|maximum)\s+(?:[\w-]+\s+){0,2}?(?:number|amount|size|level"
            r"|accuracy|score|value)\b",
            re.IGNORECASE,
        ),
        stated=re.compile(rf"\d|\b(?:{_NUMBER_WORDS}|half|percent)\b", re.IGNORECASE),
    ),
)
# a more particular figure asked for makes "a figure" redundant
_PARTICULAR = (
    "an amount of money",
    "a percentage",
    "a length of time",
    "a time of day",
    "a version number",
    "a count",
)

# a role whose holder the question asks for by name: "Who is our account manager at Quarry?",
# "What's the name of our Chief Privacy Officer?", "Who's the AI Oversight Council secretary?"
_ROLE = (
    r"(?:officer|manager|owner|contact|lead|director|secretary|chair|chairperson|rep"
    r"|representative|head|coordinator|administrator|liaison|sponsor|steward|champion)"
)
_PERSON_ASKED = re.compile(
    r"\bwho(?:'s|’s|\s+is|\s+are|\s+was)\s+(?:our|the|their|its|your|[A-Z][\w-]*['’]s)\s+"
    rf"(?:[\w-]+\s+){{0,4}}?{_ROLE}s?\b(?!\s+(?:for|of|to|when|if|that|who)\b)"
    rf"|\bname\s+of\s+(?:our|the|their|its|your)\s+(?:[\w-]+\s+){{0,4}}?{_ROLE}s?\b",
    re.IGNORECASE,
)
_STATE_ASKED = re.compile(
    r"\b(?:which|what)\s+(?:US\s+|U\.S\.\s+)?state(?:['’]s\b|\s+(?:is|are|does|do|law)\b)"
    r"|\bin\s+(?:which|what)\s+(?:US\s+|U\.S\.\s+)?state\b",
    re.IGNORECASE,
)


@cache
def _named_kinds() -> tuple[AnswerKind, ...]:
    """The kinds whose value is a name: a person's and a US state's. A person's name is a first
    name or an honorific from the bundled PHI vocabulary before a capitalised word ("Maria
    Lopez", "Dr. Okafor"), or any two capitalised words beside a role: after it ("Account
    manager: Dana Whitfield", "... account manager for Saguaro is Dana Whitfield") or before it
    ("Dana Whitfield, Account Manager")."""
    vocab = PhiVocabulary.load()
    first = "|".join(sorted((n.capitalize() for n in vocab.first_names), key=len, reverse=True))
    honorific = "|".join(h.capitalize() for h in vocab.honorifics)
    states = "|".join(sorted(vocab.states, key=len, reverse=True))
    name = r"[A-Z][a-z]+\s+(?:[A-Z]\.\s+)?[A-Z][a-z]+(?:-[A-Z][a-z]+)?"
    role = f"(?i:{_ROLE})"
    return (
        AnswerKind(
            name="a person's name",
            asked=_PERSON_ASKED,
            stated=re.compile(
                rf"\b(?:{first})\s+(?:[A-Z]\.\s+)?[A-Z][a-z]+|\b(?:{honorific})\.?\s+[A-Z][a-z]+"
                rf"|\b{role}s?(?:(?:\s+[\w'’-]+){{0,4}}?\s+(?:is|are)|:|,)\s+{name}\b"
                rf"|\b{name},\s+(?:(?:the|our|its)\s+)?(?:[\w-]+\s+){{0,3}}?{role}\b"
            ),
        ),
        AnswerKind(
            name="a US state",
            asked=_STATE_ASKED,
            stated=re.compile(rf"\b(?:{states})\b", re.IGNORECASE),
        ),
    )


def asked_kinds(question: str) -> list[AnswerKind]:
    """The kinds of value ``question`` asks for (usually none)."""
    every = (*ANSWER_KINDS, *_named_kinds())
    kinds = [kind for kind in every if kind.asked.search(question)]
    if any(k.name in _PARTICULAR for k in kinds):
        kinds = [k for k in kinds if k.name != "a figure"]
    return kinds


def unstated_kinds(
    question: str,
    passages: Iterable[str | tuple[str, str]],
    generic: AbstractSet[str] = frozenset(),
    df: Callable[[str], int] | None = None,
) -> tuple[str, ...]:
    """Names of the kinds of value the question asks for that none of ``passages`` states about
    what the question asks.

    The value must stand in a sentence with the question's other words (its *subject*), read
    with its passage's headings (a passage is its text, or its (headings, text)): two of them
    (one, of a subject of one or two words), among them one of its two rarest in the documents
    (``df``: how many passages have a word). "What percentage of Copilot conversations does the
    Privacy Office review?" is not answered by "a pass mark of 80 percent ... the Privacy
    Office". The subject is read from the clause that asks for the value (``_asking``), its
    words compared with their endings off (``_stems``). A kind marked ``in_passage`` (a length
    of time, a version number) counts anywhere in a passage with the subject, or anywhere in
    the first (closest) passage. ``generic``: words that say nothing about the subject ("data",
    the organisation's name)."""
    kinds = asked_kinds(question)
    if not kinds:
        return ()
    units: list[tuple[str, set[str]]] = []
    whole: list[tuple[str, set[str]]] = []
    for passage in passages:
        context, text = passage if isinstance(passage, tuple) else ("", passage)
        around = content_terms(context)
        units += [(s.text, _stems(content_terms(s.text) | around)) for s in sentences(text)]
        whole.append((text, _stems(content_terms(text) | around)))
    out: list[str] = []
    for kind in kinds:
        asked = {t for m in kind.asked.finditer(question) for t in content_terms(m.group(0))}
        terms = content_terms(_asking(question, kind)) - asked - generic
        terms -= word_list("function_words")
        subject = _stems(terms)
        known = sorted((df(t), t) for t in terms if df(t) > 0) if df else []
        rarest = _stems({t for _, t in known[:2]}) or subject
        need = 1 if len(subject) <= 2 else 2
        if kind.in_passage and whole and kind.stated.search(whole[0][0]):
            continue
        if not any(
            kind.stated.search(text) and _beside(words, subject, rarest, need)
            for text, words in (whole if kind.in_passage else units)
        ):
            out.append(kind.name)
    return tuple(out)


# where the clause asking for a value ends: another question by its own question word (", and
# what happens ...", "? Who ..."); a yes-or-no question after it ("..., and is the review billed
# separately?") is about the same value and stays
_NEXT_ASK = re.compile(
    r"(?:,?\s+and\s+|[;?.]\s+)(?=(?:what|how|who|whom|when|where|which|why)\b)", re.IGNORECASE
)


def _asking(question: str, kind: AnswerKind) -> str:
    """The question up to the end of the clause that asks for the value: "What score do I need
    to pass the quiz, and what happens if I keep failing it?" asks for the score about the quiz,
    not about failing (what comes before the clause stays: it says what is asked about)."""
    m = kind.asked.search(question)
    if m is None:
        return question
    end = _NEXT_ASK.search(question, m.end())
    return question[: end.start()] if end else question


_SUFFIX = re.compile(r"(?:ing|ed|es|s)$")


def _stems(terms: Iterable[str]) -> set[str]:
    """Words compared by their first five letters once an ending is taken off: "locked" and
    "lock", "ends" and "end", "failing" and "failed" are one word."""
    return stem5(_bare(t) for t in terms)


def _bare(term: str) -> str:
    bare = _SUFFIX.sub("", term)
    return bare if len(bare) >= 3 else term


def _beside(words: set[str], subject: set[str], rarest: set[str], need: int) -> bool:
    return not subject or (len(subject & words) >= need and bool(rarest & words))

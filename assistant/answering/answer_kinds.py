"""Questions that ask for a value of a particular kind (an amount of money, a percentage, a phone
number, an email address), and whether a passage states one.

"How much are we paying Acme Scribe per clinician?" or "What uptime does Clarion guarantee?" is
answered by a figure. When none of the passages found states a figure of that kind, whatever they
say about the vendor or the contract does not answer the question, however close it comes. A
question about what is allowed ("How much can we charge a patient for copies?") asks for a rule,
not a figure, and is not one of these.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class AnswerKind:
    name: str  # what the reason to abstain calls it: "an amount of money"
    asked: re.Pattern[str]  # the question asks for a value of this kind
    stated: re.Pattern[str]  # a passage states one


_FACTUAL_AUX = r"(?:do|does|did|are|is|was|were|will|would|has|have|had)"
_MONEY_VERB = r"(?:costs?|costing|pay|pays|paying|paid|charges?|charging|charged|spends?|spending"
_MONEY_VERB += r"|spent|bills?|billing|billed|owes?|owed)"
_MONEY_NOUN = r"(?:prices?|pricing|costs?|salary|salaries|wages?|budget|reimbursement rates?)"

ANSWER_KINDS: tuple[AnswerKind, ...] = (
    AnswerKind(
        name="an amount of money",
        asked=re.compile(
            # "How much are we paying ...", "How much does the license cost", "how much money"
            rf"\bhow much\s+(?:money\b|{_FACTUAL_AUX}\b[^?.!]{{0,80}}?\b{_MONEY_VERB}\b)"
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
            r"\b(?:phone|telephone|fax|cell|mobile|direct)\s+(?:number|no\.?|line)\b"
            r"|\bnumber\s+(?:to|I\s+should|should\s+I|do\s+I)\s+(?:call|dial|ring)\b",
            re.IGNORECASE,
        ),
        stated=re.compile(r"\(?\b\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b|\bext(?:ension|\.)?\s*\d{3,5}\b"),
    ),
    AnswerKind(
        name="an email address",
        asked=re.compile(r"\be-?mail\s+address(?:es)?\b", re.IGNORECASE),
        stated=re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    ),
)


def asked_kinds(question: str) -> list[AnswerKind]:
    """The kinds of value ``question`` asks for (usually none)."""
    return [kind for kind in ANSWER_KINDS if kind.asked.search(question)]


def unstated_kinds(question: str, passages: Iterable[str]) -> tuple[str, ...]:
    """Names of the kinds of value the question asks for that none of ``passages`` states."""
    texts = list(passages)
    return tuple(
        kind.name
        for kind in asked_kinds(question)
        if not any(kind.stated.search(text) for text in texts)
    )

"""When to say "the documents don't answer this" instead of citing something loosely related.

Signals, calibrated on evals/calibration.yaml (see ``scripts/calibrate_abstention.py``):
- ``best_dense``: the highest cosine similarity between the question and a retrieved passage;
- ``unknown``: distinctive words of the question that occur nowhere in the index; the *salient*
  ones — acronyms and capitalised names such as GDPR, CCPA, Okta — mark questions about something
  the documents never discuss, while unfamiliar everyday words ("hang on to") do not;
- ``coverage``: the share of the question's distinctive words that the top passages contain (off by
  default: conversational questions vary too much for it to separate well);
- ``best_topic``: how close the question comes to a question of the plain-language question index
  (staff questions the documents answer): a question asked the way staff ask clears the dense
  floor or outweighs an unknown name when it matches one of those closely;
- ``unknown_named``: laws, rules and standards the question names ("the EU AI Act", "the FTC
  Health Breach Notification Rule", "the CCPA", "PCI DSS requirements") whose own name the
  documents never contain: what such a law says cannot come from them, however close the rest of
  the question comes to a HIPAA passage, so the assistant says which name it does not know;
- ``uncovered``: the phrases the question asks about (its *focus*, read from its shape: "how much
  cyber liability insurance ...", "what's the recovery time objective ...") that no passage the
  caller may read has together (``focus``). One with a word no such passage has at all
  (``unfamiliar``: "vacation days") is a refusal unless the question index knows the question;
  the others are answered from the closest passages with that said first (the documents may put
  it in other words: "annual cap" for "not more than $1.5 million in a calendar year"; refusing
  them too was measured and turned down: see CHANGELOG.md, 2026-12-06);
- ``unstated``: the kinds of value the question asks for (an amount of money, a percentage, a
  phone number, a length of time, a time of day, a version number, a count, another figure such
  as a cut-off or a rate, a person's name, a US state, a day or date) that no retrieved passage
  states beside what the question asks about
  (``answer_kinds``): "How much are we paying Acme Scribe?" is not answered by a passage about
  Acme Scribe that names no price, nor by its insurance clause's dollar figure;
- ``unknown_named`` also covers a law named by its number ("California AB 3030") or by its
  place ("Colorado's AI law"), and one whose words the documents have but never together.
A passage the question names by locator is always answered from.
"""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from assistant.answering.answer_kinds import unstated_kinds
from assistant.answering.focus import Mentions, gaps, listed
from assistant.answering.text import content_terms
from assistant.retrieval.retriever import Retrieval
from assistant.safety.placeholders import PLACEHOLDER
from core.lexical import BM25, tokenize
from core.settings import AnswerSettings
from core.words import word_list


@dataclass(frozen=True)
class Evidence:
    best_dense: float
    coverage: float
    unknown: tuple[str, ...]
    located: bool
    salient_unknown: tuple[str, ...] = ()
    best_topic: float = 0.0
    unknown_named: tuple[str, ...] = ()
    unstated: tuple[str, ...] = ()
    uncovered: tuple[str, ...] = ()
    unfamiliar: tuple[str, ...] = ()  # the uncovered phrases with a word no document has


# What a named law, rule or standard is called after its name: "... Act", "... Rule", and after an
# acronym also the lower-case "rule", "requirements", "certification" ("ONC HTI-1 rule").
_KIND = r"(?:Acts?|Rules?|Regulations?|Directives?|Laws?|Codes?|Standards?|Frameworks?|Bills?)"
_KIND_AFTER_ACRONYM = (
    r"(?:acts?|rules?|regulations?|directives?|laws?|standards?|frameworks?|requirements?"
    r"|certification|codes?|opt-outs?|exemptions?)"
)
_KIND_WORDS = re.compile(rf"\b(?:{_KIND}|{_KIND_AFTER_ACRONYM})\b")
_NAME_WORD = r"(?:[A-Z][\w'’-]*|\d[\w-]*)"
_ACRONYM = r"(?:[A-Z][A-Z0-9-]*[A-Z0-9](?![a-z]))"
# a capitalised word that opens a question rather than a name ("Which CPT code ...")
_NOT_ASKING = (
    r"(?!(?:Which|What|Whose|Who|How|Does|Do|Did|Is|Are|Can|Could|Should|Would|Will|Under"
    r"|When|Where|Why|If|The|Our|Any|For|In|On|To)\b)"
)
_NAMED = (
    # "the EU AI Act", "Colorado AI Act", "FTC Health Breach Notification Rule", "Texas HB 300"
    re.compile(rf"((?:{_NAME_WORD}\s+){{0,5}}{_NAME_WORD})\s+{_KIND}\b"),
    # "the ONC HTI-1 rule", "PCI DSS requirements", "HITRUST certification", "CCPA opt-out"
    # ... and "the CMS Patient Access API rule"
    re.compile(
        rf"((?:{_ACRONYM}\s+){{0,3}}(?:{_NOT_ASKING}{_NAME_WORD}\s+){{0,3}}{_ACRONYM})\s+"
        rf"{_KIND_AFTER_ACRONYM}\b"
    ),
    # "Does the CCPA apply ...", "what does GDPR require", "the NIST AI RMF say"
    re.compile(
        rf"\b(?:the\s+|does\s+|do\s+)((?:{_NAME_WORD}\s+){{0,3}}{_ACRONYM})\s+"
        r"(?:apply|applies|cover|covers|require|requires|say|says|allow|allows|treat|classify"
        r"|regulate|regulates|permit|permits|define|defines|mandate|mandates)\b"
    ),
    # a bill or standard by its number: "California AB 3030", "ISO/IEC 42001", "A.R.S. 18-552"
    # (not a citation of the regulations themselves: "45 CFR 164.312")
    re.compile(
        r"(?<!\d\s)\b(?!(?:CFR|USC|U\.S\.C)\b)((?:[A-Z][a-z]+\s+)?[A-Z]{1,5}(?:[./][A-Z]{1,5})*"
        r"\.?\s+\d{2,}(?:[.-]\d+)*)"
    ),
    # "Colorado's AI law", "Arizona's breach notification statute"
    re.compile(
        r"\b((?:[A-Z][\w-]*\s+){0,2}[A-Z][\w-]*['’]s\s+(?:[\w-]+\s+){0,3}?"
        r"(?:laws?|acts?|statutes?|rules?|regulations?|codes?))\b"
    ),
)


def named_instruments(question: str) -> list[str]:
    """Names of laws, rules or standards the question refers to, in order, without repeats."""
    out: list[str] = []
    for i, pattern in enumerate(_NAMED):
        for m in pattern.finditer(question):
            name = (m.group(1) if i >= 2 else m.group(0)).strip()  # "EU AI Act"; "CCPA"
            if name not in out:
                out.append(name)
    return out


_RAW = re.compile(r"[A-Za-z][A-Za-z0-9-]*")


def salient_words(question: str) -> set[str]:
    """Tokens written as acronyms (GDPR) or capitalised names not at a sentence start (Okta);
    not the days and months English capitalises ("go Friday afternoon"), which name nothing the
    documents would have to discuss."""
    out: set[str] = set()
    calendar = word_list("calendar")
    for m in _RAW.finditer(question):
        word = m.group(0)
        if word.lower() in calendar:
            continue
        before = question[: m.start()].rstrip()
        sentence_start = not before or before[-1] in ".?!:"
        if (len(word) >= 2 and word.isupper()) or (word[0].isupper() and not sentence_start):
            out.update(tokenize(word))
    return out


def measure(
    retrieval: Retrieval,
    lexical: BM25,
    top: int = 3,
    readable: AbstractSet[int] | None = None,
    mentions: Mentions | None = None,
    generic: AbstractSet[str] | None = None,
) -> Evidence:
    """``readable``: the index rows the caller may read (``None``: all). A word only documents
    they may not read contain counts as unknown, so the reason given reveals nothing of them.
    ``mentions``: the phrase lookup over the same rows (``None``: the focus is not checked).
    ``generic``: the words that say nothing about what is asked (default: the generic list;
    the chain adds the organisation's name)."""
    question = PLACEHOLDER.sub(" ", retrieval.plan.question)
    generic = word_list("generic") if generic is None else generic
    terms = {t for t in content_terms(question) if t not in generic}
    bridged = retrieval.plan.bridged_words

    def known(t: str) -> bool:
        # "Philippine" is known when the documents say "Philippines" (the light stemmer keeps
        # the two apart)
        return lexical.df(t, readable) > 0 or any(
            lexical.df(v, readable) > 0 for v in tokenize(t + "s") if v != t
        )

    unknown = tuple(
        sorted(t for t in terms if not known(t) and not t[0].isdigit() and t not in bridged)
    )
    found: set[str] = set()
    for p in retrieval.passages[:top]:
        found |= content_terms(p.chunk.embed_text)
    # A word the vocabulary bridge understood counts as found when its rule words are.
    bridge_found = bool(content_terms(" ".join(retrieval.plan.expansion)) & found)
    hits = sum(1 for t in terms if t in found or (bridge_found and t in bridged))
    coverage = hits / len(terms) if terms else 0.0
    rows = readable if readable is not None else frozenset(range(len(lexical.ids)))

    def unnamed(name: str) -> bool:
        # a word of the name no document has, or (with ``mentions``) its words never together:
        # "Colorado's AI law" where Colorado is only a vendor's address
        terms = [
            t
            for t in tokenize(_KIND_WORDS.sub(" ", name))
            if (not t[0].isdigit() or len(t) > 2) and t not in generic
        ]
        if any(lexical.df(t, readable) == 0 for t in terms):
            return True
        return mentions is not None and len(terms) > 1 and not mentions.mentioned(terms, rows)

    unknown_named = tuple(name for name in named_instruments(question) if unnamed(name))
    missing: tuple[str, ...] = ()
    unfamiliar: tuple[str, ...] = ()
    if mentions is not None:
        missing, unfamiliar = gaps(question, mentions, rows, generic)
    return Evidence(
        uncovered=missing,
        unfamiliar=unfamiliar,
        unknown_named=unknown_named,
        unstated=unstated_kinds(
            question,
            ((" ".join(p.chunk.heading_path), p.chunk.text) for p in retrieval.passages),
            generic,
            lambda t: lexical.df(t, readable),
        ),
        best_dense=retrieval.best_dense,
        coverage=coverage,
        unknown=unknown,
        located=any(p.matched_locator for p in retrieval.passages),
        salient_unknown=tuple(t for t in unknown if t in salient_words(question)),
        best_topic=retrieval.top_topic,
    )


def decide(ev: Evidence, settings: AnswerSettings) -> str:
    """Empty string to answer; otherwise the reason to abstain."""
    if ev.located:
        return ""
    if ev.unknown_named:
        return f"the documents do not cover {', '.join(ev.unknown_named[:3])}"
    # a focus with a word no document the caller may read has ("vacation days", "Kubernetes
    # version"): nothing there is about it, unless the question index knows the question
    if ev.unfamiliar and ev.best_topic < settings.abstain_unknown_terms_min_topic:
        return "none of the documents you can read mentions " + listed(ev.unfamiliar)
    if ev.unstated:
        return f"none of the passages found states {' or '.join(ev.unstated)}"
    if ev.best_dense < settings.abstain_min_dense and ev.best_topic < settings.abstain_min_topic:
        return f"no passage is close to the question (best similarity {ev.best_dense:.2f})"
    if ev.coverage < settings.abstain_min_coverage:
        return f"the passages found share too little with the question (coverage {ev.coverage:.2f})"
    if (
        ev.salient_unknown
        and ev.best_dense < settings.abstain_unknown_terms_min_dense
        and ev.best_topic < settings.abstain_unknown_terms_min_topic
    ):
        return f"the documents never mention: {', '.join(ev.salient_unknown[:5])}"
    return ""

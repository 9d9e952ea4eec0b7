"""What a question asks about (its *focus*), and whether the documents the caller may read
mention it at all.

"How much cyber liability insurance must the scribe vendor carry?" asks about *cyber liability
insurance*; "What's the recovery time objective for ClaimsCore?" about a *recovery time
objective*. When no passage the caller may read has the focus's words together (within a few
words of each other), nothing the documents say answers the question, however close the passages
found come to its other words: the assistant says so and names what it did not find
(``uncovered_terms``) instead of quoting loosely related clauses.

The focus is read from the question's shape alone ("how much/many X", "what is the X of ...",
"what X does ...", "who is the X ..."), never from a list of topics, so it works the same on any
organisation's documents. A question of another shape has no focus and is never flagged: a missed
flag costs less than refusing a question the documents answer. ("Which X ..." and "Is there a X
..." were tried and left out: on the question indexes' 4,987 questions, all answerable, they
flagged 27 and caught 1 unanswerable calibration question.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from core.lexical import BM25, tokenize
from core.words import word_list

_WORD = r"[A-Za-z0-9][\w'’-]*"
_DET = r"(?:(?:the|our|a|an|any|their|its|this|that|your|[A-Z][\w-]*'s)\s+)?"
_PATTERNS = (
    re.compile(rf"\bhow\s+(?:much|many)\s+((?:{_WORD}\s*)+)", re.I),
    re.compile(rf"\bwhat(?:'s|’s|\s+is|\s+are|\s+was|\s+were)\s+{_DET}((?:{_WORD}\s*)+)", re.I),
    # "What minimum accuracy or AUC does ...", "What retention period do ..."
    re.compile(
        rf"\bwhat\s+((?:(?!(?:is|are|was|were|do|does|did)\b){_WORD}\s+){{1,4}}?)"
        r"(?:or\b|do|does|did|is|are|was|were|must|should|can|could|would|will|has|have|had)\b",
        re.I,
    ),
    re.compile(rf"\bwho(?:'s|’s|\s+is|\s+are)\s+{_DET}((?:{_WORD}\s*)+)", re.I),
)
_MAX_WORDS = 4
_PARTICIPLE = re.compile(r"[a-z]{3,}ed$")
# an adjective that says what the subject is ("What are data teams *responsible* for", "who is
# *eligible* to"): the phrase ends before it
_PREDICATE = re.compile(r"[a-z]{3,}(?:ible|able)$")
_WINDOW_SLACK = 3  # words allowed between the focus's words in a passage


@dataclass(frozen=True)
class Focus:
    """A phrase the question asks about, and the words looked for (tokenized)."""

    phrase: str
    terms: tuple[str, ...]


def focus_of(question: str, generic: AbstractSet[str] = frozenset()) -> list[Focus]:
    """The phrases ``question`` asks about, by its shape; ``generic``: tokens never looked for
    ("data", "patient": words any document has)."""
    out: list[Focus] = []
    for pattern in _PATTERNS:
        for m in pattern.finditer(question):
            words = _phrase(m.group(1))
            terms = tuple(
                t
                for w in words
                if w.lower().strip("'’") not in word_list("focus_answer_kinds")
                for t in tokenize(w)
                if len(t) > 2 and not t.isdigit() and t not in generic
            )
            phrase = " ".join(words)
            # one everyday word ("What *paperwork* ...") is too often the asker's own word for
            # something the documents call otherwise; a phrase or an acronym is not
            single_name = len(terms) == 1 and any(w.isupper() and len(w) > 1 for w in words)
            if (len(terms) > 1 or single_name) and all(f.phrase != phrase for f in out):
                out.append(Focus(phrase, terms))
    return out


def _phrase(text: str) -> list[str]:
    """The leading noun phrase of ``text``: its words up to the first function word or
    auxiliary, without qualifiers, at most ``_MAX_WORDS`` long. A word after the first that is
    followed by an object ("which department *treated* the patient", "which court *enforces* a
    subpoena") or ends the phrase as a participle ("who are both *authorized*") is a verb, and
    one in -able or -ible before "for" or "to" a predicate ("what are data teams *responsible*
    for"): the phrase ends before it."""
    raws = text.split()
    words: list[str] = []
    for i, raw in enumerate(raws):
        word = raw.strip('?,.;:!"“”()')
        key = re.sub(r"['’]s$", "", word.lower())
        if not word or key in word_list("focus_stop"):
            break
        after = raws[i + 1].lower().strip("?,.;:!") if i + 1 < len(raws) else ""
        if words and (
            after in word_list("object_start")
            or (_PARTICIPLE.search(key) and (not after or after in word_list("focus_stop")))
            or (_PREDICATE.search(key) and after in ("for", "to"))
        ):
            break
        if key in word_list("focus_qualifiers") and not words:
            continue
        words.append(re.sub(r"['’]s$", "", word))
        if raw[-1:] in "?,.;:!" or len(words) >= _MAX_WORDS:
            break
    return words


class Mentions:
    """Whether words occur together in a passage: the lexical index's postings find the passages
    holding every word, and the passage's own words say whether they stand close together. A word
    also matches its inflections (tier: tiers, tiering)."""

    def __init__(self, lexical: BM25, texts: Sequence[str]) -> None:
        self.lexical = lexical
        self.texts = texts
        self._forms: dict[str, frozenset[str]] = {}

    def forms(self, term: str) -> frozenset[str]:
        """``term`` and the inflections of it the documents contain."""
        known = self._forms.get(term)
        if known is None:
            known = frozenset(
                f for f in (term, *(term + s for s in _SUFFIXES)) if self.lexical.df(f) > 0
            )
            self._forms[term] = known
        return known

    def rows_with(self, terms: Iterable[str]) -> frozenset[int]:
        rows: frozenset[int] | None = None
        for term in terms:
            have = frozenset().union(*(self.lexical.rows(f) for f in self.forms(term)))
            rows = have if rows is None else rows & have
            if not rows:
                return frozenset()
        return rows or frozenset()

    def mentioned(self, terms: Sequence[str], allowed: AbstractSet[int]) -> bool:
        """Whether a passage among ``allowed`` rows has every one of ``terms`` within a few words
        of each other (a hyphenated word also matches written as one: cut-off, cutoff)."""
        for variant in _variants(terms):
            rows = self.rows_with(variant) & allowed
            if not rows:
                continue
            if len(set(variant)) == 1:
                return True
            forms = {f: t for t in variant for f in self.forms(t)}
            span = len(variant) + _WINDOW_SLACK
            if any(_together(tokenize(self.texts[r]), forms, span) for r in rows):
                return True
        return False


_SUFFIXES = ("s", "es", "ed", "d", "ing", "er", "ers", "ion", "ions", "al", "ly")


def _variants(terms: Sequence[str]) -> list[tuple[str, ...]]:
    """The terms as given, and with each pair of neighbours joined ("cut" "off" -> "cutoff")."""
    out = [tuple(terms)]
    for i in range(len(terms) - 1):
        out.append((*terms[:i], terms[i] + terms[i + 1], *terms[i + 2 :]))
    return out


def _together(tokens: list[str], forms: dict[str, str], span: int) -> bool:
    """Whether each term (``forms``: a word form -> its term) occurs within ``span`` tokens."""
    wanted = len(set(forms.values()))
    last: dict[str, int] = {}
    for i, tok in enumerate(tokens):
        term = forms.get(tok)
        if term is not None:
            last[term] = i
            if len(last) == wanted and i - min(last.values()) < span:
                return True
    return False


def gaps(
    question: str,
    mentions: Mentions,
    allowed: AbstractSet[int],
    generic: AbstractSet[str] = frozenset(),
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(uncovered, unfamiliar): the focus phrases of ``question`` that no passage among
    ``allowed`` rows mentions, and those of them with a word no such passage has at all."""
    missing: list[str] = []
    unfamiliar: list[str] = []
    for focus in focus_of(question, generic):
        if mentions.mentioned(focus.terms, allowed):
            continue
        missing.append(focus.phrase)
        if any(not mentions.rows_with([t]) & allowed for t in focus.terms):
            unfamiliar.append(focus.phrase)
    return tuple(missing), tuple(unfamiliar)


def uncovered(
    question: str,
    mentions: Mentions,
    allowed: AbstractSet[int],
    generic: AbstractSet[str] = frozenset(),
) -> tuple[str, ...]:
    """The focus phrases of ``question`` that no passage among ``allowed`` rows mentions."""
    return gaps(question, mentions, allowed, generic)[0]


def listed(phrases: Sequence[str]) -> str:
    """Phrases as the answer names them: “a”, “b” or “c” (at most three)."""
    quoted = [f"\u201c{p}\u201d" for p in phrases[:3]]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]

"""Policies a question names by their title rather than their id: "does our *encryption* policy
cover USB drives?", "what is the *uses and disclosures* policy meant to cover?", "our policy on
*records retention*".

The words written right before "policy" (or after "policy on / for / about"), after "our",
"the", "this", "your" or "my" ("a sanctions policy" may be one the rule requires of anyone), are
compared with the words of each policy's title, leaving out words any question has ("HIPAA",
"AI": the ``generic`` word list). A policy is named when those words share more with its title
than with any other's, and at least one of them is in no other policy's title ("minimum
necessary" names the minimum-necessary policy; "security", in two titles, names none). The
titles come from the organisation's own documents, so nothing here is a list of topics.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping

from core.lexical import tokenize
from core.words import word_list

_TOKEN = re.compile(r"[\w'’-]+|[^\w\s]")
_WORD = re.compile(r"[\w-]+$")
_POLICY = ("policy", "policies")
_AFTER = ("on", "for", "about", "covering")
# "our encryption policy" is one of the organisation's; "a sanctions policy" may be what the rule
# asks every covered entity to have
_DEFINITE = ("our", "the", "this", "your", "my")
_JOIN = ("and", "of", "&")
_MAX_WORDS = 4


def title_words(titles: Mapping[str, str]) -> dict[str, frozenset[str]]:
    """Document id -> the words of its title, as the lexical index writes them."""
    return {doc_id: frozenset(tokenize(title)) for doc_id, title in titles.items()}


def _phrases(question: str) -> Iterator[str]:
    """The words right before each "policy" and right after "policy on/for/about", up to the
    nearest function word."""
    stop = word_list("stopwords")
    words = _TOKEN.findall(question)

    def run(indices: range) -> tuple[list[str], str]:
        """The words along ``indices`` up to a function word, and that word."""
        got: list[str] = []
        for j in indices:
            word = words[j].lower()
            if got and word in _JOIN:  # "uses and disclosures", "retention of records"
                continue
            if len(got) >= _MAX_WORDS or not _WORD.match(word) or word in stop:
                return got, word
            got.append(words[j])
        return got, ""

    for i, word in enumerate(words):
        if word.lower() not in _POLICY:
            continue
        before, det = run(range(i - 1, -1, -1))
        if before and det in _DEFINITE:
            yield " ".join(reversed(before))
        elif (
            not before
            and det in _DEFINITE
            and i + 2 < len(words)
            and words[i + 1].lower() in _AFTER
        ):
            after, _ = run(range(i + 2, len(words)))
            if after:
                yield " ".join(after)


def titled_documents(question: str, titles: Mapping[str, frozenset[str]]) -> list[str]:
    """The ids of the policies ``question`` names by title (``titles``: from ``title_words``)."""
    found: list[str] = []
    generic = word_list("generic")
    for phrase in _phrases(question):
        words = set(tokenize(phrase)) - generic
        shared = {doc_id: words & title for doc_id, title in titles.items()}
        most = max((len(s) for s in shared.values()), default=0)
        best = [doc_id for doc_id, s in shared.items() if len(s) == most]
        if not most or len(best) != 1 or best[0] in found:
            continue
        in_titles = Counter(w for title in titles.values() for w in title & words)
        if any(in_titles[w] == 1 for w in shared[best[0]]):  # a word no other title has
            found.append(best[0])
    return found

"""BM25 over the same chunks as the vector collection (built in memory from the generation)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet

import numpy as np

_TOKEN = re.compile(r"[a-z0-9]+(?:\.[0-9]+)*")
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "this",
        "to",
        "was",
        "were",
        "will",
        "with",
        "may",
        "must",
        "shall",
        "any",
        "such",
        "not",
        "under",
        "which",
        "who",
        "whom",
        "what",
        "when",
        "where",
        "if",
        "than",
        "then",
        "their",
        "there",
        "these",
        "those",
        "be",
        "been",
        "being",
        "can",
        "do",
        "does",
        "our",
        "we",
        "you",
        "your",
        "i",
        "my",
        "me",
    ]
)


def _stem(tok: str) -> str:
    if len(tok) > 4 and not tok[0].isdigit():
        for suffix in ("ies", "es", "s"):
            if tok.endswith(suffix) and not tok.endswith("ss"):
                return tok[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return tok


def tokenize(text: str) -> list[str]:
    return [_stem(t) for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS]


class BM25:
    """Okapi BM25 with an inverted index; scores only documents sharing a query term."""

    def __init__(self, ids: Sequence[str], texts: Iterable[str], k1: float = 1.2, b: float = 0.75):
        self.ids = list(ids)
        self.k1, self.b = k1, b
        self._postings: dict[str, list[tuple[int, int]]] = {}
        lengths = []
        for row, text in enumerate(texts):
            counts = Counter(tokenize(text))
            lengths.append(sum(counts.values()))
            for term, tf in counts.items():
                self._postings.setdefault(term, []).append((row, tf))
        self._len = np.asarray(lengths, dtype=np.float32)
        self._avg = float(self._len.mean()) if len(lengths) else 0.0
        n = len(self.ids)
        self._idf = {
            t: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in self._postings.items()
        }

    def df(self, term: str, allowed: AbstractSet[int] | None = None) -> int:
        """In how many chunks ``term`` (already tokenized) occurs; ``allowed``: only these rows."""
        postings = self._postings.get(term, ())
        if allowed is None:
            return len(postings)
        return sum(1 for row, _ in postings if row in allowed)

    def idf(self, term: str) -> float:
        return self._idf.get(term, 0.0)

    @property
    def idf_table(self) -> dict[str, float]:
        return self._idf

    def scores(self, query: str) -> dict[int, float]:
        out: dict[int, float] = {}
        norm = self.k1 * (1 - self.b + self.b * self._len / (self._avg or 1.0))
        for term in set(tokenize(query)):
            postings = self._postings.get(term)
            if not postings:
                continue
            idf = self._idf[term]
            for row, tf in postings:
                out[row] = out.get(row, 0.0) + idf * tf * (self.k1 + 1) / float(tf + norm[row])
        return out

    def search(
        self, query: str, k: int, allowed: AbstractSet[int] | None = None
    ) -> list[tuple[str, float]]:
        scored = self.scores(query)
        if allowed is not None:
            scored = {r: s for r, s in scored.items() if r in allowed}
        top = sorted(scored.items(), key=lambda kv: -kv[1])[:k]
        return [(self.ids[r], s) for r, s in top]

"""Words and their weight: ``tokenize`` (the one tokenizer every word-based signal uses) and
BM25. The index keeps one over its passages (built in memory from the generation); retrieval and
the answers use the same scoring on their own texts, without reaching into the index."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet

import numpy as np

from core.words import word_list

_TOKEN = re.compile(r"[a-z0-9]+(?:\.[0-9]+)*")


def _stem(tok: str) -> str:
    if len(tok) > 4 and not tok[0].isdigit():
        for suffix in ("ies", "es", "s"):
            if tok.endswith(suffix) and not tok.endswith("ss"):
                return tok[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return tok


def tokenize(text: str) -> list[str]:
    stop = word_list("stopwords")
    return [_stem(t) for t in _TOKEN.findall(text.lower()) if t not in stop]


Allowed = AbstractSet[int] | np.ndarray  # row numbers, or a boolean mask over the rows


def _mask(allowed: Allowed, n: int) -> np.ndarray:
    if isinstance(allowed, np.ndarray):
        return allowed
    mask = np.zeros(n, dtype=bool)
    if allowed:
        mask[np.fromiter(allowed, dtype=np.int64, count=len(allowed))] = True
    return mask


class BM25:
    """Okapi BM25 with an inverted index of numpy postings; scores only documents sharing a
    query term, vectorised so its cost grows gently with the corpus."""

    def __init__(self, ids: Sequence[str], texts: Iterable[str], k1: float = 1.2, b: float = 0.75):
        self.ids = list(ids)
        self.k1, self.b = k1, b
        rows: dict[str, list[int]] = {}
        tfs: dict[str, list[int]] = {}
        lengths = []
        for row, text in enumerate(texts):
            counts = Counter(tokenize(text))
            lengths.append(sum(counts.values()))
            for term, tf in counts.items():
                rows.setdefault(term, []).append(row)
                tfs.setdefault(term, []).append(tf)
        self._rows = {t: np.asarray(r, dtype=np.int32) for t, r in rows.items()}
        self._tf = {t: np.asarray(tfs[t], dtype=np.float64) for t in rows}
        self._len = np.asarray(lengths, dtype=np.float64)
        self._avg = float(self._len.mean()) if len(lengths) else 0.0
        n = len(self.ids)
        self._norm = self.k1 * (1 - self.b + self.b * self._len / (self._avg or 1.0))
        self._idf = {
            t: math.log(1 + (n - len(r) + 0.5) / (len(r) + 0.5)) for t, r in self._rows.items()
        }

    def df(self, term: str, allowed: Allowed | None = None) -> int:
        """In how many chunks ``term`` (already tokenized) occurs; ``allowed``: only these rows."""
        rows = self._rows.get(term)
        if rows is None:
            return 0
        if allowed is None:
            return len(rows)
        return int(_mask(allowed, len(self.ids))[rows].sum())

    def rows(self, term: str) -> frozenset[int]:
        """The rows of the chunks ``term`` (already tokenized) occurs in."""
        rows = self._rows.get(term)
        return frozenset(rows.tolist()) if rows is not None else frozenset()

    def idf(self, term: str) -> float:
        return self._idf.get(term, 0.0)

    @property
    def idf_table(self) -> dict[str, float]:
        return self._idf

    def score_array(self, query: str) -> np.ndarray:
        """The BM25 score of every row (0 where no query term occurs)."""
        out = np.zeros(len(self.ids), dtype=np.float64)
        for term in sorted(set(tokenize(query))):  # a fixed order: the same sums every run
            rows = self._rows.get(term)
            if rows is None:
                continue
            tf = self._tf[term]
            out[rows] += self._idf[term] * tf * (self.k1 + 1) / (tf + self._norm[rows])
        return out

    def scores(self, query: str) -> dict[int, float]:
        """Rows sharing a query term -> score."""
        arr = self.score_array(query)
        hit = np.flatnonzero(arr)
        return dict(zip(hit.tolist(), arr[hit].tolist(), strict=True))

    def search(self, query: str, k: int, allowed: Allowed | None = None) -> list[tuple[str, float]]:
        arr = self.score_array(query)
        if allowed is not None:
            arr = np.where(_mask(allowed, len(self.ids)), arr, 0.0)
        hit = np.flatnonzero(arr > 0)
        if len(hit) > k:
            # everything scoring at least the k-th best (ties at the edge included), then sorted
            kth = -np.partition(-arr[hit], k - 1)[k - 1]
            hit = hit[arr[hit] >= kth]
        # best first; equal scores in row order
        top = hit[np.lexsort((hit, -arr[hit]))][:k]
        return [(self.ids[r], float(arr[r])) for r in top]

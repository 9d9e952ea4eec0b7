"""The plain-language question index: questions in staff words, each linked to the passage that
answers it by locator. The bundled files (``topics/*.yaml``) cover the HIPAA rules' paragraphs,
written from the regulation alone; an organisation keeps files for its own documents in a
``questions/`` folder beside them (``retrieval.corpus_questions``), read the same way. A staff
question is compared with these questions, not with the regulation's own wording, which it
rarely shares; the best-matching questions vote for their passages. Both by meaning (embeddings)
and by words (BM25 over the questions): staff words a question shares with an entry's questions
("contractor", "engagement", "access") tell as much as the small embedding model does."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import yaml

from core.embeddings import Embedder
from core.errors import ConfigError
from core.index.embed_cache import EmbeddingCache
from core.lexical import BM25

log = logging.getLogger(__name__)

DEFAULT_TOPICS_DIR = Path(__file__).with_name("topics")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser when built with libyaml


@dataclass(frozen=True)
class Topic:
    locator: str
    asks: tuple[str, ...]


class TopicMatch(NamedTuple):
    locator: str
    score: float  # what the ranking is by: similarity plus the share of the lexical weight
    similarity: float  # cosine similarity of the entry's closest question


def load_topics(folder: Path) -> list[Topic]:
    """Every ``*.yaml`` in ``folder`` (sorted), validated: a list of {locator, asks}."""
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    return [t for path in files for t in load_topic_file(path)]


def load_topic_file(path: Path) -> list[Topic]:
    """One question file's entries, validated (none when the file does not exist)."""
    if not path.exists():
        return []
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the question index file {path.name}: {exc}") from exc
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ConfigError(f"{path.name}: expected a list of {{locator, asks}} entries")
    topics: list[Topic] = []
    for i, entry in enumerate(raw, 1):
        if not isinstance(entry, dict) or set(entry) != {"locator", "asks"}:
            raise ConfigError(f"{path.name}: entry {i} must have exactly 'locator' and 'asks'")
        locator = str(entry["locator"] or "").strip()
        if not locator or "\n" in locator:
            raise ConfigError(f"{path.name}: entry {i}: the locator must be one line of text")
        asks = entry["asks"]
        ok = isinstance(asks, list) and all(isinstance(a, str) and a.strip() for a in asks)
        if not ok:
            raise ConfigError(f"{path.name}: entry {i} ({locator}): 'asks' must list questions")
        topics.append(Topic(locator, tuple(a.strip() for a in asks)))
    return topics


def _key(text: str) -> str:
    return "ask:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def embed_asks(asks: Iterable[str], embedder: Embedder, cache: EmbeddingCache | None) -> np.ndarray:
    """Vectors of ``asks`` in order; through the embedding cache when one is given."""
    texts = list(asks)
    if not texts:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    keys = [_key(t) for t in texts]
    have = cache.get_many(embedder.model_id, keys) if cache is not None else {}
    missing = list(dict.fromkeys(t for t, k in zip(texts, keys, strict=True) if k not in have))
    if missing:
        log.info("embedding %d questions of the question index", len(missing))
        fresh = dict(zip((_key(t) for t in missing), embedder.embed(missing), strict=True))
        if cache is not None:
            cache.put_many(embedder.model_id, fresh)
        have.update(fresh)
    return np.stack([have[k] for k in keys]).astype(np.float32)


class TopicIndex:
    """Locators ranked by how close their questions come to a question's embedding."""

    def __init__(self, topics: list[Topic], vectors: np.ndarray) -> None:
        self.topics = topics
        # entries sharing a locator (the definitions of one section) rank as one
        self.locators = list(dict.fromkeys(t.locator for t in topics))
        slot = {loc: i for i, loc in enumerate(self.locators)}
        self._owner = np.asarray([slot[t.locator] for t in topics for _ in t.asks], dtype=np.int64)
        self._pairs = {(t.locator, ask) for t in topics for ask in t.asks}  # for ``holds``
        if vectors.shape[0] != len(self._owner):
            raise ValueError("one vector per question is needed")
        self._vectors = vectors
        asks = [a for t in topics for a in t.asks]
        self._lexical = BM25([str(i) for i in range(len(asks))], asks)

    @classmethod
    def build(
        cls,
        folders: Path | Sequence[Path],
        embedder: Embedder,
        cache: EmbeddingCache | None = None,
        extra: Sequence[Topic] = (),
    ) -> TopicIndex:
        """From the ``*.yaml`` files of each folder in turn (a missing folder adds nothing), then
        ``extra`` (the questions confirmed where the index is shared)."""
        paths = [folders] if isinstance(folders, Path) else list(folders)
        topics = [t for folder in paths for t in load_topics(folder)] + list(extra)
        return cls(topics, embed_asks((a for t in topics for a in t.asks), embedder, cache))

    def __len__(self) -> int:
        return len(self.locators)

    def holds(self, locator: str, question: str) -> bool:
        """Whether an entry for ``locator`` has ``question`` already."""
        return (locator, question) in self._pairs

    def with_question(self, locator: str, question: str, vector: np.ndarray) -> TopicIndex:
        """A new index holding one more question (the running one is left as it is)."""
        vectors = np.vstack([self._vectors, np.asarray(vector, dtype=np.float32)[None, :]])
        return TopicIndex([*self.topics, Topic(locator, (question,))], vectors)

    def training_pairs(self, row_of: Callable[[str], int | None]) -> tuple[np.ndarray, np.ndarray]:
        """(question vectors, passage rows): each question with the row ``row_of`` gives its
        entry's locator; entries whose passage is not in the index are left out."""
        keep, rows = self._answered(row_of)
        return self._vectors[keep], rows

    def training_questions(
        self, row_of: Callable[[str], int | None]
    ) -> tuple[list[str], np.ndarray]:
        """(questions, passage rows), as ``training_pairs`` gives them, with the questions' text."""
        keep, rows = self._answered(row_of)
        asks = [a for t in self.topics for a in t.asks]
        return [asks[i] for i in keep], rows

    def _answered(self, row_of: Callable[[str], int | None]) -> tuple[list[int], np.ndarray]:
        """(positions among all questions, passage rows) of the questions whose entry's locator
        ``row_of`` finds in the index."""
        keep: list[int] = []
        rows: list[int] = []
        i = 0
        for topic in self.topics:
            row = row_of(topic.locator)
            for _ in topic.asks:
                if row is not None:
                    keep.append(i)
                    rows.append(row)
                i += 1
        return keep, np.asarray(rows, dtype=np.int64)

    def rank(
        self,
        vector: np.ndarray,
        k: int,
        min_similarity: float,
        question: str = "",
        lexical_weight: float = 0.0,
    ) -> list[TopicMatch]:
        """The ``k`` entries whose best question is closest to ``vector`` (cosine, unit vectors),
        best first, leaving out those scoring below ``min_similarity``. With ``question`` and a
        ``lexical_weight``, an entry's score adds that weight times its best question's BM25
        score over the best of all (the entry sharing most words with ``question`` gets it all).
        """
        if not len(self._owner) or k <= 0:
            return []
        sims = self._vectors @ np.asarray(vector, dtype=np.float32)
        best = np.full(len(self.locators), -1.0, dtype=np.float32)
        np.maximum.at(best, self._owner, sims)
        score = best
        if question and lexical_weight:
            shared = self._lexical.score_array(question).astype(np.float32)
            words = np.zeros(len(self.locators), dtype=np.float32)
            np.maximum.at(words, self._owner, shared)
            top = float(words.max())
            if top > 0:
                score = best + np.float32(lexical_weight / top) * words
        order = np.argsort(-score, kind="stable")[:k]
        return [
            TopicMatch(self.locators[i], float(score[i]), float(best[i]))
            for i in order
            if score[i] >= min_similarity
        ]

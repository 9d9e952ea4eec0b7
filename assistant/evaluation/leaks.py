"""Leak guard: an eval question that is a near copy of a question-index entry measures recall on
a question the system was handed the answer to. Near copies are found by words (rapidfuzz's
token-set ratio, order and repeats ignored) and, given an embedder, by meaning (cosine)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.evaluation.dataset import Item
from assistant.evaluation.profiles import Profile
from assistant.retrieval.topics import load_topics
from core.embeddings import Embedder
from core.settings import Settings

WORD_RATIO = 85.0  # rapidfuzz token_set_ratio, 0-100
MEANING_COSINE = 0.9


@dataclass(frozen=True)
class Leak:
    item_id: str
    question: str
    entry: str  # the question-index question
    locator: str
    by: str  # "words" | "meaning"
    score: float


def index_questions(folders: Sequence[Path]) -> list[tuple[str, str]]:
    """(question, locator) of every entry of the question-index folders."""
    return [(ask, t.locator) for f in folders for t in load_topics(f) for ask in t.asks]


def find_leaks(
    items: Sequence[Item],
    entries: Sequence[tuple[str, str]],
    embedder: Embedder | None = None,
    word_ratio: float = WORD_RATIO,
    cosine: float = MEANING_COSINE,
) -> list[Leak]:
    from rapidfuzz import fuzz, process, utils

    leaks: list[Leak] = []
    asks = [e[0] for e in entries]
    for item in items:
        best = process.extractOne(
            item.question, asks, scorer=fuzz.token_set_ratio, processor=utils.default_process
        )
        if best is not None and best[1] >= word_ratio:
            ask, score, i = best
            leaks.append(Leak(item.id, item.question, ask, entries[i][1], "words", float(score)))
    if embedder is not None and items and asks:
        q = np.asarray(embedder.embed([i.question for i in items]), dtype=np.float32)
        e = np.asarray(embedder.embed(asks), dtype=np.float32)
        sims = q @ e.T
        worded = {leak.item_id for leak in leaks}
        for row, item in enumerate(items):
            col = int(np.argmax(sims[row]))
            if sims[row, col] >= cosine and item.id not in worded:
                leaks.append(
                    Leak(
                        item.id,
                        item.question,
                        asks[col],
                        entries[col][1],
                        "meaning",
                        float(sims[row, col]),
                    )
                )
    return leaks


def profile_leaks(
    settings: Settings, profile: Profile, embedder: Embedder | None = None
) -> list[Leak]:
    """Near copies between a profile's golden questions and the question index it reads."""
    from assistant.evaluation.dataset import load_dataset
    from assistant.evaluation.profiles import profile_settings
    from assistant.runtime.build import topic_folders

    folders = topic_folders(profile_settings(settings, profile))
    return find_leaks(load_dataset(profile.dataset), index_questions(folders), embedder)

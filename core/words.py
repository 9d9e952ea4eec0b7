"""Word lists the code reads as data (``core/words.yaml``): which words BM25 skips, which
carry no topic, which end the phrase a question asks about. Read once, on first use."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

WORDS_FILE = Path(__file__).with_name("words.yaml")


@cache
def _lists() -> dict[str, frozenset[str]]:
    data = yaml.safe_load(WORDS_FILE.read_text(encoding="utf-8"))
    return {str(name): frozenset(str(words).split()) for name, words in data.items()}


def word_list(name: str) -> frozenset[str]:
    """The list ``name`` of ``core/words.yaml``, as a set."""
    try:
        return _lists()[name]
    except KeyError:
        raise KeyError(f"no word list {name!r} in {WORDS_FILE.name}") from None

"""The vocabulary bridge's matching: whole words and phrases, in the file's order."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.retrieval.vocabulary import Vocabulary
from core.errors import ConfigError


def _vocabulary(tmp_path: Path, text: str) -> Vocabulary:
    path = tmp_path / "vocabulary.yaml"
    path.write_text(text, encoding="utf-8")
    return Vocabulary.load(path)


def test_a_listed_word_or_phrase_matches_as_a_whole(tmp_path: Path) -> None:
    vocabulary = _vocabulary(
        tmp_path,
        "- when: [breach, zip code]\n  add: [breach notification]\n"
        "- when: [train]\n  add: [model training]\n",
    )
    assert vocabulary.expand("Is a stolen laptop a breach?") == ["breach notification"]
    assert vocabulary.expand("Are ZIP code digits identifiers?") == ["breach notification"]
    assert vocabulary.known_words("Are zip code digits identifiers?") == {"zip", "code"}
    assert vocabulary.expand("Can the vendor train on our data?") == ["model training"]
    # not inside another word, nor another form of it ("training" is as often a course)
    assert vocabulary.expand("Is HIPAA training required every year?") == []
    assert vocabulary.expand("Is a zip a code?") == []
    assert vocabulary.expand("Both in one question: train after a breach") == [
        "breach notification",
        "model training",
    ]


def test_a_bad_entry_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="exactly 'when' and 'add'"):
        _vocabulary(tmp_path, "- when: [a]\n")

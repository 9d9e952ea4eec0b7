"""The leak guard: no golden eval question may be a near copy of a question the index it is run
against already holds (by words here; by meaning with the real embedder in the slow test)."""

from __future__ import annotations

import pytest

from assistant.evaluation.dataset import Item
from assistant.evaluation.leaks import find_leaks, profile_leaks
from assistant.evaluation.profiles import load_profiles
from core.settings import EmbeddingSettings, Settings
from tests import fakes


def _item(question: str) -> Item:
    return Item("q-1", "policy", question, "", ("X §1",), ("staff",))


def test_near_copies_are_found_by_words_and_by_meaning() -> None:
    entries = [("Can I use a hashed MRN as the linking key in a de-identified dataset?", "P §4.5")]
    copy = _item("Can I use a hashed MRN as the linking key in a de-identified extract?")
    other = _item("Who approves a limited data set for a researcher?")
    leaks = find_leaks([copy, other], entries)
    assert [(leak.item_id, leak.by, leak.locator) for leak in leaks] == [("q-1", "words", "P §4.5")]
    # by meaning: the fake embedder's vectors of identical bags of words are identical
    same_words = _item("dataset de-identified hashed MRN linking key: can I use it as the?")
    fake = fakes.HashingEmbedder(EmbeddingSettings(provider=fakes.FAKE_PROVIDER, model="v1"))
    by_meaning = find_leaks([same_words], entries, fake, word_ratio=101)
    assert [leak.by for leak in by_meaning] == ["meaning"]


@pytest.mark.parametrize("name", [n for n, p in load_profiles().items()])
def test_no_eval_question_is_a_near_copy_of_its_question_index(name: str) -> None:
    leaks = profile_leaks(Settings(), load_profiles()[name])
    assert not leaks, "\n".join(
        f"{x.item_id}: {x.question!r} ~ {x.entry!r} ({x.score:.0f})" for x in leaks
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n, p in load_profiles().items()])
def test_no_eval_question_is_a_near_copy_by_meaning(name: str) -> None:
    from core.embeddings import build_embedder

    settings = Settings()
    leaks = profile_leaks(settings, load_profiles()[name], build_embedder(settings.embedding))
    assert not leaks, "\n".join(
        f"{x.item_id}: {x.question!r} ~ {x.entry!r} ({x.score:.2f})" for x in leaks
    )

"""The plain-language question index: validated data, ranking by the closest question, and the
retriever lifting the paragraph it points to."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.retrieval.retriever import HybridRetriever
from assistant.retrieval.topics import DEFAULT_TOPICS_DIR, Topic, TopicIndex, load_topics
from assistant.retrieval.vocabulary import Vocabulary
from core.errors import ConfigError
from core.index.embed_cache import EmbeddingCache
from core.index.reader import Scope
from core.settings import EmbeddingSettings, RetrievalSettings
from tests import fakes
from tests.conftest import index_org_corpus


def _write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "t.yaml").write_text(text, encoding="utf-8")
    return folder


def test_the_bundled_index_loads_and_every_entry_is_a_rule_paragraph() -> None:
    topics = load_topics(DEFAULT_TOPICS_DIR)
    assert len(topics) > 1000
    assert sum(len(t.asks) for t in topics) > 3000
    for t in topics:
        assert t.locator.startswith("45 CFR 16"), t.locator
        assert all(6 <= len(a.split()) <= 30 for a in t.asks), t.locator


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- locator:\n  asks: [Is this anything]\n", "one line of text"),
        ("- locator: 45 CFR 164.312(b)\n", "exactly 'locator' and 'asks'"),
        ("- locator: 45 CFR 164.312(b)\n  asks: []\n  extra: 1\n", "exactly 'locator' and 'asks'"),
        ("- locator: 45 CFR 164.312(b)\n  asks: [' ']\n", "must list questions"),
        ("- locator: 45 CFR 164.312(b)\n  asks: nope\n", "must list questions"),
        ("locator: 45 CFR 164.312(b)\n", "expected a list"),
        ("- [unclosed\n", "cannot read"),
    ],
)
def test_bad_entries_are_refused_with_the_file_named(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        load_topics(_write(tmp_path / "topics", text))
    assert "t.yaml" in str(err.value)


def test_a_missing_folder_is_an_empty_index(tmp_path: Path) -> None:
    assert load_topics(tmp_path / "none") == []


def _unit(*xs: float) -> np.ndarray:
    v = np.asarray(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_ranking_takes_each_paragraph_by_its_closest_question_and_merges_repeats() -> None:
    topics = [
        Topic("45 CFR 160.103", ("a", "b")),
        Topic("45 CFR 164.312(b)", ("c",)),
        Topic("45 CFR 160.103", ("d",)),  # a second definition of the same section
    ]
    vectors = np.stack([_unit(1, 0, 0), _unit(0, 1, 0), _unit(0.6, 0.8, 0), _unit(0, 0, 1)])
    index = TopicIndex(topics, vectors)
    assert len(index) == 2
    ranked = index.rank(_unit(0, 0.1, 1), k=5, min_similarity=-1)
    assert [m.locator for m in ranked] == ["45 CFR 160.103", "45 CFR 164.312(b)"]
    assert ranked[0].similarity == pytest.approx(float(_unit(0, 0.1, 1) @ _unit(0, 0, 1)))
    assert ranked[0].score == ranked[0].similarity  # by meaning alone
    assert index.rank(_unit(0, 0.1, 1), k=1, min_similarity=-1) == ranked[:1]
    # below the floor: nothing
    assert index.rank(_unit(0, -1, -1), k=5, min_similarity=0.3) == []
    with pytest.raises(ValueError):
        TopicIndex(topics, vectors[:2])


def test_words_shared_with_an_entrys_questions_lift_it_by_the_lexical_weight() -> None:
    topics = [
        Topic("45 CFR 164.312(b)", ("Do we have to keep audit logs of prompts?",)),
        Topic("45 CFR 164.308(a)(3)(ii)(C)", ("When a contractor's engagement ends, must we "
                                             "remove their access?",)),
    ]  # fmt: skip
    index = TopicIndex(topics, np.stack([_unit(1, 0), _unit(0, 1)]))
    question = "The contractor's engagement ended: do we pull their access?"
    closer_in_meaning = _unit(1, 0.8)  # a small model that misreads the question
    by_meaning = index.rank(closer_in_meaning, 2, -1.0)
    assert [m.locator for m in by_meaning] == ["45 CFR 164.312(b)", "45 CFR 164.308(a)(3)(ii)(C)"]
    both = index.rank(closer_in_meaning, 2, -1.0, question, lexical_weight=0.3)
    assert [m.locator for m in both] == ["45 CFR 164.308(a)(3)(ii)(C)", "45 CFR 164.312(b)"]
    first, second = both
    assert first.score == pytest.approx(first.similarity + 0.3)  # it shares the most words
    assert second.score == pytest.approx(second.similarity)  # it shares none
    assert first.similarity == pytest.approx(by_meaning[1].similarity)  # meaning unchanged
    # a question sharing no word with any entry ranks by meaning alone
    assert index.rank(closer_in_meaning, 2, -1.0, "xyzzy", 0.3) == by_meaning


def test_questions_are_embedded_once_then_read_from_the_cache(tmp_path: Path) -> None:
    folder = _write(
        tmp_path / "topics",
        "- locator: 45 CFR 164.312(b)\n  asks:\n    - Do we have to keep audit logs of access?\n",
    )
    emb = fakes.HashingEmbedder(EmbeddingSettings(provider=fakes.FAKE_PROVIDER))
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    try:
        first = TopicIndex.build(folder, emb, cache)
        assert emb.texts_embedded == 1
        second = TopicIndex.build(folder, emb, cache)
        assert emb.texts_embedded == 1  # from the cache
    finally:
        cache.close()
    v = emb.embed_query("Do we have to keep audit logs of access?")
    assert first.rank(v, 1, 0.0) == second.rank(v, 1, 0.0)


def test_the_passage_a_staff_question_matches_is_retrieved(tmp_path: Path) -> None:
    """An entry links words the passage does not share to it; the retriever then finds it."""
    _, index = index_org_corpus(tmp_path / "data")
    locator = "AI-301 §5.4"
    target = index.find_locator(locator, Scope.unrestricted())
    assert target, f"the bundled corpus has no {locator}"
    ask = "Is a hospital allowed to keep a wiki of its favourite lunch places?"
    folder = _write(tmp_path / "topics", f"- locator: {locator}\n  asks:\n    - {ask}\n")
    settings = RetrievalSettings(min_rule_passages=0, min_org_passages=0)
    topics = TopicIndex.build(folder, index.embedder)
    with_topics = HybridRetriever(index, settings, Vocabulary.load(), topics=topics)
    without = HybridRetriever(index, settings, Vocabulary.load())
    wanted = target[0].chunk_id
    everything = Scope.unrestricted()
    got = [p.chunk.chunk_id for p in with_topics.retrieve(ask, everything, 5).passages]
    assert got[0] == wanted
    plain = [p.chunk.chunk_id for p in without.retrieve(ask, everything, 5).passages]
    assert wanted not in plain
    # off by setting: the same as without
    off = HybridRetriever(
        index,
        settings.model_copy(update={"weights": {**settings.weights, "question_index": 0.0}}),
        Vocabulary.load(),
        topics=topics,
    )
    assert [p.chunk.chunk_id for p in off.retrieve(ask, everything, 5).passages] == plain
    # the scope still rules: a filter to BAAs keeps the policy out
    baas = Scope(None, frozenset({"baa"}))
    assert all(p.document.doc_type == "baa" for p in with_topics.retrieve(ask, baas, 5).passages)


@pytest.mark.slow
def test_every_bundled_entry_points_at_an_indexed_rule_paragraph(real_index_dir: Path) -> None:
    from assistant.runtime.stores import open_index
    from core.settings import Settings

    settings = Settings()
    settings.use_data_dir(real_index_dir)
    index = open_index(settings)
    missing = [
        t.locator
        for t in load_topics(DEFAULT_TOPICS_DIR)
        if not any(
            index.document(c.doc_id).doc_type == "rule"
            for c in index.find_locator(t.locator, Scope.unrestricted())
        )
    ]
    assert missing == []


def test_the_organisations_question_files_are_read_from_beside_its_documents(
    tmp_path: Path,
) -> None:
    from assistant.runtime.build import build_topics, topic_folders
    from assistant.runtime.stores import open_store
    from ingest.pipeline import run_ingest
    from tests.conftest import make_settings

    corpus = tmp_path / "corpus"
    (corpus / "policies").mkdir(parents=True)
    (corpus / "policies" / "P-1.md").write_text(
        "---\nid: P-1\ntitle: Laptops\ntype: policy\n---\n\n## 1. Laptops\n\n"
        "Every laptop that holds patient data is encrypted before it leaves the building, "
        "and the service desk keeps the recovery key in the vault.\n",
        encoding="utf-8",
    )
    ask = "Who keeps the key if my work laptop locks me out?"
    _write(corpus / "questions", f"- locator: P-1 §1\n  asks:\n    - {ask}\n")
    settings = make_settings(tmp_path / "data", [corpus])
    emb = fakes.HashingEmbedder(EmbeddingSettings(provider=fakes.FAKE_PROVIDER))
    report = run_ingest(settings, emb, lambda: open_store(settings, emb), progress=False)
    assert report.ok and report.documents == 1  # the questions are not a document
    assert topic_folders(settings) == [DEFAULT_TOPICS_DIR, corpus / "questions"]
    topics = build_topics(settings, emb)
    assert topics is not None and "P-1 §1" in topics.locators
    assert topics.rank(emb.embed_query(ask), 1, 0.0)[0][0] == "P-1 §1"
    assert len(topics) == len(TopicIndex.build(DEFAULT_TOPICS_DIR, emb)) + 1
    settings.retrieval.corpus_questions = None
    assert topic_folders(settings) == [DEFAULT_TOPICS_DIR]


@pytest.mark.slow
def test_every_bundled_organisation_question_points_at_its_documents_section(
    real_index_dir: Path,
) -> None:
    from assistant.runtime.stores import open_index
    from core.settings import PROJECT_ROOT, Settings

    folder = PROJECT_ROOT / "corpus" / "questions"
    topics = load_topics(folder)
    assert len(topics) > 300 and sum(len(t.asks) for t in topics) > 900
    settings = Settings()
    settings.use_data_dir(real_index_dir)
    index = open_index(settings)
    for t in topics:
        assert all(6 <= len(a.split()) <= 30 for a in t.asks), t.locator
        hits = index.find_locator(t.locator, Scope.unrestricted())
        assert hits, t.locator
        assert all(index.document(c.doc_id).doc_type in ("policy", "baa") for c in hits)
        assert all(c.locator.split(" §")[0] == t.locator.split(" §")[0] for c in hits), t.locator


def test_each_question_index_ranking_keeps_its_own_lead() -> None:
    """The rules' best match and the organisation's best match both get (nearly) the full
    boost, so a policy section that restates a rule does not push the rule out, nor the rule
    the policy; a ranking that trails the other is scaled by its gap."""
    from assistant.retrieval.rankers import topic_gains

    s = RetrievalSettings(rrf_k=60, topic_spread=0.05, topic_kind_spread=0.1)
    full = 1.0 / 61  # a first place, in reciprocal-rank units (the fusion applies the weight)
    # best first: policy 0.80, rule 0.78, policy 0.70, rule 0.45 (below the floor of 0.5)
    gains = topic_gains([0.80, 0.78, 0.70, 0.45], [False, True, False, True], s)
    assert gains[0] == pytest.approx(full)
    assert gains[1] == pytest.approx(full * np.exp(-0.02 / 0.1))  # the rule's own lead
    assert gains[1] > full * np.exp(-0.02 / 0.05)  # more than a near-tie in one ranking gets
    assert gains[2] == pytest.approx(full * np.exp(-0.10 / 0.05))
    assert gains[3] == 0.0
    assert topic_gains([], [], s) == []

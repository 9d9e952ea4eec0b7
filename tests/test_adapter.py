"""The query adapter: a fit that carries questions towards their passages, generalises to pairs
it has not seen, is kept on disk, and adds a ranking without touching the plain similarities."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from assistant.retrieval import adapter as adapter_module
from assistant.retrieval.adapter import QueryAdapter, adapter_key, fit_matrix, load_or_fit
from assistant.retrieval.retriever import HybridRetriever, Retrieval
from assistant.retrieval.vocabulary import Vocabulary
from core.index.reader import Scope
from core.settings import RetrievalSettings
from tests.conftest import index_org_corpus


def _unit(a: np.ndarray) -> np.ndarray:
    return (a / np.linalg.norm(a, axis=-1, keepdims=True)).astype(np.float32)


def _distorted_pairs(
    n_passages: int = 300, per_passage: int = 3, dim: int = 16, seed: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Passages, and questions that are each a passage seen through one fixed distortion (the
    way staff wording sits apart from the rule's) plus noise."""
    rng = np.random.default_rng(seed)
    passages = _unit(rng.normal(size=(n_passages, dim)))
    distortion = np.eye(dim) + 1.5 * rng.normal(size=(dim, dim)) / np.sqrt(dim)
    targets = np.repeat(np.arange(n_passages), per_passage)
    noise = 0.15 * rng.normal(size=(len(targets), dim))
    questions = _unit(passages[targets] @ distortion.T + noise)
    return questions, targets, passages


def _recall_at(k: int, questions: np.ndarray, targets: np.ndarray, passages: np.ndarray) -> float:
    top = np.argsort(-(questions @ passages.T), axis=1)[:, :k]
    return float(np.mean([t in row for t, row in zip(targets, top, strict=True)]))


def test_the_fit_carries_questions_to_passages_it_never_saw() -> None:
    questions, targets, passages = _distorted_pairs()
    held = targets % 5 == 0  # a fifth of the passages: none of their questions is fitted on
    w = fit_matrix(questions[~held], targets[~held], passages, strength=0.1, epochs=150)
    mapped = _unit(questions[held] @ w.T)
    before = _recall_at(1, questions[held], targets[held], passages)
    after = _recall_at(1, mapped, targets[held], passages)
    assert before < 0.3 and after > 0.8, (before, after)
    # the same inputs give the same matrix
    again = fit_matrix(questions[~held], targets[~held], passages, strength=0.1, epochs=150)
    assert np.array_equal(w, again)


def test_a_strong_pull_to_the_identity_leaves_questions_nearly_as_they_are() -> None:
    questions, targets, passages = _distorted_pairs(n_passages=60)
    loose = fit_matrix(questions, targets, passages, strength=0.01, epochs=60)
    tight = fit_matrix(questions, targets, passages, strength=1000.0, epochs=60)
    eye = np.eye(passages.shape[1])
    assert np.abs(tight - eye).max() < 0.5 * np.abs(loose - eye).max()


def test_a_large_index_fits_against_the_targets_and_a_sample(monkeypatch) -> None:
    questions, targets, passages = _distorted_pairs(n_passages=120)
    many = np.concatenate([passages, _unit(np.random.default_rng(5).normal(size=(2000, 16)))])
    w = fit_matrix(questions, targets, many, strength=0.1, epochs=80, max_passages=400)
    assert _recall_at(1, _unit(questions @ w.T), targets, many) > _recall_at(
        1, questions, targets, many
    )


def test_the_adapter_maps_to_unit_vectors_and_refuses_a_non_square_matrix() -> None:
    a = QueryAdapter(np.diag([2.0, 1.0, 1.0]))
    out = a.apply(np.array([1.0, 1.0, 0.0]))
    assert out == pytest.approx(np.array([2.0, 1.0, 0.0]) / np.sqrt(5.0))
    with pytest.raises(ValueError):
        QueryAdapter(np.zeros((3, 4)))


def test_a_fit_is_saved_once_and_read_back_and_a_new_one_replaces_it(
    tmp_path: Path, monkeypatch
) -> None:
    questions, targets, passages = _distorted_pairs(n_passages=40)
    key = adapter_key(["generation-1", "strength=1.0"])
    first = load_or_fit(tmp_path, key, lambda: (questions, targets), lambda: passages, strength=1.0)
    assert first is not None
    assert [p.name for p in tmp_path.iterdir()] == [f"query-adapter-{key}.npy"]

    def no_fit(*args: object, **kwargs: object) -> np.ndarray:
        raise AssertionError("fitted again")

    monkeypatch.setattr(adapter_module, "fit_matrix", no_fit)
    # read back: neither fitted nor are the passage vectors read
    again = load_or_fit(tmp_path, key, no_fit, no_fit, strength=1.0)
    assert again is not None
    assert np.array_equal(first.matrix, again.matrix)
    # anything the fit depends on changes the key: a new index generation, or the settings
    assert adapter_key(["generation-2", "strength=1.0"]) != key
    other = adapter_key(["generation-1", "strength=2.0"])
    assert other != key
    monkeypatch.undo()
    load_or_fit(tmp_path, other, lambda: (questions, targets), lambda: passages, strength=2.0)
    assert [p.name for p in tmp_path.iterdir()] == [f"query-adapter-{other}.npy"]
    # a damaged file is fitted again, not trusted
    (tmp_path / f"query-adapter-{other}.npy").write_bytes(b"not an array")
    redone = load_or_fit(
        tmp_path, other, lambda: (questions, targets), lambda: passages, strength=2.0
    )
    assert redone is not None
    assert redone.matrix.shape == (16, 16)


def test_the_mapped_question_adds_a_ranking_and_the_similarities_stay_plain(
    tmp_path: Path,
) -> None:
    _, index = index_org_corpus(tmp_path / "data")
    target = index.find_locator("AI-301 §5.4", Scope.unrestricted())[0]
    question = "Is a hospital allowed to keep a wiki of its favourite lunch places?"
    q = index.embed_query(question)
    p = index.passage_vectors()[index.row_of_locator("AI-301 §5.4")]
    # a rotation in the plane of the two: the question maps exactly onto the passage
    u = q / np.linalg.norm(q)
    v = p - (p @ u) * u
    v /= np.linalg.norm(v)
    cos, sin = float(p @ u), float(p @ v)
    rot = np.eye(len(u)) + (cos - 1) * (np.outer(u, u) + np.outer(v, v))
    rot += sin * (np.outer(v, u) - np.outer(u, v))
    adapter = QueryAdapter(rot)
    assert adapter.apply(q) @ p == pytest.approx(1.0, abs=1e-4)

    settings = RetrievalSettings(min_rule_passages=0, min_org_passages=0)
    everything = Scope.unrestricted()
    plain = HybridRetriever(index, settings, Vocabulary.load()).retrieve(question, everything, 60)
    mapped = HybridRetriever(index, settings, Vocabulary.load(), adapter=adapter).retrieve(
        question, everything, 60
    )

    def score(r: Retrieval) -> float:
        return next((x.score for x in r.passages if x.chunk.chunk_id == target.chunk_id), 0.0)

    # first in the mapped ranking: the passage gains exactly that ranking's first place
    gain = settings.weights["adapted_dense"] / (settings.rrf_k + 1)
    assert score(mapped) == pytest.approx(score(plain) + gain, abs=1e-5)
    plain_ids = [x.chunk.chunk_id for x in plain.passages]
    was = plain_ids.index(target.chunk_id) if target.chunk_id in plain_ids else len(plain_ids)
    assert [x.chunk.chunk_id for x in mapped.passages].index(target.chunk_id) < was
    # the plain similarity (what abstention reads) is what the question itself scores
    assert mapped.top_dense == pytest.approx(plain.top_dense)
    hit = next(x for x in mapped.passages if x.chunk.chunk_id == target.chunk_id)
    assert hit.dense is None or hit.dense == pytest.approx(float(q @ p), abs=1e-5)
    off = HybridRetriever(
        index,
        settings.model_copy(update={"disabled": ["adapted_dense"]}),
        Vocabulary.load(),
        adapter=adapter,
    ).retrieve(question, Scope(None, frozenset({"policy", "baa"})), 60)
    assert score(off) == pytest.approx(score(plain), abs=1e-5)


@pytest.mark.slow
def test_on_the_real_index_the_fit_finds_held_out_passages_more_often(
    real_index_dir: Path,
) -> None:
    """The claim the adapter rests on, measured on the bundled question index: fitted without
    a fifth of the passages, it finds those passages for their own questions more often."""
    from assistant.runtime.build import build_topics
    from assistant.runtime.stores import open_index
    from core.settings import Settings

    settings = Settings()
    settings.use_data_dir(real_index_dir)
    index = open_index(settings)
    topics = build_topics(settings, index.embedder)
    assert topics is not None
    questions, targets = topics.training_pairs(index.row_of_locator)
    passages = index.passage_vectors()
    rows = sorted(set(targets.tolist()))
    random.Random(0).shuffle(rows)
    held = np.isin(targets, rows[: len(rows) // 5])
    w = fit_matrix(
        questions[~held], targets[~held], passages, strength=settings.retrieval.adapter_strength
    )
    before = _recall_at(5, questions[held], targets[held], passages)
    after = _recall_at(5, _unit(questions[held] @ w.T), targets[held], passages)
    assert after >= before + 0.1, (before, after)


def test_ingest_fits_the_adapter_and_the_chain_then_loads_it(
    tmp_path: Path, monkeypatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The organisation's question files (corpus/questions) give the pairs; ingest fits ahead
    of time, so building the chain (a server start) only reads the file."""
    from assistant import cli
    from assistant.runtime.build import build_chain
    from assistant.runtime.stores import open_index
    from tests.conftest import ROOT

    monkeypatch.setenv("HIPAA_ASSISTANT_EMBEDDING__PROVIDER", "fake-hash")
    monkeypatch.setenv("HIPAA_ASSISTANT_EMBEDDING__MODEL", "v1")
    monkeypatch.setenv("HIPAA_ASSISTANT_PATHS__CORPUS_DIRS", f'["{ROOT / "corpus"}"]')
    data = tmp_path / "data"
    assert cli.main(["--data-dir", str(data), "ingest", "--no-progress"]) == 0
    fitted = list((data / "adapters").glob("query-adapter-*.npy"))
    assert len(fitted) == 1

    def no_fit(*args: object, **kwargs: object) -> np.ndarray:
        raise AssertionError("fitted again at start-up")

    monkeypatch.setattr(adapter_module, "fit_matrix", no_fit)
    from core.settings import Settings

    settings = Settings()
    settings.use_data_dir(data)
    chain = build_chain(settings, open_index(settings))
    adapter = chain.retriever.adapter  # type: ignore[attr-defined]
    assert adapter is not None
    assert np.array_equal(adapter.matrix, np.load(fitted[0]))
    assert not np.allclose(adapter.matrix, np.eye(len(adapter.matrix)))
    # switched off: no adapter
    settings.retrieval.query_adapter = False
    assert build_chain(settings, open_index(settings)).retriever.adapter is None  # type: ignore[attr-defined]

"""The question encoder trained on the question index (assistant.retrieval.tuning): it learns
the pairs it is given, deterministically, and answers through its ONNX export."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from assistant.retrieval.retriever import HybridRetriever, Retrieval
from assistant.retrieval.tuning import (
    TrainingPlan,
    TunedEncoder,
    among_kinds,
    read_trained,
    remove_others,
    train_query_model,
    tuned_dir,
    tuned_encoder,
    tuned_key,
)
from assistant.retrieval.vocabulary import Vocabulary
from core.index.reader import Scope
from core.model_files import BUNDLED_MODEL as BUNDLED
from core.model_files import resolve_model_path
from core.settings import RetrievalSettings, Settings
from tests.conftest import index_org_corpus

PASSAGES = [
    "Access to electronic protected health information is terminated when employment ends.",
    "Workstations lock automatically after fifteen minutes without activity.",
    "Backups of patient data are encrypted and tested every quarter.",
    "Breach notification to individuals is made without unreasonable delay.",
]
# staff words, far from the passages' own
QUESTIONS = [
    ("a nurse quit, when do her logins stop working?", 0),
    ("somebody got fired, what happens to their EHR account?", 0),
    ("my screen goes dark if I walk away, why?", 1),
    ("how long can a PC sit idle before it needs my password?", 1),
    ("do we keep copies of the records somewhere safe?", 2),
    ("are the copies of our data scrambled?", 2),
    ("patients' info was stolen, when do we tell them?", 3),
    ("how fast must we warn people after a hack?", 3),
]


def test_the_key_changes_with_every_input() -> None:
    plan = TrainingPlan()
    base = tuned_key(["fingerprint", "model", "q1"], plan)
    assert base == tuned_key(["fingerprint", "model", "q1"], TrainingPlan())
    assert base != tuned_key(["fingerprint", "model", "q2"], plan)
    assert base != tuned_key(["fingerprint", "model", "q1"], TrainingPlan(epochs=3))


def test_training_runs_among_the_kinds_its_questions_name() -> None:
    kinds_by_row = ["rule", "policy", "rule", "guidance", "baa", "rule"]
    passages = np.arange(6, dtype=np.float32)[:, None] * np.ones((1, 2), dtype=np.float32)
    targets, among, kinds = among_kinds(kinds_by_row, np.asarray([2, 5, 2]), passages)
    assert kinds == ["rule"]
    assert among[:, 0].tolist() == [0.0, 2.0, 5.0] and targets.tolist() == [1, 2, 1]
    targets, among, kinds = among_kinds(kinds_by_row, np.asarray([4, 1]), passages)
    assert kinds == ["baa", "policy"] and targets.tolist() == [1, 0]


def test_an_unfinished_folder_is_not_an_encoder(tmp_path: Path) -> None:
    folder = tuned_dir(tmp_path, "abc")
    folder.mkdir()
    assert read_trained(folder) is None
    assert tuned_encoder(folder, Settings().embedding) is None


class _Towards:
    """A stand-in trained encoder that embeds every question as one passage's vector."""

    def __init__(self, vector: np.ndarray) -> None:
        self.vector = vector
        self.calls = 0

    model_id = "towards"
    dimension = 0

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.vector for _ in texts])

    def embed_query(self, text: str) -> np.ndarray:
        self.calls += 1
        return 2.0 * self.vector  # not unit length: the retriever normalises it


def test_the_trained_ranking_never_moves_the_organisations_passages(tmp_path: Path) -> None:
    """It only chooses the rule passages that fill the rule's places: trained towards a policy
    section, it leaves every policy and BAA passage where it was, with its score."""
    _, index = index_org_corpus(tmp_path / "data")
    towards = _Towards(index.passage_vectors()[index.row_of_locator("AI-301 §5.4") or 0])
    question = "Is a hospital allowed to keep a wiki of its favourite lunch places?"
    settings = RetrievalSettings(min_rule_passages=0, min_org_passages=0)
    everything = Scope.unrestricted()
    plain = HybridRetriever(index, settings, Vocabulary.load()).retrieve(question, everything, 60)
    encoder = TunedEncoder(towards, frozenset({"policy", "baa"}))  # type: ignore[arg-type]
    tuned = HybridRetriever(index, settings, Vocabulary.load(), tuned=encoder).retrieve(
        question, everything, 60
    )

    def order(r: Retrieval) -> list[tuple[str, float]]:
        return [(x.chunk.chunk_id, x.score) for x in r.passages]

    assert order(tuned) == order(plain)
    assert tuned.top_dense == pytest.approx(plain.top_dense)  # what abstention reads
    assert "tuned_dense" in tuned.stage_ms and towards.calls == 1

    off = settings.model_copy(update={"disabled": ["tuned_dense"]})
    again = HybridRetriever(index, off, Vocabulary.load(), tuned=encoder).retrieve(
        question, everything, 60
    )
    assert order(again) == order(plain)
    assert towards.calls == 1  # switched off, the encoder is not even asked


def test_a_server_never_trains_and_ranks_without_an_encoder_until_one_exists(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.runtime import build
    from assistant.runtime.build import build_topics, build_tuned

    settings, index = index_org_corpus(tmp_path / "data")
    settings.retrieval.query_tuning = True
    topics = build_topics(settings, index.embedder)
    assert topics is not None
    # questions on the rule's side to train on (this corpus has no rule passages)
    vectors = index.passage_vectors()[:2]
    pairs = (["q1", "q2"], np.asarray([0, 1]), vectors, ["rule"])
    monkeypatch.setattr(build, "training_set", lambda index, topics: pairs)
    caplog.set_level(logging.INFO, logger="assistant.runtime.build")
    assert build_tuned(settings, index, topics, train=True) is None
    # the test embedder is not a local model it can train: said once, as information
    assert "trains from a local sentence-transformers model" in caplog.text
    assert not any(r.levelno >= logging.WARNING for r in caplog.records)
    caplog.clear()
    bundled = settings.model_copy(update={"embedding": Settings().embedding})
    assert build_tuned(bundled, index, topics) is None  # a server: never trains
    assert "hipaa-assistant train" in caplog.text
    assert not (settings.paths.data_dir / "tuned").exists()
    settings.retrieval.query_tuning = False
    assert build_tuned(settings, index, topics, train=True) is None  # off: nothing to train


@pytest.mark.slow
def test_training_learns_its_pairs_deterministically_and_answers_through_onnx(
    tmp_path: Path,
) -> None:
    from sentence_transformers import SentenceTransformer

    base, _ = resolve_model_path(Settings().embedding.model)
    model = SentenceTransformer(base, device="cpu")
    passages = model.encode(PASSAGES, normalize_embeddings=True)
    asks = [q for q, _ in QUESTIONS]
    targets = np.asarray([t for _, t in QUESTIONS])
    before = model.encode(asks, normalize_embeddings=True) @ passages.T

    plan = TrainingPlan(epochs=6, learning_rate=1e-4, batch_size=4)
    steps: list[tuple[int, int]] = []
    first = tuned_dir(tmp_path, "first")
    trained = train_query_model(
        base, asks, targets, passages, first, plan, lambda d, t: steps.append((d, t)), ["policy"]
    )
    assert trained.steps == 12 and steps[-1] == (12, 12) and trained.questions == 8
    assert read_trained(first) == trained

    tuned = tuned_encoder(first, Settings().embedding)
    assert tuned is not None and tuned.kinds == {"policy"}
    encoder = tuned.encoder
    assert "onnx" in encoder.model_id
    after = np.stack([encoder.embed_query(q) for q in asks]) @ passages.T
    right = np.arange(len(asks)), targets

    # each question's own passage gains on the others: the margin over the best other grows
    def margin(sims: np.ndarray) -> np.ndarray:
        others = sims.copy()
        others[right] = -np.inf
        return sims[right] - others.max(axis=1)

    assert margin(after).mean() > margin(before).mean() + 0.05
    assert (after.argmax(axis=1) == targets).sum() >= (before.argmax(axis=1) == targets).sum()

    # the same inputs train the same weights
    second = tuned_dir(tmp_path, "second")
    train_query_model(base, asks, targets, passages, second, plan)
    again = tuned_encoder(second, Settings().embedding)
    assert again is not None
    np.testing.assert_allclose(
        again.encoder.embed_query(asks[0]), encoder.embed_query(asks[0]), atol=1e-5
    )

    remove_others(tmp_path, second, kept=1)
    assert first.exists() and second.exists()
    remove_others(tmp_path, second, kept=0)
    assert not first.exists() and second.exists()


@pytest.mark.slow
def test_train_trains_once_for_the_index_and_the_chain_ranks_with_it(
    tiny_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """End to end with the real model on a tiny corpus with a rule text and a question file:
    `train` trains into the data folder on the rule's questions (not the policies'), a second
    run finds it, a changed policy retrains nothing, a changed rule text retrains it, and the
    chain built after it ranks with it."""
    import argparse

    from assistant.commands.train import cmd_train
    from assistant.runtime.build import build_chain
    from assistant.runtime.stores import open_index, open_store
    from core.embeddings import build_embedder
    from ingest.pipeline import run_ingest
    from tests.conftest import make_settings

    rule = tiny_corpus / "rules" / "TST-RULE.md"
    rule.parent.mkdir()
    rule.write_text(
        "---\nid: TST-RULE\ntitle: Test rule\ntype: rule\naccess_groups: [staff]\n---\n\n"
        "# TST-RULE Test rule\n\n## 1. Remote access\n\nRemote access to systems that hold "
        "protected health information requires a second factor in addition to a password.\n\n"
        "## 2. Printing\n\nPrinted protected health information must be collected from the "
        "printer at once and is never left unattended in a shared area.\n",
        encoding="utf-8",
    )
    (tiny_corpus / "questions").mkdir()
    # a rule text's sections are located as "45 CFR §1"
    (tiny_corpus / "questions" / "tst.yaml").write_text(
        "- locator: 45 CFR §1\n"
        "  asks: ['do I need a code from my phone to log in from home?',\n"
        "         'is a password enough when I work remotely?']\n"
        "- locator: 45 CFR §2\n"
        "  asks: ['can my printout sit on the printer until I get there?',\n"
        "         'what happens to print jobs nobody picks up?']\n"
        "- locator: TST-200 §2.1\n"
        "  asks: ['who may collect a printout for me?']\n",
        encoding="utf-8",
    )
    settings = make_settings(
        tmp_path / "data", [tiny_corpus], provider="sentence-transformers", model=BUNDLED
    )
    settings.retrieval.topics_dir = None  # these questions only: a quick training
    settings.retrieval.query_tuning = True
    embedder = build_embedder(settings.embedding)
    assert run_ingest(settings, embedder, lambda: open_store(settings, embedder), progress=False).ok
    args = argparse.Namespace(no_progress=True)
    assert cmd_train(settings, args) == 0
    first = capsys.readouterr().out
    assert "question encoder ready" in first and "it ranks: rule" in first
    trained = list((settings.paths.data_dir / "tuned").glob("query-tuned-*"))
    assert len(trained) == 1 and read_trained(trained[0]) is not None
    assert read_trained(trained[0]).questions == 4  # type: ignore[union-attr]  # not the policy's
    stamp = (trained[0] / "trained.json").stat().st_mtime
    assert cmd_train(settings, args) == 0  # found, not trained again
    assert (trained[0] / "trained.json").stat().st_mtime == stamp

    chain = build_chain(settings, open_index(settings))
    assert chain.retriever.tuned is not None  # type: ignore[attr-defined]
    # a changed policy is not what it learns from: nothing to train
    policy = tiny_corpus / "policies" / "TST-200-printing.md"
    policy.write_text(policy.read_text(encoding="utf-8").replace("four hours", "two hours"))
    assert run_ingest(settings, embedder, lambda: open_store(settings, embedder), progress=False).ok
    assert cmd_train(settings, args) == 0
    assert (trained[0] / "trained.json").stat().st_mtime == stamp
    # a changed rule text changes the passages it trains towards: trained again
    rule.write_text(rule.read_text(encoding="utf-8").replace("at once", "promptly"))
    assert run_ingest(settings, embedder, lambda: open_store(settings, embedder), progress=False).ok
    assert cmd_train(settings, args) == 0
    assert len(list((settings.paths.data_dir / "tuned").glob("query-tuned-*"))) == 2
    answer = chain.retriever.retrieve(
        "can I work from home with just a password?", Scope.unrestricted()
    )
    assert "tuned_dense" in answer.stage_ms


class _Chunk:
    def __init__(self, doc_id: str) -> None:
        self.doc_id = doc_id


class _Doc:
    def __init__(self, doc_type: str) -> None:
        self.doc_type = doc_type


class _Index:
    """Four passages: a rule paragraph, a policy section, a BAA clause, a rule paragraph."""

    def __init__(self) -> None:
        self.chunks = [_Chunk("rule"), _Chunk("policy"), _Chunk("baa"), _Chunk("rule")]

    def document(self, doc_id: str) -> _Doc:
        return _Doc(doc_id)

    def row_of_locator(self, locator: str) -> int | None:
        return {"R1": 0, "P1": 1, "B1": 2, "R2": 3}.get(locator)

    def passage_vectors(self) -> np.ndarray:
        return np.eye(4, dtype=np.float32)


class _Topics:
    def training_questions(self, row_of: object) -> tuple[list[str], np.ndarray]:
        return ["about R2", "about P1", "about B1", "about R1"], np.asarray([3, 1, 2, 0])


def test_the_encoder_trains_on_the_rules_questions_only() -> None:
    """It orders only the rule's places, so an organisation's questions and passages are not
    what it learns from: what it is trained on depends on the official texts alone."""
    from assistant.runtime.build import training_set

    questions, targets, passages, kinds = training_set(_Index(), _Topics())  # type: ignore[arg-type]
    assert questions == ["about R2", "about R1"] and kinds == ["rule"]
    assert targets.tolist() == [1, 0] and passages.tolist() == [[1, 0, 0, 0], [0, 0, 0, 1]]


def test_a_model_trained_on_the_same_inputs_elsewhere_is_copied_not_trained_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The eval's organisations share the official texts, so the model one trained serves the
    others: copied from the other data folder, never trained twice."""
    import json

    from assistant.retrieval.tuning import DONE_FILE
    from assistant.runtime import build

    settings, index = index_org_corpus(tmp_path / "data")
    settings.retrieval.query_tuning = True
    settings = settings.model_copy(update={"embedding": Settings().embedding})  # trainable
    topics = build.build_topics(settings, index.embedder)
    pairs = (["q1", "q2"], np.asarray([0, 1]), index.passage_vectors()[:2], ["rule"])
    monkeypatch.setattr(build, "training_set", lambda index, topics: pairs)
    asked: list[Path] = []

    def opened(folder: Path, embedding: object) -> Path | None:
        asked.append(folder)
        return folder if read_trained(folder) else None

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("trained again")

    monkeypatch.setattr(build, "tuned_encoder", opened)
    monkeypatch.setattr(build, "train_query_model", never)
    assert build.build_tuned(settings, index, topics) is None  # none yet; a server never trains
    elsewhere = tmp_path / "other" / "tuned"
    (elsewhere / asked[0].name).mkdir(parents=True)
    (elsewhere / asked[0].name / DONE_FILE).write_text(
        json.dumps({"questions": 2, "passages": 2, "steps": 1, "seconds": 1.0, "final_loss": 0.5})
    )
    got = build.build_tuned(settings, index, topics, train=True, trained_elsewhere=elsewhere)
    assert got == settings.paths.data_dir / "tuned" / asked[0].name
    assert read_trained(got) is not None

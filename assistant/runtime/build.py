"""Assemble the chain from settings (once per process; the parts are shared, read-only)."""

from __future__ import annotations

import hashlib
import logging
import shutil
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from assistant.answering.chain import AnswerChain, Answerer, Condenser
from assistant.answering.compare import Comparer
from assistant.answering.extractive import ExtractiveAnswerer, idf_lookup
from assistant.answering.follow_up import HeuristicCondenser
from assistant.answering.llm import LLMAnswerer, LLMCondenser, build_chat_model
from assistant.checks.run import name_words, organisation_of
from assistant.retrieval.adapter import QueryAdapter, adapter_key, load_or_fit
from assistant.retrieval.ordering import ORGANISATION
from assistant.retrieval.rerank import CrossEncoderReranker, Reranker
from assistant.retrieval.retriever import HybridRetriever
from assistant.retrieval.topics import Topic, TopicIndex
from assistant.retrieval.tuning import (
    Progress,
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
from core.embeddings import Embedder
from core.index.embed_cache import EmbeddingCache
from core.index.reader import Index
from core.index.shared import shared_index
from core.model_files import resolve_model_path
from core.settings import Settings
from core.words import word_list

log = logging.getLogger(__name__)


def build_chain(settings: Settings, index: Index, chat_model: Any | None = None) -> AnswerChain:
    """``chat_model``: inject one (tests, custom setups); otherwise built from ``settings.llm``
    when ``settings.answer.mode == 'llm'``."""
    reranker: Reranker | None = None
    if settings.retrieval.reranker_model:
        reranker = CrossEncoderReranker(
            settings.retrieval.reranker_model, settings.embedding.device
        )
    topics = build_topics(settings, index.embedder)
    retriever = HybridRetriever(
        index,
        settings.retrieval,
        Vocabulary.load(settings.retrieval.vocabulary_file),
        reranker,
        topics,
        build_adapter(settings, index, topics),
        build_tuned(settings, index, topics),
    )
    answerer: Answerer
    condenser: Condenser
    if settings.answer.mode == "llm" or chat_model is not None:
        model = chat_model if chat_model is not None else build_chat_model(settings.llm)
        answerer = LLMAnswerer(model, settings.llm)
        condenser = LLMCondenser(model)
    else:
        answerer = ExtractiveAnswerer(settings.answer, idf_lookup(index.lexical.idf_table))
        vendors = sorted({e.document.vendor for e in index.entries.values() if e.document.vendor})
        condenser = HeuristicCondenser(vendors)
    # questions across the contracts are tabulated from verbatim clauses in either mode
    table = index.lexical.idf_table
    quoter = ExtractiveAnswerer(settings.answer, idf_lookup(table), lambda term: term in table)
    # the organisation's own name says nothing about what is asked: its documents all hold it
    generic = word_list("generic") | name_words(organisation_of(settings))
    comparer = Comparer(retriever, quoter, settings.answer.compare_min_overlap, generic=generic)
    return AnswerChain(retriever, answerer, condenser, settings.answer, comparer, generic)


def build_topics(settings: Settings, embedder: Embedder) -> TopicIndex | None:
    """The question index, embedded with the index's embedder (cached by content hash, so only
    the first start after a change embeds; ``ingest`` does that ahead of time)."""
    folders = topic_folders(settings)
    if not folders or not settings.retrieval.active("question_index"):
        return None
    shared = shared_index(settings) if settings.retrieval.corpus_questions else None
    confirmed = [Topic(loc, (q,)) for _, loc, q in shared.confirmed()] if shared else []
    cache = EmbeddingCache(settings.paths.data_dir / "embedding-cache.sqlite")
    try:
        return TopicIndex.build(folders, embedder, cache, extra=confirmed)
    finally:
        cache.close()


def build_adapter(
    settings: Settings, index: Index, topics: TopicIndex | None
) -> QueryAdapter | None:
    """The query adapter fitted on the question index's pairs (each question, the first
    passage its locator names), saved in the data folder; none without a question index."""
    r = settings.retrieval
    if topics is None or not r.query_adapter:
        return None
    generation = index.generation
    parts = [
        generation.gen_id,
        generation.fingerprint,
        index.embedder.model_id,
        f"strength={r.adapter_strength}",
        *(f"{t.locator}\0{'|'.join(t.asks)}" for t in topics.topics),
    ]
    return load_or_fit(
        settings.paths.data_dir / "adapters",
        adapter_key(parts),
        lambda: topics.training_pairs(index.row_of_locator),
        index.passage_vectors,
        strength=r.adapter_strength,
    )


def training_plan(settings: Settings) -> TrainingPlan:
    r = settings.retrieval
    return TrainingPlan(epochs=r.tuning_epochs, learning_rate=r.tuning_learning_rate)


def training_set(
    index: Index, topics: TopicIndex
) -> tuple[list[str], np.ndarray, np.ndarray, list[str]]:
    """(questions, target rows, passages, kinds) the question encoder trains on: each question of
    the question index whose passage is on the rule's side (it orders only the rule's places:
    ``reorder_rule_places``), towards that passage, against the passages of the kinds its
    questions name (only those can be wrong answers), rows renumbered among them. So what it
    learns depends on the official texts and the rules' questions alone, never on an
    organisation's documents or question files."""
    questions, rows = topics.training_questions(index.row_of_locator)
    kinds_by_row = [index.document(c.doc_id).doc_type for c in index.chunks]
    keep = [i for i, row in enumerate(rows.tolist()) if kinds_by_row[row] not in ORGANISATION]
    if not keep:
        return [], rows[:0], index.passage_vectors()[:0], []
    questions, rows = [questions[i] for i in keep], rows[keep]
    targets, passages, kinds = among_kinds(kinds_by_row, rows, index.passage_vectors())
    return questions, targets, passages, kinds


def build_tuned(
    settings: Settings,
    index: Index,
    topics: TopicIndex | None,
    *,
    train: bool = False,
    progress: Progress | None = None,
    trained_elsewhere: Path | None = None,
) -> TunedEncoder | None:
    """The question encoder trained on the rules' questions of the question index for this index
    (``retrieval.query_tuning``), from the data folder; trained there first when ``train``
    (ingest, the ``train`` command) and none is. A server never trains: without one it ranks
    without it. ``trained_elsewhere``: another data folder's ``tuned/``; a model trained on the
    same inputs there is copied instead of trained again (the eval's organisations share the
    rules)."""
    r = settings.retrieval
    if topics is None or not r.query_tuning:
        return None
    plan = training_plan(settings)
    questions, targets, passages_of, kinds = training_set(index, topics)
    if not questions:
        return None
    # the key is what it is trained on: the questions, their passages and every passage of the
    # kinds it ranks among, so a policy added beside the rules' question index retrains nothing
    trained_on = hashlib.sha256(np.ascontiguousarray(passages_of).tobytes())
    trained_on.update(np.ascontiguousarray(targets).tobytes())
    parts = [trained_on.hexdigest(), index.embedder.model_id, *kinds, *questions]
    folder = tuned_dir(settings.paths.data_dir / "tuned", tuned_key(parts, plan))
    encoder = tuned_encoder(folder, settings.embedding)
    if encoder is not None:
        return encoder
    load_from, _ = resolve_model_path(settings.embedding.model)
    if settings.embedding.provider not in ("sentence-transformers", "onnx") or not (
        Path(load_from).is_dir()
    ):
        # an embedding model it cannot train (a service's) is not a fault: it ranks without it
        log.info("no question encoder: it trains from a local sentence-transformers model")
        return None
    if train and trained_elsewhere is not None and read_trained(trained_elsewhere / folder.name):
        shutil.copytree(trained_elsewhere / folder.name, folder, dirs_exist_ok=True)
        remove_others(folder.parent, folder)
        encoder = tuned_encoder(folder, settings.embedding)
    elif train:
        log.info("training the question encoder on %d questions", len(questions))
        trained = train_query_model(
            load_from, questions, targets, passages_of, folder, plan, progress, kinds
        )
        log.info("question encoder trained in %.0f s", trained.seconds)
        remove_others(folder.parent, folder)
        encoder = tuned_encoder(folder, settings.embedding)
        if encoder is not None:
            encoder.encoder.embed_query("ready")  # exported to ONNX now, not at the first question
    else:
        log.warning(
            "retrieval.query_tuning is on but no question encoder is trained for this index: "
            "run 'hipaa-assistant train'"
        )
    return encoder


def prepare_after_ingest(settings: Settings, embedder: Embedder, fit_adapter: bool) -> None:
    """What ``ingest`` does ahead of the server: embed the question index, for a new index
    generation fit the query adapter, and check the questions' ONNX copy of the embedder (so a
    start does none of it, and asking loads no torch)."""
    from assistant.query_embedding import prepare_query_copy
    from assistant.runtime.stores import open_index

    topics = build_topics(settings, embedder)
    index = cache(lambda: open_index(settings, embedder))  # opened once, if at all
    if fit_adapter:
        build_adapter(settings, index(), topics)
    if settings.retrieval.query_tuning:
        build_tuned(settings, index(), topics, train=True)
    prepare_query_copy(settings.embedding, embedder, index)


def topic_folders(settings: Settings) -> list[Path]:
    """The bundled question index (the rules), then each corpus folder's own ``questions/``."""
    r = settings.retrieval
    folders = [r.topics_dir] if r.topics_dir is not None else []
    if r.corpus_questions:
        folders += [d / r.corpus_questions for d in settings.paths.corpus_dirs]
    return [f for f in folders if f.is_dir()]

"""A question encoder trained here: a copy of the embedding model whose question side is
fine-tuned on the question index, so a staff question lands near the passage that answers it.

The linear query adapter (``adapter.py``) moves a question's vector by one matrix; this trains
the model's own weights on the same pairs (each question of the question index, the passage its
locator names), with the passages' stored vectors as fixed targets: a softmax over every passage
of the kinds the questions name (the rules' alone, for an organisation without question files),
so each step sees all of them as negatives; its ranking is kept to those kinds. Passages keep
their vectors, so the index is not re-embedded and the plain dense ranking, its similarities and
abstention stay as they were; the trained copy only adds a ranking (``tuned_dense``).

Training runs offline on the CPU (torch, at ingest or ``hipaa-assistant train``; about 80 s an
epoch for 5,000 questions on 2 cores), deterministic (fixed seeds), from the bundled weights. The
result is kept in the data folder under a key of everything it depends on and exported to ONNX
there, so answering loads no torch."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from core.embeddings import Embedder
from core.settings import EmbeddingSettings

log = logging.getLogger(__name__)

TUNE_VERSION = "query-tower-softmax-adamw/v1"
DONE_FILE = "trained.json"
Progress = Callable[[int, int], None]  # (steps done, steps in all)


@dataclass(frozen=True)
class TrainingPlan:
    epochs: int = 2
    learning_rate: float = 1e-4
    batch_size: int = 32
    temperature: float = 0.05
    max_tokens: int = 64  # questions are short; longer ones are cut
    seed: int = 0


@dataclass(frozen=True)
class Trained:
    questions: int
    passages: int
    steps: int
    seconds: float
    final_loss: float
    kinds: tuple[str, ...] = ()  # the document types it was trained towards and ranks among


@dataclass(frozen=True)
class TunedEncoder:
    """The trained copy, and the document types its ranking is kept to: those its questions
    name. Trained on the rules' questions alone, every policy and BAA passage was only ever a
    wrong answer to it, so it would push the organisation's passages down."""

    encoder: Embedder
    kinds: frozenset[str]


def tuned_key(parts: Sequence[str], plan: TrainingPlan) -> str:
    """A name for the training on these inputs: ``parts`` names everything it depends on (the
    index's vectors, the model, the questions and their targets)."""
    h = hashlib.sha256(TUNE_VERSION.encode())
    h.update(json.dumps(asdict(plan), sort_keys=True).encode())
    for part in parts:
        h.update(b"\0" + part.encode("utf-8"))
    return h.hexdigest()[:32]


def tuned_dir(folder: Path, key: str) -> Path:
    return folder / f"query-tuned-{key}"


def among_kinds(
    kinds_by_row: Sequence[str], rows: np.ndarray, passages: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(targets, passages, kinds) to train on: the passages of the document types that the
    target ``rows`` have (``kinds_by_row``: each passage's type), with the rows renumbered."""
    kind = np.asarray(kinds_by_row)
    kinds = sorted(set(kind[rows].tolist()))
    among = np.flatnonzero(np.isin(kind, kinds))
    return np.searchsorted(among, rows), passages[among], kinds


def train_query_model(
    base_model: str,
    questions: Sequence[str],
    targets: np.ndarray,
    passages: np.ndarray,
    dest: Path,
    plan: TrainingPlan,
    progress: Progress | None = None,
    kinds: Sequence[str] = (),
) -> Trained:
    """Fine-tune the sentence-transformers model at ``base_model`` so that each question's
    (unit) embedding ranks passage row ``targets[i]`` of ``passages`` (unit rows, fixed) first:
    cross-entropy over all passages' cosines / temperature, AdamW with a linear warm-up and
    decay. Saved to ``dest`` (written whole or not at all)."""
    import torch
    from sentence_transformers import SentenceTransformer

    if len(questions) != len(targets) or not len(questions):
        raise ValueError("one target passage per question, and at least one question")
    started = time.perf_counter()
    torch.manual_seed(plan.seed)
    rng = np.random.default_rng(plan.seed)
    model = SentenceTransformer(base_model, device="cpu")
    model.max_seq_length = plan.max_tokens
    fixed = torch.tensor(np.asarray(passages, dtype=np.float32))
    goal = np.asarray(targets, dtype=np.int64)
    per_epoch = (len(questions) + plan.batch_size - 1) // plan.batch_size
    steps = plan.epochs * per_epoch
    optimiser = torch.optim.AdamW(model.parameters(), lr=plan.learning_rate, weight_decay=0.01)
    warm = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / steps)
    )
    model.train()
    done = 0
    loss_sum, loss_n = 0.0, 0  # the last epoch's
    for _ in range(plan.epochs):
        order = rng.permutation(len(questions))
        loss_sum, loss_n = 0.0, 0
        for start in range(0, len(order), plan.batch_size):
            batch = order[start : start + plan.batch_size]
            features = model.preprocess([questions[i] for i in batch])
            vectors = model(features)["sentence_embedding"]
            vectors = torch.nn.functional.normalize(vectors, dim=1)
            logits = vectors @ fixed.T / plan.temperature
            loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(goal[batch]))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            loss_sum += float(loss.item()) * len(batch)
            loss_n += len(batch)
            done += 1
            if progress is not None:
                progress(done, steps)
    model.eval()
    tmp = dest.with_name(f"{dest.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save(str(tmp))
    trained = Trained(
        questions=len(questions),
        passages=len(passages),
        steps=steps,
        seconds=round(time.perf_counter() - started, 1),
        final_loss=round(loss_sum / max(loss_n, 1), 4),
        kinds=tuple(sorted(kinds)),
    )
    (tmp / DONE_FILE).write_text(json.dumps(asdict(trained), indent=2) + "\n", encoding="utf-8")
    shutil.rmtree(dest, ignore_errors=True)
    tmp.replace(dest)
    return trained


def read_trained(folder: Path) -> Trained | None:
    """What the training saved in ``folder`` said of itself; none for an unfinished folder."""
    try:
        data = json.loads((folder / DONE_FILE).read_text(encoding="utf-8"))
        return Trained(**{**data, "kinds": tuple(data.get("kinds", ()))})
    except (OSError, ValueError, TypeError):
        return None


def tuned_encoder(folder: Path, embedding: EmbeddingSettings) -> TunedEncoder | None:
    """The trained copy in ``folder`` on ONNX Runtime (exported there on first use), or none
    when no finished training is there."""
    trained = read_trained(folder)
    if trained is None:
        return None
    from core.onnx_embedder import OnnxEmbedder

    settings = embedding.model_copy(
        update={
            "model": str(folder),
            "provider": "onnx",
            "onnx_precision": "fp32",
            "export_dir": folder / "onnx",
        }
    )
    return TunedEncoder(OnnxEmbedder(settings), frozenset(trained.kinds))


def remove_others(folder: Path, keep: Path, kept: int = 1) -> None:
    """Older trainings beyond the ``kept`` most recent besides ``keep`` (an index read with and
    without the organisation's question files has two; another process's unfinished one
    stays)."""
    others = [
        p
        for p in folder.glob("query-tuned-*")
        if p != keep and p.is_dir() and ".tmp-" not in p.name
    ]
    others.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for old in others[kept:]:
        shutil.rmtree(old, ignore_errors=True)

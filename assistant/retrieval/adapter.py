"""A query adapter learned from the question index: a linear map of question embeddings that
brings a staff question closer to the passage that answers it.

The small embedding model places "do we cut off a contractor's logins when the project ends?"
far from the rule's "procedures for terminating access to electronic protected health
information". The question index holds thousands of
such pairs (a staff question, the passage its locator names); a 384x384 matrix fitted on them
(softmax over the passages, kept near the identity) carries what they share to questions and
passages the index has never seen: on passages held out of the fit, their questions find the
passage in the top 5 dense results 74% of the time, against 57% without the map.

The adapted vector feeds one more dense ranking; the plain one, its similarities and abstention
stay as they were. Fitting is plain numpy (15-20 seconds for the bundled corpus) and
deterministic; the result is kept in the data folder under a key of everything it depends on
(the index generation, the model, the questions), so ``ingest`` fits it once and every process
after loads it."""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

FIT_VERSION = "softmax-identity-adam/v1"


class QueryAdapter:
    """``matrix`` (d x d) maps a question vector; the result is scaled to unit length."""

    def __init__(self, matrix: np.ndarray) -> None:
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ValueError("the adapter is a square matrix")
        self.matrix = np.ascontiguousarray(matrix, dtype=np.float32)

    def apply(self, vector: np.ndarray) -> np.ndarray:
        out = self.matrix @ np.asarray(vector, dtype=np.float32)
        return out / max(float(np.linalg.norm(out)), 1e-12)


def fit_matrix(
    questions: np.ndarray,
    targets: np.ndarray,
    passages: np.ndarray,
    *,
    strength: float = 1.0,
    epochs: int = 100,
    learning_rate: float = 3e-3,
    temperature: float = 0.05,
    max_passages: int = 4096,
    seed: int = 0,
) -> np.ndarray:
    """Fit W so that normalise(W q_i) ranks passage ``targets[i]`` first among ``passages``
    (unit rows): cross-entropy over a softmax of cosines / ``temperature``, plus ``strength``
    times the mean squared distance of W from the identity. Full-batch Adam. Beyond
    ``max_passages``, the softmax runs over the targets and a seeded sample of the others."""
    n, d = questions.shape
    if n == 0:
        return np.eye(d, dtype=np.float32)
    targets = np.asarray(targets, dtype=np.int64)
    rows = np.unique(targets)
    if len(passages) > max_passages and len(rows) < max_passages:
        others = np.setdiff1d(np.arange(len(passages)), rows)
        pick = np.random.default_rng(seed).choice(others, max_passages - len(rows), replace=False)
        rows = np.sort(np.concatenate([rows, pick]))
    elif len(passages) <= max_passages:
        rows = np.arange(len(passages))
    m = np.asarray(passages[rows], dtype=np.float32)
    y = np.searchsorted(rows, targets)
    x = np.asarray(questions, dtype=np.float32)
    eye = np.eye(d, dtype=np.float32)
    w = eye.copy()
    first = np.zeros_like(w)
    second = np.zeros_like(w)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for step in range(1, epochs + 1):
        q = x @ w.T
        norm = np.linalg.norm(q, axis=1, keepdims=True)
        u = q / norm
        logits = (u @ m.T) / temperature
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(n), y] -= 1.0
        du = (p / n) @ m / temperature
        dq = (du - u * np.sum(du * u, axis=1, keepdims=True)) / norm
        grad = dq.T @ x + 2.0 * strength * (w - eye) / d
        first = beta1 * first + (1 - beta1) * grad
        second = beta2 * second + (1 - beta2) * grad * grad
        w -= (
            learning_rate
            * (first / (1 - beta1**step))
            / (np.sqrt(second / (1 - beta2**step)) + eps)
        )
    return w.astype(np.float32)


def adapter_key(parts: Sequence[str]) -> str:
    """A name for the fit of these inputs: ``parts`` names everything it depends on (the index
    generation, the model, the settings, the questions and their targets)."""
    h = hashlib.sha256(FIT_VERSION.encode())
    for part in parts:
        h.update(b"\0" + part.encode("utf-8"))
    return h.hexdigest()[:32]


def load_or_fit(
    folder: Path,
    key: str,
    pairs: Callable[[], tuple[np.ndarray, np.ndarray]],
    passages: Callable[[], np.ndarray],
    *,
    strength: float,
) -> QueryAdapter | None:
    """The adapter saved under ``key`` in ``folder``, or a new fit saved there (older fits are
    removed: one index, one adapter); none when there is nothing to fit on. ``pairs`` gives the
    (question vectors, passage rows) and ``passages`` the passage vectors, both read only to
    fit: a start that finds the file does neither."""
    path = folder / f"query-adapter-{key}.npy"
    if path.is_file():
        try:
            return QueryAdapter(np.load(path, allow_pickle=False))
        except (OSError, ValueError) as exc:
            log.warning("query adapter %s unreadable (%s); fitting again", path.name, exc)
    questions, targets = pairs()
    if not len(targets):
        return None
    log.info("fitting the query adapter on %d questions", len(questions))
    started = time.perf_counter()
    matrix = fit_matrix(questions, targets, passages(), strength=strength)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.tmp-{os.getpid()}.npy")
    np.save(tmp, matrix, allow_pickle=False)
    tmp.replace(path)
    for old in folder.glob("query-adapter-*.npy"):
        if old != path and ".tmp-" not in old.name:
            old.unlink(missing_ok=True)
    log.info("query adapter fitted in %.1f s", time.perf_counter() - started)
    return QueryAdapter(matrix)

"""Retrieval as named stages and one fusion step.

A *stage* reads the question (a frozen ``Query``) and, for boosts, the fused scores so far (a
read-only view), and returns a ``Contribution``: ``{chunk_id: value}`` and nothing else. It never
changes its inputs. ``combine`` is the only place scores are fused, with the stage's weight from
``retrieval.weights``:

- ``rank`` and ``boost`` stages add ``weight * value``; values are in reciprocal-rank units, so
  a ranking's first place is worth ``1 / (rrf_k + 1)`` (``rrf_units``), and a boost of one first
  place is worth the same;
- ``factor`` stages multiply: ``score * value ** weight`` (weight 0 leaves scores as they are);
- ``reorder`` stages do not enter the fused table: their ``weight * value`` is added only to
  reorder the rule's places in the top k once each kind of source has its places
  (``ordering.reorder_rule_places``), so they never move places between the rule and the
  organisation's documents.

A stage listed in ``retrieval.disabled`` does not run; its weight set to 0 does the same for
fusion. Every stage is named, so the eval can switch each off in turn (the ablation table).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, Protocol

import numpy as np

from assistant.retrieval.query import QueryPlan
from core.index.reader import Scope

StageKind = Literal["rank", "boost", "factor", "reorder"]


@dataclass(frozen=True)
class Query:
    """Everything a stage may read about the question being answered."""

    text: str  # the question, placeholders removed
    plan: QueryPlan
    scope: Scope
    vector: np.ndarray  # the question's embedding
    adapted: np.ndarray | None = None  # the same, carried by the query adapter (if fitted)
    tuned: np.ndarray | None = None  # the question by the encoder trained here (if trained)
    tuned_kinds: frozenset[str] = frozenset()  # the document types that encoder ranks among


@dataclass(frozen=True)
class Contribution:
    """One stage's output: a value per chunk, plus what it measured on the way."""

    scores: Mapping[str, float]
    similarity: Mapping[str, float] = field(default_factory=dict)  # cosine, question-passage
    lexical: Mapping[str, float] = field(default_factory=dict)  # BM25 scores
    top_similarity: float | None = None  # the closest passage in scope, kept or not
    lead: float | None = None  # the question index's best match (for abstention)


class Stage(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> StageKind: ...

    def run(self, query: Query, fused: Mapping[str, float]) -> Contribution: ...


def rrf_units(ids: Sequence[str], rrf_k: int) -> dict[str, float]:
    """A ranking as reciprocal-rank values: ``1 / (rrf_k + rank + 1)``, first place first."""
    out: dict[str, float] = {}
    for rank, cid in enumerate(ids):
        out.setdefault(cid, 1.0 / (rrf_k + rank + 1))
    return out


def combine(
    fused: Mapping[str, float], kind: StageKind, weight: float, contribution: Contribution
) -> dict[str, float]:
    """The fusion step: a new score table from the one so far and one stage's contribution."""
    out = dict(fused)
    if kind == "factor":
        if weight:
            for cid, factor in contribution.scores.items():
                if cid in out:
                    out[cid] *= factor**weight
        return out
    for cid, value in contribution.scores.items():
        out[cid] = out.get(cid, 0.0) + weight * value
    return out


def read_only(scores: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(scores))

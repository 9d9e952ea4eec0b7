"""Key facts: what each golden question's answer must state (the verdict phrase, the figure, who
or what), as phrases of the passage that answers it (``evals/key-facts/*.yaml``, written from the
documents and the reference answers without running the assistant).

An answer states a fact when its text contains one of the fact's phrases, compared without case,
spacing or quote style. A refusal states none. Recall is per question (facts stated / facts), then
averaged per question group.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from core.errors import ConfigError

Facts = dict[str, list[tuple[str, ...]]]  # question id -> facts, each a tuple of alternatives


def load_key_facts(path: Path) -> Facts:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read key facts {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path.name}: expected question ids mapped to lists of facts")
    out: Facts = {}
    for qid, facts in raw.items():
        if not isinstance(facts, list) or not facts:
            raise ConfigError(f"{path.name}: {qid} has no facts")
        out[str(qid)] = [
            tuple(str(a) for a in (f if isinstance(f, list) else [f])) for f in facts if f
        ]
    return out


def _norm(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"')
    text = text.replace("\u201d", '"').replace("\u2013", "-").replace("\u2014", "-")
    return re.sub(r"\s+", " ", text).strip().casefold()


def stated(facts: list[tuple[str, ...]], text: str) -> int:
    """How many of ``facts`` the answer ``text`` states."""
    said = _norm(text)
    return sum(1 for alternatives in facts if any(_norm(a) in said for a in alternatives))

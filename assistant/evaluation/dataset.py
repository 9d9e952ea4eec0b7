"""The golden dataset (evals/dataset/*.yaml), validated when loaded."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from core.errors import ConfigError

GROUPS = ("rule", "policy", "baa", "multi", "unanswerable")
ANSWER_GROUPS = GROUPS[:-1]  # the answerable ones
_KEYS = {"id", "group", "question", "reference", "gold", "groups"}


@dataclass(frozen=True)
class Item:
    id: str
    group: str
    question: str
    reference: str
    gold: tuple[str, ...]
    groups: tuple[str, ...]

    @property
    def answerable(self) -> bool:
        return self.group != "unanswerable"


def load_dataset(folder: Path) -> list[Item]:
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise ConfigError(f"no dataset files (*.yaml) in {folder}")
    items: list[Item] = []
    seen: set[str] = set()
    for path in files:
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path.name}: not valid YAML ({exc})") from exc
        if not isinstance(raw, list):
            raise ConfigError(f"{path.name}: expected a list of questions")
        for entry in raw:
            missing = _KEYS - set(entry)
            if missing:
                raise ConfigError(f"{path.name}: {entry.get('id', '?')} lacks {sorted(missing)}")
            item = Item(
                id=str(entry["id"]),
                group=str(entry["group"]),
                question=str(entry["question"]).strip(),
                reference=str(entry["reference"] or "").strip(),
                gold=tuple(str(g) for g in entry["gold"] or ()),
                groups=tuple(str(g) for g in entry["groups"] or ("staff",)),
            )
            if item.group not in GROUPS:
                raise ConfigError(f"{path.name}: {item.id} has unknown group {item.group!r}")
            if item.id in seen:
                raise ConfigError(f"{path.name}: duplicate id {item.id}")
            if item.answerable and not item.gold:
                raise ConfigError(f"{path.name}: {item.id} is answerable but has no gold locator")
            seen.add(item.id)
            items.append(item)
    return items


def load_entries(path: Path, key: str) -> list[dict[str, Any]]:
    """The entries of a YAML list that have ``key`` (comparison questions, conversations)."""
    try:
        items = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    return [e for e in items if isinstance(e, dict) and e.get(key)]

"""The staff-words -> rule-words bridge, loaded from data and validated."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from core.errors import ConfigError

DEFAULT_VOCABULARY = Path(__file__).with_name("vocabulary.yaml")


@dataclass(frozen=True)
class Rule:
    when: tuple[str, ...]
    add: tuple[str, ...]
    pattern: re.Pattern[str]


class Vocabulary:
    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules

    @classmethod
    def load(cls, path: Path = DEFAULT_VOCABULARY) -> Vocabulary:
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read the vocabulary file {path.name}: {exc}") from exc
        if not isinstance(raw, list):
            raise ConfigError(f"{path.name}: expected a list of {{when, add}} entries")
        rules = []
        for i, entry in enumerate(raw):
            if not isinstance(entry, dict) or set(entry) != {"when", "add"}:
                raise ConfigError(f"{path.name}: entry {i + 1} must have exactly 'when' and 'add'")
            when = tuple(str(w).lower().strip() for w in entry["when"] if str(w).strip())
            add = tuple(str(a).lower().strip() for a in entry["add"] if str(a).strip())
            if not when or not add:
                raise ConfigError(f"{path.name}: entry {i + 1} has an empty list")
            alternatives = "|".join(re.escape(w) for w in sorted(when, key=len, reverse=True))
            rules.append(Rule(when, add, re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")))
        return cls(rules)

    def known_words(self, question: str) -> set[str]:
        """Words of the staff phrases that matched ``question`` (bridged, so not unknown)."""
        text = question.lower()
        out: set[str] = set()
        for rule in self.rules:
            for m in rule.pattern.finditer(text):
                out.update(re.findall(r"[a-z0-9]+", m.group(0)))
        return out

    def expand(self, question: str) -> list[str]:
        """Rule terms for the staff words found in ``question`` (in file order, no repeats)."""
        text = question.lower()
        out: list[str] = []
        for rule in self.rules:
            if rule.pattern.search(text):
                out.extend(a for a in rule.add if a not in out)
        return out

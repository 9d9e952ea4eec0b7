"""Prompts are data: YAML files next to this module, validated when loaded."""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from core.errors import ConfigError

PROMPT_DIR = Path(__file__).parent


@dataclass(frozen=True)
class Prompt:
    name: str
    system: str
    human: str
    variables: tuple[str, ...]
    sample: dict[str, str]

    def render(self, **values: str) -> tuple[str, str]:
        """(system, human) with the variables filled in."""
        missing = set(self.variables) - set(values)
        if missing:
            raise ConfigError(f"prompt {self.name}: missing values for {sorted(missing)}")
        return self.system.format(**values), self.human.format(**values)

    def to_langchain(self) -> Any:
        from langchain_core.prompts import ChatPromptTemplate

        return ChatPromptTemplate.from_messages([("system", self.system), ("human", self.human)])


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def load_prompt(name: str, directory: Path = PROMPT_DIR) -> Prompt:
    path = directory / f"{name}.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read prompt {path.name}: {exc}") from exc
    if not isinstance(raw, dict) or not {"variables", "system", "human"} <= set(raw):
        raise ConfigError(f"prompt {path.name}: needs 'variables', 'system' and 'human'")
    variables = tuple(raw["variables"])
    used = _fields(raw["system"]) | _fields(raw["human"])
    unknown = used - set(variables)
    if unknown:
        raise ConfigError(f"prompt {path.name}: unknown template variables {sorted(unknown)}")
    unused = set(variables) - used
    if unused:
        raise ConfigError(f"prompt {path.name}: declared but unused variables {sorted(unused)}")
    sample = {str(k): str(v) for k, v in (raw.get("sample") or {}).items()}
    return Prompt(name, raw["system"], raw["human"], variables, sample)

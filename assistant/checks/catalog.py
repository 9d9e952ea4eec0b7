"""Requirement catalogs, read from YAML and validated when loaded.

Two kinds of file share one shape: the rule's required contents of a BAA (bundled,
``baa_rule.yaml``) and an organisation's own minimum terms with its approved exceptions
(``baa-terms.yaml`` in its corpus folder, edited by the organisation, never by code).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import yaml

from assistant.checks.figures import Duration, country_name
from core.errors import ConfigError

CheckKind = Literal["presence", "deadline", "notice", "prohibition", "location", "amount"]
CHECK_KINDS: tuple[str, ...] = (
    "presence", "deadline", "notice", "prohibition", "location", "amount",
)  # fmt: skip

_REQUIREMENT_KEYS = {
    "id", "citation", "requirement", "check", "cites", "topic", "not_topic", "limit",
    "countries", "minimum", "allowed_if", "also", "partial",
}  # fmt: skip
_EXCEPTION_KEYS = {"vendor", "term", "citation", "allows", "text"}


@dataclass(frozen=True)
class Requirement:
    """One thing a BAA must contain, and how the checker recognises it."""

    id: str
    citation: str
    text: str
    check: CheckKind
    topic: tuple[re.Pattern[str], ...]
    cites: tuple[str, ...] = ()
    not_topic: re.Pattern[str] | None = None
    limit: Duration | None = None  # deadline: at most; notice: at least
    countries: tuple[str, ...] = ()
    minimum: float | None = None
    allowed_if: re.Pattern[str] | None = None
    also: re.Pattern[str] | None = None  # the clause must also say this, or the row is weaker
    also_says: str = ""
    partial: re.Pattern[str] | None = None  # with no clause on topic, this makes the row weaker
    partial_says: str = ""
    source: str = ""  # the catalog it comes from: "rule" or the organisation's policy id
    problem: str = ""  # why the entry cannot be checked (incomplete in the catalog)


@dataclass(frozen=True)
class ApprovedException:
    """An approved deviation from one term for one vendor (the policy's exception register)."""

    vendor: str
    term: str
    citation: str
    text: str
    allows_duration: Duration | None = None
    allows_countries: tuple[str, ...] = ()

    def covers(self, vendor: str) -> bool:
        a, b = self.vendor.casefold(), vendor.casefold()
        return bool(b) and (a == b or a in b or b in a)


@dataclass(frozen=True)
class Catalog:
    name: str
    title: str
    requirements: tuple[Requirement, ...]
    exceptions: tuple[ApprovedException, ...] = ()
    organisation: str = ""


def _compile(value: object, where: str) -> re.Pattern[str]:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: a pattern must be a non-empty string")
    try:
        return re.compile(value, re.IGNORECASE)
    except re.error as exc:
        raise ConfigError(f"{where}: bad pattern ({exc})") from exc


def _duration(value: object, where: str) -> Duration:
    try:
        return Duration.parse(str(value))
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def _countries(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{where}: give a list of countries")
    try:
        return tuple(country_name(str(v)) for v in value)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def _described(value: object, where: str) -> tuple[re.Pattern[str] | None, str]:
    """``{pattern, says}``: a pattern and the words a report uses for what it stands for."""
    if value is None:
        return None, ""
    if not isinstance(value, dict) or set(value) != {"pattern", "says"}:
        raise ConfigError(f"{where}: give 'pattern' and 'says'")
    return _compile(value["pattern"], where), " ".join(str(value["says"]).split())


def _fields(raw: dict[str, Any], where: str, known: set[str], needed: tuple[str, ...]) -> None:
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"{where}: unknown field {sorted(unknown)[0]!r}")
    for key in needed:
        if not str(raw.get(key) or "").strip():
            raise ConfigError(f"{where}: '{key}' is empty")


def _requirement(raw: dict[str, Any], where: str, source: str) -> Requirement:
    """One entry. A malformed file (an unknown field or check, a bad pattern, no id) fails here;
    an entry that is only incomplete (no requirement text, no topic, a limit that cannot be
    read) is kept with its ``problem``, and every row of it says ``needs review``."""
    _fields(raw, where, _REQUIREMENT_KEYS, ("id", "citation", "check"))
    where = f"{where} ({raw['id']})"
    check = raw["check"]
    if check not in CHECK_KINDS:
        raise ConfigError(f"{where}: check must be one of {', '.join(CHECK_KINDS)}")
    problems = []
    if not str(raw.get("requirement") or "").strip():
        problems.append("it states no requirement")
    topic = raw.get("topic") or []
    if isinstance(topic, str):
        topic = [topic]
    if not topic and not raw.get("cites"):
        problems.append("it gives no topic to find the clause by")
    limit = minimum = None
    countries: tuple[str, ...] = ()
    if check in ("deadline", "notice"):
        try:
            limit = Duration.parse(str(raw["limit"]))
        except (KeyError, ValueError):
            problems.append(f"its limit {raw.get('limit')!r} is not a time limit")
    if check == "location":
        try:
            countries = _countries(raw.get("countries"), where)
        except ConfigError:
            problems.append("it names no known countries")
    if check == "amount":
        try:
            minimum = float(raw["minimum"])
        except (KeyError, TypeError, ValueError):
            problems.append("it gives no numeric minimum")
    also, also_says = _described(raw.get("also"), f"{where} also")
    partial, partial_says = _described(raw.get("partial"), f"{where} partial")
    return Requirement(
        id=str(raw["id"]),
        citation=str(raw["citation"]).strip(),
        text=" ".join(str(raw.get("requirement") or "").split()),
        check=cast(CheckKind, check),
        topic=tuple(_compile(t, f"{where} topic") for t in topic),
        cites=tuple(str(c) for c in raw.get("cites") or ()),
        not_topic=_compile(raw["not_topic"], f"{where} not_topic")
        if raw.get("not_topic")
        else None,
        limit=limit,
        countries=countries,
        minimum=minimum,
        allowed_if=_compile(raw["allowed_if"], f"{where} allowed_if")
        if raw.get("allowed_if")
        else None,
        also=also,
        also_says=also_says,
        partial=partial,
        partial_says=partial_says,
        source=source,
        problem="; ".join(problems),
    )


def _exception(raw: dict[str, Any], where: str, terms: dict[str, Requirement]) -> ApprovedException:
    _fields(raw, where, _EXCEPTION_KEYS, ("vendor", "term", "citation"))
    term = terms.get(str(raw["term"]))
    if term is None:
        raise ConfigError(f"{where}: no term {raw['term']!r} in this file")
    allows = raw.get("allows")
    duration: Duration | None = None
    countries: tuple[str, ...] = ()
    if allows is not None:
        if term.check in ("deadline", "notice"):
            duration = _duration(allows, where)
        elif term.check == "location":
            countries = _countries(allows, where)
        else:
            raise ConfigError(f"{where}: 'allows' applies only to time limits and locations")
    return ApprovedException(
        vendor=str(raw["vendor"]).strip(),
        term=term.id,
        citation=str(raw["citation"]).strip(),
        text=" ".join(str(raw.get("text") or "").split()),
        allows_duration=duration,
        allows_countries=countries,
    )


def load_catalog(path: Path) -> Catalog:
    """A catalog file, validated: unknown fields, bad patterns and unreadable figures fail here
    with the file and entry named."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the catalog {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping with 'requirements' or 'terms'")
    items = raw.get("requirements") if "requirements" in raw else raw.get("terms")
    if not isinstance(items, list) or not items:
        raise ConfigError(f"{path}: no requirements")
    source = str(raw.get("policy") or "rule")
    requirements = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ConfigError(f"{path}: entry {i + 1} is not a mapping")
        requirements.append(_requirement(item, f"{path.name} entry {i + 1}", source))
    ids = [r.id for r in requirements]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ConfigError(f"{path}: requirement id {dupes[0]!r} appears twice")
    by_id = {r.id: r for r in requirements}
    exceptions = tuple(
        _exception(item, f"{path.name} exception {i + 1}", by_id)
        for i, item in enumerate(raw.get("exceptions") or [])
    )
    return Catalog(
        name=str(raw.get("catalog") or path.stem),
        title=str(raw.get("title") or raw.get("organisation") or path.stem),
        requirements=tuple(requirements),
        exceptions=exceptions,
        organisation=str(raw.get("organisation") or ""),
    )

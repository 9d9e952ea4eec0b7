"""Access groups: the names that say who may read a document or who a user is."""

from __future__ import annotations

import re

from core.errors import ConfigError

GROUP_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def parse_groups(value: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else list(value)
    groups = sorted({g.strip().lower() for g in items if g.strip()})
    bad = [g for g in groups if not GROUP_RE.match(g)]
    if bad:
        raise ConfigError(
            f"invalid group name {bad[0]!r} (lower-case letters, digits, '-' and '_')"
        )
    if not groups:
        raise ConfigError("give at least one group, e.g. --groups staff")
    return tuple(groups)

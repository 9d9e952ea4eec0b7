"""Hierarchy-aware locator matching: a retrieved passage is relevant to a gold locator when it
holds that paragraph (its own locator or one of its paragraph spans is the gold locator or under
it), or when it is a paragraph inside the gold section."""

from __future__ import annotations

from collections.abc import Iterable

from core.locators import inside


def matches(passage_locators: Iterable[str], gold: str) -> bool:
    return any(inside(loc, gold) for loc in passage_locators)


def matched_gold(passage_locators: Iterable[str], gold: Iterable[str]) -> list[str]:
    locs = list(passage_locators)
    return [g for g in gold if matches(locs, g)]

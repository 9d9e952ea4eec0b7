"""The BAA check and the Security Rule coverage against the answer keys written by hand
(evals/check-keys.yaml): each key is complete and names real clauses, and the tool agrees with it
on at least the key's min_accuracy of its rows."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from assistant.checks.catalog import load_catalog
from assistant.checks.coverage import load_specifications
from assistant.evaluation.check_keys import KeySpec, load_key_specs, score_key
from core.settings import PROJECT_ROOT, Settings
from ingest.loaders import SourceFile, load

SPECS = load_key_specs()
SETTINGS = Settings(paths={"data_dir": PROJECT_ROOT / "data", "corpus_dirs": []})


def _locators(path: Path) -> set[str]:
    loaded = load(SourceFile(path, "corpus"), path.read_bytes(), SETTINGS)
    return {c.locator for c in loaded.chunks} | {s.locator for c in loaded.chunks for s in c.spans}


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_the_key_is_complete_and_cites_real_clauses(spec: KeySpec) -> None:
    key = yaml.safe_load(spec.key.read_text(encoding="utf-8"))
    if spec.kind == "coverage":
        items = load_specifications(SETTINGS.checks.security_catalog)
        assert [row["item"] for row in key["rows"]] == [i.id for i in items]
        folder = PROJECT_ROOT / key["policies"]
        known = set().union(
            *(_locators(p) for p in folder.iterdir() if p.suffix in (".md", ".pdf", ".docx"))
        )
        for row in key["rows"]:
            assert set(row["locators"]) <= known, row
            assert bool(row["locators"]) == (row["status"] != "gap"), row
        return
    rule = load_catalog(SETTINGS.checks.rule_catalog)
    terms = load_catalog(PROJECT_ROOT / key["terms"])
    ids = [r.id for r in (*rule.requirements, *terms.requirements)]
    for entry in key["contracts"]:
        assert [row["requirement"] for row in entry["rows"]] == ids, entry["document"]
        known = _locators(PROJECT_ROOT / entry["document"])
        for row in entry["rows"]:
            assert set(row.get("locators") or []) <= known, (entry["document"], row)
            assert bool(row.get("locators")) == (row["status"] != "missing"), row


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_the_tool_agrees_with_the_key(spec: KeySpec) -> None:
    score = score_key(Settings(), spec)
    wrong = "\n".join(f"{e['vendor']} {e['requirement']}: {e['got']} != {e['expected']}"
                      for e in score.errors)  # fmt: skip
    assert score.accuracy >= spec.min_accuracy, f"{score.accuracy:.2f}\n{wrong}"

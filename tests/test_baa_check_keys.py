"""The BAA check against the answer keys written by hand (evals/baa-check.yaml): each key is
complete and names real clauses, and the checker agrees with it on at least min_accuracy of its
rows."""

from __future__ import annotations

import pytest
import yaml

from assistant.checks.catalog import load_catalog
from assistant.evaluation.baa_keys import KeySpec, load_key_specs, score_key
from assistant.settings import PROJECT_ROOT, Settings
from ingest.loaders import SourceFile, load

SPECS = load_key_specs()


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_the_key_is_complete_and_cites_real_clauses(spec: KeySpec) -> None:
    key = yaml.safe_load(spec.key.read_text(encoding="utf-8"))
    rule = load_catalog(PROJECT_ROOT / "assistant" / "checks" / "baa_rule.yaml")
    terms = load_catalog(PROJECT_ROOT / key["terms"])
    ids = [r.id for r in (*rule.requirements, *terms.requirements)]
    settings = Settings(paths={"data_dir": PROJECT_ROOT / "data", "corpus_dirs": []})
    for entry in key["contracts"]:
        assert [row["requirement"] for row in entry["rows"]] == ids, entry["document"]
        path = PROJECT_ROOT / entry["document"]
        loaded = load(SourceFile(path, "corpus"), path.read_bytes(), settings)
        known = {c.locator for c in loaded.chunks} | {
            s.locator for c in loaded.chunks for s in c.spans
        }
        for row in entry["rows"]:
            assert set(row.get("locators") or []) <= known, (entry["document"], row)
            assert bool(row.get("locators")) == (row["status"] != "missing"), row


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_the_checker_agrees_with_the_key(spec: KeySpec) -> None:
    score = score_key(Settings(), spec)
    wrong = "\n".join(f"{e['vendor']} {e['requirement']}: {e['got']} != {e['expected']}"
                      for e in score.errors)  # fmt: skip
    assert score.accuracy >= spec.min_accuracy, f"{score.accuracy:.2f}\n{wrong}"

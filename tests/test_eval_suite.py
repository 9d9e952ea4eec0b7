"""The eval suite: profiles (an organisation, its question files on or off) each with its own
index and thresholds, and the ablation table that switches each retrieval stage off in turn."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from assistant.evaluation.profiles import load_profiles, profile_settings
from assistant.evaluation.suite import PLAIN, run_suite
from assistant.runtime.stores import open_store
from core.embeddings import build_embedder
from core.errors import ConfigError
from core.settings import RETRIEVAL_STAGES, Settings
from ingest.pipeline import run_ingest
from tests.conftest import DATA, ROOT

EVAL = DATA / "eval"


def _fake_thresholds(settings: Settings) -> None:
    # the bag-of-words fake embedder cannot match paraphrases by meaning
    settings.answer.abstain_min_dense = 0.02
    settings.answer.abstain_min_coverage = 0.2
    settings.answer.abstain_unknown_terms_min_dense = 0.0


def _profiles(tmp_path: Path, other_corpus: Path, thresholds: Path) -> Path:
    spec = {
        "tiny": {
            "description": "the configured index",
            "dataset": str(EVAL / "dataset"),
            "thresholds": str(thresholds),
        },
        "other": {
            "description": "another organisation, indexed apart, no question files",
            "corpus": str(other_corpus),
            "question_files": False,
            "dataset": str(EVAL / "dataset"),
            "thresholds": str(thresholds),
        },
        "dev": {"description": "a dev split", "dataset": str(EVAL / "dataset"), "report": False},
    }
    path = tmp_path / "profiles.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def test_the_suite_runs_each_profile_on_its_own_index_with_an_ablation_table(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_thresholds(settings)
    _answers_cite_in_another_order(monkeypatch)
    emb = build_embedder(settings.embedding)
    assert run_ingest(settings, emb, lambda: open_store(settings, emb), progress=False).ok
    other = tmp_path / "other-org" / "documents"
    shutil.copytree(DATA / "corpus", other)
    profiles = load_profiles(_profiles(tmp_path, other, EVAL / "thresholds.yaml"))
    assert [p.name for p in profiles.values() if p.report] == ["tiny", "other"]
    own = profile_settings(settings, profiles["other"])
    assert own.paths.data_dir == settings.paths.data_dir / "eval-orgs" / "other-org-documents"
    assert own.paths.corpus_dirs == [other] and own.retrieval.corpus_questions is None

    chosen = [profiles["tiny"], profiles["other"]]
    suite = run_suite(settings, chosen, out_root=tmp_path / "r", run_name="s", ablation=True)
    assert suite.ok, suite.failures
    assert (own.paths.data_dir / "index").is_dir()  # built for it, beside the main index
    out = tmp_path / "r" / "s"
    for name in ("tiny", "other"):
        assert json.loads((out / name / "summary.json").read_text())["run"]["name"] == name
        rows = suite.ablation[name]
        assert [r["config"] for r in rows] == [
            "all stages",
            *(f"without {s}" for s in RETRIEVAL_STAGES),
            PLAIN,
        ]
        assert all("recall@5 policy" in r and "/" in r["refused"] for r in rows)
        full = suite.results[name].summary
        assert "plain hybrid (dense + BM25)" in full["baselines"]
        # every stage on is the profile's own ranking, as its own table reports it (not the
        # answer's passages, renumbered in the order its quotes cite them)
        own_table = full["retrieval"][full["project_system"]]
        for key, value in rows[0].items():
            if key.startswith(("recall@5 ", "mrr ")):
                metric, group = key.split(" ")
                assert value == round(own_table[group][metric], 4), key
    report = (out / "report.md").read_text()
    assert "[other](other/report.md)" in report and "### other" in report
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["profiles"]) == {"tiny", "other"}


def _answers_cite_in_another_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """Answers whose passages come in another order than retrieved, as an answer's do when its
    quotes cite a later passage first."""
    from assistant.evaluation import suite

    def build_chain(*args: Any, **kwargs: Any) -> Any:
        chain = real(*args, **kwargs)
        ask = chain.ask

        def reordered(*a: Any, **kw: Any) -> Any:
            answer = ask(*a, **kw)
            answer.passages = list(reversed(answer.passages))
            return answer

        chain.ask = reordered
        return chain

    real = suite.build_chain
    monkeypatch.setattr(suite, "build_chain", build_chain)


def test_a_profile_below_its_thresholds_fails_the_suite(settings: Settings, tmp_path: Path) -> None:
    _fake_thresholds(settings)
    emb = build_embedder(settings.embedding)
    assert run_ingest(settings, emb, lambda: open_store(settings, emb), progress=False).ok
    strict = tmp_path / "strict.yaml"
    strict.write_text(
        yaml.safe_dump(
            {
                "answers": {"refused_share_max": -1.0},
                "ahead_by": {"plain hybrid (dense + BM25)": {"recall@5": {"policy": 0.5}}},
            }
        )
    )
    profiles = load_profiles(_profiles(tmp_path, DATA / "corpus", strict))
    suite = run_suite(settings, [profiles["tiny"]], out_root=tmp_path / "r", run_name="x")
    assert not suite.ok
    assert any("refused_share" in f for f in suite.failures)
    assert any("0.5 ahead of 'plain hybrid" in f for f in suite.failures)
    assert "FAILED" in (tmp_path / "r" / "x" / "report.md").read_text()


def test_profiles_are_validated_and_the_bundled_ones_exist(tmp_path: Path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("x: {dataset: d, colour: red}\n")
    with pytest.raises(ConfigError, match="unknown keys"):
        load_profiles(bad)
    bad.write_text("x: {corpus: c}\n")
    with pytest.raises(ConfigError, match="dataset"):
        load_profiles(bad)
    bundled = load_profiles()
    assert {"lakemont", "lakemont-no-questions", "saguaro"} <= {
        n for n, p in bundled.items() if p.report
    }
    for profile in bundled.values():
        assert profile.dataset.is_dir(), profile.dataset
        assert profile.thresholds is None or profile.thresholds.exists(), profile.thresholds
        assert profile.corpus is None or profile.corpus.is_dir()
    # the unseen organisation is never a corpus the product reads
    assert all(ROOT / "evals" not in p.parents for p in Settings().paths.corpus_dirs)

"""The eval command: metrics and report on a tiny golden set, and a broken retriever fails it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from assistant.commands.eval import _depths
from assistant.evaluation.dataset import Item, load_dataset
from assistant.evaluation.metrics import depth_scores
from assistant.evaluation.runner import run_eval
from assistant.evaluation.systems import Retrieved
from assistant.retrieval.retriever import HybridRetriever, Retrieval
from assistant.runtime.stores import open_store
from core.embeddings import build_embedder
from core.index.reader import Index
from core.settings import Settings
from ingest.pipeline import run_ingest

EVAL = Path(__file__).parent / "data" / "eval"


@pytest.fixture
def index(settings: Settings) -> Index:
    # thresholds for the fake bag-of-words embedder, which cannot match paraphrases semantically
    settings.answer.abstain_min_dense = 0.02
    settings.answer.abstain_min_coverage = 0.2
    settings.answer.abstain_unknown_terms_min_dense = 0.0
    emb = build_embedder(settings.embedding)
    assert run_ingest(settings, emb, lambda: open_store(settings, emb), progress=False).ok
    return Index(settings, emb, open_store(settings, emb))


def test_eval_writes_summary_report_and_chart(
    settings: Settings, index: Index, tmp_path: Path
) -> None:
    result = run_eval(
        settings,
        index,
        dataset_dir=EVAL / "dataset",
        thresholds_path=EVAL / "thresholds.yaml",
        out_root=tmp_path / "results",
        run_name="t1",
    )
    assert result.ok, result.failures
    s = result.summary
    project = s["retrieval"][s["project_system"]]
    assert project["policy"]["recall@5"] == 1.0 and project["baa"]["hit@1"] == 1.0
    assert set(s["baselines"]) == {
        "plain hybrid (dense + BM25)",
        "dense only",
        "BM25 only",
        "LangChain tutorial (1000/200 + Chroma)",
    }
    assert s["abstention"]["f1"] == 1.0 and s["answers"]["citation_validity"] == 1.0
    assert 0.0 < s["answers"]["semantic_similarity"] <= 1.0
    assert 0.0 < project["all"]["non_llm_context_recall"] <= 1.0
    out = tmp_path / "results" / "t1"
    assert json.loads((out / "summary.json").read_text())["run"]["name"] == "t1"
    assert "| **hipaa-assistant (hybrid)** |" in (out / "report.md").read_text()
    assert (out / "recall_at_5.png").read_bytes()[:4] == b"\x89PNG"
    # where the misses are: deeper candidate lists and the routed recall, for the project only
    for group in ("policy", "all"):
        deep = [project[group][f"recall@{d}"] for d in (5, 10, 20, 40)]
        assert deep == sorted(deep) and 0.0 < deep[-1] <= 1.0
        assert 0.0 <= project[group]["routed_recall@5"] <= 1.0
    assert "routed_recall@5" not in s["retrieval"]["dense only"]["all"]
    assert s["run"]["depths"] == [10, 20, 40]
    assert "### Where the misses are (hipaa-assistant (hybrid))" in (out / "report.md").read_text()


def test_a_broken_retriever_fails_the_eval_command(
    settings: Settings, index: Index, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = HybridRetriever.retrieve

    def broken(self: HybridRetriever, question: str, scope, k=None) -> Retrieval:  # type: ignore[no-untyped-def]
        result = real(self, question, scope, k)
        result.passages = list(reversed(result.passages))[:1]  # wrong order, most of it lost
        return result

    monkeypatch.setattr(HybridRetriever, "retrieve", broken)
    from assistant import cli

    monkeypatch.setenv("HIPAA_ASSISTANT_EMBEDDING__PROVIDER", "fake-hash")
    monkeypatch.setenv("HIPAA_ASSISTANT_EMBEDDING__MODEL", "v1")
    monkeypatch.setenv("HIPAA_ASSISTANT_CHUNKING__MIN_WORDS", "10")
    monkeypatch.setenv("HIPAA_ASSISTANT_ANSWER__ABSTAIN_MIN_DENSE", "0.02")
    monkeypatch.setenv("HIPAA_ASSISTANT_ANSWER__ABSTAIN_MIN_COVERAGE", "0.2")
    monkeypatch.setenv("HIPAA_ASSISTANT_ANSWER__ABSTAIN_UNKNOWN_TERMS_MIN_DENSE", "0")
    rc = cli.main(
        [
            "--data-dir",
            str(settings.paths.data_dir),
            "eval",
            "--dataset",
            str(EVAL / "dataset"),
            "--thresholds",
            str(EVAL / "thresholds.yaml"),
            "--out",
            str(tmp_path / "r"),
            "--run-name",
            "broken",
            "--no-baselines",
        ]
    )
    assert rc == 1
    report = (tmp_path / "r" / "broken" / "report.md").read_text()
    assert "FAILED: retrieval recall@5 on policy" in report


def test_the_golden_dataset_is_well_formed() -> None:
    from tests.conftest import ROOT

    items = load_dataset(ROOT / "evals" / "dataset")
    groups = {
        g: sum(1 for i in items if i.group == g)
        for g in ("rule", "policy", "baa", "multi", "unanswerable")
    }
    assert len(items) >= 100
    assert groups["rule"] >= 40 and groups["policy"] >= 20 and groups["baa"] >= 12
    assert groups["multi"] >= 8 and groups["unanswerable"] >= 8
    for i in items:
        if any("BAA" in g for g in i.gold):
            assert "privacy-office" in i.groups or "legal" in i.groups, i.id


def test_judge_metrics_are_recorded_and_refusals_reported_apart(
    settings: Settings, index: Index, tmp_path: Path
) -> None:
    """A judge whose output cannot be parsed gives NaN for that question (never a crash, never a
    zero), and a refusal is not scored at all but counted apart."""
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from assistant.evaluation.metrics import JudgeMetrics

    judge = JudgeMetrics(FakeListChatModel(responses=["not json at all"]), index.embedder)
    result = run_eval(
        settings,
        index,
        dataset_dir=EVAL / "dataset",
        thresholds_path=None,
        out_root=tmp_path,
        run_name="judged",
        baselines=False,
        judge=judge,
    )
    j = result.summary["answers"]["judge"]
    assert j["refusals_not_scored"] == 1 and j["scored"] == 4
    assert j["judge_failures"] == 4 * 3
    refusal = next(r for r in result.summary["per_question"] if r["abstained"])
    assert all(v != v for v in refusal["judge"].values())  # NaN, not 0
    assert "refusals not scored" in (tmp_path / "judged" / "report.md").read_text()


def _passage(loc: str, kind: str) -> Retrieved:
    return Retrieved(loc, "", (loc,), kind)


def test_depth_scores_show_candidates_and_routing() -> None:
    item = Item("q", "multi", "?", "", ("45 CFR 164.312(d)", "AI-301 §4"), ("staff",))
    org = [_passage(f"SEC-201 §{i}", "organisation") for i in range(1, 7)]
    rules = [_passage(f"45 CFR 164.30{i}", "rule") for i in range(1, 6)]
    deep = [*org, _passage("AI-301 §4.2", "organisation"), *rules]
    deep += [_passage("45 CFR 164.312(d)", "rule"), *(_passage(f"X {i}", "") for i in range(30))]
    kinds = {"rule", "organisation"}
    got = depth_scores(item, deep, kinds, 5, (10, 20, 40))
    # the policy paragraph inside the gold section is 7th, the rule paragraph 13th
    assert got == {"recall@10": 0.5, "recall@20": 1.0, "recall@40": 1.0, "routed_recall@5": 0.0}
    # routed to the rule alone, the rule paragraph is 6th of its kind: still out of the top 5
    assert depth_scores(item, deep, {"rule"}, 5, (10,))["routed_recall@5"] == 0.0
    assert depth_scores(item, deep, {"rule"}, 6, (10,))["routed_recall@6"] == 0.5


def test_eval_depths_argument() -> None:
    assert _depths("40,10,10") == (10, 40)
    assert _depths("none") == () and _depths("0") == ()
    for bad in ("ten", "5,-1"):
        with pytest.raises(argparse.ArgumentTypeError):
            _depths(bad)

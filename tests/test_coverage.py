"""`hipaa-assistant coverage`: the Security Rule catalog, how a policy sentence counts, the command
and the chat view."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from assistant.checks.coverage import (
    Policy,
    check_item,
    load_specifications,
    narrow,
    policy,
)
from assistant.checks.request import is_coverage_request
from assistant.cli import main
from assistant.ui import render
from core.documents import Chunk, SourceDocument
from core.errors import ConfigError
from core.settings import Settings
from tests.conftest import index_org_corpus

SPECS = {s.id: s for s in load_specifications(Settings().checks.security_catalog)}


def test_the_catalog_lists_the_security_rule() -> None:
    specs = list(SPECS.values())
    assert len(specs) == 48
    assert sum(s.required for s in specs) == 26  # the rest are addressable
    by_citation = {s.citation: s for s in specs}
    assert by_citation["45 CFR 164.312(a)(2)(iv)"].name.startswith("Encryption and decryption")
    assert not by_citation["45 CFR 164.312(a)(2)(iv)"].required
    assert by_citation["45 CFR 164.308(a)(1)(ii)(A)"].required


def test_a_bad_catalog_fails_with_the_item_named(tmp_path: Path) -> None:
    path = tmp_path / "cat.yaml"
    path.write_text("items:\n  - {id: x, citation: c, name: n, required: true, topic: ['(']}\n")
    with pytest.raises(ConfigError, match="item 1: bad pattern"):
        load_specifications(path)


def _policy(title: str, *clauses: list[str], implements: tuple[str, ...] = ()) -> Policy:
    chunks = [
        Chunk(f"c{i}", "P-1", f"P-1 §{i + 1}", "\n".join(lines), heading_path=(title,))
        for i, lines in enumerate(clauses)
    ]
    doc = SourceDocument("P-1", "policy", title, "p.md", "0", implements=implements)
    return policy(doc, chunks)


def test_a_section_that_says_what_is_done_covers_it() -> None:
    p = _policy(
        "Access Control",
        ["4.5 Automatic logoff", "Workstations lock automatically after 15 minutes of "
         "inactivity.", "Sessions close after 15 minutes of inactivity and need a new sign-in."],
    )  # fmt: skip
    row = check_item(SPECS["automatic-logoff"], [p])
    assert (row.status, row.locators) == ("covered", ("P-1 §1",))
    assert "lock automatically" in row.quote


def test_one_sentence_citing_the_specification_covers_it_unless_the_topic_is_in_passing() -> None:
    # the sentence is about lockouts and reporting, with "log-in monitoring" named after "as
    # part of": another word of the topic says what is done
    states = _policy(
        "Access Control",
        ["5.1 Passwords", "Accounts lock after 10 failed attempts within 15 minutes, and repeated "
         "failures are reported to the SOC as part of log-in monitoring (45 CFR "
         "164.308(a)(5)(ii)(C))."],
    )  # fmt: skip
    assert check_item(SPECS["login-monitoring"], [states]).status == "covered"
    # the topic only in passing: the analysis is what a decision is based on, not described
    passing = _policy(
        "Encryption",
        ["4.1 Decision", "Based on its risk analysis under 45 CFR 164.308(a)(1)(ii)(A), the "
         "hospital has determined that encryption is reasonable and appropriate."],
    )  # fmt: skip
    assert check_item(SPECS["risk-analysis"], [passing]).status == "partial"


def test_media_re_use_and_a_vendor_s_published_results_are_not_other_topics() -> None:
    media = _policy(
        "Retention and Disposal",
        ["5.2 Sanitization before re-use", "Before a device is reissued, the Service Desk clears "
         "it.", "A sample of sanitized devices is verified each month."],
    )  # fmt: skip
    assert check_item(SPECS["workstation-use"], [media]).status == "gap"
    vendor = _policy(
        "Clinical Model Governance",
        ["4.4 Review", "The committee reviews the vendor's model documentation, training data "
         "description, published performance and update schedule."],
    )  # fmt: skip
    assert check_item(SPECS["documentation-availability"], [vendor]).status == "gap"
    posted = _policy(
        "Information Security Program",
        ["3 Documentation", "Current policies and procedures are made available to the "
         "workforce on the intranet."],
    )  # fmt: skip
    assert check_item(SPECS["documentation-availability"], [posted]).status != "gap"


def test_a_single_mention_is_partial_and_nothing_is_a_gap() -> None:
    p = _policy(
        "Access Control",
        ["2 Scope", "Departments may request a shorter timeout after 5 minutes of inactivity."],
    )
    assert check_item(SPECS["automatic-logoff"], [p]).status == "partial"
    row = check_item(SPECS["maintenance-records"], [p])
    assert (row.status, row.locators) == ("gap", ())
    claimed = _policy("Access Control", ["1 Purpose", "This policy sets access rules."],
                      implements=("45 CFR 164.310(a)(2)(iv)",))  # fmt: skip
    row = check_item(SPECS["maintenance-records"], [claimed])
    assert row.status == "gap" and "claimed in the metadata of P-1" in row.note


def test_an_ai_scoped_policy_covers_an_organisation_wide_specification_only_in_part() -> None:
    ai = _policy(
        "AI Vendor Assessment",
        ["4.4 Risk analysis", "The security office performs a risk analysis of each AI vendor.",
         "Every AI model vendor's risk analysis rates the risks of the AI service."],
    )  # fmt: skip
    assert narrow(ai)
    row = check_item(SPECS["risk-analysis"], [ai])
    assert row.status == "partial" and "only for AI" in row.note


def test_an_example_in_brackets_is_not_coverage() -> None:
    p = _policy(
        "Encryption",
        ["8 Exceptions", "The owner documents compensating controls (for example network "
         "segmentation, physical security and restricted access)."],
    )  # fmt: skip
    assert check_item(SPECS["facility-security-plan"], [p]).status == "gap"


@pytest.fixture(scope="module")
def org_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("coverage") / "data"
    index_org_corpus(data)
    return data


def test_the_command_in_every_format(org_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data-dir", str(org_data), "coverage", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 48
    by_id = {r["item"]["id"]: r for r in rows}
    logoff = by_id["automatic-logoff"]
    assert logoff["status"] == "covered" and logoff["locators"][0] == "SEC-201 §4.5"
    assert logoff["item"]["citation"] == "45 CFR 164.312(a)(2)(iii)"
    assert not logoff["item"]["required"]
    assert by_id["maintenance-records"]["status"] == "gap"
    assert main(["--data-dir", str(org_data), "coverage", "--format", "csv"]) == 0
    parsed = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(parsed) == 48 and parsed[0]["required"] in ("required", "addressable")
    assert main(["--data-dir", str(org_data), "coverage"]) == 0
    assert "48 standards and specifications:" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("message", "wanted"),
    [
        ("Security Rule coverage", True),
        ("Which Security Rule implementation specifications do our policies not address?", True),
        ("What does the Security Rule require for encryption?", False),
    ],
)
def test_the_chat_recognises_a_coverage_request(message: str, wanted: bool) -> None:
    assert is_coverage_request(message) is wanted


def test_the_chat_view_links_each_policy_section() -> None:
    p = _policy(
        "Access Control",
        ["4.5 Automatic logoff", "Workstations lock automatically after 15 minutes of "
         "inactivity.", "Sessions close after 15 minutes of inactivity."],
    )  # fmt: skip
    rows = [check_item(SPECS["automatic-logoff"], [p]), check_item(SPECS["disposal"], [p])]
    content, side = render.coverage_markdown(rows)
    assert content.startswith("**Security Rule coverage** (1 covered, 1 gap)")
    assert "| 45 CFR 164.312(a)(2)(iii) Automatic logoff | A | covered | [1] P-1 §1 |" in content
    assert "| 45 CFR 164.310(d)(2)(i) Disposal | R | **gap** | – |" in content
    assert [s.name for s in side] == ["[1]"] and "lock automatically" in side[0].content

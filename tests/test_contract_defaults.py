"""Contracts as they arrive: a BAA dropped in without metadata is restricted by default, known by
its parties, and never readable by staff; a document without stated groups is flagged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant import cli
from assistant.embeddings import build_embedder
from assistant.index.reader import Scope
from assistant.runtime import open_store
from assistant.service import AssistantService, Caller
from assistant.settings import Settings
from ingest.contracts import clean_party, vendor_of
from ingest.pipeline import run_ingest

BAA = """# Business Associate Agreement

This Business Associate Agreement is entered into by and between Northstar Clinics ("Covered
Entity") and Acme Cloud Services, Inc. ("Business Associate").

## 1 Breach Notification

Business Associate shall notify Covered Entity of any breach of unsecured protected health
information within three (3) business days of discovery, and shall cooperate fully with the
investigation that follows, providing logs and a written root cause analysis.

## 2 Offshore Processing

Business Associate shall not store or access protected health information outside the United
States, including through any subcontractor, without the prior written consent of Covered Entity.
"""


@pytest.mark.parametrize(
    ("title", "opening", "vendor"),
    [
        ("Business Associate Agreement - Parley Voice Systems LLC", "", "Parley Voice Systems"),
        ("Business Associate Agreement (Quarry Analytics Corp.)", "", "Quarry Analytics"),
        (
            "BAA between Saguaro Health Plan and Ledgerline Health AI, Inc.",
            "",
            "Ledgerline Health AI",
        ),
        (
            "Agreement",
            'made between Zephyr LLC ("Business Associate") and X ("Covered Entity")',
            "Zephyr",
        ),
        ("Remote work", "Staff may work between 9 and 5 and the Plan.", ""),
    ],
)
def test_the_vendor_is_read_from_the_title_or_the_parties_clause(
    title: str, opening: str, vendor: str
) -> None:
    assert vendor_of(title, opening) == vendor
    assert clean_party("Acme Holdings, Inc.") == "Acme Holdings"


def test_a_baa_without_metadata_is_restricted_named_and_flagged(
    settings: Settings, tiny_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tiny_corpus / "contracts"  # not a folder named for BAAs: the text says what it is
    folder.mkdir()
    (folder / "acme-cloud.md").write_text(BAA)
    settings.audit.path = tmp_path / "audit.sqlite"
    emb = build_embedder(settings.embedding)
    assert run_ingest(settings, emb, lambda: open_store(settings, emb), progress=False).ok
    service = AssistantService.build(settings)
    doc = service.index.document("acme-cloud")
    assert doc.doc_type == "baa" and doc.vendor == "Acme Cloud Services"
    assert doc.access_groups == ("privacy-office", "legal")
    assert set(doc.inferred) == {"type", "vendor", "access"}
    assert [c.locator for c in service.index.chunks if c.doc_id == "acme-cloud"][-2:] == [
        "Acme Cloud Services BAA §1",
        "Acme Cloud Services BAA §2",
    ]
    question = "How many business days does Acme Cloud have to report a breach?"
    staff = service.ask(question, Caller("sam", frozenset({"staff"}), "api")).answer
    assert all(p.doc_id != "acme-cloud" for p in staff.passages)
    assert all(c.doc_id != "acme-cloud" for c in staff.citations)
    officer = service.ask(question, Caller("pat", frozenset({"privacy-office"}), "api")).answer
    assert any(p.locator == "Acme Cloud Services BAA §1" for p in officer.passages)
    staff_hits = service.index.find_locator(
        "Acme Cloud Services BAA §1", Scope.for_groups({"staff"})
    )
    assert staff_hits == []
    # `sources` says what was inferred, and that a policy without groups got the default
    (tiny_corpus / "policies" / "TST-300-badges.md").write_text(
        "# TST-300 Badges\n\n## 1 Wearing badges\n\nBadges are worn visibly at all times on site"
        " and shown on request to security staff or a manager.\n"
    )
    assert run_ingest(settings, emb, lambda: open_store(settings, emb), progress=False).ok
    rc = cli.main(["--data-dir", str(settings.paths.data_dir), "sources", "--json"])
    assert rc == 0
    rows = {r["doc_id"]: r for r in json.loads(capsys.readouterr().out)}
    assert "access: default" in rows["acme-cloud"]["note"]
    assert "vendor: inferred (Acme Cloud Services)" in rows["acme-cloud"]["note"]
    assert rows["TST-300-badges"]["access_groups"] == ["staff"]
    assert "access: default" in rows["TST-300-badges"]["note"]

"""Contracts as they arrive: a BAA dropped in without metadata is restricted by default, known by
its parties, and never readable by staff; a document without stated groups is flagged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant import cli
from assistant.runtime.stores import open_store
from assistant.service import AssistantService, Caller
from core.embeddings import build_embedder
from core.index.reader import Scope
from core.settings import Settings
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
        (
            "Business Associate Agreement",
            'by and between Saguaro Plan ("Covered Entity"), an Arizona nonprofit corporation, and'
            ' Kestrel Intake Systems, Inc. ("Business Associate")',
            "Kestrel Intake Systems",
        ),
        (  # named only where its role is defined
            "HIPAA Business Associate Addendum",
            'between Saguaro Plan ("Plan") and Provider (defined below).\n'
            "\u201cProvider\u201d means Juniper Outreach LLC, a Nevada limited liability company.",
            "Juniper Outreach",
        ),
        ("Addendum", '"Provider" means the party named in the order form.', ""),
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


LIST_BAA = """# Business Associate Agreement

This Business Associate Agreement is entered into by and between Northwind Clinic ("Covered
Entity") and Harborview Scribe, Inc. ("Business Associate").

1. **Definitions.** Terms used but not defined here have the meanings in 45 CFR 160.103.
   1. **Breach.** "Breach" has the meaning given in 45 CFR 164.402.
   2. **Services.** The ambient documentation services described in the order form.
2. **Obligations of Business Associate.** Business Associate agrees to:
   1. Not use or disclose PHI other than as this Agreement permits or as required by law.
   2. Use appropriate <span class="keyterms_link">safeguards</span> to prevent any other use.
   3. Report to Covered Entity any breach of unsecured PHI within five (5) business days.
3. **Term and Termination.**
   1. **Term.** This Agreement runs for as long as the services are provided.
   2. **Return of PHI.** On termination, Business Associate returns or destroys all PHI within
      thirty (30) days and certifies the destruction in writing.
"""


def test_a_contract_numbered_by_nested_lists_gets_a_locator_per_clause(tmp_path: Path) -> None:
    from ingest.loaders import SourceFile, load

    path = tmp_path / "inbox" / "harborview.md"
    path.parent.mkdir()
    path.write_text(LIST_BAA)
    s = Settings(paths={"data_dir": tmp_path / "data", "corpus_dirs": []})
    loaded = load(SourceFile(path, "corpus"), path.read_bytes(), s)
    doc = loaded.document
    assert (doc.doc_type, doc.vendor, doc.access_groups) == (
        "baa",
        "Harborview Scribe",
        ("privacy-office", "legal"),
    )
    locators = {x.locator for c in loaded.chunks for x in (c, *c.spans)}
    for loc in ("§1.1", "§1.2", "§2.1", "§2.3", "§3.1", "§3.2"):
        assert f"Harborview Scribe BAA {loc}" in locators, (loc, sorted(locators))
    text = "\n".join(c.text for c in loaded.chunks)
    assert "thirty (30) days and certifies" in text and "<span" not in text
    ret = next(
        c
        for c in loaded.chunks
        if "Harborview Scribe BAA §3.2" in {c.locator, *(x.locator for x in c.spans)}
    )
    assert "Return of PHI" in ret.text


def test_bold_lead_ins_are_the_clauses_of_an_unnumbered_contract(tmp_path: Path) -> None:
    from ingest.loaders import SourceFile, load

    md = (
        "# Data Processing Terms\n\nBusiness Associate Agreement between Oakridge Health and "
        'Pinecone Notes LLC ("Business Associate").\n\n## Obligations\n\n'
        "**Safeguards.** Provider will encrypt all PHI at rest and in transit using current"
        " industry standards.\n\n**Reporting.** Provider will report any security incident"
        " within 48 hours of discovering it.\n\n## Term\n\n**Return.** On termination Provider"
        " returns or destroys all PHI within 30 days.\n"
    )
    path = tmp_path / "baas" / "pinecone.md"
    path.parent.mkdir()
    path.write_text(md)
    s = Settings(paths={"data_dir": tmp_path / "data", "corpus_dirs": []})
    loaded = load(SourceFile(path, "corpus"), path.read_bytes(), s)
    assert loaded.document.vendor == "Pinecone Notes"
    locators = {x.locator for c in loaded.chunks for x in (c, *c.spans)}
    assert {
        'Pinecone Notes BAA "Obligations" "Safeguards"',
        'Pinecone Notes BAA "Obligations" "Reporting"',
        'Pinecone Notes BAA "Term" "Return"',
    } <= locators


def test_curly_quotes_and_invisible_characters_are_normalised_in_every_format(
    tmp_path: Path,
) -> None:
    from ingest.clean_text import normalise
    from ingest.loaders import SourceFile, load

    assert normalise("\u201cProvider\u201d\u00a0shall\u00ad not \ufb01le it\u2019s") == (
        '"Provider" shall not file it\'s'
    )
    path = tmp_path / "policies" / "TST-9.md"
    path.parent.mkdir()
    path.write_text(
        "# TST-9 Quotes\n\n## 1 Use\n\nStaff may not paste \u201cPHI\u201d into a tool that"
        " isn\u2019t approved;\u00a0ask the privacy office\u200b first.\n"
    )
    s = Settings(paths={"data_dir": tmp_path / "data", "corpus_dirs": []})
    text = "\n".join(c.text for c in load(SourceFile(path, "corpus"), path.read_bytes(), s).chunks)
    assert 'paste "PHI" into a tool that isn\'t approved; ask the privacy office first.' in text

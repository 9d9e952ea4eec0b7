"""The bundled sample organisation's documents: metadata, structure, locators, PDFs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core.settings import Settings
from ingest.loaders import SourceFile, load, read_bytes
from ingest.pipeline import discover
from tests.conftest import ROOT, make_settings


@pytest.fixture(scope="module")
def loaded() -> dict[str, object]:
    settings: Settings = make_settings(Path("/nonexistent"), [ROOT / "corpus"])
    files, skipped = discover(settings)
    assert not [s for s in skipped if s.status == "failed"], skipped
    out = {}
    for f in files:
        if f.origin != "corpus":
            continue
        doc = load(f, read_bytes(f.path), settings)
        out[doc.document.doc_id] = doc
    return out


def test_ten_policies_and_four_baas(loaded: dict) -> None:
    types = [d.document.doc_type for d in loaded.values()]
    assert types.count("policy") == 10
    assert types.count("baa") == 4


def test_every_document_has_metadata_and_cites_hipaa(loaded: dict) -> None:
    for doc_id, d in loaded.items():
        doc = d.document
        assert doc.title and doc.owner and doc.version and doc.as_of, doc_id
        assert doc.implements and all(i.startswith("45 CFR 16") for i in doc.implements), doc_id
        text = " ".join(c.text for c in d.chunks)
        assert "45 CFR 164." in text, doc_id


def test_baas_are_restricted_and_policies_are_for_staff(loaded: dict) -> None:
    for d in loaded.values():
        if d.document.doc_type == "baa":
            assert set(d.document.access_groups) == {"privacy-office", "legal"}
            assert d.document.vendor
        else:
            assert "staff" in d.document.access_groups


def test_baas_and_two_policies_come_from_pdf_with_pages(loaded: dict) -> None:
    pdf_docs = [d for d in loaded.values() if d.document.fmt == "pdf"]
    assert {d.document.doc_type for d in pdf_docs} == {"baa", "policy"}
    assert sum(d.document.doc_type == "policy" for d in pdf_docs) >= 2
    for d in pdf_docs:
        assert all(c.page and c.page >= 1 for c in d.chunks)


def test_clause_and_section_locators(loaded: dict) -> None:
    acme = {c.locator for c in loaded["BAA-ACME-SCRIBE"].chunks}
    assert "Acme Scribe BAA §4.3" in acme
    c43 = next(c for c in loaded["BAA-ACME-SCRIBE"].chunks if c.locator == "Acme Scribe BAA §4.3")
    assert "five business days" in c43.text.lower() or "5 business days" in c43.text.lower()
    ai301 = {c.locator for c in loaded["AI-301"].chunks}
    assert "AI-301 §5.1" in ai301
    c51 = next(c for c in loaded["AI-301"].chunks if c.locator == "AI-301 §5.1")
    assert "discharge summary" in c51.text.lower()
    assert c51.heading_path[0] == "Acceptable Use of Generative AI Tools"


def test_every_numbered_clause_of_the_pdfs_is_a_locator(loaded: dict) -> None:
    import re

    for doc_id in ("BAA-ACME-SCRIBE", "BAA-CLARION", "BAA-MERIDIAN", "BAA-TESSELLATE", "SEC-210"):
        src = next((ROOT / "corpus" / "pdf-src").rglob(f"{doc_id}*.md")).read_text()
        numbers = re.findall(r"^#{2,4} (\d+(?:\.\d+)*)\.? ", src, flags=re.M)
        locs = {
            loc for c in loaded[doc_id].chunks for loc in (c.locator, *(s.locator for s in c.spans))
        }
        prefix = loaded[doc_id].chunks[-1].locator.split(" §")[0]
        missing = [n for n in numbers if "." in n and f"{prefix} §{n}" not in locs]
        assert not missing, (doc_id, missing)


def test_baa_terms_differ_where_it_matters(loaded: dict) -> None:
    def text(doc_id: str) -> str:
        return " ".join(c.text for c in loaded[doc_id].chunks).lower()

    assert "10 business days" in text("BAA-CLARION")
    assert "30 calendar days" in text("BAA-MERIDIAN")
    assert "60 calendar days" in text("BAA-TESSELLATE")
    assert "india" in text("BAA-MERIDIAN") and "canada" in text("BAA-CLARION")


def test_pdfs_are_generated_from_their_markdown_sources() -> None:
    pytest.importorskip("fpdf")
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_corpus_pdfs.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_unseen_organisations_files_are_generated_from_their_sources() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_eval_org.py"), "saguaro", "--check"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_unseen_organisation_is_read_in_each_of_its_formats(tmp_path: Path) -> None:
    """Saguaro keeps mostly Word files, some PDFs (one with a sidecar instead of embedded
    metadata), a Markdown file, and one Word file with no metadata at all."""
    settings = Settings(paths={"data_dir": tmp_path, "corpus_dirs": []})
    folder = ROOT / "evals" / "orgs" / "saguaro" / "documents"
    docs = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix in (".docx", ".pdf", ".md"):
            loaded = load(SourceFile(path, "corpus"), path.read_bytes(), settings)
            docs[loaded.document.doc_id] = loaded
    formats = sorted(d.document.fmt for d in docs.values())
    assert formats.count("docx") >= 8 and "pdf" in formats and "markdown" in formats
    assert len([d for d in docs.values() if d.document.doc_type == "policy"]) >= 8
    baas = [d.document for d in docs.values() if d.document.doc_type == "baa"]
    assert sorted(b.vendor for b in baas) == ["Ledgerline", "Parley Voice", "Quarry Analytics"]
    assert all(b.access_groups == ("privacy-office", "legal") for b in baas)
    assert docs["SHP-IR-01"].document.as_of == "2026-01-15"  # from its sidecar
    assert docs["SHP-HR-03"].document.title == "Workforce Privacy Training and Sanctions"
    locators = {s.locator for d in docs.values() for c in d.chunks for s in c.spans} | {
        c.locator for d in docs.values() for c in d.chunks
    }
    assert {
        "Ledgerline BAA §5.1",  # Article V, "Section 5.1 ..." run into its paragraph
        "SHP-VM-02 §5.1(c)",  # a typed lettered item
        "SHP-DA-03 §11.3",  # Word's automatic numbering
        'SHP-HR-03 "Sanction Levels"',  # a bold line without a number
        "Quarry Analytics BAA §8.2",  # a PDF contract
    } <= locators

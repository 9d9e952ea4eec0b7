"""The bundled corpus + the official texts from the offline mirror, ingested end to end (with the
fake embedder: this checks structure, supersedence and the listing, not semantic quality)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.commands.sources import sources_listing
from assistant.runtime.stores import open_store
from core.embeddings import build_embedder
from core.index.reader import Index
from core.settings import Settings
from ingest.official import fetch
from ingest.pipeline import run_ingest
from tests.conftest import ALL, ROOT, make_settings
from tests.test_official_parsing import SUBPART_SECTIONS


@pytest.fixture(scope="module")
def full(mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Index]:
    settings = make_settings(tmp_path_factory.mktemp("full") / "data", [ROOT / "corpus"])
    settings.chunking.min_words = 25
    report = fetch(settings, mirror=mirror)
    assert report.ok, [(o.source.id, o.detail) for o in report.outcomes if o.status == "failed"]
    emb = build_embedder(settings.embedding)
    ingested = run_ingest(settings, emb, lambda: open_store(settings, emb), progress=False)
    assert ingested.ok, [(o.name, o.reason) for o in ingested.failed]
    return settings, Index(settings, emb, open_store(settings, emb))


def test_every_section_of_164_c_d_e_is_retrievable_from_the_ecfr(full: tuple) -> None:
    _, idx = full
    for sections in SUBPART_SECTIONS.values():
        for number in sections:
            chunks = idx.find_locator(f"45 CFR {number}", ALL)
            assert chunks, number
            assert {c.doc_id for c in chunks} <= {"ecfr-45-164-C", "ecfr-45-164-D", "ecfr-45-164-E"}


def test_part_160_and_164_subpart_a_come_from_the_pdf_with_pages(full: tuple) -> None:
    _, idx = full
    for number in ("160.103", "160.203", "160.404", "164.103", "164.105"):
        chunks = idx.find_locator(f"45 CFR {number}", ALL)
        assert chunks and all(c.doc_id == "hhs-combined-2013" for c in chunks), number
        assert all(c.page and c.page > 9 for c in chunks)
    assert not any(c.locator.startswith("45 CFR 162.") for c in idx.chunks)


def test_the_newer_ecfr_text_supersedes_the_pdf_copy(full: tuple) -> None:
    settings, idx = full
    pdf_164_312 = [
        c
        for c in idx.generation.chunks
        if c.doc_id == "hhs-combined-2013" and c.section == "45 CFR 164.312"
    ]
    assert pdf_164_312  # parsed ...
    live_ids = {c.chunk_id for c in idx.chunks}
    assert not any(c.chunk_id in live_ids for c in pdf_164_312)  # ... but not served
    row = next(r for r in sources_listing(settings) if r["doc_id"] == "hhs-combined-2013")
    assert row["superseded_by"] == ["ecfr-45-164-C", "ecfr-45-164-D", "ecfr-45-164-E"]
    assert "superseded" in str(row["note"])


def test_sources_lists_what_is_indexed_and_why_not(full: tuple) -> None:
    settings, _ = full
    rows = {r["doc_id"]: r for r in sources_listing(settings)}
    assert rows["ecfr-45-164-E"]["as_of"] == "2026-07-01" and rows["ecfr-45-164-E"]["chunks"] > 100
    assert rows["BAA-ACME-SCRIBE"]["access_groups"] == ["privacy-office", "legal"]
    assert rows["hhs-security-nprm-2025"]["status"] == "not indexed"
    assert "proposed rule" in str(rows["hhs-security-nprm-2025"]["note"])
    assert rows["ecfr-45-160"]["status"] == "not fetched"


def test_lookup_by_locator_and_exact_paragraph(full: tuple) -> None:
    _, idx = full
    chunk = idx.find_locator("45 CFR 164.312(a)(2)(iv)", ALL)[0]
    at = chunk.text.index("Encryption and decryption")
    assert chunk.locator_at(at) == "45 CFR 164.312(a)(2)(iv)"
    assert idx.find_locator("Acme Scribe BAA §4.3", ALL)[0].page >= 1

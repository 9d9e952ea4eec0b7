"""Incremental, idempotent ingest into a real (embedded) Chroma with the fake embedder."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from assistant.runtime.stores import open_store
from core.embeddings import build_embedder
from core.errors import ModelMismatchError
from core.index.reader import Index
from core.index.state import IndexState
from core.settings import Settings
from ingest.pipeline import run_ingest
from tests.conftest import ALL, ROOT, make_settings, search
from tests.fakes import HashingEmbedder


def ingest(settings: Settings, embedder: HashingEmbedder | None = None, **kw: object):
    emb = embedder or build_embedder(settings.embedding)
    return run_ingest(settings, emb, lambda: open_store(settings, emb), progress=False, **kw)


def index(settings: Settings) -> Index:
    emb = build_embedder(settings.embedding)
    return Index(settings, emb, open_store(settings, emb))


def all_text(idx: Index) -> str:
    return "\n".join(c.text for c in idx.chunks)


def test_first_ingest_indexes_every_document_with_locators(settings: Settings) -> None:
    report = ingest(settings)
    assert report.ok and report.count("added") == 3 and not report.noop
    idx = index(settings)
    locators = {c.locator for c in idx.chunks}
    assert {"TST-100 §2.1", "TST-200 §2.2", "Zephyr Transcription BAA §1.1"} <= locators
    hits = search(idx, "multi-factor authentication for remote sessions", 3)
    assert hits[0].chunk.locator == "TST-100 §2.1"
    store_count = open_store(settings, build_embedder(settings.embedding)).count(
        idx.generation.collection
    )
    assert store_count == len(idx.chunks)


def test_unchanged_reingest_is_a_noop(settings: Settings, embedder: HashingEmbedder) -> None:
    first = ingest(settings, embedder)
    calls = embedder.calls
    again = ingest(settings, embedder)
    assert again.noop and again.generation == first.generation
    assert again.count("unchanged") == 3
    assert embedder.calls == calls  # nothing embedded
    assert again.seconds < 3


def test_edited_document_old_text_is_gone(settings: Settings, tiny_corpus: Path) -> None:
    ingest(settings)
    path = tiny_corpus / "policies" / "TST-200-printing.md"
    text = path.read_text()
    path.write_text(text.replace("purged after four hours", "shredded by the vendor nightly"))
    report = ingest(settings)
    assert report.count("updated") == 1 and report.count("unchanged") == 2
    idx = index(settings)
    assert "purged after four hours" not in all_text(idx)
    assert "shredded by the vendor nightly" in all_text(idx)
    for hit in search(idx, "unclaimed print jobs purged after four hours", 10):
        assert "purged after four hours" not in hit.chunk.text
    assert len(IndexState(settings.paths.index_dir).gens.iterdir().__next__().name) > 0
    assert (
        len(list(IndexState(settings.paths.index_dir).gens.iterdir())) == 1
    )  # old generation swept


def test_only_changed_text_is_re_embedded(settings: Settings, tiny_corpus: Path) -> None:
    embedder = build_embedder(settings.embedding)
    assert isinstance(embedder, HashingEmbedder)
    ingest(settings, embedder)
    before = embedder.texts_embedded
    path = tiny_corpus / "policies" / "TST-100-remote-access.md"
    path.write_text(path.read_text().replace("ten minutes", "five minutes"))
    ingest(settings, embedder)
    assert embedder.texts_embedded - before == 1  # only the one edited chunk


def test_deleted_document_disappears(settings: Settings, tiny_corpus: Path) -> None:
    ingest(settings)
    (tiny_corpus / "baas" / "TST-BAA-ZEPHYR.md").unlink()
    report = ingest(settings)
    assert report.count("removed") == 1
    idx = index(settings)
    assert "TST-BAA-ZEPHYR" not in idx.entries
    assert "Zephyr" not in all_text(idx)
    assert not idx.find_locator("Zephyr Transcription BAA §1.1", ALL)


def _bad_files(folder: Path) -> dict[str, str]:
    """Write one file of each bad kind; return name -> expected words in its reason."""
    from pypdf import PdfReader, PdfWriter

    good_pdf = (ROOT / "corpus" / "policies" / "REC-401-retention-disposal.pdf").read_bytes()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "corrupt.pdf").write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40)
    (folder / "truncated.pdf").write_bytes(good_pdf[: len(good_pdf) // 3])
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(good_pdf)))
    writer.encrypt(user_password="s3cret", owner_password="owner")
    buf = io.BytesIO()
    writer.write(buf)
    (folder / "encrypted.pdf").write_bytes(buf.getvalue())
    (folder / "empty.md").write_bytes(b"")
    (folder / "junk.md").write_bytes(bytes(range(256)) * 20)
    (folder / "not-really.pdf").write_text("This is a plain text file with a .pdf name.\n" * 5)
    blank = PdfWriter()
    blank.add_blank_page(width=612, height=792)
    buf = io.BytesIO()
    blank.write(buf)
    (folder / "scanned.pdf").write_bytes(buf.getvalue())
    (folder / "notes.docx").write_bytes(b"PK\x03\x04 not a zip")
    (folder / "notes.odt").write_bytes(b"PK\x03\x04 not supported")
    return {
        "corrupt.pdf": "PDF",
        "truncated.pdf": "PDF",
        "encrypted.pdf": "encrypted",
        "empty.md": "empty",
        "junk.md": "binary",
        "not-really.pdf": "not a PDF",
        "scanned.pdf": "no text layer",
        "notes.docx": "damaged",
        "notes.odt": "unsupported",
    }


def test_each_bad_file_gets_a_reason_and_the_rest_is_ingested(
    settings: Settings, tiny_corpus: Path
) -> None:
    expected = _bad_files(tiny_corpus / "inbox")
    report = ingest(settings)
    assert not report.ok
    failed = {Path(o.name).name: o.reason for o in report.failed}
    assert set(failed) == set(expected)
    for name, words in expected.items():
        assert words.lower() in failed[name].lower(), (name, failed[name])
        assert "\n" not in failed[name]
    assert report.count("added") == 3
    idx = index(settings)
    assert {"TST-100", "TST-200", "TST-BAA-ZEPHYR"} <= set(idx.entries)


def test_a_document_that_breaks_keeps_its_last_good_version(
    settings: Settings, tiny_corpus: Path
) -> None:
    ingest(settings)
    path = tiny_corpus / "policies" / "TST-200-printing.md"
    path.write_bytes(b"\x00\x01\x02 broken upload")
    report = ingest(settings)
    assert [o.name for o in report.failed] == ["policies/TST-200-printing.md"]
    assert "previous version still indexed" in report.failed[0].reason
    idx = index(settings)
    assert "secure release" in all_text(idx)
    assert idx.entries["TST-200"].status == "failed-kept-previous"


def test_model_mismatch_is_refused(settings: Settings, tmp_path: Path, tiny_corpus: Path) -> None:
    ingest(settings)
    other = make_settings(settings.paths.data_dir, [tiny_corpus], model="v2")
    with pytest.raises(ModelMismatchError, match="--rebuild"):
        ingest(other)
    with pytest.raises(ModelMismatchError):
        index(other)
    report = ingest(other, rebuild=True)
    assert report.ok and not report.noop
    assert index(other).generation.embedding_model == "fake-hash/v2"


def test_ingest_cli_summary_and_exit_code(
    settings: Settings, tiny_corpus: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    from assistant import cli

    monkeypatch.setenv("HIPAA_ASSISTANT_EMBEDDING__PROVIDER", "fake-hash")
    monkeypatch.setenv("HIPAA_ASSISTANT_EMBEDDING__MODEL", "v1")
    monkeypatch.setenv("HIPAA_ASSISTANT_PATHS__CORPUS_DIRS", f'["{tiny_corpus}"]')
    data = str(settings.paths.data_dir)
    assert cli.main(["--data-dir", data, "ingest", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "3 documents" in out and "0 failed" in out
    # the new BAA is checked against the rule: what it lacks, by clause, without its text
    assert "BAA Zephyr" in out and "to review" in out
    assert "45 CFR 164.504(e)(2)(ii)(I) (books-and-records)" in out
    # the question index was embedded ahead of time: a server start finds it in the cache
    from assistant.runtime.build import build_topics
    from core.embeddings import build_embedder
    from core.settings import Settings as FreshSettings

    fresh = FreshSettings()
    fresh.use_data_dir(settings.paths.data_dir)
    emb = build_embedder(fresh.embedding)
    assert build_topics(fresh, emb) is not None and emb.texts_embedded == 0  # type: ignore[attr-defined]
    (tiny_corpus / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    assert cli.main(["--data-dir", data, "ingest", "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert "failed   broken.pdf:" in out and "1 failed" in out
    assert cli.main(["--data-dir", data, "sources"]) == 0
    out = capsys.readouterr().out
    assert "TST-BAA-ZEPHYR" in out and "privacy-office,legal" in out


def test_shared_corpus_copy_is_independent(tmp_path: Path) -> None:
    # guard for the fixtures themselves: the committed test corpus is never modified
    assert (
        ROOT / "tests" / "data" / "corpus" / "policies" / "TST-200-printing.md"
    ).read_text().count("purged after four hours") == 1
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_the_steps_of_a_run_alone(settings: Settings, tiny_corpus: Path) -> None:
    """plan_run, removed_files and is_noop, the steps run_ingest is made of, each on its own."""
    from ingest.pipeline import (
        FileOutcome,
        IngestReport,
        discover,
        is_noop,
        plan_run,
        removed_files,
    )

    ingest(settings)
    previous = IndexState(settings.paths.index_dir).load()
    assert previous is not None
    fp, model = previous.fingerprint, previous.embedding_model
    plan = plan_run(previous, fp, model, rebuild=False)
    assert plan.reuse and set(plan.docs) == {d.key for d in previous.documents}
    assert not plan_run(previous, "another parser", model, rebuild=False).docs
    assert not plan_run(previous, fp, model, rebuild=True).reuse
    with pytest.raises(ModelMismatchError, match="--rebuild"):
        plan_run(previous, fp, "another-model", rebuild=False)

    files, _ = discover(settings)
    assert removed_files(files, plan) == []
    gone = files[0]
    out = removed_files([f for f in files if f.key != gone.key], plan)
    assert [(o.key, o.status) for o in out] == [(gone.key, "removed")]

    unchanged = IngestReport([FileOutcome(f.key, f.key, "unchanged") for f in files])
    assert is_noop(plan, unchanged, list(previous.documents), model)
    assert not is_noop(plan, unchanged, list(previous.documents), "another-model")
    added = IngestReport([*unchanged.outcomes, FileOutcome("new", "new.md", "added", 3)])
    assert not is_noop(plan, added, list(previous.documents), model)

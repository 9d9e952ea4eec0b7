"""The privacy office adds, replaces and retires documents while the server runs: checked like
any file, placed with its type and groups, indexed incrementally, audited, searched from the
next question on; anyone else is refused and nothing is written."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from assistant.audit import AuditTrail
from assistant.runtime.stores import open_index, open_store
from assistant.service import AssistantService, Caller
from core.errors import DocumentError, NotAllowedError
from core.settings import Settings
from ingest.library import safe_name
from ingest.pipeline import run_ingest
from tests.conftest import remote_work_policy

STAFF = Caller("sam", frozenset({"staff"}), "ui")
OFFICER = Caller("pat", frozenset({"staff", "privacy-office"}), "ui")
QUESTION = "Can I use a home voice assistant while working remotely?"


def _policy(extra: str = "") -> bytes:
    return remote_work_policy("TST-700", extra)


@pytest.fixture
def service(settings: Settings) -> AssistantService:
    settings.audit.path = settings.paths.data_dir / "audit.sqlite"
    settings.chunking.min_words = 10
    from core.embeddings import build_embedder

    emb = build_embedder(settings.embedding)
    assert run_ingest(settings, emb, lambda: open_store(settings, emb), progress=False).ok
    return AssistantService.build(settings, open_index(settings, emb))


def _cites(service: AssistantService, doc_id: str) -> bool:
    answer = service.ask(QUESTION, STAFF).answer
    return any(c.doc_id == doc_id for c in answer.citations)


def test_staff_may_not_add_a_document_and_nothing_is_written(
    service: AssistantService, tiny_corpus: Path
) -> None:
    before = sorted(p.name for p in tiny_corpus.rglob("*"))
    with pytest.raises(NotAllowedError, match="privacy-office"):
        service.add_document(STAFF, "remote.docx", _policy(), "policy", ["staff"])
    assert sorted(p.name for p in tiny_corpus.rglob("*")) == before
    assert not service.may_manage_documents(STAFF) and service.may_manage_documents(OFFICER)


def test_an_added_word_policy_is_answered_from_at_once_and_audited(
    service: AssistantService, tiny_corpus: Path
) -> None:
    assert not _cites(service, "TST-700")
    steps: list[str] = []
    change = service.add_document(
        OFFICER, "TST-700 remote work.docx", _policy(), "policy", ["staff"], steps.append
    )
    assert (change.action, change.doc_id, change.file) == (
        "added",
        "TST-700",
        "policies/TST-700 remote work.docx",
    )
    assert change.passages >= 1 and steps[0].startswith("checking")
    stored = tiny_corpus / "policies" / "TST-700 remote work.docx"
    assert "access_groups:\n- staff" in Path(f"{stored}.meta.yaml").read_text()
    # no restart: the next question is answered from it, with its locator
    answer = service.ask(QUESTION, STAFF).answer
    cited = [c for c in answer.citations if c.doc_id == "TST-700"]
    assert cited and cited[0].locator.startswith("TST-700 §2"), answer.text

    records = list(AuditTrail.from_settings(service.settings).records())
    added = [r.event for r in records if r.event.mode == "document-added"]
    assert len(added) == 1 and added[0].user == "pat"
    assert "TST-700 (policy, groups staff)" in added[0].redacted_question

    # the same file again, revised: replaced, the old version kept aside
    change = service.add_document(
        OFFICER, "TST-700 remote work.docx", _policy("Revised."), "policy", ["staff"]
    )
    assert change.action == "replaced"
    assert [p.name.split("-", 1)[1] for p in (tiny_corpus / ".retired").glob("*.docx")] == [
        "TST-700 remote work.docx"
    ]
    assert _cites(service, "TST-700")


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("notes.exe", b"MZ\x90\x00", "cannot be added"),
        ("empty.md", b"", "empty file"),
        ("broken.docx", b"PK\x03\x04 not really a zip", "docx"),
        ("../../etc/passwd.md", b"", "empty file"),
    ],
)
def test_a_bad_file_is_refused_with_its_reason_and_not_placed(
    service: AssistantService, tiny_corpus: Path, name: str, data: bytes, reason: str
) -> None:
    before = sorted(str(p) for p in tiny_corpus.rglob("*"))
    with pytest.raises(DocumentError, match=reason):
        service.add_document(OFFICER, name, data, "policy", ["staff"])
    assert sorted(str(p) for p in tiny_corpus.rglob("*")) == before


def test_a_file_name_cannot_leave_its_folder() -> None:
    assert safe_name("../../etc/passwd.md") == "passwd.md"
    assert safe_name("C:\\docs\\Vendor BAA (final).PDF") == "Vendor BAA final.pdf"
    assert safe_name("  .hidden.md") == "hidden.md"


def test_a_retired_document_is_no_longer_searched(
    service: AssistantService, tiny_corpus: Path
) -> None:
    service.add_document(OFFICER, "TST-700.docx", _policy(), "policy", ["staff"])
    assert _cites(service, "TST-700")
    with pytest.raises(NotAllowedError):
        service.retire_document(STAFF, "TST-700")
    change = service.retire_document(OFFICER, "TST-700")
    assert change.action == "retired" and change.file.startswith(".retired/")
    assert "TST-700" not in service.index.entries
    assert not _cites(service, "TST-700")
    with pytest.raises(DocumentError, match="no policy or BAA"):
        service.retire_document(OFFICER, "45 CFR 164.502")


def test_an_ingest_by_another_process_is_picked_up_without_a_restart(
    service: AssistantService, settings: Settings, tiny_corpus: Path
) -> None:
    old = service.index.generation.gen_id
    assert service.refresh() is False  # nothing new
    (tiny_corpus / "policies" / "TST-700.docx").write_bytes(_policy())
    emb = service.index.embedder
    assert run_ingest(settings, emb, lambda: open_store(settings, emb), progress=False).ok
    assert service.refresh() is True
    for thread in threading.enumerate():
        if thread.name == "index-reload":
            thread.join(timeout=60)
    assert service.index.generation.gen_id != old
    assert "TST-700" in service.index.entries
    assert service.refresh() is False  # the new generation is the one answering


def test_refresh_reads_the_pointer_only_when_it_changed_and_reloads_once(
    service: AssistantService, settings: Settings, tiny_corpus: Path, monkeypatch
) -> None:
    from core.index.state import IndexState

    reads: list[int] = []
    real = IndexState.current_pointer

    def counted(self):  # type: ignore[no-untyped-def]
        reads.append(1)
        return real(self)

    monkeypatch.setattr(IndexState, "current_pointer", counted)
    for _ in range(5):
        assert service.refresh() is False
    assert len(reads) == 1  # unchanged pointer: read once, then only stat-ed
    (tiny_corpus / "policies" / "TST-700.docx").write_bytes(_policy())
    emb = service.index.embedder
    assert run_ingest(settings, emb, lambda: open_store(settings, emb), progress=False).ok
    started = threading.Event()
    release = threading.Event()
    swap = service._swap_chain

    def slow_swap() -> None:
        started.set()
        release.wait(timeout=60)
        swap()

    monkeypatch.setattr(service, "_swap_chain", slow_swap)
    assert service.refresh() is True
    assert started.wait(timeout=10)
    assert service.refresh() is False  # a reload is under way: no second one
    release.set()
    for thread in threading.enumerate():
        if thread.name == "index-reload":
            thread.join(timeout=60)
    assert "TST-700" in service.index.entries


def test_the_api_adds_and_retires_for_the_privacy_office_only(
    service: AssistantService, tiny_corpus: Path, tmp_path: Path
) -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from assistant.accounts import UserStore
    from assistant.ui.api import build_router

    store = UserStore(tmp_path / "users.json", bcrypt_rounds=4)
    store.add("sam", "staff-password", ("staff",), replace=False)
    store.add("pat", "privacy-password", ("privacy-office", "staff"), replace=False)
    app = FastAPI()
    app.include_router(build_router(lambda: service, lambda: store))
    client = TestClient(app)
    staff = {"Authorization": f"Bearer {store.issue_token('sam')}"}
    officer = {"Authorization": f"Bearer {store.issue_token('pat')}"}
    upload = {"file": ("TST-700 remote work.docx", _policy(), "application/octet-stream")}

    res = client.post("/api/documents", files=upload, data={"type": "policy"}, headers=staff)
    assert res.status_code == 403
    assert not (tiny_corpus / "policies" / "TST-700 remote work.docx").exists()
    bad = {"file": ("x.docx", b"PK\x03\x04 junk", "application/octet-stream")}
    res = client.post("/api/documents", files=bad, data={"type": "policy"}, headers=officer)
    assert res.status_code == 422 and "docx" in res.json()["detail"].lower()

    res = client.post("/api/documents", files=upload, data={"type": "policy"}, headers=officer)
    assert res.status_code == 200, res.text
    assert res.json()["doc_id"] == "TST-700" and res.json()["passages"] >= 1
    assert (
        "access_groups:\n- staff"
        in (tiny_corpus / "policies" / "TST-700 remote work.docx.meta.yaml").read_text()
    )  # the default groups of a policy
    assert _cites(service, "TST-700")

    assert client.delete("/api/documents/TST-700", headers=staff).status_code == 403
    res = client.delete("/api/documents/TST-700", headers=officer)
    assert res.status_code == 200 and res.json()["action"] == "retired"
    assert not _cites(service, "TST-700")

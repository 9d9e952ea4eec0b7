"""`hipaa-assistant backup`: what cannot be rebuilt, copied consistently while writers are open
(the audit trail's write-ahead log included), owner-only, verified and listed in a manifest."""

from __future__ import annotations

import json
import shutil
import sqlite3
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from assistant.accounts import UserStore
from assistant.audit import AuditTrail
from assistant.backup import MANIFEST, back_up, restore
from assistant.cli import main
from assistant.runtime.stores import open_store
from core.digests import sha256_file
from core.embeddings import build_embedder
from core.errors import ConfigError
from core.index.reader import Index
from core.index.state import IndexState
from core.settings import Settings
from ingest.pipeline import run_ingest
from tests.conftest import search
from tests.test_audit import event, tamper


@pytest.fixture
def installed(tmp_path: Path) -> tuple[Settings, AuditTrail]:
    corpus = tmp_path / "corpus"
    (corpus / "policies").mkdir(parents=True)
    (corpus / "policies" / "OPS-1.md").write_text("# OPS-1 Locking\n\nLock screens.\n")
    settings = Settings(paths={"data_dir": tmp_path / "data", "corpus_dirs": [corpus]})
    settings.paths.data_dir.mkdir()
    UserStore(settings.server.resolve_users_file(settings.paths.data_dir), bcrypt_rounds=4).add(
        "pat", "a-long-password", ("privacy-office",), replace=False
    )
    with sqlite3.connect(settings.server.resolve_ui_database(settings.paths.data_dir)) as ui:
        ui.execute("CREATE TABLE feedback (rating TEXT)")
        ui.execute("INSERT INTO feedback VALUES ('up')")
    trail = AuditTrail.from_settings(settings)
    for i in range(6):
        trail.record(event(i))  # its connection stays open: the newest rows are in the WAL
    return settings, trail


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_backup_holds_a_verified_consistent_copy_of_what_cannot_be_rebuilt(
    installed: tuple[Settings, AuditTrail], tmp_path: Path
) -> None:
    settings, trail = installed
    done = back_up(settings, tmp_path / "backups", now=lambda: datetime(2026, 12, 5, tzinfo=UTC))
    folder = done.folder
    assert folder.name == "hipaa-assistant-20261205T000000Z" and _mode(folder) == 0o700
    assert {"audit.sqlite", "ui.sqlite", "users.json", "corpus/1-corpus/policies/OPS-1.md"} <= set(
        done.files
    )
    assert all(_mode(folder / name) == 0o600 for name in done.files)
    # the copy holds every row, those still in the live trail's write-ahead log too
    original = trail.verify()
    assert done.audit is not None and done.audit.ok and done.audit.rows_checked == 6
    assert done.audit.anchor == original.anchor
    with sqlite3.connect(folder / "ui.sqlite") as ui:
        assert ui.execute("SELECT rating FROM feedback").fetchall() == [("up",)]
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["audit"] == {"ok": True, "head": original.anchor}
    assert manifest["files"] == {name: sha256_file(folder / name) for name in done.files}
    assert "ingest" in manifest["not_copied"]
    assert manifest["absent"] == ["index (no `hipaa-assistant ingest` has run yet)"]
    with pytest.raises(ConfigError, match="already exists"):
        back_up(settings, tmp_path / "backups", now=lambda: datetime(2026, 12, 5, tzinfo=UTC))


def test_the_command_fails_when_the_audit_copy_does_not_verify(
    installed: tuple[Settings, AuditTrail], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings, trail = installed
    data = str(settings.paths.data_dir)
    corpus = f'["{settings.paths.corpus_dirs[0]}"]'
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HIPAA_ASSISTANT_PATHS__CORPUS_DIRS", corpus)
        assert main(["--data-dir", data, "backup", str(tmp_path / "b1")]) == 0
        assert "audit trail OK: 6 rows verified" in capsys.readouterr().out
        trail.close()
        tamper(
            settings.audit.resolve_path(settings.paths.data_dir), "DELETE FROM events WHERE seq = 2"
        )
        assert main(["--data-dir", data, "backup", str(tmp_path / "b2")]) == 1
        assert "FAILED verification" in capsys.readouterr().out


def test_nothing_yet_is_said_not_failed(tmp_path: Path) -> None:
    settings = Settings(paths={"data_dir": tmp_path / "data", "corpus_dirs": [tmp_path / "none"]})
    done = back_up(settings, tmp_path / "backups")
    assert done.audit is None and done.files == {} and (done.folder / MANIFEST).is_file()
    assert set(done.absent) == {
        "audit.sqlite",
        "ui.sqlite",
        "users.json",
        f"corpus folder {tmp_path / 'none'}",
        "index (no `hipaa-assistant ingest` has run yet)",
    }


def test_a_backup_restores_into_an_empty_installation(
    installed: tuple[Settings, AuditTrail], tmp_path: Path
) -> None:
    settings, trail = installed
    done = back_up(settings, tmp_path / "backups")
    head = trail.verify().anchor
    trail.close()
    lost = tmp_path / "lost"  # the machine is gone: data folder and corpus
    settings.paths.data_dir.rename(lost)
    settings.paths.corpus_dirs[0].rename(tmp_path / "lost-corpus")
    restored = restore(settings, done.folder)
    assert restored.audit_head == head and not restored.set_aside
    data = settings.paths.data_dir
    assert sha256_file(data / "users.json") == sha256_file(lost / "users.json")
    assert (settings.paths.corpus_dirs[0] / "policies" / "OPS-1.md").read_text().startswith("# OPS")
    again = AuditTrail.from_settings(settings).verify()
    assert again.ok and again.anchor == head and _mode(data / "audit.sqlite") == 0o600
    account = UserStore(data / "users.json").authenticate("pat", "a-long-password")
    assert account is not None and account.groups == ("privacy-office",)


def test_local_stores_are_not_dropped_silently_where_postgres_holds_them(
    installed: tuple[Settings, AuditTrail], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A backup made with the stores as files, restored where ``database.url`` is set: refused,
    naming them, unless the documents alone are asked for (then it says what it left out)."""
    settings, trail = installed
    done = back_up(settings, tmp_path / "backups")
    trail.close()
    settings.paths.data_dir.rename(tmp_path / "lost")
    settings.paths.corpus_dirs[0].rename(tmp_path / "lost-corpus")
    with_db = settings.model_copy(deep=True)
    with_db.database.url = SecretStr("postgresql://app:pw@db.invalid/app")  # never connected
    with pytest.raises(ConfigError, match=r"audit\.sqlite, ui\.sqlite, users\.json.*PostgreSQL"):
        restore(with_db, done.folder)
    assert not settings.paths.corpus_dirs[0].exists()  # nothing written
    restored = restore(with_db, done.folder, without_local_stores=True)
    assert restored.left_out == ["audit.sqlite", "ui.sqlite", "users.json"]
    assert [p.name for p in restored.files] == ["OPS-1.md"]
    assert not (settings.paths.data_dir / "users.json").exists()


def test_a_restore_over_files_in_place_is_refused_or_sets_them_aside(
    installed: tuple[Settings, AuditTrail], tmp_path: Path
) -> None:
    settings, trail = installed
    done = back_up(settings, tmp_path / "backups")
    trail.record(event(99))  # the live trail moved on since the backup
    trail.close()
    with pytest.raises(ConfigError, match="already exists"):
        restore(settings, done.folder)
    moment = datetime(2026, 12, 6, tzinfo=UTC)
    restored = restore(settings, done.folder, force=True, now=lambda: moment)
    audit = settings.audit.resolve_path(settings.paths.data_dir)
    aside = audit.with_name("audit.sqlite.before-restore-20261206T000000Z")
    assert aside in restored.set_aside
    assert AuditTrail(aside).verify().rows_checked == 7  # kept, not lost
    assert AuditTrail(audit).verify().rows_checked == 6
    # a corpus file replaced is kept where ingest does not read it
    corpus = settings.paths.corpus_dirs[0]
    kept = corpus / ".before-restore" / "policies" / "OPS-1.md.before-restore-20261206T000000Z"
    assert kept in restored.set_aside and kept.is_file()


def test_a_damaged_backup_is_refused_before_anything_is_written(
    installed: tuple[Settings, AuditTrail], tmp_path: Path
) -> None:
    settings, trail = installed
    done = back_up(settings, tmp_path / "backups")
    trail.close()
    (done.folder / "users.json").write_text("{}")
    before = sha256_file(settings.server.resolve_users_file(settings.paths.data_dir))
    with pytest.raises(ConfigError, match=r"damaged: users\.json"):
        restore(settings, done.folder, force=True)
    assert sha256_file(settings.server.resolve_users_file(settings.paths.data_dir)) == before
    with pytest.raises(ConfigError, match="not a backup"):
        restore(settings, tmp_path)


def _ingested(settings: Settings) -> Index:
    emb = build_embedder(settings.embedding)
    assert run_ingest(settings, emb, lambda: open_store(settings, emb), progress=False).ok
    return Index(settings, emb, open_store(settings, emb))


def test_the_index_is_backed_up_so_a_restored_server_answers_without_an_ingest(
    settings: Settings, tmp_path: Path
) -> None:
    question = "How fast must access be removed when someone leaves?"
    before = [(p.chunk.locator, p.score) for p in search(_ingested(settings), question)]
    done = back_up(settings, tmp_path / "backups")
    live = IndexState(settings.paths.index_dir).current_pointer()
    assert live is not None
    assert {
        "index/index/CURRENT.json",
        f"index/index/generations/{live['generation']}/chunks.jsonl",
        "index/index/chroma/chroma.sqlite3",
        "index/embedding-cache.sqlite",
    } <= set(done.files)
    assert not any(name.endswith((".lock", "-wal", "-shm")) for name in done.files)
    shutil.rmtree(settings.paths.data_dir)  # the machine is gone: data folder and corpus
    shutil.rmtree(settings.paths.corpus_dirs[0])
    restored = restore(settings, done.folder)
    assert restored.index
    emb = build_embedder(settings.embedding)
    index = Index(settings, emb, open_store(settings, emb))
    assert [(p.chunk.locator, p.score) for p in search(index, question)] == before
    # the next ingest sees the restored index as its own: nothing changed, nothing embedded
    calls = emb.calls  # type: ignore[attr-defined]
    again = run_ingest(settings, emb, lambda: open_store(settings, emb), progress=False)
    assert again.ok and again.noop and again.generation == live["generation"]
    assert emb.calls == calls  # type: ignore[attr-defined]


def test_no_backup_of_the_index_while_an_ingest_writes_it(
    settings: Settings, tmp_path: Path
) -> None:
    _ingested(settings)
    busy = pytest.raises(ConfigError, match="an ingest is writing the index")
    with IndexState(settings.paths.index_dir).lock(), busy:
        back_up(settings, tmp_path / "backups")


def test_a_restore_over_an_index_in_place_sets_it_aside(settings: Settings, tmp_path: Path) -> None:
    _ingested(settings)
    done = back_up(settings, tmp_path / "backups")
    with pytest.raises(ConfigError, match="already exists"):
        restore(settings, done.folder)
    restored = restore(settings, done.folder, force=True)
    aside = settings.paths.data_dir / ".before-restore" / "index"
    assert any(p.parent == aside and p.name.startswith("CURRENT.json.") for p in restored.set_aside)

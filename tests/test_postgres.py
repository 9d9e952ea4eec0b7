"""PostgreSQL as the shared store (``database.url``): versioned migrations, and the audit trail
as one hash chain written by several processes, on a real throwaway cluster."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from assistant import cli
from assistant.audit import AuditError, AuditEvent, open_trail
from assistant.audit.postgres import PG_TRIGGERS, PostgresAuditTrail
from assistant.audit.trail import COLUMNS
from assistant.database import Database, migrate, migrations
from assistant.errors import ConfigError
from assistant.settings import DatabaseSettings, Settings
from tests.postgres_cluster import throwaway_cluster

ROOT = Path(__file__).resolve().parent.parent


def _event(n: int, user: str = "pat") -> AuditEvent:
    return AuditEvent(
        user=user,
        groups=("staff",),
        surface="api",
        redacted_question=f"question {n} about [NAME]",
        redacted_kinds=("NAME",),
        mode="extractive",
        cited_chunk_ids=(f"chunk-{n}",),
    )


def test_the_migrations_are_numbered_and_match_the_trail() -> None:
    """No database needed: the migration files' names, and the audit schema against the code."""
    found = migrations()
    assert [m.version for m in found] == list(range(1, len(found) + 1))
    sql = found[0].sql
    table = sql[sql.index("CREATE TABLE audit_events") :]
    columns = re.findall(r'^\s+"(\w+)"', table[: table.index(");")], re.M)
    assert tuple(columns) == COLUMNS  # the SQLite trail's columns, in its order
    assert set(re.findall(r"CREATE TRIGGER (\w+)", sql)) == PG_TRIGGERS


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    with throwaway_cluster() as url:
        yield url


@pytest.fixture
def url(cluster: str) -> Iterator[str]:
    """A fresh database of the cluster for each test."""
    name = f"t{abs(hash(object()))}"
    with psycopg.connect(cluster, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    yield cluster.replace("/postgres?", f"/{name}?")
    with psycopg.connect(cluster, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


def _trail(url: str, key: str | None = None) -> PostgresAuditTrail:
    return PostgresAuditTrail(Database(DatabaseSettings.model_validate({"url": url})), key=key)


def _settings(url: str, tmp_path: Path) -> Settings:
    return Settings.model_validate({"paths": {"data_dir": tmp_path}, "database": {"url": url}})


def test_migrations_run_once_however_often_servers_start(url: str) -> None:
    with psycopg.connect(url) as conn:
        assert migrate(conn) == [1]
        assert migrate(conn) == []
        rows = conn.execute("SELECT version, name FROM schema_migrations").fetchall()
    assert rows == [(1, "audit_trail")]
    # two servers starting at once: the advisory lock lets one migrate
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _MIGRATE.format(url=url)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    assert [p.communicate(timeout=60)[0].strip() for p in procs] == ["[]"] * 3


_MIGRATE = textwrap.dedent(
    """
    import psycopg
    from assistant.database import migrate
    with psycopg.connect({url!r}) as conn:
        print(migrate(conn))
    """
)


def test_the_trail_in_postgres_records_verifies_and_exports(url: str, tmp_path: Path) -> None:
    settings = _settings(url, tmp_path)
    trail = open_trail(settings)
    assert isinstance(trail, PostgresAuditTrail)
    with trail:
        assert [trail.record(_event(n)) for n in range(1, 6)] == [1, 2, 3, 4, 5]
        result = trail.verify()
        assert result.ok and result.rows_checked == 5 and not result.warnings
        records = list(trail.records())
        assert [r.seq for r in records] == [1, 2, 3, 4, 5]
        assert records[2].event == _event(3)
        out = io.StringIO()
        assert trail.export(out, fmt="jsonl") == 5
        first = json.loads(out.getvalue().splitlines()[0])
        assert first["redacted_question"] == "question 1 about [NAME]" and first["seq"] == 1
    assert not (tmp_path / "audit.sqlite").exists()  # nothing went to the SQLite file


def test_audit_commands_read_the_trail_in_postgres(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with _trail(url) as trail:
        for n in range(1, 4):
            trail.record(_event(n))
    monkeypatch.setenv("HIPAA_ASSISTANT_DATABASE__URL", url)
    assert cli.main(["--data-dir", str(tmp_path), "audit", "verify"]) == 0
    assert "3 rows" in capsys.readouterr().out
    assert cli.main(["--data-dir", str(tmp_path), "audit", "export", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split(",") == list(COLUMNS) and len(lines) == 4


def test_several_processes_append_to_one_chain(url: str) -> None:
    """Four writers at once, as four servers would: one chain, every row in order."""
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER.format(url=url, user=f"server-{w}")])
        for w in range(4)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0] * 4
    with _trail(url) as trail:
        result = trail.verify()
        assert result.ok and result.rows_checked == 100, result.reason
        records = list(trail.records())
    assert [r.seq for r in records] == list(range(1, 101))
    assert {r.event.user for r in records} == {f"server-{w}" for w in range(4)}
    per_writer = {f"server-{w}": [] for w in range(4)}
    for r in records:
        per_writer[r.event.user].append(int(r.event.redacted_question.split()[1]))
    assert all(ns == list(range(25)) for ns in per_writer.values())  # each writer's own order


_WRITER = textwrap.dedent(
    """
    from assistant.audit import AuditEvent
    from assistant.audit.postgres import PostgresAuditTrail
    from assistant.database import Database
    from assistant.settings import DatabaseSettings
    trail = PostgresAuditTrail(Database(DatabaseSettings(url={url!r})))
    for n in range(25):
        trail.record(AuditEvent(user={user!r}, groups=("staff",), surface="api",
                                redacted_question=f"question {{n}}"))
    trail.close()
    """
)


def test_rows_cannot_be_changed_and_a_change_behind_the_triggers_is_found(url: str) -> None:
    with _trail(url) as trail:
        for n in range(1, 5):
            trail.record(_event(n))
    with psycopg.connect(url, autocommit=True) as conn:
        for sql in (
            "UPDATE audit_events SET redacted_question = 'x' WHERE seq = 2",
            "DELETE FROM audit_events WHERE seq = 4",
            "TRUNCATE audit_events",
            "UPDATE audit_head SET seq = 1",
            "DELETE FROM audit_meta",
        ):
            with pytest.raises(psycopg.errors.RaiseException):
                conn.execute(sql)
        # someone with the rights drops the protection: verify says so
        conn.execute("ALTER TABLE audit_events DISABLE TRIGGER events_no_update")
        conn.execute("DROP TRIGGER events_no_delete ON audit_events")
    with _trail(url) as trail:
        result = trail.verify()
    assert result.ok and result.warnings == (
        "protective triggers were removed: events_no_delete, events_no_update",
    )
    # ... and finds the row they then edit, and the last row they delete
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE audit_events SET redacted_question = 'edited' WHERE seq = 2")
    with _trail(url) as trail:
        result = trail.verify()
    assert not result.ok and result.first_bad_seq == 2 and result.reason == "row 2 was edited"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "UPDATE audit_events SET redacted_question = 'question 2 about [NAME]' WHERE seq = 2"
        )
        conn.execute("DELETE FROM audit_events WHERE seq = 4")
    with _trail(url) as trail:
        result = trail.verify()
    assert not result.ok and result.reason.startswith("the last row was deleted")


def test_a_keyed_trail_needs_its_key(url: str) -> None:
    with _trail(url, "the-right-key") as t:
        t.record(_event(1))
        assert t.keyed and t.verify().ok
    with _trail(url) as t, pytest.raises(AuditError, match=r"set audit\.hmac_key"):
        t.record(_event(2))
    with _trail(url, "a-wrong-key") as t, pytest.raises(AuditError, match="not the one"):
        t.record(_event(2))


def test_an_unreachable_database_is_one_line_without_the_password(tmp_path: Path) -> None:
    secret = "s3cret-db-password"
    url = f"postgresql://app:{secret}@/nowhere?host={tmp_path}&port=1"
    database = Database(DatabaseSettings(url=url, connect_timeout_s=2))  # type: ignore[arg-type]
    with pytest.raises(ConfigError) as caught:
        database.pool()
    assert "cannot use the database" in str(caught.value) and secret not in str(caught.value)
    with pytest.raises(AuditError) as failed:
        PostgresAuditTrail(database).record(_event(1))
    assert secret not in str(failed.value)

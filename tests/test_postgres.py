"""PostgreSQL as the shared store (``database.url``): versioned migrations, and the audit trail
as one hash chain written by several processes, on a real throwaway cluster."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import psycopg
import pytest

from assistant import cli
from assistant.audit import AuditError, AuditEvent, open_trail
from assistant.audit.postgres import PG_TRIGGERS, PostgresAuditTrail
from assistant.audit.trail import COLUMNS
from core.database import Database, migrate, migrations
from core.errors import ConfigError
from core.settings import DatabaseSettings, Settings

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


def _trail(url: str, key: str | None = None) -> PostgresAuditTrail:
    return PostgresAuditTrail(Database(DatabaseSettings.model_validate({"url": url})), key=key)


def _settings(url: str, tmp_path: Path) -> Settings:
    return Settings.model_validate({"paths": {"data_dir": tmp_path}, "database": {"url": url}})


def test_migrations_run_once_however_often_servers_start(url: str) -> None:
    with psycopg.connect(url) as conn:
        assert migrate(conn) == [1, 2, 3, 4, 5, 6, 7]
        assert migrate(conn) == []
        rows = conn.execute("SELECT version, name FROM schema_migrations ORDER BY 1").fetchall()
    assert rows == [
        (1, "audit_trail"),
        (2, "chat"),
        (3, "users"),
        (4, "sign_in_failures"),
        (5, "user_tokens_index"),
        (6, "index_generations"),
        (7, "confirmed_questions"),
    ]
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
    from core.database import migrate
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
    from core.database import Database
    from core.settings import DatabaseSettings
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


def _chat_scenario(write: object, read: object) -> dict[str, object]:
    """A conversation written through one data layer (server A) and read through another
    (server B); what B sees."""
    import asyncio

    from chainlit.element import Text
    from chainlit.types import Feedback, Pagination, ThreadFilter
    from chainlit.user import User

    from assistant.ui.data_layer import ChatDataLayer

    assert isinstance(write, ChatDataLayer) and isinstance(read, ChatDataLayer)

    async def run() -> dict[str, object]:
        user = await write.create_user(User(identifier="sam", metadata={"groups": ["staff"]}))
        assert user is not None
        await write.update_thread("t1", name="Jane Roe MRN 448812 notes?", user_id=user.id)
        await write.update_thread("t1", metadata={"types": ["policy"]}, tags=["x"])
        for step in (
            {"id": "s1", "type": "user_message", "output": "Can Jane Roe's notes go out?"},
            {"id": "r1", "parentId": "s1", "type": "run", "input": "Jane Roe, MRN 448812"},
            {"id": "s2", "parentId": "r1", "type": "assistant_message", "output": ""},
            {"id": "s2", "parentId": "r1", "type": "assistant_message", "output": "No [1]."},
        ):
            stamp = {"s1": "10:00:00", "r1": "10:00:01", "s2": "10:00:02"}[str(step["id"])]
            await write.create_step(
                {"threadId": "t1", "name": "x", "createdAt": f"2026-12-01T{stamp}.000Z", **step}
            )
        await write.upsert_feedback(Feedback(forId="r1", value=1, comment="Jane Roe was fine"))
        await write.create_element(
            Text(
                name="[1]", content="AI-301 §5.1 text", display="side", for_id="s2", thread_id="t1"
            )
        )
        thread = await read.get_thread("t1")
        for step in (thread or {})["steps"]:
            step.get("feedback", {}).pop("id", None)  # type: ignore[misc]  # a new uuid each run
        found = await read.list_threads(
            Pagination(first=5), ThreadFilter(userId=user.id, search="mrn")
        )
        rows = read.store.feedback_rows()
        await write.delete_thread("t1")
        return {
            "thread": {
                **{k: v for k, v in (thread or {}).items() if k not in ("createdAt", "userId")},
                "elements": [
                    {k: v for k, v in e.items() if k != "id"} for e in (thread or {})["elements"]
                ],
            },
            "found": [t["name"] for t in found.data],
            "feedback": [
                {k: r[k] for k in ("user", "rating", "comment", "question", "answer")} for r in rows
            ],
            "after_delete": await read.get_thread("t1"),
        }

    return asyncio.run(run())


def _redact(text: str) -> str:
    return text.replace("Jane Roe", "[NAME]").replace("448812", "[MRN]")


def test_a_conversation_written_on_one_server_is_read_on_another(url: str, tmp_path: Path) -> None:
    from assistant.ui.conversations import ConversationStore
    from assistant.ui.data_layer import ChatDataLayer

    def layer() -> ChatDataLayer:  # each with its own pool, as two servers have
        database = Database(DatabaseSettings.model_validate({"url": url}))
        return ChatDataLayer(ConversationStore(database=database), _redact)

    in_postgres = _chat_scenario(layer(), layer())
    sqlite_layer = ChatDataLayer(tmp_path / "ui.sqlite", _redact)
    in_sqlite = _chat_scenario(sqlite_layer, sqlite_layer)
    assert in_postgres == in_sqlite  # the same conversation, whichever store keeps it
    assert in_postgres["found"] == ["[NAME] MRN [MRN] notes?"]
    assert in_postgres["feedback"] == [
        {
            "user": "sam",
            "rating": "up",
            "comment": "[NAME] was fine",
            "question": "Can [NAME]'s notes go out?",
            "answer": "No [1].",
        }
    ]
    assert in_postgres["after_delete"] is None
    steps = in_postgres["thread"]["steps"]  # type: ignore[index]
    assert [s["id"] for s in steps] == ["s1", "r1", "s2"] and steps[1]["feedback"]["value"] == 1
    with psycopg.connect(url) as conn:  # nothing typed reached the database unredacted
        dump = conn.execute(
            "SELECT string_agg(t::text, ' ') FROM (SELECT * FROM chat.steps) t"
        ).fetchone()
    assert dump is not None and "Jane Roe" not in str(dump[0]) and "448812" not in str(dump[0])


def test_feedback_export_reads_the_database(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from assistant.ui.conversations import ConversationStore
    from assistant.ui.data_layer import ChatDataLayer

    database = Database(DatabaseSettings.model_validate({"url": url}))
    layer = ChatDataLayer(ConversationStore(database=database), _redact)
    _chat_scenario(layer, layer)  # deletes its thread at the end: feedback goes with it
    monkeypatch.setenv("HIPAA_ASSISTANT_DATABASE__URL", url)
    assert cli.main(["--data-dir", str(tmp_path), "feedback", "export", "--format", "jsonl"]) == 0
    assert capsys.readouterr().out == ""
    assert not (tmp_path / "ui.sqlite").exists()


def test_a_backup_leaves_what_is_in_postgres_to_its_own_backups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No database needed: nothing connects to it."""
    data = tmp_path / "data"
    data.mkdir()
    for name in ("audit.sqlite", "ui.sqlite"):  # left over from before the database
        (data / name).write_bytes(b"")
    (data / "users.json").write_text('{"version": 1, "users": {}}')
    monkeypatch.setenv("HIPAA_ASSISTANT_DATABASE__URL", "postgresql://app:pw@db.invalid/app")
    assert cli.main(["--data-dir", str(data), "backup", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "the conversations and the users in PostgreSQL" in out and ":pw@" not in out
    (folder,) = (tmp_path / "out").iterdir()
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == ["manifest.json"]


def test_users_and_tokens_live_in_the_database(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from assistant.accounts import UsersTable, UserStore

    monkeypatch.setenv("HIPAA_ASSISTANT_DATABASE__URL", url)
    data = ["--data-dir", str(tmp_path)]
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery\n"))
    assert (
        cli.main(
            [*data, "users", "add", "pat", "--groups", "staff,privacy-office", "--password-stdin"]
        )
        == 0
    )
    assert cli.main([*data, "users", "token", "pat", "--days", "30"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert not (tmp_path / "users.json").exists()

    # another server (its own pool) sees the user and the token at once
    other = UserStore(UsersTable(Database(DatabaseSettings.model_validate({"url": url}))))
    account = other.authenticate("pat", "correct horse battery")
    assert account is not None and account.groups == ("privacy-office", "staff")
    assert other.authenticate("pat", "wrong horse battery") is None
    assert other.account_for_authorization(f"Bearer {token}").name == "pat"
    # a token is looked up through its index, not by reading every user
    with psycopg.connect(url) as conn:
        conn.execute("SET enable_seqscan = off")  # a table this small would be scanned anyway
        plan = conn.execute(
            "EXPLAIN SELECT name FROM accounts.users WHERE tokens::jsonb @> %s::jsonb",
            ('[{"sha256": "0"}]',),
        ).fetchall()
    assert "users_tokens" in str(plan), plan
    assert other.account_for_token(token[:-1] + "x") is None
    assert cli.main([*data, "users", "revoke", "pat"]) == 0
    assert other.account_for_token(token) is None
    assert cli.main([*data, "users", "remove", "pat"]) == 0
    assert other.list() == []


def test_two_servers_editing_users_at_once_lose_nothing(url: str) -> None:
    procs = [
        subprocess.Popen([sys.executable, "-c", _ADDER.format(url=url, prefix=p)])
        for p in ("a", "b", "c")
    ]
    assert [p.wait(timeout=120) for p in procs] == [0] * 3
    from assistant.accounts import UsersTable, UserStore

    store = UserStore(UsersTable(Database(DatabaseSettings.model_validate({"url": url}))))
    names = [account.name for account, tokens in store.list()]
    assert names == sorted(f"{p}{n}" for p in "abc" for n in range(8))
    assert all(tokens == 1 for _, tokens in store.list())


_ADDER = textwrap.dedent(
    """
    from assistant.accounts import UserStore, UsersTable
    from core.database import Database
    from core.settings import DatabaseSettings
    store = UserStore(UsersTable(Database(DatabaseSettings(url={url!r}))), bcrypt_rounds=4)
    for n in range(8):
        store.add(f"{prefix}{{n}}", "a long passphrase", ("staff",), replace=False)
        store.issue_token(f"{prefix}{{n}}", 1)
    """
)


def test_failed_sign_ins_count_on_every_server(url: str) -> None:
    from assistant.ui.server_guard import DatabaseLog, FailedSignIns

    def server() -> FailedSignIns:
        log = DatabaseLog(Database(DatabaseSettings.model_validate({"url": url})))
        return FailedSignIns(max_failures=3, delay=30, log=log)

    a, b = server(), server()
    a.failed("user:pat")
    b.failed("user:pat")
    assert a.wait("user:pat") == 0
    a.failed("user:pat")  # the third, wherever it happened
    assert 25 < b.wait("user:pat") <= 30 and 25 < a.wait("user:pat") <= 30
    assert b.wait("user:sam") == 0
    b.succeeded("user:pat")
    assert a.wait("user:pat") == 0
    with psycopg.connect(url, autocommit=True) as conn:  # a failure from long ago
        conn.execute(
            "INSERT INTO accounts.sign_in_failures (key, at) "
            "VALUES ('address:10.0.0.9', extract(epoch FROM now()) - 5000)"
        )
        a.failed("address:10.0.0.8")  # each new failure clears out the expired ones
        left = conn.execute("SELECT key FROM accounts.sign_in_failures").fetchall()
    assert left == [("address:10.0.0.8",)]


def test_an_address_with_no_failures_is_not_read_again_for_a_moment(url: str) -> None:
    """API clients with no failures cost one query per ``clean_for`` seconds, not one per
    request; what other servers count is seen once that time is up, and a failure here is
    seen at once."""
    from assistant.ui.server_guard import DatabaseLog, FailedSignIns

    local = [100.0]
    settings = DatabaseSettings.model_validate({"url": url})
    log = DatabaseLog(Database(settings), clean_for=2.0, clock=lambda: local[0])
    a = FailedSignIns(max_failures=3, delay=30, log=log)
    b = FailedSignIns(max_failures=3, delay=30, log=DatabaseLog(Database(settings)))
    assert a.wait("address:10.1.1.1") == 0  # read: no failures, taken as clean for 2 s
    for _ in range(3):
        b.failed("address:10.1.1.1")
    local[0] += 1.0
    assert a.wait("address:10.1.1.1") == 0  # not read again yet
    local[0] += 1.5
    assert 25 < a.wait("address:10.1.1.1") <= 30  # read again: the other server's failures
    assert a.wait("address:10.1.1.2") == 0
    b.failed("address:10.1.1.2")
    b.failed("address:10.1.1.2")
    a.failed("address:10.1.1.2")  # a failure here ends the clean spell at once
    assert 25 < a.wait("address:10.1.1.2") <= 30


def test_connections_the_database_closed_are_replaced(url: str) -> None:
    """After a database restart or failover, the pool hands out live connections only."""
    with _trail(url) as trail:
        trail.record(_event(1))
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        assert trail.record(_event(2)) == 2
        assert trail.verify().ok

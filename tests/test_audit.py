"""The audit trail: append-only, hash-chained; `audit verify` catches every kind of tampering."""

from __future__ import annotations

import csv
import dataclasses
import io
import itertools
import json
import multiprocessing
import sqlite3
import stat
import threading
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assistant import cli
from assistant.answering.types import Answer, Citation
from assistant.audit import AuditError, AuditEvent, AuditTrail, AuditTrailMissingError
from assistant.audit.trail import GENESIS, Hasher
from core.settings import Settings
from tests.conftest import make_settings


def event(i: int = 0, **changes: object) -> AuditEvent:
    fields: dict[str, object] = {
        "user": f"user{i % 3}",
        "groups": ("staff", "privacy"),
        "surface": "api",
        "redacted_question": f"Question {i} about [NAME] and the minimum necessary rule?",
        "redacted_kinds": ("name",) if i % 2 else (),
        "mode": "extractive",
        "cited_chunk_ids": (f"chunk{i:03d}a", f"chunk{i:03d}b"),
        "abstained": i % 5 == 4,
        "session_id": f"s{i // 4}",
    }
    fields.update(changes)
    return AuditEvent(**fields)  # type: ignore[arg-type]


class Clock:
    """A fake clock: each call one hour later, from 2026-10-31 00:00 UTC."""

    def __init__(self, start: datetime = datetime(2026, 10, 31, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(hours=1)
        return self.now


def filled(path: Path, n: int = 10, **kwargs: object) -> AuditTrail:
    trail = AuditTrail(path, **kwargs)  # type: ignore[arg-type]
    for i in range(n):
        assert trail.record(event(i)) == i + 1
    return trail


def tamper(path: Path, *statements: str, params: tuple[object, ...] = ()) -> None:
    """What someone with write access does: drop the triggers, then change the file."""
    conn = sqlite3.connect(path)
    try:
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'"):
            conn.execute(f"DROP TRIGGER {name}")
        for sql in statements:
            conn.execute(sql, params if "?" in sql else ())
        conn.commit()
    finally:
        conn.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "audit.sqlite"


@pytest.fixture
def trail(db: Path) -> Iterator[AuditTrail]:
    t = filled(db)
    yield t
    t.close()


# -- recording and reading --------------------------------------------------------------------


def test_record_and_verify(trail: AuditTrail) -> None:
    result = trail.verify()
    assert result.ok and result.rows_checked == 10 and result.head_seq == 10
    assert result.first_bad_seq is None and not result.warnings
    assert result.summary().startswith("audit trail OK: 10 rows verified (SHA-256 chain); head 10:")
    records = list(trail.records())
    assert [r.seq for r in records] == list(range(1, 11))
    assert [r.event for r in records] == [event(i) for i in range(10)]
    assert records[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.row_hash for a, b in itertools.pairwise(records))
    assert records[0].time.endswith("+00:00") and len({len(r.time) for r in records}) == 1


def test_an_empty_trail_verifies(db: Path) -> None:
    trail = AuditTrail(db)
    trail._writer()  # created, nothing recorded
    result = trail.verify()
    assert result.ok and result.rows_checked == 0 and result.head_seq == 0


def test_events_are_typed_and_checked() -> None:
    e = AuditEvent(
        user="u",
        groups=["staff"],  # type: ignore[arg-type]
        surface="ui",
        redacted_question="q",
        cited_chunk_ids=["a", "b"],  # type: ignore[arg-type]
    )
    assert e.groups == ("staff",) and e.cited_chunk_ids == ("a", "b")
    with pytest.raises(ValueError, match="surface"):
        event(surface="email")
    with pytest.raises(TypeError):
        event(groups="staff")


def test_event_from_answer_takes_the_redacted_question_separately() -> None:
    cite = Citation(1, "c1", "45 CFR 164.502(b)", "Privacy Rule", "rule", None, "quote")
    answer = Answer("raw question with PHI", "text", [cite], [], "extractive", abstained=False)
    e = AuditEvent.from_answer(
        answer,
        user="ann",
        groups=["staff"],
        surface="cli",
        redacted_question="question with [NAME]",
        redacted_kinds=["name"],
    )
    assert e.redacted_question == "question with [NAME]" and e.cited_chunk_ids == ("c1",)
    assert e.mode == "extractive" and not e.abstained and e.redacted_kinds == ("name",)


def test_triggers_refuse_update_and_delete(trail: AuditTrail, db: Path) -> None:
    conn = sqlite3.connect(db)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE events SET user = 'mallory' WHERE seq = 3")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM events WHERE seq = 10")
        with pytest.raises(sqlite3.DatabaseError, match="checkpoint"):
            conn.execute("UPDATE head SET seq = 9")
        with pytest.raises(sqlite3.DatabaseError, match="checkpoint"):
            conn.execute("DELETE FROM head")
        with pytest.raises(sqlite3.DatabaseError, match="only appended"):
            conn.execute(
                "INSERT INTO events SELECT * FROM events WHERE seq = 3",
            )
    finally:
        conn.close()
    assert trail.verify().ok


# -- tampering --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "bad_seq", "reason"),
    [
        ("UPDATE events SET user = 'mallory' WHERE seq = 5", 5, "row 5 was edited"),
        ("UPDATE events SET redacted_question = 'other' WHERE seq = 1", 1, "row 1 was edited"),
        ("UPDATE events SET cited_chunk_ids = '[]' WHERE seq = 7", 7, "row 7 was edited"),
        ("UPDATE events SET abstained = 1 - abstained WHERE seq = 4", 4, "row 4 was edited"),
        ("UPDATE events SET time = '2020-01-01' WHERE seq = 6", 6, "row 6 was edited"),
        ("UPDATE events SET groups = 'staff' WHERE seq = 2", 2, "row 2 was edited"),
        ("UPDATE events SET row_hash = '" + "ab" * 32 + "' WHERE seq = 5", 5, "row 5 was edited"),
        ("UPDATE events SET prev_hash = '" + "cd" * 32 + "' WHERE seq = 8", 8, "row 8 was edited"),
        ("DELETE FROM events WHERE seq = 5", 5, "row 5 is missing (deleted)"),
        ("DELETE FROM events WHERE seq IN (3, 4, 5)", 3, "rows 3-5 are missing (deleted)"),
        ("DELETE FROM events WHERE seq = 10", 10, "the last row was deleted"),
        ("DELETE FROM events WHERE seq > 8", 9, "the last 2 rows were deleted"),
        ("DELETE FROM events", 1, "the last 10 rows were deleted"),
        (
            "INSERT INTO events SELECT 11, time, user, groups, surface, redacted_question, "
            "redacted_kinds, mode, cited_chunk_ids, abstained, blocked, session_id, answer_id, "
            "row_hash, row_hash FROM events WHERE seq = 10",
            11,
            "row 11 was added outside",
        ),
        ("UPDATE head SET row_hash = '" + "ef" * 32 + "'", 10, "checkpoint does not match"),
    ],
)
def test_verify_detects_tampering(
    trail: AuditTrail, db: Path, sql: str, bad_seq: int, reason: str
) -> None:
    tamper(db, sql)
    result = trail.verify()
    assert not result.ok
    assert result.first_bad_seq == bad_seq
    assert reason in result.reason
    assert result.rows_checked <= bad_seq - 1
    assert reason in result.summary() and "FAILED" in result.summary()


def test_verify_detects_reordered_rows(trail: AuditTrail, db: Path) -> None:
    tamper(
        db,
        "UPDATE events SET seq = -4 WHERE seq = 4",
        "UPDATE events SET seq = 4 WHERE seq = 3",
        "UPDATE events SET seq = 3 WHERE seq = -4",
    )
    result = trail.verify()
    assert not result.ok and result.first_bad_seq == 3
    assert result.reason == "rows out of order: row 3 holds the entry written as row 4"


def test_verify_detects_a_deletion_hidden_by_renumbering(trail: AuditTrail, db: Path) -> None:
    tamper(
        db,
        "DELETE FROM events WHERE seq = 6",
        "UPDATE events SET seq = seq - 1 WHERE seq > 6",
        "UPDATE head SET seq = 9, row_hash = (SELECT row_hash FROM events WHERE seq = 9)",
    )
    result = trail.verify()
    assert not result.ok and result.first_bad_seq == 6
    assert result.reason == "rows out of order: row 6 holds the entry written as row 7"


def test_verify_detects_a_row_reinserted_with_a_recomputed_hash(
    trail: AuditTrail, db: Path
) -> None:
    """Without the key, a forger can rewrite row 3 consistently; row 4 still links to the old."""
    row3 = next(r for r in trail.records() if r.seq == 3)
    forged = event(3, redacted_question="something else")
    digest = Hasher(None).row_hash(row3.prev_hash, 3, row3.time, forged)
    tamper(
        db,
        "DELETE FROM events WHERE seq = 3",
        "INSERT INTO events (seq, time, user, groups, surface, redacted_question, "
        "redacted_kinds, mode, cited_chunk_ids, abstained, blocked, session_id, answer_id, "
        "prev_hash, row_hash) VALUES (3, ?, 'user0', '[\"staff\",\"privacy\"]', 'api', "
        "'something else', '[\"name\"]', 'extractive', '[\"chunk003a\",\"chunk003b\"]', 0, 0, "
        "'s0', NULL, ?, ?)",
        params=(row3.time, row3.prev_hash, digest),
    )
    result = trail.verify()
    assert not result.ok and result.first_bad_seq == 3
    assert result.reason.startswith("row 3 was edited (its hash was recomputed")


def test_verify_still_works_with_triggers_dropped_and_warns(trail: AuditTrail, db: Path) -> None:
    tamper(db)
    result = trail.verify()
    assert result.ok
    assert result.warnings and "triggers were removed" in result.warnings[0]


def _rewrite_chain_from(db: Path, start: int, hasher: Hasher) -> None:
    """A forger who edits row ``start`` and recomputes every later hash and the checkpoint."""
    trail = AuditTrail(db)
    records = list(trail.records())
    tamper(db)
    conn = sqlite3.connect(db)
    prev = records[start - 2].row_hash if start > 1 else GENESIS
    for rec in records[start - 1 :]:
        e = rec.event
        if rec.seq == start:
            e = dataclasses.replace(e, redacted_question="nothing to see here")
            conn.execute(
                "UPDATE events SET redacted_question = ? WHERE seq = ?",
                (e.redacted_question, rec.seq),
            )
        digest = hasher.row_hash(prev, rec.seq, rec.time, e)
        conn.execute(
            "UPDATE events SET prev_hash = ?, row_hash = ? WHERE seq = ?", (prev, digest, rec.seq)
        )
        prev = digest
    conn.execute("UPDATE head SET row_hash = ?", (prev,))
    conn.commit()
    conn.close()


def test_without_a_key_a_full_rewrite_passes_but_with_a_key_it_is_caught(tmp_path: Path) -> None:
    plain, keyed = tmp_path / "plain.sqlite", tmp_path / "keyed.sqlite"
    filled(plain, n=6, clock=Clock())
    filled(keyed, n=6, key="k3y-from-a-vault", clock=Clock())
    _rewrite_chain_from(plain, 3, Hasher(None))
    assert AuditTrail(plain).verify().ok  # documented limit of an unkeyed chain
    # The forger lacks the key: recomputing with plain SHA-256 or a guessed key fails.
    _rewrite_chain_from(keyed, 3, Hasher(b"guess"))
    result = AuditTrail(keyed, key="k3y-from-a-vault").verify()
    assert not result.ok and result.first_bad_seq == 3 and result.keyed


def test_a_cut_off_tail_with_the_checkpoint_rewound_is_caught_by_an_anchor(
    trail: AuditTrail, db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    anchor = trail.verify().anchor  # kept somewhere else, e.g. a ticket
    assert anchor.startswith("10:")
    tamper(
        db,
        "DELETE FROM events WHERE seq > 7",
        "UPDATE head SET seq = 7, row_hash = (SELECT row_hash FROM events WHERE seq = 7)",
    )
    assert trail.verify().ok  # consistent without outside knowledge
    seq, _, digest = anchor.partition(":")
    result = trail.verify((int(seq), digest))
    assert not result.ok and "before the anchored row 10" in result.reason
    rc = cli.main(["--data-dir", str(db.parent), "audit", "verify", "--anchor", anchor])
    assert rc == 1 and "anchored row 10" in capsys.readouterr().out


def test_an_anchor_on_a_rewritten_row_fails(trail: AuditTrail, db: Path) -> None:
    head = trail.verify()
    records = list(trail.records())
    _rewrite_chain_from(db, 4, Hasher(None))
    assert trail.verify().ok
    assert not trail.verify((head.head_seq, head.head_hash[:16])).ok
    assert trail.verify((3, records[2].row_hash)).ok  # rows before the edit still match


# -- keys -------------------------------------------------------------------------------------


def test_the_key_must_match(db: Path) -> None:
    filled(db, n=3, key=b"right key")
    assert AuditTrail(db, key=b"right key").verify().ok
    wrong = AuditTrail(db, key=b"wrong key").verify()
    assert not wrong.ok and "not the one this trail was started with" in wrong.reason
    with pytest.raises(AuditError, match="not the one"):
        AuditTrail(db, key=b"wrong key").record(event())
    with pytest.raises(AuditError, match="signed with a key"):
        AuditTrail(db).verify()
    with pytest.raises(AuditError, match="signed with a key"):
        AuditTrail(db).record(event())


def test_a_keyed_verifier_refuses_an_unkeyed_trail(db: Path) -> None:
    """Otherwise a forger could swap in a plain-SHA-256 chain (a downgrade)."""
    filled(db, n=2)
    result = AuditTrail(db, key=b"k").verify()
    assert not result.ok and "hashing scheme" in result.reason


def test_settings_give_path_and_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = make_settings(tmp_path / "data")
    assert s.audit.enabled and s.audit.resolve_path(s.paths.data_dir) == tmp_path / "data" / (
        "audit.sqlite"
    )
    monkeypatch.setenv("HIPAA_ASSISTANT_AUDIT__HMAC_KEY", "zq-audit-key-77")
    monkeypatch.setenv("HIPAA_ASSISTANT_AUDIT__PATH", str(tmp_path / "elsewhere.sqlite"))
    s = Settings()
    assert "zq-audit-key-77" not in repr(s)
    trail = AuditTrail.from_settings(s)
    assert trail.keyed and trail.path == tmp_path / "elsewhere.sqlite"


# -- concurrency ------------------------------------------------------------------------------


def _record_many(path: str, n: int, tag: str) -> None:
    trail = AuditTrail(Path(path), busy_timeout_s=60)
    for i in range(n):
        trail.record(event(i, user=tag))
    trail.close()


def test_concurrent_threads_never_fork_the_chain(db: Path) -> None:
    shared = AuditTrail(db)
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            if k % 2:  # half share one trail, half bring their own connection
                for i in range(50):
                    shared.record(event(i, user=f"t{k}"))
            else:
                _record_many(str(db), 50, f"t{k}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    result = shared.verify()
    assert result.ok and result.rows_checked == 400
    records = list(shared.records())
    assert [r.seq for r in records] == list(range(1, 401))
    assert sorted(r.time for r in records) == [r.time for r in records]
    assert {r.event.user for r in records} == {f"t{k}" for k in range(8)}


def test_new_file_opened_by_many_writers_at_once(tmp_path: Path) -> None:
    # Writers switching the same new file to WAL at once can deadlock; SQLite then says
    # "database is locked" without waiting. Before the retry this failed ~1 round in 40.
    for round_ in range(30):
        path = tmp_path / f"a{round_}.sqlite"
        start = threading.Barrier(8)
        errors: list[BaseException] = []

        def work(
            k: int,
            path: Path = path,
            start: threading.Barrier = start,
            errors: list[BaseException] = errors,
        ) -> None:
            trail = AuditTrail(path)
            start.wait()
            try:
                trail.record(event(k, user=f"w{k}"))
            except BaseException as exc:
                errors.append(exc)
            finally:
                trail.close()

        threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, f"round {round_}: {errors[0]}"
        assert AuditTrail(path).verify().rows_checked == 8


class _LockedThenFine:
    """Stands in for a connection whose WAL switch is refused ``n`` times."""

    def __init__(self, n: int, message: str = "database is locked") -> None:
        self.n, self.message, self.calls = n, message, 0

    def execute(self, sql: str) -> None:
        self.calls += 1
        if self.calls <= self.n:
            raise sqlite3.OperationalError(self.message)


def test_wal_switch_retries_a_deadlock_until_the_busy_timeout(tmp_path: Path) -> None:
    conn = _LockedThenFine(3)
    AuditTrail(tmp_path / "a.sqlite")._enter_wal(conn)  # type: ignore[arg-type]
    assert conn.calls == 4
    stuck = _LockedThenFine(10**9)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        AuditTrail(tmp_path / "a.sqlite", busy_timeout_s=0.2)._enter_wal(stuck)  # type: ignore[arg-type]
    assert stuck.calls > 1
    other = _LockedThenFine(1, "disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk"):
        AuditTrail(tmp_path / "a.sqlite")._enter_wal(other)  # type: ignore[arg-type]
    assert other.calls == 1


def test_concurrent_processes_never_fork_the_chain(db: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_record_many, args=(str(db), 40, f"p{k}")) for k in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    result = AuditTrail(db).verify()
    assert result.ok and result.rows_checked == 160


# -- the command line -------------------------------------------------------------------------


def run(data: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = cli.main(["--data-dir", str(data), "audit", *args])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def test_cli_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    filled(tmp_path / "audit.sqlite", n=5)
    rc, out, _ = run(tmp_path, capsys, "verify")
    assert rc == 0 and out.startswith("audit trail OK: 5 rows verified") and out.count("\n") == 1
    tamper(tmp_path / "audit.sqlite", "UPDATE events SET mode = 'llm:openai:gpt-4o' WHERE seq = 2")
    rc, out, _ = run(tmp_path, capsys, "verify")
    assert rc == 1 and out.strip() == "audit trail FAILED verification: row 2 was edited"


def test_cli_verify_without_a_trail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Nothing to verify is not a pass (a deleted file must not look fine): exit 2, one line."""
    rc, out, err = run(tmp_path, capsys, "verify")
    assert rc == 2 and not out
    assert err.startswith("hipaa-assistant: no audit trail yet at ") and err.count("\n") == 1
    assert not (tmp_path / "audit.sqlite").exists()  # verify never creates one
    with pytest.raises(AuditTrailMissingError):
        AuditTrail(tmp_path / "audit.sqlite").verify()


def test_cli_verify_of_a_file_that_is_not_a_trail(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "audit.sqlite").write_bytes(b"not a database at all" * 100)
    rc, _, err = run(tmp_path, capsys, "verify")
    assert rc == 2 and err.count("\n") == 1 and "audit trail" in err


@pytest.fixture
def three_days(tmp_path: Path) -> Path:
    """31 rows, one an hour from 2026-10-31 01:00 UTC to 2026-11-01 07:00 UTC."""
    trail = filled(tmp_path / "audit.sqlite", n=30, clock=Clock())
    trail.record(event(99, redacted_question='=HYPERLINK("http://x")', surface="ui"))
    trail.close()
    return tmp_path


def test_cli_export_jsonl_since(three_days: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(three_days, capsys, "export", "--since", "2026-11-01", "--format", "jsonl")
    assert rc == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["seq"] for r in rows] == list(range(24, 32))
    assert rows[0]["time"] == "2026-11-01T00:00:00.000000+00:00"
    assert rows[0]["cited_chunk_ids"] == ["chunk023a", "chunk023b"]
    assert set(rows[0]) >= {"user", "groups", "redacted_question", "mode", "abstained", "blocked"}
    assert "exported 8 audit rows" in err


def test_cli_export_csv_between(three_days: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(
        three_days,
        capsys,
        "export",
        "--since",
        "2026-10-31T12:00:00+02:00",  # 10:00 UTC
        "--until",
        "2026-10-31",  # a date alone: the whole day
        "--format",
        "csv",
    )
    assert rc == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [int(r["seq"]) for r in rows] == list(range(10, 24))
    assert rows[0]["groups"] == "staff;privacy" and rows[0]["abstained"] == "true"


def test_cli_export_to_a_private_file_and_csv_injection(
    three_days: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = three_days / "export.csv"
    rc, out, err = run(
        three_days,
        capsys,
        "export",
        "--since",
        "2026-11-01T07:00Z",
        "--format",
        "csv",
        "--out",
        str(out_file),
    )
    assert rc == 0 and not out and "exported 1 audit rows to" in err
    assert stat.S_IMODE(out_file.stat().st_mode) == 0o600
    (row,) = csv.DictReader(out_file.open(encoding="utf-8", newline=""))
    assert row["redacted_question"] == '\'=HYPERLINK("http://x")' and row["surface"] == "ui"


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01", "11/01/2026"])
def test_cli_export_bad_since(
    three_days: Path, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    rc, out, err = run(three_days, capsys, "export", "--since", bad)
    assert rc == 2 and not out
    assert err.count("\n") == 1 and "--since" in err and "not a date" in err


def test_the_trail_file_is_private(trail: AuditTrail, db: Path) -> None:
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


@pytest.mark.parametrize("bad", ["10", "10:abc", "x:0123456789abcdef", "10:0123456789abcdeg"])
def test_cli_verify_bad_anchor(
    trail: AuditTrail, db: Path, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    rc, out, err = run(db.parent, capsys, "verify", "--anchor", bad)
    assert rc == 2 and not out and err.count("\n") == 1 and "bad anchor" in err


def test_the_table_the_json_and_the_csv_have_the_same_columns(trail: AuditTrail, db: Path) -> None:
    """The columns come from the event's fields once: the table, the hashed JSON and both
    export formats cannot drift apart."""
    with closing(sqlite3.connect(db)) as conn:
        table = [row[1] for row in conn.execute("PRAGMA table_info(events)")]
    out = io.StringIO()
    trail.export(out, fmt="csv")
    header = next(csv.reader(io.StringIO(out.getvalue())))
    jsonl = io.StringIO()
    trail.export(jsonl, fmt="jsonl")
    first = json.loads(jsonl.getvalue().splitlines()[0])
    assert table == header == list(first)
    assert table[2:-2] == [f.name for f in dataclasses.fields(AuditEvent)]

"""The chat's store: conversations (user text stored redacted) and feedback, in a SQLite file or,
with ``database.url`` set, in PostgreSQL (schema ``chat``, migration 0002) shared by every server.
No Chainlit here, so commands such as `feedback export` read it without loading the UI.

The SQL is written once, with ``?`` placeholders, in the dialect both stores understand (``ON
CONFLICT ... DO UPDATE``, ``LOWER(...) LIKE``, typed ``CAST`` of an optional parameter)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from core.database import Database
    from core.settings import Settings

USER_TYPES = {"user_message"}

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY, identifier TEXT UNIQUE NOT NULL, created_at TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS threads (
    id TEXT PRIMARY KEY, created_at TEXT NOT NULL, name TEXT, user_id TEXT,
    user_identifier TEXT, tags TEXT, metadata TEXT);
CREATE TABLE IF NOT EXISTS steps (
    id TEXT PRIMARY KEY, thread_id TEXT NOT NULL, parent_id TEXT, type TEXT, name TEXT,
    input TEXT, output TEXT, created_at TEXT, start_at TEXT, end_at TEXT, is_error INTEGER,
    show_input TEXT, language TEXT, metadata TEXT);
CREATE INDEX IF NOT EXISTS steps_thread ON steps(thread_id);
CREATE TABLE IF NOT EXISTS elements (
    id TEXT PRIMARY KEY, thread_id TEXT, for_id TEXT, type TEXT, name TEXT, display TEXT,
    content TEXT, language TEXT, created_at TEXT);
CREATE INDEX IF NOT EXISTS elements_thread ON elements(thread_id);
CREATE TABLE IF NOT EXISTS feedback (
    id TEXT PRIMARY KEY, for_id TEXT NOT NULL, thread_id TEXT, user_identifier TEXT,
    value INTEGER NOT NULL, comment TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
"""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Db(Protocol):
    """One transaction on the store: ``execute`` with ``?`` placeholders; rows read by name."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...


class _PostgresDb:
    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.conn.execute(sql.replace("?", "%s"), tuple(params))


def conversation_store(settings: Settings) -> ConversationStore:
    """The configured store: PostgreSQL when ``database.url`` is set, else the SQLite file
    (``server.ui_database``)."""
    if settings.database.url is not None:
        from core.database import Database

        return ConversationStore(database=Database.shared(settings.database))
    return ConversationStore(settings.server.resolve_ui_database(settings.paths.data_dir))


class ConversationStore:
    """Opens (and creates) the SQLite file, or uses the PostgreSQL database (``database``); one
    short-lived transaction per operation."""

    def __init__(self, path: Path | None = None, database: Database | None = None) -> None:
        if (path is None) == (database is None):
            raise ValueError("a conversation store is a SQLite file or a database, not both")
        self.path = path
        self.database = database
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self.connect() as db:
                assert isinstance(db, sqlite3.Connection)
                db.executescript(SCHEMA)

    @contextmanager
    def connect(self) -> Iterator[Db]:
        if self.database is not None:
            with self.database.pool().connection() as conn, conn.transaction():
                conn.execute("SET LOCAL search_path TO chat")
                yield _PostgresDb(conn)
            return
        assert self.path is not None
        db = sqlite3.connect(self.path, timeout=30)
        db.row_factory = sqlite3.Row
        try:
            db.execute("PRAGMA journal_mode=WAL")
            with db:
                yield db
        finally:
            db.close()

    def feedback_rows(self, since: str | None = None) -> list[dict[str, Any]]:
        """Feedback with the question it answers and the answer (both as stored: redacted)."""
        # Chainlit attaches feedback to the 'run' step of on_message, whose parent is the user's
        # message and whose child is the answer; feedback on a message itself is handled too.
        query = """
            SELECT f.created_at, f.updated_at, f.user_identifier AS user, f.value, f.comment,
                   f.thread_id, f.for_id AS step_id,
                   COALESCE(
                     (SELECT a.output FROM steps a
                       WHERE a.id = f.for_id AND a.type = 'assistant_message'),
                     (SELECT a.output FROM steps a
                       WHERE a.parent_id = f.for_id AND a.type = 'assistant_message'
                       ORDER BY a.created_at DESC LIMIT 1)) AS answer,
                   (SELECT q.output FROM steps q
                     WHERE q.thread_id = f.thread_id AND q.type = 'user_message'
                       AND q.created_at <= (SELECT created_at FROM steps WHERE id = f.for_id)
                     ORDER BY q.created_at DESC LIMIT 1) AS question
            FROM feedback f
            WHERE (CAST(? AS TEXT) IS NULL OR f.updated_at >= ?) ORDER BY f.updated_at"""
        with self.connect() as db:
            rows = db.execute(query, (since, since)).fetchall()
        out = []
        for r in rows:
            row = dict(r)
            row["rating"] = "up" if row.pop("value") == 1 else "down"
            out.append(row)
        return out

"""The audit trail in PostgreSQL (``database.url``): one chain for every server.

The same rows, hashes, checkpoint and verification as the SQLite trail (``trail.py``); the schema
is migration 0001. Appends from any number of servers are serialised by the checkpoint row's lock
(``SELECT ... FOR UPDATE``), held for the append's transaction, so the chain never forks; reads
(``records``, ``verify``) see one snapshot (``REPEATABLE READ``). Triggers refuse UPDATE, DELETE
and TRUNCATE as in SQLite; ``verify`` does not rely on them and reports any that were dropped
or disabled.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from assistant.audit.trail import (
    COLUMNS,
    AuditError,
    AuditEvent,
    AuditRecord,
    Exporting,
    Hasher,
    Verifier,
    VerifyResult,
    iso_utc,
    read_records,
    stored_values,
    time_window,
    utcnow,
)
from core.database import Database
from core.errors import ConfigError

if TYPE_CHECKING:
    from psycopg import Connection

    from core.settings import Settings

log = logging.getLogger(__name__)

PG_TRIGGERS = frozenset(
    {
        "events_no_update",
        "events_no_delete",
        "events_no_truncate",
        "events_append_only",
        "head_forward",
        "head_no_delete",
        "meta_no_update",
        "meta_no_delete",
    }
)
_COLUMNS = ", ".join(f'"{c}"' for c in COLUMNS)
_INSERT = f"INSERT INTO audit_events ({_COLUMNS}) VALUES ({', '.join(['%s'] * len(COLUMNS))})"


class _PostgresRows:
    expected_triggers = PG_TRIGGERS

    def __init__(self, conn: Connection[Any]) -> None:
        self.conn = conn

    def trigger_names(self) -> set[str]:
        rows = self.conn.execute(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D' "
            "AND tgrelid IN "
            "('audit_events'::regclass, 'audit_head'::regclass, 'audit_meta'::regclass)"
        )
        return {r["tgname"] for r in rows}

    def head(self) -> tuple[int, str] | None:
        row = self.conn.execute("SELECT seq, row_hash FROM audit_head WHERE id = 1").fetchone()
        return None if row is None else (int(row["seq"]), row["row_hash"])

    def events(self) -> Iterable[Mapping[str, Any]]:
        with self.conn.cursor(name="audit_verify") as cur:  # streamed, not read whole
            cur.execute(f"SELECT {_COLUMNS} FROM audit_events ORDER BY seq")
            for row in cur:
                yield {**row, "seq": int(row["seq"])}

    def seq_of_hash(self, digest: str) -> int | None:
        row = self.conn.execute(
            "SELECT seq FROM audit_events WHERE row_hash = %s", (digest,)
        ).fetchone()
        return None if row is None else int(row["seq"])


class PostgresAuditTrail(Exporting):
    """The audit trail in the configured PostgreSQL database (see the module's docstring)."""

    def __init__(
        self,
        database: Database,
        *,
        key: bytes | str | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.database = database
        self._hasher = Hasher(key.encode() if isinstance(key, str) else key or None)
        self._clock = clock
        self._ready = False

    @classmethod
    def from_settings(cls, settings: Settings) -> PostgresAuditTrail:
        a = settings.audit
        key = a.hmac_key.get_secret_value() if a.hmac_key else None
        return cls(Database.shared(settings.database), key=key)

    @property
    def keyed(self) -> bool:
        return self._hasher.key is not None

    @property
    def where(self) -> str:
        return "the audit trail in PostgreSQL (database.url)"

    @contextmanager
    def _connection(self) -> Iterator[Connection[Any]]:
        import psycopg

        try:
            with self.database.pool().connection() as conn:
                if not self._ready:
                    self._start(conn)
                yield conn
        except psycopg.Error as exc:
            log.warning("audit trail: database error: %s", type(exc).__name__)
            raise AuditError(f"{self.where} cannot be used ({_first_line(exc)})") from exc
        except ConfigError as exc:
            raise AuditError(str(exc)) from exc

    def _start(self, conn: Connection[Any]) -> None:
        """A new trail records its hashing scheme; an existing one must match ours."""
        with conn.transaction():
            conn.execute("LOCK TABLE audit_meta IN SHARE ROW EXCLUSIVE MODE")
            meta = {r["key"]: r["value"] for r in conn.execute("SELECT key, value FROM audit_meta")}
            if not meta:
                with conn.cursor() as cur:
                    cur.executemany(
                        "INSERT INTO audit_meta (key, value) VALUES (%s, %s)",
                        self._hasher.meta_rows(),
                    )
            else:
                self._hasher.scheme_problem(meta, init=True)
        self._ready = True

    def close(self) -> None:
        self.database.close()

    def __enter__(self) -> PostgresAuditTrail:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def record(self, event: AuditEvent) -> int:
        """Append one event; returns its seq. Raises AuditError when it cannot be written."""
        with self._connection() as conn, conn.transaction():
            head = conn.execute(
                "SELECT seq, row_hash FROM audit_head WHERE id = 1 FOR UPDATE"
            ).fetchone()
            if head is None:
                raise AuditError(f"the checkpoint of {self.where} is missing; run `audit verify`")
            seq, time = int(head["seq"]) + 1, iso_utc(self._clock())
            digest = self._hasher.row_hash(head["row_hash"], seq, time, event)
            conn.execute(_INSERT, (seq, time, *stored_values(event), head["row_hash"], digest))
            conn.execute(
                "UPDATE audit_head SET seq = %s, row_hash = %s WHERE id = 1", (seq, digest)
            )
        return seq

    @contextmanager
    def _snapshot(self) -> Iterator[Connection[Any]]:
        with self._connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield conn

    def records(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> Iterator[AuditRecord]:
        """Rows with ``since <= time < until``, in seq order. Not verified: run ``verify``."""
        where, params = time_window(since, until, '"time"', "%s")
        with self._snapshot() as conn, conn.cursor(name="audit_records") as cur:
            cur.execute(f"SELECT {_COLUMNS} FROM audit_events{where} ORDER BY seq", params)
            yield from read_records({**row, "seq": int(row["seq"])} for row in cur)

    def verify(self, anchor: tuple[int, str] | None = None) -> VerifyResult:
        """Walk the whole chain. ``anchor`` = (seq, hash prefix) from an earlier verify."""
        with self._snapshot() as conn:
            meta = {r["key"]: r["value"] for r in conn.execute("SELECT key, value FROM audit_meta")}
            problem = self._hasher.scheme_problem(meta)
            return Verifier(self._hasher, _PostgresRows(conn), anchor).run(problem)


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__

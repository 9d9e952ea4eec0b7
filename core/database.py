"""PostgreSQL, when ``database.url`` is set: one connection pool per process, and the project's
versioned schema migrations (``core/migrations/NNNN_name.sql``, applied in order, each once,
one server at a time). Without a URL nothing here is used: SQLite files stay the default."""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from core.errors import ConfigError

if TYPE_CHECKING:
    from psycopg import Connection
    from psycopg_pool import ConnectionPool

    from core.settings import DatabaseSettings

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_MIGRATION_LOCK = 0x68697061  # the advisory lock that lets one server migrate at a time


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations(folder: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migrations in version order; a badly named file or a repeated version is an error."""
    out: dict[int, Migration] = {}
    for path in sorted(folder.glob("*.sql")):
        m = _MIGRATION_NAME.match(path.name)
        if m is None:
            raise ConfigError(f"migration {path.name}: name it NNNN_what_it_does.sql")
        version = int(m.group(1))
        if version in out:
            raise ConfigError(f"migration {path.name}: version {version} is used twice")
        out[version] = Migration(version, m.group(2), path.read_text(encoding="utf-8"))
    return [out[v] for v in sorted(out)]


def migrate(conn: Connection[Any], folder: Path = MIGRATIONS_DIR) -> list[int]:
    """Applies the migrations the database has not had yet, each in one transaction with its
    record in ``schema_migrations``; returns their versions."""
    from psycopg.rows import tuple_row

    applied: list[int] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
            "name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        with conn.cursor(row_factory=tuple_row) as cur:  # whatever rows the connection makes
            done = {row[0] for row in cur.execute("SELECT version FROM schema_migrations")}
        for migration in migrations(folder):
            if migration.version in done:
                continue
            with conn.transaction():
                conn.execute(migration.sql.encode())  # several statements, no parameters
                conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                    (migration.version, migration.name),
                )
            log.info("database migrated to version %d (%s)", migration.version, migration.name)
            applied.append(migration.version)
    return applied


class Database:
    """The configured PostgreSQL database: a pool opened (and the schema migrated) on first use.
    Safe to share between threads; ``shared`` gives every part of a process the same one."""

    _shared: ClassVar[dict[str, Database]] = {}
    _shared_lock = threading.Lock()

    @classmethod
    def shared(cls, settings: DatabaseSettings) -> Database:
        """This process's database for these settings (one pool, however many parts use it)."""
        if settings.url is None:
            raise ConfigError("database.url is not set")
        key = settings.model_dump_json(exclude={"url"}) + settings.url.get_secret_value()
        with cls._shared_lock:
            if key not in cls._shared:
                cls._shared[key] = cls(settings)
            return cls._shared[key]

    def __init__(self, settings: DatabaseSettings) -> None:
        if settings.url is None:
            raise ConfigError("database.url is not set")
        self.settings = settings
        self._pool: ConnectionPool[Any] | None = None
        self._lock = threading.Lock()

    def pool(self) -> ConnectionPool[Any]:
        with self._lock:
            if self._pool is None:
                self._pool = self._open()
            return self._pool

    def _open(self) -> ConnectionPool[Any]:
        import psycopg
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool, PoolTimeout

        s = self.settings
        assert s.url is not None
        pool: ConnectionPool[Any] = ConnectionPool(
            s.url.get_secret_value(),
            min_size=s.pool_min_size,
            max_size=s.pool_max_size,
            timeout=s.connect_timeout_s,
            kwargs={"row_factory": dict_row, "connect_timeout": int(s.connect_timeout_s)},
            open=False,
            name="hipaa-assistant",
            # a connection the server closed (a restart, a failover) is replaced, not handed out
            check=ConnectionPool.check_connection,
        )
        try:
            pool.open(wait=True, timeout=s.connect_timeout_s)
            with pool.connection() as conn:
                migrate(conn)
        except (psycopg.Error, PoolTimeout) as exc:
            pool.close()
            log.debug("database unreachable", exc_info=True)
            # the URL may hold a password: it is never part of the message
            raise ConfigError(f"cannot use the database (database.url): {_reason(exc)}") from None
        return pool

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
            self._pool = None


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__

"""The audit trail: an append-only, hash-chained record of who asked what and what was cited.

Each row holds one question (already redacted by the PHI guard; the trail never sees raw text),
its asker, the answering mode and the cited chunk ids. Rows are numbered 1, 2, 3, ... (``seq``)
and chained: ``row_hash = H(prev_hash + "\\n" + canonical JSON of the row)`` where ``H`` is
SHA-256, or HMAC-SHA256 when a key is configured. A one-row ``head`` table (the checkpoint) holds
the last seq and hash, written in the same transaction as the row, so deleting the last rows is
detected too. SQLite triggers refuse UPDATE and DELETE (defence in depth); ``verify`` does not
rely on them and catches edits made by someone who dropped them.

What the chain can and cannot prove:

* Without a key, anyone who can write the file can rewrite a row *and recompute every later
  hash and the checkpoint*; the chain then only catches edits that did not do so (a database
  browser, a stray script, a careless restore). With ``audit.hmac_key`` kept apart from the
  database, rewriting needs the key.
* Cutting off the newest rows *and* rewinding the checkpoint to the new last row needs no key
  (those hashes are already in the file). Against that, keep the ``head`` line that
  ``audit verify`` prints somewhere else (a ticket, a log collector, a WORM bucket) and check it
  later with ``audit verify --anchor SEQ:HASH``.

Concurrency: one writer at a time, across threads (a lock) and processes (``BEGIN IMMEDIATE``
with a busy timeout; WAL mode, so readers never block the writer). The chain never forks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args

from assistant.audit.export import write_records
from core.errors import AssistantError

if TYPE_CHECKING:
    from assistant.answering.types import Answer
    from core.settings import Settings

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
GENESIS = "0" * 64  # prev_hash of row 1
ANCHOR_MIN_HEX = 16  # shortest hash prefix accepted as an anchor (64 bits)
_KEY_CHECK_MSG = b"hipaa-assistant audit key check"
_SEARCH_MOVED = 64  # how far verify looks for the place a misplaced row was written at

Surface = Literal["ui", "api", "cli", "library", "mcp"]  # library: LangChain; mcp: MCP clients
SURFACES: tuple[str, ...] = get_args(Surface)


class AuditError(AssistantError):
    """The audit trail cannot be used: busy, wrong key or scheme, not an audit trail."""


class AuditTrailMissingError(AuditError):
    """There is no audit trail file yet."""


@dataclass(frozen=True)
class AuditEvent:
    """One question as the trail records it. The trail adds the time, seq and hashes.

    ``redacted_question`` is the text *after* the PHI guard; pass the guard's output, never the
    user's raw question. ``blocked`` means the guard refused the question (nothing retrieved).
    """

    user: str
    groups: tuple[str, ...]
    surface: Surface
    redacted_question: str
    redacted_kinds: tuple[str, ...] = ()
    mode: str = ""
    cited_chunk_ids: tuple[str, ...] = ()
    abstained: bool = False
    blocked: bool = False
    session_id: str | None = None
    answer_id: str | None = None

    def __post_init__(self) -> None:
        if self.surface not in SURFACES:
            raise ValueError(f"surface must be one of {', '.join(SURFACES)}, not {self.surface!r}")
        for name in ("groups", "redacted_kinds", "cited_chunk_ids"):
            value = getattr(self, name)
            if isinstance(value, str):
                raise TypeError(f"{name} is a sequence of strings, not one string")
            object.__setattr__(self, name, tuple(str(v) for v in value))
        object.__setattr__(self, "abstained", bool(self.abstained))
        object.__setattr__(self, "blocked", bool(self.blocked))

    @classmethod
    def from_answer(
        cls,
        answer: Answer,
        *,
        user: str,
        groups: Iterable[str],
        surface: Surface,
        redacted_question: str,
        redacted_kinds: Iterable[str] = (),
        session_id: str | None = None,
        answer_id: str | None = None,
    ) -> AuditEvent:
        """The event of an answered question. The question comes separately, redacted:
        ``answer.question`` is not read."""
        return cls(
            user=user,
            groups=tuple(groups),
            surface=surface,
            redacted_question=redacted_question,
            redacted_kinds=tuple(redacted_kinds),
            mode=answer.mode,
            cited_chunk_ids=tuple(c.chunk_id for c in answer.citations),
            abstained=answer.abstained,
            session_id=session_id,
            answer_id=answer_id,
        )


# Each field of an event is one column, stored by its type: a list of strings as JSON text, a
# flag as 0/1, text as text (NULL only where the field is optional). Read back with a check.
EVENT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(AuditEvent))


def _storage_kind(annotation: object) -> str:
    text = str(annotation)  # a string: this module postpones annotations
    if text.startswith("tuple"):
        return "list"
    if text == "bool":
        return "flag"
    return "optional" if text.endswith("| None") else "text"


_KIND = {f.name: _storage_kind(f.type) for f in fields(AuditEvent)}
_SQL_TYPE = {
    "list": "TEXT NOT NULL",
    "flag": "INTEGER NOT NULL",
    "optional": "TEXT",
    "text": "TEXT NOT NULL",
}
_EVENT_COLUMNS_SQL = "\n".join(f"    {name} {_SQL_TYPE[_KIND[name]]}," for name in EVENT_FIELDS)


def stored_values(e: AuditEvent) -> list[Any]:
    """The event's column values, in EVENT_FIELDS order."""
    out: list[Any] = []
    for name in EVENT_FIELDS:
        value, kind = getattr(e, name), _KIND[name]
        if kind == "list":
            value = json.dumps(list(value), ensure_ascii=False)
        elif kind == "flag":
            value = int(value)
        out.append(value)
    return out


@dataclass(frozen=True)
class AuditRecord:
    """A stored row: the event with its place in the chain."""

    seq: int
    time: str  # UTC, ISO-8601 with microseconds, e.g. 2026-11-01T09:30:00.000000+00:00
    event: AuditEvent
    prev_hash: str
    row_hash: str

    def to_json(self) -> dict[str, Any]:
        e = self.event
        return {
            "seq": self.seq,
            "time": self.time,
            **_event_fields(e),
            "prev_hash": self.prev_hash,
            "row_hash": self.row_hash,
        }


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    rows_checked: int  # rows whose hash and link were confirmed
    first_bad_seq: int | None
    reason: str  # plain words: "row 17 was edited", "the last 2 rows were deleted", ...
    head_seq: int = 0
    head_hash: str = ""
    keyed: bool = False
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def anchor(self) -> str:
        """``SEQ:HASH`` of the last row, to keep elsewhere and pass to ``verify --anchor``."""
        return f"{self.head_seq}:{self.head_hash[:ANCHOR_MIN_HEX]}"

    def summary(self) -> str:
        scheme = "HMAC-SHA256" if self.keyed else "SHA-256"
        if self.ok:
            rows = "1 row" if self.rows_checked == 1 else f"{self.rows_checked} rows"
            return f"audit trail OK: {rows} verified ({scheme} chain); head {self.anchor}"
        return f"audit trail FAILED verification: {self.reason}"


# -- the chain --------------------------------------------------------------------------------


def _event_fields(e: AuditEvent) -> dict[str, Any]:
    """An event's fields as JSON values: what is hashed, stored and exported."""
    return {
        name: list(value) if isinstance(value, tuple) else value
        for name in EVENT_FIELDS
        for value in (getattr(e, name),)
    }


def _canonical(seq: int, time: str, e: AuditEvent) -> bytes:
    doc = {
        "v": FORMAT_VERSION,
        "seq": seq,
        "time": time,
        **_event_fields(e),
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class Hasher:
    def __init__(self, key: bytes | None) -> None:
        self.key = key

    @property
    def scheme(self) -> str:
        return "hmac-sha256" if self.key else "sha256"

    def key_check(self) -> str:
        return (
            hmac.new(self.key, _KEY_CHECK_MSG, hashlib.sha256).hexdigest()[:16] if self.key else ""
        )

    def meta_rows(self) -> list[tuple[str, str]]:
        """What a new trail records of its hashing (its ``meta`` rows)."""
        return [
            ("format_version", str(FORMAT_VERSION)),
            ("scheme", self.scheme),
            ("key_check", self.key_check()),
        ]

    def scheme_problem(self, meta: Mapping[str, str], *, init: bool = False) -> str | None:
        """None if a trail's ``meta`` says it uses this scheme and key; else why not (raised at
        ``init``: a chain must never mix schemes)."""
        problem = None
        scheme = meta.get("scheme", "")
        if scheme == "hmac-sha256" and not self.key:  # cannot even be checked
            raise AuditError("this audit trail is signed with a key; set audit.hmac_key to use it")
        if scheme != self.scheme:
            problem = (
                f"this trail's hashing scheme is {scheme or 'missing'!r}, not "
                f"{self.scheme!r} as configured (started without the key, or rewritten)"
            )
        elif not hmac.compare_digest(meta.get("key_check", ""), self.key_check()):
            problem = "the configured audit key is not the one this trail was started with"
        if problem and init:
            raise AuditError(problem)
        return problem

    def row_hash(self, prev_hash: str, seq: int, time: str, event: AuditEvent) -> str:
        msg = prev_hash.encode() + b"\n" + _canonical(seq, time, event)
        if self.key:
            return hmac.new(self.key, msg, hashlib.sha256).hexdigest()
        return hashlib.sha256(msg).hexdigest()


_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
{_EVENT_COLUMNS_SQL}
    prev_hash TEXT NOT NULL,
    row_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_time ON events(time);
CREATE TABLE IF NOT EXISTS head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    row_hash TEXT NOT NULL
);
INSERT OR IGNORE INTO head (id, seq, row_hash) VALUES (1, 0, '{GENESIS}');
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: rows cannot be changed'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: rows cannot be deleted'); END;
CREATE TRIGGER IF NOT EXISTS events_append_only BEFORE INSERT ON events
WHEN NEW.seq IS NOT (SELECT seq FROM head WHERE id = 1) + 1
  OR NEW.prev_hash IS NOT (SELECT row_hash FROM head WHERE id = 1)
BEGIN SELECT RAISE(ABORT, 'audit rows are only appended, after the checkpoint'); END;
CREATE TRIGGER IF NOT EXISTS head_forward BEFORE UPDATE ON head
WHEN NEW.id IS NOT 1 OR NEW.seq IS NOT OLD.seq + 1
  OR NEW.row_hash IS NOT (SELECT row_hash FROM events WHERE seq = NEW.seq)
BEGIN SELECT RAISE(ABORT, 'the audit checkpoint only moves forward, to the new last row'); END;
CREATE TRIGGER IF NOT EXISTS head_no_delete BEFORE DELETE ON head
BEGIN SELECT RAISE(ABORT, 'the audit checkpoint cannot be deleted'); END;
CREATE TRIGGER IF NOT EXISTS meta_no_update BEFORE UPDATE ON meta
BEGIN SELECT RAISE(ABORT, 'the audit trail settings cannot be changed'); END;
CREATE TRIGGER IF NOT EXISTS meta_no_delete BEFORE DELETE ON meta
BEGIN SELECT RAISE(ABORT, 'the audit trail settings cannot be deleted'); END;
"""
_TRIGGERS = frozenset(
    line.split()[5]
    for line in _SCHEMA.splitlines()
    if line.startswith("CREATE TRIGGER IF NOT EXISTS")
)
COLUMNS: tuple[str, ...] = ("seq", "time", *EVENT_FIELDS, "prev_hash", "row_hash")
_COLUMNS = ", ".join(COLUMNS)


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso_utc(moment: datetime) -> str:
    """The trail's time format (fixed width, so text order is time order). Naive = UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _str_list(raw: object) -> tuple[str, ...]:
    value = json.loads(raw) if isinstance(raw, str) else None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("not a list of strings")
    return tuple(value)


def _flag(raw: object) -> bool:
    if raw not in (0, 1) or isinstance(raw, float):
        raise ValueError("not a 0/1 flag")
    return bool(raw)


def _text(raw: object, *, optional: bool = False) -> Any:
    if isinstance(raw, str) or (optional and raw is None):
        return raw
    raise ValueError("not text")


_READERS: dict[str, Callable[[object], Any]] = {
    "list": _str_list,
    "flag": _flag,
    "optional": partial(_text, optional=True),
    "text": _text,
}
_READ = {name: _READERS[_KIND[name]] for name in EVENT_FIELDS}


def read_record(row: Mapping[str, Any]) -> AuditRecord:
    """A stored row as typed data; ValueError when a value is not what the trail writes."""
    seq = row["seq"]
    if not isinstance(seq, int):
        raise ValueError("seq is not an integer")
    event = AuditEvent(**{name: _READ[name](row[name]) for name in EVENT_FIELDS})
    return AuditRecord(
        seq=seq,
        time=_text(row["time"]),
        event=event,
        prev_hash=_text(row["prev_hash"]),
        row_hash=_text(row["row_hash"]),
    )


def parse_anchor(value: str) -> tuple[int, str]:
    """``SEQ:HASH`` (hash: at least 16 hex digits of the row hash) -> (seq, hash prefix)."""
    seq_text, sep, digest = value.strip().partition(":")
    digest = digest.lower()
    if (
        not sep
        or not seq_text.isdigit()
        or len(digest) < ANCHOR_MIN_HEX
        or any(c not in "0123456789abcdef" for c in digest)
    ):
        raise AuditError(
            f"bad anchor {value!r}: use SEQ:HASH as `audit verify` prints it "
            f"(at least {ANCHOR_MIN_HEX} hex digits)"
        )
    return int(seq_text), digest


# -- the trail --------------------------------------------------------------------------------


def time_window(
    since: datetime | None, until: datetime | None, column: str, mark: str
) -> tuple[str, list[str]]:
    """The WHERE clause (or "") and its parameters for ``since <= time < until``; ``mark`` is
    the store's parameter placeholder."""
    where, params = [], []
    if since is not None:
        where.append(f"{column} >= {mark}")
        params.append(iso_utc(since))
    if until is not None:
        where.append(f"{column} < {mark}")
        params.append(iso_utc(until))
    return (" WHERE " + " AND ".join(where)) if where else "", params


def read_records(rows: Iterable[Mapping[str, Any]]) -> Iterator[AuditRecord]:
    """Stored rows as records; AuditError on the first one the trail did not write."""
    for row in rows:
        try:
            yield read_record(row)
        except ValueError as exc:
            raise AuditError(
                f"row {row['seq']} of the audit trail is damaged; run `audit verify`"
            ) from exc


class Exporting:
    """``export`` for a trail that has ``records``."""

    def records(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> Iterator[AuditRecord]:
        raise NotImplementedError

    def export(
        self,
        out: Any,
        *,
        fmt: Literal["csv", "jsonl"] = "jsonl",
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> int:
        """Write the rows in [since, until) to the text stream ``out``; returns the count."""
        return write_records(self.records(since, until), fmt, out, COLUMNS)


class Trail(Protocol):
    """What callers use of an audit trail, whichever store keeps it (this SQLite file, or
    PostgreSQL: ``assistant/audit/postgres.py``)."""

    @property
    def keyed(self) -> bool: ...

    def record(self, event: AuditEvent) -> int: ...

    def records(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> Iterator[AuditRecord]: ...

    def verify(self, anchor: tuple[int, str] | None = None) -> VerifyResult: ...

    def export(
        self,
        out: Any,
        *,
        fmt: Literal["csv", "jsonl"] = "jsonl",
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> int: ...

    def close(self) -> None: ...


class AuditTrail(Exporting):
    """An audit trail in one SQLite file. Safe to share between threads; many processes may
    write the same file. Create one per process (e.g. at server start) and pass it down."""

    def __init__(
        self,
        path: Path,
        *,
        key: bytes | str | None = None,
        busy_timeout_s: float = 30.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.path = Path(path)
        self._hasher = Hasher(key.encode() if isinstance(key, str) else key or None)
        self._busy_timeout_s = busy_timeout_s
        self._clock = clock
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._inherited: list[sqlite3.Connection] = []

    @classmethod
    def from_settings(cls, settings: Settings, path: Path | None = None) -> AuditTrail:
        """The configured trail, or with ``path`` a copy of it (a backup) under the same key."""
        a = settings.audit
        return cls(
            path or a.resolve_path(settings.paths.data_dir),
            key=a.hmac_key.get_secret_value() if a.hmac_key else None,
            busy_timeout_s=a.busy_timeout_s,
        )

    @property
    def keyed(self) -> bool:
        return self._hasher.key is not None

    # -- connections --

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            timeout=self._busy_timeout_s,
            isolation_level=None,  # transactions are explicit
            check_same_thread=False,  # guarded by self._lock
        )
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_s * 1000)}")
        return conn

    def _writer(self) -> sqlite3.Connection:
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        if self._conn is not None:  # forked: never use (nor close) the parent's connection
            self._inherited.append(self._conn)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Private from the start; SQLite gives its -wal and -shm files the same mode.
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        conn = self._connect()
        try:
            self._enter_wal(conn)
            conn.execute("PRAGMA synchronous = FULL")  # a committed row survives power loss
            try:
                conn.executescript("BEGIN IMMEDIATE;" + _SCHEMA + "COMMIT;")
                conn.execute("BEGIN IMMEDIATE")
                self._check_scheme(conn, init=True)
                conn.execute("COMMIT")
            finally:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
        except BaseException:
            conn.close()
            raise
        self._conn, self._pid = conn, os.getpid()
        return conn

    def _enter_wal(self, conn: sqlite3.Connection) -> None:
        """Switch a new file to WAL. Two connections switching the same new file at once
        can deadlock (each holds a shared lock and wants the exclusive one); SQLite then
        answers "database is locked" at once, without waiting on the busy timeout. Retry
        with a jittered pause until the busy timeout is spent. A file already in WAL mode
        needs no lock here."""
        deadline = time.monotonic() + self._busy_timeout_s
        while True:
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise
                time.sleep(random.uniform(0.005, 0.05))

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        if not self.path.exists():
            raise AuditTrailMissingError(
                f"no audit trail yet at {self.path} (nothing recorded, or the file was removed)"
            )
        with closing(self._connect()) as conn:
            try:
                conn.execute("BEGIN")  # one snapshot for the whole read
                if not conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'"
                ).fetchone():
                    raise AuditError(f"{self.path} is not an audit trail")
                yield conn
            except sqlite3.DatabaseError as exc:
                log.debug("audit trail unreadable", exc_info=True)
                raise AuditError(f"cannot read the audit trail {self.path} ({exc})") from exc
            finally:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")

    def _check_scheme(self, conn: sqlite3.Connection, *, init: bool = False) -> str | None:
        """None if this trail uses our hashing scheme and key; else why not. At init, a new
        trail takes ours and a mismatch raises (a chain must never mix schemes)."""
        try:
            meta = {r["key"]: r["value"] for r in conn.execute("SELECT key, value FROM meta")}
        except sqlite3.OperationalError:  # the table was dropped
            meta = {}
        if init and not meta:
            conn.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)", self._hasher.meta_rows()
            )
            return None
        return self._hasher.scheme_problem(meta, init=init)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    def __enter__(self) -> AuditTrail:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing --

    def record(self, event: AuditEvent) -> int:
        """Append one event; returns its seq. Raises AuditError when the trail cannot be
        written (callers decide whether to answer anyway; failing closed is the safe default)."""
        try:
            with self._lock:
                conn = self._writer()
                conn.execute("BEGIN IMMEDIATE")
                try:
                    last, prev = conn.execute(
                        "SELECT seq, row_hash FROM head WHERE id = 1"
                    ).fetchone()
                    seq, time = last + 1, iso_utc(self._clock())
                    digest = self._hasher.row_hash(prev, seq, time, event)
                    conn.execute(
                        f"INSERT INTO events ({_COLUMNS}) VALUES ({', '.join('?' * len(COLUMNS))})",
                        (seq, time, *stored_values(event), prev, digest),
                    )
                    conn.execute(
                        "UPDATE head SET seq = ?, row_hash = ? WHERE id = 1", (seq, digest)
                    )
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
        except sqlite3.OperationalError as exc:
            log.warning("audit record failed: %s", exc)
            raise AuditError(f"cannot write the audit trail {self.path} ({exc})") from exc
        except sqlite3.DatabaseError as exc:  # integrity errors from the triggers, corruption
            log.error("audit record refused: %s", exc)
            raise AuditError(f"the audit trail {self.path} refused the record ({exc})") from exc
        return seq

    # -- reading --

    def records(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> Iterator[AuditRecord]:
        """Rows with ``since <= time < until``, in seq order. Not verified: run ``verify``."""
        where, params = time_window(since, until, "time", "?")
        with self._reader() as conn:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM events{where} ORDER BY seq", params)
            yield from read_records(rows)

    def verify(self, anchor: tuple[int, str] | None = None) -> VerifyResult:
        """Walk the whole chain. ``anchor`` = (seq, hash prefix) from an earlier verify."""
        with self._reader() as conn:
            return Verifier(self._hasher, _SqliteRows(conn), anchor).run(self._check_scheme(conn))


class ChainRows(Protocol):
    """What verifying reads of a stored trail, whatever stores it (one consistent snapshot)."""

    expected_triggers: frozenset[str]

    def trigger_names(self) -> set[str]: ...

    def head(self) -> tuple[int, str] | None: ...  # None: the checkpoint is missing

    def events(self) -> Iterable[Mapping[str, Any]]: ...  # every row, in seq order

    def seq_of_hash(self, digest: str) -> int | None: ...


class _SqliteRows:
    expected_triggers = _TRIGGERS

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def trigger_names(self) -> set[str]:
        return {
            r["name"]
            for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")
        }

    def head(self) -> tuple[int, str] | None:
        try:
            row = self.conn.execute("SELECT seq, row_hash FROM head WHERE id = 1").fetchone()
        except sqlite3.OperationalError:
            return None
        return None if row is None else (row["seq"], row["row_hash"])

    def events(self) -> Iterable[Mapping[str, Any]]:
        return self.conn.execute(f"SELECT {_COLUMNS} FROM events ORDER BY seq")

    def seq_of_hash(self, digest: str) -> int | None:
        row = self.conn.execute("SELECT seq FROM events WHERE row_hash = ?", (digest,)).fetchone()
        return None if row is None else int(row["seq"])


class Verifier:
    """Walks a stored chain (``ChainRows``) and says whether, and where, it was changed."""

    def __init__(self, hasher: Hasher, rows: ChainRows, anchor: tuple[int, str] | None) -> None:
        self.hasher = hasher
        self.rows = rows
        self.anchor = anchor
        self.checked = 0
        self.anchor_hash: str | None = None

    def fail(self, seq: int | None, reason: str, head: tuple[int, str] = (0, "")) -> VerifyResult:
        return VerifyResult(
            ok=False,
            rows_checked=self.checked if seq is None else min(self.checked, seq - 1),
            first_bad_seq=seq,
            reason=reason,
            head_seq=head[0],
            head_hash=head[1],
            keyed=self.hasher.key is not None,
        )

    def run(self, scheme_problem: str | None) -> VerifyResult:
        if scheme_problem:
            return self.fail(None, scheme_problem)
        warnings = []
        if dropped := sorted(self.rows.expected_triggers - self.rows.trigger_names()):
            warnings.append(f"protective triggers were removed: {', '.join(dropped)}")
        head = self.rows.head()
        if head is None:
            return self.fail(None, "the checkpoint (head) is missing")

        expected, prev = 1, GENESIS
        for row in self.rows.events():
            seq = row["seq"]
            if seq < expected:  # rows are numbered from 1
                return self.fail(seq, f"row {seq} was added outside the audit trail", head)
            if seq > expected:
                missing = (
                    f"row {expected} is missing (deleted)"
                    if seq == expected + 1
                    else f"rows {expected}-{seq - 1} are missing (deleted)"
                )
                return self.fail(expected, missing, head)
            if seq > head[0]:
                return self.fail(
                    seq, f"row {seq} was added outside the audit trail (after the checkpoint)", head
                )
            problem = self.check_row(row, prev)
            if problem:
                return self.fail(*problem, head)
            prev = row["row_hash"]
            if self.anchor and seq == self.anchor[0]:
                self.anchor_hash = prev
            self.checked += 1
            expected += 1

        last = expected - 1
        if head[0] > last:
            gone = head[0] - last
            what = "the last row was deleted" if gone == 1 else f"the last {gone} rows were deleted"
            return self.fail(last + 1, f"{what} (the checkpoint is at row {head[0]})", head)
        if head[0] < last:
            return self.fail(
                head[0] + 1,
                f"row {head[0] + 1} was added outside the audit trail (after the checkpoint)",
                head,
            )
        if not hmac.compare_digest(head[1], prev):
            return self.fail(
                last or None, f"the checkpoint does not match row {last} (one was rewritten)", head
            )
        if self.anchor:
            a_seq, a_hash = self.anchor
            if a_seq > last:
                return self.fail(
                    last + 1,
                    f"the trail ends at row {last}, before the anchored row {a_seq}: "
                    "rows were deleted",
                    head,
                )
            if a_seq > 0 and not (self.anchor_hash or "").startswith(a_hash):
                return self.fail(a_seq, f"row {a_seq} no longer has the anchored hash", head)
        return VerifyResult(
            ok=True,
            rows_checked=self.checked,
            first_bad_seq=None,
            reason="",
            head_seq=last,
            head_hash=prev,
            keyed=self.hasher.key is not None,
            warnings=tuple(warnings),
        )

    def check_row(self, row: Mapping[str, Any], prev: str) -> tuple[int, str] | None:
        """None if the row is intact and follows ``prev``; else (first bad seq, why)."""
        seq = row["seq"]
        try:
            rec = read_record(row)
        except ValueError:
            return seq, f"row {seq} was edited (it holds values the trail never writes)"
        own = self.hasher.row_hash(rec.prev_hash, seq, rec.time, rec.event)
        intact = hmac.compare_digest(own, rec.row_hash)
        if intact and rec.prev_hash == prev:
            return None
        if intact:  # a consistent row that does not follow the one before it
            before = self.rows.seq_of_hash(rec.prev_hash)
            if before is not None and before != seq - 1:
                return seq, f"rows out of order: row {seq} follows row {before} in the chain"
            if seq == 1:
                return seq, "row 1 was edited"
            return seq - 1, (
                f"row {seq - 1} was edited (its hash was recomputed; row {seq} no longer links)"
            )
        moved = self.written_as(rec)
        if moved is not None:
            return seq, f"rows out of order: row {seq} holds the entry written as row {moved}"
        return seq, f"row {seq} was edited"

    def written_as(self, rec: AuditRecord) -> int | None:
        """The seq this row's hash was computed for, if near its place (renumbered rows)."""
        for delta in range(1, _SEARCH_MOVED + 1):
            for seq in (rec.seq + delta, rec.seq - delta):
                if seq > 0 and hmac.compare_digest(
                    self.hasher.row_hash(rec.prev_hash, seq, rec.time, rec.event), rec.row_hash
                ):
                    return seq
        return None

"""Users of the chat UI and the JSON API: bcrypt password hashes, access groups, API tokens.

Kept in one JSON file (``server.users_file``), written atomically under a lock and readable by
its owner only; or, with ``database.url`` set, in PostgreSQL (``accounts.users``, migration 0003)
where every server reads them. API tokens are random 256-bit strings shown once; only their
SHA-256 is stored (a token has too much entropy for a slow hash to add anything, and the API
checks one on every request).
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import bcrypt

from core.errors import AssistantError, ConfigError

if TYPE_CHECKING:
    from core.database import Database
    from core.settings import Settings

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
TOKEN_PREFIX = "hat_"
MIN_PASSWORD = 8
# A hash to check against when the user does not exist, so that a wrong name and a wrong password
# take the same time.
_dummy_hashes: dict[int, bytes] = {}  # cost -> a hash no password matches, made on first use


def _dummy_hash(rounds: int) -> bytes:
    """A hash of the given bcrypt cost to check an unknown user's password against, so that a
    wrong user name takes as long to refuse as a wrong password (no user names by timing)."""
    if rounds not in _dummy_hashes:
        _dummy_hashes[rounds] = bcrypt.hashpw(b"not a password", bcrypt.gensalt(rounds))
    return _dummy_hashes[rounds]


def _cost(password_hash: str) -> int | None:
    parts = password_hash.split("$")  # $2b$12$<salt and hash>
    return int(parts[2]) if len(parts) > 3 and parts[2].isdigit() else None


class TokenError(AssistantError):
    """A request without a valid API token (HTTP 401); ``str()`` says which case."""


@dataclass(frozen=True)
class Account:
    name: str
    groups: tuple[str, ...]


@dataclass
class _Record:
    password_hash: str
    groups: list[str]
    created: str
    # {id, sha256, created, expires?}: a token without "expires" does not expire
    tokens: list[dict[str, str]] = field(default_factory=list)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _expired(token: dict[str, str], now: datetime) -> bool:
    expires = token.get("expires")
    return expires is not None and datetime.fromisoformat(expires) <= now


class UserRecords(Protocol):
    """Where the users are kept: every record read at once, one user or the holder of one
    token looked up, and edits made under a lock."""

    def load(self) -> dict[str, _Record]: ...

    def one(self, name: str) -> _Record | None: ...

    def holding(self, token_sha256: str) -> tuple[str, _Record] | None:
        """The user holding the token with this hash (valid or not), if any."""
        ...

    def editing(self) -> contextlib.AbstractContextManager[dict[str, _Record]]: ...


class UsersFile:
    """The users in one JSON file, replaced atomically under a lock, readable by its owner."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, _Record]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read the users file {self.path}: {exc}") from exc
        users = raw.get("users", {}) if isinstance(raw, dict) else {}
        return {name: _Record(**rec) for name, rec in users.items()}

    def one(self, name: str) -> _Record | None:
        return self.load().get(name)

    def holding(self, token_sha256: str) -> tuple[str, _Record] | None:
        found = None
        for name, rec in self.load().items():
            for t in rec.tokens:  # every token compared: the time taken says nothing
                if hmac.compare_digest(t["sha256"], token_sha256):
                    found = (name, rec)
        return found

    @contextmanager
    def editing(self) -> Iterator[dict[str, _Record]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            users = self.load()
            yield users
            data: dict[str, Any] = {
                "version": 1,
                "users": {n: vars(r) for n, r in sorted(users.items())},
            }
            fd, tmp = tempfile.mkstemp(prefix=".users-", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(data, f, indent=2)
                    f.write("\n")
                    f.flush()
                    os.fsync(f.fileno())
                os.chmod(tmp, 0o600)
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise


class UsersTable:
    """The users in PostgreSQL (``accounts.users``): one row each, groups and tokens as JSON;
    an edit locks the table for its transaction, so edits from two servers never interleave."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def load(self) -> dict[str, _Record]:
        with self.database.pool().connection() as conn:
            return self._read(conn)

    def one(self, name: str) -> _Record | None:
        with self.database.pool().connection() as conn:
            return self._read(conn, "WHERE name = %s", (name,)).get(name)

    def holding(self, token_sha256: str) -> tuple[str, _Record] | None:
        # one row, found through the tokens' index (migration 0005), not every user read
        wanted = json.dumps([{"sha256": token_sha256}])
        with self.database.pool().connection() as conn:
            users = self._read(conn, "WHERE tokens::jsonb @> %s::jsonb", (wanted,))
        return next(iter(users.items()), None)

    @staticmethod
    def _read(conn: Any, where: str = "", params: tuple[str, ...] = ()) -> dict[str, _Record]:
        rows = conn.execute(
            "SELECT name, password_hash, groups, created, tokens FROM accounts.users "
            f"{where} ORDER BY name",
            params,
        )
        return {
            r["name"]: _Record(
                r["password_hash"], json.loads(r["groups"]), r["created"], json.loads(r["tokens"])
            )
            for r in rows
        }

    @contextmanager
    def editing(self) -> Iterator[dict[str, _Record]]:
        with self.database.pool().connection() as conn, conn.transaction():
            conn.execute("LOCK TABLE accounts.users IN EXCLUSIVE MODE")
            before = self._read(conn)
            users = copy.deepcopy(before)  # edited in place; compared with before at the end
            yield users
            for name in before.keys() - users.keys():
                conn.execute("DELETE FROM accounts.users WHERE name = %s", (name,))
            for name, rec in users.items():
                if name in before and vars(before[name]) == vars(rec):
                    continue
                conn.execute(
                    "INSERT INTO accounts.users (name, password_hash, groups, created, tokens) "
                    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET "
                    "password_hash = excluded.password_hash, groups = excluded.groups, "
                    "created = excluded.created, tokens = excluded.tokens",
                    (
                        name,
                        rec.password_hash,
                        json.dumps(rec.groups),
                        rec.created,
                        json.dumps(rec.tokens),
                    ),
                )


def user_store(settings: Settings) -> UserStore:
    """The configured users: in PostgreSQL when ``database.url`` is set, else the users file."""
    if settings.database.url is not None:
        from core.database import Database

        return UserStore(UsersTable(Database.shared(settings.database)))
    return UserStore(settings.server.resolve_users_file(settings.paths.data_dir))


class UserStore:
    """Reads and edits the users. Cheap to construct; every call reads them afresh, so users
    added while the server runs can sign in without a restart. ``records``: where they are kept
    (a path: that users file)."""

    def __init__(self, records: UserRecords | Path, bcrypt_rounds: int = 12) -> None:
        self.records = UsersFile(records) if isinstance(records, Path) else records
        self.rounds = bcrypt_rounds

    # -- reading -------------------------------------------------------------------------------

    def _load(self) -> dict[str, _Record]:
        return self.records.load()

    def list(self) -> list[tuple[Account, int]]:
        """Accounts with their number of API tokens still valid, by name."""
        now = datetime.now(UTC)
        return [
            (Account(name, tuple(rec.groups)), sum(not _expired(t, now) for t in rec.tokens))
            for name, rec in sorted(self._load().items())
        ]

    def account(self, name: str) -> Account | None:
        """The user called ``name`` (no password checked: for commands run on the server)."""
        rec = self.records.one(name)
        return Account(name, tuple(rec.groups)) if rec else None

    def authenticate(self, name: str, password: str) -> Account | None:
        rec = self.records.one(name)
        if rec is not None:
            stored = rec.password_hash.encode()
        else:  # as costly as checking a real user's password
            users = self._load().values()
            costs = [c for r in users if (c := _cost(r.password_hash)) is not None]
            stored = _dummy_hash(max(costs, default=self.rounds))
        ok = bcrypt.checkpw(password.encode("utf-8")[:72], stored)
        return Account(name, tuple(rec.groups)) if (ok and rec) else None

    def account_for_authorization(self, header: str) -> Account:
        """The user an ``Authorization: Bearer <token>`` header names; ``TokenError`` (with
        the reason to show, for a 401) when it names none."""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise TokenError("missing bearer token (Authorization: Bearer <token>)")
        found = self._find_token(token.strip())
        if found is None:
            raise TokenError("invalid or revoked token")
        account, record = found
        if _expired(record, datetime.now(UTC)):
            day = record["expires"][:10]
            raise TokenError(f"token expired on {day}; ask an administrator for a new one")
        return account

    def account_for_token(self, token: str) -> Account | None:
        """The user a valid token belongs to (``None``: unknown, revoked or expired)."""
        found = self._find_token(token)
        if found is None or _expired(found[1], datetime.now(UTC)):
            return None
        return found[0]

    def _find_token(self, token: str) -> tuple[Account, dict[str, str]] | None:
        if not token.startswith(TOKEN_PREFIX):
            return None
        wanted = _token_hash(token)
        holder = self.records.holding(wanted)
        if holder is None:
            return None
        name, rec = holder
        record = next(t for t in rec.tokens if hmac.compare_digest(t["sha256"], wanted))
        return Account(name, tuple(rec.groups)), record

    # -- editing -------------------------------------------------------------------------------

    def _editing(self) -> contextlib.AbstractContextManager[dict[str, _Record]]:
        return self.records.editing()

    def add(self, name: str, password: str, groups: tuple[str, ...], *, replace: bool) -> None:
        if not NAME_RE.match(name):
            raise ConfigError(
                f"invalid user name {name!r} (letters, digits and . _ @ -, at most 64)"
            )
        if len(password) < MIN_PASSWORD:
            raise ConfigError(f"the password must have at least {MIN_PASSWORD} characters")
        if len(password.encode("utf-8")) > 72:
            raise ConfigError("the password must be at most 72 bytes (a bcrypt limit)")
        hashed = bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(self.rounds)).decode()
        with self._editing() as users:
            if name in users and not replace:
                raise ConfigError(f"user {name!r} exists (use --update to change it)")
            tokens = users[name].tokens if name in users else []
            users[name] = _Record(hashed, list(groups), _now(), tokens)

    def remove(self, name: str) -> None:
        with self._editing() as users:
            if users.pop(name, None) is None:
                raise ConfigError(f"no user {name!r}")

    def issue_token(self, name: str, days: int | None = None) -> str:
        """A new API token for ``name``, valid for ``days`` (``None`` or 0: until revoked); the
        only time it is seen in clear. The user's expired tokens are dropped."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        record = {"id": secrets.token_hex(4), "sha256": _token_hash(token), "created": _now()}
        if days:
            record["expires"] = (now + timedelta(days=days)).isoformat(timespec="seconds")
        with self._editing() as users:
            if name not in users:
                raise ConfigError(f"no user {name!r}")
            users[name].tokens = [t for t in users[name].tokens if not _expired(t, now)]
            users[name].tokens.append(record)
        return token

    def revoke_tokens(self, name: str) -> int:
        with self._editing() as users:
            if name not in users:
                raise ConfigError(f"no user {name!r}")
            n = len(users[name].tokens)
            users[name].tokens = []
        return n

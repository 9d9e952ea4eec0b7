"""The chat server's front door: failed sign-ins slowed down, the session cookie ``Secure``
behind HTTPS, and the chat's websocket refused to pages of other origins.

``FailedSignIns`` counts failures per key (a user name, a client address) and makes a key that
failed too often wait, the wait doubling with each further failure. ``SignInGuard`` is the ASGI
middleware in front of the chat server that applies it:

- ``POST /login`` (the chat's password sign-in): refused with 429 and ``Retry-After`` while the
  user name or the client address has to wait; a 401 from the sign-in counts a failure for both,
  a success forgets the user name's. An address is allowed more failures than a user name
  (``ADDRESS_FACTOR`` times as many): many staff may reach the server from one address (a proxy
  it does not trust, a NAT), and a few typing mistakes must not lock them all out;
- the JSON API and the MCP endpoint (bearer tokens): refused with 429 while the client address
  has to wait; a 401 counts a failure for the address.

The counts live in the server's memory or, with ``database.url`` set, in PostgreSQL, where every
server counts the same failures. The client address is the one the ASGI server reports (behind a
trusted proxy, the forwarded one).

``Set-Cookie`` headers of a request that came over HTTPS (directly, or through a trusted proxy
that says so) get ``Secure``; every cookie is ``HttpOnly`` and ``SameSite`` already (Chainlit
sets them).

A websocket (the chat's connection) whose ``Origin`` is neither the server's own (the ``Host`` it
was reached at, or a proxy's ``X-Forwarded-Host``) nor one of ``server.allowed_origins`` is
closed before it opens: a page elsewhere cannot talk to the chat with a signed-in user's cookie.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from starlette.requests import Request

if TYPE_CHECKING:
    from core.database import Database

log = logging.getLogger(__name__)

ADDRESS_FACTOR = 5  # failures an address may have for each one a user name may
_MAX_KEYS = 100_000  # keys kept in memory before the oldest are dropped

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]
App = Callable[[Scope, Receive, Send], Any]


class FailureLog(Protocol):
    """When each key failed: kept in this process's memory, or in PostgreSQL for every server."""

    def recent(self, key: str, horizon: float) -> tuple[float, list[float]]:
        """The time now, and when ``key`` failed within the last ``horizon`` seconds (oldest
        first)."""
        ...

    def add(self, key: str, horizon: float) -> None:
        """Record a failure of ``key`` now, and forget every failure older than ``horizon``."""
        ...

    def clear(self, key: str) -> None: ...


class MemoryLog:
    """The failures in this process's memory (a server of its own)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._keys: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def recent(self, key: str, horizon: float) -> tuple[float, list[float]]:
        now = self.clock()
        with self._lock:
            return now, [t for t in self._keys.get(key, []) if t >= now - horizon]

    def add(self, key: str, horizon: float) -> None:
        at = self.clock()
        with self._lock:
            kept = [t for t in self._keys.pop(key, []) if t >= at - horizon]
            self._keys[key] = [*kept, at]  # re-inserted: the oldest keys come first
            if len(self._keys) > _MAX_KEYS:  # a flood of made-up names: drop the oldest keys
                for old in list(self._keys)[: _MAX_KEYS // 2]:
                    del self._keys[old]

    def clear(self, key: str) -> None:
        with self._lock:
            self._keys.pop(key, None)


class DatabaseLog:
    """The failures in PostgreSQL (``accounts.sign_in_failures``, migration 0004), timed by the
    database's clock, so every server counts the same failures.

    A key found with no failures at all (nearly every API client) is taken as clean for
    ``clean_for`` seconds without asking the database again, unless this server records a
    failure for it: a busy API costs one query per client address every ``clean_for`` seconds,
    not one per request. Failures made on other servers in that time are seen once it ends (at
    most one extra try per server)."""

    def __init__(
        self,
        database: Database,
        clean_for: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database = database
        self.clean_for = clean_for
        self.clock = clock
        self._clean: dict[str, float] = {}  # key -> this process's time it is taken as clean until
        self._offset = 0.0  # the database's clock minus this process's, at the last query
        self._lock = threading.Lock()

    def recent(self, key: str, horizon: float) -> tuple[float, list[float]]:
        local = self.clock()
        with self._lock:
            if self._clean.get(key, -math.inf) > local:
                return local + self._offset, []
        with self.database.pool().connection() as conn:  # one round trip
            row = conn.execute(
                "SELECT now, ARRAY(SELECT at FROM accounts.sign_in_failures WHERE key = %s "
                "AND at >= now - %s ORDER BY at) AS times "
                "FROM (SELECT extract(epoch FROM clock_timestamp())::float8 AS now) AS clock",
                (key, horizon),
            ).fetchone()
        now, times = float(row["now"]), [float(t) for t in row["times"]]
        with self._lock:
            self._offset = now - local
            if times:
                self._clean.pop(key, None)
            else:
                if len(self._clean) > _MAX_KEYS:
                    self._clean.clear()
                self._clean[key] = local + self.clean_for
        return now, times

    def add(self, key: str, horizon: float) -> None:
        with self._lock:
            self._clean.pop(key, None)
        with self.database.pool().connection() as conn, conn.transaction():
            conn.execute(
                "DELETE FROM accounts.sign_in_failures "
                "WHERE at < extract(epoch FROM clock_timestamp()) - %s",
                (horizon,),
            )
            conn.execute(
                "INSERT INTO accounts.sign_in_failures (key, at) "
                "VALUES (%s, extract(epoch FROM clock_timestamp()))",
                (key,),
            )

    def clear(self, key: str) -> None:
        with self.database.pool().connection() as conn:
            conn.execute("DELETE FROM accounts.sign_in_failures WHERE key = %s", (key,))


class FailedSignIns:
    """``max_failures`` failures of one key within ``window`` seconds make it wait ``delay``
    seconds from its last failure; each further failure doubles the wait, up to ``max_delay``.
    ``log``: where the failures are kept (default: this process's memory)."""

    def __init__(
        self,
        max_failures: int = 5,
        window: float = 900.0,
        delay: float = 30.0,
        max_delay: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
        log: FailureLog | None = None,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.delay = delay
        self.max_delay = max_delay
        self.log = log or MemoryLog(clock)

    def wait(self, key: str) -> float:
        """Seconds before ``key`` may try again (0: now)."""
        if not self.max_failures:
            return 0.0
        now, recent = self.log.recent(key, max(self.window, self.max_delay))
        in_window = [t for t in recent if now - t < self.window]
        if len(in_window) < self.max_failures:
            return 0.0
        extra = len(in_window) - self.max_failures
        wait = min(self.delay * 2**extra, self.max_delay)
        return max(0.0, recent[-1] + wait - now)

    def failed(self, key: str) -> None:
        self.log.add(key, horizon=max(self.window, self.max_delay))

    def succeeded(self, key: str) -> None:
        self.log.clear(key)


class ServerGuard:
    """ASGI middleware: see the module's docstring. ``root`` is the server's root path."""

    def __init__(
        self,
        app: App,
        users: FailedSignIns,
        addresses: FailedSignIns,
        origins: tuple[str, ...] = (),
        root: str = "",
        token_paths: tuple[str, ...] = ("/api/", "/mcp"),
    ) -> None:
        self.app = app
        self.users = users
        self.addresses = addresses
        self.origins = {o.rstrip("/").lower() for o in origins}
        self.login = f"{root}/login"
        self.token_paths = tuple(f"{root}{p}" for p in token_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and not self._same_origin(scope):
            log.warning("websocket refused: a page of another origin")
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        address = (self.addresses, str((scope.get("client") or ("unknown",))[0]))
        send = _secure_cookies(scope, send)
        if path == self.login and scope.get("method") == "POST":
            body = await _read_body(receive)
            user = (self.users, (await _form_field(scope, body, "username")).strip().lower())
            await self._guarded(scope, _replay(body), send, [user, address], success=user)
        elif path.startswith(self.token_paths):
            await self._guarded(scope, receive, send, [address], success=None)
        else:
            await self.app(scope, receive, send)

    def _same_origin(self, scope: Scope) -> bool:
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        origin = headers.get(b"origin", b"").decode("latin-1").rstrip("/").lower()
        if not origin:
            return True  # not a browser page: nothing to protect against
        # the Host the browser reached, or the one a proxy in front says it reached
        hosts = {
            headers.get(h, b"").decode("latin-1").lower() for h in (b"host", b"x-forwarded-host")
        }
        return origin.split("://", 1)[-1] in hosts - {""} or origin in self.origins

    async def _guarded(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        keys: list[tuple[FailedSignIns, str]],
        success: tuple[FailedSignIns, str] | None,
    ) -> None:
        waits = [await asyncio.to_thread(limits.wait, key) for limits, key in keys]
        wait = max(waits)
        if wait > 0:
            log.warning("sign-in refused for %d s after repeated failures", math.ceil(wait))
            await _too_many(send, wait)
            return
        status: list[int] = []

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        await self.app(scope, receive, watch)
        if status and status[0] == 401:
            for limits, key in keys:
                await asyncio.to_thread(limits.failed, key)
        elif status and status[0] < 300 and success is not None:
            await asyncio.to_thread(success[0].succeeded, success[1])


async def _read_body(receive: Receive, limit: int = 64 * 1024) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= limit:  # a sign-in form is small; more is dropped, not read into memory
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _form_field(scope: Scope, body: bytes, name: str) -> str:
    """A field of a sign-in form (multipart, as the chat's page sends it, or URL-encoded)."""
    try:
        form = await Request(scope, _replay(body)).form()
    except Exception:  # not a form: the sign-in itself will say so
        return ""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


async def _too_many(send: Send, wait: float) -> None:
    # the chat's sign-in page shows the text of auth.login.errors.<detail> (copy.yaml)
    body = json.dumps({"detail": "tooManyAttempts"}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"retry-after", str(math.ceil(wait)).encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _secure_cookies(scope: Scope, send: Send) -> Send:
    if scope.get("scheme") != "https":
        return send

    async def secured(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = []
            for key, value in message.get("headers", []):
                attributes = [a.strip().lower() for a in value.split(b";")[1:]]
                if key.lower() == b"set-cookie" and b"secure" not in attributes:
                    value += b"; Secure"
                headers.append((key, value))
            message = {**message, "headers": headers}
        await send(message)

    return secured

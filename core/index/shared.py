"""One index for every server: when ``database.url`` is set and Chroma runs as a server
(``chroma.mode: http``), what the data folder holds of an index generation (its chunk texts and
documents, the query adapter fitted on it) lives in PostgreSQL too, with the generation that is
live (``index_state`` schema, migration 0006). The vectors are in the Chroma server.

- An ingest, on any machine, holds the database's ingest lock for its whole run (one ingest at a
  time across machines), starts from the live generation, and publishes the new one: its files
  and the switch of ``live`` in one transaction, so no server sees half of it.
- A server reads ``live`` at most every ``recheck_s`` seconds; when it names another generation,
  the server copies that generation's files into its own data folder (a cache of the database:
  a server needs no data folder prepared for it) and reloads, answering from the old generation
  meanwhile.
- The two newest generations are kept (the previous one's Chroma collection too), so a server
  still on the previous one answers until it has switched.
- Questions a privacy officer confirms are kept here too (migration 0007), not in one machine's
  question file: every server adds a new one to its question index within seconds, and every
  ingest's question index holds them.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import IndexBusyError
from core.index.state import GENERATION_FILES, IndexState

if TYPE_CHECKING:
    from core.database import Database
    from core.settings import Settings

log = logging.getLogger(__name__)

_INGEST_LOCK = 0x68697062  # the advisory lock one ingest at a time holds, on any machine
ADAPTER_GLOB = "query-adapter-*.npy"
KEEP = 2  # generations kept: the live one and the one before it


def shares_index(settings: Settings) -> bool:
    """Whether this deployment shares its index between machines (a database and a Chroma
    server); otherwise the data folder is the truth."""
    return settings.database.url is not None and settings.chroma.mode == "http"


def shared_index(settings: Settings) -> SharedGenerations | None:
    """The shared generations, or ``None`` for the embedded default."""
    if not shares_index(settings):
        return None
    from core.database import Database

    return SharedGenerations(Database.shared(settings.database))


class SharedGenerations:
    def __init__(
        self,
        db: Database,
        recheck_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._recheck_s = recheck_s
        self._clock = clock
        self._live: str | None = None  # the live generation when last read
        self._due: dict[str, float] = {}  # what is read every few seconds: when it last was
        self._lock = threading.Lock()

    def recheck_due(self, what: str) -> bool:
        """Whether ``what`` (a name) was last read ``recheck_s`` ago or more (then it counts as
        read now): one query per server every few seconds, not one per question."""
        with self._lock:
            now = self._clock()
            if now - self._due.get(what, -self._recheck_s) < self._recheck_s:
                return False
            self._due[what] = now
            return True

    def live(self) -> str | None:
        """The live generation's id (read again after ``recheck_s``: one query per server every
        few seconds, not one per question)."""
        if not self.recheck_due("live"):
            with self._lock:
                return self._live
        # a failed read counts as read too: not asked again (nor logged by the caller) for a
        # moment
        with self._db.pool().connection() as conn:
            row = conn.execute("SELECT gen_id FROM index_state.live").fetchone()
        live = row["gen_id"] if row else None
        with self._lock:
            self._live = live
        return live

    def publish(self, state: IndexState, adapters: Path) -> str:
        """Publishes the data folder's current generation (and the query adapter fitted on it)
        and makes it live, in one transaction; older generations but the one before are
        removed. Returns its id."""
        pointer = state.current_pointer()
        if pointer is None:
            raise FileNotFoundError(f"no index generation in {state.dir} to publish")
        gen_id = str(pointer["generation"])
        files = {name: (state.gens / gen_id / name).read_bytes() for name in GENERATION_FILES}
        for path in sorted(adapters.glob(ADAPTER_GLOB)):
            if ".tmp-" not in path.name:
                files[f"adapters/{path.name}"] = path.read_bytes()
        from psycopg.types.json import Jsonb

        with self._db.pool().connection() as conn, conn.transaction():
            conn.execute(
                "INSERT INTO index_state.generations (gen_id, pointer) VALUES (%s, %s) "
                "ON CONFLICT (gen_id) DO NOTHING",
                (gen_id, Jsonb(pointer)),
            )
            conn.execute("DELETE FROM index_state.files WHERE gen_id = %s", (gen_id,))
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO index_state.files (gen_id, name, content, sha256) "
                    "VALUES (%s, %s, %s, %s)",
                    [(gen_id, n, b, hashlib.sha256(b).hexdigest()) for n, b in files.items()],
                )
            conn.execute(
                "INSERT INTO index_state.live (one, gen_id) VALUES (TRUE, %s) ON CONFLICT (one) "
                "DO UPDATE SET gen_id = EXCLUDED.gen_id, switched_at = now()",
                (gen_id,),
            )
            conn.execute(
                "DELETE FROM index_state.generations WHERE gen_id NOT IN (SELECT gen_id FROM "
                "index_state.generations ORDER BY published_at DESC, gen_id DESC LIMIT %s) "
                "AND gen_id <> %s",
                (KEEP, gen_id),
            )
        with self._lock:
            self._live, self._due["live"] = gen_id, self._clock()
        log.info("index generation %s published and live for every server", gen_id)
        return gen_id

    def confirm(self, locator: str, question: str) -> bool:
        """Keeps a confirmed (redacted) question for every server; False when it is there."""
        with self._db.pool().connection() as conn:
            row = conn.execute(
                "INSERT INTO index_state.confirmed_questions (locator, question) VALUES (%s, %s) "
                "ON CONFLICT (locator, question) DO NOTHING RETURNING id",
                (locator, question),
            ).fetchone()
        return row is not None

    def confirmed(self, after: int = 0) -> list[tuple[int, str, str]]:
        """(id, locator, question) of the questions confirmed after id ``after``, oldest first,
        and of those confirmed in the last minute whatever their id (two servers' confirmations
        can commit out of id order; the question index takes a question it holds only once)."""
        with self._db.pool().connection() as conn:
            rows = conn.execute(
                "SELECT id, locator, question FROM index_state.confirmed_questions "
                "WHERE id > %s OR confirmed_at > now() - interval '1 minute' ORDER BY id",
                (after,),
            ).fetchall()
        return [(int(r["id"]), str(r["locator"]), str(r["question"])) for r in rows]

    def pull(self, gen_id: str, state: IndexState, adapters: Path) -> None:
        """Copies generation ``gen_id`` into the data folder and makes it current there (its
        files first, each checked against its hash, then the pointer)."""
        with self._db.pool().connection() as conn:
            row = conn.execute(
                "SELECT pointer FROM index_state.generations WHERE gen_id = %s", (gen_id,)
            ).fetchone()
            files = conn.execute(
                "SELECT name, content, sha256 FROM index_state.files WHERE gen_id = %s",
                (gen_id,),
            ).fetchall()
        if row is None:
            raise LookupError(f"index generation {gen_id} is not in the database")
        by_name = {}
        for f in files:
            content = bytes(f["content"])
            if hashlib.sha256(content).hexdigest() != f["sha256"]:
                raise ValueError(f"index generation {gen_id}: {f['name']} does not match its hash")
            by_name[f["name"]] = content
        missing = [n for n in GENERATION_FILES if n not in by_name]
        if missing:
            raise LookupError(f"index generation {gen_id} lacks {', '.join(missing)}")
        for name, content in by_name.items():
            if name.startswith("adapters/"):
                adapters.mkdir(parents=True, exist_ok=True)
                state.put_file(adapters / Path(name).name, content)
            else:
                state.put_file(state.gens / gen_id / name, content)
        state.switch(dict(row["pointer"]))
        log.info("index generation %s copied from the database", gen_id)
        try:
            with state.lock():  # not while an ingest on this data folder is writing one
                state.sweep(keep=gen_id)
        except IndexBusyError:
            pass

    def follow(self, state: IndexState, adapters: Path) -> bool:
        """Makes the data folder's current generation the live one; True when it changed."""
        live = self.live()
        current = (state.current_pointer() or {}).get("generation")
        if live is None or live == current:
            return False
        self.pull(live, state, adapters)
        return True

    @contextmanager
    def ingest_lock(self) -> Iterator[None]:
        """Held for a whole ingest: a second one, on any machine, is refused at once."""
        with self._db.pool().connection() as conn:
            row = conn.execute("SELECT pg_try_advisory_lock(%s) AS got", (_INGEST_LOCK,))
            if not (row.fetchone() or {}).get("got"):
                raise IndexBusyError("another ingest is running (on this or another machine)")
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (_INGEST_LOCK,))

"""Chainlit's persistence (conversations and feedback) in the chat's store (a SQLite file, or
PostgreSQL shared by every server: ``conversations.py``), PHI-safe.

Everything a user typed (their messages, every step's input, the conversation name taken from the
first message, feedback comments) passes through the PHI guard before it is written; assistant
messages are stored as shown. Only text side elements are kept (the PDFs are the indexed files).
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chainlit.data.base import BaseDataLayer
from chainlit.types import Feedback, PageInfo, PaginatedResponse, Pagination, ThreadFilter
from chainlit.user import PersistedUser, User

from assistant.ui.conversations import USER_TYPES, ConversationStore, Db, now

if TYPE_CHECKING:
    from chainlit.element import Element, ElementDict
    from chainlit.step import StepDict
    from chainlit.types import ThreadDict


class ChatDataLayer(BaseDataLayer):
    """``store``: the chat's store, or the path of its SQLite file; ``redact``: the PHI guard
    (text -> redacted text)."""

    def __init__(self, store: ConversationStore | Path, redact: Callable[[str], str]) -> None:
        self.store = store if isinstance(store, ConversationStore) else ConversationStore(store)
        self.redact = redact
        # One writer thread: Chainlit fires a step's create and its updates as separate tasks,
        # and they must reach the database in the order they were sent.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ui-db")

    async def _run(self, fn: Callable[[Db], Any]) -> Any:
        def call() -> Any:
            with self.store.connect() as db:
                return fn(db)

        return await asyncio.get_running_loop().run_in_executor(self._worker, call)

    # -- users -----------------------------------------------------------------------------------

    async def get_user(self, identifier: str) -> PersistedUser | None:
        row = await self._run(
            lambda db: db.execute(
                "SELECT * FROM users WHERE identifier=?", (identifier,)
            ).fetchone()
        )
        if row is None:
            return None
        return PersistedUser(
            id=row["id"],
            identifier=row["identifier"],
            createdAt=row["created_at"],
            metadata=json.loads(row["metadata"]),
        )

    async def create_user(self, user: User) -> PersistedUser | None:
        meta = json.dumps(user.metadata or {})

        def upsert(db: Db) -> None:
            db.execute(
                "INSERT INTO users(id, identifier, created_at, metadata) VALUES (?,?,?,?) "
                "ON CONFLICT(identifier) DO UPDATE SET metadata=excluded.metadata",
                (str(uuid.uuid4()), user.identifier, now(), meta),
            )

        await self._run(upsert)
        return await self.get_user(user.identifier)

    # -- feedback --------------------------------------------------------------------------------

    async def upsert_feedback(self, feedback: Feedback) -> str:
        fid = feedback.id or str(uuid.uuid4())
        comment = self.redact(feedback.comment) if feedback.comment else None
        stamp = now()

        def upsert(db: Db) -> None:
            thread = feedback.threadId
            if thread is None:
                row = db.execute(
                    "SELECT thread_id FROM steps WHERE id=?", (feedback.forId,)
                ).fetchone()
                thread = row["thread_id"] if row else None
            author = db.execute(
                "SELECT user_identifier FROM threads WHERE id=?", (thread,)
            ).fetchone()
            db.execute(
                "INSERT INTO feedback(id, for_id, thread_id, user_identifier, value, comment, "
                "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
                "value=excluded.value, comment=excluded.comment, updated_at=excluded.updated_at",
                (
                    fid,
                    feedback.forId,
                    thread,
                    author["user_identifier"] if author else None,
                    int(feedback.value),
                    comment,
                    stamp,
                    stamp,
                ),
            )

        await self._run(upsert)
        return fid

    async def delete_feedback(self, feedback_id: str) -> bool:
        await self._run(lambda db: db.execute("DELETE FROM feedback WHERE id=?", (feedback_id,)))
        return True

    # -- steps and elements ----------------------------------------------------------------------

    def _clean_step(self, step: StepDict) -> dict[str, Any]:
        user_typed = step.get("type") in USER_TYPES
        text_in = step.get("input") or ""
        text_out = step.get("output") or ""
        return {
            "id": step["id"],
            "thread_id": step.get("threadId"),
            "parent_id": step.get("parentId"),
            "type": step.get("type"),
            "name": step.get("name"),
            # a step's input is what it was given, e.g. the user's message for the 'run' step
            "input": self.redact(text_in) if text_in else text_in,
            "output": self.redact(text_out) if (user_typed and text_out) else text_out,
            "created_at": step.get("createdAt") or now(),
            "start_at": step.get("start"),
            "end_at": step.get("end"),
            "is_error": int(bool(step.get("isError"))),
            "show_input": json.dumps(step.get("showInput")),
            "language": step.get("language"),
            "metadata": json.dumps(step.get("metadata") or {}),
        }

    async def create_step(self, step_dict: StepDict) -> None:
        row = self._clean_step(step_dict)
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        updates = ", ".join(f"{c}=excluded.{c}" for c in row if c not in ("id", "created_at"))

        def upsert(db: Db) -> None:
            db.execute(
                "INSERT INTO threads(id, created_at) VALUES (?,?) ON CONFLICT(id) DO NOTHING",
                (row["thread_id"], now()),
            )
            db.execute(
                f"INSERT INTO steps({cols}) VALUES ({marks}) "
                f"ON CONFLICT(id) DO UPDATE SET {updates}",
                tuple(row.values()),
            )
            if row["type"] in USER_TYPES and row["output"]:
                # a conversation opened by a command ("Add a document": no text of its own) is
                # named by the first message that has some; the history lists named ones only
                db.execute(
                    "UPDATE threads SET name=? WHERE id=? AND (name IS NULL OR name='')",
                    (row["output"][:200], row["thread_id"]),
                )

        await self._run(upsert)

    async def update_step(self, step_dict: StepDict) -> None:
        await self.create_step(step_dict)

    async def delete_step(self, step_id: str) -> None:
        def delete(db: Db) -> None:
            db.execute("DELETE FROM feedback WHERE for_id=?", (step_id,))
            db.execute("DELETE FROM elements WHERE for_id=?", (step_id,))
            db.execute("DELETE FROM steps WHERE id=?", (step_id,))

        await self._run(delete)

    async def create_element(self, element: Element) -> None:
        """Kept: the passages (text) and the rendered PDF pages (images, base64), so a reopened
        conversation's citations open as they did. Not kept: a PDF itself (the indexed file)."""
        if element.type == "text" and element.content is not None:
            content = element.content if isinstance(element.content, str) else ""
        elif element.type == "image" and element.path:
            data = await asyncio.to_thread(Path(element.path).read_bytes)
            content = base64.b64encode(data).decode()
        else:
            return
        args = (
            element.id,
            element.thread_id,
            element.for_id,
            element.type,
            element.name,
            element.display,
            content,
            element.language,
            now(),
        )
        await self._run(
            lambda db: db.execute(
                "INSERT INTO elements(id, thread_id, for_id, type, name, display, content, "
                "language, created_at) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
                "thread_id=excluded.thread_id, for_id=excluded.for_id, type=excluded.type, "
                "name=excluded.name, display=excluded.display, content=excluded.content, "
                "language=excluded.language, created_at=excluded.created_at",
                args,
            )
        )

    @staticmethod
    def _element_dict(row: Any) -> ElementDict:
        # a reopened conversation's side panel reads the element from its url: the page holds
        # it already (the thread's owner fetched it), so no second route or file is needed
        if row["type"] == "image":
            mime, url = "image/png", "data:image/png;base64," + (row["content"] or "")
            props: dict[str, Any] = {}
        else:
            text = (row["content"] or "").encode()
            mime = "text/plain"
            url = "data:text/plain;charset=utf-8;base64," + base64.b64encode(text).decode()
            props = {"content": row["content"]}
        return {
            "id": row["id"],
            "threadId": row["thread_id"],
            "forId": row["for_id"],
            "type": row["type"],
            "name": row["name"],
            "display": row["display"],
            "props": props,
            "url": url,
            "language": row["language"],
            "mime": mime,
            "size": "large",
        }

    async def get_element(self, thread_id: str, element_id: str) -> ElementDict | None:
        row = await self._run(
            lambda db: db.execute(
                "SELECT * FROM elements WHERE id=? AND thread_id=?", (element_id, thread_id)
            ).fetchone()
        )
        return self._element_dict(row) if row else None

    async def delete_element(self, element_id: str, thread_id: str | None = None) -> None:
        await self._run(lambda db: db.execute("DELETE FROM elements WHERE id=?", (element_id,)))

    # -- threads ---------------------------------------------------------------------------------

    async def get_thread_author(self, thread_id: str) -> str:
        row = await self._run(
            lambda db: db.execute(
                "SELECT user_identifier FROM threads WHERE id=?", (thread_id,)
            ).fetchone()
        )
        return (row["user_identifier"] or "") if row else ""

    async def delete_thread(self, thread_id: str) -> None:
        def delete(db: Db) -> None:
            for table in ("feedback", "elements", "steps"):
                db.execute(f"DELETE FROM {table} WHERE thread_id=?", (thread_id,))
            db.execute("DELETE FROM threads WHERE id=?", (thread_id,))

        await self._run(delete)

    async def update_thread(
        self,
        thread_id: str,
        name: str | None = None,
        user_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        tags: list[str] | None = None,
    ) -> None:
        clean_name = self.redact(name)[:200] if name else None

        def upsert(db: Db) -> None:
            db.execute(
                "INSERT INTO threads(id, created_at) VALUES (?,?) ON CONFLICT(id) DO NOTHING",
                (thread_id, now()),
            )
            if clean_name is not None:
                db.execute("UPDATE threads SET name=? WHERE id=?", (clean_name, thread_id))
            if user_id is not None:
                user = db.execute("SELECT identifier FROM users WHERE id=?", (user_id,)).fetchone()
                db.execute(
                    "UPDATE threads SET user_id=?, user_identifier=? WHERE id=?",
                    (user_id, user["identifier"] if user else None, thread_id),
                )
            if metadata is not None:
                row = db.execute("SELECT metadata FROM threads WHERE id=?", (thread_id,)).fetchone()
                merged = {**json.loads(row["metadata"] or "{}"), **metadata}
                db.execute(
                    "UPDATE threads SET metadata=? WHERE id=?", (json.dumps(merged), thread_id)
                )
            if tags is not None:
                db.execute("UPDATE threads SET tags=? WHERE id=?", (json.dumps(tags), thread_id))

        await self._run(upsert)

    async def list_threads(
        self, pagination: Pagination, filters: ThreadFilter
    ) -> PaginatedResponse[ThreadDict]:
        def query(db: Db) -> list[Any]:
            sql = "SELECT * FROM threads WHERE user_id=? AND name IS NOT NULL"
            args: list[Any] = [filters.userId]
            if filters.search:
                sql += " AND LOWER(name) LIKE LOWER(?)"
                args.append(f"%{filters.search}%")
            if filters.feedback is not None:
                sql += " AND id IN (SELECT thread_id FROM feedback WHERE value=?)"
                args.append(filters.feedback)
            if pagination.cursor:
                sql += " AND created_at < (SELECT created_at FROM threads WHERE id=?)"
                args.append(pagination.cursor)
            sql += " ORDER BY created_at DESC LIMIT ?"
            args.append(pagination.first + 1)
            return list(db.execute(sql, args).fetchall())

        rows = await self._run(query)
        more = len(rows) > pagination.first
        rows = rows[: pagination.first]
        data: list[ThreadDict] = [self._thread_dict(r, [], []) for r in rows]
        return PaginatedResponse(
            pageInfo=PageInfo(
                hasNextPage=more,
                startCursor=rows[0]["id"] if rows else None,
                endCursor=rows[-1]["id"] if rows else None,
            ),
            data=data,
        )

    @staticmethod
    def _thread_dict(row: Any, steps: list[StepDict], elements: list[ElementDict]) -> ThreadDict:
        return {
            "id": row["id"],
            "createdAt": row["created_at"],
            "name": row["name"],
            "userId": row["user_id"],
            "userIdentifier": row["user_identifier"],
            "tags": json.loads(row["tags"]) if row["tags"] else None,
            "metadata": json.loads(row["metadata"]) if row["metadata"] else {},
            "steps": steps,
            "elements": elements,
        }

    async def get_thread(self, thread_id: str) -> ThreadDict | None:
        def query(
            db: Db,
        ) -> tuple[Any | None, list[Any], list[Any], dict[str, Any]]:
            thread = db.execute("SELECT * FROM threads WHERE id=?", (thread_id,)).fetchone()
            steps = db.execute(
                "SELECT * FROM steps WHERE thread_id=? ORDER BY created_at", (thread_id,)
            ).fetchall()
            elements = db.execute(
                "SELECT * FROM elements WHERE thread_id=?", (thread_id,)
            ).fetchall()
            feedback = {
                r["for_id"]: dict(r)
                for r in db.execute("SELECT * FROM feedback WHERE thread_id=?", (thread_id,))
            }
            return thread, list(steps), list(elements), feedback

        thread, steps, elements, feedback = await self._run(query)
        if thread is None:
            return None
        step_dicts: list[StepDict] = []
        for s in steps:
            step: StepDict = {
                "id": s["id"],
                "threadId": s["thread_id"],
                "parentId": s["parent_id"],
                "type": s["type"],
                "name": s["name"],
                "input": s["input"] or "",
                "output": s["output"] or "",
                "createdAt": s["created_at"],
                "start": s["start_at"],
                "end": s["end_at"],
                "isError": bool(s["is_error"]),
                "showInput": json.loads(s["show_input"]) if s["show_input"] else None,
                "language": s["language"],
                "metadata": json.loads(s["metadata"] or "{}"),
            }
            if s["id"] in feedback:
                f = feedback[s["id"]]
                step["feedback"] = {
                    "id": f["id"],
                    "forId": f["for_id"],
                    "value": f["value"],
                    "comment": f["comment"],
                }
            step_dicts.append(step)
        return self._thread_dict(thread, step_dicts, [self._element_dict(e) for e in elements])

    # -- the rest --------------------------------------------------------------------------------

    async def build_debug_url(self) -> str:
        return ""

    async def close(self) -> None:
        self._worker.shutdown(wait=True)

    async def get_favorite_steps(self, user_id: str) -> list[StepDict]:
        return []

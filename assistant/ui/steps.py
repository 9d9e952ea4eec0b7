"""The answer chain's steps (condense, retrieve, decide, answer, verify) shown in the chat, by
Chainlit's own LangChain callback handler.

The chain runs in a worker thread and LangChain calls a callback there, while Chainlit's handler
is asynchronous and sends on the server's event loop. ``ThreadSteps`` is the sync callback the
chain is given: it hands each event to the handler on that loop and waits for it.

The outermost run is not passed on: its input is the question as typed (before the PHI guard)
and its output the whole reply. Its steps are, as children of the step that is open when the
handler is made ("How this answer was found"); their inputs hold only the redacted question.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from functools import cache
from pathlib import Path
from typing import Any
from uuid import UUID

import yaml
from langchain_core.callbacks import AsyncCallbackHandler, BaseCallbackHandler

SEND_TIMEOUT_S = 10.0
LABELS_FILE = Path(__file__).with_name("steps.yaml")


@cache
def step_labels() -> dict[str, str]:
    """The chat's name for each step of the chain (``steps.yaml``)."""
    labels = yaml.safe_load(LABELS_FILE.read_text(encoding="utf-8")) or {}
    return {str(k): str(v) for k, v in labels.items()}


class ThreadSteps(BaseCallbackHandler):
    """Chain events from a worker thread, forwarded to ``handler`` on ``loop`` with the chat's
    names for the steps; the top run (the question as typed, the whole reply) kept back."""

    def __init__(self, handler: AsyncCallbackHandler, loop: asyncio.AbstractEventLoop) -> None:
        self.handler = handler
        self.loop = loop
        self.top: set[UUID] = set()

    def _send(self, event: Coroutine[Any, Any, Any]) -> None:
        asyncio.run_coroutine_threadsafe(event, self.loop).result(timeout=SEND_TIMEOUT_S)

    def _parent(self, parent_run_id: UUID | None) -> UUID | None:
        # the steps of the top run hang under the handler's own parent step
        return None if parent_run_id in self.top else parent_run_id

    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: dict[str, Any],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        if parent_run_id is None:
            self.top.add(run_id)
            return
        name = kwargs.pop("name", None)
        self._send(
            self.handler.on_chain_start(
                serialized or {},
                inputs,
                run_id=run_id,
                parent_run_id=self._parent(parent_run_id),
                name=step_labels().get(name, name) if name else name,
                **kwargs,
            )
        )

    def on_chain_end(
        self,
        outputs: dict[str, Any],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        if run_id in self.top:
            return
        self._send(
            self.handler.on_chain_end(
                outputs, run_id=run_id, parent_run_id=self._parent(parent_run_id), **kwargs
            )
        )

    def on_chain_error(
        self,
        error: BaseException,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        if run_id in self.top:
            return
        # what failed is in the server log; its message is not shown, nor kept with the chat
        shown = RuntimeError("this step failed; the details are in the server log")
        self._send(
            self.handler.on_chain_error(
                shown, run_id=run_id, parent_run_id=self._parent(parent_run_id), **kwargs
            )
        )

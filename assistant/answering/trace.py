"""The named steps of answering a question (condense, retrieve, decide, compare, answer,
verify), for a tracer to record: the LangChain door turns them into child runs its callbacks see
(``assistant.integrations.langchain``). Without a tracer nothing is recorded. Only what the chain
itself sees goes into a step: the question after the PHI guard, never before."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol


class Tracer(Protocol):
    def step(self, name: str, inputs: dict[str, Any]) -> AbstractContextManager[dict[str, Any]]:
        """Around one step: yields the dict the step fills with its outputs."""
        ...


class NoTrace:
    @contextmanager
    def step(self, name: str, inputs: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield {}


NO_TRACE = NoTrace()

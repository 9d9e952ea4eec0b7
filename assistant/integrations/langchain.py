"""The assistant as LangChain parts, for use in a user's own LangChain code: a retriever that
returns ``Document``s with their locators, and the answer chain as a ``Runnable``. Both go
through the service, so the PHI guard, the caller's access groups and the audit trail apply
exactly as in the chat and the API (audited with the surface ``library``).

    service = AssistantService.build(Settings())
    docs = HipaaRetriever(service=service, user="pat", groups=["staff"]).invoke("...")
    reply = answer_runnable(service, user="pat", groups=["staff"]).invoke("...")
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import ConfigDict

from assistant.retrieval.passages import ScoredPassage
from assistant.service import AssistantService, Caller


def as_document(passage: ScoredPassage) -> Document:
    """A retrieved passage as a LangChain ``Document``: its text, and where it is from."""
    chunk, doc = passage.chunk, passage.document
    return Document(
        page_content=chunk.text,
        metadata={
            "chunk_id": chunk.chunk_id,
            "locator": chunk.locator,
            "page": chunk.page,
            "doc_id": doc.doc_id,
            "title": doc.title,
            "doc_type": doc.doc_type,
            "vendor": doc.vendor,
            "score": passage.score,
            "dense": passage.dense,
            "lexical": passage.lexical,
        },
    )


class HipaaRetriever(BaseRetriever):
    """The project's hybrid retrieval as a LangChain retriever, for one caller's groups."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    service: AssistantService
    user: str
    groups: Sequence[str] = ("staff",)
    k: int = 5
    doc_types: Sequence[str] | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        caller = Caller(self.user, frozenset(self.groups), "library")
        passages = self.service.search(query, caller, doc_types=self.doc_types, k=self.k)
        return [as_document(p) for p in passages]


def answer_runnable(
    service: AssistantService, *, user: str, groups: Sequence[str] = ("staff",)
) -> Runnable[Any, dict[str, Any]]:
    """The answer chain as a ``Runnable``: a question (a string, or ``{"question": ...,
    "history": [...]}``) in, the answer JSON of ``ask --json`` out (docs/answer-json.md).
    ``invoke``, ``batch``, ``stream`` and their async forms come with it."""
    caller = Caller(user, frozenset(groups), "library")

    def answer(question: str | dict[str, Any]) -> dict[str, Any]:
        if isinstance(question, dict):  # ask passes earlier questions through the guard
            history = [str(h) for h in question.get("history", ())]
            reply = service.ask(str(question["question"]), caller, history=history)
        else:
            reply = service.ask(question, caller)
        return reply.to_json()

    return RunnableLambda(answer, name="hipaa-assistant")

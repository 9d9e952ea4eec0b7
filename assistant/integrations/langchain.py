"""The assistant as LangChain parts, for use in a user's own LangChain code: a retriever that
returns ``Document``s with their locators, and the answer chain as a ``Runnable``. Both go
through the service, so the PHI guard, the caller's access groups and the audit trail apply
exactly as in the chat and the API (audited with the surface ``library``).

    service = AssistantService.build(Settings())
    docs = HipaaRetriever(service=service, user="pat", groups=["staff"]).invoke("...")
    reply = answer_runnable(service, user="pat", groups=["staff"]).invoke("...")
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda
from langchain_core.runnables.config import get_callback_manager_for_config
from pydantic import ConfigDict

from assistant.retrieval.passages import ScoredPassage
from assistant.service import AssistantService, Caller, Reply

RUN_NAME = "hipaa-assistant"


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


class CallbackTracer:
    """Each step of the chain (condense, retrieve, decide, answer, verify) as a child run of the
    Runnable's own run, so its callbacks (a tracer, Chainlit's handler) see them."""

    def __init__(self, config: RunnableConfig) -> None:
        self.manager = get_callback_manager_for_config(config)

    @contextmanager
    def step(self, name: str, inputs: dict[str, Any]) -> Iterator[dict[str, Any]]:
        run = self.manager.on_chain_start(None, inputs, name=name)
        outputs: dict[str, Any] = {}
        try:
            yield outputs
        except BaseException as exc:
            run.on_chain_error(exc)
            raise
        run.on_chain_end(outputs)


def _reply(
    service: AssistantService,
    caller: Caller,
    question: str | dict[str, Any],
    config: RunnableConfig,
    doc_types: Sequence[str] | None = None,
    on_token: Callable[[str], None] | None = None,
) -> Reply:
    history: list[str] = []
    if isinstance(question, dict):  # ask passes earlier questions through the guard
        history = [str(h) for h in question.get("history", ())]
        question = str(question["question"])
    return service.ask(
        question,
        caller,
        history=history,
        doc_types=doc_types,
        on_token=on_token,
        tracer=CallbackTracer(config),
    )


def reply_runnable(
    service: AssistantService,
    caller: Caller,
    *,
    doc_types: Sequence[str] | None = None,
    on_token: Callable[[str], None] | None = None,
) -> Runnable[Any, Reply]:
    """The answer chain as a ``Runnable`` for one caller, giving the service's ``Reply`` (the
    answer with its typed citations, and what the PHI guard did): what the chat runs, with its
    own callback showing the steps. The input is as for ``answer_runnable``."""

    def reply(question: str | dict[str, Any], config: RunnableConfig) -> Reply:
        return _reply(service, caller, question, config, doc_types, on_token)

    return RunnableLambda(reply, name=RUN_NAME)


def answer_runnable(
    service: AssistantService, *, user: str, groups: Sequence[str] = ("staff",)
) -> Runnable[Any, dict[str, Any]]:
    """The answer chain as a ``Runnable``: a question (a string, or ``{"question": ...,
    "history": [...]}``) in, the answer JSON of ``ask --json`` out (docs/answer-json.md).
    ``invoke``, ``batch``, ``stream`` and their async forms come with it; the chain's steps are
    child runs its callbacks see (their inputs hold the question as the PHI guard left it)."""
    caller = Caller(user, frozenset(groups), "library")

    def answer(question: str | dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
        return _reply(service, caller, question, config).to_json()

    return RunnableLambda(answer, name=RUN_NAME)

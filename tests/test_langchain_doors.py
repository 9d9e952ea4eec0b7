"""The LangChain doors: the retriever and the answer Runnable go through the service (access
groups, PHI guard, audit), the chat runs the same Runnable with its steps shown, and the example
in docs/development.md runs as written."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import re
import threading
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from langchain_core.callbacks import AsyncCallbackHandler, BaseCallbackHandler
from langchain_core.documents import Document
from langchain_core.runnables import RunnableConfig

from assistant.integrations.langchain import HipaaRetriever, answer_runnable, reply_runnable
from assistant.runtime.stores import open_index, open_store
from assistant.service import AssistantService, BlockedError, Caller, Reply
from assistant.ui.steps import ThreadSteps, step_labels
from core.settings import Settings
from ingest.pipeline import run_ingest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def service(settings: Settings) -> AssistantService:
    settings.audit.path = settings.paths.data_dir / "audit.sqlite"
    from core.embeddings import build_embedder

    emb = build_embedder(settings.embedding)
    assert run_ingest(settings, emb, lambda: open_store(settings, emb), progress=False).ok
    return AssistantService.build(settings, open_index(settings, emb))


def test_the_retriever_returns_documents_within_the_callers_groups(
    service: AssistantService, settings: Settings
) -> None:
    question = "Which vendor must notify us of a breach, and how fast?"
    staff = HipaaRetriever(service=service, user="sam", groups=["staff"], k=5).invoke(question)
    officer = HipaaRetriever(
        service=service, user="pat", groups=["staff", "privacy-office"], k=5
    ).invoke(question)
    assert staff and all(isinstance(d, Document) for d in staff)
    assert {"locator", "page", "doc_id", "doc_type", "score"} <= set(staff[0].metadata)
    assert all(d.metadata["doc_type"] != "baa" for d in staff)  # the contract is restricted
    assert any(d.metadata["doc_type"] == "baa" for d in officer)
    assert service.audit is not None
    rows = list(service.audit.records())
    assert [(r.event.surface, r.event.mode) for r in rows[-2:]] == [("library", "search")] * 2
    assert rows[-1].event.cited_chunk_ids == tuple(d.metadata["chunk_id"] for d in officer)


def test_the_answer_runnable_answers_batches_and_guards(
    service: AssistantService, settings: Settings
) -> None:
    chain = answer_runnable(service, user="sam")
    reply = chain.invoke("Are shared accounts allowed for remote access?")
    assert not reply["abstained"] and reply["citations"]
    assert all(c["doc_type"] != "baa" for c in reply["citations"])
    both = chain.batch(["What about printing?", {"question": "And shared accounts?"}])
    assert len(both) == 2 and all("answer" in r for r in both)
    settings.phi.mode = "block"
    with pytest.raises(BlockedError):
        chain.invoke("Patient John Smith, MRN 12345678, asks about remote access")


def test_the_example_in_the_docs_runs_as_written(
    service: AssistantService, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = (ROOT / "docs" / "development.md").read_text(encoding="utf-8")
    code = re.search(r"## Using it from LangChain.*?```python\n(.*?)```", page, re.S)
    assert code is not None
    # the example builds the service from Settings(): the one built on the test index
    monkeypatch.setattr(AssistantService, "build", classmethod(lambda cls, s: service))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code.group(1), "docs/development.md", "exec"), {})
    printed = out.getvalue()
    assert re.search(r"^\[TST-\d+ [^\]]+\] ", printed, re.M), printed
    assert printed.strip().splitlines()[-1]  # the answer text


class _Runs(BaseCallbackHandler):
    """What a LangChain tracer sees: each run's name, parent, inputs and outputs."""

    def __init__(self) -> None:
        self.started: dict[UUID, tuple[str, UUID | None, Any]] = {}
        self.ended: dict[UUID, Any] = {}

    def on_chain_start(
        self,
        serialized: Any,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self.started[run_id] = (kwargs.get("name") or "", parent_run_id, inputs)

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self.ended[run_id] = outputs


def test_the_chains_steps_are_child_runs_that_see_only_the_redacted_question(
    service: AssistantService,
) -> None:
    runs = _Runs()
    question = "Jane Roe (MRN 448812) asks: are shared accounts allowed for remote access?"
    reply = answer_runnable(service, user="sam").invoke(question, {"callbacks": [runs]})
    assert not reply["abstained"]
    (top,) = [rid for rid, (_, parent, _) in runs.started.items() if parent is None]
    steps = [name for name, parent, _ in runs.started.values() if parent == top]
    assert steps == ["condense", "retrieve", "decide", "answer", "verify"]
    assert set(runs.ended) == set(runs.started)  # every step ended
    children = [rid for rid, (_, parent, _) in runs.started.items() if parent == top]
    seen = json.dumps(
        [[runs.started[r][2], runs.ended[r]] for r in children], default=str, ensure_ascii=False
    )
    assert "[NAME]" in seen and "Jane Roe" not in seen and "448812" not in seen
    retrieved = next(runs.ended[r] for r in children if runs.started[r][0] == "retrieve")
    assert retrieved["passages"] and all(p["locator"] for p in retrieved["passages"])


class _ChatRuns(AsyncCallbackHandler):
    """Stands in for Chainlit's handler: asynchronous, and must be called on its own loop."""

    def __init__(self) -> None:
        self.started: dict[UUID, tuple[str, UUID | None, Any]] = {}
        self.ended: dict[UUID, Any] = {}
        self.threads: set[int] = set()

    async def on_chain_start(self, serialized: Any, inputs: Any, **run: Any) -> None:
        asyncio.get_running_loop()  # raises when called off a loop
        self.threads.add(threading.get_ident())
        self.started[run["run_id"]] = (run.get("name") or "", run.get("parent_run_id"), inputs)

    async def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self.threads.add(threading.get_ident())
        self.ended[run_id] = outputs


def test_the_chat_runs_the_runnable_and_shows_its_steps_on_its_own_loop(
    service: AssistantService,
) -> None:
    question = "Jane Roe (MRN 448812) asks: are shared accounts allowed for remote access?"
    handler = _ChatRuns()

    async def chat() -> Reply:
        # as the chat does: the chain in a worker thread, Chainlit's handler on the server loop
        chain = reply_runnable(service, Caller("sam", frozenset({"staff"}), "ui"))
        config = RunnableConfig(callbacks=[ThreadSteps(handler, asyncio.get_running_loop())])
        return await asyncio.to_thread(chain.invoke, {"question": question}, config)

    reply = asyncio.run(chat())
    assert not reply.answer.abstained and reply.answer.citations
    names = [name for name, _, _ in handler.started.values()]
    steps = ["condense", "retrieve", "decide", "answer", "verify"]
    assert names == [step_labels()[s] for s in steps]  # by the chat's names for them
    # the top run (the question as typed, the whole reply) is held back: the steps hang under
    # the step the handler was made in
    assert all(parent is None for _, parent, _ in handler.started.values())
    assert set(handler.ended) == set(handler.started)
    assert handler.threads == {threading.get_ident()}  # the loop's thread, not the worker
    seen = json.dumps([list(handler.started.values()), list(handler.ended.values())], default=str)
    assert "[NAME]" in seen and "Jane Roe" not in seen and "448812" not in seen


def test_every_step_of_the_chain_has_a_name_in_the_chat() -> None:
    chain = (ROOT / "assistant" / "answering" / "chain.py").read_text(encoding="utf-8")
    steps = set(re.findall(r"tracer\.step\(\s*\"([a-z_]+)\"", chain))
    assert {"condense", "retrieve", "decide", "compare", "answer", "verify"} <= steps
    assert steps == set(step_labels()), "assistant/ui/steps.yaml names every step, and only those"

"""Patient identifiers typed into a question never go further than the PHI guard: not into the
logs (every logger, at DEBUG), the audit database, the chat's conversation and feedback database
(SQLite files read as bytes, with their -wal and -shm), the request bodies sent to an LLM (the
loopback stub records each one), the API's reply or ``ask --json`` output.

22 questions of evals/phi/identifiers.yaml (41 distinct planted identifiers of 15 kinds) go
through the service in extractive and in LLM mode (with the previous question, unredacted, as
history), the data layer (message, 'run' step, thread name, a feedback comment repeating an
identifier), the JSON API (with raw history) and the command line (``ask --json``, LLM mode,
``--batch``).
Summary: zero planted identifiers found in any of them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant import cli
from assistant.accounts import UserStore
from assistant.audit import AuditTrail
from assistant.runtime.build import build_chain
from assistant.safety import PhiGuard
from assistant.service import AssistantService, Caller
from assistant.ui.api import build_router
from core.index.reader import Index
from core.settings import Settings
from tests.conftest import ROOT, index_org_corpus
from tests.openai_stub import openai_stub

ITEMS = (
    "id-001", "id-002", "id-004", "id-005", "id-006", "id-007", "id-008", "id-009",
    "id-010", "id-011", "id-013", "id-014", "id-016", "id-017", "id-019", "id-020",
    "id-023", "id-025", "id-026", "id-028", "id-040", "id-058",
)  # fmt: skip
STAFF = Caller("sam", frozenset({"staff"}), "ui")
STUB_REPLY = "Only approved tools may receive PHI [1]."


@dataclass(frozen=True)
class Item:
    id: str
    text: str
    planted: tuple[str, ...]


def _items() -> list[Item]:
    raw = yaml.safe_load((ROOT / "evals" / "phi" / "identifiers.yaml").read_text(encoding="utf-8"))
    by_id = {r["id"]: r for r in raw}
    return [
        Item(i, by_id[i]["text"], tuple(x["text"] for x in by_id[i]["identifiers"])) for i in ITEMS
    ]


QUESTIONS = _items()
PLANTED = sorted({p for q in QUESTIONS for p in q.planted})


def _pattern(planted: str) -> re.Pattern[str]:
    """Case-insensitive; an identifier made only of hex digits must stand alone, so a random
    hash or uuid that happens to contain '448812' is not taken for it."""
    text = re.escape(planted)
    if re.fullmatch(r"[0-9A-Fa-f]+", planted):
        text = rf"(?<![0-9A-Za-z]){text}(?![0-9A-Za-z])"
    return re.compile(text, re.IGNORECASE)


PATTERNS = {p: _pattern(p) for p in PLANTED}


def found_in(blob: str | bytes) -> list[str]:
    text = blob.decode("utf-8", errors="replace") if isinstance(blob, bytes) else blob
    return [p for p, rx in PATTERNS.items() if rx.search(text)]


def sqlite_bytes(path: Path) -> bytes:
    """The database file and its -wal and -shm companions, as bytes."""
    return b"".join(
        f.read_bytes() for f in sorted(path.parent.glob(path.name + "*")) if f.is_file()
    )


# -- every log record, at DEBUG, of every logger -----------------------------------------------


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))  # with the traceback, when there is one


def _open_all_loggers() -> None:
    logging.root.setLevel(logging.DEBUG)
    for logger in list(logging.root.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger):
            logger.setLevel(logging.DEBUG)
            logger.disabled = False


@contextmanager
def every_log() -> Iterator[_Collect]:
    handler = _Collect()
    saved = {
        name: (lg.level, lg.disabled, lg.propagate)
        for name, lg in logging.root.manager.loggerDict.items()
        if isinstance(lg, logging.Logger)
    }
    root_level = logging.root.level
    logging.root.addHandler(handler)
    _open_all_loggers()
    try:
        yield handler
    finally:
        logging.root.removeHandler(handler)
        logging.root.setLevel(root_level)
        for name, (level, disabled, propagate) in saved.items():
            lg = logging.getLogger(name)
            lg.setLevel(level)
            lg.disabled = disabled
            lg.propagate = propagate


# -- fixtures ----------------------------------------------------------------------------------


@dataclass
class World:
    settings: Settings
    index: Index
    data_dir: Path
    audit: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    data = tmp_path_factory.mktemp("phi") / "data"
    settings, index = index_org_corpus(data)
    settings.audit.path = data / "audit.sqlite"
    settings.phi.mode = "redact"
    return World(settings, index, data, settings.audit.path)


def test_the_questions_plant_identifiers_the_guard_redacts(world: World) -> None:
    """Preconditions: the identifiers are in the questions, in no indexed document (so finding
    one downstream can only be a leak), and the guard removes each of them."""
    guard = PhiGuard(world.settings.phi)
    corpus = " ".join(c.text for c in world.index.chunks)
    assert len(QUESTIONS) == 22 and len(PLANTED) == 41
    kinds = set()
    for q in QUESTIONS:
        assert found_in(q.text), q.id
        result = guard.check(q.text)
        assert not found_in(result.text), (q.id, result.text)
        kinds |= set(result.kinds)
    assert not found_in(corpus)
    assert len(kinds) >= 12, kinds


# -- the service, in extractive and in LLM mode, with the audit trail --------------------------


def test_service_logs_audit_and_llm_requests_hold_no_identifier(world: World) -> None:
    extractive = AssistantService.build(world.settings, world.index)
    with every_log() as logs, openai_stub(STUB_REPLY) as (base_url, stub):
        local = world.settings.model_copy(deep=True)
        local.answer.mode = "llm"
        local.llm.provider = "openai-compatible"
        local.llm.base_url = base_url
        local.llm.model = "stub-model"
        llm = AssistantService(
            local, build_chain(local, world.index), PhiGuard(local.phi), extractive.audit
        )
        outputs: list[str] = []
        previous = ""
        for q in QUESTIONS:
            for service in (extractive, llm):
                # the previous question, unredacted, as history: the service redacts it too
                reply = service.ask(q.text, STAFF, history=[previous] if previous else [])
                outputs.append(json.dumps(reply.to_json(), ensure_ascii=False))
                assert reply.guard.findings, q.id
            previous = q.text
        assert len(stub.requests) >= 2 * len(QUESTIONS) - 1  # answers and condensed follow-ups
        sent = json.dumps(stub.requests, ensure_ascii=False)
        assert "[NAME]" in sent  # the redacted questions did reach the model
    assert not found_in(sent), "in a request body sent to the LLM"
    assert not found_in("\n".join(outputs)), "in a reply"
    assert any("PHI guard" in line for line in logs.lines)  # the logs were captured
    assert not found_in("\n".join(logs.lines)), "in the logs"
    trail = AuditTrail.from_settings(world.settings)
    rows = list(trail.records())
    assert len(rows) >= 2 * len(QUESTIONS)
    assert any("[" in r.event.redacted_question for r in rows)
    assert not found_in(sqlite_bytes(world.audit)), "in the audit database"


# -- the chat's own database: conversations and feedback ---------------------------------------


def test_conversations_and_feedback_hold_no_identifier(world: World, tmp_path: Path) -> None:
    from chainlit.types import Feedback

    from assistant.ui.conversations import ConversationStore
    from assistant.ui.data_layer import ChatDataLayer

    guard = PhiGuard(world.settings.phi)
    service = AssistantService(
        world.settings, build_chain(world.settings, world.index), guard, None
    )
    path = tmp_path / "ui.sqlite"
    layer = ChatDataLayer(path, lambda text: guard.check(text).text)

    async def conversation(q: Item) -> None:
        thread = str(uuid.uuid4())
        await layer.update_thread(thread, name=q.text)
        message, run = str(uuid.uuid4()), str(uuid.uuid4())
        await layer.create_step(
            {
                "id": message,
                "threadId": thread,
                "type": "user_message",
                "name": "sam",
                "output": q.text,
            }
        )
        await layer.create_step(
            {
                "id": run,
                "threadId": thread,
                "parentId": message,
                "type": "run",
                "name": "on_message",
                "input": q.text,
            }
        )
        answer = service.ask(q.text, STAFF).answer
        await layer.create_step(
            {
                "id": str(uuid.uuid4()),
                "threadId": thread,
                "parentId": run,
                "type": "assistant_message",
                "name": "Assistant",
                "output": answer.text,
            }
        )
        # the comment repeats the identifiers, in the words that let the guard see them (a bare
        # surname with no cue, "Okafor", is a documented miss of the guard, not of this path)
        comment = f"Wrong answer. Once more, my question: {q.text}"
        await layer.upsert_feedback(Feedback(forId=run, threadId=thread, value=0, comment=comment))

    async def run_all() -> None:
        try:
            for q in QUESTIONS:
                await conversation(q)
        finally:
            await layer.close()

    with every_log() as logs:
        asyncio.run(run_all())
    rows = ConversationStore(path).feedback_rows()
    assert len(rows) == len(QUESTIONS)
    assert all(re.search(r"\[[A-Z_]+\]", r["comment"]) for r in rows), rows
    assert not found_in(json.dumps(rows, ensure_ascii=False)), "in the feedback export"
    assert not found_in(sqlite_bytes(path)), "in the conversation database"
    assert not found_in("\n".join(logs.lines)), "in the logs"
    # the control: without the guard, the same bytes check finds them
    unguarded = ChatDataLayer(tmp_path / "control.sqlite", lambda text: text)

    async def control() -> None:
        try:
            await unguarded.update_thread(str(uuid.uuid4()), name=QUESTIONS[0].text)
        finally:
            await unguarded.close()

    asyncio.run(control())
    assert set(found_in(sqlite_bytes(tmp_path / "control.sqlite"))) == set(QUESTIONS[0].planted)


# -- the JSON API ------------------------------------------------------------------------------


def test_the_api_reply_logs_and_audit_hold_no_identifier(world: World, tmp_path: Path) -> None:
    settings = world.settings.model_copy(deep=True)
    settings.audit.path = tmp_path / "audit.sqlite"
    service = AssistantService.build(settings, world.index)
    store = UserStore(tmp_path / "users.json", bcrypt_rounds=4)
    store.add("sam", "staff-password", ("staff",), replace=False)
    token = store.issue_token("sam")
    app = FastAPI()
    app.include_router(build_router(lambda: service, lambda: store))
    client = TestClient(app)
    replies = []
    with every_log() as logs:
        previous: list[str] = []
        for q in QUESTIONS:
            res = client.post(
                "/api/ask",
                json={"question": q.text, "history": previous},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert res.status_code == 200, res.text
            replies.append(res.text)
            previous = [q.text]
    assert not found_in("\n".join(replies)), "in an API reply"
    assert not found_in("\n".join(logs.lines)), "in the logs"
    assert not found_in(sqlite_bytes(settings.audit.path)), "in the audit database"


# -- MCP ---------------------------------------------------------------------------------------


def test_mcp_replies_logs_and_audit_hold_no_identifier(world: World, tmp_path: Path) -> None:
    import anyio
    from mcp.shared.memory import create_connected_server_and_client_session
    from mcp.types import TextContent

    from assistant.integrations.mcp_server import build_server, fixed_caller

    settings = world.settings.model_copy(deep=True)
    settings.audit.path = tmp_path / "audit.sqlite"
    service = AssistantService.build(settings, world.index)
    server = build_server(lambda: service, fixed_caller("sam", ["staff"]))

    async def ask_all() -> list[str]:
        replies = []
        async with create_connected_server_and_client_session(server) as client:
            previous: list[str] = []
            for q in QUESTIONS:
                for tool, args in (
                    ("ask", {"question": q.text, "history": previous}),
                    ("search", {"question": q.text}),
                ):
                    result = await client.call_tool(tool, args)
                    assert not result.isError, result.content
                    texts = [c.text for c in result.content if isinstance(c, TextContent)]
                    replies.append(json.dumps(result.structuredContent) + "\n".join(texts))
                previous = [q.text]
        return replies

    with every_log() as logs:
        replies = anyio.run(ask_all)
    assert not found_in("\n".join(replies)), "in an MCP reply"
    assert not found_in("\n".join(logs.lines)), "in the logs"
    assert not found_in(sqlite_bytes(settings.audit.path)), "in the audit database"


# -- the command line --------------------------------------------------------------------------


def test_ask_json_output_logs_and_audit_hold_no_identifier(
    world: World,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    audit = tmp_path / "audit.sqlite"
    env = {
        "EMBEDDING__PROVIDER": "fake-hash",
        "EMBEDDING__MODEL": "v1",
        "CHUNKING__MIN_WORDS": "25",
        "PATHS__CORPUS_DIRS": json.dumps([str(ROOT / "corpus")]),
        "ANSWER__ABSTAIN_MIN_DENSE": "0.12",
        "AUDIT__PATH": str(audit),
        "LLM__PROVIDER": "openai-compatible",
        "LLM__MODEL": "stub-model",
    }
    for key, value in env.items():
        monkeypatch.setenv(f"HIPAA_ASSISTANT_{key}", value)
    batch = tmp_path / "questions.txt"
    batch.write_text("\n".join(q.text for q in QUESTIONS) + "\n", encoding="utf-8")
    base = ["--data-dir", str(world.data_dir), "ask", "--json"]
    outputs = []
    with every_log() as logs, openai_stub(STUB_REPLY) as (base_url, stub):
        monkeypatch.setenv("HIPAA_ASSISTANT_LLM__BASE_URL", base_url)
        assert cli.main([*base, "--batch", str(batch)]) == 0
        _open_all_loggers()  # the command configured logging: open every logger again
        outputs.append(capsys.readouterr())
        for i, q in enumerate(QUESTIONS[:8]):
            history = ["--history", QUESTIONS[i - 1].text] if i else []
            mode = ["--mode", "llm"] if i % 2 else []
            assert cli.main([*base, q.text, *history, *mode]) == 0
            _open_all_loggers()
            outputs.append(capsys.readouterr())
        sent = json.dumps(stub.requests, ensure_ascii=False)
    assert len(stub.requests) >= 4
    printed = "\n".join(o.out + o.err for o in outputs)
    lines = [json.loads(line) for line in outputs[0].out.splitlines()]
    assert len(lines) == len(QUESTIONS) and all(x["redaction"]["kinds"] for x in lines)
    assert not found_in(printed), "in the output of ask --json"
    assert not found_in(sent), "in a request body sent to the LLM"
    assert not found_in("\n".join(logs.lines)), "in the logs"
    assert not found_in(sqlite_bytes(audit)), "in the audit database"
    assert len(list(AuditTrail(audit).records())) == len(QUESTIONS) + 8

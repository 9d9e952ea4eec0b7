"""The MCP server, driven by the official MCP client: its tools go through the service (access
groups, the PHI guard, the audit trail with surface 'mcp') on stdio (`hipaa-assistant mcp`, a
real subprocess) and on the chat server's token-gated streamable HTTP endpoint."""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import uvicorn
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamablehttp_client
from mcp.shared.memory import create_connected_server_and_client_session
from mcp.types import CallToolResult, TextContent
from starlette.applications import Starlette

from assistant.accounts import UserStore
from assistant.audit import AuditTrail
from assistant.integrations.mcp_server import HttpEndpoint, build_server, fixed_caller
from assistant.runtime.build import build_chain
from assistant.runtime.stores import open_store
from assistant.safety import PhiGuard
from assistant.service import AssistantService
from core.index.reader import Index
from core.settings import Settings
from ingest.pipeline import run_ingest
from tests import fakes
from tests.conftest import index_org_corpus, make_settings

ROOT = Path(__file__).resolve().parent.parent
TOOLS = {"search", "ask", "read_passage", "check_baa"}
BAA_QUESTION = "How quickly must Acme Scribe notify us of a breach under its BAA?"
PHI_QUESTION = "Patient Jane Roe, MRN 448812, DOB 3/4/1961: may I paste her notes into a chatbot?"


@dataclass
class Org:
    settings: Settings
    index: Index
    service: AssistantService
    store: UserStore
    tokens: dict[str, str]

    def audit(self) -> list[Any]:
        return [r.event for r in AuditTrail.from_settings(self.settings).records()]


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Org:
    settings, index = index_org_corpus(tmp_path_factory.mktemp("mcp") / "data")
    settings.audit.path = tmp_path_factory.mktemp("audit") / "audit.sqlite"
    store = UserStore(tmp_path_factory.mktemp("users") / "users.json", bcrypt_rounds=4)
    store.add("sam", "staff-password", ("staff",), replace=False)
    store.add("pat", "privacy-password", ("privacy-office", "staff"), replace=False)
    tokens = {"staff": store.issue_token("sam"), "privacy": store.issue_token("pat")}
    return Org(settings, index, AssistantService.build(settings, index), store, tokens)


def _in_memory(
    service: AssistantService, user: str, groups: tuple[str, ...]
) -> Callable[[Callable[[ClientSession], Awaitable[Any]]], Any]:
    """Runs ``work`` with a client session connected to the server in this process."""

    def run(work: Callable[[ClientSession], Awaitable[Any]]) -> Any:
        async def main() -> Any:
            server = build_server(lambda: service, fixed_caller(user, groups))
            async with create_connected_server_and_client_session(server) as client:
                return await work(client)

        return anyio.run(main)

    return run


def _data(result: CallToolResult) -> Any:
    """A tool's structured result (a list comes wrapped as {"result": [...]})."""
    assert not result.isError, _text(result)
    data = result.structuredContent
    assert data is not None
    return data["result"] if set(data) == {"result"} else data


def _text(result: CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, TextContent))


def test_the_tools_are_listed_with_their_inputs(org: Org) -> None:
    async def work(client: ClientSession) -> Any:
        return (await client.list_tools()).tools

    tools = {t.name: t for t in _in_memory(org.service, "sam", ("staff",))(work)}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.description and tool.annotations and tool.annotations.readOnlyHint
    assert tools["ask"].inputSchema["required"] == ["question"]
    assert set(tools["search"].inputSchema["properties"]) == {"question", "types", "vendors", "k"}
    assert "ctx" not in tools["ask"].inputSchema["properties"]


def test_search_and_ask_answer_with_locators_within_the_callers_groups(org: Org) -> None:
    async def work(client: ClientSession) -> tuple[CallToolResult, CallToolResult]:
        found = await client.call_tool("search", {"question": BAA_QUESTION, "k": 5})
        answer = await client.call_tool("ask", {"question": BAA_QUESTION})
        return found, answer

    staff_found, staff_answer = _in_memory(org.service, "sam", ("staff",))(work)
    officer_found, officer_answer = _in_memory(org.service, "pat", ("privacy-office", "staff"))(
        work
    )
    staff_passages, officer_passages = _data(staff_found), _data(officer_found)
    assert len(staff_passages) == 5
    assert {"locator", "title", "doc_type", "page", "text", "chunk_id"} <= set(staff_passages[0])
    assert all(p["doc_type"] != "baa" for p in staff_passages)  # the contract is restricted
    assert any(p["doc_type"] == "baa" for p in officer_passages)
    staff_reply, officer_reply = _data(staff_answer), _data(officer_answer)
    assert all(c["doc_type"] != "baa" for c in staff_reply["citations"])
    assert any(c["doc_type"] == "baa" for c in officer_reply["citations"]), officer_reply
    for c in officer_reply["citations"]:
        assert f"[{c['n']}]" in officer_reply["answer"] and c["locator"]
    # audited as MCP questions, with who asked and what was cited
    events = org.audit()[-4:]
    assert [(e.user, e.surface, e.mode) for e in events] == [
        ("sam", "mcp", "search"),
        ("sam", "mcp", "extractive"),
        ("pat", "mcp", "search"),
        ("pat", "mcp", "extractive"),
    ]
    assert events[2].cited_chunk_ids == tuple(p["chunk_id"] for p in officer_passages)


def test_a_cited_passage_opens_for_those_who_may_read_it(org: Org) -> None:
    baa = next(c for c in org.index.chunks if org.index.document(c.doc_id).doc_type == "baa")

    async def work(client: ClientSession) -> CallToolResult:
        return await client.call_tool("read_passage", {"locator": baa.locator})

    opened = _data(_in_memory(org.service, "pat", ("privacy-office",))(work))
    assert any(p["text"] == baa.text and p["locator"] == baa.locator for p in opened)
    refused = _in_memory(org.service, "sam", ("staff",))(work)
    assert refused.isError and "no passage you can read" in _text(refused)
    assert baa.text[:60] not in _text(refused)


def test_the_baa_check_is_for_those_who_may_read_the_contracts(org: Org) -> None:
    async def work(client: ClientSession) -> CallToolResult:
        return await client.call_tool("check_baa", {"vendors": ["Tessellate"]})

    refused = _in_memory(org.service, "sam", ("staff",))(work)
    assert refused.isError and "needs access to the contracts" in _text(refused)
    rows = _data(_in_memory(org.service, "pat", ("privacy-office", "staff"))(work))
    assert len(rows) == 24 and {r["vendor"] for r in rows} == {"Tessellate"}
    assert org.audit()[-1].mode == "baa-check" and org.audit()[-1].surface == "mcp"


def test_patient_details_are_redacted_or_refused_and_never_logged(
    org: Org, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    async def work(client: ClientSession) -> CallToolResult:
        return await client.call_tool("ask", {"question": PHI_QUESTION, "history": [PHI_QUESTION]})

    reply = _data(_in_memory(org.service, "sam", ("staff",))(work))
    assert {"name", "mrn", "date"} <= set(reply["redaction"]["kinds"])
    settings = org.settings.model_copy(deep=True)
    settings.phi.mode = "block"
    blocking = AssistantService(
        settings, build_chain(settings, org.index), PhiGuard(settings.phi), None
    )
    refused = _in_memory(blocking, "sam", ("staff",))(work)
    assert refused.isError and "patient details" in _text(refused)
    assert "mrn" in _text(refused)
    seen = json.dumps(reply) + _text(refused) + caplog.text
    seen += json.dumps([e.redacted_question for e in org.audit()])
    for planted in ("Jane Roe", "448812", "3/4/1961"):
        assert planted not in seen


def test_bad_arguments_are_tool_errors(org: Org) -> None:
    async def work(client: ClientSession) -> list[CallToolResult]:
        return [
            await client.call_tool("search", {"question": "encryption", "k": 0}),
            await client.call_tool("search", {"question": "encryption", "types": ["memo"]}),
            await client.call_tool("ask", {"question": "   "}),
            await client.call_tool("read_passage", {"locator": " "}),
        ]

    results = _in_memory(org.service, "sam", ("staff",))(work)
    assert all(r.isError for r in results), [_text(r) for r in results]
    assert "the question is empty" in _text(results[2])
    assert "the locator is empty" in _text(results[3])


# -- streamable HTTP on the chat server ------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def http_url(org: Org) -> Iterator[str]:
    """The endpoint as the chat server mounts it, served by uvicorn on a loopback port."""
    endpoint = HttpEndpoint(lambda: org.service, lambda: org.store)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await endpoint.start()
        yield
        await endpoint.stop()

    port = _free_port()
    app = Starlette(routes=[endpoint.route], lifespan=lifespan)
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/mcp"
    server.should_exit = True
    thread.join(timeout=10)


def _over_http(url: str, token: str, tool: str, arguments: dict[str, Any]) -> CallToolResult:
    async def main() -> CallToolResult:
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            streamablehttp_client(url, headers=headers) as (read, write, _),
            ClientSession(read, write) as client,
        ):
            await client.initialize()
            return await client.call_tool(tool, arguments)

    return anyio.run(main)


@pytest.mark.parametrize("header", [None, "Bearer", "Basic c2FtOnB3", "Bearer hat_forged"])
def test_http_without_a_valid_token_is_401(http_url: str, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    res = httpx.post(http_url, json=body, headers=headers)
    assert res.status_code == 401 and res.headers["www-authenticate"] == "Bearer"
    assert "token" in res.json()["detail"]


def test_http_the_token_names_the_caller_and_their_groups(org: Org, http_url: str) -> None:
    staff = _data(_over_http(http_url, org.tokens["staff"], "ask", {"question": BAA_QUESTION}))
    officer = _data(_over_http(http_url, org.tokens["privacy"], "ask", {"question": BAA_QUESTION}))
    assert all(c["doc_type"] != "baa" for c in staff["citations"])
    assert any(c["doc_type"] == "baa" for c in officer["citations"])
    assert [(e.user, e.surface) for e in org.audit()[-2:]] == [("sam", "mcp"), ("pat", "mcp")]
    refused = _over_http(http_url, org.tokens["staff"], "check_baa", {})
    assert refused.isError and "needs access to the contracts" in _text(refused)
    rows = _data(_over_http(http_url, org.tokens["privacy"], "check_baa", {}))
    assert rows and all(r["status"] for r in rows)


def test_a_revoked_token_is_refused_at_once(org: Org, http_url: str) -> None:
    org.store.add("tem", "temp-password", ("staff",), replace=False)
    token = org.store.issue_token("tem")
    assert not _over_http(http_url, token, "search", {"question": "remote access"}).isError
    assert org.store.revoke_tokens("tem") == 1
    res = httpx.post(
        http_url,
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert res.status_code == 401 and "revoked" in res.json()["detail"]


# -- stdio: the installed command, in its own process ---------------------------------------------

LAUNCHER = (
    "import sys; from tests import fakes; fakes.register(); "
    "from assistant.cli import main; sys.exit(main(sys.argv[1:]))"
)


def test_stdio_the_command_serves_the_tools(tiny_corpus: Path, tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", [tiny_corpus])
    from core.embeddings import build_embedder

    emb = build_embedder(settings.embedding)
    assert run_ingest(settings, emb, lambda: open_store(settings, emb), progress=False).ok
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HIPAA_ASSISTANT_EMBEDDING__PROVIDER": fakes.FAKE_PROVIDER,
        "HIPAA_ASSISTANT_EMBEDDING__MODEL": "v1",
        "HIPAA_ASSISTANT_CHUNKING__MIN_WORDS": "10",
        "HIPAA_ASSISTANT_PATHS__CORPUS_DIRS": json.dumps([str(tiny_corpus)]),
    }
    params = StdioServerParameters(
        command=sys.executable,
        args=["-c", LAUNCHER, "--data-dir", str(settings.paths.data_dir), "mcp", "--user", "dana"],
        env=env,
        cwd=str(ROOT),
    )

    async def main() -> tuple[set[str], Any]:
        async with (
            stdio_client(params) as (read, write),
            ClientSession(read, write) as client,
        ):
            await client.initialize()
            names = {t.name for t in (await client.list_tools()).tools}
            reply = await client.call_tool(
                "ask", {"question": "Are shared accounts allowed for remote access?"}
            )
            return names, _data(reply)

    names, reply = anyio.run(main)
    assert names == TOOLS
    assert not reply["abstained"] and reply["citations"], reply
    assert all(c["locator"].startswith("TST-") for c in reply["citations"])
    assert all(c["doc_type"] != "baa" for c in reply["citations"])  # default groups: staff
    last = [r.event for r in AuditTrail.from_settings(settings).records()][-1]
    assert (last.user, last.surface, last.groups) == ("dana", "mcp", ("staff",))

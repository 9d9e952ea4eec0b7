"""The assistant as an MCP server (Model Context Protocol), for editors and agents: tools to search
with locators, ask with verified citations, open a cited passage and check BAAs. Every tool goes
through the service, so the PHI guard, the caller's access groups and the audit trail apply as in
the chat (audited with the surface ``mcp``).

Two transports, one set of tools:
- stdio (``hipaa-assistant mcp``): a local client starts the process; one caller, fixed at start.
- streamable HTTP at ``/mcp`` on the chat server (``hipaa-assistant serve``): every request carries
  an API token (``Authorization: Bearer``, from ``hipaa-assistant users token NAME``), which names
  the user and so their groups, as for the JSON API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

import anyio
from mcp.server.fastmcp import Context, FastMCP
from mcp.server.fastmcp.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import ToolAnnotations
from pydantic import Field
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from assistant.accounts import Account, TokenError, UserStore
from assistant.retrieval.passages import ScoredPassage
from assistant.service import AssistantService, BlockedError, Caller, InputError, make_scope
from core.documents import Chunk, DocType, SourceDocument
from core.errors import AssistantError

log = logging.getLogger(__name__)

PATH = "/mcp"  # on the chat server
ACCOUNT = "hipaa_assistant.account"  # the ASGI scope key the token gate fills
INSTRUCTIONS = (
    "Answers questions about HIPAA and AI from the organisation's own documents (its policies and "
    "vendors' BAAs) and the official rule texts, with citations to exact passages (for example "
    "'45 CFR 164.308(a)(1)(ii)(A)' or 'AI-301 §3.2'). Use `ask` for an answer with verified "
    "citations, `search` for the passages alone, `read_passage` to open a cited locator, and "
    "`check_baa` to check vendors' BAAs against the rule and the organisation's terms. Do not "
    "include patient details in questions: they are redacted or refused."
)
READ_ONLY = ToolAnnotations(readOnlyHint=True, idempotentHint=True, openWorldHint=False)
T = TypeVar("T")

Question = Annotated[str, Field(description="The question, in plain words; no patient details.")]
Types = Annotated[
    list[DocType] | None, Field(description="Only these source types (default: all).")
]
Vendors = Annotated[list[str] | None, Field(description="Only these vendors' BAAs.")]


def located(chunk: Chunk, doc: SourceDocument) -> dict[str, Any]:
    """A passage with where it is from: what a client cites."""
    return {
        "locator": chunk.locator,
        "title": doc.title,
        "doc_id": doc.doc_id,
        "doc_type": doc.doc_type,
        "vendor": doc.vendor,
        "version": doc.version,
        "page": chunk.page,
        "chunk_id": chunk.chunk_id,
        "text": chunk.text,
    }


def passage_json(p: ScoredPassage) -> dict[str, Any]:
    return {**located(p.chunk, p.document), "score": round(p.score, 6)}


async def _run(work: Callable[[], T]) -> T:
    """The service's (blocking) work off the event loop, its errors as tool errors a user can
    read; anything unexpected is logged in full and reported in one line."""
    try:
        return await anyio.to_thread.run_sync(work)
    except BlockedError as exc:
        raise ToolError(f"{exc} (found: {', '.join(exc.guard.kinds)})") from exc
    except AssistantError as exc:
        raise ToolError(str(exc)) from exc
    except Exception as exc:
        log.exception("mcp: a tool failed")
        raise ToolError(f"the assistant failed ({type(exc).__name__}); see the server log") from exc


def build_server(
    service: Callable[[], AssistantService], caller_of: Callable[[Context[Any, Any, Any]], Caller]
) -> FastMCP:
    """The MCP server's tools. ``service`` is called per request (the server may be mounted
    before the service is built); ``caller_of`` says who asks, from the request's context."""
    server = FastMCP(
        "hipaa-assistant",
        instructions=INSTRUCTIONS,
        log_level="WARNING",
        # HTTP: no sessions kept, one JSON reply per request (any worker can serve it); the
        # bearer token, not the browser's origin, is what admits a request
        stateless_http=True,
        json_response=True,
        streamable_http_path=PATH,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )

    @server.tool(annotations=READ_ONLY)
    async def search(
        question: Question,
        ctx: Context[Any, Any, Any],
        types: Types = None,
        vendors: Vendors = None,
        k: Annotated[int, Field(ge=1, le=50, description="Passages to return.")] = 5,
    ) -> list[dict[str, Any]]:
        """The passages that best match a question, each with its exact locator (section or
        paragraph), document, page and text; no answer is written. Only documents the caller
        may read are searched."""
        caller = caller_of(ctx)
        found = await _run(
            lambda: service().search(question, caller, doc_types=types, vendors=vendors, k=k)
        )
        return [passage_json(p) for p in found]

    @server.tool(annotations=READ_ONLY)
    async def ask(
        question: Question,
        ctx: Context[Any, Any, Any],
        history: Annotated[
            list[str] | None,
            Field(
                description="Earlier questions of the conversation, oldest first.", max_length=20
            ),
        ] = None,
        types: Types = None,
        vendors: Vendors = None,
    ) -> dict[str, Any]:
        """An answer from the organisation's documents and the rule texts, with numbered
        citations ([1], [2]) verified against the passages quoted; 'abstained' is true when the
        documents do not answer. The same JSON as `hipaa-assistant ask --json`, plus what the
        PHI guard removed from the question."""
        caller = caller_of(ctx)
        earlier = [h for h in history or () if h.strip()]
        reply = await _run(
            lambda: service().ask(
                question, caller, history=earlier, doc_types=types, vendors=vendors
            )
        )
        return reply.to_json()

    @server.tool(annotations=READ_ONLY)
    async def read_passage(
        locator: Annotated[
            str, Field(description="A locator as cited, e.g. '45 CFR 164.502(e)' or 'AI-301 §3.2'.")
        ],
        ctx: Context[Any, Any, Any],
    ) -> list[dict[str, Any]]:
        """The exact text of the passages cited as ``locator`` (or under it), with their
        document and page, among the documents the caller may read."""
        caller = caller_of(ctx)
        return await _run(lambda: read(service(), locator, caller))

    @server.tool(annotations=READ_ONLY)
    async def check_baa(
        ctx: Context[Any, Any, Any],
        vendors: Annotated[
            list[str] | None, Field(description="Only these vendors (default: every BAA).")
        ] = None,
    ) -> list[dict[str, Any]]:
        """Each BAA the caller may read, checked against what 45 CFR 164.504(e) requires of a
        business associate contract and the organisation's own terms: one row per requirement,
        with its status and the quoted passage. For privacy-office members (contracts are
        restricted)."""
        caller = caller_of(ctx)
        wanted = [v for v in vendors or () if v.strip()]
        rows = await _run(lambda: service().check_baas(caller, wanted))
        return [r.to_json() for r in rows]

    return server


def read(service: AssistantService, locator: str, caller: Caller) -> list[dict[str, Any]]:
    locator = " ".join(locator.split())
    if not locator:
        raise InputError("the locator is empty")
    index = service.index
    chunks = index.find_locator(locator, make_scope(caller.groups))
    if not chunks:
        raise InputError(f"no passage you can read is cited as {locator!r}")
    return [located(chunk, index.document(chunk.doc_id)) for chunk in chunks[:20]]


def fixed_caller(user: str, groups: Sequence[str]) -> Callable[[Context[Any, Any, Any]], Caller]:
    """stdio: the one local user who started the server."""
    caller = Caller(user, frozenset(groups), "mcp")
    return lambda ctx: caller


def token_caller(ctx: Context[Any, Any, Any]) -> Caller:
    """HTTP: the user the request's API token names (put in the scope by ``TokenGate``)."""
    request = ctx.request_context.request
    account: Account | None = request.scope.get(ACCOUNT) if request is not None else None
    if account is None:  # only reachable if the endpoint were mounted without its gate
        raise ToolError("missing bearer token")
    return Caller(account.name, frozenset(account.groups), "mcp")


class TokenGate:
    """ASGI middleware: a request without a valid API token gets 401, as on the JSON API."""

    def __init__(self, app: ASGIApp, users: Callable[[], UserStore]) -> None:
        self.app = app
        self.users = users

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = Headers(scope=scope).get("authorization", "")
        try:
            account = await anyio.to_thread.run_sync(self.users().account_for_authorization, header)
        except TokenError as exc:
            response = JSONResponse(
                {"detail": str(exc)}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
            await response(scope, receive, send)
            return
        await self.app({**scope, ACCOUNT: account}, receive, send)


class HttpEndpoint:
    """The MCP endpoint of the chat server: ``route`` (token-gated) to add to the app, and the
    background work its request handling needs, from ``start()`` to ``stop()``."""

    def __init__(self, service: Callable[[], AssistantService], users: Callable[[], UserStore]):
        self.server = build_server(service, token_caller)
        self.server.streamable_http_app()  # creates the session manager
        manager = self.server.session_manager

        async def handle(scope: Scope, receive: Receive, send: Send) -> None:
            await manager.handle_request(scope, receive, send)

        self.route = Route(PATH, TokenGate(handle, users))
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Starts the session manager in a task of the running loop; returns once it runs."""
        ready = asyncio.Event()

        async def run() -> None:
            async with self.server.session_manager.run():
                ready.set()
                await asyncio.Event().wait()  # until stop() cancels it

        self._task = asyncio.create_task(run(), name="mcp-endpoint")
        waiting = asyncio.create_task(ready.wait())
        await asyncio.wait({self._task, waiting}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if self._task.done():  # it failed to start: say why, here
            self._task.result()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

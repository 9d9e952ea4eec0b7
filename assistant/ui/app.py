"""The Chainlit app: thin handlers that translate between Chainlit and the assistant core.

Started by ``hipaa-assistant serve``. Nothing heavy happens at import: the index and models are
loaded once in the start-up hook; each chat keeps its own history and filters in its user session.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import chainlit as cl
from chainlit.input_widget import Switch
from chainlit.types import ThreadDict
from langchain_core.runnables import RunnableConfig
from starlette.datastructures import Headers

from assistant import doc_changes
from assistant.checks.request import CheckRequest, is_coverage_request, parse_check_request
from assistant.integrations.langchain import reply_runnable
from assistant.service import Caller, InputError, Reply, clean_question
from assistant.ui import doc_flow, pdf_page, render, state, stream
from assistant.ui.api import build_router
from assistant.ui.conversations import conversation_store
from assistant.ui.data_layer import ChatDataLayer
from assistant.ui.steps import ThreadSteps
from core.documents import DOC_TYPE_NAMES, DOC_TYPES
from core.errors import AssistantError
from core.groups import parse_groups

log = logging.getLogger("assistant.ui.app")  # Chainlit loads this file by path

RESTRICTED_GROUPS = {"legal", "privacy-office"}
_running: list[Any] = []  # background parts started with the server (the MCP endpoint)
FRIENDLY_ERROR = "Something went wrong while answering; it has been logged. Please try again."


# -- start-up ------------------------------------------------------------------------------------


@cl.on_app_startup
async def _startup() -> None:
    from chainlit.server import app

    resources = state.start()
    routes = list(build_router(lambda: state.get().service, state.users).routes)
    if resources.settings.server.mcp:
        from assistant.integrations.mcp_server import HttpEndpoint

        endpoint = HttpEndpoint(lambda: state.get().service, state.users)
        await endpoint.start()
        _running.append(endpoint)
        routes.append(endpoint.route)
    app.router.routes[0:0] = routes  # ahead of Chainlit's catch-all page route
    log.info("chat server ready (mode %s)", resources.service.mode)


@cl.on_app_shutdown
async def _shutdown() -> None:
    while _running:
        await _running.pop().stop()


@cl.data_layer
def _data_layer() -> ChatDataLayer:
    s = state.settings()
    from assistant.safety import PhiGuard

    guard = PhiGuard(s.phi)
    return ChatDataLayer(conversation_store(s), lambda text: guard.check(text).text)


# -- sign-in -------------------------------------------------------------------------------------

if state.settings().server.auth == "password":

    @cl.password_auth_callback
    async def _password(username: str, password: str) -> cl.User | None:
        account = await asyncio.to_thread(state.users().authenticate, username, password)
        if account is None:
            log.info("sign-in refused")
            return None
        return cl.User(
            identifier=account.name,
            metadata={"groups": list(account.groups), "provider": "password"},
        )

else:

    @cl.header_auth_callback
    async def _header(headers: Headers) -> cl.User | None:
        s = state.settings().server
        name = (headers.get(s.user_header) or "").strip()
        if not name:
            return None
        raw = headers.get(s.groups_header)
        try:
            groups = parse_groups(raw) if raw else tuple(s.header_default_groups)
        except AssistantError:
            log.warning("header sign-in refused: invalid groups header")
            return None
        return cl.User(identifier=name, metadata={"groups": list(groups), "provider": "header"})


def _caller() -> Caller:
    """The signed-in user, with groups read afresh from the users file (a removed user or a
    changed group takes effect at once) or, behind an SSO proxy, from the sign-in headers."""
    user = cl.user_session.get("user")
    if user is None:
        raise InputError("please sign in again")
    groups = tuple(user.metadata.get("groups", ()))
    if user.metadata.get("provider") == "password":
        accounts = {a.name: a for a, _ in state.users().list()}
        if user.identifier not in accounts:
            raise InputError("your account no longer exists; ask an administrator")
        groups = accounts[user.identifier].groups
    return Caller(user.identifier, frozenset(groups), "ui")


# -- the chat ------------------------------------------------------------------------------------


@cl.set_starters
async def _starters(user: cl.User | None = None, language: str | None = None) -> list[cl.Starter]:
    starters = [
        cl.Starter(
            label="Paste a discharge summary into an AI tool?",
            message="Can I paste a patient's discharge summary into an AI tool to summarise it?",
        ),
        cl.Starter(
            label="Audit controls for AI systems",
            message="What does 45 CFR 164.312(b) require, and how does our policy apply it to AI?",
        ),
        cl.Starter(
            label="De-identifying data for model training",
            message="How do we de-identify data before using it to train a model?",
        ),
    ]
    groups = set(user.metadata.get("groups", ())) if user else set()
    if doc_changes.may_manage(state.settings(), frozenset(groups)):
        starters.append(cl.Starter(label="Add or replace a document", message="Add a document"))
    if groups & RESTRICTED_GROUPS:
        starters.append(
            cl.Starter(
                label="Breach notice from an AI vendor",
                message="How quickly must Acme Scribe tell us about a breach of PHI?",
            )
        )
    return starters


@cl.on_chat_start
async def _chat_start() -> None:
    cl.user_session.set("history", [])
    await _offer_sources(None)


@cl.on_chat_resume
async def _chat_resume(thread: ThreadDict) -> None:
    """A reopened conversation: its history and chosen sources come back from what Chainlit
    saved with the thread (the citations' passages from the data layer)."""
    history = cl.user_session.get("history")
    if not isinstance(history, list):
        history = [
            s.get("output", "") for s in thread.get("steps", []) if s.get("type") == "user_message"
        ]
    cl.user_session.set("history", [q for q in history if isinstance(q, str) and q][-6:])
    saved = cl.user_session.get("types")
    await _offer_sources(saved if isinstance(saved, list) else None)


async def _offer_sources(chosen: list[str] | None) -> None:
    """The settings' source switches: one per type of document the user may read (staff see no
    contracts switch), on as ``chosen`` says (all by default); and the document commands for
    those who may use them."""
    try:
        caller: Caller | None = _caller()
    except AssistantError:
        caller = None
    readable = state.get().service.readable_types(caller) if caller else []
    on = [t for t in readable if chosen is None or t in chosen]
    cl.user_session.set("readable", readable)
    cl.user_session.set("types", on)
    widgets: list[Any] = [
        Switch(id=f"type_{t}", label=f"Search {DOC_TYPE_NAMES[t].switch}", initial=t in on)
        for t in readable
    ]
    await cl.ChatSettings(widgets).send()
    if caller is not None:
        await doc_flow.offer(caller)


@cl.on_settings_update
async def _settings_update(values: dict[str, Any]) -> None:
    readable = cl.user_session.get("readable") or list(DOC_TYPES)
    cl.user_session.set("types", [t for t in readable if values.get(f"type_{t}", True)])


def _types() -> list[str] | None:
    """The source types to search; ``None`` = all the user may read."""
    types = cl.user_session.get("types")
    readable = cl.user_session.get("readable")
    if types is None or (readable is not None and set(types) >= set(readable)):
        return None
    if not types:
        raise InputError("turn on at least one source type in the chat settings (the gear)")
    return list(types)


async def _answer(
    text: str,
    caller: Caller,
    types: list[str] | None,
    msg: cl.Message,
    steps: cl.LangchainCallbackHandler | None,
) -> Reply:
    """Runs the answer chain's ``Runnable`` (the blocking core) in a worker thread, with
    Chainlit's LangChain handler showing its steps under the open step (``steps``). A language
    model's tokens stream into ``msg`` as they come; an extractive answer, ready at once, is not
    streamed: it is shown whole, with its clickable citations."""
    service = state.get().service
    streams = service.mode != "extractive"
    loop = asyncio.get_running_loop()
    tokens: asyncio.Queue[str | None] = asyncio.Queue()

    def on_token(piece: str) -> None:
        loop.call_soon_threadsafe(tokens.put_nowait, piece)

    history = list(cl.user_session.get("history") or [])
    chain = reply_runnable(service, caller, doc_types=types, on_token=on_token if streams else None)
    config = RunnableConfig(callbacks=[ThreadSteps(steps, loop)] if steps is not None else [])

    def run() -> Reply:
        try:
            return chain.invoke({"question": text, "history": history}, config)
        finally:
            loop.call_soon_threadsafe(tokens.put_nowait, None)

    job = asyncio.ensure_future(asyncio.to_thread(run))
    async for piece in stream.pieces(tokens):
        await msg.stream_token(piece)
    return await job


@cl.on_message
async def _on_message(message: cl.Message) -> None:
    msg = cl.Message(content="")
    try:
        caller = _caller()
        resources = state.get()
        document = doc_flow.request(message)
        if document is not None:  # typed or chosen; for others than the privacy office, a no
            await doc_flow.run(*document, caller)
            return
        asked = clean_question(message.content, resources.settings.server.max_question_chars)
        request = parse_check_request(asked)
        if request is not None:
            await _check_baas(request, caller, msg)
            return
        if is_coverage_request(asked):
            await _coverage(caller, msg)
            return
        types = _types()
        guard = resources.service.redact(asked)
        if guard.findings:
            # what the server keeps and searches is the redacted question: show it as such
            message.content = guard.text
            await message.update()
        step = steps = None
        if not guard.blocked:
            # shown (collapsed) above the answer, the chain's steps inside it; its content is
            # filled in at the end
            async with cl.Step(name="How this answer was found", type="retrieval") as step:
                step.output = "Searching the documents you may read..."
                steps = cl.LangchainCallbackHandler()  # the chain's steps go under this one
        # block mode: BlockedError, audited
        reply = await _answer(asked, caller, types, msg, steps)
        answer = reply.answer
        history = list(cl.user_session.get("history") or [])
        # a follow-up is remembered as it was searched, so the next one builds on all of it
        asked_as = answer.standalone_question or answer.question
        cl.user_session.set("history", [*history, asked_as][-6:])
        index = resources.service.index
        documents = {d: e.document for d, e in index.entries.items()}
        parts = render.citation_elements(answer, documents)
        # the passages and PDF pages (rendered, the quote marked) go first: the answer's [n] are
        # links the moment it shows, and no element arriving later reopens the panel
        passages = [_element(p) for p in parts if isinstance(p, render.SideText)]
        pdfs = [p for p in parts if isinstance(p, render.SidePdf)]
        pages = await asyncio.to_thread(lambda: [_page(p) for p in pdfs])
        await asyncio.gather(*(e.send(for_id=msg.id) for e in [*passages, *pages]))
        msg.content = render.answer_markdown(answer, reply.guard.notice, parts)
        may_confirm = bool(caller.groups & set(resources.settings.retrieval.confirm_groups))
        msg.actions = [
            cl.Action(
                name="confirm_question",
                payload={"question": a.question, "locator": a.locator},
                label=a.label,
                tooltip="Add this question to the question index for this passage",
            )
            for a in render.confirm_actions(answer, may_confirm)
        ]
        await (msg.update() if msg.streaming else msg.send())
        if step is not None:
            step.output = render.retrieval_markdown(answer)
            await step.update()
    except AssistantError as exc:  # includes BlockedError: its text is the guard's notice
        log.info("ui: %s", type(exc).__name__)
        await _say(msg, str(exc))
    except Exception:
        log.exception("ui: unexpected error while answering")  # never the question text
        await _say(msg, FRIENDLY_ERROR)


async def _check_baas(request: CheckRequest, caller: Caller, msg: cl.Message) -> None:
    """ "check the Acme Scribe BAA": the BAA check as a table whose clauses open in the side
    panel (privacy office and legal; anyone else gets the refusal's one line)."""
    rows = await asyncio.to_thread(state.get().service.check_baas, caller, request.vendors)
    content, parts = render.baa_check_markdown(rows)
    msg.elements = [_element(p) for p in parts]  # type: ignore[misc]
    msg.content = content
    await msg.send()


async def _coverage(caller: Caller, msg: cl.Message) -> None:
    """ "Security Rule coverage": the specifications, each with the policy sections addressing
    it, opening in the side panel."""
    rows = await asyncio.to_thread(state.get().service.coverage, caller)
    content, parts = render.coverage_markdown(rows)
    msg.elements = [_element(p) for p in parts]  # type: ignore[misc]
    msg.content = content
    await msg.send()


@cl.action_callback("confirm_question")
async def _confirm(action: cl.Action) -> None:
    """A privacy officer confirms that a cited passage answers the question just asked."""
    try:
        done = await asyncio.to_thread(
            state.get().service.confirm_question,
            str(action.payload.get("question", "")),
            str(action.payload.get("locator", "")),
            _caller(),
        )
        text = (
            f"Added to the question index: {done.locator} answers this question."
            if done.added
            else f"Already in the question index for {done.locator}."
        )
        await action.remove()
    except AssistantError as exc:
        log.info("ui: confirm %s", type(exc).__name__)
        text = str(exc)
    except Exception:
        log.exception("ui: unexpected error while confirming a question")
        text = FRIENDLY_ERROR
    await cl.Message(content=text, author="hipaa-assistant").send()


async def _say(msg: cl.Message, text: str) -> None:
    """One line in place of the answer (which may have started streaming), as a sentence: the
    service's reasons read as clauses ("turn on at least one source type ...") for the API."""
    text = text.strip()
    if text and text[0].islower():
        text = text[0].upper() + text[1:]
    if text and text[-1] not in ".!?":
        text += "."
    msg.content = text
    msg.elements = []
    if msg.streaming:
        await msg.update()
    else:
        await msg.send()


def _page(part: render.SidePdf) -> cl.Image | cl.Pdf:
    """The cited page as an image the panel's width with the quote marked; the PDF viewer
    when the page cannot be rendered."""
    s = state.settings()
    cache = s.paths.data_dir / "ui" / "pages"
    shown = None
    if part.page:
        shown = pdf_page.render_page(part.path, part.page, part.quote, cache, part.sha256)
    if shown is None:
        return cl.Pdf(name=part.name, path=str(part.path), page=part.page, display="side")
    return cl.Image(name=part.name, path=str(shown.path), display="side", size="large")


def _element(part: render.SideText | render.SidePdf) -> cl.Text | cl.Pdf:
    if isinstance(part, render.SidePdf):
        return cl.Pdf(name=part.name, path=str(part.path), page=part.page, display="side")
    return cl.Text(name=part.name, content=part.content, display="side")

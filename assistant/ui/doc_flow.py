"""Adding, replacing and retiring documents in the chat, for the privacy office: the composer's
"Add document" button (or "add a document" typed) asks for the file, what it is and who may read
it, then shows the indexing as it goes; "retire document AI-301" asks to confirm. Nobody else is
offered the button, and the service refuses anyone else whatever they send."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable

import chainlit as cl

from assistant.doc_changes import DocumentChange
from assistant.service import Caller
from assistant.ui import state
from core.errors import AssistantError

log = logging.getLogger("assistant.ui.doc_flow")

ADD = "Add document"
RETIRE = "Retire document"
COMMANDS = [
    {
        "id": ADD,
        "icon": "file-up",
        "description": "Add or replace a policy or BAA (PDF, Word .docx or Markdown)",
        "button": True,
        "persistent": False,
    },
    {
        "id": RETIRE,
        "icon": "archive",
        "description": "Retire a policy or BAA: type its id, e.g. AI-301",
        "button": False,
        "persistent": False,
    },
]
ACCEPT = {
    "application/pdf": [".pdf"],
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": [".docx"],
    "text/markdown": [".md"],
}
_ADD_TYPED = re.compile(
    r"^\s*(?:please\s+)?(?:add|upload|replace)\s+(?:a|an|the|our|new)?\s*"
    r"(?:new\s+)?(?:document|policy|baa|file|contract)\s*[.!]?\s*$",
    re.IGNORECASE,
)
_RETIRE_TYPED = re.compile(r"^\s*retire\s+(?:document\s+)?(?P<id>[\w.§ -]+?)\s*$", re.IGNORECASE)
TIMEOUT_S = 900


def request(message: cl.Message) -> tuple[str, str] | None:
    """("add", "") or ("retire", doc_id) when the message asks for one; else ``None``."""
    text = message.content or ""
    if message.command == ADD or _ADD_TYPED.match(text):
        return ("add", "")
    if message.command == RETIRE:
        return ("retire", text.strip())
    m = _RETIRE_TYPED.match(text)
    return ("retire", m.group("id")) if m else None


async def offer(caller: Caller) -> None:
    """The composer's document commands, for those who may use them only."""
    if state.get().service.may_manage_documents(caller):
        await cl.context.emitter.set_commands(COMMANDS)  # type: ignore[arg-type]


async def run(kind: str, doc_id: str, caller: Caller) -> None:
    service = state.get().service
    if not service.may_manage_documents(caller):
        await cl.Message(content="Only the privacy office can add or retire documents.").send()
        return
    if kind == "add":
        await _add(caller)
    else:
        await _retire(caller, doc_id)


async def _choose(content: str, choices: list[tuple[str, str]]) -> str | None:
    actions = [
        cl.Action(name="choice", payload={"value": value}, label=label) for value, label in choices
    ]
    picked = await cl.AskActionMessage(content=content, actions=actions, timeout=TIMEOUT_S).send()
    return str(picked["payload"]["value"]) if picked else None


async def _add(caller: Caller) -> None:
    settings = state.get().settings
    files = await cl.AskFileMessage(
        content="Choose the policy or BAA to add (PDF, Word .docx or Markdown). A file with "
        "the name of one added before replaces it; the old version is kept aside.",
        accept=ACCEPT,
        max_size_mb=min(100, settings.ingest.max_file_mb),
        timeout=TIMEOUT_S,
    ).send()
    if not files:
        return
    upload = files[0]
    doc_type = await _choose(
        f"What is **{upload.name}**?",
        [("policy", "A policy"), ("baa", "A business associate agreement")],
    )
    if doc_type is None:
        return
    staff = ",".join(settings.default_access_groups)
    restricted = ",".join(settings.restricted_access_groups)
    options = [(restricted, f"Only {restricted.replace(',', ' and ')}"), (staff, f"All {staff}")]
    if doc_type == "policy":
        options.reverse()  # the usual choice first
    groups = await _choose("Who may read it?", options)
    if groups is None:
        return
    with open(upload.path, "rb") as f:
        data = f.read()
    await _progress(
        f"Adding **{upload.name}**",
        lambda report: state.get().service.add_document(
            caller, upload.name, data, doc_type, groups.split(","), report
        ),
    )


async def _retire(caller: Caller, doc_id: str) -> None:
    entry = state.get().service.index.entries.get(doc_id)
    if entry is None or entry.document.doc_type not in ("policy", "baa"):
        await cl.Message(content=f"No policy or BAA has the id {doc_id!r}.").send()
        return
    doc = entry.document
    answer = await _choose(
        f"Retire **{doc.doc_id}** ({doc.title})? It will no longer be searched; its file is "
        "kept aside.",
        [("yes", "Retire it"), ("no", "Keep it")],
    )
    if answer == "yes":
        await _progress(
            f"Retiring **{doc.doc_id}**",
            lambda report: state.get().service.retire_document(caller, doc.doc_id, report),
        )


def done_text(c: DocumentChange) -> str:
    if c.action == "retired":
        return (
            f"**{c.doc_id}** ({c.title}) is retired: no longer searched (kept as `{c.file}`; "
            f"{c.seconds:.0f} s)."
        )
    return (
        f"**{c.doc_id}** ({c.title}) {c.action}: {c.passages} passages, searchable now "
        f"({c.seconds:.0f} s)."
    )


async def _progress(title: str, change: Callable[[Callable[[str], None]], DocumentChange]) -> None:
    """Runs the change in a worker thread, showing each step in one message as it comes."""
    msg = cl.Message(content=f"{title}…")
    await msg.send()
    loop = asyncio.get_running_loop()
    steps: asyncio.Queue[str | None] = asyncio.Queue()

    def report(step: str) -> None:
        loop.call_soon_threadsafe(steps.put_nowait, step)

    def work() -> DocumentChange:
        try:
            return change(report)
        finally:
            loop.call_soon_threadsafe(steps.put_nowait, None)

    job = asyncio.ensure_future(asyncio.to_thread(work))
    while (step := await steps.get()) is not None:
        msg.content = f"{title}: {step}…"
        await msg.update()
    try:
        done = await job
    except AssistantError as exc:
        log.info("ui: document change refused (%s)", type(exc).__name__)
        msg.content = f"{title}: not done. {exc}"
    except Exception:
        log.exception("ui: unexpected error while changing a document")
        msg.content = f"{title}: something went wrong; it has been logged."
    else:
        msg.content = done_text(done)
    await msg.update()

"""The JSON HTTP API, served by the same process as the chat UI: ``POST /api/ask``,
``POST /api/questions``, ``POST /api/baa-check`` and, for the privacy office,
``POST /api/documents`` and ``DELETE /api/documents/{doc_id}``.

A bearer token (``hipaa-assistant users token NAME``) names the user and so their groups; the
reply is the ``ask --json`` payload (docs/answer-json.md) plus what the PHI guard removed.
"""

import logging
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from assistant.accounts import Account, TokenError, UserStore
from assistant.doc_changes import DocumentChange, refusal
from assistant.service import AssistantService, BlockedError, Caller, InputError
from core.errors import AssistantError, DocumentError, NotAllowedError

log = logging.getLogger(__name__)


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, description="The question.")
    history: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="Earlier questions of the conversation, oldest first (as returned in "
        "'question', i.e. redacted).",
    )
    types: list[str] | None = Field(
        default=None, description="Only these source types: rule, guidance, policy, baa."
    )
    vendors: list[str] | None = Field(default=None, description="Only these vendors' BAAs.")
    k: int | None = Field(default=None, ge=1, le=50, description="Passages to retrieve.")


class ConfirmRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, description="A question as staff would ask it.")
    locator: str = Field(
        min_length=1, description="The passage that answers it, e.g. 'SHP-AI-01 §4.1'."
    )


class BaaCheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vendors: list[str] = Field(
        default_factory=list, max_length=20, description="Only these vendors' BAAs (default all)."
    )


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": "Bearer"})


def _responded(work: Callable[[], Any], content: Callable[[Any], Any]) -> JSONResponse:
    """One request's work, with the project's errors mapped to the same statuses on every
    endpoint: 403 not allowed; 422 blocked by the PHI guard (with the kinds it found), a bad
    input or a bad file; 503 anything else the service reports (the detail goes to the log)."""
    try:
        done = work()
    except NotAllowedError as exc:
        return JSONResponse(status_code=403, content={"detail": str(exc)})
    except BlockedError as exc:
        return JSONResponse(
            status_code=422,
            content={"detail": str(exc), "redaction": {"kinds": list(exc.guard.kinds)}},
        )
    except (InputError, DocumentError) as exc:
        return JSONResponse(status_code=422, content={"detail": str(exc)})
    except AssistantError as exc:
        log.warning("api: %s", type(exc).__name__, exc_info=True)
        return JSONResponse(status_code=503, content={"detail": str(exc)})
    return JSONResponse(content=content(done))


def _change_json(change: DocumentChange) -> Any:
    return change.to_json()


def build_router(
    service: Callable[[], AssistantService], users: Callable[[], UserStore]
) -> APIRouter:
    """``service`` and ``users`` are called per request, so the router can be mounted before the
    (slow to build) service exists."""
    router = APIRouter(prefix="/api")

    def caller_account(request: Request) -> Account:
        try:
            return users().account_for_authorization(request.headers.get("authorization", ""))
        except TokenError as exc:
            raise _unauthorized(str(exc)) from None

    @router.post("/ask")
    def ask(body: AskRequest, account: Annotated[Account, Depends(caller_account)]) -> JSONResponse:
        caller = Caller(account.name, frozenset(account.groups), "api")
        history = [h for h in body.history if h.strip()]

        def work() -> Any:  # ask passes the earlier questions through the PHI guard
            return service().ask(
                body.question,
                caller,
                history=history,
                doc_types=body.types,
                vendors=body.vendors,
                k=body.k,
            )

        return _responded(work, lambda reply: reply.to_json())

    @router.post("/questions")
    def confirm(
        body: ConfirmRequest, account: Annotated[Account, Depends(caller_account)]
    ) -> JSONResponse:
        """A privacy officer confirms that the passage cited as ``locator`` answers
        ``question``: it joins the organisation's question index at once."""
        caller = Caller(account.name, frozenset(account.groups), "api")
        return _responded(
            lambda: service().confirm_question(body.question, body.locator, caller),
            lambda done: {
                "question": done.question,
                "locator": done.locator,
                "chunk_id": done.chunk_id,
                "added": done.added,
            },
        )

    @router.post("/baa-check")
    def baa_check(
        body: BaaCheckRequest, account: Annotated[Account, Depends(caller_account)]
    ) -> JSONResponse:
        """Every BAA the caller may read against the rule and the organisation's terms: the rows
        of ``hipaa-assistant baa check --format json``. 403 for a caller who may read no BAA."""
        caller = Caller(account.name, frozenset(account.groups), "api")
        vendors = [v for v in body.vendors if v.strip()]
        return _responded(
            lambda: service().check_baas(caller, vendors), lambda rows: [r.to_json() for r in rows]
        )

    @router.post("/documents")
    def add_document(
        account: Annotated[Account, Depends(caller_account)],
        file: Annotated[UploadFile, File(description="A policy or BAA: PDF, .docx or .md.")],
        doc_type: Annotated[str, Form(alias="type", description="policy or baa")],
        groups: Annotated[str, Form(description="Access groups, comma-separated.")] = "",
    ) -> JSONResponse:
        """The privacy office adds (or replaces) a document: checked, indexed and searched
        from the next question on. 403 for anyone else; 422 with the reason for a bad file."""
        caller = Caller(account.name, frozenset(account.groups), "api")
        svc = service()
        if not svc.may_manage_documents(caller):  # refused before the upload is read
            return JSONResponse(status_code=403, content={"detail": refusal(svc.settings)})
        data = file.file.read((svc.settings.ingest.max_file_mb << 20) + 1)
        s = svc.settings
        default = s.restricted_access_groups if doc_type == "baa" else s.default_access_groups
        chosen = [g for g in groups.split(",") if g.strip()] or list(default)
        name = file.filename or ""
        return _responded(
            lambda: svc.add_document(caller, name, data, doc_type, chosen), _change_json
        )

    @router.delete("/documents/{doc_id}")
    def retire_document(
        doc_id: str, account: Annotated[Account, Depends(caller_account)]
    ) -> JSONResponse:
        """The privacy office retires a document: moved out of the corpus, no longer searched."""
        caller = Caller(account.name, frozenset(account.groups), "api")
        return _responded(lambda: service().retire_document(caller, doc_id), _change_json)

    @router.get("/health")
    def health() -> dict[str, Any]:
        svc = service()
        return {
            "status": "ok",
            "mode": svc.mode,
            "chunks": len(svc.index.chunks),
            "generation": svc.index.generation.gen_id,  # which index this server answers from
        }

    return router

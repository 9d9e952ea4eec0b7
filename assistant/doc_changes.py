"""Adding, replacing and retiring the organisation's documents while the server runs (the
privacy office, from the chat or the API): checked like any file, placed in the corpus folder
with its type and access groups, indexed incrementally, audited, and searched from the next
question on, without a restart."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from core.errors import AssistantError, DocumentError, NotAllowedError
from core.index.reader import Index
from core.settings import Settings


class Caller(Protocol):
    """Who asks (``service.Caller``)."""

    @property
    def user(self) -> str: ...

    @property
    def groups(self) -> frozenset[str]: ...


class Service(Protocol):
    """What a document change needs of the service (``service.AssistantService``)."""

    settings: Settings

    @property
    def index(self) -> Index: ...

    def reload(self) -> None: ...

    def record_event(self, caller: Any, what: str, *, mode: str) -> None: ...


log = logging.getLogger(__name__)
Progress = Callable[[str], None]
_one_at_a_time = threading.Lock()


@dataclass(frozen=True)
class DocumentChange:
    action: str  # added | replaced | retired
    doc_id: str
    title: str
    file: str  # as stored, relative to the corpus folder
    passages: int  # indexed for it now (0 once retired)
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "doc_id": self.doc_id,
            "title": self.title,
            "file": self.file,
            "passages": self.passages,
            "seconds": round(self.seconds, 1),
        }


def may_manage(settings: Settings, groups: frozenset[str]) -> bool:
    return bool(groups & set(settings.server.document_groups))


def refusal(settings: Settings) -> str:
    allowed = ", ".join(sorted(settings.server.document_groups))
    return f"only members of {allowed} may add or retire documents"


def _require(settings: Settings, caller: Caller) -> None:
    if not may_manage(settings, caller.groups):
        raise NotAllowedError(refusal(settings))


def _reindex(service: Service, progress: Progress) -> Any:
    from assistant.runtime.build import prepare_after_ingest
    from assistant.runtime.stores import open_store
    from ingest.pipeline import run_ingest

    settings, embedder = service.settings, service.index.embedder
    progress("indexing: reading the changed file and embedding its passages")
    report = run_ingest(settings, embedder, lambda: open_store(settings, embedder), progress=False)
    progress("indexing: updating the question index")
    prepare_after_ingest(settings, embedder, fit_adapter=not report.noop)
    service.reload()
    return report


def add(
    service: Service,
    caller: Caller,
    filename: str,
    data: bytes,
    doc_type: str,
    groups: Sequence[str],
    progress: Progress = lambda _: None,
) -> DocumentChange:
    from ingest.library import Library

    _require(service.settings, caller)
    started = time.perf_counter()
    with _one_at_a_time:
        progress(f"checking {filename}")
        library = Library(service.settings)
        placed = library.place(filename, data, doc_type, groups)
        try:
            report = _reindex(service, progress)
        except AssistantError:
            log.exception("indexing an added document failed")
            raise
        outcome = next((o for o in report.outcomes if o.key == f"corpus:{placed.path}"), None)
        if outcome is None or outcome.status == "failed":
            reason = outcome.reason if outcome else "it was not indexed"
            raise DocumentError(f"{placed.path.name} was placed but not indexed: {reason}")
    change = DocumentChange(
        "replaced" if placed.replaced else "added",
        placed.doc_id,
        placed.title,
        placed.path.relative_to(library.root).as_posix(),
        outcome.chunks,
        time.perf_counter() - started,
    )
    _audit(service, caller, change, doc_type, groups)
    return change


def retire(
    service: Service, caller: Caller, doc_id: str, progress: Progress = lambda _: None
) -> DocumentChange:
    from ingest.library import Library

    _require(service.settings, caller)
    started = time.perf_counter()
    with _one_at_a_time:
        entry = service.index.entries.get(doc_id.strip())
        if entry is None or entry.document.doc_type not in ("policy", "baa"):
            raise DocumentError(f"no policy or BAA has the id {doc_id!r}")
        doc = entry.document
        library = Library(service.settings)
        progress(f"retiring {doc.doc_id}")
        moved = library.retire(Path(doc.path))
        _reindex(service, progress)
    change = DocumentChange(
        "retired",
        doc.doc_id,
        doc.title,
        moved.relative_to(library.root).as_posix(),
        0,
        time.perf_counter() - started,
    )
    _audit(service, caller, change, doc.doc_type, doc.access_groups)
    return change


def _audit(
    service: Service,
    caller: Caller,
    change: DocumentChange,
    doc_type: str,
    groups: Sequence[str],
) -> None:
    """Who added or retired what, in the audit trail beside the questions (its text field says
    what changed; no document text)."""
    what = (
        f"{change.action} {change.doc_id} ({doc_type}, groups {', '.join(sorted(groups))}): "
        f"{change.file}, {change.passages} passages"
    )
    log.info("document %s user=%s doc=%s", change.action, caller.user, change.doc_id)
    service.record_event(caller, what, mode=f"document-{change.action}")

"""The one path a question takes from any surface (UI, API, CLI):

clean the input -> PHI guard (redact or refuse) -> answer chain within the caller's groups ->
audit trail. Only the redacted text goes further than the guard: into the chain (and so to any
LLM), the conversation history, the audit trail and the logs.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import unicodedata
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant import doc_changes
from assistant.answering import restricted
from assistant.answering.chain import AnswerChain
from assistant.answering.trace import NO_TRACE, Tracer
from assistant.answering.types import Answer
from assistant.audit import AuditEvent, Trail, open_trail
from assistant.audit.trail import Surface
from assistant.checks.baa import Row
from assistant.checks.coverage import CoverageRow, check_coverage, load_specifications
from assistant.checks.run import (
    Catalogs,
    check_all,
    load_catalogs,
    readable_contracts,
    readable_policies,
)
from assistant.doc_changes import DocumentChange
from assistant.retrieval.confirmed import Confirmation, append_question, confirmed_file
from assistant.retrieval.passages import ScoredPassage
from assistant.safety import GuardResult, PhiGuard
from core.documents import DOC_TYPES
from core.errors import AssistantError, NotAllowedError
from core.index.reader import Index, Scope
from core.index.shared import SharedGenerations, shared_index
from core.index.state import CURRENT, IndexState
from core.settings import Settings

log = logging.getLogger(__name__)

# control and invisible characters, and lone surrogates (valid JSON, not encodable as UTF-8)
_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ud800-\udfff]"
)


class InputError(AssistantError):
    """The question cannot be taken as it is (empty, too long, bad filter); safe to show."""


class BlockedError(AssistantError):
    """The PHI guard is in block mode and found identifiers; ``str()`` says which kinds."""

    def __init__(self, guard: GuardResult) -> None:
        super().__init__(guard.notice)
        self.guard = guard


@dataclass(frozen=True)
class Caller:
    """Who asks, from where. ``groups`` decide which documents they may see."""

    user: str
    groups: frozenset[str]
    surface: Surface


@dataclass
class Reply:
    answer: Answer
    guard: GuardResult

    def to_json(self) -> dict[str, Any]:
        data = self.answer.to_json()
        data["redaction"] = {"kinds": list(self.guard.kinds), "notice": self.guard.notice}
        return data


def clean_question(text: str, max_chars: int) -> str:
    """Control and invisible characters removed, whitespace collapsed; empty or too long refused.
    The length limit applies before anything else looks at the text."""
    if len(text) > max_chars * 4:
        raise InputError(f"the question is too long (at most {max_chars} characters)")
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", text))
    text = " ".join(text.split())
    if not text:
        raise InputError("the question is empty")
    if len(text) > max_chars:
        raise InputError(f"the question is too long (at most {max_chars} characters)")
    return text


def make_scope(
    groups: frozenset[str],
    doc_types: Sequence[str] | None = None,
    vendors: Sequence[str] | None = None,
) -> Scope:
    bad = [t for t in doc_types or () if t not in DOC_TYPES]
    if bad:
        raise InputError(f"unknown source type {bad[0]!r} (use {', '.join(DOC_TYPES)})")
    return Scope(
        groups=frozenset(groups),
        doc_types=frozenset(doc_types) if doc_types else None,
        vendors=frozenset(vendors) if vendors else None,
    )


def _watch(ref: weakref.ref[AssistantService], every_s: float = 2.0) -> None:
    """Follows the shared index while the service lives, whether or not questions come."""
    while True:
        time.sleep(every_s)
        service = ref()
        if service is None:
            return
        service.refresh()
        del service


class AssistantService:
    """Shared by every request of a process; holds no per-user state."""

    def __init__(
        self,
        settings: Settings,
        chain: AnswerChain,
        guard: PhiGuard,
        audit: Trail | None,
        shared: SharedGenerations | None = None,
    ) -> None:
        self.settings = settings
        self.shared = shared  # the generations every server reads (None: the data folder's)
        self.chain = chain
        self.guard = guard
        self.audit = audit
        self._catalogs: Catalogs | None = None  # read on the first BAA check
        self._reload_lock = threading.Lock()
        self._pointer_seen: tuple[int, int] | None = None  # CURRENT.json when it matched
        self._confirmed_seen = 0  # the last confirmed question read from the shared index
        self._questions_lock = threading.Lock()  # one question added to the index at a time
        # (index, groups) -> (whether those groups read a contract, the vendors a document
        # they may read names)
        self._vendor_names: dict[tuple[str, frozenset[str] | None], tuple[bool, list[str]]] = {}

    @classmethod
    def build(cls, settings: Settings, index: Index | None = None) -> AssistantService:
        from assistant.runtime.build import build_chain
        from assistant.runtime.stores import one_blas_thread_per_question, open_index

        one_blas_thread_per_question()
        shared = shared_index(settings)
        if shared is not None and index is None:
            # the live generation, copied from the database when this folder lacks it
            shared.follow(
                IndexState(settings.paths.index_dir), settings.paths.data_dir / "adapters"
            )
        chain = build_chain(settings, index or open_index(settings))
        audit = None
        if settings.audit.enabled:
            audit = open_trail(settings)
        service = cls(settings, chain, PhiGuard(settings.phi), audit, shared)
        if shared is not None:
            # switch to a new live generation even while no question comes
            watch = threading.Thread(
                target=_watch, args=(weakref.ref(service),), name="index-watch", daemon=True
            )
            watch.start()
        return service

    @property
    def index(self) -> Index:
        return self.chain.retriever.index

    @property
    def mode(self) -> str:
        return self.chain.answerer.mode

    def readable_types(self, caller: Caller) -> list[str]:
        """The document types of which the caller may read at least one document, in the
        usual order (what the chat offers as sources to search)."""
        scope = make_scope(caller.groups)
        present = {
            e.document.doc_type for e in self.index.entries.values() if scope.allows(e.document)
        }
        return [t for t in DOC_TYPES if t in present]

    def redact(self, text: str) -> GuardResult:
        return self.guard.check(text)

    def ask(
        self,
        question: str,
        caller: Caller,
        *,
        history: Sequence[str] = (),
        doc_types: Sequence[str] | None = None,
        vendors: Sequence[str] | None = None,
        k: int | None = None,
        on_token: Callable[[str], None] | None = None,
        tracer: Tracer = NO_TRACE,
    ) -> Reply:
        """``history``: earlier questions of the conversation, already redacted (as returned in
        ``Reply.answer.question``). ``tracer`` records the chain's steps, which see only the
        redacted question."""
        guard, scope = self._admit(question, caller, doc_types, vendors, k, mode=self.mode)
        # earlier questions pass the guard again: a surface that kept them unredacted must not
        # send them on (to the condenser and so to any LLM)
        history = [self.guard.check(h).text for h in history]
        answer = self.chain.ask(
            guard.text, scope, history=history, k=k, on_token=on_token, tracer=tracer
        )
        if self._contracts_closed_to(caller, guard.text):
            answer.notes.append(restricted.note(self.settings.server.contracts_contact))
        log.info(
            "answered user=%s surface=%s mode=%s abstained=%s cited=%s redacted=%s ms=%.0f",
            caller.user,
            caller.surface,
            answer.mode,
            answer.abstained,
            ",".join(c.chunk_id for c in answer.citations),
            ",".join(guard.kinds) or "-",
            answer.timings.get("total_ms", 0.0),
        )
        self._record(
            caller,
            guard,
            mode=answer.mode,
            cited=tuple(c.chunk_id for c in answer.citations),
            abstained=answer.abstained,
            blocked=False,
        )
        return Reply(answer, guard)

    def search(
        self,
        question: str,
        caller: Caller,
        *,
        doc_types: Sequence[str] | None = None,
        vendors: Sequence[str] | None = None,
        k: int | None = None,
    ) -> list[ScoredPassage]:
        """The passages retrieval finds for ``question`` within the caller's access groups,
        without an answer: guarded and audited like ``ask`` (mode ``search``; the passages
        returned are recorded as cited)."""
        guard, scope = self._admit(question, caller, doc_types, vendors, k, mode="search")
        passages = self.chain.retriever.retrieve(guard.text, scope, k).passages
        cited = tuple(p.chunk.chunk_id for p in passages)
        self._record(caller, guard, mode="search", cited=cited, abstained=False, blocked=False)
        return passages

    def _admit(
        self,
        question: str,
        caller: Caller,
        doc_types: Sequence[str] | None,
        vendors: Sequence[str] | None,
        k: int | None,
        *,
        mode: str,
    ) -> tuple[GuardResult, Scope]:
        """A question checked before anything is retrieved: cleaned, its filters and ``k``
        validated, then through the PHI guard (a blocked one is audited and raises
        ``BlockedError``). A newer index generation is picked up on the way."""
        text = clean_question(question, self.settings.server.max_question_chars)
        self.refresh()  # a newer index generation (an ingest elsewhere) is picked up
        scope = make_scope(caller.groups, doc_types, vendors)
        if k is not None and not 1 <= k <= 50:
            raise InputError("k must be between 1 and 50")
        guard = self.guard.check(text)
        if guard.blocked:
            self._record(caller, guard, mode=mode, cited=(), abstained=True, blocked=True)
            log.info("question refused by the PHI guard (%s)", ",".join(guard.kinds))
            raise BlockedError(guard)
        return guard, scope

    def _contracts_closed_to(self, caller: Caller, question: str) -> bool:
        """The question is about a vendor or its contract and the caller may read none."""
        index, scope = self.index, make_scope(caller.groups)
        key = (index.generation.gen_id, scope.groups)  # an id() could be reused after a reload
        known = self._vendor_names.get(key)
        if known is None:
            if len(self._vendor_names) > 64:
                self._vendor_names.clear()
            reads = restricted.reads_contracts(index, scope)
            names = [] if reads else restricted.named_vendors(index, scope)
            known = self._vendor_names[key] = (reads, names)
        reads, names = known
        if reads:
            return False
        return restricted.asks_about_contracts(question, names)

    def confirm_question(self, question: str, locator: str, caller: Caller) -> Confirmation:
        """A privacy officer's confirmation that the passage cited as ``locator`` answers
        ``question``: redacted by the PHI guard, written to the organisation's question file
        (where the index is shared, to the database, and every server takes it up within
        seconds), audited, and in effect for the next question (no re-ingest)."""
        allowed = set(self.settings.retrieval.confirm_groups)
        if not caller.groups & allowed:
            raise NotAllowedError(
                f"only members of {', '.join(sorted(allowed))} may confirm questions"
            )
        text = clean_question(question, self.settings.server.max_question_chars)
        locator = " ".join(locator.split())
        if not locator:
            raise InputError("the locator is empty")
        guard = self.guard.check(text)
        if guard.blocked:
            raise BlockedError(guard)
        hits = self.index.find_locator(locator, make_scope(caller.groups))
        if not hits:
            raise InputError(f"no passage you can read is cited as {locator!r}")
        path: Path | None = None
        if self.shared is not None:  # every server's, not this machine's question file
            added = self.shared.confirm(locator, guard.text)
        else:
            path = confirmed_file(self.settings)
            added = append_question(path, locator, guard.text)
        if added:
            with self._questions_lock:
                self.chain.retriever.add_question(locator, guard.text)
        log.info(
            "question confirmed user=%s surface=%s chunk=%s added=%s redacted=%s",
            caller.user,
            caller.surface,
            hits[0].chunk_id,
            added,
            ",".join(guard.kinds) or "-",
        )
        self._record(
            caller,
            guard,
            mode="question-confirmed",
            cited=(hits[0].chunk_id,),
            abstained=False,
            blocked=False,
        )
        return Confirmation(guard.text, locator, hits[0].chunk_id, added, path)

    def check_baas(self, caller: Caller, vendors: Sequence[str] = ()) -> list[Row]:
        """Every BAA ``caller`` may read (of ``vendors`` when given) against the rule's required
        contents and the organisation's terms; audited with the passages quoted. Raises
        ``NotAllowedError`` when the caller may read no BAA (or none of those vendors)."""
        if self._catalogs is None:
            self._catalogs = load_catalogs(self.settings)
        catalogs = self._catalogs
        scope = make_scope(caller.groups)
        contracts = readable_contracts(self.index.generation, scope, vendors, catalogs.organisation)
        rows = check_all(contracts, catalogs)
        asked = self.guard.check("baa check " + (", ".join(vendors) or "all readable BAAs"))
        cited = tuple(dict.fromkeys(cid for r in rows for cid in r.chunk_ids))
        log.info(
            "baa check user=%s surface=%s contracts=%d rows=%d",
            caller.user, caller.surface, len(contracts), len(rows),
        )  # fmt: skip
        self._record(caller, asked, mode="baa-check", cited=cited, abstained=False, blocked=False)
        return rows

    def coverage(self, caller: Caller) -> list[CoverageRow]:
        """Which policy sections ``caller`` may read address each Security Rule standard and
        implementation specification."""
        policies = readable_policies(self.index.generation, make_scope(caller.groups))
        if not policies:
            raise NotAllowedError("no policy you may read is indexed")
        specs = load_specifications(self.settings.checks.security_catalog)
        rows = check_coverage(specs, policies)
        asked = self.guard.check("security rule coverage")
        cited = tuple(dict.fromkeys(cid for r in rows for cid in r.chunk_ids))
        self._record(caller, asked, mode="coverage", cited=cited, abstained=False, blocked=False)
        return rows

    def add_document(
        self,
        caller: Caller,
        filename: str,
        data: bytes,
        doc_type: str,
        groups: Sequence[str],
        progress: Callable[[str], None] = lambda _: None,
    ) -> DocumentChange:
        """A policy or BAA added (or replaced) by the privacy office; searched from the next
        question on. ``NotAllowedError`` for anyone else, ``DocumentError`` for a bad file."""
        return doc_changes.add(self, caller, filename, data, doc_type, groups, progress)

    def retire_document(
        self, caller: Caller, doc_id: str, progress: Callable[[str], None] = lambda _: None
    ) -> DocumentChange:
        return doc_changes.retire(self, caller, doc_id, progress)

    def may_manage_documents(self, caller: Caller) -> bool:
        return doc_changes.may_manage(self.settings, caller.groups)

    def reload(self) -> None:
        """Answer from the index's live generation (after an ingest, by this process or
        another): the new chain is built aside and swapped in whole, so a question is answered
        from the old index or the new one, never a mix."""
        with self._reload_lock:
            self._swap_chain()

    def _swap_chain(self) -> None:
        from assistant.runtime.build import build_chain
        from assistant.runtime.stores import open_index

        index = open_index(self.settings, self.index.embedder)
        model = getattr(self.chain.answerer, "model", None)
        self.chain = build_chain(self.settings, index, model)
        self._confirmed_seen = 0  # read them all again: one may have come while it was built
        log.info("index reloaded: generation %s", index.generation.gen_id)

    def refresh(self) -> bool:
        """Starts a reload in the background when an ingest made another generation live;
        questions meanwhile use the current one. True when one was started. Called before
        every question: the pointer file is read only when it changed since it last matched
        (an ingest replaces it by a rename), and one reload runs at a time."""
        if self.shared is not None:
            return self._follow_shared()
        path = self.settings.paths.index_dir / CURRENT
        try:
            st = path.stat()
        except OSError:
            return False
        stamp = (st.st_ino, st.st_mtime_ns)
        if stamp == self._pointer_seen:
            return False
        live = (IndexState(self.settings.paths.index_dir).current_pointer() or {}).get("generation")
        if not live or live == self.index.generation.gen_id:
            self._pointer_seen = stamp
            return False
        return self._reload_in_background(self._swap_chain)

    def _reload_in_background(self, reload: Callable[[], None]) -> bool:
        """Runs ``reload`` on a thread unless one is under way; True when it started."""
        if not self._reload_lock.acquire(blocking=False):
            return False  # a reload is under way

        def run() -> None:
            try:
                reload()
            except Exception:
                log.exception("reloading the index failed; still answering from the old one")
            finally:
                self._reload_lock.release()

        threading.Thread(target=run, name="index-reload", daemon=True).start()
        return True

    def _follow_shared(self) -> bool:
        """``refresh`` when the index is shared: the database names the live generation (read
        every few seconds); another one is copied into the data folder and loaded in the
        background."""
        assert self.shared is not None
        shared = self.shared
        try:
            live = shared.live()
        except Exception:
            log.exception("cannot read the live index generation; answering from this one")
            return False
        self._take_confirmed(shared)
        if live is None or live == self.index.generation.gen_id:
            return False

        def follow() -> None:
            index_dir, adapters = self.settings.paths.index_dir, self.settings.paths.data_dir
            shared.follow(IndexState(index_dir), adapters / "adapters")
            self._swap_chain()

        return self._reload_in_background(follow)

    def _take_confirmed(self, shared: SharedGenerations) -> None:
        """Adds the questions confirmed on any server since the last look (read with ``live``,
        every few seconds) to this server's question index."""
        if not self.settings.retrieval.corpus_questions:
            return
        if not shared.recheck_due("confirmed"):
            return
        try:
            new = shared.confirmed(self._confirmed_seen)
        except Exception:
            log.exception("cannot read the confirmed questions; trying again shortly")
            return
        with self._questions_lock:
            for seq, locator, question in new:
                self.chain.retriever.add_question(locator, question)
                self._confirmed_seen = max(self._confirmed_seen, seq)

    def record_event(self, caller: Caller, what: str, *, mode: str) -> None:
        """An audited action other than a question (a document added or retired)."""
        self._record(
            caller, self.guard.check(what), mode=mode, cited=(), abstained=False, blocked=False
        )

    def _record(
        self,
        caller: Caller,
        guard: GuardResult,
        *,
        mode: str,
        cited: tuple[str, ...],
        abstained: bool,
        blocked: bool,
    ) -> None:
        if self.audit is None:
            return
        self.audit.record(
            AuditEvent(
                user=caller.user,
                groups=tuple(sorted(caller.groups)),
                surface=caller.surface,
                redacted_question=guard.text,
                redacted_kinds=guard.kinds,
                mode=mode,
                cited_chunk_ids=cited,
                abstained=abstained,
                blocked=blocked,
            )
        )

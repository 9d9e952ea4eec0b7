"""The ingest run: discover -> parse (or reuse) -> supersede -> embed (cached) -> write a new
generation -> switch. Incremental, idempotent, and never half-updated.

``run_ingest`` is its steps in order, each testable alone: ``plan_run`` (what the previous
generation offers), ``load_files``, ``removed_files``, ``is_noop``, ``commit`` (which ends with
``clean_up``)."""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.documents import Chunk
from core.embeddings import Embedder
from core.errors import AssistantError, DocumentError, ModelMismatchError
from core.index.embed_cache import EmbeddingCache
from core.index.shared import shares_index
from core.index.state import DocEntry, Generation, IndexState
from core.index.vector_store import VectorStore
from core.settings import Settings
from ingest.loaders import CORPUS_SUFFIXES, PARSER_VERSION, SourceFile, load, read_bytes
from ingest.official import fetched_records, load_manifest

log = logging.getLogger(__name__)


@dataclass
class FileOutcome:
    key: str
    name: str
    status: str  # added | updated | unchanged | failed | removed | skipped
    chunks: int = 0
    reason: str = ""


@dataclass
class IngestReport:
    outcomes: list[FileOutcome] = field(default_factory=list)
    generation: str = ""
    noop: bool = False
    documents: int = 0
    chunks: int = 0
    embedded: int = 0
    embed_seconds: float = 0.0
    seconds: float = 0.0

    @property
    def failed(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


def fingerprint(settings: Settings) -> str:
    raw = f"{PARSER_VERSION}|{settings.chunking.max_words}|{settings.chunking.min_words}"
    raw += f"|{','.join(settings.default_access_groups)}"
    raw += f"|{','.join(settings.restricted_access_groups)}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def discover(settings: Settings) -> tuple[list[SourceFile], list[FileOutcome]]:
    """Files to ingest, plus outcomes for files deliberately left out (with the reason)."""
    files: list[SourceFile] = []
    skipped: list[FileOutcome] = []
    for root in settings.paths.corpus_dirs:
        if not root.exists():
            skipped.append(
                FileOutcome(f"corpus:{root}", root.name, "failed", 0, "corpus folder not found")
            )
            continue
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            rel = path.relative_to(root).as_posix()
            if any(part.startswith(".") for part in Path(rel).parts):
                continue
            if path.name.endswith(".meta.yaml"):
                continue
            if any(fnmatch.fnmatch(rel, pat) for pat in settings.paths.corpus_exclude):
                continue
            if rel == settings.checks.terms_file:
                continue  # the organisation's BAA terms: read by `baa check`, not indexed
            if path.suffix.lower() not in CORPUS_SUFFIXES:
                skipped.append(
                    FileOutcome(
                        f"corpus:{path}", rel, "failed", 0, f"unsupported file type '{path.suffix}'"
                    )
                )
                continue
            files.append(SourceFile(path, "corpus"))
    records = fetched_records(settings.paths.sources_dir)
    for src in load_manifest(settings.paths.sources_manifest):
        rec = records.get(src.id)
        path = settings.paths.sources_dir / src.filename
        if not src.enabled:
            if rec:
                skipped.append(
                    FileOutcome(f"official:{src.id}", src.filename, "skipped", 0, src.why)
                )
            continue
        if rec and path.exists():
            files.append(SourceFile(path, "official", src))
    return files, skipped


def _file_digest(file: SourceFile, data: bytes) -> str:
    h = hashlib.sha256(data)
    side = file.path.with_name(file.path.name + ".meta.yaml")
    if side.exists():
        h.update(side.read_bytes())
    return h.hexdigest()


def _display(file: SourceFile, settings: Settings) -> str:
    if file.official:
        return file.official.filename
    for root in settings.paths.corpus_dirs:
        try:
            return file.path.relative_to(root).as_posix()
        except ValueError:
            continue
    return file.path.name


def _chunk_metadata(chunk: Chunk, entry: DocEntry) -> dict[str, Any]:
    doc = entry.document
    meta: dict[str, Any] = {
        "doc_id": doc.doc_id,
        "doc_type": doc.doc_type,
        "locator": chunk.locator,
        "section": chunk.section,
        "page": chunk.page if chunk.page is not None else -1,
        "vendor": doc.vendor,
    }
    for group in doc.access_groups:
        meta[f"group_{group}"] = True
    return meta


@dataclass
class RunPlan:
    """What the previous generation offers this run: its documents and chunks are reused only
    when they were built with the same parser and settings (``fingerprint``)."""

    fingerprint: str
    previous: Generation | None
    reuse: bool  # the previous generation's work can be reused
    docs: dict[str, DocEntry]  # file key -> previous entry (empty when nothing is reused)
    chunks: dict[str, Chunk]  # chunk id -> previous chunk


@dataclass
class LoadedFiles:
    entries: list[DocEntry] = field(default_factory=list)
    chunks_by_doc: dict[str, list[Chunk]] = field(default_factory=dict)
    seen_ids: dict[str, str] = field(default_factory=dict)  # doc id -> the file that has it


def run_ingest(
    settings: Settings,
    embedder: Embedder,
    store_factory: Any,
    *,
    rebuild: bool = False,
    progress: bool | None = None,
) -> IngestReport:
    """Bring the index in line with the sources. ``store_factory()`` opens the vector store only
    when there is work for it (a no-op run never touches it)."""
    started = time.perf_counter()
    state = IndexState(settings.paths.index_dir)
    report = IngestReport()
    with state.lock():
        plan = plan_run(state.load(), fingerprint(settings), embedder.model_id, rebuild)
        files, skipped = discover(settings)
        report.outcomes.extend(skipped)
        show = sys.stderr.isatty() if progress is None else progress
        loaded = load_files(files, plan, settings, report, show)
        report.outcomes.extend(removed_files(files, plan))
        priority = {f.official.id: f.official.supersedes_priority for f in files if f.official}
        live = _apply_supersedence(loaded.entries, loaded.chunks_by_doc, priority)
        report.documents = len(loaded.entries)
        report.chunks = len(live)
        if is_noop(plan, report, loaded.entries, embedder.model_id):
            assert plan.previous is not None
            report.noop = True
            report.generation = plan.previous.gen_id
        else:
            vectors = _embed_all(settings, embedder, live, report, show)
            report.generation = commit(
                settings, state, store_factory(), embedder, plan, loaded, live, vectors
            )
        report.seconds = time.perf_counter() - started
        return report


def plan_run(previous: Generation | None, fp: str, model_id: str, rebuild: bool) -> RunPlan:
    """Refuses to mix embedding models (unless rebuilding) and says what can be reused."""
    if previous and previous.embedding_model != model_id and not rebuild:
        raise ModelMismatchError(
            f"the index was built with embedding model '{previous.embedding_model}', but "
            f"'{model_id}' is configured; run `hipaa-assistant ingest --rebuild` "
            "to re-embed everything with the new model"
        )
    reuse = previous is not None and not rebuild and previous.fingerprint == fp
    return RunPlan(
        fingerprint=fp,
        previous=previous,
        reuse=reuse,
        docs={d.key: d for d in previous.documents} if previous and reuse else {},
        chunks={c.chunk_id: c for c in previous.chunks} if previous and reuse else {},
    )


def load_files(
    files: list[SourceFile], plan: RunPlan, settings: Settings, report: IngestReport, show: bool
) -> LoadedFiles:
    """Each file parsed, or its previous entry reused when its bytes did not change. A file that
    fails keeps its last good version (marked so) rather than dropping out of the index."""
    from tqdm import tqdm

    loaded = LoadedFiles()
    bar = tqdm(total=len(files), desc="reading", unit="file", disable=not show, leave=False)
    for file in files:
        bar.update(1)
        name = _display(file, settings)
        old = plan.docs.get(file.key)
        try:
            entry, chunks, status = _load_one(file, old, plan, settings)
            doc_id = entry.document.doc_id
            if doc_id in loaded.seen_ids:
                raise DocumentError(
                    f"document id '{doc_id}' is already used by {loaded.seen_ids[doc_id]}"
                )
            loaded.seen_ids[doc_id] = name
        except (DocumentError, AssistantError) as exc:
            reason = str(exc)
            if old is not None and old.document.doc_id not in loaded.seen_ids:
                _keep_previous(old, reason, plan, loaded, name)
                reason += " (previous version still indexed)"
            report.outcomes.append(FileOutcome(file.key, name, "failed", 0, reason))
            log.info("ingest: %s failed: %s", name, reason)
            continue
        except Exception as exc:  # an unexpected parser bug must not sink the whole run
            log.exception("ingest: unexpected error on %s", name)
            report.outcomes.append(
                FileOutcome(file.key, name, "failed", 0, f"internal error ({type(exc).__name__})")
            )
            continue
        loaded.entries.append(entry)
        loaded.chunks_by_doc[entry.document.doc_id] = chunks
        report.outcomes.append(FileOutcome(file.key, name, status, len(chunks)))
    bar.close()
    return loaded


def _load_one(
    file: SourceFile, old: DocEntry | None, plan: RunPlan, settings: Settings
) -> tuple[DocEntry, list[Chunk], str]:
    """(entry, chunks, status): reused when the file's bytes match its last good version."""
    data = read_bytes(file.path, settings.ingest.max_file_mb << 20)
    digest = _file_digest(file, data)
    if old is not None and old.file_sha256 == digest and old.status != "failed-kept-previous":
        entry = DocEntry(
            key=file.key,
            document=old.document,
            file_sha256=digest,
            fingerprint=plan.fingerprint,
            chunk_ids=list(old.chunk_ids),
        )
        return entry, [plan.chunks[i] for i in old.chunk_ids if i in plan.chunks], "unchanged"
    parsed = load(file, data, settings)
    entry = DocEntry(
        key=file.key,
        document=parsed.document,
        file_sha256=digest,
        fingerprint=plan.fingerprint,
        chunk_ids=[c.chunk_id for c in parsed.chunks],
    )
    return entry, parsed.chunks, "updated" if old is not None else "added"


def _keep_previous(
    old: DocEntry, reason: str, plan: RunPlan, loaded: LoadedFiles, name: str
) -> None:
    kept = DocEntry.from_json(old.to_json())
    kept.status, kept.note = "failed-kept-previous", f"last good version kept: {reason}"
    loaded.entries.append(kept)
    loaded.chunks_by_doc[kept.document.doc_id] = [
        plan.chunks[i] for i in old.chunk_ids if i in plan.chunks
    ]
    loaded.seen_ids[kept.document.doc_id] = name


def removed_files(files: list[SourceFile], plan: RunPlan) -> list[FileOutcome]:
    """Files the previous generation indexed that are gone now."""
    current = {f.key for f in files}
    return [
        FileOutcome(key, Path(old.document.path).name, "removed", 0)
        for key, old in plan.docs.items()
        if key not in current
    ]


def is_noop(plan: RunPlan, report: IngestReport, entries: list[DocEntry], model_id: str) -> bool:
    """Nothing added, changed or removed, the same model, and the same failures kept: the
    previous generation stands as it is."""
    previous = plan.previous
    if previous is None or not plan.reuse or previous.embedding_model != model_id:
        return False
    if any(o.status in ("added", "updated", "removed") for o in report.outcomes):
        return False
    kept_now = any(e.status == "failed-kept-previous" for e in entries)
    kept_before = any(d.status == "failed-kept-previous" for d in previous.documents)
    return kept_now == kept_before


def commit(
    settings: Settings,
    state: IndexState,
    store: VectorStore,
    embedder: Embedder,
    plan: RunPlan,
    loaded: LoadedFiles,
    live: list[Chunk],
    vectors: np.ndarray,
) -> str:
    """Writes a new generation (its collection, then its files), switches to it, then clears
    everything older. Returns the new generation's id."""
    gen_id = state.new_gen_id()
    collection = f"{settings.chroma.collection_prefix}_{gen_id}"
    dimension = int(vectors.shape[1]) if len(live) else 0
    store.create(
        collection,
        {
            "embedding_model": embedder.model_id,
            "dimension": dimension or embedder.dimension,
            "generation": gen_id,
        },
    )
    entries, chunks_by_doc = loaded.entries, loaded.chunks_by_doc
    doc_of = {c.chunk_id: e for e in entries for c in chunks_by_doc[e.document.doc_id]}
    if live:
        store.add(
            collection,
            [c.chunk_id for c in live],
            vectors,
            [_chunk_metadata(c, doc_of[c.chunk_id]) for c in live],
            [c.text for c in live],
        )
    state.write(
        Generation(
            gen_id=gen_id,
            collection=collection,
            embedding_model=embedder.model_id,
            dimension=dimension,
            created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            fingerprint=plan.fingerprint,
            documents=entries,
            chunks=[c for e in entries for c in chunks_by_doc[e.document.doc_id]],
        )
    )
    keep = {collection}
    if shares_index(settings) and plan.previous is not None:
        # servers on other machines answer from the previous generation until they switch
        keep.add(plan.previous.collection)
    clean_up(settings, state, store, keep=keep, gen_id=gen_id)
    return gen_id


def clean_up(
    settings: Settings, state: IndexState, store: VectorStore, *, keep: set[str], gen_id: str
) -> None:
    """The new generation is live; every older collection but ``keep`` and every older
    generation folder can go."""
    for name in store.names(settings.chroma.collection_prefix + "_"):
        if name not in keep:
            store.drop(name)
    state.sweep(keep=gen_id)


def _apply_supersedence(
    entries: list[DocEntry], chunks_by_doc: dict[str, list[Chunk]], priority: dict[str, int]
) -> list[Chunk]:
    """When two rule sources hold the same section, the newer (higher priority) one wins.
    ``priority``: official source id -> its manifest priority (corpus documents count 0)."""
    holder: dict[str, tuple[int, str]] = {}
    for e in entries:
        if e.document.doc_type != "rule":
            continue
        p = priority.get(e.document.doc_id, 0)
        for c in chunks_by_doc[e.document.doc_id]:
            best = holder.get(c.section)
            if best is None or p > best[0]:
                holder[c.section] = (p, e.document.doc_id)
    live: list[Chunk] = []
    for e in entries:
        doc_id = e.document.doc_id
        dropped_sections: set[str] = set()
        by: set[str] = set()
        e.superseded_ids = []
        for c in chunks_by_doc[doc_id]:
            owner = holder.get(c.section) if e.document.doc_type == "rule" else None
            if owner is not None and owner[1] != doc_id:
                dropped_sections.add(c.section)
                by.add(owner[1])
                e.superseded_ids.append(c.chunk_id)
                continue
            live.append(c)
        e.superseded_sections = len(dropped_sections)
        e.superseded_by = sorted(by)
        if dropped_sections and e.status == "indexed":
            e.note = (
                f"{len(dropped_sections)} sections superseded by the newer text in "
                f"{', '.join(sorted(by))}"
            )
    return live


def _embed_all(
    settings: Settings,
    embedder: Embedder,
    chunks: list[Chunk],
    report: IngestReport,
    show: bool,
) -> np.ndarray:
    cache = EmbeddingCache(settings.paths.data_dir / "embedding-cache.sqlite")
    try:
        keys = [c.content_hash for c in chunks]
        have = cache.get_many(embedder.model_id, keys)
        missing = [(k, c.embed_text) for k, c in zip(keys, chunks, strict=True) if k not in have]
        missing = list({k: t for k, t in missing}.items())
        if missing:
            from tqdm import tqdm

            t0 = time.perf_counter()
            batch = max(1, settings.embedding.batch_size) * 4
            # Similar lengths batch together (less padding); the cache makes a killed run resumable.
            missing.sort(key=lambda kv: len(kv[1]))
            bar = tqdm(total=len(missing), desc="embedding", unit="chunk", disable=not show)
            for i in range(0, len(missing), batch):
                part = missing[i : i + batch]
                vecs = embedder.embed([t for _, t in part])
                fresh = {k: v for (k, _), v in zip(part, vecs, strict=True)}
                cache.put_many(embedder.model_id, fresh)
                have.update(fresh)
                bar.update(len(part))
            bar.close()
            report.embedded = len(missing)
            report.embed_seconds = time.perf_counter() - t0
        if not chunks:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([have[k] for k in keys]).astype(np.float32)
    finally:
        cache.close()

"""Index generations on disk: each ingest writes a complete new generation, then one atomic
rename of ``CURRENT.json`` makes it live. A crash before that rename leaves the previous
generation whole and answering; leftovers are swept by the next ingest."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.documents import Chunk, SourceDocument
from core.errors import IndexBusyError

CURRENT = "CURRENT.json"
GENERATION_FILES = ("chunks.jsonl", "documents.json")  # a generation's folder, whole


@dataclass
class DocEntry:
    """What the index holds of one source file."""

    key: str
    document: SourceDocument
    file_sha256: str
    fingerprint: str
    chunk_ids: list[str]
    status: str = "indexed"  # indexed | superseded | failed-kept-previous
    note: str = ""
    superseded_sections: int = 0
    superseded_by: list[str] = field(default_factory=list)
    superseded_ids: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "document": self.document.to_json(),
            "file_sha256": self.file_sha256,
            "fingerprint": self.fingerprint,
            "chunk_ids": self.chunk_ids,
            "status": self.status,
            "note": self.note,
            "superseded_sections": self.superseded_sections,
            "superseded_by": self.superseded_by,
            "superseded_ids": self.superseded_ids,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DocEntry:
        data = dict(data)
        data["document"] = SourceDocument.from_json(data["document"])
        return cls(**data)


@dataclass
class Generation:
    gen_id: str
    collection: str
    embedding_model: str
    dimension: int
    created: str
    fingerprint: str
    documents: list[DocEntry]
    chunks: list[Chunk]


def _fsync_write(path: Path, data: str | bytes) -> None:
    """Writes ``path`` whole or not at all (a temporary file, synced, then renamed)."""
    tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
    with tmp.open("wb") as fh:
        fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class IndexState:
    def __init__(self, index_dir: Path) -> None:
        self.dir = index_dir
        self.gens = index_dir / "generations"

    def new_gen_id(self) -> str:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        return f"g{stamp}{secrets.token_hex(3)}"

    def current_pointer(self) -> dict[str, Any] | None:
        path = self.dir / CURRENT
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None
        return data if isinstance(data, dict) else None

    def load(self) -> Generation | None:
        ptr = self.current_pointer()
        if ptr is None:
            return None
        gdir = self.gens / ptr["generation"]
        docs = json.loads((gdir / "documents.json").read_text(encoding="utf-8"))
        chunks = []
        with (gdir / "chunks.jsonl").open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    chunks.append(Chunk.from_json(json.loads(line)))
        return Generation(
            gen_id=ptr["generation"],
            collection=ptr["collection"],
            embedding_model=ptr["embedding_model"],
            dimension=int(ptr.get("dimension", 0)),
            created=ptr.get("created", ""),
            fingerprint=ptr.get("fingerprint", ""),
            documents=[DocEntry.from_json(d) for d in docs],
            chunks=chunks,
        )

    def write(self, gen: Generation) -> None:
        """Write the generation's files, then switch ``CURRENT`` to it (atomic rename)."""
        gdir = self.gens / gen.gen_id
        gdir.mkdir(parents=True, exist_ok=True)
        lines = "".join(json.dumps(c.to_json(), ensure_ascii=False) + "\n" for c in gen.chunks)
        _fsync_write(gdir / "chunks.jsonl", lines)
        _fsync_write(
            gdir / "documents.json",
            json.dumps([d.to_json() for d in gen.documents], ensure_ascii=False, indent=1),
        )
        self.switch(
            {
                "generation": gen.gen_id,
                "collection": gen.collection,
                "embedding_model": gen.embedding_model,
                "dimension": gen.dimension,
                "created": gen.created,
                "fingerprint": gen.fingerprint,
                "chunks": len(gen.chunks),
            }
        )

    def put_file(self, path: Path, content: bytes) -> None:
        """Writes a file of a generation (or its adapter) whole, or not at all."""
        path.parent.mkdir(parents=True, exist_ok=True)
        _fsync_write(path, content)

    def switch(self, pointer: dict[str, Any]) -> None:
        """Makes the generation ``pointer`` names current (its files are already written)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        _fsync_write(self.dir / CURRENT, json.dumps(pointer, indent=1))
        dfd = os.open(str(self.dir), os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)

    def sweep(self, keep: str | None) -> list[str]:
        """Remove generation folders other than ``keep``, and the temporary files of writes that
        a killed run left (under the ingest lock no other write is under way); returns the
        removed generations' ids."""
        for stale in self.dir.glob("*.tmp-*"):
            stale.unlink(missing_ok=True)
        removed = []
        if self.gens.exists():
            for gdir in self.gens.iterdir():
                if gdir.name != keep:
                    shutil.rmtree(gdir, ignore_errors=True)
                    removed.append(gdir.name)
        return removed

    @contextmanager
    def lock(self) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True)
        fh = (self.dir / ".lock").open("w")
        try:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise IndexBusyError("another ingest is running on this data directory") from exc
            yield
        finally:
            fh.close()

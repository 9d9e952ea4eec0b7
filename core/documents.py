"""Core types shared by ingest, the index and the assistant."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any, Literal

DocType = Literal["rule", "guidance", "policy", "baa"]
DOC_TYPES: tuple[str, ...] = ("rule", "guidance", "policy", "baa")


@dataclass(frozen=True)
class DocTypeNames:
    """How readers see one kind of document, in each place it is named."""

    passage: str  # beside one cited passage (the side panel)
    group: str  # leading an answer's quotes of that kind
    switch: str  # the chat's source switch ("Search ...")


DOC_TYPE_NAMES: dict[str, DocTypeNames] = {
    "rule": DocTypeNames("HIPAA rule", "HIPAA rule", "HIPAA rules (45 CFR 160/164)"),
    "guidance": DocTypeNames("HHS/NIST guidance", "HHS / NIST guidance", "HHS / NIST guidance"),
    "policy": DocTypeNames("Your policies", "Your policies", "your policies"),
    "baa": DocTypeNames(
        "Business associate agreement",
        "Your business associate agreements",
        "business associate agreements",
    ),
}


@dataclass(frozen=True)
class SourceDocument:
    """One source file as indexed: identity, provenance and who may read it."""

    doc_id: str
    doc_type: DocType
    title: str
    path: str
    sha256: str
    version: str = ""
    as_of: str = ""
    owner: str = ""
    vendor: str = ""
    url: str = ""
    access_groups: tuple[str, ...] = ("staff",)
    implements: tuple[str, ...] = ()
    fmt: str = ""
    inferred: tuple[str, ...] = ()  # fields not in its metadata: "type", "vendor", "access"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["access_groups"] = list(self.access_groups)
        data["implements"] = list(self.implements)
        data["inferred"] = list(self.inferred)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SourceDocument:
        data = dict(data)
        data["access_groups"] = tuple(data.get("access_groups", ()))
        data["implements"] = tuple(data.get("implements", ()))
        data["inferred"] = tuple(data.get("inferred", ()))
        return cls(**data)


@dataclass(frozen=True)
class Span:
    """A finer locator inside a chunk: ``text[start:end]`` is that paragraph."""

    locator: str
    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    """A passage of one document, cut where the document's own structure cuts it."""

    chunk_id: str
    doc_id: str
    locator: str
    text: str
    heading_path: tuple[str, ...] = ()
    page: int | None = None
    page_end: int | None = None
    spans: tuple[Span, ...] = ()
    section: str = ""

    @property
    def embed_text(self) -> str:
        """What the embedder and lexical index see: heading path first, then the passage."""
        head = " > ".join(self.heading_path)
        return f"{head}\n{self.text}" if head else self.text

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.embed_text.encode("utf-8")).hexdigest()

    def locator_at(self, offset: int) -> str:
        """The most specific locator whose paragraph holds ``offset`` of ``text``."""
        best = self.locator
        best_len = len(self.text) + 1
        for span in self.spans:
            if span.start <= offset < span.end and span.end - span.start < best_len:
                best, best_len = span.locator, span.end - span.start
        return best

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["heading_path"] = list(self.heading_path)
        data["spans"] = [asdict(s) for s in self.spans]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Chunk:
        data = dict(data)
        data["heading_path"] = tuple(data.get("heading_path", ()))
        data["spans"] = tuple(Span(**s) for s in data.get("spans", ()))
        return cls(**data)


def make_chunk_id(doc_id: str, locator: str, seq: int = 0) -> str:
    """A stable id from document and locator (``seq`` separates parts of one long paragraph)."""
    raw = f"{doc_id}\x1f{locator}\x1f{seq}"
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()[:20]

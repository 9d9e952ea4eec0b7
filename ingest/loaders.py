"""From a file to a located, chunked document: pick the parser by origin and format."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.documents import Chunk, SourceDocument
from core.errors import DocumentError
from core.settings import Settings
from ingest.clean_text import normalise
from ingest.docx_doc import read_docx
from ingest.ecfr import parse_ecfr_xml
from ingest.html_doc import read_html
from ingest.markdown_doc import decode_text, markdown_blocks, parse_front_matter
from ingest.metadata import build_document, locator_prefix, pdf_embedded_meta, sidecar_meta
from ingest.numbered import Block, Paragraph, build_tree
from ingest.numbered_pdf import parse_numbered_pdf, parse_paged_pdf
from ingest.official import OfficialSource
from ingest.pdf_text import PdfText, read_pdf
from ingest.regulation_pdf import parse_regulation_pdf
from ingest.tree import Node, chunk_tree

# Bump when parsing or chunking changes, so unchanged files are re-parsed once.
PARSER_VERSION = "13"
CORPUS_SUFFIXES = {".md", ".markdown", ".txt", ".pdf", ".docx", ".docm", ".html", ".htm"}
MAX_FILE_BYTES = 32 * 1024 * 1024  # the default of settings.ingest.max_file_mb


@dataclass(frozen=True)
class SourceFile:
    path: Path
    origin: str  # "corpus" | "official"
    official: OfficialSource | None = None

    @property
    def key(self) -> str:
        """Identity of the file across runs (the official id, or the corpus path)."""
        return f"official:{self.official.id}" if self.official else f"corpus:{self.path}"


@dataclass
class Loaded:
    document: SourceDocument
    chunks: list[Chunk]


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_bytes(path: Path, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The file's bytes, or ``DocumentError`` when it is empty, too big (``max_bytes``: see
    ``settings.ingest.max_file_mb``) or unreadable."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DocumentError(f"cannot read file ({exc.strerror or type(exc).__name__})") from exc
    if size == 0:
        raise DocumentError("empty file (0 bytes)")
    if size > max_bytes:
        raise DocumentError(
            f"file is too large: {size / (1024 * 1024):.0f} MB (limit {max_bytes >> 20} MB)"
        )
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"cannot read file ({exc.strerror or type(exc).__name__})") from exc


def load(file: SourceFile, data: bytes, settings: Settings) -> Loaded:
    """Parse one file. Raises ``DocumentError`` with a one-line reason when it cannot."""
    digest = sha256_bytes(data)
    if file.official is not None:
        doc, roots = _load_official(file, data, digest, settings)
    else:
        doc, roots = _load_corpus(file, data, digest, settings)
    _normalise_text(roots)
    chunks = chunk_tree(
        doc.doc_id,
        roots,
        max_words=settings.chunking.max_words,
        min_words=settings.chunking.min_words,
        path=(_context_title(doc),) if doc.doc_type != "rule" else (),
        prefer_children=doc.doc_type in ("policy", "baa"),
    )
    if not chunks:
        raise DocumentError("no text found to index")
    return Loaded(doc, chunks)


def _context_title(doc: SourceDocument) -> str:
    """What leads every passage's heading path: the title, with the party a contract is with
    when its title does not name it ("HIPAA Business Associate Addendum - Juniper Outreach"), so
    that every clause, not only the one that happens to spell the name, is known by it."""
    if doc.vendor and doc.vendor.lower() not in doc.title.lower():
        return f"{doc.title} - {doc.vendor}"
    return doc.title


def _normalise_text(roots: list[Node]) -> None:
    for root in roots:
        for node in root.walk():
            node.locator, node.label = normalise(node.locator), normalise(node.label)
            for para in node.paras:
                para.text = normalise(para.text)


def _load_corpus(
    file: SourceFile, data: bytes, digest: str, settings: Settings
) -> tuple[SourceDocument, list[Node]]:
    suffix = file.path.suffix.lower()
    side = sidecar_meta(file.path)
    groups = settings.default_access_groups
    if suffix == ".pdf":
        pdf = _read_pdf(data, settings)
        meta = {**pdf_embedded_meta(pdf.info), **side}
        doc = build_document(
            meta,
            path=file.path,
            sha256=digest,
            fmt="pdf",
            default_groups=groups,
            restricted_groups=settings.restricted_access_groups,
            opening=" ".join(pdf.pages[:2]),
        )
        return doc, parse_numbered_pdf(pdf, locator_prefix(doc))
    if suffix in (".md", ".markdown", ".txt"):
        front, body = parse_front_matter(decode_text(data))
        title, blocks = markdown_blocks(body)
        return _structured(file, digest, "markdown", {**front, **side}, title, blocks, settings)
    if suffix in (".docx", ".docm"):
        word = read_docx(data, settings.ingest.max_unpacked_mb << 20)
        return _structured(
            file, digest, "docx", {**word.meta, **side}, word.title, word.blocks, settings
        )
    if suffix in (".html", ".htm"):
        title, blocks, html_meta = read_html(data)
        return _structured(file, digest, "html", {**html_meta, **side}, title, blocks, settings)
    raise DocumentError(f"unsupported file type '{suffix or file.path.name}'")


def _structured(
    file: SourceFile,
    digest: str,
    fmt: str,
    meta: dict[str, Any],
    title: str,
    blocks: list[Block],
    settings: Settings,
) -> tuple[SourceDocument, list[Node]]:
    """A document read as headings and paragraphs (Markdown, Word, HTML) -> its located tree."""
    first = [b.text for b in blocks[:40] if isinstance(b, Paragraph)][:15]
    doc = build_document(
        meta,
        path=file.path,
        sha256=digest,
        fmt=fmt,
        default_groups=settings.default_access_groups,
        fallback_title=_strip_id(title, str(meta.get("id", ""))),
        restricted_groups=settings.restricted_access_groups,
        opening="\n".join([title, *first]),
    )
    return doc, build_tree(blocks, locator_prefix(doc))


def _read_pdf(data: bytes, settings: Settings) -> PdfText:
    limits = settings.ingest
    return read_pdf(
        data, max_content_bytes=limits.max_pdf_content_mb << 20, seconds=limits.pdf_seconds
    )


def _strip_id(title: str, doc_id: str) -> str:
    return title[len(doc_id) :].strip() if doc_id and title.startswith(doc_id) else title


def _load_official(
    file: SourceFile, data: bytes, digest: str, settings: Settings
) -> tuple[SourceDocument, list[Node]]:
    src = file.official
    assert src is not None
    meta = {
        "id": src.id,
        "title": src.title,
        "type": src.doc_type,
        "as_of": src.as_of,
        "url": src.url,
        "owner": src.publisher,
        "access_groups": ["public"],
    }
    doc = build_document(meta, path=file.path, sha256=digest, fmt=src.format, default_groups=[])
    if src.format == "ecfr-xml":
        return doc, parse_ecfr_xml(data)
    pdf = _read_pdf(data, settings)
    if src.format == "regulation-pdf":
        roots = parse_regulation_pdf(pdf)
        if src.include_parts:
            roots = [n for n in roots if _part(n.locator) in src.include_parts]
        return doc, roots
    return doc, parse_paged_pdf(pdf, src.short or src.id)


_PART = re.compile(r"45 CFR (\d{3})\.")


def _part(locator: str) -> str:
    m = _PART.match(locator)
    return m.group(1) if m else ""

"""Text out of PDFs with pypdf: pages, running headers and footers removed, lines rejoined."""

from __future__ import annotations

import io
import logging
import re
import time
from collections import Counter
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from core.errors import DocumentError

log = logging.getLogger(__name__)

MAX_PAGES = 3000
MAX_CHARS_PER_PAGE = 200_000
MAX_CONTENT_BYTES = 16 * 1024 * 1024  # settings.ingest.max_pdf_content_mb
MAX_SECONDS = 60.0  # settings.ingest.pdf_seconds
# A real page's content stream is at most some 100 KB (the official PDFs: 81 KB); pypdf extracts
# text at roughly 0.3 MB/s, so one page may not keep it busy for long.
MAX_PAGE_CONTENT_BYTES = 2 * 1024 * 1024
_TOC_LEADER = re.compile(r"\.{5,}")


@dataclass
class Line:
    text: str
    page: int  # 1-based


@dataclass
class PdfText:
    pages: list[str]
    info: dict[str, str]


def read_pdf(
    data: bytes,
    *,
    max_content_bytes: int = MAX_CONTENT_BYTES,
    seconds: float = MAX_SECONDS,
) -> PdfText:
    """Extract each page's text. Raises ``DocumentError`` with a one-line reason on bad input.

    Bounded work on hostile files: no stream is decompressed beyond ``max_content_bytes``, the
    page content of all pages together may not expand beyond it either (a small file can hold a
    compression bomb, or one stream shared by thousands of pages), nor one page's beyond
    ``MAX_PAGE_CONTENT_BYTES``, and extraction stops after ``seconds``."""
    if not data:
        raise DocumentError("empty file")
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise DocumentError("not a PDF (no %PDF header)")
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    limit_mb = max(1, max_content_bytes >> 20)
    try:
        with _pypdf_limits(max_content_bytes):
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                try:
                    opened = bool(reader.decrypt(""))  # only an empty user password is tried
                except Exception:
                    opened = False
                if not opened:
                    raise DocumentError("encrypted PDF (password required)")
            n = len(reader.pages)
            if n == 0:
                raise DocumentError("PDF has no pages")
            if n > MAX_PAGES:
                raise DocumentError(f"PDF has {n} pages (limit {MAX_PAGES})")
            total = 0
            per_page = min(MAX_PAGE_CONTENT_BYTES, max_content_bytes)
            for number, page in enumerate(reader.pages, start=1):
                size = _content_bytes(page)
                if size > per_page:
                    raise DocumentError(
                        f"PDF page {number} content expands to {size / (1 << 20):.1f} MB "
                        f"(limit {per_page / (1 << 20):g} MB per page; possible compression bomb)"
                    )
                total += size
                if total > max_content_bytes:
                    raise DocumentError(
                        f"PDF page content expands beyond {limit_mb} MB by page {number} "
                        "(possible compression bomb)"
                    )
            deadline = time.monotonic() + seconds

            def check_time(*_: Any) -> None:
                if time.monotonic() > deadline:
                    raise _TooSlow

            pages = []
            for page in reader.pages:
                text = page.extract_text(visitor_operand_before=check_time) or ""
                pages.append(text[:MAX_CHARS_PER_PAGE])
                check_time()
            info = _info(reader.metadata)
    except DocumentError:
        raise
    except _TooSlow as exc:
        raise DocumentError(
            f"PDF text extraction took longer than {seconds:g} s (limit); the file is too "
            "complex or hostile"
        ) from exc
    except FileNotDecryptedError as exc:
        raise DocumentError("encrypted PDF (password required)") from exc
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        if _is_limit(exc):
            raise DocumentError(
                f"PDF stream expands beyond {limit_mb} MB (possible compression bomb)"
            ) from exc
        raise DocumentError(f"corrupt or truncated PDF ({type(exc).__name__})") from exc
    except RecursionError as exc:
        raise DocumentError("corrupt PDF (objects nested too deeply)") from exc
    except MemoryError as exc:
        raise DocumentError(
            "PDF expands beyond the memory limit (possible compression bomb)"
        ) from exc
    except Exception as exc:
        if _is_limit(exc):
            raise DocumentError(
                f"PDF stream expands beyond {limit_mb} MB (possible compression bomb)"
            ) from exc
        log.debug("pdf read failed", exc_info=True)
        raise DocumentError(f"unreadable PDF ({type(exc).__name__})") from exc
    if sum(len(p.strip()) for p in pages) < 20:
        raise DocumentError("PDF has no text layer (scanned image?); OCR it first")
    return PdfText(pages=pages, info=info)


class _TooSlow(Exception):
    """Raised from inside pypdf's extraction loop when the time budget is spent."""


def _is_limit(exc: BaseException) -> bool:
    """pypdf's "a decompression or parsing limit was reached" error (by name: its module moved)."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if type(cur).__name__ == "LimitReachedError":
            return True
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return False


def _pypdf_limits(max_bytes: int) -> AbstractContextManager[Any]:
    """Cap every decompression at ``max_bytes`` (pypdf's own default is 75 MB per stream)."""
    try:
        from pypdf import apply_configuration
    except ImportError:  # pypdf < 7: only its fixed module-level caps apply
        return nullcontext()
    caps = {
        "maximum_declared_stream_length": max_bytes,
        "array_based_stream_maximum_output_length": max_bytes,
        "jbig2_maximum_output_length": max_bytes,
        "lzw_maximum_output_length": max_bytes,
        "run_length_maximum_output_length": max_bytes,
        "zlib_maximum_output_length": max_bytes,
        "brotli_maximum_output_length": max_bytes,
        "image_maximum_buffer_size": max_bytes,
        "stream_decoding_work_maximum_length": 4 * max_bytes,
    }
    from pypdf import get_configuration

    base = get_configuration()
    return apply_configuration(
        base.with_overwrites(**{k: v for k, v in caps.items() if hasattr(base, k)})
    )


def _content_bytes(page: Any) -> int:
    """Decompressed size of a page's content streams (each decompression capped by pypdf)."""
    contents = page.get("/Contents")
    if contents is None:
        return 0
    contents = contents.get_object()
    items = contents if isinstance(contents, list) else [contents]
    total = 0
    for item in items:
        obj = item.get_object()
        get_data = getattr(obj, "get_data", None)
        if get_data is not None:
            total += len(get_data())
    return total


def _info(meta: Any) -> dict[str, str]:
    if not meta:
        return {}
    out: dict[str, str] = {}
    for key, value in dict(meta).items():
        try:
            out[str(key).lstrip("/")] = str(value)
        except Exception:  # a malformed info entry must not fail the document
            continue
    return out


def _norm(line: str) -> str:
    return re.sub(r"\d+", "#", line.strip().lower())


def page_lines(pdf: PdfText, *, skip_toc: bool = True) -> list[Line]:
    """All lines in reading order with page numbers, minus running headers/footers and TOC pages."""
    raw = [p.split("\n") for p in pdf.pages]
    edge: Counter[str] = Counter()
    for lines in raw:
        stripped = [ln for ln in lines if ln.strip()]
        for ln in set(stripped[:3] + stripped[-3:]):
            edge[_norm(ln)] += 1
    threshold = max(2, int(len(raw) * 0.5))
    running = {k for k, v in edge.items() if v >= threshold and k}
    out: list[Line] = []
    for number, lines in enumerate(raw, start=1):
        if skip_toc and sum(1 for ln in lines if _TOC_LEADER.search(ln)) >= 5:
            continue
        stripped = [ln for ln in lines if ln.strip()]
        edges = set(stripped[:3] + stripped[-3:])
        for ln in lines:
            if not ln.strip():
                continue
            if ln in edges and _norm(ln) in running:
                continue
            out.append(Line(ln, number))
    return out


def rejoin(lines: list[Line]) -> list[Line]:
    """Join words broken across lines. Where pypdf marks real word ends with a trailing space
    (most lines of a document end with one), a line without it continues into the next unless
    that one starts with a space; elsewhere only a hyphen at a line end joins."""
    spaced = sum(1 for ln in lines if ln.text[-1:].isspace()) > 0.5 * max(1, len(lines))
    out: list[Line] = []
    pending: Line | None = None
    for ln in lines:
        if pending is None:
            pending = Line(ln.text, ln.page)
            continue
        prev = pending.text
        broken = spaced or prev.endswith("-")
        if broken and prev and not prev[-1].isspace() and ln.text and not ln.text[0].isspace():
            if len(prev) > 2 and prev[-1] == "-" and prev[-2].islower() and ln.text[0].islower():
                prev = prev[:-1] + SOFT_HYPHEN  # decided later by resolve_soft_hyphens
            pending = Line(prev + ln.text, pending.page)
        else:
            out.append(pending)
            pending = Line(ln.text, ln.page)
    if pending is not None:
        out.append(pending)
    return out


SOFT_HYPHEN = "\u00ad"
_SOFT = re.compile(r"([A-Za-z]+)\u00ad([A-Za-z]+)")
_WORDS = re.compile(r"[A-Za-z]+")


def vocabulary(texts: list[str]) -> set[str]:
    return {w.lower() for t in texts for w in _WORDS.findall(t.replace(SOFT_HYPHEN, "-"))}


def resolve_soft_hyphens(text: str, vocab: set[str]) -> str:
    """A hyphen at a line break: ``imple-mentation`` -> ``implementation`` when that word occurs
    elsewhere in the document; otherwise a real compound (``de-identified``) keeps its hyphen."""

    def repl(m: re.Match[str]) -> str:
        joined = m.group(1) + m.group(2)
        return joined if joined.lower() in vocab else f"{m.group(1)}-{m.group(2)}"

    return _SOFT.sub(repl, text)


def clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()

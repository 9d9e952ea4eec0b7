"""Text out of PDFs with pypdf: pages, running headers and footers removed, lines rejoined."""

from __future__ import annotations

import io
import logging
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from assistant.errors import DocumentError

log = logging.getLogger(__name__)

MAX_PAGES = 3000
MAX_CHARS_PER_PAGE = 200_000
_TOC_LEADER = re.compile(r"\.{5,}")


@dataclass
class Line:
    text: str
    page: int  # 1-based


@dataclass
class PdfText:
    pages: list[str]
    info: dict[str, str]


def read_pdf(data: bytes) -> PdfText:
    """Extract each page's text. Raises ``DocumentError`` with a one-line reason on bad input."""
    if not data:
        raise DocumentError("empty file")
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise DocumentError("not a PDF (no %PDF header)")
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    try:
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
        pages = []
        for page in reader.pages:
            text = page.extract_text() or ""
            pages.append(text[:MAX_CHARS_PER_PAGE])
        info = _info(reader.metadata)
    except DocumentError:
        raise
    except FileNotDecryptedError as exc:
        raise DocumentError("encrypted PDF (password required)") from exc
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise DocumentError(f"corrupt or truncated PDF ({type(exc).__name__})") from exc
    except MemoryError as exc:
        raise DocumentError(
            "PDF expands beyond the memory limit (possible compression bomb)"
        ) from exc
    except Exception as exc:
        log.debug("pdf read failed", exc_info=True)
        raise DocumentError(f"unreadable PDF ({type(exc).__name__})") from exc
    if sum(len(p.strip()) for p in pages) < 20:
        raise DocumentError("PDF has no text layer (scanned image?); OCR it first")
    return PdfText(pages=pages, info=info)


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

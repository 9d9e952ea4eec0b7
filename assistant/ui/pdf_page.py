"""A cited PDF page as the side panel shows it: rendered to an image the panel's width, with the
quoted sentence marked. Found by its letters and digits, so line breaks, hyphens and spacing in
the PDF do not hide it; a quote not on the page leaves the page unmarked."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SCALE = 1.6  # ~980 px for a US Letter page: sharp in a panel, ~200 KB
MARK = (255, 221, 0, 90)
EDGE = (230, 160, 0, 255)


@dataclass(frozen=True)
class PageImage:
    path: Path
    marked: bool  # the quote was found and marked


def _find(chars: list[str], quote: str) -> tuple[int, int] | None:
    """First and last character index of ``quote`` in the page's characters, comparing
    letters and digits only; the whole quote, else its first twelve words."""
    kept = [(i, ch.lower()) for i, ch in enumerate(chars) if ch.isalnum()]
    hay = "".join(ch for _, ch in kept)
    words = quote.split()
    for attempt in (quote, " ".join(words[:12])):
        needle = "".join(ch.lower() for ch in attempt if ch.isalnum())
        if len(needle) < 12:
            continue
        at = hay.find(needle)
        if at >= 0:
            return kept[at][0], kept[at + len(needle) - 1][0]
    return None


def render_page(
    pdf: Path, page_no: int, quote: str | Sequence[str], cache: Path, sha256: str
) -> PageImage | None:
    """PNG of page ``page_no`` (1-based) with ``quote`` marked (each of them, for several), cached
    by file, page and quotes. ``None`` when the page cannot be rendered."""
    quotes = (quote,) if isinstance(quote, str) else tuple(quote)
    key = hashlib.sha256(f"{sha256}|{page_no}|{chr(31).join(quotes)}".encode()).hexdigest()[:24]
    out = cache / f"{key}.png"
    marked_flag = cache / f"{key}.marked"
    if out.exists():
        return PageImage(out, marked_flag.exists())
    try:
        import pypdfium2 as pdfium
        import pypdfium2.raw as raw
        from PIL import Image, ImageDraw

        doc = pdfium.PdfDocument(str(pdf))
        try:
            if not 1 <= page_no <= len(doc):
                return None
            page = doc[page_no - 1]
            text = page.get_textpage()
            chars = [chr(raw.FPDFText_GetUnicode(text.raw, i)) for i in range(text.count_chars())]
            spans = [f for f in (_find(chars, q) for q in quotes) if f is not None]
            image = page.render(scale=SCALE).to_pil().convert("RGBA")
            overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
            draw = ImageDraw.Draw(overlay)
            height = page.get_height()
            for first, last in spans:
                for i in range(text.count_rects(first, last - first + 1)):
                    left, bottom, right, top = text.get_rect(i)
                    box = [
                        left * SCALE - 2,
                        (height - top) * SCALE - 2,
                        right * SCALE + 2,
                        (height - bottom) * SCALE + 2,
                    ]
                    draw.rectangle(box, fill=MARK, outline=EDGE)
            if spans:
                image = Image.alpha_composite(image, overlay)
        finally:
            doc.close()
        cache.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".part")
        image.convert("RGB").save(tmp, format="PNG", optimize=True)
        tmp.replace(out)
        if spans:
            marked_flag.touch()
        return PageImage(out, bool(spans))
    except Exception:
        log.warning("could not render page %d of a PDF", page_no, exc_info=True)
        return None

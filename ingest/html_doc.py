"""Policies and contracts saved as web pages (.html): headings from ``<h2>``-``<h6>``, paragraphs
and list items in reading order (ordered lists keep their numbers and letters), tables as readable
rows; scripts, styles and navigation left out; metadata from ``<meta name=... content=...>``."""

from __future__ import annotations

from typing import Any

from ingest.markdown_doc import decode_text
from ingest.numbered import Block, Paragraph, classify_heading, with_run_in_headings
from ingest.tables import table_lines
from ingest.word_numbering import format_number

_DROP = ("script", "style", "noscript", "template", "nav", "svg", "form", "button", "iframe")
_BLOCKS = ("p", "li", "dd", "dt", "blockquote", "pre", "address", "caption")
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_OL_FORMATS = {"a": "lowerLetter", "A": "upperLetter", "i": "lowerRoman", "I": "upperRoman"}
_META_KEYS = {
    "id",
    "title",
    "type",
    "owner",
    "effective",
    "version",
    "vendor",
    "counterparty",
    "access_groups",
    "implements",
}


def read_html(data: bytes) -> tuple[str, list[Block], dict[str, Any]]:
    """(title, blocks, metadata) of an HTML document; ``DocumentError`` when it holds no text."""
    text = decode_text(data)  # refuses binary data with a reason
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "html.parser")
    meta: dict[str, Any] = {}
    for tag in soup.find_all("meta"):
        name = str(tag.get("name") or "").strip().lower().replace("-", "_")
        content = str(tag.get("content") or "").strip()
        if name in _META_KEYS and content:
            meta[name] = content
    head_title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup.find_all(_DROP):
        tag.decompose()
    walker = _HtmlWalker()
    walker.walk(soup.body or soup)
    title = walker.title or head_title
    return title, with_run_in_headings(walker.blocks), meta


class _HtmlWalker:
    def __init__(self) -> None:
        self.title = ""
        self.blocks: list[Block] = []

    def walk(self, element: Any) -> None:
        for child in getattr(element, "children", ()):
            name = getattr(child, "name", None)
            if name is None:
                text = " ".join(str(child).split())
                if text and getattr(element, "name", "") in ("body", "[document]", "section"):
                    self.blocks.append(Paragraph(text))
                continue
            if name in _HEADINGS:
                text = child.get_text(" ", strip=True)
                if not text:
                    continue
                if name == "h1" and not self.title:
                    self.title = text
                else:
                    self.blocks.append(classify_heading(text, _HEADINGS[name]))
            elif name == "table":
                self._table(child)
            elif name == "ol":
                self._list(child, ordered=True)
            elif name == "ul":
                self._list(child, ordered=False)
            elif name in _BLOCKS:
                self._block(child)
            else:
                self.walk(child)

    def _block(self, element: Any, label: str = "") -> None:
        nested = element.find_all(["ol", "ul", "table", "p"], recursive=False)
        if not nested:
            text = element.get_text(" ", strip=True)
            if text:
                self.blocks.append(Paragraph(f"{label} {text}".strip()))
            return
        # text before the nested parts is this block's own paragraph
        own: list[str] = []
        for child in element.children:
            if getattr(child, "name", None) in ("ol", "ul", "table", "p"):
                break
            own.append(
                child.get_text(" ", strip=True) if hasattr(child, "get_text") else str(child)
            )
        text = " ".join(" ".join(own).split())
        if text or label:
            self.blocks.append(Paragraph(f"{label} {text}".strip()))
        seen_own = False
        for child in element.children:
            name = getattr(child, "name", None)
            if name in ("ol", "ul", "table", "p"):
                seen_own = True
            if not seen_own:
                continue
            if name == "ol":
                self._list(child, ordered=True)
            elif name == "ul":
                self._list(child, ordered=False)
            elif name == "table":
                self._table(child)
            elif name == "p":
                self._block(child)

    def _table(self, table: Any) -> None:
        rows = [
            [c.get_text(" ", strip=True) for c in tr.find_all(["td", "th"], recursive=False)]
            for tr in table.find_all("tr")
        ]
        self.blocks.extend(Paragraph(line) for line in table_lines([r for r in rows if any(r)]))

    def _list(self, element: Any, ordered: bool) -> None:
        fmt = _OL_FORMATS.get(str(element.get("type") or "1"), "decimal")
        try:
            n = int(element.get("start") or 1)
        except ValueError:
            n = 1
        for li in element.find_all("li", recursive=False):
            label = ""
            if ordered:
                mark = format_number(n, fmt)
                label = f"({mark})" if fmt != "decimal" else f"{mark}."
                n += 1
            # "(a)" items become lettered parts of their section; "1." items stay paragraphs
            self._block(li, label)

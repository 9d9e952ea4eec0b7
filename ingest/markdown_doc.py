"""Markdown policies and contracts with YAML front matter."""

from __future__ import annotations

import codecs
import re
from typing import Any

from core.errors import DocumentError
from ingest.clean_text import normalise
from ingest.metadata import load_meta_yaml
from ingest.numbered import (
    Block,
    Heading,
    Paragraph,
    classify_heading,
    lead_in_heading,
    with_run_in_headings,
)
from ingest.tables import pipe_rows, table_lines

_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n", re.S)
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t#]*$")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)]|\((?:[a-z]{1,2}|[ivxlc]{1,6}|\d{1,2})\))\s+")
_INLINE = re.compile(r"(\*\*|__|`)")
# inline HTML a published Markdown document may carry (<span class="...">Provider</span>, <br>)
_HTML_TAG = re.compile(
    r"</?(?:span|a|b|i|u|s|em|strong|mark|small|sub|sup|font|abbr|cite|br|wbr)\b[^<>]*/?>", re.I
)  # formatting only: any other tag-like text is the document's own words
_HTML_ENTITY = re.compile(r"&(?:nbsp|amp|lt|gt|quot|#39|#x27);")
_ENTITIES = {"&nbsp;": " ", "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'"}
_ENTITIES["&#x27;"] = "'"


def plain(text: str) -> str:
    """Markdown inline markup and inline HTML gone, the text ``normalise``d."""
    text = normalise(_HTML_TAG.sub("", text))
    text = _HTML_ENTITY.sub(lambda m: _ENTITIES[m.group(0)], text)
    return _INLINE.sub("", text)


_TEXT_CONTROLS = bytes(b for b in range(32) if b not in (9, 10, 12, 13))
_STRAY_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def decode_text(data: bytes) -> str:
    """Bytes -> text; refuses binary data. Accepts UTF-8 (with or without BOM), UTF-16 or UTF-32
    (with a BOM, or UTF-16 without one when it is plainly so) and Windows-1252."""
    if not data.strip():
        raise DocumentError("empty file")
    wide = _wide_encoding(data)
    if wide is not None:
        try:
            text = data.decode(wide)
        except UnicodeDecodeError as exc:
            raise DocumentError(f"text looks like {wide.upper()} but does not decode") from exc
        text = text.removeprefix("\ufeff")
        if not text.strip():
            raise DocumentError("empty file")
        if "\x00" in text:
            raise DocumentError("binary data, not text (NUL characters)")
        return _STRAY_CONTROLS.sub(" ", text)
    if b"\x00" in data:
        raise DocumentError("binary data, not text (NUL bytes)")
    controls = len(data) - len(data.translate(None, _TEXT_CONTROLS))
    if controls > len(data) * 0.05:
        raise DocumentError("binary data, not text (control characters)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise DocumentError(
                "text is neither UTF-8, UTF-16 nor Windows-1252 (save it as UTF-8)"
            ) from exc
    if not text.strip():  # only spaces that are not ASCII (b"\xa0" is a no-break space)
        raise DocumentError("empty file")
    return _STRAY_CONTROLS.sub(" ", text) if controls else text


def _wide_encoding(data: bytes) -> str | None:
    """'utf-32' / 'utf-16' (BOM) or 'utf-16-le' / 'utf-16-be' (no BOM, but every other byte of
    the start is NUL, as in ASCII-range text), else None."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = data[:4096]
    if len(sample) < 8 or len(data) % 2:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) >= 0.9 * len(odd) and even.count(0) <= 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) >= 0.9 * len(even) and odd.count(0) <= 0.1 * len(odd):
        return "utf-16-be"
    return None


def parse_front_matter(text: str) -> tuple[dict[str, Any], str]:
    m = _FRONT.match(text)
    if not m:
        return {}, text
    return load_meta_yaml(m.group(1), "front matter"), text[m.end() :]


_ORDERED = re.compile(r"^(\s*)(\d{1,3})[.)]\s+(.*)$")
_BOLD_LEAD = re.compile(r"^\*\*(.+?)\*\*\s*(.*)$")


def _has_numbered_headings(body: str) -> bool:
    headings = [m for m in map(_HEADING.match, body.splitlines()) if m and len(m.group(1)) > 1]
    return any(classify_heading(plain(m.group(2))).number for m in headings)


def _numbered_by_lists(body: str) -> bool:
    """A document numbered by nested ordered lists ("1. ... / 1. ..." as many published contracts
    are) rather than by headings (the caller has found none): its top level is an ordered list
    of at least three items."""
    top = [m for m in map(_ORDERED.match, body.splitlines()) if m and not m.group(1)]
    return len(top) >= 3


class _ListNumbers:
    """Section numbers of nested ordered-list items: ``1.`` under ``2.`` is ``2.1``."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, int]] = []  # (indent, number at that depth)

    def item(self, indent: int, written: int) -> str:
        while self.stack and self.stack[-1][0] > indent:
            self.stack.pop()
        if self.stack and self.stack[-1][0] == indent:
            previous = self.stack.pop()[1]
            number = written if written not in (1, previous) else previous + 1
        else:
            number = written
        self.stack.append((indent, number))
        return ".".join(str(n) for _, n in self.stack)


def markdown_blocks(body: str) -> tuple[str, list[Block]]:
    """(title, blocks). The ``#`` line is the title; numbered headings become ``Heading``s, and
    so do the items of the nested ordered lists a document is numbered by (``2.1``), titled by
    their bold lead-in ("**Safeguards.** Provider will ...")."""
    title = ""
    blocks: list[Block] = []
    para: list[str] = []
    table: list[str] = []
    in_fence = False
    numbered_headings = _has_numbered_headings(body)
    by_lists = not numbered_headings and _numbered_by_lists(body)
    numbers = _ListNumbers() if by_lists else None
    # without any numbering, a paragraph's bold lead-in ("**Safeguards.** Provider will ...") is
    # its clause's heading, nested under the Markdown heading before it
    bold_leads = not numbered_headings and not by_lists

    def flush() -> None:
        if table:
            blocks.extend(Paragraph(plain(t)) for t in table_lines(pipe_rows(table)))
            table.clear()
        if para:
            text = " ".join(line.strip() for line in para)
            lead = _BOLD_LEAD.match(text) if bold_leads else None
            heading = lead_in_heading(plain(lead.group(1)), lead.group(2)) if lead else None
            if heading is not None and lead is not None:
                blocks.append(heading)
                text = lead.group(2)
            blocks.append(Paragraph(plain(text)))
            para.clear()

    for raw in body.splitlines():
        line = raw.rstrip()
        if line.strip().startswith("```"):
            in_fence = not in_fence
            continue
        m = None if in_fence else _HEADING.match(line)
        if m:
            flush()
            level, text = len(m.group(1)), plain(m.group(2)).strip()
            if level == 1 and not title:
                title = text
                continue
            blocks.append(classify_heading(text, level))
            continue
        if not in_fence and line.lstrip().startswith("|"):
            if para:
                flush()
            table.append(line)
            continue
        if table:
            flush()
        if numbers is not None and not in_fence and (item := _ORDERED.match(line)):
            flush()
            indent = len(item.group(1).expandtabs(4))
            number = numbers.item(indent, int(item.group(2)))
            text = item.group(3).strip()
            lead = _BOLD_LEAD.match(text)
            heading = plain(lead.group(1)).strip().rstrip(".:") if lead else ""
            blocks.append(Heading(number, heading))
            rest = lead.group(2) if lead else f"{number} {text}"  # an untitled clause: "2.3 ..."
            if rest.strip():
                para.append(rest)
            continue
        if not line.strip():
            flush()
        elif _BULLET.match(line) and para:
            flush()
            para.append(line)
        else:
            para.append(line)
    flush()
    return title, with_run_in_headings(blocks)

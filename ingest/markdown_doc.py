"""Markdown policies and contracts with YAML front matter."""

from __future__ import annotations

import re
from typing import Any

import yaml

from assistant.errors import DocumentError
from ingest.numbered import Block, Heading, Paragraph, split_numbered

_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n", re.S)
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t#]*$")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_INLINE = re.compile(r"(\*\*|__|`)")
_MAX_DEPTH = 6


def decode_text(data: bytes) -> str:
    """Bytes -> text; refuses binary data, accepts UTF-8 (with or without BOM) or Windows-1252."""
    if not data.strip():
        raise DocumentError("empty file")
    sample = data[:8192]
    if b"\x00" in sample:
        raise DocumentError("binary data, not text (NUL bytes)")
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 13, 12))
    if controls > len(sample) * 0.05:
        raise DocumentError("binary data, not text (control characters)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise DocumentError("text is neither UTF-8 nor Windows-1252") from exc


def parse_front_matter(text: str) -> tuple[dict[str, Any], str]:
    m = _FRONT.match(text)
    if not m:
        return {}, text
    try:
        meta = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as exc:
        raise DocumentError("front matter is not valid YAML") from exc
    if not isinstance(meta, dict):
        raise DocumentError("front matter is not a mapping of fields")
    return meta, text[m.end() :]


def markdown_blocks(body: str) -> tuple[str, list[Block]]:
    """(title, blocks). The ``#`` line is the title; numbered headings become ``Heading``s."""
    title = ""
    blocks: list[Block] = []
    para: list[str] = []
    in_fence = False

    def flush() -> None:
        if para:
            text = " ".join(line.strip() for line in para)
            blocks.append(Paragraph(_INLINE.sub("", text)))
            para.clear()

    for raw in body.splitlines():
        line = raw.rstrip()
        if line.strip().startswith("```"):
            in_fence = not in_fence
            continue
        m = None if in_fence else _HEADING.match(line)
        if m:
            flush()
            level, text = len(m.group(1)), _INLINE.sub("", m.group(2)).strip()
            if level == 1 and not title:
                title = text
                continue
            numbered = split_numbered(text) if level <= _MAX_DEPTH else None
            if numbered:
                blocks.append(Heading(numbered[0], numbered[1]))
            else:
                blocks.append(Heading("", text))
            continue
        if not line.strip():
            flush()
        elif _BULLET.match(line) and para:
            flush()
            para.append(line)
        else:
            para.append(line)
    flush()
    return title, blocks

"""Numbered-heading documents (policies, contracts) -> trees with ``AI-301 §3.2`` locators.

Both the Markdown and the contract-PDF parsers reduce a document to a flat list of blocks —
numbered headings and paragraphs — and this module nests them by their numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.tree import Node, Para

NUMBERED_HEADING = re.compile(
    r"^(?:Section\s+|§\s*)?(\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+(\S.{0,150})$"
)


@dataclass
class Heading:
    number: str  # "3.2"; "" for an unnumbered heading
    title: str
    page: int | None = None


@dataclass
class Paragraph:
    text: str
    page: int | None = None


Block = Heading | Paragraph


def split_numbered(text: str) -> tuple[str, str] | None:
    m = NUMBERED_HEADING.match(text.strip())
    if not m:
        return None
    return m.group(1), m.group(2).strip()


def build_tree(blocks: list[Block], prefix: str) -> list[Node]:
    """Nest blocks by heading number. Returns root nodes (the preamble first, if any)."""
    preamble = Node(locator=prefix, label="")
    roots: list[Node] = []
    by_number: dict[str, Node] = {}
    current: Node = preamble
    for block in blocks:
        if isinstance(block, Heading) and block.number:
            node = Node(
                locator=f"{prefix} §{block.number}",
                label=f"§{block.number} {block.title}".strip(),
                paras=[Para(f"{block.number} {block.title}".strip(), block.page)],
            )
            parent_number = block.number.rsplit(".", 1)[0] if "." in block.number else ""
            parent = by_number.get(parent_number) if parent_number else None
            if parent is not None:
                parent.children.append(node)
            else:
                roots.append(node)
            by_number[block.number] = node
            current = node
        elif isinstance(block, Heading):
            if block.title:
                current.paras.append(Para(block.title, block.page))
        elif block.text.strip():
            current.paras.append(Para(block.text.strip(), block.page))
    if preamble.paras:
        roots.insert(0, preamble)
    return roots

"""Policies and contracts in PDF: numbered headings (``4.3 Breach notice``) give locators."""

from __future__ import annotations

import re

from ingest.numbered import Block, Heading, Paragraph, build_tree, split_numbered
from ingest.pdf_text import PdfText, clean, page_lines, rejoin, resolve_soft_hyphens, vocabulary
from ingest.tree import Node

_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+")


def _successors(last: str) -> set[str]:
    if not last:
        return {"1", "1.1"}
    parts = [int(p) for p in last.split(".")]
    out = {".".join(map(str, [*parts, 1]))}
    for i in range(len(parts)):
        nxt = [*parts[:i], parts[i] + 1]
        out.add(".".join(map(str, nxt)))
        out.add(".".join(map(str, [*nxt, 1])))
    return out


def numbered_pdf_blocks(pdf: PdfText) -> list[Block]:
    lines = rejoin(page_lines(pdf, skip_toc=True))
    vocab = vocabulary([ln.text for ln in lines])
    blocks: list[Block] = []
    para: list[str] = []
    para_page = 0
    last = ""

    def flush() -> None:
        nonlocal para
        if para:
            blocks.append(Paragraph(resolve_soft_hyphens(clean(" ".join(para)), vocab), para_page))
            para = []

    for ln in lines:
        text = ln.text.strip()
        numbered = split_numbered(text)
        if (
            numbered
            and numbered[0] in _successors(last)
            and len(numbered[1].split()) <= 16
            and numbered[1][:1].isupper()  # "5 business days of discovery..." is body text
            and not text.endswith((",", ";", "."))
        ):
            flush()
            last = numbered[0]
            blocks.append(Heading(numbered[0], numbered[1], ln.page))
            continue
        if _BULLET.match(text) and para:
            flush()
        if not para:
            para_page = ln.page
        para.append(text)
    flush()
    return blocks


def parse_numbered_pdf(pdf: PdfText, prefix: str) -> list[Node]:
    return build_tree(numbered_pdf_blocks(pdf), prefix)


def parse_paged_pdf(pdf: PdfText, prefix: str) -> list[Node]:
    """Guidance documents: one node per page, cited as ``<short title>, p. N``."""
    from ingest.tree import Para

    lines = rejoin(page_lines(pdf, skip_toc=True))
    vocab = vocabulary([ln.text for ln in lines])
    by_page: dict[int, list[str]] = {}
    for ln in lines:
        by_page.setdefault(ln.page, []).append(ln.text.strip())
    nodes = []
    for page, texts in sorted(by_page.items()):
        text = resolve_soft_hyphens(clean(" ".join(texts)), vocab)
        if len(text.split()) < 5:
            continue
        nodes.append(
            Node(
                locator=f"{prefix}, p. {page}",
                label=f"{prefix} p. {page}",
                paras=[Para(text, page)],
            )
        )
    return nodes

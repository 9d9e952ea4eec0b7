"""Policies and contracts in PDF: numbered headings (``4.3 Breach notice``) give locators."""

from __future__ import annotations

import re

from ingest.numbered import (
    ARTICLE_HEADING,
    Block,
    Heading,
    Paragraph,
    article_value,
    build_tree,
    classify_heading,
    split_numbered,
    split_run_in,
    successors,
    with_run_in_headings,
)
from ingest.pdf_text import PdfText, clean, page_lines, rejoin, resolve_soft_hyphens, vocabulary
from ingest.tree import Node

_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)]|\((?:[a-z]{1,2}|[ivxlc]{1,6}|\d{1,2})\))\s+")
_RUN_IN_START = re.compile(r"^(?:Section|SECTION|§)\s*\d{1,2}(?:\.\d{1,2}){1,3}\.?\s+[A-Z]")


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
            and numbered[0] in successors(last)
            and len(numbered[1].split()) <= 16
            and numbered[1][:1].isupper()  # "5 business days of discovery..." is body text
            and not text.endswith((",", ";", "."))
        ):
            flush()
            last = numbered[0]
            blocks.append(Heading(numbered[0], numbered[1], ln.page))
            continue
        article = ARTICLE_HEADING.match(text)
        if article and text.upper() == text and len(text.split()) <= 16:
            flush()  # "ARTICLE IV - TERM AND TERMINATION"
            heading = classify_heading(text, page=ln.page)
            last = str(article_value(heading.number))
            blocks.append(heading)
            continue
        run_in = split_run_in(text) if _RUN_IN_START.match(text) else None
        if run_in is not None and run_in[0].number in successors(last):
            flush()  # "Section 4.2 Breach Notification. Business Associate shall ..."
            last = run_in[0].number
        elif _BULLET.match(text) and para:
            flush()
        if not para:
            para_page = ln.page
        para.append(text)
    flush()
    return with_run_in_headings(blocks)


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

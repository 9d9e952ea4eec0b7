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


_CLAUSE_END = re.compile(r"(?:[.:;]|\b(?:and|or))$")


def _ends_clause(line: str) -> bool:
    """Whether a list item may start after ``line``: a wrapped line ending mid-sentence ("...
    within six") continues onto the next, even when that starts like an item ("(6) months")."""
    return bool(_CLAUSE_END.search(line.rstrip()))


def _numbered_paragraph(rest: str, line: str, full_line: int) -> bool:
    """Whether a line opening with a section number starts a clause's text rather than a
    heading: it reads as a sentence (ends in punctuation, or has many words) or it runs the
    full width of the page without title-cased words."""
    words = rest.split()
    if line.endswith((",", ";", ".")) or len(words) > 16:
        return True
    long_words = [w for w in words if len(w) >= 4]
    title_cased = sum(w[0].isupper() for w in long_words) * 2 > len(long_words)
    return len(line) >= 0.85 * full_line and len(words) > 6 and not title_cased


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

    widths = sorted(len(ln.text.strip()) for ln in lines)
    full_line = widths[int(len(widths) * 0.9)] if widths else 0

    for ln in lines:
        text = ln.text.strip()
        numbered = split_numbered(text)
        if (
            numbered
            and "." in numbered[0]
            and numbered[0] in successors(last)
            and numbered[1][:1].isupper()
            and _numbered_paragraph(numbered[1], text, full_line)
        ):
            flush()  # "4.2.1 Vendor shall keep ...": a clause numbered in its first line
            last = numbered[0]
            blocks.append(Heading(numbered[0], "", ln.page))
            para_page = ln.page
            para.append(text)
            continue
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
        elif _BULLET.match(text) and para and (text[0] != "(" or _ends_clause(para[-1])):
            flush()  # "(b) ..." after "... ; and": not "(6) months" wrapped from "six"
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

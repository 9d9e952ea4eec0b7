"""Regulation text in PDF (e.g. the HHS combined HIPAA text): sections and paragraphs recovered
from the layout, with the page of every paragraph."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.errors import DocumentError
from ingest.designators import DesignatorStack, plain_leading_designators
from ingest.pdf_text import (
    Line,
    PdfText,
    clean,
    page_lines,
    rejoin,
    resolve_soft_hyphens,
    vocabulary,
)
from ingest.tree import Node, Para

_SECTION = re.compile(r"^\s*§\s*(\d{3}\.\d{3,4})\s{2,}(.*)$")
_NEW_PARA = re.compile(r"^\s*\((?:[0-9]{1,3}|[a-z]{1,5}|[A-Z]{1,2})\)")
_PARA_END = re.compile(r"([.:;]|;\s*(?:or|and)|\bor|\band)\s*$")
_PART_OR_SUBPART = re.compile(r"^\s*(PART\s+\d{3}|Subpart\s+[A-Z]\b|SUBPART\s+[A-Z]\b)")
# A term being defined, where a paragraph or sentence starts: "Act means ...", "ANSI stands for",
# "Business associate: (1) ...", "Health care component has the meaning ...". The PDF has lost
# the italics that mark terms in the official text, so the alphabetical order of a definitions
# section decides among candidates (see _definitions).
_TERM = re.compile(
    r"(?:^|(?<=[.;:]\s)|(?<=[.;:]\)\s))(?!(?:The|This|These|That|Such|Any|Each|An?|It|In|For|If)\b)"
    r"(?P<term>[A-Z][\w'’/-]*(?:\s+(?:\([A-Z]{2,}\)|[\w'’/-]+)){0,7}?)"
    r"(?::\s+(?=\(1\))|(?:\s+\((?:also see|as defined)(?:[^()]|\([^()]*\)){0,200}\))?"
    r"\s+(?:means|stands for|refers to|has the (?:same )?meaning|is defined|is|are|exists"
    r"|encompass(?:es)?)\b)"
)


@dataclass
class _RawSection:
    number: str
    title: str
    page: int
    paragraphs: list[Para] = field(default_factory=list)


def _sections(lines: list[Line]) -> list[_RawSection]:
    sections: list[_RawSection] = []
    current: _RawSection | None = None
    title_open = False
    buf: list[str] = []
    buf_page = 0

    def flush() -> None:
        nonlocal buf
        if current is not None and buf:
            current.paragraphs.append(Para(clean(" ".join(buf)), buf_page))
        buf = []

    for ln in lines:
        text = ln.text
        m = _SECTION.match(text)
        if m:
            flush()
            current = _RawSection(m.group(1), clean(m.group(2)), ln.page)
            sections.append(current)
            title_open = not current.title.endswith(".")
            continue
        if current is None:
            continue
        if _PART_OR_SUBPART.match(text) and not buf:
            continue
        if title_open:
            current.title = clean(f"{current.title} {text}")
            title_open = not current.title.endswith(".") and len(current.title) < 250
            continue
        starts = bool(_NEW_PARA.match(text))
        prev = " ".join(buf[-1:]).rstrip()
        if buf and starts and _PARA_END.search(prev):
            flush()
        if not buf:
            buf_page = ln.page
        buf.append(text.strip())
    flush()
    return sections


def parse_regulation_pdf(pdf: PdfText, *, title_prefix: str = "45 CFR") -> list[Node]:
    lines = rejoin(page_lines(pdf))
    raw = _sections(lines)
    vocab = vocabulary([ln.text for ln in lines])
    best: dict[str, _RawSection] = {}
    for sec in raw:
        words = sum(len(p.text.split()) for p in sec.paragraphs)
        have = best.get(sec.number)
        if words and (have is None or words > sum(len(p.text.split()) for p in have.paragraphs)):
            best[sec.number] = sec
    if not best:
        raise DocumentError("no regulation sections (§ NNN.NNN headings) found in the PDF")
    nodes = []
    for sec in sorted(best.values(), key=lambda s: (s.page, s.number)):
        for p in sec.paragraphs:
            p.text = resolve_soft_hyphens(p.text, vocab)
        nodes.append(_section_node(sec, title_prefix))
    return nodes


# The Federal Register source note printed after a section's last paragraph ("[65 FR 82798, Dec.
# 28, 2000, as amended at 67 FR 53266, Aug. 14, 2002]"): its history, not its text. Left in, it is
# read as the last sentence of the section's last definition or paragraph and quoted. The next
# subpart's heading and its AUTHORITY and SOURCE notes, when they run on after it, go with it.
_SOURCE_NOTE = re.compile(r"\s*\[\d+ FR \d[^\]]*\](?:\s+Subpart\s+[A-Z]\b.*)?\s*$")


def _without_source_notes(paragraphs: list[Para]) -> list[Para]:
    kept = []
    for para in paragraphs:
        text = _SOURCE_NOTE.sub("", para.text)
        if text.strip():
            kept.append(Para(text, para.page) if text != para.text else para)
    return kept


def _section_node(sec: _RawSection, prefix: str) -> Node:
    paragraphs = _without_source_notes(sec.paragraphs)
    base = f"{prefix} {sec.number}"
    title = sec.title.rstrip(".")
    node = Node(locator=base, label=f"§ {sec.number} {title}")
    if "definition" in title.lower():
        # Definitions carry their own (1), (i) ... inside each term: not paragraph designators.
        # Each term is a part of its own: 45 CFR 160.103 "Business associate".
        _definitions(node, paragraphs)
        return node
    stack = DesignatorStack()
    by_citation: dict[str, Node] = {}
    current = node
    parsed = [plain_leading_designators(p.text) for p in paragraphs]
    for i, para in enumerate(paragraphs):
        desigs, _owner = parsed[i]
        if not desigs:
            current.paras.append(para)
            continue
        lookahead = [d for later, _ in parsed[i + 1 : i + 40] for d in later[:1]]
        for j, d in enumerate(desigs):
            stack.push(d, lookahead if j == len(desigs) - 1 else desigs[j + 1 :] + lookahead)
            citation = stack.citation()
            if citation not in by_citation:
                parent = node
                for depth in range(stack.depth() - 1, 0, -1):
                    prefix_c = "".join(f"({v})" for _, v in stack.levels[:depth])
                    if prefix_c in by_citation:
                        parent = by_citation[prefix_c]
                        break
                child = Node(locator=f"{base}{citation}", label=f"{sec.number}{citation}")
                parent.children.append(child)
                by_citation[citation] = child
            current = by_citation[citation]
        current.paras.append(para)
    return node


def _definitions(node: Node, paragraphs: list[Para]) -> None:
    """Split a definitions section's text at its terms (one child node per term, in order); text
    before the first term stays the section's own. A candidate term counts only when it comes
    after the previous one in alphabetical order, as the definitions of a section do, so a
    sentence inside a definition that happens to read "X means" does not cut it."""
    current = node
    last = ""
    for para in paragraphs:
        text, start = para.text, 0
        for m in _TERM.finditer(text):
            term = m.group("term").strip()
            key = _sort_key(term)
            acronym = term.isupper()  # "HHS" sits among the H-words as "Health ..." does
            if not key or (key < last and not acronym):
                continue
            if m.start() > start:
                current.paras.append(Para(text[start : m.start()].strip(), para.page))
            current = Node(locator=f'{node.locator} "{term}"', label=term)
            node.children.append(current)
            last, start = (last if acronym else key), m.start()
        if text[start:].strip():
            current.paras.append(Para(text[start:].strip(), para.page))


def _sort_key(term: str) -> str:
    return re.sub(r"[^a-z0-9 ]", "", term.casefold())

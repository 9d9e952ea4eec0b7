"""Structured documents (policies, contracts) -> trees with locators as the document numbers them.

Every organisation-document parser (Markdown, contract PDF, Word, HTML) reduces a document to a
flat list of blocks — headings and paragraphs — and this module nests them:

- numbered headings ``4.2 Breach notice`` / ``Section 4.2`` -> ``AI-301 §4.2``, nested by number;
- article headings ``ARTICLE IV - TERM`` -> ``Acme BAA Art. IV``, holding sections ``4.x``;
- headings without a number (a bold line, ``## Remote work``) -> ``HR-03 "Remote work"``;
- lettered and numbered items opening a paragraph, ``(b)`` / ``(b)(ii)`` -> ``§4.2(b)(ii)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.tree import Node, Para

NUMBERED_HEADING = re.compile(
    r"^(?:Section\s+|SECTION\s+|§\s*)?(\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+(\S.{0,150})$"
)
ARTICLE_HEADING = re.compile(
    r"^(?:ARTICLE|Article)\s+([IVXLC]{1,7}|\d{1,2})\b\.?\s*(?:[-\u2013\u2014:.]\s*)?(.{0,150})$"
)
# "Section 4.2 Breach Notification. Business Associate shall ..." (a heading run into its text)
RUN_IN = re.compile(
    r"^(?:Section\s+|SECTION\s+|§\s*)?(\d{1,2}(?:\.\d{1,2}){1,3})\.?\s+"
    r"([A-Z][^.:;]{1,90}?)[.:]\s+(\S.*)$",
    re.S,
)
# "4.2.1 Vendor shall keep ..." (a clause numbered in its first words, untitled)
NUMBERED_CLAUSE = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){1,3})\.?\s+[A-Z(]")
# a definitions section, and a term defined in it: '"Provider" means Juniper Outreach LLC ...'
DEFINITIONS_TITLE = re.compile(r"\b(?:definitions|defined\s+terms)\b", re.I)
DEFINITION = re.compile(
    r'^["\u201c]([A-Z][^"\u201d]{0,60}?)["\u201d]\s+(?:means|shall\s+mean|has\s+the\s+meaning'
    r"|refers\s+to|includes)\b"
)
ITEM = re.compile(r"^\(([a-z]{1,2}|[ivxlc]{1,6}|\d{1,2})\)\s+")
_ROMAN = re.compile(r"^(?=[ivxlc])m{0,3}(c[md]|d?c{0,3})(x[cl]|l?x{0,3})(i[xv]|v?i{0,3})$")
_ROMAN_VALUES = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}


@dataclass
class Heading:
    number: str  # "3.2"; the article numeral ("IV") when ``article``; "" when unnumbered
    title: str
    page: int | None = None
    level: int | None = None  # the source's outline level (1 = top), when it has one
    article: bool = False


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


def classify_heading(text: str, level: int | None = None, page: int | None = None) -> Heading:
    """A heading line as the document shows it: an article, a numbered section, or a title."""
    text = text.strip()
    m = ARTICLE_HEADING.match(text)
    if m and (m.group(2) == "" or not m.group(2)[:1].islower()):
        return Heading(m.group(1).upper(), m.group(2).strip(" -\u2013\u2014:."), page, level, True)
    numbered = split_numbered(text)
    if numbered:
        return Heading(numbered[0], numbered[1].rstrip("."), page, level)
    return Heading("", text.rstrip(":"), page, level)


def split_run_in(text: str) -> tuple[Heading, str] | None:
    """``Section 4.2 Breach Notification. Business Associate shall ...`` -> the heading and the
    text after it; None when the paragraph does not open with a numbered, title-cased heading."""
    m = RUN_IN.match(text.strip())
    if not m:
        return None
    title = m.group(2).strip()
    words = title.split()
    long_words = [w for w in words if len(w) >= 4]
    if len(words) > 10 or not long_words:
        return None
    if sum(w[0].isupper() for w in long_words) < max(1, (len(long_words) + 1) // 2):
        return None  # "4.2 of this Agreement applies. ..." is a sentence, not a heading
    return Heading(m.group(1), title), m.group(3).strip()


LEAD_IN_LEVEL = 7  # below every heading level: a clause under the heading before it


def lead_in_heading(lead: str, rest: str) -> Heading | None:
    """A paragraph's bold lead-in (``Safeguards.`` in "**Safeguards.** Provider will ...") as
    its clause's heading: a few words ending in a full stop or colon, with text after them."""
    lead = lead.strip()
    if not rest.strip() or not lead.endswith((".", ":")) or not 1 <= len(lead.split()) <= 8:
        return None
    title = lead.rstrip(".:").strip().strip('"')
    return Heading("", title, level=LEAD_IN_LEVEL) if title else None


def roman_value(numeral: str) -> int:
    total = 0
    values = [_ROMAN_VALUES[c] for c in numeral.lower()]
    for i, v in enumerate(values):
        total += -v if i + 1 < len(values) and values[i + 1] > v else v
    return total


def article_value(number: str) -> int:
    return int(number) if number.isdigit() else roman_value(number)


def _item_kind(marker: str, open_items: dict[str, str]) -> str:
    """'digit', 'alpha' or 'roman'. ``(i)`` right after ``(h)`` is a letter; a numeral-shaped
    marker is a numeral when it opens a list (``(i)``) or continues one, or sits under a letter."""
    if marker.isdigit():
        return "digit"
    alpha = open_items.get("alpha")
    if alpha and len(alpha) == 1 and len(marker) == 1 and ord(marker) == ord(alpha) + 1:
        return "alpha"
    if _ROMAN.match(marker) and (marker == "i" or "roman" in open_items or alpha is not None):
        return "roman"
    return "alpha"


class _Builder:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.preamble = Node(locator=prefix, label="")
        self.roots: list[Node] = []
        self.by_number: dict[str, Node] = {}
        self.articles: dict[int, Node] = {}
        self.article: Node | None = None
        self.numbered: Node | None = None  # the innermost numbered section or article
        self.numbered_level: int | None = None
        self.titled: list[tuple[int | None, Node]] = []  # open unnumbered headings
        self.current: Node = self.preamble
        self.items: list[tuple[str, str, Node]] = []  # open items: (kind, marker, node)
        self.definitions: Node | None = None  # the open definitions section, if any

    def heading(self, block: Heading) -> None:
        self.items = []
        self.definitions = None
        if block.article:
            label = f"Article {block.number} {block.title}".strip()
            node = Node(f"{self.prefix} Art. {block.number}", label, [Para(label)])
            self.roots.append(node)
            self.articles[article_value(block.number)] = node
            self.article = node
            self.numbered, self.numbered_level, self.titled = node, block.level, []
        elif block.number:
            text = f"{block.number} {block.title}".strip()
            node = Node(
                f"{self.prefix} §{block.number}",
                f"§{text}",
                # a clause numbered in its text ("4.2.1 Vendor shall ...") has no heading line
                [Para(text, block.page)] if block.title else [],
            )
            parent_number = block.number.rsplit(".", 1)[0] if "." in block.number else ""
            parent: Node | None = self.by_number.get(parent_number) if parent_number else None
            if parent is None and self.article is not None:
                # "4.2" belongs to Article IV; an undotted "7" to the article it follows
                first = int(block.number.split(".")[0])
                dotted = self.articles.get(first) if "." in block.number else None
                parent = dotted or self.article
            if parent is not None:
                parent.children.append(node)
            else:
                self.roots.append(node)
            self.by_number[block.number] = node
            self.numbered, self.numbered_level, self.titled = node, block.level, []
        else:
            if not block.title:
                return
            while self.titled and _deeper_or_same(self.titled[-1][0], block.level):
                self.titled.pop()
            parent = self.titled[-1][1] if self.titled else None
            if (
                parent is None
                and self.numbered is not None
                and _below(block.level, self.numbered_level)
            ):
                parent = self.numbered
            base = parent.locator if parent is not None else self.prefix
            node = Node(f'{base} "{block.title}"', block.title, [Para(block.title, block.page)])
            (parent.children if parent is not None else self.roots).append(node)
            if parent is None:
                self.numbered, self.numbered_level = None, None
            self.titled.append((block.level, node))
        self.current = node
        if DEFINITIONS_TITLE.search(block.title):
            self.definitions = node

    def paragraph(self, block: Paragraph) -> None:
        text = block.text.strip()
        if not text:
            return
        m = ITEM.match(text)
        if m and self.current is not self.preamble:
            marker = m.group(1)
            kind = _item_kind(marker, {k: mk for k, mk, _ in self.items})
            if any(k == kind for k, _, _ in self.items):
                # a sibling of an open item: close the items nested below it, then it
                while self.items[-1][0] != kind:
                    self.items.pop()
                self.items.pop()
            parent = self.items[-1][2] if self.items else self.current
            node = Node(f"{parent.locator}({marker})", "", [Para(text, block.page)])
            # '(b) "Chart" means ...' in a definitions section: its own passage
            node.alone = self.definitions is not None and bool(DEFINITION.match(text[m.end() :]))
            parent.children.append(node)
            self.items.append((kind, marker, node))
            return
        term = DEFINITION.match(text) if self.definitions is not None else None
        if term and self.definitions is not None:
            # one located passage per defined term, as the rules' definitions are:
            # 'Juniper Outreach BAA "Definitions" "Provider"'
            name = term.group(1).strip()
            node = Node(
                f'{self.definitions.locator} "{name}"', name, [Para(text, block.page)], alone=True
            )
            self.definitions.children.append(node)
            self.current, self.items = node, []
            return
        target = self.items[-1][2] if self.items else self.current
        target.paras.append(Para(text, block.page))

    def result(self) -> list[Node]:
        return ([self.preamble] if self.preamble.paras else []) + self.roots


def _deeper_or_same(open_level: int | None, level: int | None) -> bool:
    if open_level is None or level is None:
        return True  # without levels, unnumbered headings are siblings
    return open_level >= level


def _below(level: int | None, numbered_level: int | None) -> bool:
    """An unnumbered heading goes under the numbered section before it unless it is at the same
    outline level or above (``## Appendix`` after ``## 4 Terms``)."""
    if level is None or numbered_level is None:
        return level is None
    return level > numbered_level


def successors(last: str) -> set[str]:
    """The section numbers that can follow ``last`` (``4.2`` -> 4.2.1, 4.3, 4.3.1, 5, 5.1)."""
    if not last:
        return {"1", "1.1"}
    parts = [int(p) for p in last.split(".")]
    out = {".".join(map(str, [*parts, 1]))}
    for i in range(len(parts)):
        nxt = [*parts[:i], parts[i] + 1]
        out.add(".".join(map(str, nxt)))
        out.add(".".join(map(str, [*nxt, 1])))
    return out


def with_run_in_headings(blocks: list[Block]) -> list[Block]:
    """Split paragraphs that open with their section's heading (``Section 4.2 Breach
    Notification. Business Associate shall ...``) into the heading and the text, when the number
    can follow the section before it (an article ``IV`` lets ``4.1`` start)."""
    out: list[Block] = []
    last = ""
    for block in blocks:
        if isinstance(block, Heading):
            if block.article:
                last = str(article_value(block.number))
            elif block.number:
                last = block.number
            out.append(block)
            continue
        split = split_run_in(block.text)
        if split is not None and split[0].number in successors(last):
            heading, rest = split
            heading.page = block.page
            out.extend([heading, Paragraph(rest, block.page)])
            last = heading.number
            continue
        clause = NUMBERED_CLAUSE.match(block.text)
        if clause and clause.group(1) in successors(last):
            # "4.2.1 Vendor shall ...": a clause numbered in its text, without a heading
            out.extend([Heading(clause.group(1), "", block.page), block])
            last = clause.group(1)
            continue
        out.append(block)
    return out


def build_tree(blocks: list[Block], prefix: str) -> list[Node]:
    """Nest blocks by their numbers. Returns root nodes (the preamble first, if any)."""
    builder = _Builder(prefix)
    for block in blocks:
        if isinstance(block, Heading):
            builder.heading(block)
        else:
            builder.paragraph(block)
    return builder.result()

"""A contract's passages as sentences, each with its clause title, locator and page."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from core.documents import Chunk

# Where a sentence ends: after . ; ? ! before a capital or an opening bracket, or at a line break
# that is not a wrapped line (a PDF keeps its line breaks inside sentences).
_BOUNDARY = re.compile(r"(?<=[.;?!])\s+(?=[A-Z(\"'])|\n+")
_WRAPPED = re.compile(r"(?<=[^\s.;:?!])\n(?=[a-z])")
# A list item that continues its lead-in: "(c) use PHI to train ..." after "Vendor shall not:"
_ITEM = re.compile(r"^\(?(?:[a-z]{1,2}|[ivx]{1,5}|\d{1,2})[.)]\s+[a-z]")
# A line that starts a new item or clause: "(c) ...", "4.2 ...", "- ..."
_ITEM_START = re.compile(r"\((?:[a-z]{1,2}|[ivx]{1,5}|\d{1,2})\)\s|\d+(?:\.\d+)*\.?\s|[-*•]\s")
# A full stop that does not end a sentence: initials, "Inc.", "U.S.", "e.g.", "No. 4".
_ABBREVIATION = re.compile(
    r"(?:\b[A-Z]\.|\b(?:Inc|Corp|Co|Ltd|No|Nos|Sec|Secs|Art|Mr|Mrs|Ms|Dr|St|vs|viz|etc|e\.g|i\.e)\.)$"
)
_TITLE_MAX = 140
_LEAD_MIN_WORDS = 8  # a heading-path entry this long is a lead-in sentence, not a title


@dataclass(frozen=True)
class Sentence:
    text: str
    title: str  # the clause's own title line ("4.3 Breach notice within 10 business days")
    locator: str  # the most specific locator holding the sentence
    page: int | None
    doc_id: str
    order: int  # position in the contract
    is_title: bool = False  # the clause's title line itself
    lead: str = ""  # the lead-in an item continues ("Vendor shall not:")
    chunk_id: str = ""  # the passage it is read from
    heading: str = ""  # the headings above the clause ("9 Log Review and Monitoring")

    @property
    def context(self) -> str:
        """What a requirement's topic is matched against: the clause title, then the sentence."""
        return "\n".join(p for p in (self.title, self.lead, self.text) if p)

    @property
    def reading(self) -> str:
        """The sentence as it reads with the lead-in it continues."""
        return f"{self.lead} {self.text}" if self.lead else self.text


def _split(text: str, hard: set[int] | None = None) -> list[tuple[int, str]]:
    """(offset, sentence) pairs, abbreviations kept inside their sentence. A line break ends a
    sentence only when it is ``hard`` (after a title, before an item); other breaks are a
    wrapped line (a PDF keeps its line breaks inside sentences)."""
    if hard is not None:
        text = "".join(
            " " if ch == "\n" and i not in hard else ch for i, ch in enumerate(text)
        )  # same length: offsets stay valid
    else:
        text = _WRAPPED.sub(" ", text)
    out: list[tuple[int, str]] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        piece = text[start : m.start()]
        if "\n" not in m.group(0) and _ABBREVIATION.search(piece):
            continue
        if piece.strip():
            out.append((start, piece.strip()))
        start = m.end()
    if text[start:].strip():
        out.append((start, text[start:].strip()))
    return out


def _hard_breaks(chunk: Chunk) -> set[int]:
    """The line breaks of a passage that end a sentence: after a line ending a sentence, after a
    clause title at a paragraph's start, and before a lettered or numbered item."""
    text = chunk.text
    starts = {0} | {s.start for s in chunk.spans}
    hard: set[int] = set()
    line_start = 0
    for i, ch in enumerate(text):
        if ch != "\n":
            continue
        line = text[line_start:i].strip()
        following = text[i + 1 :].lstrip()
        if (
            line.endswith((".", ";", ":", "?", "!"))
            or (line_start in starts and _title(line))
            or _ITEM_START.match(following)
            or not line
        ):
            hard.add(i)
        line_start = i + 1
    return hard


def _title(first_line: str) -> str:
    """The line as a clause title ("4.3 Breach notice within 10 business days"), or '' when it
    is a sentence, or a run-in title with its clause's first words ("5.2 Breaches. Business
    Associate shall ...")."""
    line = first_line.strip()
    short = len(line) <= _TITLE_MAX and not line.endswith((".", ";", ":"))
    return line if short and not re.search(r"(?:[a-z]{2}|[A-Z]{2,})\.\s+[A-Z]", line) else ""


def sentences(chunks: Iterable[Chunk]) -> list[Sentence]:
    """Every sentence of the passages, in order; a passage's short first line is its title.

    A clause's short lead-in ("Business Associate shall comply with Subpart C ... and shall, in
    addition:") is kept by ingest as context in the heading path of the clauses below it, not
    as a passage; it is read here once, cited by the first clause it leads."""
    out: list[Sentence] = []
    seen_leads: set[str] = set()
    for chunk in chunks:
        for lead in chunk.heading_path[1:]:
            if len(lead.split()) >= _LEAD_MIN_WORDS and lead not in seen_leads:
                seen_leads.add(lead)
                for _, text in _split(lead):
                    out.append(
                        Sentence(
                            text,
                            "",
                            chunk.locator,
                            chunk.page,
                            chunk.doc_id,
                            len(out),
                            chunk_id=chunk.chunk_id,
                            heading=" > ".join(chunk.heading_path[1:]),
                        )
                    )
        first = chunk.text.split("\n", 1)[0]
        title = _title(first) if "\n" in chunk.text else ""
        lead = ""
        for offset, text in _split(chunk.text, _hard_breaks(chunk)):
            is_title = bool(title) and offset == 0 and text == title
            continues = lead if _ITEM.match(text) else ""
            if not _ITEM.match(text):
                lead = text if text.endswith(":") and not is_title else ""
            out.append(
                Sentence(
                    text=text,
                    title="" if is_title else title,
                    locator=chunk.locator_at(offset),
                    page=chunk.page,
                    doc_id=chunk.doc_id,
                    order=len(out),
                    is_title=is_title,
                    lead=continues,
                    chunk_id=chunk.chunk_id,
                    heading=" > ".join(chunk.heading_path[1:]),
                )
            )
    return out

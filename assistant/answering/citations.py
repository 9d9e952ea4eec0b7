"""Citations are data: find the ``[n]`` markers of an answer, keep those that point to a retrieved
passage, drop the rest (and say so), and resolve each kept one to the exact quoted sentence and its
most specific locator."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from assistant.answering.text import overlap, sentences
from assistant.answering.types import Citation, Passage
from core.documents import Chunk

_GROUP = re.compile(r"\[(\s*\d{1,3}\s*(?:[,;]\s*\d{1,3}\s*)+)\]")
MARKER = re.compile(r"\[(\d{1,3})\]")


def normalise_markers(text: str) -> str:
    """``[1, 2]`` -> ``[1][2]`` so every citation is one marker."""
    return _GROUP.sub(
        lambda m: "".join(f"[{n.strip()}]" for n in re.split(r"[,;]", m.group(1))), text
    )


def markers(text: str) -> list[int]:
    return [int(n) for n in MARKER.findall(text)]


def renumber(text: str, passages: Sequence[Passage]) -> tuple[str, list[Passage]]:
    """Citations numbered 1..n in the order the answer first cites them, the passages renumbered
    to match (cited ones first, then the rest in their order). A marker that points to no passage
    is left for ``verify`` to drop."""
    text = normalise_markers(text)
    by_n = {p.n: p for p in passages}
    order = list(dict.fromkeys(n for n in markers(text) if n in by_n))
    order += [p.n for p in passages if p.n not in order]
    new = {old: i for i, old in enumerate(order, start=1)}
    text = MARKER.sub(lambda m: f"[{new.get(int(m.group(1)), int(m.group(1)))}]", text)
    return text, [replace(by_n[old], n=new[old]) for old in order]


def _claims(text: str) -> list[tuple[str, list[int]]]:
    """Each sentence of the answer with the markers that support it: its own, or — for a
    sentence inside a longer quoted or cited run on the same line — those of the next sentence
    on that line that has any."""
    out: list[tuple[str, list[int]]] = []
    for line in text.split("\n"):
        pending: list[str] = []
        for sent in sentences(line):
            nums = markers(sent.text)
            claim = MARKER.sub("", sent.text).strip()
            if not nums:
                pending.append(claim)
                continue
            out.extend((p, nums) for p in pending)
            pending = []
            out.append((claim, nums))
        out.extend((p, []) for p in pending)
    return out


# a quotation in curly quotes first: the straight ones may be a locator's defined term
# ('45 CFR 160.103 "Protected health information": “Protected health information means ...”')
_QUOTED = (re.compile(r"\u201c(.+?)\u201d"), re.compile(r"\"(.{20,}?)\""))


def _find(quoted: str, text: str) -> tuple[int, int] | None:
    """Where ``quoted`` is in ``text`` (start, end), its line breaks quoted as spaces."""
    at = text.find(quoted)
    if at >= 0:
        return at, at + len(quoted)
    spaced = re.search(r"\s+".join(map(re.escape, quoted.split())), text) if quoted else None
    return spaced.span() if spaced else None


def best_quote(claim: str, passage: Passage, chunk: Chunk | None) -> tuple[str, str]:
    """The passage text that supports ``claim`` — the claim's own quotation when it is verbatim in
    the passage, else the passage sentence sharing most words with it — and its most specific
    locator."""
    for m in (m for pattern in _QUOTED for m in pattern.finditer(claim)):
        quoted = m.group(1).strip()
        span = _find(quoted, passage.text) if len(quoted) > 15 else None
        if span is not None:  # the passage's own text, line breaks and all
            quote = passage.text[span[0] : span[1]]
            return quote, chunk.locator_at(span[0]) if chunk is not None else passage.locator
    candidates = sentences(passage.text)
    if not candidates:
        return passage.text[:300], passage.locator
    best = max(candidates, key=lambda s: (overlap(claim, s.text), len(s.text) > 40))
    locator = chunk.locator_at(best.start) if chunk is not None else passage.locator
    return best.text, locator


def verify(
    text: str, passages: Sequence[Passage], chunks: dict[str, Chunk]
) -> tuple[str, list[Citation], list[str]]:
    """Returns the answer with invalid markers removed, the citations, and notes on what was
    dropped or left uncited."""
    text = normalise_markers(text)
    by_n = {p.n: p for p in passages}
    notes: list[str] = []
    dropped = sorted({n for n in markers(text) if n not in by_n})
    for n in dropped:
        notes.append(f"dropped citation [{n}]: it points to no retrieved passage")
        text = re.sub(rf"\s?\[{n}\]", "", text)
    claims: dict[int, list[str]] = {}
    uncited = 0
    for claim, nums in _claims(text):
        # a table's header and its "not stated" rows are structure, not statements
        table = claim.lstrip().startswith("|")
        if not nums and len(claim.split()) > 6 and not claim.endswith(":") and not table:
            uncited += 1
        for n in nums:
            claims.setdefault(n, []).append(claim)
    if uncited:
        notes.append(f"{uncited} statement(s) carry no citation; check them against the sources")
    citations = []
    for n in sorted(claims):
        passage = by_n[n]
        chunk = chunks.get(passage.chunk_id)
        quote, locator = best_quote(" ".join(claims[n]), passage, chunk)
        # each claim's own quote: a passage cited twice ("... 5 business days [1]", "... within
        # 4 hours [1]") shows both when its citation is opened, not the first twice
        quotes = dict.fromkeys([quote, *(best_quote(c, passage, chunk)[0] for c in claims[n])])
        citations.append(
            Citation(
                n=n,
                chunk_id=passage.chunk_id,
                doc_id=passage.doc_id,
                locator=locator,
                title=passage.title,
                doc_type=passage.doc_type,
                version=passage.version,
                page=passage.page,
                quote=quote,
                quotes=tuple(quotes),
            )
        )
    return text, citations, notes

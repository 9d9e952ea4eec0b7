"""A document as a tree of located parts, and the cut of that tree into chunks.

Every parser (eCFR XML, regulation PDF, Markdown policy, contract PDF) produces ``Node`` trees;
one chunker turns them into ``Chunk`` objects, so chunking behaves the same for every format.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from core.documents import Chunk, Span, make_chunk_id


@dataclass
class Para:
    text: str
    page: int | None = None


@dataclass
class Node:
    """One located part: a section, a paragraph, a clause."""

    locator: str
    label: str = ""  # shown in heading paths, e.g. "§ 164.312 Technical safeguards"
    paras: list[Para] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)
    alone: bool = False  # a passage of its own however short (a defined term in a contract)

    def own_words(self) -> int:
        return sum(_words(p.text) for p in self.paras)

    def subtree_words(self) -> int:
        return self.own_words() + sum(c.subtree_words() for c in self.children)

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.walk()


_WORD = re.compile(r"\S+")


def _words(text: str) -> int:
    return len(_WORD.findall(text))


class _Builder:
    def __init__(
        self, doc_id: str, max_words: int, min_words: int, prefer_children: bool = False
    ) -> None:
        self.doc_id = doc_id
        self.prefer_children = prefer_children
        self.max_words = max_words
        self.min_words = min_words
        self.chunks: list[Chunk] = []
        self._seq: dict[str, int] = {}

    def _emit(
        self,
        locator: str,
        section: str,
        path: tuple[str, ...],
        pieces: list[tuple[str, Para]],
    ) -> None:
        """Emit one chunk from (locator, paragraph) pieces in reading order."""
        if not pieces:
            return
        text_parts: list[str] = []
        spans: dict[str, list[int]] = {}
        pos = 0
        pages = [p.page for _, p in pieces if p.page is not None]
        for loc, para in pieces:
            if text_parts:
                pos += 1  # the joining newline
            start = pos
            text_parts.append(para.text)
            pos += len(para.text)
            if loc in spans:
                spans[loc][1] = pos
            else:
                spans[loc] = [start, pos]
        text = "\n".join(text_parts)
        seq = self._seq.get(locator, 0)
        self._seq[locator] = seq + 1
        span_list = tuple(
            Span(loc, s, e) for loc, (s, e) in spans.items() if not (s == 0 and e == len(text))
        )
        self.chunks.append(
            Chunk(
                chunk_id=make_chunk_id(self.doc_id, locator, seq),
                doc_id=self.doc_id,
                locator=locator,
                text=text,
                heading_path=path,
                page=min(pages) if pages else None,
                page_end=max(pages) if pages else None,
                spans=span_list,
                section=section,
            )
        )

    def _pack(
        self, locator: str, section: str, path: tuple[str, ...], pieces: list[tuple[str, Para]]
    ) -> None:
        """Emit pieces as chunks of at most ``max_words`` (long paragraphs are split)."""
        batch: list[tuple[str, Para]] = []
        count = 0
        for loc, para in pieces:
            for part in _split_long(para, self.max_words):
                n = _words(part.text)
                if batch and count + n > self.max_words:
                    self._emit(locator, section, path, batch)
                    batch, count = [], 0
                batch.append((loc, part))
                count += n
        self._emit(locator, section, path, batch)

    def visit(self, node: Node, path: tuple[str, ...], section: str) -> None:
        is_root = not section
        section = section or node.locator
        if is_root and node.label:
            # A section's heading is not part of its text: it leads every path below it.
            path = (*path, node.label)
        splittable = self.prefer_children and any(
            c.subtree_words() >= self.min_words * 2 or c.alone for c in node.children
        )
        if node.subtree_words() <= self.max_words and not splittable:
            self._pack(node.locator, section, path, list(_flatten(node)))
            return
        child_path = (*path, node.label) if node.label and not is_root else path
        own = [(node.locator, p) for p in node.paras]
        if own and (node.own_words() >= self.min_words or not node.children):
            self._pack(node.locator, section, path, own)
        elif own:
            # A short lead-in ("(ii) Implementation specifications:") becomes context of its
            # children rather than a passage of its own.
            lead = " ".join(p.text for p in node.paras)
            plain_label = node.label.replace("§", "").lower()
            if node.label and lead.lower() in plain_label:
                child_path = path if is_root else (*path, node.label)
            elif lead.startswith("(") or not node.label or is_root:
                child_path = (*path, lead)
            else:
                child_path = (*path, f"{node.label} {lead}")
        # Consecutive small children are packed together, so no passage is a lone stub.
        group: list[Node] = []
        group_words = 0

        def flush() -> None:
            nonlocal group, group_words
            if not group:
                return
            if len(group) == 1:
                self.visit(group[0], child_path, section)
            else:
                # Siblings packed together are cited by their parent; each keeps its own span.
                pieces = [piece for g in group for piece in _flatten(g)]
                self._pack(node.locator, section, child_path, pieces)
            group, group_words = [], 0

        alone = self.min_words * 2
        for child in node.children:
            words = child.subtree_words()
            if words >= alone or (child.alone and self.prefer_children):
                flush()
                self.visit(child, child_path, section)
                continue
            if group and group_words + words > self.max_words:
                flush()
            group.append(child)
            group_words += words
            if group_words >= alone:
                flush()
        flush()


def _flatten(node: Node) -> Iterator[tuple[str, Para]]:
    for para in node.paras:
        yield node.locator, para
    for child in node.children:
        yield from _flatten(child)


_SENTENCE_END = re.compile(r"(?<=[.;:])\s+(?=[(A-Z0-9])")


def _split_long(para: Para, max_words: int) -> list[Para]:
    """Split a paragraph longer than ``max_words`` at sentence ends."""
    if _words(para.text) <= max_words:
        return [para]
    out: list[Para] = []
    current: list[str] = []
    count = 0
    for sentence in _SENTENCE_END.split(para.text):
        n = _words(sentence)
        if current and count + n > max_words:
            out.append(Para(" ".join(current), para.page))
            current, count = [], 0
        current.append(sentence)
        count += n
    if current:
        out.append(Para(" ".join(current), para.page))
    return out


def chunk_tree(
    doc_id: str,
    roots: list[Node],
    *,
    max_words: int,
    min_words: int,
    path: tuple[str, ...] = (),
    prefer_children: bool = False,
) -> list[Chunk]:
    """Cut document trees into chunks: a subtree that fits stays whole (regulations: a standard
    with its implementation specifications) unless ``prefer_children`` asks for each substantial
    child on its own (policies and contracts: one numbered clause, one passage)."""
    builder = _Builder(doc_id, max_words, min_words, prefer_children)
    for root in roots:
        builder.visit(root, path, "")
    return builder.chunks

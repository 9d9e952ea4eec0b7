"""What the chat shows for an answer, as plain data (no Chainlit here, so it is unit-tested).

Each citation ``[n]`` of the answer text becomes a side element named ``[n]``; Chainlit turns
every occurrence of an element's name in the message into a link that opens it in the side panel.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from assistant.answering.types import Answer, Citation, Passage
from assistant.checks.baa import STATUSES, Row
from assistant.checks.coverage import CoverageRow
from core.documents import DOC_TYPE_NAMES, SourceDocument


@dataclass(frozen=True)
class SideText:
    name: str  # the marker in the answer, e.g. "[2]"
    content: str  # Markdown


@dataclass(frozen=True)
class SidePdf:
    name: str  # e.g. "[2] PDF page 14"
    path: Path
    page: int | None
    quote: str | tuple[str, ...] = ""  # marked on the rendered page (pdf_page.py), each of them
    sha256: str = ""  # of the file as indexed


def mode_label(mode: str) -> str:
    if mode == "extractive":
        return "Extractive mode: verbatim quotations from the sources, no language model."
    return f"Language-model mode ({mode.removeprefix('llm:')}): every citation is checked."


def _escape(text: str) -> str:
    """Passage text as literal Markdown (no headings, lists or links of its own)."""
    out = []
    for line in text.splitlines() or [""]:
        line = line.replace("\\", "\\\\")
        for ch in "*_`[]<>#|":
            line = line.replace(ch, "\\" + ch)
        out.append(line)
    return "\n> ".join(out)


def citation_markdown(c: Citation, passage: Passage | None) -> str:
    """The side panel of one citation: locator, document, version and page, the quoted sentence,
    then the whole passage it comes from."""
    lines = [f"### {c.locator}", "", f"**{c.title}**"]
    names = DOC_TYPE_NAMES.get(c.doc_type)
    facts = [names.passage if names else c.doc_type]
    if c.version:
        dated = re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", c.version)
        facts.append(f"as of {c.version}" if dated else f"version {c.version}")
    if c.page:
        facts.append(f"page {c.page}")
    lines += ["", " · ".join(facts), "", "**Quoted:**"]
    quotes = c.all_quotes
    for quote in quotes:  # each sentence the answer quotes from it, in the answer's order
        lines += ["", "> " + _escape(quote)]
    if passage is not None and passage.text.strip() != " ".join(quotes).strip():
        lines += ["", f"**The passage ({passage.locator}):**", "", "> " + _escape(passage.text)]
    return "\n".join(lines)


def citation_elements(
    answer: Answer, documents: dict[str, SourceDocument]
) -> list[SideText | SidePdf]:
    """One side text per citation; for a PDF source, also the PDF opened at the cited page
    (only while the file is the one indexed: same SHA-256)."""
    by_chunk = {p.chunk_id: p for p in answer.passages}
    out: list[SideText | SidePdf] = []
    for c in answer.citations:
        out.append(SideText(f"[{c.n}]", citation_markdown(c, by_chunk.get(c.chunk_id))))
        doc = documents.get(c.doc_id)
        if doc is not None and doc.path.lower().endswith(".pdf") and c.page:
            path = Path(doc.path)
            if _unchanged(path, doc.sha256):
                name = f"[{c.n}] PDF page {c.page}"
                out.append(SidePdf(name, path, c.page, c.all_quotes, doc.sha256))
    return out


def _unchanged(path: Path, sha256: str) -> bool:
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return False
    return digest == sha256


def answer_markdown(answer: Answer, notice: str, elements: list[SideText | SidePdf]) -> str:
    """The message: the redaction notice, the answer (its ``[n]`` become links), the sources
    list (each with its PDF page link where there is one), notes and the answering mode."""
    parts = []
    if notice:
        parts.append(f"> {notice}")
    if answer.searched_as:
        searched = " ".join(answer.standalone_question.split())  # one line, however typed
        parts.append(f"*Searched for: {_escape(searched)}*")
    parts.append(answer.text)
    if answer.citations:
        pdfs = {e.name.split(" ", 1)[0]: e.name for e in elements if isinstance(e, SidePdf)}
        rows = ["**Sources**"]
        for c in answer.citations:
            marker = f"[{c.n}]"
            extra = f" · {pdfs[marker]}" if marker in pdfs else ""
            page = f", p. {c.page}" if c.page else ""
            rows.append(f"- {marker} {c.locator}: {c.title}{page}{extra}")
        parts.append("\n".join(rows))
    for note in answer.notes:
        parts.append(f"_Note: {note}_")
    parts.append(f"_{mode_label(answer.mode)}_")
    return "\n\n".join(parts)


def retrieval_markdown(answer: Answer) -> str:
    """The collapsible 'how this answer was found' step: the query as searched, the passages and
    their scores, timings."""
    lines = []
    if answer.searched_as:
        lines.append(f"**Searched for:** {answer.standalone_question}")
    lines += [
        "",
        "| # | source | fused | dense | lexical |",
        "|---|---|---:|---:|---:|",
    ]
    for p in answer.passages:
        dense = f"{p.dense:.2f}" if p.dense is not None else "-"
        lexical = f"{p.lexical:.1f}" if p.lexical is not None else "-"
        source = f"{p.locator} ({p.doc_type})"
        lines.append(f"| {p.n} | {source} | {p.score:.3f} | {dense} | {lexical} |")
    if answer.abstained:
        lines += ["", f"**Abstained:** {answer.abstain_reason}"]
    timing = ", ".join(f"{k.removesuffix('_ms')} {v:.0f} ms" for k, v in answer.timings.items())
    if timing:
        lines += ["", f"_Timings: {timing}_"]
    return "\n".join(lines).strip()


@dataclass(frozen=True)
class ConfirmAction:
    """A button under an answer: "this passage answers the question" (privacy office only)."""

    label: str
    question: str  # the redacted question, as the server kept it
    locator: str


def confirm_actions(answer: Answer, may_confirm: bool, limit: int = 4) -> list[ConfirmAction]:
    """One per cited policy or BAA passage (the rules have their own question index), for a
    caller who may confirm; none for a refusal."""
    if not may_confirm or answer.abstained:
        return []
    out: list[ConfirmAction] = []
    for c in answer.citations:
        if c.doc_type not in ("policy", "baa") or any(a.locator == c.locator for a in out):
            continue
        out.append(ConfirmAction(f"[{c.n}] {c.locator} answers this", answer.question, c.locator))
    return out[:limit]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def baa_check_side(row: Row) -> str:
    """The side panel of one checked requirement: the clause, the requirement, the verdict and
    the clause's words."""
    lines = [f"### {', '.join(row.locators)}", "", f"**{row.requirement.citation}**"]
    lines += ["", f"_{_cell(row.requirement.text)}_", "", f"**Status: {row.status}**"]
    if row.figure:
        lines.append(f"The contract: {row.figure}")
    if row.note:
        lines += ["", _cell(row.note)]
    if row.quote:
        lines += ["", "**The clause says:**", "", "> " + _escape(row.quote)]
    if row.page:
        lines += ["", f"page {row.page}"]
    return "\n".join(lines)


def baa_check_markdown(rows: list[Row]) -> tuple[str, list[SideText]]:
    """The chat's BAA check: per contract, a table of requirements with their status, each
    clause a link ``[n]`` to its words in the side panel; then the counts."""
    elements: list[SideText] = []
    parts = []
    for vendor in dict.fromkeys(r.vendor for r in rows):
        mine = [r for r in rows if r.vendor == vendor]
        counts = ", ".join(
            f"{n} {st}" for st in STATUSES if (n := sum(r.status == st for r in mine))
        )
        table = [
            f"**{vendor}** ({counts})",
            "",
            "| requirement | status | clause | detail |",
            "| --- | --- | --- | --- |",
        ]
        for r in mine:
            clause = "–"
            if r.locators:
                marker = f"[{len(elements) + 1}]"
                elements.append(SideText(marker, baa_check_side(r)))
                clause = f"{marker} {_cell(', '.join(r.locators))}"
            detail = " ".join(p for p in (r.figure and f"{r.figure}:", r.note) if p)
            status = r.status if r.status == "present" else f"**{r.status}**"
            table.append(
                f"| {_cell(r.requirement.citation)} ({r.requirement.id}) | {status} | {clause} | "
                f"{_cell(detail)} |"
            )
        parts.append("\n".join(table))
    parts.append(
        "_Checked against 45 CFR 164.504(e) and 164.314(a) and the organisation's own terms, "
        "without a language model: each status cites the clause it rests on, or says missing._"
    )
    return "\n\n".join(parts), elements


def coverage_markdown(rows: list[CoverageRow]) -> tuple[str, list[SideText]]:
    """The chat's Security Rule coverage: one row per standard or specification, each policy
    section a link ``[n]`` to its words in the side panel; gaps first in the counts."""
    elements: list[SideText] = []
    table = [
        "| specification | R/A | status | policy sections |",
        "| --- | --- | --- | --- |",
    ]
    for r in rows:
        where = "–"
        if r.locators:
            marker = f"[{len(elements) + 1}]"
            side = [f"### {r.item.citation} {r.item.name}", "", f"**Status: {r.status}**"]
            side += ["", _cell(r.note), "", f"Policy sections: {', '.join(r.locators)}"]
            if r.quote:
                side += ["", "> " + _escape(r.quote)]
            elements.append(SideText(marker, "\n".join(side)))
            where = f"{marker} {_cell(', '.join(r.locators))}"
        status = r.status if r.status == "covered" else f"**{r.status}**"
        kind = "R" if r.item.required else "A"
        table.append(f"| {r.item.citation} {_cell(r.item.name)} | {kind} | {status} | {where} |")
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    head = ", ".join(f"{n} {s}" for s, n in counts.items())
    note = (
        "_Read from the policies you may see: a sentence on the specification's topic, a rule "
        "citation, or a policy's `implements` list; no language model._"
    )
    return f"**Security Rule coverage** ({head})\n\n" + "\n".join(table) + "\n\n" + note, elements

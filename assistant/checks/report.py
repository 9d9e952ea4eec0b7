"""BAA check rows as a terminal table, Markdown, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Sequence

from assistant.checks.baa import STATUSES, Row
from assistant.checks.coverage import COVERAGE_STATUSES, CoverageRow

FORMATS: tuple[str, ...] = ("table", "md", "csv", "json")


def _detail(row: Row) -> str:
    parts = [p for p in (row.figure and f"[{row.figure}]", row.note) if p]
    return " ".join(parts)


def summary(rows: Sequence[Row]) -> str:
    """One line per contract: how many requirements have each status."""
    lines = []
    for vendor in dict.fromkeys(r.vendor for r in rows):
        counts = Counter(r.status for r in rows if r.vendor == vendor)
        said = ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s])
        lines.append(f"{vendor}: {said}")
    return "\n".join(lines)


def as_table(rows: Sequence[Row]) -> str:
    header = ("vendor", "requirement", "citation", "status", "clause", "detail")
    table = [header] + [
        (
            r.vendor,
            r.requirement.id,
            r.requirement.citation,
            r.status,
            ", ".join(r.locators) or "-",
            _detail(r),
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(header) - 1)]
    out = [
        "  ".join(cell.ljust(w) for cell, w in zip(line[:-1], widths, strict=True))
        + "  "
        + line[-1]
        for line in table
    ]
    return "\n".join(out) + "\n\n" + summary(rows) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def as_markdown(rows: Sequence[Row]) -> str:
    out = []
    for vendor in dict.fromkeys(r.vendor for r in rows):
        out += [
            f"## {vendor}",
            "",
            "| requirement | status | clause | quote | detail |",
            "| --- | --- | --- | --- | --- |",
        ]
        for r in (r for r in rows if r.vendor == vendor):
            quote = f"“{_md(r.quote)}”" if r.quote else ""
            out.append(
                f"| {_md(r.requirement.citation)} ({r.requirement.id}) | **{r.status}** | "
                f"{_md(', '.join(r.locators))} | {quote} | {_md(_detail(r))} |"
            )
        out.append("")
    return "\n".join(out) + summary(rows) + "\n"


def as_csv(rows: Sequence[Row]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(
        ["vendor", "document", "requirement", "citation", "status", "locators", "page", "figure",
         "quote", "note", "exception"]
    )  # fmt: skip
    for r in rows:
        writer.writerow(
            [r.vendor, r.doc_id, r.requirement.id, r.requirement.citation, r.status,
             "; ".join(r.locators), r.page or "", r.figure, r.quote, r.note, r.exception]
        )  # fmt: skip
    return buf.getvalue()


def as_json(rows: Sequence[Row]) -> str:
    return json.dumps([r.to_json() for r in rows], indent=2, ensure_ascii=False) + "\n"


def render(rows: Sequence[Row], fmt: str) -> str:
    if fmt == "md":
        return as_markdown(rows)
    if fmt == "csv":
        return as_csv(rows)
    if fmt == "json":
        return as_json(rows)
    return as_table(rows)


def coverage_summary(rows: Sequence[CoverageRow]) -> str:
    counts = Counter(r.status for r in rows)
    said = ", ".join(f"{counts[s]} {s}" for s in COVERAGE_STATUSES if counts[s])
    required = [r for r in rows if r.item.required]
    gaps = sum(r.status == "gap" for r in required)
    return f"{len(rows)} standards and specifications: {said} ({gaps} required ones with a gap)"


def render_coverage(rows: Sequence[CoverageRow], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([r.to_json() for r in rows], indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(
            ["id", "citation", "name", "required", "status", "locators", "quote", "note"]
        )
        for r in rows:
            writer.writerow(
                [r.item.id, r.item.citation, r.item.name, "required" if r.item.required else
                 "addressable", r.status, "; ".join(r.locators), r.quote, r.note]
            )  # fmt: skip
        return buf.getvalue()
    if fmt == "md":
        out = [
            "| specification | R/A | status | policy sections | note |",
            "| --- | --- | --- | --- | --- |",
        ]
        for r in rows:
            kind = "R" if r.item.required else "A"
            out.append(
                f"| {_md(r.item.citation)} {_md(r.item.name)} | {kind} | **{r.status}** | "
                f"{_md(', '.join(r.locators))} | {_md(r.note)} |"
            )
        return "\n".join(out) + "\n\n" + coverage_summary(rows) + "\n"
    table = [("citation", "specification", "R/A", "status", "policy sections")] + [
        (
            r.item.citation,
            r.item.name,
            "R" if r.item.required else "A",
            r.status,
            ", ".join(r.locators) or "-",
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line[:4], widths, strict=True)) + "  " + line[4]
             for line in table]  # fmt: skip
    return "\n".join(lines) + "\n\n" + coverage_summary(rows) + "\n"

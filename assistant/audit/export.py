"""Audit rows as CSV (for a spreadsheet) or JSON lines (exact, for tools).

CSV joins list fields with ``;`` and, so that a question cannot run as a spreadsheet formula
when the file is opened (CSV injection), prefixes text starting with ``= + - @`` or a tab or
carriage return with ``'``. JSON lines are the stored values, unchanged.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from typing import IO, Any, Literal, Protocol


class Exportable(Protocol):
    """A stored audit row (``trail.AuditRecord``): its columns as JSON values."""

    def to_json(self) -> dict[str, Any]: ...


FORMATS = ("csv", "jsonl")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        value = ";".join(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_records(
    records: Iterable[Exportable],
    fmt: Literal["csv", "jsonl"] | str,
    out: IO[str],
    columns: Sequence[str],
) -> int:
    """Write ``records`` to the text stream ``out`` (CSV: ``columns``, in that order); returns
    how many were written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (use {' or '.join(FORMATS)})")
    n = 0
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for rec in records:
            row = rec.to_json()
            writer.writerow([_cell(row[c]) for c in columns])
            n += 1
    else:
        for rec in records:
            out.write(json.dumps(rec.to_json(), ensure_ascii=False) + "\n")
            n += 1
    return n

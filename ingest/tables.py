"""Tables as text a reader (and an embedder) can follow: one line per row."""

from __future__ import annotations

import re

_PIPE_RULE = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?$")


def table_lines(rows: list[list[str]]) -> list[str]:
    """A table as readable lines: with a header row, ``Header: value; Header: value`` per row;
    otherwise the cells of each row joined."""
    if not rows:
        return []
    header = rows[0]
    if len(rows) >= 2 and len(header) >= 2 and all(header) and len(set(header)) == len(header):
        out = []
        for row in rows[1:]:
            pairs = [f"{h}: {v}" for h, v in zip(header, row, strict=False) if v and v != h]
            if pairs:
                out.append("; ".join(pairs) + ("" if pairs[-1].endswith(".") else "."))
        return out
    return ["; ".join(c for c in row if c) for row in rows]


def pipe_rows(lines: list[str]) -> list[list[str]]:
    """Markdown pipe-table lines -> rows of cells (the ``|---|`` rule dropped)."""
    rows = []
    for line in lines:
        text = line.strip()
        if _PIPE_RULE.match(text):
            continue
        rows.append([c.strip() for c in text.strip("|").split("|")])
    return rows

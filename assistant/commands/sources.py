from __future__ import annotations

import argparse
import json

from core.index.state import IndexState
from core.settings import Settings
from ingest.official import fetched_records, load_manifest


def sources_listing(settings: Settings) -> list[dict[str, object]]:
    gen = IndexState(settings.paths.index_dir).load()
    rows: list[dict[str, object]] = []
    indexed_ids = set()
    if gen is not None:
        for e in gen.documents:
            d = e.document
            indexed_ids.add(d.doc_id)
            live = len(e.chunk_ids) - len(e.superseded_ids)
            rows.append(
                {
                    "doc_id": d.doc_id,
                    "type": d.doc_type,
                    "title": d.title,
                    "version": d.version,
                    "as_of": d.as_of,
                    "format": d.fmt,
                    "chunks": live,
                    "access_groups": list(d.access_groups),
                    "status": e.status,
                    "superseded_by": e.superseded_by,
                    "note": _inferred_note(d.inferred, d.vendor, e.note),
                    "sha256": e.file_sha256[:12],
                    "vendor": d.vendor,
                    "inferred": list(d.inferred),
                }
            )
    records = fetched_records(settings.paths.sources_dir)
    for src in load_manifest(settings.paths.sources_manifest):
        if src.id in indexed_ids:
            continue
        if not src.enabled:
            status, note = "not indexed", src.why
        elif src.id not in records:
            status, note = (
                "not fetched",
                "run `hipaa-assistant fetch`" + (" (optional)" if src.optional else ""),
            )
        else:
            status, note = "not indexed", "fetched; run `hipaa-assistant ingest`"
        rows.append(
            {
                "doc_id": src.id,
                "type": src.doc_type,
                "title": src.title,
                "version": "",
                "as_of": src.as_of,
                "format": src.format,
                "chunks": 0,
                "access_groups": ["public"],
                "status": status,
                "superseded_by": [],
                "note": note,
                "sha256": "",
                "vendor": "",
                "inferred": [],
            }
        )
    return rows


def _inferred_note(inferred: tuple[str, ...], vendor: str, note: str) -> str:
    """What the document's metadata left out, said where `sources` shows it."""
    parts = [note] if note else []
    if "access" in inferred:
        parts.append("access: default - set access_groups in front matter or a sidecar")
    if "type" in inferred:
        parts.append("type: inferred")
    if "vendor" in inferred:
        parts.append(f"vendor: inferred ({vendor})")
    return "; ".join(parts)


def cmd_sources(settings: Settings, args: argparse.Namespace) -> int:
    rows = sources_listing(settings)
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    if not rows:
        print("sources: nothing indexed yet; run `hipaa-assistant ingest`")
        return 0
    header = f"{'document':28} {'type':8} {'version/as-of':18} {'chunks':>6}  {'access':24} status"
    print(header)
    print("-" * len(header))
    for r in rows:
        ver = " / ".join(v for v in (str(r["version"]), str(r["as_of"])) if v) or "-"
        groups = ",".join(r["access_groups"])  # type: ignore[arg-type]
        note = f" - {r['note']}" if r["note"] else ""
        print(
            f"{r['doc_id']!s:28} {r['type']!s:8} {ver:18} {r['chunks']!s:>6}  {groups:24} "
            f"{r['status']}{note}"
        )
    return 0

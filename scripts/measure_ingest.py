"""Measure ingest throughput on the bundled corpus + the official sources (from a mirror folder).

    python scripts/measure_ingest.py --mirror DIR [--json OUT]

Runs three ingests into a fresh temporary data directory with the configured (default: bundled
MiniLM) embedder: cold (empty embedding cache), `--rebuild` with the cache warm, and a no-op re-run.
Prints a Markdown table; the README's throughput figures come from it.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.runtime.stores import open_store  # noqa: E402
from core.embeddings import build_embedder  # noqa: E402
from core.settings import Settings  # noqa: E402
from ingest.official import fetch  # noqa: E402
from ingest.pipeline import discover, run_ingest  # noqa: E402


def _pages(settings: Settings) -> int:
    from pypdf import PdfReader

    files, _ = discover(settings)
    total = 0
    for f in files:
        if f.path.suffix.lower() == ".pdf":
            total += len(PdfReader(io.BytesIO(f.path.read_bytes())).pages)
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, required=True, help="folder with the official files")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(paths={"data_dir": Path(tmp) / "data"})
        fetch(settings, mirror=args.mirror)
        embedder = build_embedder(settings.embedding)
        pages = _pages(settings)
        rows = []
        for label, kw in (
            ("cold (empty cache)", {}),
            ("rebuild, cache warm", {"rebuild": True}),
            ("no-op re-run", {}),
        ):
            t0 = time.perf_counter()
            rep = run_ingest(
                settings, embedder, lambda: open_store(settings, embedder), progress=False, **kw
            )
            secs = time.perf_counter() - t0
            rows.append(
                {
                    "run": label,
                    "documents": rep.documents,
                    "chunks": rep.chunks,
                    "pdf_pages": pages,
                    "seconds": round(secs, 2),
                    "chunks_per_s": round(rep.chunks / secs, 1) if not rep.noop else None,
                    "pages_per_s": round(pages / secs, 1) if not rep.noop else None,
                    "embedded": rep.embedded,
                    "embed_chunks_per_s": round(rep.embedded / rep.embed_seconds, 1)
                    if rep.embedded
                    else None,
                }
            )
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"Machine: {machine}; embedder: {embedder.model_id}\n")
    print(
        "| run | documents | chunks | seconds | chunks/s | PDF pages/s | embedded "
        "| embedding chunks/s |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(
            f"| {r['run']} | {r['documents']} | {r['chunks']} | {r['seconds']} | "
            f"{r['chunks_per_s'] or '-'} | {r['pages_per_s'] or '-'} | {r['embedded']} | "
            f"{r['embed_chunks_per_s'] or '-'} |"
        )
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Render the Markdown sources in corpus/pdf-src/ as the PDFs the corpus ships.

Signed contracts and some policies reach a privacy office as PDFs; generating ours from Markdown
keeps their text reviewable in git while the ingest exercises the PDF path. The document's front
matter is embedded in the PDF info dictionary so the metadata travels with the file.

    python scripts/make_corpus_pdfs.py            # write corpus/{baas,policies}/*.pdf
    python scripts/make_corpus_pdfs.py --check    # exit 1 if a PDF is missing or out of date
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import sys
from pathlib import Path

from fpdf import FPDF

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.markdown_doc import markdown_blocks, parse_front_matter  # noqa: E402
from ingest.metadata import PDF_META_KEY  # noqa: E402
from ingest.numbered import Heading  # noqa: E402

SRC = ROOT / "corpus" / "pdf-src"
FIXED_DATE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _latin1(text: str) -> str:
    table = {
        "\u2014": "-",
        "\u2013": "-",
        "\u2019": "'",
        "\u2018": "'",
        "\u201c": '"',
        "\u201d": '"',
    }
    for k, v in table.items():
        text = text.replace(k, v)
    return text.encode("latin-1", "replace").decode("latin-1")


class _Doc(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(format="Letter")
        self._footer_text = footer_text

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", size=8)
        self.cell(0, 10, _latin1(f"{self._footer_text} - Page {self.page_no()}"), align="C")


def render(md_path: Path) -> bytes:
    meta, body = parse_front_matter(md_path.read_text(encoding="utf-8"))
    title, blocks = markdown_blocks(body)
    confidential = "CONFIDENTIAL - " if meta.get("type") == "baa" else ""
    pdf = _Doc(f"{confidential}Lakemont Regional Health - {meta.get('id', md_path.stem)}")
    pdf.set_creation_date(FIXED_DATE)
    pdf.set_title(_latin1(str(meta.get("title", title))))
    pdf.set_author("Lakemont Regional Health")
    pdf.set_creator("hipaa-assistant scripts/make_corpus_pdfs.py")
    pdf.set_producer("fpdf2")
    pdf.set_margins(22, 20, 22)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.multi_cell(0, 7, _latin1(title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Helvetica", size=9)
    facts = [
        f"Document ID: {meta.get('id', '')}",
        f"Version: {meta.get('version', '')}",
        f"Effective: {meta.get('effective', '')}",
        f"Owner: {meta.get('owner', '')}",
    ]
    pdf.multi_cell(0, 5, _latin1("   |   ".join(facts)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for block in blocks:
        if isinstance(block, Heading):
            pdf.ln(2)
            pdf.set_font("Helvetica", "B", 12 if "." not in block.number else 10.5)
            text = f"{block.number} {block.title}".strip()
            pdf.multi_cell(0, 6, _latin1(text), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        else:
            pdf.set_font("Helvetica", size=10)
            pdf.multi_cell(0, 5, _latin1(block.text), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
    meta_json = json.dumps(meta, default=str, sort_keys=True)
    out = io.BytesIO()
    pdf.output(out)
    return _with_info(out.getvalue(), meta_json)


def _with_info(data: bytes, meta_json: str) -> bytes:
    """Add the front matter to the PDF info dictionary (pypdf writes it deterministically)."""
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(io.BytesIO(data))
    writer = PdfWriter(clone_from=reader)
    writer.add_metadata({**(reader.metadata or {}), f"/{PDF_META_KEY}": meta_json})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def targets() -> list[tuple[Path, Path]]:
    pairs = []
    for md in sorted(SRC.glob("*/*.md")):
        pairs.append((md, ROOT / "corpus" / md.parent.name / f"{md.stem}.pdf"))
    return pairs


def text_digest(pdf_bytes: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf_bytes))
    text = "\n".join(p.extract_text() or "" for p in reader.pages)
    meta = (reader.metadata or {}).get(f"/{PDF_META_KEY}", "")
    return hashlib.sha256((text + str(meta)).encode()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check the PDFs are current")
    args = parser.parse_args(argv)
    stale = []
    for md, pdf_path in targets():
        data = render(md)
        if args.check:
            if not pdf_path.exists() or text_digest(pdf_path.read_bytes()) != text_digest(data):
                stale.append(pdf_path)
            continue
        pdf_path.parent.mkdir(parents=True, exist_ok=True)
        pdf_path.write_bytes(data)
        print(f"wrote {pdf_path.relative_to(ROOT)} ({len(data):,} bytes)")
    if stale:
        for p in stale:
            print(f"out of date: {p.relative_to(ROOT)} (run: python scripts/make_corpus_pdfs.py)")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

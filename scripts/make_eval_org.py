"""Render an evaluation organisation's document sources as the files it would keep.

    python scripts/make_eval_org.py saguaro           # write documents/ and received/
    python scripts/make_eval_org.py saguaro --check   # exit 1 if a file is missing or stale

Each source (``evals/orgs/<org>/src/{policies,baas,received}/*.md``) is Markdown with front
matter that also says how the organisation keeps it:

- ``output``: ``docx`` | ``pdf`` | ``md``;
- ``style``: ``word-numbered`` (Word heading styles with automatic multi-level numbering and
  automatically lettered items: the numbers are not in the text), ``typed-numbers`` (numbers typed
  in headings and items), ``article`` (``ARTICLE IV - TITLE`` headings and ``Section 4.2 Title.``
  run into the first paragraph; in a PDF likewise), ``bold-headings`` (unnumbered bold lines, no
  heading styles), ``bold-run-in`` (unnumbered heading styles, each clause a paragraph opening
  with its bold title: ``**Encryption.** Provider shall ...``), ``as-written`` (Markdown only:
  the body exactly as written, e.g. a contract numbered by nested ordered lists);
- ``metadata``: ``embedded`` (Word core and custom properties, the PDF info dictionary or front
  matter), ``sidecar`` (``<file>.meta.yaml`` beside the file) or ``none`` (the file name only:
  a contract dropped in as received);
- ``file`` (optional): the file's name, when not derived from the id and title.

``> COMMENT: ...`` lines become reviewer comments and ``~~text~~`` tracked deletions in Word: both
are in the file and must not be indexed. Files are written deterministically (fixed dates).
``src/baa-terms.yaml`` (the organisation's minimum BAA terms, read by `baa check`) is copied
beside the documents as it is."""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import re
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.markdown_doc import parse_front_matter  # noqa: E402
from ingest.tables import pipe_rows  # noqa: E402

FIXED = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
ORG_NAME = {"saguaro": "Saguaro Community Health Plan"}
RENDER_KEYS = ("output", "style", "metadata", "file")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_HEAD = re.compile(r"^(#{1,4})\s+(.*)$")
_ITEM = re.compile(r"^\(([a-z]{1,2}|[ivx]{1,5})\)\s+")
_NUM = re.compile(r"^(\d+(?:\.\d+)*)\s+(.*)$")
_ART = re.compile(r"^Article\s+([IVXLC]+)\s*[-\u2013\u2014:]?\s*(.*)$", re.I)
_DEL = re.compile(r"~~(.+?)~~")
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


@dataclass
class Item:
    kind: str  # "h" | "p" | "item" | "bullet" | "table" | "comment"
    text: str = ""
    level: int = 0
    rows: list[list[str]] = field(default_factory=list)


def parse_source(text: str) -> tuple[dict[str, Any], str, list[Item]]:
    meta, body = parse_front_matter(text)
    if meta.get("style") == "as-written":
        return meta, "", [Item("raw", body.strip() + "\n")]
    title = ""
    items: list[Item] = []
    para: list[str] = []
    table: list[str] = []

    def flush() -> None:
        if table:
            items.append(Item("table", rows=pipe_rows(table)))
            table.clear()
        if para:
            joined = " ".join(p.strip() for p in para)
            kind = "item" if _ITEM.match(joined) else "p"
            items.append(Item(kind, joined))
            para.clear()

    for raw in body.splitlines():
        line = raw.rstrip()
        m = _HEAD.match(line)
        if m:
            flush()
            if len(m.group(1)) == 1 and not title:
                title = m.group(2).strip()
            else:
                items.append(Item("h", m.group(2).strip(), len(m.group(1)) - 1))
            continue
        if line.startswith("> COMMENT:"):
            flush()
            items.append(Item("comment", line.split(":", 1)[1].strip()))
        elif line.lstrip().startswith("|"):
            if para:
                flush()
            table.append(line)
        elif not line.strip():
            flush()
        elif line.startswith("- "):
            flush()
            items.append(Item("bullet", line[2:].strip()))
        elif _ITEM.match(line):
            flush()
            para.append(line)
        else:
            if table:
                flush()
            para.append(line)
    flush()
    return meta, title, items


def clean(text: str) -> str:
    """The text as the document states it (tracked deletions gone)."""
    return re.sub(r"\s{2,}", " ", _DEL.sub("", text)).strip()


# -- Word ----------------------------------------------------------------------------------------


class _Word:
    def __init__(self, meta: dict[str, Any], title: str, org: str) -> None:
        import docx
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Pt

        self.docx = docx
        self.center = WD_ALIGN_PARAGRAPH.CENTER
        self.meta = meta
        self.style = meta["style"]
        self.doc = docx.Document()
        self.doc.styles["Normal"].font.name = "Calibri"
        self.doc.styles["Normal"].font.size = Pt(11)
        self._ids = 100
        self._heading_num = self._new_abstract(
            [("decimal", "%1."), ("decimal", "%1.%2"), ("decimal", "%1.%2.%3")]
        )
        self._letter_abstract = self._new_abstract(
            [("lowerLetter", "(%1)"), ("lowerRoman", "(%2)")]
        )
        self._heading_num_id = self._new_num(self._heading_num)
        self._letters_num_id: str | None = None
        self.last_para: Any = None
        self.pending_run_in: str | None = None
        self.doc.add_paragraph(title, style="Title")
        facts = [
            f"Policy No. {meta['id']}" if meta.get("type") == "policy" else "",
            f"Version {meta['version']}" if meta.get("version") else "",
            f"Effective {meta['effective']}" if meta.get("effective") else "",
            f"Owner: {meta['owner']}" if meta.get("owner") else "",
        ]
        if any(facts):
            self.doc.add_paragraph(" | ".join(f for f in facts if f))

    # numbering.xml -----------------------------------------------------------------------------
    def _numbering(self) -> Any:
        return self.doc.part.numbering_part.element

    def _new_abstract(self, levels: list[tuple[str, str]]) -> str:
        from docx.oxml import parse_xml

        self._ids += 1
        aid = str(self._ids)
        lvls = "".join(
            f'<w:lvl w:ilvl="{i}"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/>'
            f'<w:lvlText w:val="{text}"/><w:lvlJc w:val="left"/>'
            f'<w:pPr><w:ind w:left="{360 * (i + 1)}" w:hanging="360"/></w:pPr></w:lvl>'
            for i, (fmt, text) in enumerate(levels)
        )
        el = parse_xml(
            f'<w:abstractNum xmlns:w="{W_NS}" w:abstractNumId="{aid}">'
            f'<w:multiLevelType w:val="multilevel"/>{lvls}</w:abstractNum>'
        )
        numbering = self._numbering()
        first_num = numbering.find(f"{{{W_NS}}}num")
        if first_num is not None:
            first_num.addprevious(el)
        else:
            numbering.append(el)
        return aid

    def _new_num(self, abstract_id: str, restart: bool = False) -> str:
        from docx.oxml import parse_xml

        self._ids += 1
        nid = str(self._ids)
        override = (
            '<w:lvlOverride w:ilvl="0"><w:startOverride w:val="1"/></w:lvlOverride>'
            if restart
            else ""
        )
        self._numbering().append(
            parse_xml(
                f'<w:num xmlns:w="{W_NS}" w:numId="{nid}">'
                f'<w:abstractNumId w:val="{abstract_id}"/>{override}</w:num>'
            )
        )
        return nid

    @staticmethod
    def _set_num(paragraph: Any, num_id: str, ilvl: int) -> None:
        from docx.oxml import parse_xml

        ppr = paragraph._p.get_or_add_pPr()
        ppr.append(
            parse_xml(
                f'<w:numPr xmlns:w="{W_NS}"><w:ilvl w:val="{ilvl}"/>'
                f'<w:numId w:val="{num_id}"/></w:numPr>'
            )
        )

    # content -------------------------------------------------------------------------------
    def _runs(self, paragraph: Any, text: str, bold: bool = False) -> None:
        """Add ``text`` as runs; ``~~x~~`` becomes a tracked deletion, ``**x**`` a bold run."""
        from docx.oxml import parse_xml

        if not bold and _BOLD.search(text):
            pos = 0
            for m in _BOLD.finditer(text):
                if m.start() > pos:
                    self._runs(paragraph, text[pos : m.start()])
                self._runs(paragraph, m.group(1), bold=True)
                pos = m.end()
            if pos < len(text):
                self._runs(paragraph, text[pos:])
            return
        pos = 0
        for m in _DEL.finditer(text):
            if m.start() > pos:
                paragraph.add_run(text[pos : m.start()]).bold = bold or None
            self._ids += 1
            deleted = (
                f'<w:del xmlns:w="{W_NS}" w:id="{self._ids}" w:author="Legal Review" '
                f'w:date="2026-01-05T09:00:00Z"><w:r><w:delText xml:space="preserve">'
                f"{_xml_escape(m.group(1))}</w:delText></w:r></w:del>"
            )
            paragraph._p.append(parse_xml(deleted))
            pos = m.end()
        if pos < len(text):
            paragraph.add_run(text[pos:]).bold = bold or None

    def heading(self, text: str, level: int) -> None:
        self._letters_num_id = None
        if self.style == "bold-headings":
            p = self.doc.add_paragraph()
            p.add_run(text).bold = True
            self.last_para = p
            return
        if self.style == "article":
            art = _ART.match(text)
            if art and level == 1:
                p = self.doc.add_paragraph(
                    f"ARTICLE {art.group(1).upper()} \u2014 {art.group(2).upper()}",
                    style="Heading 1",
                )
                p.alignment = self.center
                self.last_para = p
                return
            num = _NUM.match(text)
            self.pending_run_in = f"Section {num.group(1)} {num.group(2)}." if num else text
            return
        num = _NUM.match(text)
        style = f"Heading {min(level, 3)}"
        if self.style == "word-numbered" and num:
            p = self.doc.add_paragraph(num.group(2), style=style)
            self._set_num(p, self._heading_num_id, num.group(1).count("."))
        else:
            p = self.doc.add_paragraph(text, style=style)
        self.last_para = p

    def _flush_run_in(self) -> None:
        if self.pending_run_in is not None:
            p = self.doc.add_paragraph()
            p.add_run(self.pending_run_in.rstrip(".")).bold = True
            self.pending_run_in = None
            self.last_para = p

    def paragraph(self, text: str) -> None:
        p = self.doc.add_paragraph()
        if self.pending_run_in is not None:
            p.add_run(self.pending_run_in + " ").bold = True
            self.pending_run_in = None
        self._runs(p, text)
        self.last_para = p

    def item(self, text: str) -> None:
        self._flush_run_in()
        m = _ITEM.match(text)
        assert m is not None
        if self.style == "word-numbered":
            if self._letters_num_id is None or m.group(1) == "a":  # a new list starts at (a)
                self._letters_num_id = self._new_num(self._letter_abstract, restart=True)
            p = self.doc.add_paragraph(style="List Paragraph")
            self._set_num(p, self._letters_num_id, 0)
            self._runs(p, text[m.end() :])
        else:
            p = self.doc.add_paragraph(style="List Paragraph")
            self._runs(p, text)
        self.last_para = p

    def bullet(self, text: str) -> None:
        self._flush_run_in()
        p = self.doc.add_paragraph(style="List Bullet")
        self._runs(p, text)
        self.last_para = p

    def table(self, rows: list[list[str]]) -> None:
        self._flush_run_in()
        width = max(len(r) for r in rows)
        table = self.doc.add_table(rows=len(rows), cols=width)
        table.style = "Table Grid"
        for i, row in enumerate(rows):
            for j in range(width):
                cell = table.cell(i, j)
                cell.text = ""
                run = cell.paragraphs[0].add_run(row[j] if j < len(row) else "")
                run.bold = True if i == 0 else None

    def comment(self, text: str) -> None:
        if self.last_para is None or not self.last_para.runs:
            return
        self.doc.add_comment(self.last_para.runs[0], text=text, author="Reviewer", initials="RV")

    def finish(self) -> bytes:
        self._flush_run_in()
        core = self.doc.core_properties
        core.author = "Saguaro Community Health Plan"
        core.last_modified_by = "Compliance Department"
        core.created = FIXED.replace(tzinfo=None)
        core.modified = FIXED.replace(tzinfo=None)
        core.revision = 1
        core.title = ""
        if self.meta["metadata"] == "embedded":
            core.title = str(self.meta["title"])
            core.identifier = str(self.meta["id"])
            core.version = str(self.meta.get("version", ""))
            core.category = str(self.meta["type"])
        out = io.BytesIO()
        self.doc.save(out)
        data = out.getvalue()
        if self.meta["metadata"] == "embedded":
            data = _with_custom_properties(data, _public_meta(self.meta))
        return _deterministic_zip(data)


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _public_meta(meta: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in meta.items():
        if key in RENDER_KEYS or value in (None, ""):
            continue
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        out[key] = str(value)
    return out


def _with_custom_properties(data: bytes, props: dict[str, str]) -> bytes:
    """Add docProps/custom.xml (Word's File > Info > Properties > Custom) to a .docx."""
    fmtid = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"
    body = "".join(
        f'<property fmtid="{fmtid}" pid="{i + 2}" name="{_xml_escape(k)}">'
        f"<vt:lpwstr>{_xml_escape(v)}</vt:lpwstr></property>"
        for i, (k, v) in enumerate(props.items())
    )
    custom = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"'
        ' xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        f"{body}</Properties>"
    )
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            blob = src.read(info.filename)
            if info.filename == "[Content_Types].xml":
                blob = blob.replace(
                    b"</Types>",
                    b'<Override PartName="/docProps/custom.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.custom-properties+xml"/></Types>',
                )
            elif info.filename == "_rels/.rels":
                blob = blob.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdCustom" Type="http://schemas.openxmlformats.org/'
                    b'officeDocument/2006/relationships/custom-properties" '
                    b'Target="docProps/custom.xml"/></Relationships>',
                )
            dst.writestr(info.filename, blob)
        dst.writestr("docProps/custom.xml", custom.encode("utf-8"))
    return out.getvalue()


def _deterministic_zip(data: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in sorted(
            src.infolist(), key=lambda i: (i.filename != "[Content_Types].xml", i.filename)
        ):
            fixed = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 5, 9, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            blob = src.read(info.filename)
            if info.filename == "word/comments.xml":  # python-docx stamps comments with now()
                blob = re.sub(rb'w:date="[^"]*"', b'w:date="2026-01-05T09:00:00Z"', blob)
            dst.writestr(fixed, blob)
    return out.getvalue()


def render_docx(meta: dict[str, Any], title: str, items: list[Item], org: str) -> bytes:
    word = _Word(meta, title, org)
    for it in items:
        if it.kind == "h":
            word.heading(it.text, it.level)
        elif it.kind == "p":
            word.paragraph(it.text)
        elif it.kind == "item":
            word.item(it.text)
        elif it.kind == "bullet":
            word.bullet(it.text)
        elif it.kind == "table":
            word.table(it.rows)
        elif it.kind == "comment":
            word.comment(it.text)
    return word.finish()


# -- PDF -----------------------------------------------------------------------------------------


def render_pdf(meta: dict[str, Any], title: str, items: list[Item], org: str) -> bytes:
    from make_corpus_pdfs import _Doc, _latin1, _with_info  # type: ignore[import-not-found]

    confidential = "CONFIDENTIAL - " if meta.get("type") == "baa" else ""
    running = meta["id"] if meta["metadata"] != "none" else meta["title"]
    pdf = _Doc(f"{confidential}{ORG_NAME.get(org, org)} - {running}")
    pdf.set_creation_date(FIXED)
    if meta["metadata"] == "embedded":
        pdf.set_title(_latin1(str(meta["title"])))
    pdf.set_author(ORG_NAME.get(org, org))
    pdf.set_creator("Microsoft Word")
    pdf.set_producer("fpdf2")
    pdf.set_margins(25, 22, 25)
    pdf.set_auto_page_break(True, margin=22)
    pdf.add_page()
    pdf.set_font("Times", "B", 14)
    pdf.multi_cell(0, 7, _latin1(title), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Times", size=9)
    if meta["metadata"] != "none":
        version, effective = meta.get("version", ""), meta.get("effective", "")
        facts = f"{meta['id']}  -  Version {version}  -  Effective {effective}"
        pdf.multi_cell(0, 5, _latin1(facts), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    run_in = ""  # article style: "Section 4.2 Encryption." opens the next paragraph
    for it in items:
        art = _ART.match(it.text) if it.kind == "h" and meta["style"] == "article" else None
        num = _NUM.match(it.text) if it.kind == "h" and meta["style"] == "article" else None
        if art and it.level == 1:
            pdf.ln(3)
            pdf.set_font("Times", "B", 12)
            heading = f"ARTICLE {art.group(1).upper()} - {art.group(2).upper()}"
            pdf.multi_cell(0, 6, _latin1(heading), align="C", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
        elif num:
            run_in = f"**Section {num.group(1)} {clean(num.group(2))}.** "
        elif it.kind == "h":
            pdf.ln(2)
            pdf.set_font("Times", "B", 12 if it.level == 1 else 11)
            pdf.multi_cell(0, 6, _latin1(clean(it.text)), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        elif it.kind in ("p", "item", "bullet"):
            pdf.set_font("Times", size=10.5)
            text = clean(it.text)
            indent = 6 if it.kind != "p" else 0
            text = f"- {text}" if it.kind == "bullet" else text
            if run_in and it.kind == "p":
                text, run_in, indent = run_in + text, "", 0
            elif run_in:  # a section whose first paragraph is a list: its heading stands alone
                pdf.set_font("Times", "B", 10.5)
                pdf.multi_cell(0, 5, _latin1(run_in.strip(" *")), new_x="LMARGIN", new_y="NEXT")
                pdf.set_font("Times", size=10.5)
                run_in = ""
            pdf.set_x(pdf.l_margin + indent)
            markdown = "**" in text  # only a run-in heading is marked up
            pdf.multi_cell(0, 5, _latin1(text), new_x="LMARGIN", new_y="NEXT", markdown=markdown)
            pdf.ln(2)
        elif it.kind == "table":
            pdf.set_font("Times", size=9.5)
            with pdf.table(first_row_as_headings=True) as table:
                width = max(len(r) for r in it.rows)
                for row in it.rows:
                    cells = table.row()
                    for j in range(width):
                        cells.cell(_latin1(clean(row[j]) if j < len(row) else ""))
            pdf.ln(3)
    out = io.BytesIO()
    pdf.output(out)
    data = out.getvalue()
    if meta["metadata"] == "embedded":
        import json

        data = _with_info(data, json.dumps(_public_meta(meta), sort_keys=True))
    return data


def render_md(meta: dict[str, Any], title: str, items: list[Item], org: str) -> bytes:
    front = yaml.safe_dump(_public_meta(meta), sort_keys=False, allow_unicode=True)
    lines = ["---", front.rstrip(), "---"] if meta["metadata"] == "embedded" else []
    if items and items[0].kind == "raw":
        return ("\n".join([*lines, items[0].text]).lstrip("\n")).encode("utf-8")
    lines += [f"# {title}", ""]
    for it in items:
        if it.kind == "h":
            lines += ["#" * (it.level + 1) + " " + clean(it.text), ""]
        elif it.kind in ("p", "item"):
            lines += [clean(it.text), ""]
        elif it.kind == "bullet":
            lines += [f"- {clean(it.text)}"]
        elif it.kind == "table":
            lines += ["| " + " | ".join(it.rows[0]) + " |", "|" + "---|" * len(it.rows[0])]
            lines += ["| " + " | ".join(clean(c) for c in row) + " |" for row in it.rows[1:]]
            lines += [""]
    return ("\n".join(lines).rstrip() + "\n").encode("utf-8")


RENDERERS = {"docx": render_docx, "pdf": render_pdf, "md": render_md}


def file_name(meta: dict[str, Any]) -> str:
    if meta.get("file"):
        return str(meta["file"])
    if meta.get("type") == "baa":
        base = f"{meta.get('counterparty', meta['id'])} - Business Associate Agreement"
    else:
        base = f"{meta['id']} {meta['title']}"
    base = re.sub(r"[^\w ,.&()-]+", "", base).strip()
    return f"{base}.{meta['output']}"


def output_folder(org_root: Path, source_folder: str) -> Path:
    """``src/policies`` -> ``documents/policies``; ``src/received`` -> ``received/``: contracts
    dropped in as they arrived, kept apart from the organisation's corpus (a profile adds them)."""
    if source_folder == "received":
        return org_root / "received"
    return org_root / "documents" / source_folder


def render_org(org: str) -> dict[Path, bytes]:
    src = ROOT / "evals" / "orgs" / org / "src"
    org_root = ROOT / "evals" / "orgs" / org
    files: dict[Path, bytes] = {}
    for path in sorted(src.glob("*/*.md")):
        meta, title, items = parse_source(path.read_text(encoding="utf-8"))
        missing = [k for k in ("id", "title", "type", *RENDER_KEYS[:3]) if k not in meta]
        if missing:
            raise SystemExit(f"{path}: front matter lacks {missing}")
        target = output_folder(org_root, path.parent.name) / file_name(meta)
        files[target] = RENDERERS[meta["output"]](meta, title, items, org)
        if meta["metadata"] == "sidecar":
            side = yaml.safe_dump(_public_meta(meta), sort_keys=False, allow_unicode=True)
            files[target.with_name(target.name + ".meta.yaml")] = side.encode("utf-8")
    terms = src / "baa-terms.yaml"  # the organisation's BAA terms, kept beside its documents
    if terms.is_file():
        files[org_root / "documents" / terms.name] = terms.read_bytes()
    return files


def digest(path: Path, data: bytes) -> str:
    """What must not drift: a PDF's text and metadata (its bytes carry a random file id), any
    other file's bytes (written deterministically)."""
    if path.suffix == ".pdf":
        from make_corpus_pdfs import text_digest  # type: ignore[import-not-found]

        return str(text_digest(data))
    return hashlib.sha256(data).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("org", help="the organisation's folder under evals/orgs/")
    parser.add_argument("--check", action="store_true", help="only check the files are current")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "scripts"))
    files = render_org(args.org)
    org_root = ROOT / "evals" / "orgs" / args.org
    stale = [
        p for p, d in files.items() if not p.exists() or digest(p, p.read_bytes()) != digest(p, d)
    ]
    outputs = [org_root / "documents", org_root / "received"]
    extra = [p for out in outputs for p in out.rglob("*") if p.is_file() and p not in files]
    if args.check:
        for p in stale + extra:
            rel = p.relative_to(ROOT)
            print(f"out of date: {rel} (run: python scripts/make_eval_org.py {args.org})")
        return 1 if stale or extra else 0
    for p in extra:
        p.unlink()
    for p, data in files.items():
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        print(f"wrote {p.relative_to(ROOT)} ({len(data):,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

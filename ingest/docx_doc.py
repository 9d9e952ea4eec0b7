"""Word documents (.docx): headings from paragraph styles, outline levels, list numbering and bold
lines; tables as readable rows; comments, tracked deletions and hidden text left out; metadata from
the document's properties (core and custom).

The file is checked before it is opened: a Word 97-2003 ``.doc``, a password-protected document
(Office encrypts into an OLE container), a macro-enabled document, a damaged or foreign zip, and a
zip whose parts expand far beyond their size are each refused with a one-line reason."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

from core.errors import DocumentError
from ingest.clean_text import normalise
from ingest.numbered import (
    Block,
    Heading,
    Paragraph,
    classify_heading,
    lead_in_heading,
    with_run_in_headings,
)
from ingest.tables import table_lines
from ingest.word_numbering import W, WordNumbering

_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")
_MACRO_TYPES = ("macroEnabled", "vbaProject")
_MAX_PARTS = 2000
_HEADING_STYLE = re.compile(r"^heading\s*([1-9])$", re.I)
_SKIP = {f"{W}{t}" for t in ("del", "moveFrom", "instrText", "delText", "rPr", "pPr", "sdtPr")}
_TEXT_TAGS = {f"{W}t": None, f"{W}tab": " ", f"{W}br": " ", f"{W}cr": " ", f"{W}noBreakHyphen": "-"}
_SPACES = re.compile(r"\s+")
_CP = "{http://schemas.openxmlformats.org/officeDocument/2006/custom-properties}"
_META_KEYS = (
    "id",
    "doc_id",
    "title",
    "type",
    "doc_type",
    "owner",
    "effective",
    "as_of",
    "version",
    "vendor",
    "counterparty",
    "url",
    "access_groups",
    "implements",
)


@dataclass
class DocxText:
    title: str
    blocks: list[Block]
    meta: dict[str, Any] = field(default_factory=dict)


def check_container(data: bytes, max_unpacked: int) -> zipfile.ZipFile:
    """The document as a zip, or ``DocumentError`` saying why it cannot be read."""
    if data.startswith(_CFB_MAGIC):
        if _ENCRYPTION_INFO in data:
            raise DocumentError(
                "the Word document is password-protected (encrypted): save a copy without a "
                "password"
            )
        raise DocumentError("a Word 97-2003 document (.doc), not .docx: save it as .docx")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise DocumentError(
            "not a valid Word document (.docx): the file is damaged or of another type"
        ) from exc
    names = {i.filename for i in infos}
    if "word/document.xml" not in names:
        raise DocumentError("not a Word document: the zip holds no word/document.xml")
    if len(infos) > _MAX_PARTS:
        raise DocumentError(f"the Word document has too many parts ({len(infos)})")
    unpacked = sum(i.file_size for i in infos)
    if unpacked > max_unpacked:
        raise DocumentError(
            f"the Word document expands to {unpacked / (1 << 20):.0f} MB when unzipped "
            f"(limit {max_unpacked >> 20} MB)"
        )
    content_types = (
        archive.read("[Content_Types].xml").decode("utf-8", "replace")
        if "[Content_Types].xml" in names
        else ""
    )
    if any(n.lower().endswith("vbaproject.bin") for n in names) or any(
        t in content_types for t in _MACRO_TYPES
    ):
        raise DocumentError(
            "a macro-enabled Word document: save it as a plain .docx (without macros)"
        )
    return archive


def read_docx(data: bytes, max_unpacked: int) -> DocxText:
    archive = check_container(data, max_unpacked)
    try:
        import docx  # python-docx: loaded only when a Word document is read

        document = docx.Document(io.BytesIO(data))
    except DocumentError:
        raise
    except Exception as exc:  # damaged XML, missing parts: python-docx raises many kinds
        raise DocumentError(
            f"not a valid Word document (.docx): {type(exc).__name__} while opening it"
        ) from exc
    try:
        meta = _core_meta(document) | _custom_meta(archive)
        title, blocks = _DocxWalker(document).walk()
    except DocumentError:
        raise
    except Exception as exc:
        raise DocumentError(f"the Word document could not be read ({type(exc).__name__})") from exc
    return DocxText(title, with_run_in_headings(blocks), meta)


def _core_meta(document: Any) -> dict[str, Any]:
    core = document.core_properties
    meta: dict[str, Any] = {}
    for key, value in (
        ("title", core.title),
        ("id", core.identifier),
        ("version", core.version),
        ("type", (core.category or "").strip().lower()),
    ):
        if value and str(value).strip():
            meta[key] = str(value).strip()
    if meta.get("type") not in ("policy", "baa", "guidance", "rule"):
        meta.pop("type", None)
    return meta


def _custom_meta(archive: zipfile.ZipFile) -> dict[str, Any]:
    """Custom document properties (File > Info > Properties > Custom) named like front-matter
    fields: ``id``, ``type``, ``vendor``, ``access_groups``, ``effective`` ..."""
    try:
        raw = archive.read("docProps/custom.xml")
    except KeyError:
        return {}
    from defusedxml import ElementTree

    try:
        root = ElementTree.fromstring(raw)
    except Exception as exc:
        raise DocumentError("the Word document's custom properties are not valid XML") from exc
    meta: dict[str, Any] = {}
    for prop in root.findall(f"{_CP}property"):
        name = (prop.get("name") or "").strip().lower().replace(" ", "_").replace("-", "_")
        if name not in _META_KEYS:
            continue
        value = "".join(prop.itertext()).strip()
        if value:
            meta[name] = value
    return meta


class _DocxWalker:
    def __init__(self, document: Any) -> None:
        self.document = document
        try:
            numbering = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            numbering = None
        self.numbering = WordNumbering(numbering)
        self.styles = {s.style_id: s for s in document.styles}
        self.title = ""
        self.blocks: list[Block] = []
        # paragraphs opening with a bold lead-in ("Safeguards. Provider will ..."): the clauses
        # of a document without numbered headings
        self.lead_ins: dict[int, tuple[Heading, Paragraph]] = {}

    def walk(self) -> tuple[str, list[Block]]:
        self._container(self.document.element.body)
        if self.lead_ins and not any(isinstance(b, Heading) and b.number for b in self.blocks):
            blocks: list[Block] = []
            for block in self.blocks:
                blocks.extend(self.lead_ins.get(id(block), (block,)))
            self.blocks = blocks
        return self.title, self.blocks

    def _container(self, element: Any) -> None:
        for child in element:
            if child.tag == f"{W}p":
                self._paragraph(child)
            elif child.tag == f"{W}tbl":
                self._table(child)
            elif child.tag in (f"{W}sdt", f"{W}sdtContent", f"{W}ins", f"{W}customXml"):
                self._container(child)

    # -- paragraphs ---------------------------------------------------------------------------

    def _paragraph(self, p: Any) -> None:
        text = paragraph_text(p)
        style = self._style_chain(_val(p.find(f"{W}pPr"), "pStyle"))
        label = self._label(p, style)
        if not text:
            return
        names = [s.name or "" for s in style]
        if any(n.lower() in ("title",) for n in names[:1]) and not self.title:
            self.title = text
            return
        level = self._outline_level(p, style)
        if level is not None:
            self.blocks.append(classify_heading(_join(label, text), level))
            return
        if label is None and self._is_bold_line(p, style, text):
            self.blocks.append(classify_heading(text, None))
            return
        if label:  # "(b)", "4.2.", "Article IV" shown by Word before the text
            shown = _join(label, text)
            heading = classify_heading(shown) if not label.startswith("(") else None
            # a numbered line is a heading when it looks like one (bold, or an article); a plain
            # numbered list ("1. Open the portal") stays a list in its section
            if heading is not None and (
                heading.article or (_short_heading(heading) and self._is_bold_line(p, style, text))
            ):
                self.blocks.append(heading)
                return
            self.blocks.append(Paragraph(shown))
            return
        paragraph = Paragraph(text)
        self.blocks.append(paragraph)
        lead = self._bold_lead(p, style)
        heading = lead_in_heading(lead, text[len(lead) :]) if text.startswith(lead) else None
        if lead and heading is not None:
            self.lead_ins[id(paragraph)] = (heading, Paragraph(text[len(lead) :].strip()))

    def _style_chain(self, style_id: str | None) -> list[Any]:
        chain: list[Any] = []
        style = self.styles.get(style_id) if style_id else None
        if style is None:
            style = self.document.styles.default(_paragraph_type())
        while style is not None and style not in chain and len(chain) < 20:
            chain.append(style)
            style = style.base_style
        return chain

    def _label(self, p: Any, chain: list[Any]) -> str | None:
        num_id, ilvl = _num_pr(p.find(f"{W}pPr"))
        if num_id is None:
            for style in chain:
                num_id, style_ilvl = _num_pr(style.element.find(f"{W}pPr"))
                if num_id is not None:
                    ilvl = ilvl if ilvl is not None else style_ilvl
                    break
        if num_id is None:
            return None
        return self.numbering.label(num_id, ilvl or 0)

    def _outline_level(self, p: Any, chain: list[Any]) -> int | None:
        """1 for a top heading, 2 below it ...; None for body text."""
        direct = _val(p.find(f"{W}pPr"), "outlineLvl")
        if direct is not None:
            return int(direct) + 1 if int(direct) < 9 else None
        for style in chain:
            m = _HEADING_STYLE.match(style.name or "")
            if m:
                return int(m.group(1))
            lvl = _val(style.element.find(f"{W}pPr"), "outlineLvl")
            if lvl is not None:
                return int(lvl) + 1 if int(lvl) < 9 else None
        return None

    def _is_bold_line(self, p: Any, chain: list[Any], text: str) -> bool:
        """A short line set in bold (or in capitals) and nothing else: a heading without a
        style, as many policies are written."""
        words = text.split()
        if not 1 <= len(words) <= 14 or text.endswith((".", ",", ";")) or text.startswith("("):
            return False
        if text.isupper() and len(words) <= 10 and any(c.isalpha() for c in text):
            return True
        style_bold = any(_is_on(s.element.find(f"{W}rPr"), "b") for s in chain)
        runs = [r for r in p.iter(f"{W}r") if _run_text(r).strip()]
        if not runs:
            return False
        return all(_run_bold(r, style_bold) for r in runs)

    def _bold_lead(self, p: Any, chain: list[Any]) -> str:
        """The bold text a paragraph opens with, when the rest of it is not bold."""
        style_bold = any(_is_on(s.element.find(f"{W}rPr"), "b") for s in chain)
        lead: list[str] = []
        for r in p.iter(f"{W}r"):
            text = _run_text(r)
            if text.strip() and not _run_bold(r, style_bold):
                return normalise("".join(lead)).strip()
            lead.append(text)
        return ""  # bold throughout, or no text

    # -- tables ------------------------------------------------------------------------------

    def _table(self, tbl: Any) -> None:
        rows: list[list[str]] = []
        for tr in tbl.findall(f"{W}tr"):
            cells: list[str] = []
            for tc in tr.findall(f"{W}tc"):
                vmerge = tc.find(f"{W}tcPr/{W}vMerge")
                if vmerge is not None and vmerge.get(f"{W}val") in (None, "continue"):
                    cells.append(
                        rows[-1][len(cells)] if rows and len(rows[-1]) > len(cells) else ""
                    )
                    continue
                cells.append(
                    _SPACES.sub(" ", " ".join(paragraph_text(p) for p in tc.iter(f"{W}p"))).strip()
                )
            if any(cells):
                rows.append(cells)
        for line in table_lines(rows):
            self.blocks.append(Paragraph(line))


def paragraph_text(p: Any) -> str:
    """The text Word shows for a paragraph: insertions kept; deletions, moved-from text, field
    codes, hidden runs and comment marks left out."""
    parts: list[str] = []
    _collect(p, parts)
    text = normalise("".join(parts))
    return _SPACES.sub(" ", text).strip()


def _collect(el: Any, parts: list[str]) -> None:
    for child in el:
        tag = child.tag
        if tag in _SKIP or not isinstance(tag, str):
            continue
        if tag == f"{W}r" and _is_on(child.find(f"{W}rPr"), "vanish"):
            continue
        if tag in _TEXT_TAGS:
            parts.append(child.text or "" if _TEXT_TAGS[tag] is None else str(_TEXT_TAGS[tag]))
            continue
        if tag == f"{W}p" and parts:
            parts.append(" ")
        _collect(child, parts)


def _run_text(r: Any) -> str:
    parts: list[str] = []
    _collect(r, parts)
    return "".join(parts)


def _run_bold(r: Any, style_bold: bool) -> bool:
    rpr = r.find(f"{W}rPr")
    if rpr is not None and rpr.find(f"{W}b") is not None:
        return _is_on(rpr, "b")
    return style_bold


def _val(el: Any, tag: str) -> str | None:
    if el is None:
        return None
    child = el.find(f"{W}{tag}")
    return None if child is None else child.get(f"{W}val")


def _is_on(rpr: Any, tag: str) -> bool:
    if rpr is None:
        return False
    el = rpr.find(f"{W}{tag}")
    if el is None:
        return False
    return el.get(f"{W}val", "true").lower() not in ("0", "false", "off", "none")


def _num_pr(ppr: Any) -> tuple[str | None, int | None]:
    if ppr is None:
        return None, None
    num_pr = ppr.find(f"{W}numPr")
    if num_pr is None:
        return None, None
    num_id = _val(num_pr, "numId")
    ilvl = _val(num_pr, "ilvl")
    return num_id, int(ilvl) if ilvl is not None else None


def _join(label: str | None, text: str) -> str:
    return f"{label} {text}" if label else text


def _short_heading(heading: Heading) -> bool:
    return (
        bool(heading.number)
        and len(heading.title.split()) <= 14
        and not heading.title.endswith((".", ";", ","))
    )


def _paragraph_type() -> Any:
    from docx.enum.style import WD_STYLE_TYPE

    return WD_STYLE_TYPE.PARAGRAPH

"""Word (.docx) and web-page (.html) documents: structure and locators as the document numbers
them, what Word keeps out of the text, metadata, and each kind of bad file refused with its reason.

The Word files are built here with python-docx through the same renderer that writes the unseen
evaluation organisation (``scripts/make_eval_org.py``), in each numbering style."""

from __future__ import annotations

import importlib.util
import io
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from core.errors import DocumentError
from core.settings import Settings
from ingest.docx_doc import paragraph_text, read_docx
from ingest.loaders import SourceFile, load
from ingest.numbered import Heading, Paragraph, build_tree
from ingest.word_numbering import WordNumbering
from tests.conftest import ROOT

_spec = importlib.util.spec_from_file_location(
    "make_eval_org", ROOT / "scripts" / "make_eval_org.py"
)
assert _spec is not None and _spec.loader is not None
make_eval_org: Any = importlib.util.module_from_spec(_spec)
sys.modules["make_eval_org"] = make_eval_org
_spec.loader.exec_module(make_eval_org)

LIMIT = 64 << 20

BODY = """# Remote Work Security

Preamble paragraph about who this applies to.

## 1 Purpose
This policy sets the rules for working away from the office with member information.

## 2 Devices
### 2.1 Plan Laptops
Laptops must be encrypted and locked after 10 minutes. The retention is ~~90~~ 30 days.

> COMMENT: Legal to confirm the wording before publication.

(a) Keep the laptop with you when travelling.

(b) Never let family members use it.

### 2.2 Personal Phones
Personal phones may hold Plan email only when enrolled in device management.

| Device | Allowed data |
|---|---|
| Laptop | All member information |
| Phone | Email only |

## 3 Reporting
Report a lost device within 1 hour.
"""

ARTICLE_BODY = """# Business Associate Agreement

This Agreement is made between the Plan and Vendor.

## Article I - Definitions
### 1.1 Terms
Capitalised terms have the meanings given in HIPAA.

## Article IV - Reporting
### 4.1 Breach Notice
Vendor shall report a Breach within five (5) business days.

### 4.2 Contents of Report
The report shall include the following.

(a) the members affected;

(b) what happened.
"""

BOLD_BODY = """# Workforce Training

## Required Training
New staff complete training within 30 days.

## Sanction Levels
Level 3 is a final written warning.
"""


def _docx(body: str, style: str, metadata: str = "embedded", **meta: Any) -> bytes:
    front = {
        "id": "TST-RW-01",
        "title": "Remote Work Security",
        "type": "policy",
        "owner": "IT",
        "effective": "2026-01-01",
        "version": "1.0",
        "access_groups": ["staff"],
        "output": "docx",
        "style": style,
        "metadata": metadata,
        **meta,
    }
    import yaml

    text = "---\n" + yaml.safe_dump(front) + "---\n" + body
    m, title, items = make_eval_org.parse_source(text)
    return bytes(make_eval_org.render_docx(m, title, items, "test"))


def _load(tmp_path: Path, name: str, data: bytes, settings: Settings | None = None) -> Any:
    path = tmp_path / name
    path.write_bytes(data)
    s = settings or Settings(paths={"data_dir": tmp_path / "data", "corpus_dirs": []})
    return load(SourceFile(path, "corpus"), data, s)


def _locators_of(chunk: Any) -> set[str]:
    return {chunk.locator, *(s.locator for s in chunk.spans)}


def _locators(loaded: Any) -> set[str]:
    return {c.locator for c in loaded.chunks} | {s.locator for c in loaded.chunks for s in c.spans}


@pytest.mark.parametrize("style", ["word-numbered", "typed-numbers"])
def test_numbered_word_documents_get_section_and_item_locators(tmp_path: Path, style: str) -> None:
    loaded = _load(tmp_path, "remote.docx", _docx(BODY, style))
    locs = _locators(loaded)
    assert {"TST-RW-01 §1", "TST-RW-01 §2.1", "TST-RW-01 §2.2", "TST-RW-01 §3"} <= locs
    assert {"TST-RW-01 §2.1(a)", "TST-RW-01 §2.1(b)"} <= locs
    text = "\n".join(c.text for c in loaded.chunks)
    # the tracked deletion and the reviewer's comment are not the policy's text
    assert "retention is 30 days" in text and "90" not in text
    assert "Legal to confirm" not in text
    # a table is read row by row, each cell with its column's header
    assert "Device: Phone; Allowed data: Email only." in text
    assert loaded.document.doc_id == "TST-RW-01" and loaded.document.fmt == "docx"
    assert loaded.document.title == "Remote Work Security"


def test_word_automatic_numbering_is_what_the_reader_sees(tmp_path: Path) -> None:
    """In the word-numbered style the numbers are not in the text at all: Word draws them."""
    data = _docx(BODY, "word-numbered")
    xml = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode()
    assert ">Plan Laptops<" in xml and "2.1 Plan Laptops" not in xml
    chunk = next(
        c for c in _load(tmp_path, "r.docx", data).chunks if "TST-RW-01 §2.1" in _locators_of(c)
    )
    assert "2.1 Plan Laptops\nLaptops must be encrypted" in chunk.text
    assert "(a) Keep the laptop" in chunk.text and "(b) Never let" in chunk.text


def test_contract_articles_with_run_in_section_headings(tmp_path: Path) -> None:
    data = _docx(ARTICLE_BODY, "article", type="baa", vendor="Vendor", id="BAA-V")
    loaded = _load(tmp_path, "baa.docx", data)
    locs = _locators(loaded)
    assert {"Vendor BAA §1.1", "Vendor BAA §4.1", "Vendor BAA §4.2"} <= locs
    assert {"Vendor BAA §4.2(a)", "Vendor BAA §4.2(b)"} <= locs
    notice = next(c for c in loaded.chunks if "Vendor BAA §4.1" in _locators_of(c))
    assert "4.1 Breach Notice\nVendor shall report a Breach within five (5) business days" in (
        notice.text
    )
    assert notice.locator == "Vendor BAA Art. IV"  # a short article is one passage
    assert any(p.startswith("Article IV") for p in (*notice.heading_path, notice.text))


def test_bold_lines_are_headings_and_name_their_part(tmp_path: Path) -> None:
    data = _docx(BOLD_BODY, "bold-headings", metadata="none")
    loaded = _load(tmp_path, "TST-HR-09 Workforce Training.docx", data)
    assert loaded.document.doc_id == "TST-HR-09"  # from the file name: no properties
    assert loaded.document.title == "Workforce Training"
    locs = _locators(loaded)
    assert {'TST-HR-09 "Required Training"', 'TST-HR-09 "Sanction Levels"'} <= locs


def test_word_properties_carry_the_metadata_and_a_sidecar_overrides_them(tmp_path: Path) -> None:
    data = _docx(BODY, "typed-numbers", type="baa", vendor="Acme Voice", id="BAA-ACME")
    loaded = _load(tmp_path, "contract.docx", data)
    doc = loaded.document
    assert (doc.doc_type, doc.vendor, doc.version, doc.as_of) == (
        "baa",
        "Acme Voice",
        "1.0",
        "2026-01-01",
    )
    (tmp_path / "contract.docx.meta.yaml").write_text("vendor: Acme Voice AI\n")
    assert _load(tmp_path, "contract.docx", data).document.vendor == "Acme Voice AI"


def _paragraph(xml: str) -> Any:
    from docx.oxml import parse_xml

    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    return parse_xml(f'<w:p xmlns:w="{w}">{xml}</w:p>')


def test_paragraph_text_keeps_insertions_and_drops_deletions_fields_and_hidden_text() -> None:
    p = _paragraph(
        "<w:r><w:t xml:space='preserve'>within </w:t></w:r>"
        "<w:del w:id='1' w:author='a'><w:r><w:delText>10</w:delText></w:r></w:del>"
        "<w:ins w:id='2' w:author='a'><w:r><w:t>5</w:t></w:r></w:ins>"
        "<w:r><w:rPr><w:vanish/></w:rPr><w:t>HIDDEN</w:t></w:r>"
        "<w:r><w:fldChar w:fldCharType='begin'/></w:r>"
        "<w:r><w:instrText> PAGE </w:instrText></w:r>"
        "<w:r><w:t xml:space='preserve'> business</w:t><w:tab/><w:t>days</w:t></w:r>"
        "<w:commentRangeStart w:id='3'/><w:r><w:commentReference w:id='3'/></w:r>"
    )
    assert paragraph_text(p) == "within 5 business days"


def test_word_numbering_formats_levels_and_restarts() -> None:
    from docx.oxml import parse_xml

    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    numbering = parse_xml(
        f'<w:numbering xmlns:w="{w}">'
        '<w:abstractNum w:abstractNumId="1">'
        '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="upperRoman"/>'
        '<w:lvlText w:val="Article %1"/></w:lvl>'
        '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/>'
        '<w:lvlText w:val="%1.%2"/></w:lvl><w:isLgl/></w:abstractNum>'
        '<w:abstractNum w:abstractNumId="2">'
        '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/>'
        '<w:lvlText w:val="(%1)"/></w:lvl></w:abstractNum>'
        '<w:num w:numId="5"><w:abstractNumId w:val="1"/></w:num>'
        '<w:num w:numId="6"><w:abstractNumId w:val="2"/></w:num>'
        '<w:num w:numId="7"><w:abstractNumId w:val="2"/>'
        '<w:lvlOverride w:ilvl="0"><w:startOverride w:val="1"/></w:lvlOverride></w:num>'
        "</w:numbering>"
    )
    n = WordNumbering(numbering)
    assert n.label("5", 0) == "Article I"
    assert n.label("5", 1) == "I.1"
    assert n.label("5", 1) == "I.2"
    assert n.label("5", 0) == "Article II"
    assert n.label("5", 1) == "II.1"  # deeper levels restart when a higher one advances
    assert [n.label("6", 0) for _ in range(3)] == ["(a)", "(b)", "(c)"]
    assert n.label("7", 0) == "(a)"  # a restarted instance of the same list
    assert n.label("0", 0) is None and n.label("99", 0) is None


def test_items_nest_and_a_letter_after_h_is_not_a_numeral() -> None:
    blocks = [
        Heading("5", "Duties"),
        *[Paragraph(f"({c}) duty {c}") for c in "abcdefgh"],
        Paragraph("(i) duty i"),
        Paragraph("(j) duty j"),
        Heading("6", "Reports"),
        Paragraph("(a) contents:"),
        Paragraph("(i) who"),
        Paragraph("(ii) what"),
        Paragraph("(b) timing"),
    ]
    roots = build_tree(blocks, "X")
    locs = [n.locator for r in roots for n in r.walk()]
    assert "X §5(i)" in locs and "X §5(j)" in locs
    assert {"X §6(a)(i)", "X §6(a)(ii)", "X §6(b)"} <= set(locs)


# -- bad Word files -------------------------------------------------------------------------------


def _encrypted(data: bytes) -> bytes:
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt("secret", out)
    return out.getvalue()


def _with_part(data: bytes, name: str, blob: bytes, drop: str = "") -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != drop:
                dst.writestr(info.filename, src.read(info.filename))
        if name:
            dst.writestr(name, blob)
    return out.getvalue()


def _bad_word_files() -> dict[str, tuple[bytes, str]]:
    good = _docx(BODY, "typed-numbers")
    import docx

    blank = io.BytesIO()
    docx.Document().save(blank)
    empty = blank.getvalue()
    return {
        "encrypted.docx": (_encrypted(good), "password-protected"),
        "legacy.docx": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "Word 97-2003"),
        "macros.docm": (_with_part(good, "word/vbaProject.bin", b"VBA"), "macro-enabled"),
        "corrupt.docx": (good[: len(good) // 2], "damaged"),
        "not-word.docx": (
            _with_part(good, "", b"", drop="word/document.xml"),
            "no word/document.xml",
        ),
        "bomb.docx": (_with_part(good, "word/media/big.bin", b"\0" * (70 << 20)), "expands to"),
        "broken-xml.docx": (
            _with_part(good, "word/document.xml", b"<w:document", drop="word/document.xml"),
            "not a valid Word document",
        ),
        "empty.docx": (empty, "no text"),
    }


@pytest.mark.parametrize("name", sorted(_bad_word_files()))
def test_each_bad_word_file_is_refused_with_its_reason(tmp_path: Path, name: str) -> None:
    data, reason = _bad_word_files()[name]
    with pytest.raises(DocumentError) as err:
        _load(tmp_path, name, data)
    assert reason.lower() in str(err.value).lower(), str(err.value)
    assert "\n" not in str(err.value)


def test_a_huge_word_document_is_refused_before_it_is_opened() -> None:
    data = _docx(BODY, "typed-numbers")
    with pytest.raises(DocumentError, match="expands to"):
        read_docx(data, max_unpacked=1024)


# -- HTML -----------------------------------------------------------------------------------------

HTML = """<!doctype html><html><head><title>Remote Work</title>
<meta name="id" content="TST-WEB-02"><meta name="type" content="policy">
<meta name="access_groups" content="staff, it">
<style>p {color: red}</style><script>var secret = 1;</script></head>
<body><nav>Home | Policies</nav>
<h1>TST-WEB-02 Remote Work Security</h1>
<p>Applies to all workforce.</p>
<h2>1. Purpose</h2><p>Rules for remote work.</p>
<h2>2. Devices</h2>
<h3>2.1 Laptops</h3><p>Laptops are encrypted.</p>
<ol type="a"><li>Keep it with you.</li><li>Lock it.</li></ol>
<table><tr><th>Device</th><th>Allowed</th></tr><tr><td>Phone</td><td>Email only</td></tr></table>
<h2>Appendix: Contacts</h2><p>Service Desk ext. 4357.</p>
</body></html>"""


def test_html_pages_get_headings_items_tables_and_meta(tmp_path: Path) -> None:
    loaded = _load(tmp_path, "remote.html", HTML.encode())
    doc = loaded.document
    assert doc.doc_id == "TST-WEB-02" and doc.access_groups == ("staff", "it")
    assert doc.title == "Remote Work Security" and doc.fmt == "html"
    locs = _locators(loaded)
    assert {"TST-WEB-02 §1", "TST-WEB-02 §2.1", "TST-WEB-02 §2.1(a)", "TST-WEB-02 §2.1(b)"} <= locs
    assert 'TST-WEB-02 "Appendix: Contacts"' in locs
    text = "\n".join(c.text for c in loaded.chunks)
    assert "Device: Phone; Allowed: Email only." in text
    assert "secret" not in text and "color" not in text and "Home | Policies" not in text


def test_binary_data_named_html_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="binary"):
        _load(tmp_path, "x.html", bytes(range(256)) * 10)


def test_a_plain_numbered_list_stays_in_its_section(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("Laptop Rules", style="Title")
    document.add_paragraph("1 Travel", style="Heading 1")
    document.add_paragraph("Before a trip, do the following.")
    for step in ("Back up your files", "Lock the screen", "Keep it in hand luggage"):
        document.add_paragraph(step, style="List Number")
    document.add_paragraph("2 Loss", style="Heading 1")
    document.add_paragraph("Report a lost laptop within one hour to the Service Desk.")
    out = io.BytesIO()
    document.save(out)
    loaded = _load(tmp_path, "TST-LAP-01 Laptop Rules.docx", out.getvalue())
    locs = _locators(loaded)
    assert {"TST-LAP-01 §1", "TST-LAP-01 §2"} <= locs and "TST-LAP-01 §3" not in locs
    travel = next(c for c in loaded.chunks if "TST-LAP-01 §1" in _locators_of(c))
    assert "Lock the screen" in travel.text


def test_markdown_with_inline_html_is_quoted_as_plain_text(tmp_path: Path) -> None:
    md = (
        '# Northstar BAA\n\n## 1 Breach\n\nThe <span class="keyterms_link">Provider</span>'
        " shall&nbsp;notify the Covered Entity within five\u00a0(5) business days of discovery"
        " of any breach of unsecured PHI, and the noti\u00adfication names the members.\n"
    )
    loaded = _load(tmp_path, "northstar.md", md.encode())
    text = "\n".join(c.text for c in loaded.chunks)
    assert "<span" not in text and "&nbsp;" not in text and "\u00a0" not in text
    assert "The Provider shall notify the Covered Entity within five (5) business days" in text
    assert "notification names the members" in text

"""Bad input never crashes an ingest or a question.

Each hostile or broken file (compression bombs disguised as PDFs, 50 MB files, 10,000 levels of
nesting, odd encodings, 0-byte files, binary junk) gets a clear one-line reason while the good
files beside it are indexed, and an index built before stays as it was. Property-based tests
fuzz the Markdown loader, the text decoder, the PDF reader and the question path.

Every fixture is generated at test time in a temporary folder: nothing big is committed.
"""

from __future__ import annotations

import io
import json
import random
import shutil
import subprocess
import sys
import time
import tracemalloc
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from assistant.audit import AuditTrail
from assistant.runtime.build import build_chain
from assistant.runtime.stores import open_store
from assistant.safety import PhiGuard
from assistant.service import AssistantService, Caller, InputError
from core.embeddings import build_embedder
from core.errors import DocumentError
from core.index.reader import Index
from core.index.state import CURRENT, IndexState
from core.settings import Settings
from ingest.loaders import SourceFile, load, read_bytes
from ingest.markdown_doc import decode_text
from ingest.pdf_text import read_pdf
from ingest.pipeline import IngestReport, run_ingest
from tests.conftest import ROOT, make_settings, search

MB = 1 << 20
GOOD_PDF = ROOT / "corpus" / "policies" / "REC-401-retention-disposal.pdf"
TINY_IDS = {"TST-100", "TST-200", "TST-BAA-ZEPHYR"}
NESTING = 10_000


# --- building PDFs by hand ------------------------------------------------------------------


def pdf_file(
    content: bytes,
    *,
    pages: int = 1,
    page_extra: bytes = b"",
    info: bytes = b"",
    ballast: int = 0,
) -> bytes:
    """A minimal well-formed PDF: ``pages`` pages sharing one FlateDecode content stream
    (``content``, already compressed) in Helvetica. ``info``: an info dictionary's entries;
    ``ballast``: an unreferenced binary stream of that many bytes (a big file that is a PDF)."""
    kids = " ".join(f"{5 + i} 0 R" for i in range(pages)).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content)
        + content
        + b"\nendstream",
    ]
    objects += [
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R " + page_extra + b">>"
    ] * pages
    if info:
        objects.append(b"<< " + info + b" >>")
    if ballast:
        blob = random.Random(7).randbytes(ballast)
        objects.append(b"<< /Length %d >>\nstream\n" % len(blob) + blob + b"\nendstream")
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    trailer = b"/Size %d /Root 1 0 R" % (len(objects) + 1)
    if info:
        trailer += b" /Info %d 0 R" % (len(objects) - (1 if ballast else 0))
    out += b"trailer\n<< " + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def text_content(lines: list[str]) -> bytes:
    ops = b"".join(b"(" + ln.encode("latin-1") + b") Tj T*\n" for ln in lines)
    return zlib.compress(b"BT /F1 11 Tf 14 TL 72 740 Td\n" + ops + b"ET")


def good_pdf_content() -> bytes:
    return text_content(
        [
            "1 Purpose",
            "This policy sets how long records are kept and how they are destroyed.",
            "2 Retention",
            "Audit logs of the assistant are kept for six years after creation.",
        ]
    )


def good_pdf() -> bytes:
    return pdf_file(good_pdf_content())


def text_bomb(size: int) -> bytes:
    """Text-showing operators that decompress to about ``size`` bytes (from far fewer)."""
    line = b"(All workforce members must complete the annual privacy training.) Tj T*\n"
    comp = zlib.compressobj(9)
    parts = [comp.compress(b"BT /F1 11 Tf 14 TL 72 740 Td\n")]
    block = line * max(1, min(size, MB) // len(line))
    written = 0
    while written + len(block) <= size:
        parts.append(comp.compress(block))
        written += len(block)
    parts.append(comp.compress(line * ((size - written) // len(line)) + b"ET"))
    parts.append(comp.flush())
    return b"".join(parts)


def deflate_bomb(megabytes: int) -> bytes:
    """A valid zlib stream of ``megabytes`` MB of zeros, built without compressing them: after a
    full flush each 1 MB of zeros compresses to the same bytes, so the block is repeated."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = comp.compress(bytes(MB)) + comp.flush(zlib.Z_FULL_FLUSH)
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    adler = (((megabytes * MB) % 65521) << 16) | 1  # Adler-32 of that many zero bytes
    return b"\x78\xda" + block * megabytes + final + adler.to_bytes(4, "big")


def test_the_hand_built_fixtures_are_what_they_claim() -> None:
    assert zlib.decompress(deflate_bomb(3)) == bytes(3 * MB)
    assert len(zlib.decompress(text_bomb(2 * MB))) == pytest.approx(2 * MB, rel=0.01)
    pdf = read_pdf(good_pdf())  # the hand-built PDF reads fine: failures below are the bombs'
    assert "six years" in pdf.pages[0]


# --- the fixtures ---------------------------------------------------------------------------


def _front(meta: str, body: str = "# Fixture\n\nText of a fixture policy, long enough.\n") -> bytes:
    return f"---\n{meta}\n---\n{body}".encode()


def _yaml_anchor_bomb() -> str:
    """'Billion laughs': 40**5 (10**8) values in six lines of YAML."""
    lines = ["a: &a [" + ", ".join(["lol"] * 40) + "]"]
    for i in range(1, 5):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 40) + "]")
    return "\n".join([*lines, "title: *e"])


def _nested_headings() -> bytes:
    out = ["# Nested headings"]
    for i in range(NESTING):
        level = 1 + i % 6
        number = ".".join(["1"] * (1 + i % 4))
        out.append(
            f"{'#' * level} {number} Heading {i}\n\nClause {i} applies to every workforce member."
        )
    out.append("#" * NESTING + " not a heading")
    return "\n\n".join(out).encode()


@dataclass(frozen=True)
class Fixture:
    name: str
    make: Callable[[Path], None]  # writes the file at the given path
    expect: str  # words of the reason; "" = indexed
    what: str


def _bytes(data: Callable[[], bytes]) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data())


def _big(head: bytes, fill: bytes, size: int) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        with path.open("wb") as fh:
            fh.write(head)
            block = fill * (MB // len(fill))
            for _ in range(size // len(block)):
                fh.write(block)

    return write


def _encrypted() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(GOOD_PDF.read_bytes())))
    writer.encrypt(user_password="s3cret", owner_password="owner")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


LATIN = "# Política de acceso\n\n1 Propósito\n\nLa autenticación multifactor es obligatoria.\n"
FIXTURES = [
    Fixture(
        "bomb-4gb.pdf",
        _bytes(lambda: pdf_file(deflate_bomb(4096))),
        "compression bomb",
        "FlateDecode stream of 4 GB of zeros in a 4 MB PDF",
    ),
    Fixture(
        "text-bomb.pdf",
        _bytes(lambda: pdf_file(text_bomb(40 * MB))),
        "compression bomb",
        "40 MB of text operators in a 120 KB PDF",
    ),
    Fixture(
        "shared-stream-bomb.pdf",
        _bytes(lambda: pdf_file(text_bomb(MB), pages=2000)),
        "compression bomb",
        "one 1 MB content stream shared by 2,000 pages",
    ),
    Fixture(
        "heavy-page.pdf",
        _bytes(lambda: pdf_file(text_bomb(3 * MB))),
        "per page",
        "3 MB of content on one page",
    ),
    Fixture(
        "nested-10000.pdf",
        _bytes(
            lambda: pdf_file(
                text_content(["Some text"]),
                page_extra=b"/X " + b"[" * NESTING + b"]" * NESTING + b" ",
            )
        ),
        "corrupt",
        "10,000 nested arrays in a page",
    ),
    Fixture(
        "meta-bomb.pdf",
        _bytes(
            lambda: pdf_file(
                text_content(
                    ["1 Scope", "Applies to every workforce member who uses the assistant."]
                ),
                info=b"/HipaaAssistantMeta ("
                + json.dumps({"id": "X", "tags": [[0] * 100] * 100}).encode()
                + b")",
            )
        ),
        "too many values",
        "embedded metadata of 10,000 values",
    ),
    Fixture(
        "corrupt.pdf",
        _bytes(lambda: b"%PDF-1.7\n" + bytes(range(256)) * 40),
        "PDF",
        "a PDF header, then junk",
    ),
    Fixture(
        "truncated.pdf",
        _bytes(lambda: GOOD_PDF.read_bytes()[: GOOD_PDF.stat().st_size // 3]),
        "PDF",
        "a real PDF cut at a third",
    ),
    Fixture("encrypted.pdf", _bytes(_encrypted), "encrypted", "password-protected"),
    Fixture("empty.pdf", _bytes(lambda: b""), "empty", "0 bytes"),
    Fixture(
        "huge-50mb.pdf",
        _bytes(lambda: pdf_file(good_pdf_content(), ballast=50 * MB)),
        "too large",
        "a real 50 MB PDF",
    ),
    Fixture("empty.md", _bytes(lambda: b""), "empty", "0 bytes"),
    Fixture("empty.txt", _bytes(lambda: b""), "empty", "0 bytes"),
    Fixture("blank.md", _bytes(lambda: b" \n\t\n" * 100), "empty", "only whitespace"),
    Fixture(
        "junk.md",
        _bytes(lambda: random.Random(1).randbytes(64 * 1024)),
        "binary",
        "64 KB of random bytes",
    ),
    Fixture(
        "png.md",
        _bytes(lambda: b"\x89PNG\r\n\x1a\n" + random.Random(2).randbytes(4096)),
        "binary",
        "an image named .md",
    ),
    Fixture(
        "huge-50mb.md",
        _big(b"# Big\n\n", b"All staff must lock screens. ", 50 * MB),
        "too large",
        "50 MB of Markdown",
    ),
    Fixture(
        "nested-lists.md",
        _bytes(
            lambda: (
                b"# Lists\n\n"
                + b"- " * NESTING
                + b"deep item of a list\n\n"
                + b"".join(b"  " * (i % 64) + b"- item %d\n" % i for i in range(NESTING))
            )
        ),
        "",
        "10,000 nested list markers",
    ),
    Fixture(
        "nested-quotes.md",
        _bytes(lambda: b"# Quotes\n\n" + (b"> " * NESTING + b"quoted policy text\n") * 3),
        "",
        "10,000 nested blockquotes",
    ),
    Fixture(
        "nested-headings.md",
        _bytes(_nested_headings),
        "",
        "10,000 headings at every level, and one of 10,000 #",
    ),
    Fixture(
        "front-matter-deep.md",
        _bytes(lambda: _front("id: " + "[" * NESTING + "]" * NESTING)),
        "nested too deeply",
        "front matter nested 10,000 deep",
    ),
    Fixture(
        "front-matter-bomb.md",
        _bytes(lambda: _front(_yaml_anchor_bomb())),
        "too many values",
        "YAML anchors standing for 10**8 values",
    ),
    Fixture(
        "front-matter-date.md",
        _bytes(lambda: _front("effective: 2024-13-45")),
        "cannot be read",
        "an impossible date",
    ),
    Fixture("latin1.md", _bytes(lambda: LATIN.encode("latin-1")), "", "Latin-1"),
    Fixture("utf16.md", _bytes(lambda: LATIN.encode("utf-16")), "", "UTF-16 with BOM"),
    Fixture(
        "utf16-nobom.md", _bytes(lambda: LATIN.encode("utf-16-le")), "", "UTF-16 LE without BOM"
    ),
    Fixture("utf32.md", _bytes(lambda: LATIN.encode("utf-32")), "", "UTF-32 with BOM"),
    Fixture(
        "invalid-utf8.md",
        _bytes(lambda: b"# T\n\nBroken \x81\x8d\x90 bytes in text.\n"),
        "neither UTF-8",
        "bytes valid in no supported encoding",
    ),
    Fixture(
        "mixed-utf8.md",
        _bytes(lambda: "# Mixed\n\nCafé ".encode() + b"caf\xe9 na\xefve text here.\n"),
        "",
        "UTF-8 mixed with Windows-1252",
    ),
    Fixture(
        "controls.md",
        _bytes(lambda: b"# Controls\n\nText\x07 with a bell\x1b[0m and escapes " * 20),
        "",
        "scattered control characters",
    ),
]
FAILING = {f.name: f.expect for f in FIXTURES if f.expect}
INDEXED = {f.name for f in FIXTURES if not f.expect}


@pytest.fixture(scope="module")
def bad_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bad") / "inbox"
    folder.mkdir()
    for fixture in FIXTURES:
        fixture.make(folder / fixture.name)
    return folder


def _settings(data: Path, corpus: list[Path] | None = None, **ingest: object) -> Settings:
    s = make_settings(data, corpus)
    for key, value in ingest.items():
        setattr(s.ingest, key, value)
    return s


def _load(path: Path, s: Settings) -> tuple[str, int, float, int]:
    """(outcome, chunks, seconds, peak traced bytes); outcome: "ok" or the DocumentError.
    Memory is traced for PDFs only (where the bombs are; tracing slows pure-Python parsing)."""
    traced = path.suffix == ".pdf"
    if traced:
        tracemalloc.start()
    t0 = time.perf_counter()
    try:
        loaded = load(SourceFile(path, "corpus"), read_bytes(path, s.ingest.max_file_mb * MB), s)
        outcome, chunks = "ok", len(loaded.chunks)
        for c in loaded.chunks:
            assert c.locator and c.text.strip()
    except DocumentError as exc:
        outcome, chunks = str(exc), 0
    finally:
        seconds = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1] if traced else 0
        if traced:
            tracemalloc.stop()
    return outcome, chunks, seconds, peak


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.name for f in FIXTURES])
def test_each_bad_file_fails_fast_and_clearly_or_loads(
    fixture: Fixture, bad_dir: Path, tmp_path: Path
) -> None:
    outcome, chunks, seconds, peak = _load(bad_dir / fixture.name, _settings(tmp_path))
    if fixture.expect:
        assert fixture.expect.lower() in outcome.lower(), (fixture.name, outcome)
        assert "\n" not in outcome and len(outcome) < 200
    else:
        assert outcome == "ok" and chunks > 0, (fixture.name, outcome)
    assert seconds < 10, (fixture.name, seconds)
    assert peak < 100 * MB, (fixture.name, peak // MB)  # the bomb expands to 4 GB
    print(f"{fixture.name} ({fixture.what}): {outcome} ({seconds:.2f} s, {peak / MB:.1f} MB)")


def test_decoded_text_keeps_its_characters(bad_dir: Path) -> None:
    for name in ("latin1.md", "utf16.md", "utf16-nobom.md", "utf32.md"):
        text = decode_text((bad_dir / name).read_bytes())
        assert "autenticación multifactor" in text and "\ufeff" not in text, name
    assert "café naïve" in decode_text((bad_dir / "mixed-utf8.md").read_bytes())
    controls = decode_text((bad_dir / "controls.md").read_bytes())
    assert "\x07" not in controls and "\x1b" not in controls


def test_the_deflate_bomb_stays_small_in_a_fresh_process(bad_dir: Path) -> None:
    """Peak resident memory of a process reading the 4 GB bomb, over what its imports take."""
    code = (
        "import resource, sys\n"
        "import pypdf\n"
        "from ingest.pdf_text import read_pdf\n"
        "from core.errors import DocumentError\n"
        "data = open(sys.argv[1], 'rb').read()\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n"
        "    read_pdf(data)\n"
        "except DocumentError as exc:\n"
        "    print(exc)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(bad_dir / "bomb-4gb.pdf")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.splitlines()
    assert "compression bomb" in out[0]
    growth_mb = int(out[-1]) / 1024  # ru_maxrss is in KB on Linux
    assert growth_mb < 100, growth_mb


def test_limits_are_settings(bad_dir: Path, tmp_path: Path) -> None:
    # A real 50 MB PDF loads once the size limit allows it.
    big = _settings(tmp_path, None, max_file_mb=64)
    outcome, chunks, seconds, _ = _load(bad_dir / "huge-50mb.pdf", big)
    assert outcome == "ok" and chunks, outcome
    assert seconds < 20, seconds
    # Text extraction stops at the time limit, mid-page: 8 pages of 1.9 MB take far longer.
    slow = tmp_path / "slow.pdf"
    slow.write_bytes(pdf_file(text_bomb(1900 * 1024), pages=8))
    outcome, _, seconds, _ = _load(slow, _settings(tmp_path, None, pdf_seconds=0.5))
    assert "took longer than 0.5 s" in outcome, outcome
    assert seconds < 8, seconds
    # A stricter content limit refuses more.
    small = tmp_path / "dense.pdf"
    small.write_bytes(pdf_file(text_bomb(600 * 1024), pages=4))
    outcome, _, _, _ = _load(small, _settings(tmp_path, None, max_pdf_content_mb=2))
    assert "beyond 2 MB by page 4" in outcome, outcome


# --- through the pipeline --------------------------------------------------------------------


def _ingest(s: Settings) -> IngestReport:
    emb = build_embedder(s.embedding)
    return run_ingest(s, emb, lambda: open_store(s, emb), progress=False)


def _index(s: Settings) -> Index:
    emb = build_embedder(s.embedding)
    return Index(s, emb, open_store(s, emb))


def test_the_run_reports_each_bad_file_and_indexes_the_rest(
    bad_dir: Path, tiny_corpus: Path, tmp_path: Path
) -> None:
    shutil.copytree(bad_dir, tiny_corpus / "inbox")
    s = make_settings(tmp_path / "data", [tiny_corpus])
    report = _ingest(s)
    failed = {Path(o.name).name: o.reason for o in report.failed}
    assert set(failed) == set(FAILING), set(failed) ^ set(FAILING)
    for name, words in FAILING.items():
        assert words.lower() in failed[name].lower(), (name, failed[name])
        assert "\n" not in failed[name]
    added = {Path(o.name).name for o in report.outcomes if o.status == "added"}
    assert added == INDEXED | {p.name for p in tiny_corpus.rglob("TST-*.md")}
    idx = _index(s)
    assert set(idx.entries) >= TINY_IDS
    # the good documents answer (top 5: the fake embedder's ranking is approximate)
    hits = search(idx, "multi-factor authentication remote session", 5)
    assert "TST-100" in {h.chunk.doc_id for h in hits}
    assert any("autenticación multifactor" in c.text for c in idx.chunks)


def _snapshot(s: Settings) -> tuple[bytes, list[str], dict[str, bytes]]:
    state = IndexState(s.paths.index_dir)
    gen = state.load()
    assert gen is not None
    files = {p.name: p.read_bytes() for p in (state.gens / gen.gen_id).iterdir()}
    return (s.paths.index_dir / CURRENT).read_bytes(), [c.chunk_id for c in gen.chunks], files


def test_bad_files_beside_an_index_leave_it_byte_for_byte_unchanged(
    bad_dir: Path, tiny_corpus: Path, tmp_path: Path
) -> None:
    s = make_settings(tmp_path / "data", [tiny_corpus])
    assert _ingest(s).ok
    before = _snapshot(s)
    inbox = tiny_corpus / "inbox"
    inbox.mkdir()
    for name in FAILING:
        shutil.copy(bad_dir / name, inbox / name)
    report = _ingest(s)
    assert len(report.failed) == len(FAILING) and report.count("unchanged") == 3
    assert report.noop
    assert _snapshot(s) == before


def test_every_document_broken_keeps_the_last_good_index(
    bad_dir: Path, tiny_corpus: Path, tmp_path: Path
) -> None:
    s = make_settings(tmp_path / "data", [tiny_corpus])
    assert _ingest(s).ok
    before = _index(s)
    chunks_before = {c.chunk_id: c.text for c in before.chunks}
    originals = {p: p.read_bytes() for p in tiny_corpus.rglob("*.md")}
    breakers = ["text-bomb.pdf", "junk.md", "front-matter-bomb.md"]
    for path, bad in zip(sorted(originals), breakers, strict=True):
        path.write_bytes((bad_dir / bad).read_bytes())
    report = _ingest(s)
    assert len(report.failed) == 3 and not report.count("added")
    assert all("previous version still indexed" in o.reason for o in report.failed)
    idx = _index(s)
    assert {c.chunk_id: c.text for c in idx.chunks} == chunks_before
    assert {e.status for e in idx.entries.values()} == {"failed-kept-previous"}
    # the good documents answer (top 5: the fake embedder's ranking is approximate)
    hits = search(idx, "multi-factor authentication remote session", 5)
    assert "TST-100" in {h.chunk.doc_id for h in hits}
    for path, data in originals.items():
        path.write_bytes(data)
    report = _ingest(s)
    assert report.ok and report.count("updated") == 3
    assert {c.chunk_id: c.text for c in _index(s).chunks} == chunks_before


# --- property-based: loaders -----------------------------------------------------------------

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_LOAD_SETTINGS = make_settings(Path("fuzz-data"), [])
_MD_PIECES = st.sampled_from(
    [
        "# Title",
        "## 1 Purpose",
        "### 1.1 Scope",
        "#### 2.3.4 Deep",
        "##### 99.99.99.99 Far",
        "###### x",
        "####### seven",
        "#",
        "- item",
        "* item",
        "1. one",
        "2) two",
        "> quote",
        "```",
        "---",
        "id: X-1",
        "type: baa",
        "type: nonsense",
        "effective: 2024-02-30",
        "access_groups: [a, b]",
        "**bold**",
        "__",
        "`",
        "",
        " ",
        "\t",
        "Section 3 Heading",
        "§ 4.2 Clause",
        "The covered entity shall encrypt data at rest.",
    ]
)
_MARKDOWNISH = st.lists(
    st.one_of(_MD_PIECES, st.text(max_size=40), _MD_PIECES.map(lambda p: "  " * 3 + p)),
    max_size=60,
).map("\n".join)


def _check_loaded(path: Path, data: bytes) -> None:
    try:
        loaded = load(SourceFile(path, "corpus"), data, _LOAD_SETTINGS)
    except DocumentError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    doc = loaded.document
    ids = [c.chunk_id for c in loaded.chunks]
    assert loaded.chunks and len(ids) == len(set(ids))
    for c in loaded.chunks:
        assert c.doc_id == doc.doc_id
        assert c.locator.strip(), c
        assert c.text.strip(), c


@FUZZ
@given(st.one_of(st.text(max_size=3000), _MARKDOWNISH))
def test_fuzz_markdown_loader(text: str) -> None:
    _check_loaded(Path("inbox") / "fuzz.md", text.encode())


@FUZZ
@given(st.binary(max_size=4096))
@example(b"\xa0")  # a lone no-break space (Windows-1252): empty, not text
def test_fuzz_text_decoder(data: bytes) -> None:
    try:
        text = decode_text(data)
    except DocumentError as exc:
        assert str(exc)
        return
    assert text.strip() and "\x00" not in text


_PDF = GOOD_PDF.read_bytes()


@st.composite
def _mutated_pdf(draw: st.DrawFn) -> bytes:
    data = bytearray(_PDF)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["cut", "flip", "splice", "zero"]))
        at = draw(st.integers(0, len(data) - 1))
        if kind == "cut":
            del data[at:]
        elif kind == "flip":
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "splice":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        else:
            data[at : at + 256] = bytes(len(data[at : at + 256]))
        if not data:
            data = bytearray(b"%PDF")
    return bytes(data)


@FUZZ
@given(_mutated_pdf())
def test_fuzz_pdf_reader_with_damaged_files(data: bytes) -> None:
    _check_loaded(Path("inbox") / "fuzz.pdf", data)


# --- property-based: the question path -------------------------------------------------------


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> AssistantService:
    """The real question path over the tiny corpus, with the audit trail on."""
    from tests.conftest import DATA

    root = tmp_path_factory.mktemp("questions")
    shutil.copytree(DATA / "corpus", root / "corpus")
    s = make_settings(root / "data", [root / "corpus"])
    s.answer.abstain_min_dense = 0.12  # the fake embedder's similarities run lower than MiniLM's
    assert _ingest(s).ok
    idx = _index(s)
    return AssistantService(s, build_chain(s, idx), PhiGuard(s.phi), AuditTrail.from_settings(s))


CALLER = Caller("fuzz", frozenset({"staff"}), "api")
_ODD = st.sampled_from(
    [
        *"\x00\x01\x07\x08\x0b\x0c\x1b\x7f\x85\x9f\u00ad\u200b\u200d\u200e\u202e\u2028\u2066",
        *("\ufeff", "\ufffd", "\u0301", "\U0001f600", "\U000e0041", "\t", "\n", "\r\n", " "),
    ]
)
# Lone surrogates have their own test: test_a_lone_surrogate_in_a_question below.
_CHARS = st.one_of(st.characters(exclude_categories=["Cs"]), _ODD)
_WORDS = st.sampled_from(["remote", "access", "MFA", "printing", "BAA", "Zephyr", "John Smith"])


_REAL = st.sampled_from(
    [
        "Do remote sessions require multi-factor authentication?",
        "How long are unclaimed print jobs kept?",
        "What must Zephyr do after a breach?",
    ]
)


@st.composite
def _noisy(draw: st.DrawFn) -> str:
    """A real question with odd characters dropped in anywhere."""
    text = list(draw(_REAL))
    for _ in range(draw(st.integers(0, 12))):
        text.insert(draw(st.integers(0, len(text))), draw(_CHARS))
    return "".join(text)


@st.composite
def _questions(draw: st.DrawFn) -> str:
    base = draw(st.one_of(st.lists(st.one_of(_CHARS, _WORDS), max_size=30).map("".join), _noisy()))
    long = draw(st.integers(0, 2)) == 0  # a third of the questions: up to 100,000 characters
    length = draw(st.integers(0, 100_000)) if long else len(base)
    if base and length > len(base):  # long questions: the drawn text repeated
        base = (base * (length // len(base) + 1))[:length]
    return base


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(question=_questions())
def test_fuzz_the_question_path(service: AssistantService, question: str) -> None:
    limit = service.settings.server.max_question_chars
    event("length " + ("<= limit" if len(question) <= limit else "> limit"))
    try:
        reply = service.ask(question, CALLER)
    except InputError as exc:
        msg = str(exc)
        event(f"refused: {msg}")
        assert msg in (
            "the question is empty",
            f"the question is too long (at most {limit} characters)",
        ), msg
        return
    answer = reply.answer
    event("abstained" if answer.abstained else "answered with citations")
    assert answer.text.strip()
    assert len(answer.question) <= limit
    assert not any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for ch in answer.question)
    by_n = {p.n for p in answer.passages}
    assert all(c.n in by_n for c in answer.citations)


def test_a_lone_surrogate_in_a_question(service: AssistantService) -> None:
    try:
        reply = service.ask("\ud800 remote access?", CALLER)
    except InputError:
        return
    assert "\ud800" not in reply.answer.question

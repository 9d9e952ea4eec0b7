"""`fetch`: from a mirror folder, or downloaded (from a local HTTP server on loopback)."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.settings import Settings
from ingest.official import FETCHED_FILE, fetch, load_manifest
from tests.conftest import make_settings

XML = b"""<?xml version="1.0"?><DIV6 N="C" TYPE="SUBPART"><HEAD>Subpart C</HEAD>
<DIV8 N="164.312" TYPE="SECTION"><HEAD>&#xA7; 164.312 Technical safeguards.</HEAD>
<P>(a)(1) <I>Standard: Access control.</I> Implement technical policies.</P>
<P>(b) <I>Standard: Audit controls.</I> Implement hardware, software, and/or procedural
mechanisms.</P>
</DIV8></DIV6>"""


def _manifest(tmp: Path, base_url: str) -> Path:
    path = tmp / "sources.toml"
    path.write_text(
        f"""
[[source]]
id = "x-subpart-c"
title = "Subpart C"
doc_type = "rule"
format = "ecfr-xml"
url = "{base_url}/subpart-c.xml"
filename = "subpart-c.xml"
sha256 = "{hashlib.sha256(XML).hexdigest()}"

[[source]]
id = "x-optional"
title = "Optional part"
doc_type = "rule"
format = "ecfr-xml"
url = "{base_url}/optional.xml"
filename = "optional.xml"
optional = true

[[source]]
id = "x-required-missing"
title = "Required guidance"
doc_type = "guidance"
format = "guidance-pdf"
url = "{base_url}/missing.pdf"
filename = "missing.pdf"
"""
    )
    return path


def _settings(tmp: Path, manifest: Path) -> Settings:
    s = make_settings(tmp / "data", [])
    s.paths.sources_manifest = manifest
    return s


def test_fetch_from_mirror_records_hashes_and_reports_each_source(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror" / "nested"
    mirror.mkdir(parents=True)
    (mirror / "subpart-c.xml").write_bytes(XML)
    settings = _settings(tmp_path, _manifest(tmp_path, "https://example.invalid"))
    report = fetch(settings, mirror=tmp_path / "mirror")
    status = {o.source.id: o.status for o in report.outcomes}
    assert status == {
        "x-subpart-c": "fetched",
        "x-optional": "missing",
        "x-required-missing": "failed",
    }
    assert not report.ok
    rec = json.loads((settings.paths.sources_dir / FETCHED_FILE).read_text())
    assert rec["x-subpart-c"]["sha256"] == hashlib.sha256(XML).hexdigest()
    assert rec["x-subpart-c"]["origin"] == "mirror:subpart-c.xml"
    again = fetch(settings, mirror=tmp_path / "mirror")
    assert {o.source.id: o.status for o in again.outcomes}["x-subpart-c"] == "unchanged"


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[str]:
    root = tmp_path / "www"
    root.mkdir()
    (root / "subpart-c.xml").write_bytes(XML)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a: object, **kw: object) -> None:
            super().__init__(*a, directory=str(root), **kw)  # type: ignore[arg-type]

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_fetch_downloads_and_a_failure_is_one_line(
    tmp_path: Path, http_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from assistant.commands.fetch import cmd_fetch

    settings = _settings(tmp_path, _manifest(tmp_path, http_server))
    rc = cmd_fetch(settings, type("A", (), {"only": None, "mirror": None})())
    out = capsys.readouterr().out.strip().splitlines()
    assert rc == 1
    assert (settings.paths.sources_dir / "subpart-c.xml").read_bytes() == XML
    lines = {line.split()[1]: line for line in out if not line.startswith("fetch:")}
    assert lines["x-subpart-c"].startswith("fetched")
    assert lines["x-required-missing"].startswith("failed") and "404" in lines["x-required-missing"]
    assert out[-1].startswith("fetch: 1 sources ready") and "1 failed" in out[-1]
    assert not list(settings.paths.sources_dir.glob("*.part"))


def test_unreachable_host_fails_cleanly_and_ingest_still_works(
    tmp_path: Path, tiny_corpus: Path
) -> None:
    from assistant.runtime.stores import open_store
    from core.embeddings import build_embedder
    from ingest.pipeline import run_ingest

    settings = _settings(tmp_path, _manifest(tmp_path, "http://127.0.0.1:9"))
    settings.paths.corpus_dirs = [tiny_corpus]
    report = fetch(settings)
    assert [o.status for o in report.outcomes] == ["failed", "missing", "failed"]
    assert all("\n" not in o.detail for o in report.outcomes)
    # an unreachable host is tried once, not once per source
    assert report.outcomes[0].detail == "network unreachable"
    assert "not retried" in report.outcomes[2].detail
    emb = build_embedder(settings.embedding)
    ingested = run_ingest(settings, emb, lambda: open_store(settings, emb), progress=False)
    assert ingested.ok and ingested.documents == 3


def test_the_project_manifest_is_valid() -> None:
    sources = load_manifest(Settings().paths.sources_manifest)
    ids = {s.id for s in sources}
    assert {"ecfr-45-164-C", "ecfr-45-164-D", "ecfr-45-164-E", "hhs-combined-2013"} <= ids
    assert any(s.id == "ecfr-45-160" for s in sources)
    for s in sources:
        assert s.url.startswith("https://") and s.filename
        if not s.enabled:
            assert s.why
    assert all("2026-07-01" in s.url for s in sources if s.format == "ecfr-xml")

"""The same ingest and query code against a real Chroma server (`chroma run`) on loopback."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from assistant.runtime.stores import open_store
from core.embeddings import build_embedder
from core.index.reader import Index
from core.settings import Settings
from ingest.pipeline import run_ingest
from tests.conftest import ALL

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[int]:
    with running_chroma(tmp_path / "chroma-server") as port:
        yield port


@contextmanager
def running_chroma(path: Path) -> Iterator[int]:
    """A Chroma server (`chroma run`) keeping its data in ``path``, on a free loopback port."""
    exe = Path(sys.executable).with_name("chroma")
    if not exe.exists():
        found = shutil.which("chroma")
        if found is None:
            pytest.fail("the `chroma` command of the chromadb package is not installed")
        exe = Path(found)
    port = _free_port()
    proc = subprocess.Popen(
        [str(exe), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if (
                    httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code
                    == 200
                ):
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                pytest.fail("chroma server exited at start-up")
            time.sleep(0.2)
        else:
            pytest.fail("chroma server did not answer within 60 s")
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_ingest_and_query_through_a_chroma_server(
    settings: Settings, tiny_corpus: Path, chroma_server: int
) -> None:
    settings.chroma.mode = "http"
    settings.chroma.port = chroma_server
    emb = build_embedder(settings.embedding)
    report = run_ingest(settings, emb, lambda: open_store(settings, emb), progress=False)
    assert report.ok and report.chunks > 0
    assert not (settings.paths.index_dir / "chroma").exists()  # nothing embedded locally
    idx = Index(settings, emb, open_store(settings, emb))
    hits = idx.dense("badge in at the printer to release the job", 3, ALL)
    assert hits and hits[0].chunk.doc_id == "TST-200"
    # an edit replaces the collection on the server; the old one is dropped there
    path = tiny_corpus / "policies" / "TST-200-printing.md"
    path.write_text(path.read_text().replace("four hours", "two hours"))
    second = run_ingest(settings, emb, lambda: open_store(settings, emb), progress=False)
    store = open_store(settings, emb)
    assert store.names(settings.chroma.collection_prefix + "_") == [
        f"{settings.chroma.collection_prefix}_{second.generation}"
    ]
    idx = Index(settings, emb, store)
    assert "two hours" in idx.dense("unclaimed print jobs are purged", 1, ALL)[0].chunk.text


def test_the_auth_token_is_sent_and_a_refusal_is_one_clear_error(settings: Settings) -> None:
    import http.server
    import threading

    from core.errors import ConfigError

    seen: list[str] = []

    class Refuse(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization", ""))
            self.send_response(401)
            self.end_headers()

        do_POST = do_GET

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings.chroma.mode = "http"
        settings.chroma.port = server.server_address[1]
        settings.chroma.auth_token = "s3cret-token"  # type: ignore[assignment]
        emb = build_embedder(settings.embedding)
        with pytest.raises(ConfigError, match="Chroma"):
            store = open_store(settings, emb)
            store.names("x")
    finally:
        server.shutdown()
    assert seen and all(h == "Bearer s3cret-token" for h in seen)

"""Two `hipaa-assistant serve` processes sharing one PostgreSQL (``database.url``) and one Chroma
server, each with a data folder of its own, as on two machines: requests spread over both, one
audit chain holding both servers' rows in order, users and tokens from the database, a
conversation started on one server reopened on the other with its citations, and an ingest
during the load switching both to the new index generation. Killing one server during the load
is run on two servers sharing one data folder and the embedded Chroma (the default)."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from assistant.accounts import UsersTable, UserStore
from assistant.audit import AuditRecord
from assistant.audit.postgres import PostgresAuditTrail
from benchmarks.load_api import run_load
from benchmarks.server import Running, serving
from core.database import Database
from core.settings import DatabaseSettings
from tests.conftest import ROOT
from tests.postgres_cluster import throwaway_cluster
from tests.test_chroma_server import running_chroma
from tests.test_ui_e2e import (
    ANSWER,
    BAA_QUESTION,
    CHROMIUM,
    CHROMIUM_FLAGS,
    PASSWORDS,
    Server,
    _ask,
    _sign_in,
)

pytestmark = [pytest.mark.slow, pytest.mark.mirror]

QUESTIONS = [
    "Can I paste a discharge summary into a public chatbot?",
    "How long do we keep audit logs?",
    "What must a business associate agreement contain?",
    BAA_QUESTION,
]


@dataclass
class Pair:
    url: str  # the database
    a: Running
    b: Running
    own: tuple[Path, Path]
    tokens: dict[str, str]
    ingest: Callable[[], subprocess.Popen[str]] | None = None  # on a third folder (shared index)
    corpus: Path | None = None  # what that ingest reads
    ingester: Path | None = None  # its data folder


def _users(url: str) -> dict[str, str]:
    """Two users in the database, and an API token for each."""
    users = UserStore(UsersTable(Database(DatabaseSettings.model_validate({"url": url}))), 4)
    users.add("pat", PASSWORDS["pat"], ("privacy-office", "staff"), replace=False)
    users.add("sam", PASSWORDS["sam"], ("staff",), replace=False)
    return {name: users.issue_token(name, 1) for name in ("pat", "sam")}


@contextmanager
def _two_servers(index: Path, tmp: pytest.TempPathFactory) -> Iterator[Pair]:
    """A throwaway database with two users, and two servers on it serving ``index``."""
    with throwaway_cluster() as url:
        tokens = _users(url)
        # websockets only: a browser's connection stays on the server it opened on
        env = {"HIPAA_ASSISTANT_DATABASE__URL": url, "HIPAA_ASSISTANT_SERVER__WEBSOCKET_ONLY": "1"}
        own = (tmp.mktemp("server-a"), tmp.mktemp("server-b"))
        with serving(index, own[0], env) as a, serving(index, own[1], env) as b:
            yield Pair(url, a, b, own, tokens)


@contextmanager
def _two_servers_sharing_an_index(real: Path, tmp: pytest.TempPathFactory) -> Iterator[Pair]:
    """Two servers on one PostgreSQL and one Chroma server, as on two machines: each with a data
    folder of its own holding no index (only its embedding cache and the questions' ONNX copy,
    which each machine keeps); the index is what an ingest on a third folder published."""
    root = tmp.mktemp("shared")
    corpus = root / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    ingester = root / "ingester"
    shutil.copytree(real / "sources", ingester / "sources")
    own = (root / "server-a", root / "server-b")
    for data in (ingester, own[0] / "data", own[1] / "data"):
        data.mkdir(parents=True, exist_ok=True)
        shutil.copy(real / "embedding-cache.sqlite", data)
        shutil.copytree(real / "models", data / "models")
    with running_chroma(root / "chroma") as port, throwaway_cluster() as url:
        tokens = _users(url)
        env = {
            "HIPAA_ASSISTANT_DATABASE__URL": url,
            "HIPAA_ASSISTANT_SERVER__WEBSOCKET_ONLY": "1",
            "HIPAA_ASSISTANT_CHROMA__MODE": "http",
            "HIPAA_ASSISTANT_CHROMA__PORT": str(port),
            "HIPAA_ASSISTANT_PATHS__CORPUS_DIRS": json.dumps([str(corpus)]),
        }
        ingest_env = {**os.environ, **env, "HIPAA_ASSISTANT_PATHS__DATA_DIR": str(ingester)}
        runs = itertools.count(1)

        def ingest() -> subprocess.Popen[str]:
            log = (root / f"ingest-{next(runs)}.log").open("w")
            return subprocess.Popen(
                [sys.executable, "-m", "assistant.cli", "ingest", "--no-progress"],
                env=ingest_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
            )

        assert ingest().wait(timeout=900) == 0, (root / "ingest-1.log").read_text()[-3000:]
        with serving(own[0] / "data", own[0], env) as a, serving(own[1] / "data", own[1], env) as b:
            yield Pair(url, a, b, own, tokens, ingest, corpus, ingester)


@pytest.fixture(scope="module")
def pair(real_index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    with _two_servers_sharing_an_index(real_index_dir, tmp_path_factory) as servers:
        yield servers


def _verified_chain(url: str) -> list[AuditRecord]:
    with PostgresAuditTrail(Database(DatabaseSettings.model_validate({"url": url}))) as trail:
        result = trail.verify()
        records = list(trail.records())
    assert result.ok, result.reason
    assert [r.seq for r in records] == list(range(1, len(records) + 1))
    return records


def test_requests_to_both_servers_make_one_audit_chain(pair: Pair) -> None:
    """Four clients a server for 20 s: pat asks server A, sam asks server B."""
    errors: list[str] = []
    done = {"pat": 0, "sam": 0}
    deadline = time.monotonic() + 20

    def client(user: str, url: str, n: int) -> None:
        headers = {"Authorization": f"Bearer {pair.tokens[user]}"}
        with httpx.Client(timeout=120) as http:
            i = n
            while time.monotonic() < deadline:
                question = QUESTIONS[i % len(QUESTIONS)]
                i += 1
                res = http.post(f"{url}/api/ask", json={"question": question}, headers=headers)
                if res.status_code != 200:
                    errors.append(f"{user}: {res.status_code} {res.text[:200]}")
                else:
                    done[user] += 1

    threads = [
        threading.Thread(target=client, args=(user, server.url, n))
        for user, server in (("pat", pair.a), ("sam", pair.b))
        for n in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert done["pat"] > 0 and done["sam"] > 0

    records = _verified_chain(pair.url)
    asked = [r for r in records if r.event.surface == "api"]
    assert len(asked) == done["pat"] + done["sam"]
    assert {r.event.user for r in asked} == {"pat", "sam"}
    # both servers wrote into the one chain, interleaved, and nothing into a local file
    users = [r.event.user for r in asked]
    assert sum(1 for x, y in itertools.pairwise(users) if x != y) > 2
    assert not any((own / "audit.sqlite").exists() for own in pair.own)


def test_a_conversation_started_on_one_server_is_reopened_on_the_other(pair: Pair) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    on_a = Server(pair.a.url, pair.a.log, pair.own[0], pair.own[0], pair.tokens)
    on_b = Server(pair.b.url, pair.b.log, pair.own[1], pair.own[1], pair.tokens)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        page = _sign_in(browser, on_a, "pat")
        first = _ask(page, BAA_QUESTION)
        page.wait_for_url(re.compile(r"/thread/"), timeout=10_000)
        thread = page.url.split("/thread/", 1)[1]
        page.context.close()

        again = _sign_in(browser, on_b, "pat")  # a user the database holds, on server B
        again.goto(f"{pair.b.url}/thread/{thread}")
        answer = again.locator(ANSWER).first
        answer.get_by_text("mode", exact=False).last.wait_for(timeout=30_000)
        assert answer.inner_text().split("\n")[0] == first.split("\n")[0]
        answer.locator("a.element-link").first.click()
        again.locator("#side-view-content h3").wait_for(timeout=10_000)
        assert "Quoted:" in again.locator("#side-view-content").inner_text()
        # and it goes on there: a follow-up asked on B joins the same conversation
        _ask(again, "How about Clarion?")
        again.wait_for_timeout(1000)
        assert thread in again.url
        browser.close()


def test_fifty_clients_for_a_minute_across_both_servers(pair: Pair) -> None:
    """The bounded load test (tests/test_load.py) spread over the two servers."""
    tokens = [pair.tokens["sam"], pair.tokens["pat"]]
    before = len(_verified_chain(pair.url))
    result = run_load([pair.a.url, pair.b.url], tokens, [pair.a.pid, pair.b.pid], 50, 60)
    out = ROOT / "artifacts" / "load"
    out.mkdir(parents=True, exist_ok=True)
    (out / "api-50x60s-two-servers.md").write_text(result.markdown() + "\n")
    print("\n" + result.markdown())
    assert result.requests > 100
    assert result.errors == 0 and result.failovers == 0, result.error_samples
    assert len(_verified_chain(pair.url)) - before == result.requests  # each one audited
    # the servers start cold here: their first burst of questions opens one ONNX session each
    # (one per question made them 3.3 GB together; about 0.85 GB now)
    assert max(result.rss_mb) < 1500, result.rss_mb


def test_killing_one_server_during_the_load_leaves_the_other_answering(
    real_index_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """20 clients for 30 s; server A is killed (SIGKILL) after 10 s: its clients' requests go to
    B, as a load balancer would send them, and the audit chain stays whole."""
    with _two_servers(real_index_dir, tmp_path_factory) as servers:
        killed: list[float] = []

        def kill_a(elapsed: float) -> None:
            if elapsed >= 10 and not killed:
                os.kill(servers.a.pid, signal.SIGKILL)
                killed.append(elapsed)

        tokens = [servers.tokens["sam"], servers.tokens["pat"]]
        urls = [servers.a.url, servers.b.url]
        result = run_load(urls, tokens, [servers.a.pid, servers.b.pid], 20, 30, during=kill_a)
        print("\n" + result.markdown() + f"\nfailovers: {result.failovers}")
        assert killed and result.errors == 0, result.error_samples
        assert result.failovers >= 10  # A's clients moved to B
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{servers.a.url}/api/health", timeout=2)
        assert httpx.get(f"{servers.b.url}/api/health", timeout=10).status_code == 200
        records = _verified_chain(servers.url)
        assert len([r for r in records if r.event.surface == "api"]) >= result.requests - 20


def test_an_ingest_during_the_load_switches_both_servers(pair: Pair) -> None:
    """An ingest of an edited policy on the third folder during 10 clients' load switches both
    servers to the new generation, with no failed request and no restart. The load goes on
    until 15 s after both servers have switched (at most 600 s), however long the ingest takes
    on a busy machine."""
    assert pair.ingest is not None and pair.corpus is not None and pair.ingester is not None
    ingester, ingest = pair.ingester, pair.ingest
    first = _current(ingester)
    servers = [pair.a.url, pair.b.url]
    assert [_generation(s) for s in servers] == [first, first]
    policy = next(pair.corpus.glob("policies/SEC-201*"))
    policy.write_text(policy.read_text() + "\n\nEdited for the shared-index test.\n")
    running: list[subprocess.Popen[str]] = []
    seen: list[list[str]] = []
    switched_at: list[float] = []
    stop = threading.Event()

    def during(elapsed: float) -> None:
        if elapsed >= 3 and not running:
            running.append(ingest())
        gens = [_generation(s) for s in servers]
        seen.append(gens)
        if not switched_at and gens[0] == gens[1] != first:
            switched_at.append(elapsed)
        if switched_at and elapsed >= switched_at[0] + 15:
            stop.set()

    result = run_load(
        servers, [pair.tokens["sam"]], [pair.a.pid, pair.b.pid], 10, 600, during, stop
    )
    print("\n" + result.markdown())
    assert running and running[0].wait(timeout=600) == 0
    second = _current(ingester)
    assert second != first
    assert switched_at, "the servers did not switch during the load"
    print(f"both servers on the new generation {switched_at[0] - 3:.0f} s after the ingest began")
    assert [_generation(s) for s in servers] == [second, second]
    assert seen[-1] == [second, second]
    assert result.errors == 0 and result.failovers == 0, result.error_samples


def _current(data: Path) -> str:
    return str(json.loads((data / "index" / "CURRENT.json").read_text())["generation"])


def _generation(url: str) -> str:
    return str(httpx.get(f"{url}/api/health", timeout=10).json()["generation"])

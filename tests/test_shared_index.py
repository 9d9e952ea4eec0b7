"""One index for every server (``core/index/shared.py``): with a database and a Chroma
server, an ingest on one machine publishes its generation; a server with an empty data folder of
its own answers from it and follows the next one without a restart; one ingest at a time."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from assistant.commands.ingest import cmd_ingest
from assistant.commands.questions import cmd_questions
from assistant.runtime.stores import open_store
from assistant.service import AssistantService, Caller
from core.database import Database
from core.embeddings import build_embedder
from core.errors import IndexBusyError
from core.index.shared import SharedGenerations, shared_index
from core.index.state import IndexState
from core.settings import DatabaseSettings, Settings
from tests.conftest import make_settings
from tests.test_chroma_server import chroma_server  # noqa: F401 (a fixture)

pytestmark = pytest.mark.slow

ARGS = argparse.Namespace(rebuild=False, no_progress=True, suggest_questions=None)
PRINT_QUESTION = "How long are unclaimed print jobs kept before they are purged?"


def _machine(data_dir: Path, corpus: Path, url: str, chroma_port: int) -> Settings:
    """One machine's settings: its own data folder, the shared database and Chroma server."""
    settings = make_settings(data_dir, [corpus])
    settings.database.url = url  # type: ignore[assignment]
    settings.chroma.mode = "http"
    settings.chroma.port = chroma_port
    settings.audit.enabled = False
    settings.answer.abstain_min_dense = 0.12  # the fake embedder's similarities run low
    return settings


def _until(check: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError("not within the time allowed")


def test_a_server_on_another_machine_answers_from_the_live_generation_and_follows_the_next(
    tmp_path: Path,
    tiny_corpus: Path,
    url: str,
    chroma_server: int,  # noqa: F811
) -> None:
    ingester = _machine(tmp_path / "a", tiny_corpus, url, chroma_server)
    assert cmd_ingest(ingester, ARGS) == 0
    first = IndexState(ingester.paths.index_dir).current_pointer()
    assert first is not None

    # a server whose data folder is empty: the generation comes from the database
    server = _machine(tmp_path / "b", tiny_corpus, url, chroma_server)
    service = AssistantService.build(server)
    assert service.index.generation.gen_id == first["generation"]
    caller = Caller("pat", frozenset({"staff"}), "cli")
    assert "four hours" in service.ask(PRINT_QUESTION, caller).answer.text

    # an ingest on the first machine; the server switches without a restart
    policy = tiny_corpus / "policies" / "TST-200-printing.md"
    policy.write_text(policy.read_text().replace("four hours", "two hours"))
    assert cmd_ingest(ingester, ARGS) == 0
    second = IndexState(ingester.paths.index_dir).current_pointer()
    assert second is not None and second["generation"] != first["generation"]

    # no question needed: the server watches the live generation
    _until(lambda: bool(service.index.generation.gen_id == second["generation"]))
    assert "two hours" in service.ask(PRINT_QUESTION, caller).answer.text
    # the previous generation stays (a server still on it answers until it switches); one
    # more ingest drops the first
    emb = build_embedder(server.embedding)
    prefix = server.chroma.collection_prefix + "_"
    assert sorted(open_store(server, emb).names(prefix)) == sorted(
        [first["collection"], second["collection"]]
    )
    policy.write_text(policy.read_text().replace("two hours", "three hours"))
    assert cmd_ingest(ingester, ARGS) == 0
    assert first["collection"] not in open_store(server, emb).names(prefix)
    with psycopg.connect(url) as conn:
        kept = conn.execute("SELECT count(*) FROM index_state.generations").fetchone()
    assert kept == (2,)


def test_one_ingest_at_a_time_on_any_machine(
    tmp_path: Path,
    tiny_corpus: Path,
    url: str,
    chroma_server: int,  # noqa: F811
) -> None:
    one = _machine(tmp_path / "a", tiny_corpus, url, chroma_server)
    other = _machine(tmp_path / "b", tiny_corpus, url, chroma_server)
    shared = shared_index(one)
    assert shared is not None
    with shared.ingest_lock(), pytest.raises(IndexBusyError, match="another machine"):
        cmd_ingest(other, ARGS)
    assert cmd_ingest(other, ARGS) == 0  # once the first is done


def test_the_live_generation_is_read_every_few_seconds_and_files_are_checked(
    tmp_path: Path, url: str
) -> None:
    db = Database(DatabaseSettings.model_validate({"url": url}))
    now = [0.0]
    reader = SharedGenerations(db, recheck_s=2.0, clock=lambda: now[0])
    assert reader.live() is None
    state = IndexState(tmp_path / "a" / "index")
    state.gens.mkdir(parents=True)
    (state.gens / "g1").mkdir()
    for name in ("chunks.jsonl", "documents.json"):
        (state.gens / "g1" / name).write_text("[]" if name.endswith(".json") else "")
    state.switch({"generation": "g1", "collection": "c_g1", "embedding_model": "m"})
    adapters = tmp_path / "a" / "adapters"
    adapters.mkdir()
    (adapters / "query-adapter-k.npy").write_bytes(b"weights")
    SharedGenerations(db).publish(state, adapters)
    assert reader.live() is None  # read less than 2 s ago
    now[0] = 2.5
    assert reader.live() == "g1"

    copy = IndexState(tmp_path / "b" / "index")
    assert reader.follow(copy, tmp_path / "b" / "adapters")
    assert (copy.current_pointer() or {})["generation"] == "g1"
    assert (tmp_path / "b" / "adapters" / "query-adapter-k.npy").read_bytes() == b"weights"
    assert not reader.follow(copy, tmp_path / "b" / "adapters")  # already there

    with psycopg.connect(url) as conn:
        conn.execute("UPDATE index_state.files SET content = 'x' WHERE name = 'chunks.jsonl'")
    with pytest.raises(ValueError, match="does not match its hash"):
        reader.pull("g1", IndexState(tmp_path / "c" / "index"), tmp_path / "c" / "adapters")


CONFIRMED = "Can I print a member's claim at home if I pick it up within the hour?"


def test_a_question_confirmed_on_one_server_is_in_every_servers_question_index(
    tmp_path: Path,
    tiny_corpus: Path,
    url: str,
    chroma_server: int,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    ingester = _machine(tmp_path / "a", tiny_corpus, url, chroma_server)
    assert cmd_ingest(ingester, ARGS) == 0
    one = AssistantService.build(_machine(tmp_path / "b", tiny_corpus, url, chroma_server))
    two = AssistantService.build(_machine(tmp_path / "c", tiny_corpus, url, chroma_server))
    officer = Caller("pat", frozenset({"privacy-office", "staff"}), "cli")
    locator = "TST-200 §2.1"

    def holds(service: AssistantService) -> bool:
        topics = service.chain.retriever.topics
        return topics is not None and topics.holds(locator, CONFIRMED)

    assert not holds(one) and not holds(two)
    done = one.confirm_question(CONFIRMED, locator, officer)
    assert done.added and done.path is None and holds(one)
    # in the database every server reads, not in this machine's question file
    assert not (tiny_corpus / "questions" / "confirmed.yaml").exists()
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT locator, question FROM index_state.confirmed_questions")
        assert rows.fetchall() == [(locator, CONFIRMED)]
    _until(lambda: holds(two), seconds=10)  # the other server, without a question or a restart
    capsys.readouterr()  # what the ingest printed
    assert cmd_questions(two.settings, argparse.Namespace(questions_command="list")) == 0
    assert capsys.readouterr().out == f"{locator}\t{CONFIRMED}\n"
    assert not two.confirm_question(CONFIRMED, locator, officer).added  # one row, not two
    # a server started later, and the next ingest's question index, hold it from the start
    three = AssistantService.build(_machine(tmp_path / "d", tiny_corpus, url, chroma_server))
    assert holds(three)
    policy = tiny_corpus / "policies" / "TST-200-printing.md"
    policy.write_text(policy.read_text().replace("four hours", "two hours"))
    assert cmd_ingest(ingester, ARGS) == 0
    newest = IndexState(ingester.paths.index_dir).current_pointer()
    assert newest is not None
    _until(lambda: bool(two.index.generation.gen_id == newest["generation"]))
    assert holds(two)  # the new generation's question index has it too

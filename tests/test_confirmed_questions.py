"""The organisation's question index grows from use: a privacy officer confirms that a passage
answers a question (CLI, API); the pair is redacted, audited, written to the organisation's
question file and in effect for the next question without a re-ingest."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant import cli
from assistant.accounts import UserStore
from assistant.audit import AuditTrail
from assistant.retrieval.topics import load_topic_file
from assistant.runtime.stores import open_store
from assistant.service import AssistantService, Caller, InputError
from assistant.ui.api import build_router
from core.embeddings import build_embedder
from core.errors import NotAllowedError
from core.index.reader import Scope
from core.settings import Settings
from ingest.pipeline import run_ingest

OFFICER = Caller("pat", frozenset({"privacy-office", "staff"}), "cli")
STAFF = Caller("sam", frozenset({"staff"}), "api")
QUESTION = "my kid needs the laptop for homework tonight, is that ok?"


@pytest.fixture
def service(settings: Settings, tmp_path: Path) -> AssistantService:
    settings.audit.path = tmp_path / "audit.sqlite"
    emb = build_embedder(settings.embedding)
    assert run_ingest(settings, emb, lambda: open_store(settings, emb), progress=False).ok
    return AssistantService.build(settings)


def _rank(service: AssistantService, question: str, locator: str) -> int:
    passages = service.chain.retriever.retrieve(question, Scope.unrestricted(), 10).passages
    ids = [p.chunk.chunk_id for p in passages]
    target = service.index.find_locator(locator, Scope.unrestricted())[0].chunk_id
    return ids.index(target) if target in ids else len(ids)


def test_a_confirmed_question_is_written_audited_and_used_at_once(
    service: AssistantService, settings: Settings, tiny_corpus: Path
) -> None:
    locator = "TST-100 §2.2"
    before = _rank(service, QUESTION, locator)
    done = service.confirm_question(QUESTION, locator, OFFICER)
    assert done.added and done.path == tiny_corpus / "questions" / "confirmed.yaml"
    assert [(t.locator, t.asks) for t in load_topic_file(done.path)] == [(locator, (QUESTION,))]
    after = _rank(service, QUESTION, locator)
    assert after == 0 and after <= before  # no re-ingest, no restart
    again = service.confirm_question(QUESTION, locator, OFFICER)
    assert not again.added and len(load_topic_file(done.path)[0].asks) == 1
    with AuditTrail.from_settings(settings) as trail:
        rows = [r for r in trail.records() if r.event.mode == "question-confirmed"]
    assert len(rows) == 2 and rows[0].event.user == "pat"
    assert rows[0].event.cited_chunk_ids == (done.chunk_id,)
    # a new process reads it from the question file like any other
    fresh = AssistantService.build(settings)
    assert _rank(fresh, QUESTION, locator) == 0


def test_phi_is_redacted_before_it_is_written(service: AssistantService) -> None:
    done = service.confirm_question(
        "Can I print the chart of MRN 00482913 at home for John Smith?", "TST-200 §2.1", OFFICER
    )
    text = done.path.read_text()
    assert "00482913" not in text and "John Smith" not in text
    assert "[MRN]" in done.question


def test_only_the_privacy_office_may_confirm_and_only_passages_it_can_read(
    service: AssistantService,
) -> None:
    with pytest.raises(NotAllowedError):
        service.confirm_question(QUESTION, "TST-100 §2.2", STAFF)
    with pytest.raises(InputError, match="no passage"):
        service.confirm_question(QUESTION, "TST-100 §9.9", OFFICER)
    nobody = Caller("lee", frozenset({"privacy-office"}), "cli")
    # the BAA is for privacy-office and legal; a locator outside the caller's groups is unknown
    with pytest.raises(InputError, match="no passage"):
        service.confirm_question(QUESTION, "TST-100 §2.2", nobody)


def test_the_api_and_the_cli_confirm_questions(
    service: AssistantService,
    settings: Settings,
    tiny_corpus: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = UserStore(settings.server.resolve_users_file(settings.paths.data_dir), bcrypt_rounds=4)
    store.add("pat", "pw-privacy", ("privacy-office", "staff"), replace=False)
    store.add("sam", "pw-staff", ("staff",), replace=False)
    app = FastAPI()
    app.include_router(build_router(lambda: service, lambda: store))
    client = TestClient(app)
    body = {"question": QUESTION, "locator": "TST-100 §2.2"}
    officer = {"Authorization": f"Bearer {store.issue_token('pat')}"}
    staff = {"Authorization": f"Bearer {store.issue_token('sam')}"}
    res = client.post("/api/questions", json=body, headers=officer)
    assert res.status_code == 200 and res.json()["added"] is True
    assert client.post("/api/questions", json=body, headers=staff).status_code == 403
    bad = client.post("/api/questions", json={**body, "locator": "NOPE §1"}, headers=officer)
    assert bad.status_code == 422
    # the same through the command line, as the server's settings have it
    monkeypatch.setenv("HIPAA_ASSISTANT_PATHS__CORPUS_DIRS", f'["{tiny_corpus}"]')
    monkeypatch.setenv("HIPAA_ASSISTANT_EMBEDDING__PROVIDER", settings.embedding.provider)
    monkeypatch.setenv("HIPAA_ASSISTANT_EMBEDDING__MODEL", settings.embedding.model)
    monkeypatch.setenv("HIPAA_ASSISTANT_CHUNKING__MIN_WORDS", str(settings.chunking.min_words))
    monkeypatch.setenv("HIPAA_ASSISTANT_AUDIT__PATH", str(settings.audit.path))
    data_dir = str(settings.paths.data_dir)
    second = "Can my partner use my work laptop?"
    args = ["--data-dir", data_dir, "questions", "add", second, "--locator", "TST-100 §2.2"]
    assert cli.main([*args, "--user", "pat"]) == 0
    assert cli.main([*args, "--user", "sam"]) == 2  # staff may not
    assert cli.main([*args, "--user", "nobody"]) == 2
    capsys.readouterr()
    assert cli.main(["--data-dir", data_dir, "questions", "list"]) == 0
    listed = capsys.readouterr().out
    assert f"TST-100 §2.2\t{QUESTION}" in listed and f"TST-100 §2.2\t{second}" in listed


def test_drafted_questions_wait_for_a_person_to_accept_them(
    service: AssistantService,
    settings: Settings,
    tiny_corpus: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from assistant.retrieval.suggest import parse_questions, review_file, suggest, write_review

    assert parse_questions(
        "1. Can I print at home?\n- Who approves it?\nSure, here you go:", 5
    ) == [
        "Can I print at home?",
        "Who approves it?",
    ]
    replies = ["1. Can my kids use the work laptop?\n2. Do I need MFA at home?"] * 50
    drafts = suggest(service.index, FakeListChatModel(responses=replies), count=2)
    assert drafts and all(len(d.asks) == 2 for d in drafts)
    path = review_file(settings)
    assert write_review(path, drafts) == 2 * len(drafts)
    assert path.parent.name == "review"  # beside the question files, not read with them
    # not used until accepted
    topics = service.chain.retriever.topics
    assert topics is None or all("Can my kids" not in a for t in topics.topics for a in t.asks)
    for name, value in {
        "PATHS__CORPUS_DIRS": f'["{tiny_corpus}"]',
        "EMBEDDING__PROVIDER": settings.embedding.provider,
        "EMBEDDING__MODEL": settings.embedding.model,
        "CHUNKING__MIN_WORDS": str(settings.chunking.min_words),
        "AUDIT__PATH": str(settings.audit.path),
    }.items():
        monkeypatch.setenv(f"HIPAA_ASSISTANT_{name}", value)
    store = UserStore(settings.server.resolve_users_file(settings.paths.data_dir), bcrypt_rounds=4)
    store.add("pat", "pw-privacy", ("privacy-office", "staff"), replace=False)
    data_dir = str(settings.paths.data_dir)
    first = drafts[0].locator
    assert (
        cli.main(
            ["--data-dir", data_dir, "questions", "accept", "--user", "pat", "--locator", first]
        )
        == 0
    )
    confirmed = load_topic_file(tiny_corpus / "questions" / "confirmed.yaml")
    assert [t.locator for t in confirmed] == [first]
    left = load_topic_file(path)
    assert first not in [t.locator for t in left] and len(left) == len(drafts) - 1

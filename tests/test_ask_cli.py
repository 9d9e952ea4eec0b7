"""`hipaa-assistant ask`: text, --json (a stable, documented shape), --batch, --groups, --type."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from assistant import cli
from assistant.prompts import PROMPT_DIR, load_prompt
from assistant.runtime.stores import open_store
from core.embeddings import build_embedder
from core.settings import Settings
from ingest.pipeline import run_ingest

SNAPSHOTS = Path(__file__).parent / "snapshots"


@pytest.fixture
def indexed(settings: Settings, tiny_corpus: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    emb = build_embedder(settings.embedding)
    assert run_ingest(settings, emb, lambda: open_store(settings, emb), progress=False).ok
    monkeypatch.setenv("HIPAA_ASSISTANT_EMBEDDING__PROVIDER", "fake-hash")
    monkeypatch.setenv("HIPAA_ASSISTANT_EMBEDDING__MODEL", "v1")
    monkeypatch.setenv("HIPAA_ASSISTANT_CHUNKING__MIN_WORDS", "10")
    monkeypatch.setenv("HIPAA_ASSISTANT_PATHS__CORPUS_DIRS", f'["{tiny_corpus}"]')
    monkeypatch.setenv("HIPAA_ASSISTANT_ANSWER__ABSTAIN_MIN_DENSE", "0.1")
    return settings


def run(settings: Settings, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    rc = cli.main(["--data-dir", str(settings.paths.data_dir), "ask", *args])
    return rc, capsys.readouterr().out


def shape(value: Any) -> Any:
    """The structure of a JSON value: keys and value types (first element of lists)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if value is None:
        return "null|value"
    return type(value).__name__


def check_snapshot(name: str, value: Any) -> None:
    path = SNAPSHOTS / name
    text = value if isinstance(value, str) else json.dumps(value, indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.write_text(text)
    # a missing snapshot fails (it is never written silently): create it on purpose
    assert path.exists(), f"no snapshot {name}; create it with UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(), f"{name} changed; if on purpose, rerun with UPDATE_SNAPSHOTS=1"


def test_ask_json_payload_shape_is_stable(indexed: Settings, capsys: pytest.CaptureFixture) -> None:
    rc, out = run(indexed, capsys, "Do remote sessions need multi-factor authentication?", "--json")
    assert rc == 0
    data = json.loads(out)
    assert data["schema_version"] == 1 and not data["abstained"]
    assert data["passages"][0]["text"] and data["passages"][0]["locator"]
    assert isinstance(data["passages"][0]["score"], float)
    assert data["citations"][0]["quote"] in data["passages"][data["citations"][0]["n"] - 1]["text"]
    check_snapshot("ask_json_shape.json", shape(data))


def test_ask_text_output_lists_sources(indexed: Settings, capsys: pytest.CaptureFixture) -> None:
    rc, out = run(indexed, capsys, "Do remote sessions need multi-factor authentication?")
    assert rc == 0
    assert "Sources:" in out and "TST-100 §2.1" in out


def test_groups_and_types(indexed: Settings, capsys: pytest.CaptureFixture) -> None:
    q = "How many days does Zephyr Transcription have to report a breach?"
    _, out = run(indexed, capsys, q, "--json")
    assert "Zephyr" not in json.dumps(json.loads(out)["passages"])  # staff by default
    _, out = run(indexed, capsys, q, "--json", "--groups", "privacy-office")
    data = json.loads(out)
    assert data["passages"][0]["doc_type"] == "baa" and "seven calendar days" in data["answer"]
    _, out = run(
        indexed, capsys, q, "--json", "--groups", "staff,privacy-office", "--type", "policy"
    )
    assert {p["doc_type"] for p in json.loads(out)["passages"]} == {"policy"}
    rc = cli.main(["--data-dir", str(indexed.paths.data_dir), "ask", q, "--type", "memo"])
    assert rc == 2 and "unknown source type" in capsys.readouterr().err


def test_batch_answers_one_json_per_line(
    indexed: Settings, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    questions = (
        "Do remote sessions need multi-factor authentication?\n\nHow are print jobs released?\n"
    )
    monkeypatch.setattr("sys.stdin", io.StringIO(questions))
    rc, out = run(indexed, capsys, "--json", "--batch", "-")
    lines = out.strip().splitlines()
    assert rc == 0 and len(lines) == 2
    assert [json.loads(x)["question"] for x in lines] == [
        "Do remote sessions need multi-factor authentication?",
        "How are print jobs released?",
    ]


def test_no_index_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rc = cli.main(["--data-dir", str(tmp_path / "empty"), "ask", "anything?"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err == "hipaa-assistant: no index yet: run `hipaa-assistant ingest` first"


def test_prompts_render_as_snapshotted() -> None:
    for name in ("answer", "condense"):
        prompt = load_prompt(name)
        system, human = prompt.render(**prompt.sample)
        check_snapshot(f"prompt_{name}.txt", f"[system]\n{system}\n[human]\n{human}")


def test_a_prompt_with_an_unknown_variable_fails_fast(tmp_path: Path) -> None:
    from core.errors import ConfigError

    bad = (PROMPT_DIR / "answer.yaml").read_text().replace("{question}", "{questoin}")
    (tmp_path / "answer.yaml").write_text(bad)
    with pytest.raises(ConfigError, match="questoin"):
        load_prompt("answer", tmp_path)


def test_a_question_searched_as_something_else_says_so_first() -> None:
    from assistant.answering.types import Answer
    from assistant.commands.ask import render_text

    asked = Answer("What is PHI?", "HIPAA rule: ...", [], [], "extractive", False)
    assert not render_text(asked).startswith("Searched for")
    asked.standalone_question = "What is protected health information (PHI)?"
    assert render_text(asked).startswith(
        "Searched for: What is protected health information (PHI)?\n\nHIPAA rule: ..."
    )

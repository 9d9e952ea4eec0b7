"""A process killed mid-ingest leaves the previous index whole and answering; the next run
completes and nothing is duplicated or lost."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.runtime.stores import open_store
from core.embeddings import build_embedder
from core.index.reader import Index
from core.settings import Settings
from tests.conftest import ROOT, search

pytestmark = pytest.mark.slow

RUNNER = (
    "from tests.fakes import register; register(); "
    "from assistant.cli import main; raise SystemExit(main())"
)


def _env(settings: Settings, delay: str = "0") -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "HIPAA_ASSISTANT_EMBEDDING__PROVIDER": "fake-hash",
            "HIPAA_ASSISTANT_EMBEDDING__MODEL": "v1",
            "HIPAA_ASSISTANT_CHUNKING__MIN_WORDS": "10",
            "HIPAA_ASSISTANT_PATHS__DATA_DIR": str(settings.paths.data_dir),
            "HIPAA_ASSISTANT_PATHS__CORPUS_DIRS": f'["{settings.paths.corpus_dirs[0]}"]',
            "FAKE_EMBED_DELAY": delay,
        }
    )
    return env


def _ingest_proc(settings: Settings, delay: str = "0") -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", RUNNER, "ingest", "--no-progress"],
        cwd=ROOT,
        env=_env(settings, delay),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _check_whole(settings: Settings) -> Index:
    emb = build_embedder(settings.embedding)
    store = open_store(settings, emb)
    idx = Index(settings, emb, store)
    ids = [c.chunk_id for c in idx.chunks]
    assert len(ids) == len(set(ids))
    assert store.count(idx.generation.collection) == len(ids)
    hits = search(idx, "multi-factor authentication remote session", 3)
    assert hits and hits[0].chunk.doc_id == "TST-100"
    return idx


def test_killed_ingest_leaves_previous_index_answering(
    settings: Settings, tiny_corpus: Path
) -> None:
    first = _ingest_proc(settings)
    assert first.wait(timeout=120) == 0, first.stdout.read() if first.stdout else ""
    base = _check_whole(settings)
    base_docs = set(base.entries)
    # More work for the next run: the real policies join the tiny corpus.
    for md in (ROOT / "corpus" / "policies").glob("*.md"):
        shutil.copy(md, tiny_corpus / "policies" / md.name)
    # Kill at several points: while parsing, while embedding, later in the run.
    killed = 0
    for after in (0.4, 1.5, 3.0, 5.0):
        proc = _ingest_proc(settings, delay="0.05")
        time.sleep(after)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.wait(timeout=60)
        idx = _check_whole(settings)
        assert set(idx.entries) in (base_docs, base_docs | _policy_ids()), after
    assert killed >= 3
    final = _ingest_proc(settings)
    out = final.communicate(timeout=300)[0].decode()
    assert final.returncode == 0, out
    idx = _check_whole(settings)
    assert set(idx.entries) == base_docs | _policy_ids()
    store = open_store(settings, build_embedder(settings.embedding))
    assert store.names(settings.chroma.collection_prefix + "_") == [idx.generation.collection]
    gens = list((settings.paths.index_dir / "generations").iterdir())
    assert [g.name for g in gens] == [idx.generation.gen_id]


def _policy_ids() -> set[str]:
    out = set()
    for md in (ROOT / "corpus" / "policies").glob("*.md"):
        out.add(md.name.split("-")[0] + "-" + md.name.split("-")[1])
    return out


def test_a_pointer_write_cut_short_leaves_no_temporary_file_after_the_next_run(
    settings: Settings, tiny_corpus: Path
) -> None:
    """A kill between writing CURRENT.json's temporary file and moving it into place leaves
    that file behind; the next completed run removes it (and keeps the live pointer)."""
    first = _ingest_proc(settings)
    assert first.wait(timeout=120) == 0, first.stdout.read() if first.stdout else ""
    index_dir = settings.paths.index_dir
    stale = index_dir / "CURRENT.json.tmp-99999"
    stale.write_text('{"half": ', encoding="utf-8")
    policy = ROOT / "corpus" / "policies" / "AI-301-generative-ai-acceptable-use.md"
    shutil.copy(policy, tiny_corpus / "policies" / policy.name)
    again = _ingest_proc(settings)
    assert again.wait(timeout=120) == 0, again.stdout.read() if again.stdout else ""
    assert not list(index_dir.rglob("*.tmp-*"))
    _check_whole(settings)

"""Ingest killed at random points: the previous index still answers, the next run completes, and
nothing is duplicated, lost or stale.

The corpus grows (and changes) between rounds so every run has fresh work; each run is a real
``hipaa-assistant ingest`` process with a slowed fake embedder, killed with SIGKILL after a
seeded random delay. After every kill the live index is either exactly the previous generation
or exactly a complete new one. A final run must then match a clean reference ingest chunk for
chunk, leave no stray generation, collection or temporary file, and the embedding cache must
hold no corrupt row.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from assistant.runtime.stores import open_store
from core.embeddings import build_embedder
from core.index.reader import Index
from core.index.state import CURRENT
from core.settings import Settings
from ingest.pipeline import run_ingest
from tests.conftest import ROOT, make_settings, search
from tests.fakes import HashingEmbedder

pytestmark = pytest.mark.slow

SEED = 20261129
KILLS = 6
DOCS_PER_ROUND = 30
EMBED_DELAY = "0.01"  # seconds per text, in the killed processes only
RUNNER = (
    "from tests.fakes import register; register(); "
    "from assistant.cli import main; raise SystemExit(main())"
)
# Filler far from the test query, so the tiny corpus's answer to it stays on top.
_WORDS = [
    *("ledger", "quarterly", "cafeteria", "parking", "garden", "invoice", "mural", "lobby"),
    *("catering", "signage", "calendar", "furniture", "elevator", "umbrella", "recycling"),
    *("holiday", "newsletter", "bicycle", "uniform", "lighting", "carpet", "plants", "coffee"),
]


def _doc(number: int, version: int, rng: random.Random) -> str:
    sections = []
    for s in range(1, 6):
        words = " ".join(rng.choice(_WORDS) for _ in range(32))
        sections.append(f"## {s} Rule {s}\n\nGenerated clause {number}.{s} v{version}: {words}.")
    return (
        f"---\nid: GEN-{number:03d}\ntitle: Generated policy {number}\n---\n"
        f"# GEN-{number:03d} Generated policy {number}\n\n" + "\n\n".join(sections) + "\n"
    )


def _grow(corpus: Path, round_no: int, rng: random.Random) -> None:
    """Round ``round_no``: add a batch of documents, edit one, delete one."""
    folder = corpus / "generated"
    folder.mkdir(exist_ok=True)
    for i in range(DOCS_PER_ROUND):
        number = round_no * DOCS_PER_ROUND + i
        (folder / f"GEN-{number:03d}.md").write_text(_doc(number, 1, rng))
    existing = sorted(folder.glob("*.md"))
    if round_no >= 1:
        edited = existing[rng.randrange(len(existing))]
        number = int(edited.stem.split("-")[1])
        edited.write_text(_doc(number, round_no + 1, rng))
    if round_no >= 2:
        existing[rng.randrange(len(existing) // 2)].unlink(missing_ok=True)


def _env(settings: Settings, delay: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "HIPAA_ASSISTANT_EMBEDDING__PROVIDER": "fake-hash",
            "HIPAA_ASSISTANT_EMBEDDING__MODEL": "v1",
            "HIPAA_ASSISTANT_EMBEDDING__BATCH_SIZE": "2",  # batches of 8: a kill lands between
            "HIPAA_ASSISTANT_CHUNKING__MIN_WORDS": "10",
            "HIPAA_ASSISTANT_PATHS__DATA_DIR": str(settings.paths.data_dir),
            "HIPAA_ASSISTANT_PATHS__CORPUS_DIRS": f'["{settings.paths.corpus_dirs[0]}"]',
            "FAKE_EMBED_DELAY": delay,
            # the question index is embedded after the ingest proper; it would only add a
            # first-run delay to the timing model here
            "HIPAA_ASSISTANT_RETRIEVAL__WEIGHTS": '{"question_index": 0}',
        }
    )
    return env


def _start(settings: Settings, delay: str = EMBED_DELAY) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", RUNNER, "ingest", "--no-progress"],
        cwd=ROOT,
        env=_env(settings, delay),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _open(settings: Settings) -> Index:
    emb = build_embedder(settings.embedding)
    return Index(settings, emb, open_store(settings, emb))


def _chunks(idx: Index) -> dict[str, str]:
    ids = [c.chunk_id for c in idx.chunks]
    assert len(ids) == len(set(ids)), "duplicated chunk ids"
    return {c.chunk_id: c.text for c in idx.chunks}


def _reference(corpus: Path, scratch: Path) -> tuple[dict[str, str], set[str]]:
    """A clean, uninterrupted ingest of the corpus as it is now (in this process, no delay),
    in a new folder under ``scratch``: its chunks (id -> text) and their content hashes."""
    scratch.mkdir(exist_ok=True)
    s = make_settings(scratch / f"run{len(list(scratch.iterdir()))}", [corpus])
    emb = build_embedder(s.embedding)
    assert run_ingest(s, emb, lambda: open_store(s, emb), progress=False).ok
    idx = _open(s)
    return _chunks(idx), {c.content_hash for c in idx.chunks}


def _check_answers(settings: Settings) -> dict[str, str]:
    """The live generation loads whole, its collection matches it, and it answers."""
    idx = _open(settings)
    chunks = _chunks(idx)
    store = open_store(settings, build_embedder(settings.embedding))
    assert store.count(idx.generation.collection) == len(chunks)
    hits = search(idx, "multi-factor authentication for every remote session", 3)
    assert "TST-100" in {h.chunk.doc_id for h in hits}
    return chunks


def _check_cache(settings: Settings, reference: dict[str, str]) -> int:
    """Every cached row is whole, and a vector cached for a chunk is that chunk's vector."""
    path = settings.paths.data_dir / "embedding-cache.sqlite"
    db = sqlite3.connect(str(path))
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = db.execute("SELECT model, key, dim, vec FROM emb").fetchall()
    finally:
        db.close()
    emb = build_embedder(settings.embedding)
    assert isinstance(emb, HashingEmbedder)
    idx = _open(settings)
    expected = {c.content_hash: c.embed_text for c in idx.chunks if c.chunk_id in reference}
    keys = [key for _, key, _, _ in rows]
    assert len(keys) == len(set(keys))
    for model, key, dim, blob in rows:
        assert model == emb.model_id and dim == emb.dimension
        vec = np.frombuffer(blob, dtype=np.float32)
        assert vec.shape == (dim,) and np.isfinite(vec).all()
        assert abs(float(np.linalg.norm(vec)) - 1.0) < 1e-4 or not vec.any()
        if key in expected:
            assert np.allclose(vec, emb.embed([expected[key]])[0], atol=1e-6), key
    assert set(expected) <= set(keys)
    return len(rows)


def _cached(settings: Settings) -> set[str]:
    path = settings.paths.data_dir / "embedding-cache.sqlite"
    if not path.exists():
        return set()
    db = sqlite3.connect(str(path))
    try:
        return {key for (key,) in db.execute("SELECT key FROM emb")}
    finally:
        db.close()


def _leftovers(settings: Settings) -> set[str]:
    """Generation folders and collections on disk (live or not)."""
    store = open_store(settings, build_embedder(settings.embedding))
    gens = {f"gen:{g.name}" for g in (settings.paths.index_dir / "generations").iterdir()}
    return gens | {f"col:{n}" for n in store.names(settings.chroma.collection_prefix + "_")}


def _phase(settings: Settings, before: set[str], cached_before: int, switched: bool) -> str:
    """How far a killed run got, from what it left behind (``before``: ``_leftovers`` and the
    cache size before it started)."""
    now = _leftovers(settings)
    if switched:
        live = _open(settings).generation
        if now - {f"gen:{live.gen_id}", f"col:{live.collection}"}:
            return "dropping the old generation, after the switch"
        return "exiting, after the sweep"
    new = now - before
    if any(n.startswith("gen:") for n in new):
        return "writing the new generation's files"
    if new:
        return "writing the new collection"
    if len(_cached(settings)) > cached_before:
        return "embedding"
    return "starting or reading"


def test_ingest_killed_at_random_points(
    tiny_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(SEED)
    settings = make_settings(tmp_path / "data", [tiny_corpus])
    scratch = tmp_path / "reference"

    # How long a run takes undisturbed, on a throwaway copy: a fixed part, plus the embedding
    # delay for each text not yet in the cache (all of them, here).
    probe_corpus = tmp_path / "probe"
    shutil.copytree(tiny_corpus, probe_corpus)
    _grow(probe_corpus, 0, random.Random(0))
    probe = make_settings(tmp_path / "probe-data", [probe_corpus])
    t0 = time.monotonic()
    proc = _start(probe)
    assert proc.wait(timeout=120) == 0, proc.stdout.read() if proc.stdout else ""
    probe_seconds = time.monotonic() - t0
    per_text = float(EMBED_DELAY)
    fixed = max(0.5, probe_seconds - len(_reference(probe_corpus, scratch)[1]) * per_text)

    # The previous index: the tiny corpus, ingested whole.
    proc = _start(settings, delay="0")
    assert proc.wait(timeout=120) == 0, proc.stdout.read() if proc.stdout else ""
    live = _check_answers(settings)
    assert live == _reference(tiny_corpus, scratch)[0]

    # One kill in each stretch of the expected run time, in a random order.
    strata = [(0.05, 0.3), (0.3, 0.55), (0.55, 0.75), (0.75, 0.88), (0.85, 0.95), (0.92, 1.0)]
    rng.shuffle(strata)

    results = []
    for round_no in range(KILLS):
        _grow(tiny_corpus, round_no, rng)
        target, hashes = _reference(tiny_corpus, scratch)
        pointer = (settings.paths.index_dir / CURRENT).read_bytes()
        cached = _cached(settings)
        before = _leftovers(settings)
        expected = fixed + len(hashes - cached) * per_text
        delay = rng.uniform(*strata[round_no]) * expected
        proc = _start(settings)
        time.sleep(delay)
        killed = proc.poll() is None
        if killed:
            proc.send_signal(signal.SIGKILL)
        out = proc.communicate(timeout=120)[0].decode(errors="replace")
        code = proc.returncode
        assert killed or code == 0, out
        now = _check_answers(settings)
        phase = _phase(settings, before, len(cached), now != live) if killed else ""
        if now == live:
            outcome = "previous index kept"
            assert (settings.paths.index_dir / CURRENT).read_bytes() == pointer
        else:
            outcome = "new index complete"
            assert now == target, "a half-updated index"
        results.append(
            (delay, delay / expected, "killed" if killed else "finished", phase, outcome)
        )
        live = now

    final = _start(settings, delay="0")
    out = final.communicate(timeout=120)[0].decode()
    assert final.returncode == 0, out
    reference = _reference(tiny_corpus, scratch)[0]
    live = _check_answers(settings)
    assert live == reference  # same ids, same text: nothing duplicated, lost or stale
    idx = _open(settings)
    gen = idx.generation
    store = open_store(settings, build_embedder(settings.embedding))
    assert store.names(settings.chroma.collection_prefix + "_") == [gen.collection]
    index_dir = settings.paths.index_dir
    assert [g.name for g in (index_dir / "generations").iterdir()] == [gen.gen_id]
    assert not [p.name for p in index_dir.rglob("*.tmp-*")]
    rows = _check_cache(settings, reference)

    with capsys.disabled():
        print(f"\nfault injection: undisturbed probe run {probe_seconds:.1f} s; kills:")
        for delay, share, fate, phase, outcome in results:
            where = f" while {phase}" if phase else ""
            print(f"  after {delay:5.2f} s ({share:4.0%}): {fate}{where} -> {outcome}")
        print(f"  final run ok: {len(reference)} chunks = reference; cache rows {rows}")
    assert sum(1 for r in results if r[2] == "killed") >= KILLS // 2  # the rest ran through

"""Shared fixtures. No test reaches the network: a guard fails any connection that is not to
loopback, and the default embedder is a deterministic fake."""

from __future__ import annotations

import os
import shutil
import socket
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.retrieval.passages import ScoredPassage
from assistant.retrieval.retriever import HybridRetriever
from assistant.retrieval.vocabulary import Vocabulary
from core.embeddings import build_embedder
from core.index.reader import Index, Scope
from core.settings import RetrievalSettings, Settings
from tests import fakes
from tests.postgres_cluster import fresh_database, throwaway_cluster

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
MIRROR = Path(
    os.environ.get("HIPAA_ASSISTANT_TEST_MIRROR", ROOT.parent / "shared" / "corpus-sources")
)
_prebuilt = os.environ.get("HIPAA_ASSISTANT_TEST_REAL_INDEX")
PREBUILT = Path(_prebuilt) if _prebuilt else None
MIRROR_REASON = (
    f"the offline mirror of official sources is absent ({MIRROR.name} beside the project); "
    "these tests read the eCFR XML and HHS PDFs from it"
)

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
warnings.filterwarnings("ignore", message="Could not reconstruct embedding function")

fakes.register()

_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: object) -> object:
    host = address[0] if isinstance(address, tuple) else address
    loopback = isinstance(host, str) and (host.startswith("127.") or host in ("::1", "localhost"))
    if self.family in (socket.AF_INET, socket.AF_INET6) and not loopback:
        raise RuntimeError(f"test tried to reach the network: {address!r}")
    return _real_connect(self, address)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("HIPAA_ASSISTANT_") and not key.startswith("HIPAA_ASSISTANT_TEST_"):
            monkeypatch.delenv(key, raising=False)


def make_settings(data_dir: Path, corpus: list[Path] | None = None, **embedding: str) -> Settings:
    emb = {"provider": fakes.FAKE_PROVIDER, "model": "v1", **embedding}
    # The tiny test documents have short clauses; a smaller floor keeps them one passage each,
    # as the real corpus's 60-250-word clauses are with the default.
    return Settings(
        paths={"data_dir": data_dir, "corpus_dirs": corpus if corpus is not None else []},
        embedding=emb,
        chunking={"min_words": 10},
    )


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    """A writable copy of the committed test corpus (tests/data/corpus)."""
    dest = tmp_path / "corpus"
    shutil.copytree(DATA / "corpus", dest)
    return dest


@pytest.fixture
def settings(tmp_path: Path, tiny_corpus: Path) -> Settings:
    return make_settings(tmp_path / "data", [tiny_corpus])


@pytest.fixture
def embedder(settings: Settings) -> fakes.HashingEmbedder:
    emb = build_embedder(settings.embedding)
    assert isinstance(emb, fakes.HashingEmbedder)
    return emb


@pytest.fixture(scope="session")
def mirror() -> Path:
    if not (MIRROR / "ecfr").is_dir():
        pytest.skip(MIRROR_REASON)
    return MIRROR


ALL = Scope.unrestricted()


def remote_work_policy(doc_id: str, extra: str = "") -> bytes:
    """A Word policy as an organisation keeps one (numbered headings from styles), on a subject
    no bundled document covers: voice assistants at home."""
    import io

    import docx

    d = docx.Document()
    d.core_properties.title = f"{doc_id} Remote Work with AI Tools"
    d.add_heading(f"{doc_id} Remote Work with AI Tools", level=1)
    d.add_heading("1. Purpose", level=2)
    d.add_paragraph(
        "This policy sets the rules for staff who work remotely near smart speakers and other "
        "always-listening devices while protected health information is discussed."
    )
    d.add_heading("2. Voice assistants", level=2)
    d.add_paragraph(
        "Staff working remotely must switch off home voice assistants and smart speakers before "
        f"any call or dictation that involves protected health information. {extra}".strip()
    )
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def index_org_corpus(data_dir: Path) -> tuple[Settings, Index]:
    """The bundled organisation corpus (policies and BAAs), indexed with the fake embedder."""
    from assistant.runtime.stores import open_store
    from ingest.pipeline import run_ingest

    settings = make_settings(data_dir, [ROOT / "corpus"])
    settings.chunking.min_words = 25
    # thresholds for the fake (bag-of-words) embedder, whose similarities run lower than MiniLM's
    settings.answer.abstain_min_dense = 0.12
    # the bag-of-words fake matches staff questions to the organisation's question index by
    # shared words only: noise for the tests built on this corpus (tests/test_topics.py and the
    # slow tests with the real model cover that index)
    settings.retrieval.corpus_questions = None
    emb = build_embedder(settings.embedding)
    assert run_ingest(settings, emb, lambda: open_store(settings, emb), progress=False).ok
    return settings, Index(settings, emb, open_store(settings, emb))


def search(index: Index, question: str, k: int = 5) -> list[ScoredPassage]:
    """Hybrid retrieval over everything (trusted test tooling)."""
    retriever = HybridRetriever(
        index, RetrievalSettings(min_rule_passages=0, min_org_passages=0), Vocabulary.load()
    )
    return retriever.retrieve(question, ALL, k).passages


@pytest.fixture(scope="session")
def real_index_dir(mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled corpus + the mirror's official texts, indexed with the default embedder, as
    `hipaa-assistant ingest` leaves it: the question index embedded, the query adapter fitted
    and the questions' ONNX copy checked (without it, servers started on this folder would
    embed questions with torch: half the throughput and 1.5 GB more each).
    ``HIPAA_ASSISTANT_TEST_REAL_INDEX``: a data folder already built so (`make run`), to skip the
    two-minute ingest while working on the slow tests."""
    if PREBUILT:
        return PREBUILT
    from assistant.runtime.build import prepare_after_ingest
    from assistant.runtime.stores import open_store
    from ingest.official import fetch
    from ingest.pipeline import run_ingest

    data = tmp_path_factory.mktemp("real") / "data"
    settings = Settings(paths={"data_dir": data, "corpus_dirs": [ROOT / "corpus"]})
    assert fetch(settings, mirror=mirror).ok
    emb = build_embedder(settings.embedding)
    assert run_ingest(settings, emb, lambda: open_store(settings, emb), progress=False).ok
    prepare_after_ingest(settings, emb, fit_adapter=True)
    return data


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A throwaway PostgreSQL cluster for the tests of one module."""
    with throwaway_cluster() as url:
        yield url


@pytest.fixture
def url(cluster: str) -> Iterator[str]:
    """A fresh database of the cluster for each test."""
    with fresh_database(cluster) as url:
        yield url

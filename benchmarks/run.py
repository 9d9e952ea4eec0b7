"""The benchmark runner (`make bench`): cost at growing corpus sizes, next to the LangChain
tutorial pipeline on the same inputs.

    python -m benchmarks.run --mirror DIR [--scales 1,10,50] [--out benchmarks/results/NAME]

For each scale: the bundled corpus + the official texts (1x), grown with generated policies to
about 10x and 50x the passages. Measures ingest (cold, rebuild with the embedding cache warm,
no-op in-process and through the CLI), the server's cold start and peak memory, warm `ask`
latency (retrieval alone and the full extractive answer), and the tutorial pipeline
(RecursiveCharacterTextSplitter 1000/200 + the same embeddings + Chroma top-k): its ingest time
and retrieval latency, as ratios. Writes results.json and report.md. It takes long at 50x (the
embedding of ~70,000 passages dominates): run the scales you need, or measure query latency
alone with ``--latency-only`` (stand-in passage vectors, real query embedding: minutes at 50x).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

from benchmarks.corpus_gen import generate
from benchmarks.server import rss_mb, serving

ROOT = Path(__file__).resolve().parent.parent
CHUNKS_PER_GENERATED_DOC = 19  # measured: a bundled policy makes ~19 passages


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _questions() -> list[str]:
    data = yaml.safe_load((ROOT / "evals" / "calibration.yaml").read_text())
    return list(data["answerable"]) + list(data["not_answerable"])


def _pdf_pages(paths: list[Path]) -> int:
    from pypdf import PdfReader

    return sum(
        len(PdfReader(io.BytesIO(p.read_bytes())).pages)
        for p in paths
        if p.suffix.lower() == ".pdf"
    )


def _settings(data: Path, corpus_dirs: list[Path]) -> Any:
    from core.settings import PathSettings, Settings

    return Settings(paths=PathSettings(data_dir=data, corpus_dirs=corpus_dirs))


def measure_ingest(settings: Any) -> dict[str, Any]:
    from assistant.runtime.stores import open_store
    from core.embeddings import build_embedder
    from ingest.pipeline import discover, run_ingest

    embedder = build_embedder(settings.embedding)
    files, _ = discover(settings)
    pages = _pdf_pages([f.path for f in files])
    rows: dict[str, Any] = {"documents": len(files), "pdf_pages": pages}
    for label, kw in (("cold", {}), ("warm_rebuild", {"rebuild": True}), ("noop", {})):
        t0 = time.perf_counter()
        rep = run_ingest(
            settings, embedder, lambda: open_store(settings, embedder), progress=False, **kw
        )
        if not rep.noop:
            # as the ingest command does: the question index is embedded (once: cached after
            # that) and the query adapter fitted for the new index generation
            from assistant.runtime.build import build_adapter, build_topics
            from assistant.runtime.stores import open_index

            t1 = time.perf_counter()
            topics = build_topics(settings, embedder)
            if label == "cold":
                rows["question_index_first_embed_s"] = round(time.perf_counter() - t1, 1)
            t1 = time.perf_counter()
            build_adapter(settings, open_index(settings, embedder), topics)
            rows[f"query_adapter_fit_{label}_s"] = round(time.perf_counter() - t1, 1)
        secs = time.perf_counter() - t0
        rows[label] = {
            "seconds": round(secs, 2),
            "chunks": rep.chunks,
            "chunks_per_s": round(rep.chunks / secs, 1) if not rep.noop else None,
            "pages_per_s": round(pages / secs, 1) if not rep.noop else None,
            "embedded": rep.embedded,
            "embed_per_s": round(rep.embedded / rep.embed_seconds, 1) if rep.embedded else None,
        }
    env = {**os.environ, "HIPAA_ASSISTANT_PATHS__DATA_DIR": str(settings.paths.data_dir)}
    dirs = [str(d) for d in settings.paths.corpus_dirs]
    env["HIPAA_ASSISTANT_PATHS__CORPUS_DIRS"] = json.dumps(dirs)
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ingest", "--no-progress"],
        env=env,
        check=True,
        capture_output=True,
    )
    rows["noop_cli_seconds"] = round(time.perf_counter() - t0, 2)
    rows["model_id"] = embedder.model_id
    return rows


def measure_ask(settings: Any, repeats: int) -> dict[str, Any]:
    from assistant.runtime.build import build_chain
    from assistant.runtime.stores import open_index
    from core.index.reader import Scope

    index = open_index(settings)
    chain = build_chain(settings, index)
    scope = Scope.for_groups({"staff", "privacy-office", "legal"})
    chain.ask("warm-up: what is the minimum necessary standard?", scope)
    retrieval, full = [], []
    for _ in range(repeats):
        for q in _questions():
            t = time.perf_counter()
            chain.retriever.retrieve(q, scope)
            retrieval.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            chain.ask(q, scope)
            full.append((time.perf_counter() - t) * 1000)
    return {
        "passages": len(index.chunks),
        "retrieval_p50_ms": round(statistics.median(retrieval), 1),
        "retrieval_p95_ms": round(pct(retrieval, 0.95), 1),
        "answer_p50_ms": round(statistics.median(full), 1),
        "answer_p95_ms": round(pct(full, 0.95), 1),
        "samples": len(full),
    }


def measure_server(data: Path, corpus_dirs: list[Path], questions: int = 40) -> dict[str, Any]:
    """Cold start (spawn to healthy) and peak resident memory while answering over the API."""
    from assistant.accounts import UserStore

    with tempfile.TemporaryDirectory() as tmp:
        own = Path(tmp)
        users = UserStore(own / "users.json", bcrypt_rounds=4)
        users.add("bench", "bench-password", ("staff", "privacy-office", "legal"), replace=True)
        token = users.issue_token("bench")
        env = {"HIPAA_ASSISTANT_PATHS__CORPUS_DIRS": json.dumps([str(d) for d in corpus_dirs])}
        t0 = time.perf_counter()
        with serving(data, own, env) as server:
            cold = time.perf_counter() - t0
            peak = [rss_mb(server.pid)]
            done = threading.Event()

            def sample() -> None:
                while not done.wait(0.2):
                    peak.append(rss_mb(server.pid))

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            with httpx.Client(
                base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=120
            ) as http:
                for q in _questions()[:questions]:
                    http.post("/api/ask", json={"question": q}).raise_for_status()
            done.set()
            sampler.join()
    return {"cold_start_s": round(cold, 1), "peak_rss_mb": round(max(peak), 0)}


def _source_texts(settings: Any) -> list[tuple[str, str]]:
    """What the tutorial loads: each file's plain text (PDF pages, Markdown, eCFR XML text)."""
    import xml.etree.ElementTree as ET

    from pypdf import PdfReader

    from ingest.pipeline import discover

    files, _ = discover(settings)
    out = []
    for f in files:
        suffix = f.path.suffix.lower()
        if suffix == ".pdf":
            reader = PdfReader(io.BytesIO(f.path.read_bytes()))
            text = "\n".join(page.extract_text() or "" for page in reader.pages)
        elif suffix == ".xml":
            text = " ".join(ET.parse(f.path).getroot().itertext())
        else:
            text = f.path.read_text(encoding="utf-8", errors="replace")
        out.append((f.path.name, text))
    return out


def measure_tutorial(settings: Any, workdir: Path) -> dict[str, Any]:
    """The tutorial pipeline end to end on the same files: load, split 1000/200, embed (no
    cache), Chroma (persistent, cosine), then similarity top-5 latency."""
    import chromadb
    from chromadb.config import Settings as ChromaClientSettings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from core.embeddings import build_embedder
    from core.index.vector_store import as_chroma_ef

    embedder = build_embedder(settings.embedding)
    embedder.embed_query("warm-up")
    t0 = time.perf_counter()
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    texts = [chunk for _, text in _source_texts(settings) for chunk in splitter.split_text(text)]
    vectors = embedder.embed(texts)
    client = chromadb.PersistentClient(
        str(workdir / "tutorial-chroma"), ChromaClientSettings(anonymized_telemetry=False)
    )
    collection = client.create_collection(
        "tutorial",
        configuration={"hnsw": {"space": "cosine"}},
        embedding_function=as_chroma_ef(embedder),
    )
    for i in range(0, len(texts), 1000):
        collection.add(
            ids=[str(j) for j in range(i, i + len(texts[i : i + 1000]))],
            documents=texts[i : i + 1000],
            embeddings=vectors[i : i + 1000].tolist(),
        )
    ingest_s = time.perf_counter() - t0
    latencies = []
    for q in _questions():
        t = time.perf_counter()
        collection.query(query_embeddings=[embedder.embed_query(q).tolist()], n_results=5)
        latencies.append((time.perf_counter() - t) * 1000)
    return {
        "splits": len(texts),
        "ingest_s": round(ingest_s, 1),
        "retrieval_p50_ms": round(statistics.median(latencies), 1),
        "retrieval_p95_ms": round(pct(latencies, 0.95), 1),
    }


def run_scale(scale: int, mirror: Path, work: Path, repeats: int, tutorial: bool) -> dict[str, Any]:
    from ingest.official import fetch

    corpus_dirs = [ROOT / "corpus"]
    if scale > 1:
        extra_docs = round((scale - 1) * 1462 / CHUNKS_PER_GENERATED_DOC)
        generate(work / "generated", extra_docs)
        corpus_dirs.append(work / "generated")
    settings = _settings(work / "data", corpus_dirs)
    fetch(settings, mirror=mirror)
    result: dict[str, Any] = {"scale": scale, "ingest": measure_ingest(settings)}
    result["ask"] = measure_ask(settings, repeats)
    result["server"] = measure_server(work / "data", corpus_dirs)
    if tutorial:
        t = measure_tutorial(settings, work)
        t["ingest_ratio_vs_project_cold"] = round(
            result["ingest"]["cold"]["seconds"] / t["ingest_s"], 2
        )
        t["retrieval_p50_ratio_project_vs_tutorial"] = round(
            result["ask"]["retrieval_p50_ms"] / t["retrieval_p50_ms"], 2
        )
        result["tutorial"] = t
    return result


def run_latency_scale(
    scale: int, mirror: Path, work: Path, repeats: int, tutorial: bool
) -> dict[str, Any]:
    """Query latency alone at ``scale``: passages get stand-in vectors (no hours of embedding),
    questions the real model's (see benchmarks/latency_embedder.py)."""
    import resource

    from assistant.runtime.stores import open_store
    from benchmarks.latency_embedder import PROVIDER, register
    from core.embeddings import build_embedder
    from ingest.official import fetch
    from ingest.pipeline import run_ingest

    register()
    corpus_dirs = [ROOT / "corpus"]
    if scale > 1:
        generate(work / "generated", round((scale - 1) * 1462 / CHUNKS_PER_GENERATED_DOC))
        corpus_dirs.append(work / "generated")
    settings = _settings(work / "data", corpus_dirs)
    settings.embedding.provider = PROVIDER
    fetch(settings, mirror=mirror)
    embedder = build_embedder(settings.embedding)
    t0 = time.perf_counter()
    rep = run_ingest(settings, embedder, lambda: open_store(settings, embedder), progress=False)
    result: dict[str, Any] = {
        "scale": scale,
        "mode": "latency",
        "passages": rep.chunks,
        "ingest_with_stand_in_vectors_s": round(time.perf_counter() - t0, 1),
        "ask": measure_ask(settings, repeats),
        "process_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "reader_peak_rss_mb": _reader_rss(work / "data", corpus_dirs),
    }
    if tutorial:
        t = measure_tutorial(settings, work)
        result["tutorial"] = {
            "splits": t["splits"],
            "retrieval_p50_ms": t["retrieval_p50_ms"],
            "retrieval_p95_ms": t["retrieval_p95_ms"],
        }
    return result


_READER = """
import json, sys
from pathlib import Path
from benchmarks.latency_embedder import PROVIDER, register
from benchmarks.run import _questions, _settings
from assistant.runtime.build import build_chain
from core.index.reader import Scope
from assistant.runtime.stores import open_index
register()
settings = _settings(Path(sys.argv[1]), [Path(p) for p in json.loads(sys.argv[2])])
settings.embedding.provider = PROVIDER
chain = build_chain(settings, open_index(settings))
for q in _questions()[:40]:
    chain.ask(q, Scope.for_groups({"staff", "privacy-office", "legal"}))
# VmHWM: this process's own peak (ru_maxrss would carry the parent's over the exec)
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
print(round(int(hwm.split()[1]) / 1024))
"""


def _reader_rss(data: Path, corpus_dirs: list[Path]) -> int:
    """Peak memory of a fresh process that opens the index and answers 40 questions: what the
    server holds, without the web framework."""
    out = subprocess.run(
        [sys.executable, "-c", _READER, str(data), json.dumps([str(d) for d in corpus_dirs])],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return int(out.stdout.strip().splitlines()[-1])


def latency_markdown(results: list[dict[str, Any]], machine: str) -> str:
    lines = [
        f"Machine: {machine}. Query latency only: passages have stand-in vectors of the real "
        "model's size, questions are embedded by the real model (benchmarks/latency_embedder.py).",
        "",
        "| scale | passages | retrieval p50/p95 ms | answer p50/p95 ms | reader peak RSS MB "
        "| benchmark process peak RSS MB | tutorial splits | tutorial retrieval p50/p95 ms |",
        "|---:|---:|---|---|---:|---:|---:|---|",
    ]
    for r in results:
        a, t = r["ask"], r.get("tutorial", {})
        lines.append(
            f"| {r['scale']}x | {r['passages']} "
            f"| {a['retrieval_p50_ms']} / {a['retrieval_p95_ms']} "
            f"| {a['answer_p50_ms']} / {a['answer_p95_ms']} | {r['reader_peak_rss_mb']} "
            f"| {r['process_peak_rss_mb']} "
            f"| {t.get('splits', '-')} "
            f"| {t.get('retrieval_p50_ms', '-')} / {t.get('retrieval_p95_ms', '-')} |"
        )
    return "\n".join(lines) + "\n"


def markdown(results: list[dict[str, Any]], machine: str) -> str:
    lines = [
        f"Machine: {machine}. Embedder: {results[0]['ingest']['model_id']}.",
        "",
        "| scale | docs | passages | PDF pages | cold ingest s | chunks/s | pages/s | embed/s "
        "| warm rebuild s | no-op s (CLI s) | server start s | peak RSS MB "
        "| retrieval p50/p95 ms | answer p50/p95 ms |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|---|",
    ]
    for r in results:
        i, a, s = r["ingest"], r["ask"], r["server"]
        lines.append(
            f"| {r['scale']}x | {i['documents']} | {i['cold']['chunks']} | {i['pdf_pages']} "
            f"| {i['cold']['seconds']} | {i['cold']['chunks_per_s']} | {i['cold']['pages_per_s']} "
            f"| {i['cold']['embed_per_s']} | {i['warm_rebuild']['seconds']} "
            f"| {i['noop']['seconds']} ({i['noop_cli_seconds']}) | {s['cold_start_s']} "
            f"| {s['peak_rss_mb']:.0f} | {a['retrieval_p50_ms']} / {a['retrieval_p95_ms']} "
            f"| {a['answer_p50_ms']} / {a['answer_p95_ms']} |"
        )
    if any("tutorial" in r for r in results):
        lines += [
            "",
            "LangChain tutorial pipeline on the same files (1000/200 splits, same embeddings, "
            "Chroma top-5):",
            "",
            "| scale | splits | ingest s | project cold ingest / tutorial | retrieval p50/p95 ms "
            "| project retrieval p50 / tutorial |",
            "|---:|---:|---:|---:|---|---:|",
        ]
        for r in results:
            if "tutorial" in r:
                t = r["tutorial"]
                lines.append(
                    f"| {r['scale']}x | {t['splits']} | {t['ingest_s']} "
                    f"| {t['ingest_ratio_vs_project_cold']} "
                    f"| {t['retrieval_p50_ms']} / {t['retrieval_p95_ms']} "
                    f"| {t['retrieval_p50_ratio_project_vs_tutorial']} |"
                )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--mirror", type=Path, required=True, help="folder with the official files")
    p.add_argument("--scales", default="1,10,50", help="comma-separated multiples of the corpus")
    p.add_argument("--repeats", type=int, default=2, help="passes over the latency questions")
    p.add_argument("--no-tutorial", action="store_true", help="skip the tutorial pipeline")
    p.add_argument("--out", type=Path, help="results folder (default benchmarks/results/<time>)")
    p.add_argument(
        "--latency-only",
        action="store_true",
        help="query latency alone, with stand-in passage vectors (minutes, not hours, at 50x)",
    )
    args = p.parse_args(argv)
    scales = [int(s) for s in args.scales.split(",") if s.strip()]
    out = args.out or ROOT / "benchmarks" / "results" / datetime.now(UTC).strftime("%Y%m%dT%H%M")
    out.mkdir(parents=True, exist_ok=True)
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}, "
        f"Python {platform.python_version()}"
    )
    results = []
    for scale in scales:
        work = Path(tempfile.mkdtemp(prefix=f"bench-{scale}x-"))
        try:
            print(f"scale {scale}x ...", file=sys.stderr, flush=True)
            run = run_latency_scale if args.latency_only else run_scale
            results.append(run(scale, args.mirror, work, args.repeats, not args.no_tutorial))
            (out / "results.json").write_text(
                json.dumps({"machine": machine, "results": results}, indent=2)
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)
    report = (latency_markdown if args.latency_only else markdown)(results, machine)
    (out / "report.md").write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Embedding throughput and agreement: sentence-transformers fp32 against the ONNX embedders.

    python -m benchmarks.embedders [--passages 200] [--words 200] [--rounds 2] [--json OUT]
                                   [--export-dir DIR]

Passages are windows of ``--words`` words from the bundled corpus's Markdown files (the policies
and the BAA sources). Each embedder embeds all of them once per round, interleaved slice by slice
so a change in the machine's load hits all of them alike; passages/s is the median over rounds.
Agreement is the cosine between an ONNX vector and the sentence-transformers vector of the same
passage. The ONNX export (once per precision) is timed apart and is not part of the throughput;
without --export-dir it goes to a temporary folder and is thrown away.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from assistant.embeddings import Embedder, build_embedder
from assistant.settings import EmbeddingSettings

ROOT = Path(__file__).resolve().parent.parent
SLICE = 50


@dataclass
class Row:
    name: str
    model_id: str
    load_seconds: float
    rates: list[float] = field(default_factory=list)
    passages_per_s: float = 0.0
    speedup: float = 1.0
    cos_mean: float = 1.0
    cos_min: float = 1.0


def corpus_passages(count: int, words: int) -> list[str]:
    """``count`` windows of ``words`` words over the corpus Markdown (overlapping if needed)."""
    files = sorted((ROOT / "corpus").rglob("*.md"))
    tokens = [w for f in files if f.name != "README.md" for w in f.read_text("utf-8").split()]
    if len(tokens) < words:
        raise SystemExit("the corpus has too few words for one passage")
    span = len(tokens) - words
    step = max(1, min(words, span // max(1, count - 1)))
    starts = [(i * step) % (span + 1) for i in range(count)]
    return [" ".join(tokens[s : s + words]) for s in starts]


def _load(settings: EmbeddingSettings) -> tuple[Embedder, float]:
    t0 = time.perf_counter()
    emb = build_embedder(settings)
    emb.embed(["warm up"])
    return emb, time.perf_counter() - t0


def run(
    passages: list[str], rounds: int, export_dir: Path
) -> tuple[list[Row], dict[str, np.ndarray]]:
    configs = {
        "sentence-transformers fp32": EmbeddingSettings(),
        "onnx fp32": EmbeddingSettings(
            provider="onnx", onnx_precision="fp32", export_dir=export_dir
        ),
        "onnx int8": EmbeddingSettings(
            provider="onnx", onnx_precision="int8", export_dir=export_dir
        ),
    }
    embedders: dict[str, Embedder] = {}
    rows: dict[str, Row] = {}
    for name, settings in configs.items():
        emb, secs = _load(settings)
        embedders[name] = emb
        rows[name] = Row(name, emb.model_id, round(secs, 1))
    vectors: dict[str, np.ndarray] = {}
    for _ in range(rounds):
        spent = dict.fromkeys(embedders, 0.0)
        parts: dict[str, list[np.ndarray]] = {name: [] for name in embedders}
        for start in range(0, len(passages), SLICE):
            chunk = passages[start : start + SLICE]
            for name, emb in embedders.items():
                t0 = time.perf_counter()
                parts[name].append(emb.embed(chunk))
                spent[name] += time.perf_counter() - t0
        for name in embedders:
            rows[name].rates.append(round(len(passages) / spent[name], 1))
            vectors[name] = np.concatenate(parts[name])
    base_name = next(iter(embedders))
    base = vectors[base_name]
    for name, row in rows.items():
        row.passages_per_s = round(statistics.median(row.rates), 1)
        row.speedup = round(row.passages_per_s / rows[base_name].passages_per_s, 2)
        cos = np.sum(vectors[name] * base, axis=1)
        row.cos_mean, row.cos_min = round(float(cos.mean()), 4), round(float(cos.min()), 4)
    return list(rows.values()), vectors


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--passages", type=int, default=200, help="passages embedded per round")
    p.add_argument("--words", type=int, default=200, help="words per passage")
    p.add_argument("--rounds", type=int, default=2, help="rounds (median reported)")
    p.add_argument("--export-dir", type=Path, help="where the ONNX exports are kept")
    p.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    passages = corpus_passages(args.passages, args.words)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        rows, _ = run(passages, max(1, args.rounds), args.export_dir or Path(tmp))
    load_after = os.getloadavg()[0]
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"load average {load_before:.1f} before, {load_after:.1f} after"
    )
    print(f"Machine: {machine}")
    print(f"{len(passages)} passages of {args.words} words from the corpus, {args.rounds} rounds\n")
    print(
        "| embedder | model id | passages/s | vs ST fp32 | cosine vs ST fp32 (mean / min) "
        "| first use s (load + export) | rounds |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | --- |")
    for r in rows:
        print(
            f"| {r.name} | `{r.model_id}` | {r.passages_per_s} | {r.speedup}× | "
            f"{r.cos_mean:.4f} / {r.cos_min:.4f} | {r.load_seconds} | "
            f"{', '.join(str(x) for x in r.rates)} |"
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": machine,
                    "passages": len(passages),
                    "words": args.words,
                    "rounds": args.rounds,
                    "rows": [asdict(r) for r in rows],
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

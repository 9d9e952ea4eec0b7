"""Embedding throughput and agreement: sentence-transformers fp32 against the ONNX embedders.

    python -m benchmarks.embedders [--passages 200] [--words 200] [--rounds 2] [--json OUT]
                                   [--export-dir DIR]

Passages are windows of ``--words`` words from the bundled corpus's Markdown files (the policies
and the BAA sources). Each embedder embeds all of them once per round, interleaved slice by slice
so a change in the machine's load hits all of them alike; passages/s is the median over rounds.
Agreement is the cosine between an ONNX vector and the sentence-transformers vector of the same
passage. The ONNX export (once per precision) is timed apart and is not part of the throughput;
without --export-dir it goes to a temporary folder and is thrown away.

It also puts each rate against the machine: the model's arithmetic for these passages (their real
token counts) and the fp32 matrix-multiply rate this CPU reaches at all (numpy, large square
matrices). Their ratio is the most passages/s any fp32 embedder of this model could reach here.
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

from core.embeddings import Embedder, build_embedder
from core.settings import EmbeddingSettings

ROOT = Path(__file__).resolve().parent.parent
SLICE = 50


@dataclass
class Ceiling:
    """What the machine allows: fp32 GEMM rate, the model's work per passage, their quotient."""

    gemm_gflops: float
    gflop_per_passage: float
    fp32_passages_per_s: float
    mean_tokens: float


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


def encoder_flops(tokens: int, layers: int, hidden: int, intermediate: int) -> float:
    """Floating-point operations (2 per multiply-add) of one BERT-style encoder pass over
    ``tokens`` tokens: the Q, K, V and output projections, the two feed-forward layers, and the
    attention scores and weighted sum. Layer norms, softmax and activations are left out (small)."""
    per_layer = tokens * (4 * hidden * hidden + 2 * hidden * intermediate) + 2 * tokens**2 * hidden
    return 2.0 * layers * per_layer


def gemm_gflops(size: int = 2048, seconds: float = 3.0) -> float:
    """The best fp32 matrix-multiply rate numpy reaches here (GFLOP/s, all cores)."""
    rng = np.random.default_rng(0)
    a = rng.random((size, size), dtype=np.float32)
    b = rng.random((size, size), dtype=np.float32)
    a @ b  # warm up the BLAS threads
    best, end = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        a @ b
        best = max(best, 2.0 * size**3 / (time.perf_counter() - t0) / 1e9)
    return best


def ceiling(passages: list[str]) -> Ceiling:
    """The fp32 ceiling for the bundled model on these passages."""
    from tokenizers import Tokenizer

    from core.model_files import BUNDLED_MODEL, resolve_model_path
    from core.onnx_embedder import read_layout

    layout = read_layout(Path(resolve_model_path(BUNDLED_MODEL)[0]))
    config = json.loads((layout.transformer_dir / "config.json").read_text("utf-8"))
    tokenizer = Tokenizer.from_file(str(layout.transformer_dir / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=layout.max_seq_length)
    counts = [len(e.ids) for e in tokenizer.encode_batch(passages)]
    flops = [
        encoder_flops(
            n,
            int(config["num_hidden_layers"]),
            int(config["hidden_size"]),
            int(config["intermediate_size"]),
        )
        for n in counts
    ]
    per_passage = statistics.fmean(flops) / 1e9
    peak = gemm_gflops()
    return Ceiling(
        gemm_gflops=round(peak, 1),
        gflop_per_passage=round(per_passage, 3),
        fp32_passages_per_s=round(peak / per_passage, 1),
        mean_tokens=round(statistics.fmean(counts), 1),
    )


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
    limit = ceiling(passages)
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
    base = rows[0].passages_per_s
    print(
        f"\nThe machine: fp32 matrix multiply at {limit.gemm_gflops} GFLOP/s (numpy, all cores); "
        f"the model does {limit.gflop_per_passage} GFLOP per passage ({limit.mean_tokens} tokens "
        f"on average), so no fp32 embedder can pass {limit.fp32_passages_per_s} passages/s "
        f"here = {limit.fp32_passages_per_s / base:.2f}x sentence-transformers fp32."
    )
    for r in rows:
        used = r.passages_per_s * limit.gflop_per_passage
        print(f"- {r.name}: {used:.0f} GFLOP/s, {used / limit.gemm_gflops:.0%} of that rate")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": machine,
                    "passages": len(passages),
                    "words": args.words,
                    "rounds": args.rounds,
                    "rows": [asdict(r) for r in rows],
                    "ceiling": asdict(limit),
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

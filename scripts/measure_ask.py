"""Warm `ask` latency (extractive), retrieval alone and the full answer, on a built index.

    python scripts/measure_ask.py [--repeats 3]

Uses the configured data directory (build it first: `make run`). Questions: evals/calibration.yaml
(answerable and unanswerable). Everything is loaded once first, as in a running server.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.runtime.build import build_chain  # noqa: E402
from assistant.runtime.stores import open_index  # noqa: E402
from core.index.reader import Scope  # noqa: E402
from core.settings import Settings  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    data = yaml.safe_load((ROOT / "evals" / "calibration.yaml").read_text())
    questions = data["answerable"] + data["not_answerable"]
    settings = Settings()
    t0 = time.perf_counter()
    index = open_index(settings)
    chain = build_chain(settings, index)
    scope = Scope.for_groups({"staff", "privacy-office", "legal"})
    chain.ask("warm-up: what is the minimum necessary standard?", scope)
    startup = time.perf_counter() - t0
    retrieval, full = [], []
    for _ in range(args.repeats):
        for q in questions:
            t = time.perf_counter()
            chain.retriever.retrieve(q, scope)
            retrieval.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            chain.ask(q, scope)
            full.append((time.perf_counter() - t) * 1000)
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores; "
        f"index: {len(index.chunks)} chunks; "
        f"start-up (index + model + first answer): {startup:.1f} s; "
        f"{len(questions)} questions x {args.repeats}"
    )
    print("| step | p50 ms | p95 ms | max ms |")
    print("| --- | ---: | ---: | ---: |")
    for name, values in (("retrieval", retrieval), ("full extractive answer", full)):
        print(
            f"| {name} | {statistics.median(values):.0f} | {pct(values, 0.95):.0f} | "
            f"{max(values):.0f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

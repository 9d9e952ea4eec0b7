"""A one-shot `hipaa-assistant ask` from a cold process: wall time and peak memory, with the
questions' ONNX copy of the embedder (the default) and without it (the model itself).

    python -m benchmarks.cold_ask [--data-dir DIR] [--runs 5]

Each run is a fresh `hipaa-assistant ask` process on a built index (`make run`, or `ingest`: it
makes and checks the copy). Peak memory is the process's own maximum resident set (wait4).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMAND = Path(sys.executable).parent / "hipaa-assistant"
QUESTION = "Can I paste a discharge summary into ChatGPT?"
VARIANTS: tuple[tuple[str, dict[str, str]], ...] = (
    ("checked ONNX copy (default)", {}),
    ("the embedding model itself", {"HIPAA_ASSISTANT_EMBEDDING__QUERY_COPY": "false"}),
)


def one_run(data_dir: Path | None, env: dict[str, str]) -> tuple[float, float]:
    """Seconds from spawn to exit, and the peak resident memory in MB."""
    args = [str(COMMAND), *(["--data-dir", str(data_dir)] if data_dir else []), "ask", QUESTION]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        args, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"ask failed ({proc.returncode}): {err[-500:]}")
    return wall, usage.ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="a built data folder (default: ./data)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores; {args.runs} runs each\n")
    print("| questions embedded by | wall s: median (min-max) | peak RSS MB: median |")
    print("| --- | --- | ---: |")
    for label, env in VARIANTS:
        one_run(args.data_dir, env)  # the page cache warmed, as for any command run twice
        runs = [one_run(args.data_dir, env) for _ in range(args.runs)]
        walls, peaks = [w for w, _ in runs], [p for _, p in runs]
        print(
            f"| {label} | {statistics.median(walls):.2f} ({min(walls):.2f}-{max(walls):.2f}) "
            f"| {statistics.median(peaks):.0f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

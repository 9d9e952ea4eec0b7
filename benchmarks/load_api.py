"""A bounded load test of `POST /api/ask`: N concurrent clients for D seconds on loopback.

Each client asks the golden questions in turn (a fixed shuffle per client) with a staff or a
privacy-office token, as fast as answers come back. Reports requests, errors, latency p50/p95/max,
throughput, and the server's resident memory sampled every second, with its trend over the run.
It stops by itself.

With several servers (``run_load(urls=[...])``), client n asks server n mod the number of servers
and, when that server cannot be reached, the next one, as a load balancer would (``failovers``).

    python -m benchmarks.load_api [--clients 50] [--seconds 60] [--url URL --token T --pid PID]

Without --url it starts its own server on the index of the data directory (`make run` first).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
import yaml

from benchmarks.server import rss_mb, serving

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class LoadResult:
    clients: int
    seconds: float
    servers: int = 1
    requests: int = 0
    errors: int = 0
    failovers: int = 0  # requests a server could not take, answered by another
    error_samples: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    rss_mb: list[float] = field(default_factory=list, repr=False)

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else 0.0

    @property
    def p95_ms(self) -> float:
        if len(self.latencies_ms) < 2:
            return self.p50_ms
        return statistics.quantiles(self.latencies_ms, n=20)[18]

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def memory_growth(self) -> float:
        """Relative growth of resident memory from the first to the last third of the run
        (medians, so one garbage-collection swing does not count): ~0 means no upward trend."""
        if len(self.rss_mb) < 6:
            return 0.0
        third = len(self.rss_mb) // 3
        first = statistics.median(self.rss_mb[:third])
        last = statistics.median(self.rss_mb[-third:])
        return (last - first) / first

    def summary(self) -> dict[str, object]:
        data = asdict(self)
        data.pop("latencies_ms")
        data["rss_mb"] = [round(v, 1) for v in self.rss_mb]
        data.update(
            p50_ms=round(self.p50_ms, 1),
            p95_ms=round(self.p95_ms, 1),
            max_ms=round(max(self.latencies_ms, default=0.0), 1),
            throughput_per_s=round(self.throughput, 2),
            rss_start_mb=round(self.rss_mb[0], 1) if self.rss_mb else None,
            rss_max_mb=round(max(self.rss_mb), 1) if self.rss_mb else None,
            memory_growth=round(self.memory_growth(), 4),
        )
        return data

    def markdown(self) -> str:
        s = self.summary()
        return "\n".join(
            [
                "| servers | clients | seconds | requests | errors | p50 ms | p95 ms | max ms "
                "| req/s | RSS start → max MB | memory growth (first → last third) |",
                "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
                f"| {self.servers} | {self.clients} | {self.seconds:.0f} | {self.requests} "
                f"| {self.errors} "
                f"| {s['p50_ms']} | {s['p95_ms']} | {s['max_ms']} | {s['throughput_per_s']} "
                f"| {s['rss_start_mb']} → {s['rss_max_mb']} | {100 * self.memory_growth():+.1f}% |",
            ]
        )


def golden_questions() -> list[str]:
    out = []
    for path in sorted((ROOT / "evals" / "dataset").glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        items = data.get("questions", data) if isinstance(data, dict) else data
        out += [q["question"] for q in items if isinstance(q, dict) and "question" in q]
    if not out:
        raise SystemExit("no questions found in evals/dataset")
    return out


async def _client(
    n: int,
    urls: list[str],
    tokens: list[str],
    questions: list[str],
    stop_at: float,
    result: LoadResult,
    stop: threading.Event,
) -> None:
    rng = random.Random(n)
    order = questions[:]
    rng.shuffle(order)
    headers = {"Authorization": f"Bearer {tokens[n % len(tokens)]}"}
    # the servers in the order this client tries them: its own first
    mine = [urls[(n + i) % len(urls)] for i in range(len(urls))]
    async with httpx.AsyncClient(timeout=120, headers=headers) as http:
        i = 0
        while time.monotonic() < stop_at and not stop.is_set():
            question = order[i % len(order)]
            i += 1
            t0 = time.perf_counter()
            ok, detail = False, "no server"
            for tried, url in enumerate(mine):
                try:
                    res = await http.post(f"{url}/api/ask", json={"question": question})
                    ok = res.status_code == 200 and "answer" in res.json()
                    detail = f"HTTP {res.status_code}"
                except (httpx.TransportError, ValueError) as exc:
                    ok, detail = False, type(exc).__name__
                    if isinstance(exc, httpx.TransportError) and tried + 1 < len(mine):
                        result.failovers += 1  # that server is gone: the next one takes it
                        continue
                break
            result.latencies_ms.append((time.perf_counter() - t0) * 1000)
            result.requests += 1
            if not ok:
                result.errors += 1
                if len(result.error_samples) < 5:
                    result.error_samples.append(detail)


def run_load(
    urls: str | list[str],
    tokens: list[str],
    pids: int | list[int] | None,
    clients: int = 50,
    seconds: float = 60,
    during: Callable[[float], None] | None = None,
    stop: threading.Event | None = None,
) -> LoadResult:
    """Runs the load and samples the servers' memory (summed) once a second; returns when done:
    after ``seconds``, or sooner when ``stop`` is set. ``during(elapsed_s)`` is called once a
    second on the sampling thread (e.g. to stop a server part-way)."""
    stop = stop or threading.Event()
    urls = [urls] if isinstance(urls, str) else urls
    pid_list = [] if pids is None else [pids] if isinstance(pids, int) else pids
    result = LoadResult(clients=clients, seconds=seconds, servers=len(urls))
    questions = golden_questions()
    done = threading.Event()
    started = time.monotonic()

    def sample() -> None:
        while not done.wait(1.0):
            alive = []
            for pid in pid_list:
                with contextlib.suppress(ProcessLookupError, FileNotFoundError):  # stopped
                    alive.append(rss_mb(pid))
            if alive:
                result.rss_mb.append(sum(alive))
            if during is not None:
                during(time.monotonic() - started)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()

    async def main() -> None:
        stop_at = time.monotonic() + seconds
        await asyncio.gather(
            *(_client(n, urls, tokens, questions, stop_at, result, stop) for n in range(clients))
        )

    t0 = time.monotonic()
    try:
        asyncio.run(main())
    finally:
        done.set()
        sampler.join()
    result.seconds = time.monotonic() - t0
    return result


def load_own_server(
    data_dir: Path, clients: int, seconds: float, workdir: Path | None = None
) -> LoadResult:
    """Starts a server on ``data_dir`` with two API users (staff; privacy-office), loads it."""
    from assistant.accounts import UserStore

    with tempfile.TemporaryDirectory() as tmp:
        own = workdir or Path(tmp)
        users = UserStore(own / "users.json", bcrypt_rounds=4)
        users.add("load-staff", "load-test-password", ("staff",), replace=True)
        users.add("load-privacy", "load-test-password", ("privacy-office", "staff"), replace=True)
        tokens = [users.issue_token("load-staff"), users.issue_token("load-privacy")]
        with serving(data_dir, own) as server:
            # one warm-up request: the first answer loads lazily initialised parts
            httpx.post(
                f"{server.url}/api/ask",
                json={"question": "What is a business associate?"},
                headers={"Authorization": f"Bearer {tokens[0]}"},
                timeout=120,
            )
            return run_load(server.url, tokens, server.pid, clients, seconds)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--data-dir", type=Path, default=ROOT / "data")
    p.add_argument("--url", help="load a running server instead of starting one")
    p.add_argument("--token", action="append", default=[], help="API token (with --url)")
    p.add_argument("--pid", type=int, help="the server's process id, for its memory (with --url)")
    p.add_argument("--json", type=Path, help="also write the result here")
    args = p.parse_args(argv)
    if args.url:
        if not args.token:
            p.error("--url needs --token")
        result = run_load(args.url, args.token, args.pid, args.clients, args.seconds)
    else:
        result = load_own_server(args.data_dir, args.clients, args.seconds)
    print(result.markdown())
    if result.error_samples:
        print("errors, e.g.:", ", ".join(result.error_samples))
    if args.json:
        args.json.write_text(json.dumps(result.summary(), indent=2))
    return 1 if result.errors else 0


if __name__ == "__main__":
    sys.exit(main())

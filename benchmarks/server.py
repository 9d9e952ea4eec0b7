"""Start `hipaa-assistant serve` in a subprocess on a free loopback port (tests, benchmarks)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


class ServerFailed(RuntimeError):
    """The server exited or did not become healthy; the message ends with its log."""


@dataclass(frozen=True)
class Running:
    url: str
    pid: int
    log: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(
    data_dir: Path, own: Path, env: dict[str, str] | None = None, start_timeout_s: float = 180
) -> Iterator[Running]:
    """Serves the index in ``data_dir``; users, the chat database, the audit trail and the log
    go to ``own``."""
    port = free_port()
    full_env = {
        **os.environ,
        "HIPAA_ASSISTANT_PATHS__DATA_DIR": str(data_dir),
        "HIPAA_ASSISTANT_SERVER__USERS_FILE": str(own / "users.json"),
        "HIPAA_ASSISTANT_SERVER__UI_DATABASE": str(own / "ui.sqlite"),
        "HIPAA_ASSISTANT_AUDIT__PATH": str(own / "audit.sqlite"),
        "HIPAA_ASSISTANT_LOG_LEVEL": "INFO",
        "HF_HUB_OFFLINE": "1",
        **(env or {}),
    }
    log = own / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "serve", "--port", str(port)],
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=own,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_timeout_s
        while True:
            if proc.poll() is not None:
                raise ServerFailed(f"the server exited ({proc.returncode}):\n{_tail(log)}")
            try:
                if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise ServerFailed(f"the server did not start:\n{_tail(log)}")
            time.sleep(0.5)
        yield Running(url, proc.pid, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise ProcessLookupError(pid)

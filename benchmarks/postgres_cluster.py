"""A throwaway PostgreSQL cluster for tests and benchmarks: Debian's server binaries, a temporary
folder, a Unix socket only (no TCP), trust sign-in for the ``postgres`` role, gone when the block
ends. The server refuses to run as root, so as root it runs as the ``postgres`` user."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.server import free_port


def server_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl (the newest Debian version first)."""
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    found = shutil.which("initdb")
    return Path(found).parent if found else None


@contextmanager
def throwaway_cluster() -> Iterator[str]:
    """Starts a cluster; yields a ``postgresql://`` URL for its ``postgres`` database."""
    binaries = server_binaries()
    if binaries is None:
        raise FileNotFoundError("PostgreSQL's server is not installed (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="hipaa-pg-"))
    data, socket_dir, log = root / "data", root / "socket", root / "server.log"
    socket_dir.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:
        for path in (root, socket_dir):
            shutil.chown(path, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    options = f"-p {port} -k {socket_dir} -c listen_addresses='' -c fsync=off"

    def run(*args: str | Path) -> None:
        done = subprocess.run([*as_user, *map(str, args)], capture_output=True, text=True)
        if done.returncode != 0:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {done.stderr.strip()}\n{tail}")

    try:
        run(
            binaries / "initdb",
            "-D",
            data,
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
        )
        run(binaries / "pg_ctl", "-D", data, "-l", log, "-w", "-t", "60", "-o", options, "start")
        try:
            yield f"postgresql://postgres@/postgres?host={socket_dir}&port={port}"
        finally:
            subprocess.run(
                [*as_user, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                capture_output=True,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)

"""A throwaway PostgreSQL cluster for a test (``benchmarks/postgres_cluster.py``), skipped with
the reason when the server is not installed (failed in CI, where .ci/run installs it)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from benchmarks import postgres_cluster


@contextmanager
def throwaway_cluster() -> Iterator[str]:
    if postgres_cluster.server_binaries() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed: .ci/run installs it with apt")
        pytest.skip("PostgreSQL's server is not installed (apt-get install postgresql)")
    with postgres_cluster.throwaway_cluster() as url:
        yield url


@contextmanager
def fresh_database(cluster: str) -> Iterator[str]:
    """A new database of ``cluster`` for one test (a name no earlier test's pool knows), dropped
    after it."""
    import psycopg

    name = f"t{uuid.uuid4().hex}"
    with psycopg.connect(cluster, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    yield cluster.replace("/postgres?", f"/{name}?")
    with psycopg.connect(cluster, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")

"""The bounded load test: 50 concurrent API clients for 60 s against a real server on loopback.
Timings are reported, not asserted (machines are noisy); errors and memory growth are."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.load_api import load_own_server
from tests.conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.mirror]


def test_fifty_clients_for_a_minute_without_errors_or_memory_creep(
    real_index_dir: Path, tmp_path: Path
) -> None:
    result = load_own_server(real_index_dir, clients=50, seconds=60, workdir=tmp_path)
    out = ROOT / "artifacts" / "load"
    out.mkdir(parents=True, exist_ok=True)
    (out / "api-50x60s.md").write_text(result.markdown() + "\n")
    print("\n" + result.markdown())
    assert result.requests > 100
    assert result.errors == 0, result.error_samples
    assert len(result.rss_mb) >= 50
    # no upward trend: the last third of the run uses no more memory than the first, within 10%
    assert result.memory_growth() < 0.10, result.rss_mb

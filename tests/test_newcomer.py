"""A newcomer's path, following only the README: add a user, drop a policy into the corpus,
re-ingest, ask, and get an answer cited from that policy. Run as the README's commands are, in
fresh processes of the installed command, against a scratch data folder and corpus."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMMAND = Path(sys.executable).parent / "hipaa-assistant"

POLICY = """---
id: OPS-900
title: Screen Locking on Shared Workstations
type: policy
version: "1.0"
effective: 2026-11-01
access_groups: [staff]
---
# OPS-900 Screen Locking on Shared Workstations

## 1. Purpose
This policy sets how quickly shared clinical workstations lock.

## 2. Locking
2.1 Shared workstations on nursing units must lock their screen after 3 minutes without input.

2.2 Staff must lock the screen with Windows+L before walking away from a shared workstation.
"""


def _run(*args: str, env: dict[str, str], stdin: str | None = None) -> str:
    out = subprocess.run(
        [str(COMMAND), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=600,
    )
    assert out.returncode == 0, f"{args[:2]}: {out.stderr[-2000:]}"
    return out.stdout


@pytest.mark.slow
def test_following_the_readme_a_dropped_in_policy_is_answered_from(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    # the steps this test takes are the ones the README shows
    assert ".venv/bin/hipaa-assistant users add sam --groups staff" in readme
    assert "policies under `policies/`" in readme
    assert "run `.venv/bin/hipaa-assistant ingest`" in readme
    corpus = tmp_path / "corpus"
    (corpus / "policies").mkdir(parents=True)
    env = {
        **os.environ,
        "HIPAA_ASSISTANT_PATHS__DATA_DIR": str(tmp_path / "data"),
        "HIPAA_ASSISTANT_PATHS__CORPUS_DIRS": json.dumps([str(corpus)]),
    }
    _run(
        "users",
        "add",
        "sam",
        "--groups",
        "staff",
        "--password-stdin",
        env=env,
        stdin="pw-123456789\n",
    )
    assert "sam" in _run("users", "list", env=env)

    (corpus / "policies" / "OPS-900-screen-locking.md").write_text(POLICY, encoding="utf-8")
    _run("ingest", "--no-progress", env=env)
    assert "OPS-900" in _run("sources", env=env)

    reply = json.loads(
        _run("ask", "How fast must a shared workstation on a nursing unit lock?", "--json", env=env)
    )
    assert not reply["abstained"]
    cited = [c["locator"] for c in reply["citations"]]
    assert any(loc.startswith("OPS-900 §2") for loc in cited), cited
    assert "3 minutes" in reply["answer"]

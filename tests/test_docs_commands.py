"""Every `hipaa-assistant` command the README and the guides show in a shell block (the examples
a reader copies) is run, as shown, in a fresh process of the installed command against a scratch
copy of a built index, and must succeed. The few that cannot run here are listed with the test
that covers them instead. (Commands named in running text are parsed by tests/test_docs.py.)"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.test_docs import _pages, block_commands, cli_arguments

ROOT = Path(__file__).resolve().parent.parent
COMMAND = Path(sys.executable).parent / "hipaa-assistant"
PASSWORD = "docs-password-123"
# what cannot run in a test process, and where it is tested instead
NOT_RUN = {
    "serve": "a server that runs until stopped: tests/test_ui_e2e.py starts it and drives it",
    "eval": "the whole eval suite (about 15 minutes): tests/test_eval*.py run it on small sets",
}
ELSEWHERE = {
    "HIPAA_ASSISTANT_CHROMA__MODE=http": "needs a Chroma server: tests/test_chroma_server.py",
}


@dataclass(frozen=True)
class Shown:
    page: str
    line: str
    args: tuple[str, ...]

    @property
    def order(self) -> int:
        """Users first, then the ingest, then everything that reads the index."""
        return {"users": 0, "ingest": 1}.get(self.args[0], 2)


def _shown() -> list[Shown]:
    out: dict[tuple[str, ...], Shown] = {}
    for page in _pages():
        for line in block_commands(page.read_text(encoding="utf-8")):
            args = tuple(cli_arguments(line))
            if "--data-dir" in args:  # a folder of the reader's; here the scratch one
                at = args.index("--data-dir")
                args = args[:at] + args[at + 2 :]
            out.setdefault(args, Shown(page.name, line, args))
    return sorted(out.values(), key=lambda s: s.order)


def _skip_reason(shown: Shown) -> str | None:
    for marker, reason in ELSEWHERE.items():
        if marker in shown.line:
            return reason
    return NOT_RUN.get(shown.args[0])


@pytest.fixture(scope="module")
def scratch(real_index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment the commands run in: a copy of the built index (so nothing a command
    writes reaches the other tests' index) and the bundled corpus."""
    data = tmp_path_factory.mktemp("docs-commands") / "data"
    shutil.copytree(real_index_dir, data, ignore=shutil.ignore_patterns("eval-orgs", "models"))
    for name in ("users.json", "users.json.lock", "audit.sqlite", "ui.sqlite"):
        (data / name).unlink(missing_ok=True)
    (data.parent / "work").mkdir()  # the folder they run in: what they write stays there
    return {
        **os.environ,
        "HIPAA_ASSISTANT_PATHS__DATA_DIR": str(data),
        "HIPAA_ASSISTANT_PATHS__CORPUS_DIRS": json.dumps([str(ROOT / "corpus")]),
        "PASSWORD": PASSWORD,
    }


def _run(
    args: tuple[str, ...], env: dict[str, str], stdin: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(COMMAND), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(env["HIPAA_ASSISTANT_PATHS__DATA_DIR"]).parent / "work",
        timeout=600,
        start_new_session=True,  # no terminal: a password prompt reads standard input
    )


def test_the_shown_commands_are_found() -> None:
    shown = _shown()
    assert len(shown) >= 10
    assert [s.args[0] for s in shown[:3]] == ["users"] * 3  # users are added first
    assert any(s.args[0] == "ingest" for s in shown)


@pytest.mark.slow
def test_every_command_the_docs_show_runs(scratch: dict[str, str]) -> None:
    ran, skipped, failed = [], [], []
    for shown in _shown():
        reason = _skip_reason(shown)
        if reason is not None:
            skipped.append(f"{shown.line}: {reason}")
            continue
        if shown.args[:2] == ("users", "add"):  # each page adds its users afresh
            _run(("users", "remove", shown.args[2]), scratch, "")
        # a password prompt is answered twice; `echo "$PASSWORD" | ...` gives it once
        stdin = f"{PASSWORD}\n{PASSWORD}\n" if "users" in shown.args[:1] else ""
        done = _run(shown.args, scratch, stdin)
        ran.append(shown)
        if done.returncode != 0:
            failed.append(f"{shown.page}: {shown.line}\n  -> {done.stderr.strip()[-400:]}")
        elif shown.args[0] == "ask":
            assert done.stdout.strip(), shown.line
    assert not failed, "\n".join(failed)
    assert len(ran) >= 8, [s.line for s in ran]
    print("not run here:", *skipped, sep="\n  ")


def test_the_not_run_list_names_real_tests() -> None:
    for reason in [*NOT_RUN.values(), *ELSEWHERE.values()]:
        for word in shlex.split(reason.replace(":", " ").replace(",", " ")):
            if word.startswith("tests/") and "*" not in word:
                assert (ROOT / word).is_file(), word

"""`hipaa-assistant feedback export`: the chat's thumbs up/down with comments, for review."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from assistant.ui.conversations import conversation_store
from core.errors import ConfigError
from core.settings import Settings

FIELDS = [
    "created_at",
    "updated_at",
    "user",
    "rating",
    "comment",
    "question",
    "answer",
    "thread_id",
    "step_id",
]


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="feedback_command", required=True)
    e = sub.add_parser("export", help="write the feedback as CSV or JSON lines")
    e.add_argument("--since", help="only feedback given on or after this date (YYYY-MM-DD)")
    e.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    e.add_argument("--out", type=Path, help="file to write (default: standard output)")


def _since(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ConfigError(f"--since: not a date: {value!r} (use YYYY-MM-DD)") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write(rows: list[dict[str, object]], fmt: str, out: TextIO) -> None:
    if fmt == "jsonl":
        for row in rows:
            out.write(json.dumps({k: row.get(k) for k in FIELDS}, ensure_ascii=False) + "\n")
        return
    writer = csv.DictWriter(out, fieldnames=FIELDS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)


def cmd_feedback(settings: Settings, args: argparse.Namespace) -> int:
    path = settings.server.resolve_ui_database(settings.paths.data_dir)
    since = _since(args.since)
    if settings.database.url is not None or path.exists():
        rows = conversation_store(settings).feedback_rows(since)
    else:  # an empty export (a scheduled one keeps working before the chat is first used)
        print(f"hipaa-assistant: no feedback yet ({path} does not exist)", file=sys.stderr)
        rows = []
    if args.out:
        with open(args.out, "w", encoding="utf-8", newline="") as f:
            write(rows, args.format, f)
        print(f"wrote {len(rows)} feedback record(s) to {args.out}", file=sys.stderr)
    else:
        write(rows, args.format, sys.stdout)
    return 0

"""`hipaa-assistant audit verify|export`: check the audit trail's chain, export its rows.

Exit codes of ``verify``: 0 the chain is intact; 1 it was tampered with (the reason is printed);
2 it cannot be verified (no trail yet, not a trail, the key it needs is not configured).
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import ConfigError

if TYPE_CHECKING:
    from core.settings import Settings


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="audit_command", required=True)
    v = sub.add_parser(
        "verify", help="check that no row was edited, deleted or reordered (exit 1 if so)"
    )
    v.add_argument(
        "--anchor",
        help="SEQ:HASH from the 'head' of an earlier verify, kept elsewhere: also fail if that "
        "row is gone or differs (catches the newest rows cut off with the checkpoint rewound)",
    )
    e = sub.add_parser("export", help="write the rows of a period as CSV or JSON lines")
    e.add_argument(
        "--since", help="from this date or ISO date-time, inclusive (UTC unless it has an offset)"
    )
    e.add_argument(
        "--until",
        help="up to this ISO date-time, exclusive; a date alone includes that whole day",
    )
    e.add_argument("--format", choices=["csv", "jsonl"], default="jsonl", help="default: jsonl")
    e.add_argument("--out", type=Path, help="write to FILE (created private) instead of stdout")


def parse_moment(value: str, option: str, *, end_of_day: bool = False) -> datetime:
    """A date (``2026-11-01``) or ISO date-time; naive values are UTC. With ``end_of_day``,
    a date alone means the end of that day (the start of the next)."""
    text = value.strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        raise ConfigError(
            f"{option} {value!r} is not a date or date-time (use e.g. 2026-11-01 or "
            "2026-11-01T09:30:00Z)"
        ) from None
    if day is not None and end_of_day:
        moment += timedelta(days=1)
    return moment


def _verify(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.audit import open_trail, parse_anchor

    anchor = parse_anchor(args.anchor) if args.anchor else None
    result = open_trail(settings).verify(anchor)
    print(result.summary())
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0 if result.ok else 1


def _export(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.audit import open_trail

    since = parse_moment(args.since, "--since") if args.since else None
    until = parse_moment(args.until, "--until", end_of_day=True) if args.until else None
    trail = open_trail(settings)
    if args.out is None:
        n = trail.export(sys.stdout, fmt=args.format, since=since, until=until)
        print(f"exported {n} audit rows", file=sys.stderr)
        return 0
    try:
        fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise ConfigError(f"cannot write {args.out}: {exc.strerror}") from exc
    with open(fd, "w", encoding="utf-8", newline="") as out:
        n = trail.export(out, fmt=args.format, since=since, until=until)
    print(f"exported {n} audit rows to {args.out}", file=sys.stderr)
    return 0


def cmd_audit(settings: Settings, args: argparse.Namespace) -> int:
    if args.audit_command == "verify":
        return _verify(settings, args)
    return _export(settings, args)

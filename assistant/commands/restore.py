"""`hipaa-assistant restore BACKUP`: a backup put back in place, with the server stopped
(``assistant.backup``; docs/administration.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.settings import Settings


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("backup", type=Path, help="a folder `hipaa-assistant backup` wrote")
    p.add_argument(
        "--force",
        action="store_true",
        help="set files already in place aside (<name>.before-restore-<time>) instead of refusing",
    )
    p.add_argument(
        "--without-local-stores",
        action="store_true",
        help="with database.url set: restore the documents alone, leaving out the backup's "
        "audit trail, conversations and users files (PostgreSQL holds those here)",
    )


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.backup import restore

    done = restore(
        settings, args.backup, force=args.force, without_local_stores=args.without_local_stores
    )
    print(f"restored {len(done.files)} files from {args.backup}")
    if done.left_out:
        print(f"left out (PostgreSQL holds these here): {', '.join(done.left_out)}")
    for path in done.set_aside:
        print(f"set aside: {path}")
    if done.index:
        print("next: `hipaa-assistant fetch` gets the official sources again", end="")
    else:
        print(
            "next: `hipaa-assistant fetch` and `hipaa-assistant ingest` rebuild the index", end=""
        )
    if done.audit_head:
        print(f"; `hipaa-assistant audit verify --anchor {done.audit_head}` checks the trail")
    else:
        print()
    return 0

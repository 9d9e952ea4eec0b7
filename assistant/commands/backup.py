"""`hipaa-assistant backup DEST`: what cannot be rebuilt, and the index, copied safely while the
server runs
(``assistant.backup``; `restore` puts it back; docs/administration.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.settings import Settings


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("dest", type=Path, help="folder to write the backup into (a new dated folder)")


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.backup import NOT_COPIED_DATABASE, back_up, not_copied

    done = back_up(settings, args.dest)
    print(f"backed up {len(done.files)} files to {done.folder}")
    if done.audit is not None:
        print(f"audit trail copy: {done.audit.summary()}")
    for name in done.absent:
        print(f"nothing to copy yet: {name}")
    for what in not_copied(settings):
        print(f"not copied: {what}")
    if settings.database.url is not None:
        print(f"not copied: {NOT_COPIED_DATABASE}")
    return 0 if done.audit is None or done.audit.ok else 1

from __future__ import annotations

import argparse

from core.settings import Settings
from ingest.official import fetch


def cmd_fetch(settings: Settings, args: argparse.Namespace) -> int:
    only = {s.strip() for s in args.only.split(",")} if args.only else None
    mirror = args.mirror.expanduser() if args.mirror else None
    if mirror is not None and not mirror.is_dir():
        print(f"fetch: mirror folder {mirror} not found")
        return 2
    report = fetch(settings, mirror=mirror, only=only)
    for o in report.outcomes:
        extra = f" - {o.detail}" if o.detail else ""
        print(f"{o.status:9} {o.source.id:28} {o.source.filename}{extra}")
    failed = [o for o in report.outcomes if o.status == "failed"]
    got = sum(1 for o in report.outcomes if o.status in ("fetched", "unchanged"))
    print(
        f"fetch: {got} sources ready in {settings.paths.sources_dir}, "
        f"{sum(1 for o in report.outcomes if o.status == 'missing')} optional missing, "
        f"{len(failed)} failed"
    )
    return 0 if not failed else 1

"""`hipaa-assistant coverage`: which policy sections address each Security Rule standard and
implementation specification."""

from __future__ import annotations

import argparse

from assistant.checks.coverage import check_coverage, load_specifications
from assistant.checks.report import FORMATS, render_coverage
from assistant.checks.run import caller_scope, live_generation, readable_policies
from core.errors import NotAllowedError
from core.settings import Settings


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=FORMATS, default="table", help="output format")
    p.add_argument(
        "--groups", help="your access groups, comma-separated (default: retrieval.default_groups)"
    )


def cmd_coverage(settings: Settings, args: argparse.Namespace) -> int:
    policies = readable_policies(live_generation(settings), caller_scope(settings, args.groups))
    if not policies:
        raise NotAllowedError("no policy you may read is indexed")
    rows = check_coverage(load_specifications(settings.checks.security_catalog), policies)
    print(render_coverage(rows, args.format), end="")
    return 0

"""`hipaa-assistant baa check`: every BAA the caller may read, against the rule's required
contents and the organisation's own minimum terms."""

from __future__ import annotations

import argparse

from assistant.checks.report import FORMATS, render
from assistant.checks.run import (
    caller_scope,
    check_all,
    live_generation,
    load_catalogs,
    readable_contracts,
)
from core.settings import Settings


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="baa_command", required=True)
    c = sub.add_parser(
        "check",
        help="check each BAA against 45 CFR 164.504(e), 164.314(a) and the organisation's terms",
    )
    c.add_argument("--vendor", action="append", default=[], help="only this vendor (repeatable)")
    c.add_argument("--format", choices=FORMATS, default="table", help="output format")
    c.add_argument(
        "--groups", help="your access groups, comma-separated (default: retrieval.default_groups)"
    )


def cmd_baa(settings: Settings, args: argparse.Namespace) -> int:
    scope = caller_scope(settings, args.groups)
    generation = live_generation(settings)
    catalogs = load_catalogs(settings)
    contracts = readable_contracts(generation, scope, args.vendor, catalogs.organisation)
    print(render(check_all(contracts, catalogs), args.format), end="")
    return 0

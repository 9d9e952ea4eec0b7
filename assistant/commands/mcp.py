"""`hipaa-assistant mcp`: the MCP server on stdio, for an editor or agent on this machine.

The client starts this process and speaks MCP on its stdin and stdout; the log goes to stderr.
One caller for the whole session, as for `ask`: ``--user`` (default: the login name) with
``--groups`` (default: retrieval.default_groups). Over the network, use the chat server's
``/mcp`` endpoint instead: there an API token names the user.
"""

from __future__ import annotations

import argparse
import contextlib
import sys

import anyio

from assistant.commands.ask import os_user
from core.settings import Settings


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--user", help="the name recorded in the audit trail (default: login name)")
    p.add_argument("--groups", help="your access groups, comma-separated (default: staff)")


def cmd_mcp(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.integrations.mcp_server import build_server, fixed_caller
    from assistant.service import AssistantService

    groups = [g.strip() for g in (args.groups or "").split(",") if g.strip()]
    # stdout carries the protocol: anything printed while loading goes to stderr
    with contextlib.redirect_stdout(sys.stderr):
        service = AssistantService.build(settings)
    caller = fixed_caller(args.user or os_user(), groups or settings.retrieval.default_groups)
    print(
        f"hipaa-assistant: MCP server on stdio ({service.mode} mode, "
        f"{len(service.index.chunks)} passages)",
        file=sys.stderr,
        flush=True,
    )
    anyio.run(build_server(lambda: service, caller).run_stdio_async)
    return 0

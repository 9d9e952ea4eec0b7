"""The `hipaa-assistant` command line."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from pathlib import Path

from assistant.logging_setup import configure_logging
from core.errors import AssistantError
from core.settings import Settings

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hipaa-assistant",
        description="Answers questions about HIPAA and AI from your own documents, with citations.",
    )
    p.add_argument("--data-dir", type=Path, help="data directory (index, sources, caches)")
    p.add_argument("-v", "--verbose", action="store_true", help="log more detail to stderr")
    sub = p.add_subparsers(dest="command", required=True)

    f = sub.add_parser("fetch", help="download the official sources (or copy them from a mirror)")
    f.add_argument("--mirror", type=Path, help="take the files from this folder instead")
    f.add_argument("--only", help="comma-separated source ids")

    i = sub.add_parser("ingest", help="parse, chunk and index the corpus and fetched sources")
    i.add_argument("--rebuild", action="store_true", help="re-parse and re-embed everything")
    i.add_argument("--no-progress", action="store_true", help="no progress bar")
    i.add_argument(
        "--suggest-questions",
        type=int,
        nargs="?",
        const=3,
        default=0,
        metavar="N",
        help="then have the configured LLM draft N questions (default 3) per section of the "
        "organisation's documents into questions/review/suggested.yaml, for a person to accept",
    )

    from assistant.commands import train

    train.add_arguments(
        sub.add_parser(
            "train", help="train the question encoder on the rules' questions of the question index"
        )
    )

    s = sub.add_parser("sources", help="what is indexed: documents, versions, chunks, access")
    s.add_argument("--json", action="store_true", help="machine-readable output")

    from assistant.commands.ask import add_arguments

    add_arguments(sub.add_parser("ask", help="answer a question with verified citations"))

    from assistant.commands import eval as eval_command

    eval_command.add_arguments(sub.add_parser("eval", help="run the golden evaluation dataset"))

    from assistant.commands import audit as audit_command

    audit_command.add_arguments(
        sub.add_parser("audit", help="verify or export the audit trail of questions asked")
    )

    from assistant.commands import feedback, serve, users

    serve.add_arguments(sub.add_parser("serve", help="start the chat UI and JSON API server"))
    users.add_arguments(sub.add_parser("users", help="manage who may sign in, and their groups"))
    feedback.add_arguments(sub.add_parser("feedback", help="export the chat's feedback"))
    from assistant.commands import baa, coverage, questions

    baa.add_arguments(
        sub.add_parser("baa", help="check BAAs against the rule and the organisation's terms")
    )
    coverage.add_arguments(
        sub.add_parser(
            "coverage", help="which policy sections address each Security Rule specification"
        )
    )

    questions.add_arguments(
        sub.add_parser("questions", help="confirm that a passage answers a question; list them")
    )
    from assistant.commands import backup, mcp, restore

    backup.add_arguments(
        sub.add_parser("backup", help="copy the audit trail, users, conversations and documents")
    )
    restore.add_arguments(
        sub.add_parser("restore", help="put a backup back in place (with the server stopped)")
    )

    mcp.add_arguments(
        sub.add_parser("mcp", help="serve the assistant's tools to an MCP client on stdio")
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings()
        if args.data_dir is not None:
            settings.use_data_dir(args.data_dir)
        configure_logging("INFO" if args.verbose else settings.log_level)
        # each command's module is imported only when it runs (the UI's and the model's
        # imports take seconds)
        module = importlib.import_module(f"assistant.commands.{args.command}")
        result: int = getattr(module, f"cmd_{args.command}")(settings, args)
        return result
    except AssistantError as exc:
        log.debug("command failed", exc_info=True)
        print(f"hipaa-assistant: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("hipaa-assistant: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one friendly line; the detail goes to the log
        log.exception("unexpected error")
        print(
            f"hipaa-assistant: unexpected error ({type(exc).__name__}); see the log",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    raise SystemExit(main())

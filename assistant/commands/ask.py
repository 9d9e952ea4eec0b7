"""`hipaa-assistant ask`: one question (or a batch), answered by the same chain as every surface."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Iterable
from pathlib import Path

from assistant.answering.types import Answer
from assistant.service import AssistantService, Caller
from core.documents import DOC_TYPES
from core.errors import AssistantError, ConfigError
from core.index.reader import Scope
from core.settings import Settings


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("question", nargs="?", help="the question (omit with --batch)")
    p.add_argument("--json", action="store_true", help="print the typed result as JSON")
    p.add_argument("--k", type=int, help="passages to retrieve (default: retrieval.k)")
    p.add_argument("--groups", help="your access groups, comma-separated (default: staff)")
    p.add_argument("--type", dest="types", help="only these source types: rule,guidance,policy,baa")
    p.add_argument("--vendor", dest="vendors", help="only these vendors' BAAs, comma-separated")
    p.add_argument(
        "--history",
        action="append",
        default=[],
        help="an earlier question of the conversation (repeat, oldest first)",
    )
    p.add_argument(
        "--batch", help="answer one question per line of FILE ('-' for stdin); one JSON per line"
    )
    p.add_argument("--mode", choices=["extractive", "llm"], help="override answer.mode")


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else []


def scope_from_args(settings: Settings, args: argparse.Namespace) -> Scope:
    groups = _split(args.groups) or settings.retrieval.default_groups
    types = _split(args.types)
    bad = [t for t in types if t not in DOC_TYPES]
    if bad:
        raise ConfigError(f"unknown source type {bad[0]!r} (use {', '.join(DOC_TYPES)})")
    vendors = _split(args.vendors)
    return Scope(
        groups=frozenset(groups),
        doc_types=frozenset(types) if types else None,
        vendors=frozenset(vendors) if vendors else None,
    )


def render_text(answer: Answer, *, with_answer: bool = True) -> str:
    lines = []
    if answer.searched_as:
        lines += [f"Searched for: {answer.standalone_question}", ""]
    lines += [answer.text, ""] if with_answer else []
    if answer.citations:
        lines.append("Sources:")
        for c in answer.citations:
            page = f", p. {c.page}" if c.page else ""
            version = f", {c.version}" if c.version else ""
            lines.append(f"  [{c.n}] {c.locator} - {c.title}{version}{page}")
    for note in answer.notes:
        lines.append(f"Note: {note}")
    if answer.abstained and answer.abstain_reason:
        lines.append(f"(abstained: {answer.abstain_reason})")
    return "\n".join(lines).rstrip()


def _questions(source: str) -> Iterable[str]:
    if source == "-":
        lines: Iterable[str] = sys.stdin
    else:
        try:
            lines = Path(source).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ConfigError(f"cannot read the batch file {source}: {exc.strerror}") from exc
    for line in lines:
        if line.strip():
            yield line.strip()


def os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "cli"


def cmd_ask(settings: Settings, args: argparse.Namespace) -> int:
    if args.mode:
        settings.answer.mode = args.mode
    if bool(args.question) == bool(args.batch):
        raise ConfigError("give either a question or --batch FILE")
    if args.batch and not args.json:
        raise ConfigError("--batch prints JSON lines; add --json")
    scope = scope_from_args(settings, args)
    service = AssistantService.build(settings)
    caller = Caller(os_user(), scope.groups or frozenset(), "cli")
    types = sorted(scope.doc_types) if scope.doc_types else None
    vendors = sorted(scope.vendors) if scope.vendors else None
    if args.batch:
        failed = 0
        for item, q in enumerate(_questions(args.batch), start=1):
            try:
                reply = service.ask(q, caller, doc_types=types, vendors=vendors, k=args.k)
                payload = reply.to_json()
            except AssistantError as exc:  # one bad line does not stop the batch
                failed += 1
                payload = {"item": item, "error": str(exc)}
            print(json.dumps(payload, ensure_ascii=False), flush=True)
        return 1 if failed else 0
    streamed = not args.json and service.mode != "extractive"
    reply = service.ask(
        args.question,
        caller,
        history=[service.redact(h).text for h in args.history],
        doc_types=types,
        vendors=vendors,
        k=args.k,
        on_token=(lambda t: print(t, end="", flush=True)) if streamed else None,
    )
    answer = reply.answer
    if args.json:
        print(json.dumps(reply.to_json(), indent=2, ensure_ascii=False))
        return 0
    if reply.guard.notice:
        print(reply.guard.notice + "\n", file=sys.stderr)
    if streamed:
        # the answer was printed as it streamed; verification may have changed it
        if answer.notes or answer.abstained:
            print("\n\nVerified answer:\n" + answer.text)
        print("\n\n" + render_text(answer, with_answer=False))
    else:
        print(render_text(answer))
    return 0

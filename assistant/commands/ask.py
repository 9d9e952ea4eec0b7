"""`hipaa-assistant ask`: one question (or a batch), answered by the same chain as every surface."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path

from assistant.answering.build import build_chain
from assistant.answering.chain import AnswerChain
from assistant.answering.types import Answer
from assistant.documents import DOC_TYPES
from assistant.errors import ConfigError
from assistant.index.reader import Scope
from assistant.runtime import open_index
from assistant.settings import Settings


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
    lines = [answer.text, ""] if with_answer else []
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


def cmd_ask(settings: Settings, args: argparse.Namespace) -> int:
    if args.mode:
        settings.answer.mode = args.mode
    if bool(args.question) == bool(args.batch):
        raise ConfigError("give either a question or --batch FILE")
    if args.batch and not args.json:
        raise ConfigError("--batch prints JSON lines; add --json")
    scope = scope_from_args(settings, args)
    chain: AnswerChain = build_chain(settings, open_index(settings))
    if args.batch:
        for q in _questions(args.batch):
            answer = chain.ask(q, scope, k=args.k)
            print(json.dumps(answer.to_json(), ensure_ascii=False), flush=True)
        return 0
    streamed = not args.json and chain.answerer.mode != "extractive"
    answer = chain.ask(
        args.question,
        scope,
        history=args.history,
        k=args.k,
        on_token=(lambda t: print(t, end="", flush=True)) if streamed else None,
    )
    if args.json:
        print(json.dumps(answer.to_json(), indent=2, ensure_ascii=False))
    elif streamed:
        # the answer was printed as it streamed; verification may have changed it
        if answer.notes or answer.abstained:
            print("\n\nVerified answer:\n" + answer.text)
        print("\n\n" + render_text(answer, with_answer=False))
    else:
        print(render_text(answer))
    return 0

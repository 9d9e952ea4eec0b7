"""`hipaa-assistant questions add|list`: the organisation's question index, grown by privacy
officers confirming that a passage answers a question."""

from __future__ import annotations

import argparse

from assistant.accounts import user_store
from assistant.retrieval.confirmed import confirmed_file
from assistant.retrieval.suggest import review_file, take_from_review
from assistant.retrieval.topics import load_topic_file
from core.errors import ConfigError
from core.index.shared import shared_index
from core.settings import Settings


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="questions_command", required=True)
    a = sub.add_parser("add", help="confirm that the passage cited as LOCATOR answers QUESTION")
    a.add_argument("question")
    a.add_argument("--locator", required=True, help="e.g. 'SHP-AI-01 §4.1' or 'Acme BAA §5.2'")
    a.add_argument("--user", required=True, help="who confirms (a user of privacy-office; audited)")
    sub.add_parser("list", help="the confirmed questions, by locator")
    sub.add_parser("review", help="the drafted questions waiting to be accepted")
    c = sub.add_parser("accept", help="confirm drafted questions (all, or one locator's)")
    c.add_argument("--user", required=True, help="who accepts them (privacy-office; audited)")
    c.add_argument("--locator", help="only the drafts for this locator")


def cmd_questions(settings: Settings, args: argparse.Namespace) -> int:
    if args.questions_command == "list":
        shared = shared_index(settings)
        if shared is not None:  # every server's, in the database
            rows = [(locator, ask) for _, locator, ask in shared.confirmed()]
            where = "the shared database"
        else:
            path = confirmed_file(settings)
            rows = [(t.locator, ask) for t in load_topic_file(path) for ask in t.asks]
            where = str(path)
        if not rows:
            print(f"no confirmed questions yet ({where})")
        for locator, ask in rows:
            print(f"{locator}\t{ask}")
        return 0
    if args.questions_command == "review":
        path = review_file(settings)
        drafts = load_topic_file(path)
        if not drafts:
            print(f"no drafted questions to review ({path})")
        for topic in drafts:
            for ask in topic.asks:
                print(f"{topic.locator}\t{ask}")
        return 0
    from assistant.service import AssistantService, Caller

    account = user_store(settings).account(args.user)
    if account is None:
        raise ConfigError(f"no user {args.user!r}: hipaa-assistant users add {args.user} ...")
    service = AssistantService.build(settings)
    caller = Caller(account.name, frozenset(account.groups), "cli")
    if args.questions_command == "accept":
        path = review_file(settings)
        drafts = [t for t in load_topic_file(path) if args.locator in (None, t.locator)]
        if not drafts:
            raise ConfigError(f"no drafted questions to accept in {path}")
        added = 0
        for topic in drafts:
            for ask in topic.asks:
                added += service.confirm_question(ask, topic.locator, caller).added
        take_from_review(path, args.locator)
        into = "the shared database" if service.shared else str(confirmed_file(settings))
        print(f"accepted {added} questions into {into}")
        return 0
    done = service.confirm_question(args.question, args.locator, caller)
    state = "added" if done.added else "already there"
    stored = str(done.path or "the shared database: every server takes it up within seconds")
    print(f"{state}: {done.locator} <- {done.question!r} ({stored})")
    return 0

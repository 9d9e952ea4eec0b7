"""`hipaa-assistant users add|remove|list|token|revoke`: who may sign in, and their groups."""

from __future__ import annotations

import argparse
import getpass
import sys

from assistant.accounts import user_store
from core.errors import ConfigError
from core.groups import parse_groups
from core.settings import Settings


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="users_command", required=True)
    a = sub.add_parser("add", help="add a user (asks for the password)")
    a.add_argument("name")
    a.add_argument("--groups", required=True, help="comma-separated, e.g. staff,privacy-office")
    a.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    a.add_argument("--update", action="store_true", help="replace an existing user's password")
    r = sub.add_parser("remove", help="remove a user and their API tokens")
    r.add_argument("name")
    sub.add_parser("list", help="users, their groups and number of valid API tokens")
    t = sub.add_parser("token", help="issue an API token for a user (shown once)")
    t.add_argument("name")
    t.add_argument(
        "--days",
        type=int,
        help="days the token is valid (default: server.token_days; 0: until revoked)",
    )
    v = sub.add_parser("revoke", help="revoke all API tokens of a user")
    v.add_argument("name")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise ConfigError("the passwords differ")
    return first


def cmd_users(settings: Settings, args: argparse.Namespace) -> int:
    store = user_store(settings)
    if args.users_command == "add":
        groups = parse_groups(args.groups)
        store.add(args.name, _password(args.password_stdin), groups, replace=args.update)
        print(f"{'updated' if args.update else 'added'} {args.name} ({', '.join(groups)})")
    elif args.users_command == "remove":
        store.remove(args.name)
        print(f"removed {args.name}")
    elif args.users_command == "list":
        rows = store.list()
        if not rows:
            print("no users yet: hipaa-assistant users add NAME --groups staff")
        for account, tokens in rows:
            print(f"{account.name}\t{','.join(account.groups)}\t{tokens} API token(s)")
    elif args.users_command == "token":
        days = settings.server.token_days if args.days is None else args.days
        if days < 0:
            raise ConfigError("--days must be 0 (until revoked) or more")
        token = store.issue_token(args.name, days)
        print(token)
        until = f"valid for {days} day(s)" if days else "valid until revoked"
        print(
            f"Keep it secret: it is shown once ({until}). "
            "Use it as 'Authorization: Bearer <token>'.",
            file=sys.stderr,
        )
    elif args.users_command == "revoke":
        print(f"revoked {store.revoke_tokens(args.name)} token(s) of {args.name}")
    return 0

"""`hipaa-assistant serve`: the chat UI and the JSON API on one server (Chainlit + FastAPI)."""

from __future__ import annotations

import argparse
import os
import secrets
from pathlib import Path

from core.errors import ConfigError
from core.settings import Settings

APP = Path(__file__).resolve().parent.parent / "ui" / "app.py"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", help="address to listen on (default: server.host)")
    p.add_argument("--port", type=int, help="port (default: server.port)")


def _auth_secret(settings: Settings, root: Path) -> str:
    if settings.server.auth_secret is not None:
        return settings.server.auth_secret.get_secret_value()
    path = root / "auth-secret"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.ui import app_root, state

    settings.paths.data_dir = settings.paths.data_dir.resolve()
    if args.host:
        settings.server.host = args.host
    if args.port:
        settings.server.port = args.port
    if settings.server.auth == "password" and not state.users_exist(settings):
        raise ConfigError(
            "no users yet: add one with `hipaa-assistant users add NAME --groups staff` "
            "(or use server.auth=header behind an SSO proxy)"
        )
    state.configure(settings)
    state.start()  # load the index and models now, so a problem is one clear line
    root = app_root.prepare(settings, state.get().service.mode)
    os.environ["CHAINLIT_APP_ROOT"] = str(root)
    os.environ["CHAINLIT_AUTH_SECRET"] = _auth_secret(settings, root)
    os.environ["CHAINLIT_HOST"] = settings.server.host
    os.environ["CHAINLIT_PORT"] = str(settings.server.port)

    from chainlit.cli import run_chainlit
    from chainlit.config import config
    from chainlit.server import app

    from assistant.ui.server_guard import ADDRESS_FACTOR, FailedSignIns, ServerGuard

    app_root.english_only(root)  # Chainlit copied its other languages in as it loaded

    config.run.headless = True
    failures, wait = settings.server.sign_in_failures, settings.server.sign_in_wait
    log = None
    if settings.database.url is not None:  # every server counts the same failures
        from assistant.ui.server_guard import DatabaseLog
        from core.database import Database

        log = DatabaseLog(Database.shared(settings.database))
    app.add_middleware(
        ServerGuard,
        users=FailedSignIns(failures, delay=wait, log=log),
        addresses=FailedSignIns(failures * ADDRESS_FACTOR, delay=wait, log=log),
        origins=tuple(settings.server.allowed_origins),
    )
    print(
        f"hipaa-assistant: serving on http://{settings.server.host}:{settings.server.port} "
        f"({state.get().service.mode} mode, sign-in: {settings.server.auth}); Ctrl-C stops",
        flush=True,
    )
    run_chainlit(str(APP))
    return 0

"""The server process's long-lived parts, built once at start-up and shared by all sessions
(read-only). Per-user state lives in Chainlit's user session, never here."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from assistant.accounts import UserStore, user_store
from assistant.service import AssistantService
from core.errors import AssistantError
from core.settings import Settings

log = logging.getLogger(__name__)


class NotReadyError(AssistantError):
    """The server is still starting."""


@dataclass
class Resources:
    settings: Settings
    service: AssistantService
    users: UserStore


_lock = threading.Lock()
_settings: Settings | None = None
_resources: Resources | None = None


def configure(settings: Settings) -> None:
    """Called by ``hipaa-assistant serve`` before the server starts; without it the settings come
    from the environment (e.g. ``chainlit run assistant/ui/app.py``)."""
    global _settings
    _settings = settings


def settings() -> Settings:
    global _settings
    if _settings is None:
        _settings = Settings()
    return _settings


def start() -> Resources:
    """Build everything (loads the embedding model and the index: seconds, once)."""
    global _resources
    with _lock:
        if _resources is None:
            s = settings()
            service = AssistantService.build(s)
            users = user_store(s)
            _resources = Resources(s, service, users)
            log.info("ready: %d chunks, mode %s", len(service.index.chunks), service.mode)
        return _resources


def get() -> Resources:
    if _resources is None:
        raise NotReadyError("the assistant is still starting; try again in a moment")
    return _resources


def users() -> UserStore:
    return user_store(settings())


def users_exist(s: Settings) -> bool:
    return bool(user_store(s).list())

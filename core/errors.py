"""User-facing errors: each becomes one clear line at the CLI or UI; details go to the log."""

from __future__ import annotations


class AssistantError(Exception):
    """Base of the errors a user may see. ``str(err)`` is the one line shown to them."""

    exit_code = 2


class ConfigError(AssistantError):
    """Settings or environment are wrong (bad path, unknown embedder, unreachable server)."""


class ModelMismatchError(AssistantError):
    """The index was built with another embedding model than the one configured."""


class IndexMissingError(AssistantError):
    """No index has been built yet."""


class IndexBusyError(AssistantError):
    """Another ingest holds the index lock."""


class DocumentError(AssistantError):
    """One source file could not be read; the reason is safe to show."""


class NotAllowedError(AssistantError):
    """The caller's groups do not allow what they asked to do."""

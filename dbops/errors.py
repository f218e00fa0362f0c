"""One error root for dbops; the exit code lives on the class and the CLI edge renders it.

Engines raise these with a one-line message that says what went wrong and where. The CLI turns them into
``Error: <message>`` on stderr and exits with ``exit_code``; nothing else in dbops prints errors.
"""

from __future__ import annotations

import re

__all__ = [
    "CheckFailedError",
    "ConfigError",
    "ConnectionError",
    "DataError",
    "DbopsError",
    "LockTimeoutError",
    "MigrationError",
    "StorageError",
    "StorageNotFoundError",
    "redact",
]

_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*:)(?P<password>[^@\s]*)(?P<at>@)")
_KEYWORD_PASSWORD = re.compile(r"(?P<head>\b(?:password|passwd|pwd)\s*[=:]\s*['\"]?)(?P<password>[^'\"\s,;)]+)", re.I)


def redact(text: str) -> str:
    """Mask passwords in any URL (``scheme://user:***@host``) or ``password=...`` fragment of ``text``."""
    text = _URL_PASSWORD.sub(r"\g<head>***\g<at>", text)
    return _KEYWORD_PASSWORD.sub(r"\g<head>***", text)


class DbopsError(Exception):
    """Base of every error dbops raises on purpose; ``exit_code`` is what the CLI exits with."""

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))

    @property
    def message(self) -> str:
        return str(self)


class ConfigError(DbopsError):
    """The configs could not be found, imported or chosen (bad ``--config``, missing attribute, ...)."""

    exit_code = 2


class ConnectionError(DbopsError):
    """The database could not be reached or refused the credentials."""

    exit_code = 2


class MigrationError(DbopsError):
    """A migration command could not run: no migrations directory, unknown revision, failed migration."""

    exit_code = 2


class LockTimeoutError(DbopsError):
    """Another process held the migration lock longer than ``--lock-timeout``."""

    exit_code = 3


class CheckFailedError(DbopsError):
    """``check`` found differences between the models and the database, or unapplied revisions."""

    exit_code = 1


class DataError(DbopsError):
    """Bad input data for ``load-data`` / ``dump-data`` (malformed file, unknown column, checksum mismatch)."""

    exit_code = 2


class StorageError(DbopsError):
    """A storage backend could not be found or failed an operation."""

    exit_code = 2


class StorageNotFoundError(StorageError):
    """A stored file does not exist in its backend."""

    exit_code = 2

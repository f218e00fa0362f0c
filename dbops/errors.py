"""One error root for dbops; the exit code lives on the class and the CLI edge renders it.

Engines raise these with a one-line message that says what went wrong and where. The CLI turns them into
``Error: <message>`` on stderr and exits with ``exit_code``; nothing else in dbops prints errors.
"""

from __future__ import annotations

import re

from dbops.urls import redact

__all__ = [
    "CheckFailedError",
    "ConfigError",
    "ConfirmationRequiredError",
    "DataError",
    "DatabaseConnectionError",
    "DbopsError",
    "DdlLockTimeoutError",
    "DuplicateKeyError",
    "FilterError",
    "ForeignKeyError",
    "ImproperConfigurationError",
    "IntegrityError",
    "LintFailedError",
    "LockTimeoutError",
    "MigrationError",
    "MigrationInterruptedError",
    "MultipleResultsFoundError",
    "NotFoundError",
    "RepositoryError",
    "SessionsError",
    "StorageError",
    "StorageNotFoundError",
    "first_line",
    "redact",
]


class DbopsError(Exception):
    """Base of every error dbops raises on purpose; ``exit_code`` is what the CLI exits with.

    ``detail=`` and ``.detail`` are Advanced Alchemy's spelling of the message, so code that raises or reads
    its errors that way works unchanged.
    """

    exit_code: int = 1

    def __init__(self, message: str = "", *, detail: str | None = None) -> None:
        super().__init__(redact(message or detail or ""))

    @property
    def message(self) -> str:
        return str(self)

    @property
    def detail(self) -> str:
        return str(self)


class ConfigError(DbopsError):
    """The configs could not be found, imported or chosen (bad ``--config``, missing attribute, ...)."""

    exit_code = 2


class DatabaseConnectionError(DbopsError):
    """The database could not be reached or refused the credentials."""

    exit_code = 2


ConnectionError = DatabaseConnectionError
"""The former name, kept so existing ``from dbops.errors import ConnectionError`` still works; it shadows the
builtin ``ConnectionError`` wherever it is imported, hence the new name (and its absence from ``__all__``)."""


class MigrationError(DbopsError):
    """A migration command could not run: no migrations directory, unknown revision, failed migration."""

    exit_code = 2


class MigrationInterruptedError(DbopsError):
    """A migration run was interrupted (Ctrl-C); the message says what stayed and what was rolled back."""

    exit_code = 130


class LockTimeoutError(DbopsError):
    """Another process held the migration lock longer than ``--lock-timeout``."""

    exit_code = 3


class DdlLockTimeoutError(DbopsError):
    """A migration statement could not get its table lock within ``--ddl-lock-timeout``, on every retry."""

    exit_code = 4


class CheckFailedError(DbopsError):
    """``check`` found differences between the models and the database, or unapplied revisions."""

    exit_code = 1


class LintFailedError(DbopsError):
    """``lint`` found unsafe operations in the revisions (``check --lint`` too)."""

    exit_code = 1


class DataError(DbopsError):
    """Bad input data for ``load-data`` / ``dump-data`` (malformed file, unknown column, checksum mismatch).

    The message quotes what the input holds (file and table names, values); control characters in it are
    escaped, so it stays one line whatever the names hold.
    """

    exit_code = 2

    def __init__(self, message: str = "", *, detail: str | None = None) -> None:
        super().__init__(_CONTROL.sub(lambda match: repr(match.group())[1:-1], message or detail or ""))


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class StorageError(DbopsError):
    """A storage backend could not be found or failed an operation."""

    exit_code = 2


# -- repository / service errors (dbops.repository, dbops.service) ----------------------------------------


class RepositoryError(DbopsError):
    """A repository operation failed; ``model`` and ``field`` name what it was about when known.

    Raised instead of raw SQLAlchemy or driver errors, so callers (and the Litestar plugin, which maps these to
    HTTP statuses) never depend on a driver's exception types or leak its messages.
    """

    exit_code = 1

    def __init__(
        self, message: str = "", *, model: str | None = None, field: str | None = None, detail: str | None = None
    ) -> None:
        super().__init__(message, detail=detail)
        self.model = model
        self.field = field


class NotFoundError(RepositoryError):
    """No row matched the id or filters given."""

    exit_code = 2


class IntegrityError(RepositoryError):
    """The database rejected the data: a NOT NULL, CHECK, unique or foreign-key constraint failed."""

    exit_code = 2


class DuplicateKeyError(IntegrityError):
    """A unique constraint (or the primary key) already holds this value; ``field`` names the column(s)."""


class ForeignKeyError(IntegrityError):
    """A foreign key points at a missing row, or a row is still referenced by another table."""


class MultipleResultsFoundError(RepositoryError):
    """Several rows matched where one was expected (``get_one``, ``get_one_or_none``): the filters don't name
    a unique row."""


class ImproperConfigurationError(RepositoryError, ConfigError):
    """A repository or service is set up wrong (no ``model_type``, no ``repository_type``, ...): a
    ``RepositoryError`` for code that catches those, a ``ConfigError`` (exit code 2) for the CLI."""

    exit_code = 2


class FilterError(RepositoryError):
    """A filter, ``load=`` option or keyword filter names a field the model does not have, or is invalid."""

    exit_code = 2


class ConfirmationRequiredError(DbopsError):
    """A destructive command needs a yes, and stdin is not a terminal to ask on (pass ``--yes``)."""

    exit_code = 2


class StartupError(DbopsError):
    """A Litestar app could not start its database (``create_all`` failed for a reason other than connecting)."""

    exit_code = 2


class SessionsError(DbopsError):
    """A session table could not be found, or cleaning it up failed."""

    exit_code = 2


class StorageNotFoundError(StorageError):
    """A stored file does not exist in its backend."""

    exit_code = 2


def first_line(error: BaseException | str) -> str:
    """The first line of an error's message, passwords masked, for one-line reports (drivers add the SQL and
    hints below it).

    For a SQLAlchemy error wrapping a driver error (``.orig``) the driver's own message is used, without
    SQLAlchemy's ``(module.Class)`` prefix and trailing SQL; an exception without a message gives its type name.
    Masked before the cut, so a password holding a line break leaves no piece of itself on the first line.
    """
    if isinstance(error, str):
        text = redact(error).strip()
    else:
        orig = getattr(error, "orig", None)
        text = redact(str(orig if orig is not None else error)).strip()
        if not text:
            return type(error).__name__
    return text.splitlines()[0].rstrip() if text else text

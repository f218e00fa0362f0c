"""``SessionModelMixin``: the table server-side sessions live in (no Litestar import, so ops boxes can use it).

Subclass it with a ``__tablename__`` and the table lands on dbops' default metadata, so ``create_all``, the
migrations and ``dbops sessions cleanup`` all find it::

    class UserSession(SessionModelMixin):
        __tablename__ = "user_sessions"
"""

from __future__ import annotations

import datetime
import hashlib
import re
from typing import Any, TypeGuard

from sqlalchemy import LargeBinary, String, UniqueConstraint
from sqlalchemy.dialects import mysql
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, declared_attr, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from dbops.base import UUIDv7AuditBase
from dbops.sessions.clock import utc_now
from dbops.types import DateTimeUTC, utcnow

__all__ = ["MAX_SESSION_ID_LENGTH", "SessionModelMixin", "is_valid_session_id", "storage_key"]

MAX_SESSION_ID_LENGTH = 255
DIGEST_PREFIX = "sha256:"
MAX_COOKIE_SESSION_ID_LENGTH = 4096
"""The longest id taken from a cookie (RFC 6265's smallest cookie a browser must keep)."""

# RFC 6265's cookie-octet: printable US-ASCII except space, '"', ',', ';' and backslash. An id made of these can
# be stored on every dialect and sent back in a Set-Cookie header unchanged.
_SESSION_ID = re.compile(rf"[!#-+\--:<-\[\]-~]{{1,{MAX_COOKIE_SESSION_ID_LENGTH}}}")


def is_valid_session_id(session_id: object) -> TypeGuard[str]:
    """Whether a session id can be a session: 1 to 4096 cookie characters (``secrets.token_hex`` ids are).

    Anything else a cookie can carry (NUL, spaces, quotes, the U+FFFD of invalid UTF-8, non-ASCII) is treated
    as no session: storing it would fail on some dialects, or the Set-Cookie header carrying it back would.
    """
    return isinstance(session_id, str) and _SESSION_ID.fullmatch(session_id) is not None


def storage_key(session_id: str) -> str:
    """The value stored in ``session_id``: the id itself, or ``sha256:<hex>`` when it does not fit.

    Ids longer than the column (and ids that already look like a digest) are hashed, never truncated, so two
    ids sharing a 255-character prefix stay two sessions.
    """
    if len(session_id) <= MAX_SESSION_ID_LENGTH and not session_id.startswith(DIGEST_PREFIX):
        return session_id
    return DIGEST_PREFIX + hashlib.sha256(session_id.encode()).hexdigest()


class SessionModelMixin(UUIDv7AuditBase):
    """The columns of a server-side session table; subclass it with a ``__tablename__``.

    - ``id``: UUIDv7 primary key and ``created_at`` / ``updated_at`` (timezone-aware) from ``UUIDv7AuditBase``;
      ``session_id``: String(255), unique, compared byte for byte (``utf8mb4_bin`` on MariaDB/MySQL; longer ids
      are stored as ``sha256:<hex>``, see ``storage_key``); ``data``: the serialised session;
    - ``expires_at``: timezone-aware, indexed;
    - ``is_expired``: a hybrid, usable on instances and in queries.

    Extend ``__table_args__`` with ``super().__table_args__()`` in a ``declared_attr.directive`` classmethod, or
    ``SessionModelMixin.__table_args__ + (...)``.
    """

    __abstract__ = True

    # Compared byte for byte on every dialect: MariaDB/MySQL would otherwise fold case (and trailing spaces,
    # which valid ids never hold) with the table's default collation, so "CaseId" and "caseid" shared one row.
    session_id: Mapped[str] = mapped_column(
        String(MAX_SESSION_ID_LENGTH).with_variant(
            mysql.VARCHAR(MAX_SESSION_ID_LENGTH, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
        ),
        nullable=False,
    )
    data: Mapped[bytes] = mapped_column(LargeBinary(), nullable=False)
    expires_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(), nullable=False, index=True)

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> _TableArgs:
        # Unnamed: the metadata's naming convention names it uq_<table>_session_id on every dialect.
        return _TableArgs((UniqueConstraint("session_id"),))

    @hybrid_property
    def is_expired(self) -> bool:
        """Whether the session has expired (by this process's clock on instances, the database's in queries)."""
        return self.expires_at <= utcnow()

    @is_expired.inplace.expression
    @classmethod
    def _is_expired_expression(cls) -> ColumnElement[bool]:
        return cls.expires_at <= utc_now()


class _TableArgs(tuple[Any, ...]):
    """The mixin's table arguments; calling them returns them, so both forms in the docs work:
    ``super().__table_args__()`` inside a ``declared_attr.directive`` and ``SessionModelMixin.__table_args__ + (...)``.
    """

    __slots__ = ()

    def __call__(self) -> _TableArgs:
        return self

    def __add__(self, other: tuple[Any, ...]) -> _TableArgs:
        return _TableArgs(tuple(self) + tuple(other))

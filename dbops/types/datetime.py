"""``DateTimeUTC``: timezone-aware datetimes, stored as UTC on every dialect."""

from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.types import DateTime, TypeDecorator, TypeEngine

__all__ = ["DateTimeUTC", "utcnow"]


def utcnow() -> datetime.datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.datetime.now(datetime.timezone.utc)


class DateTimeUTC(TypeDecorator[datetime.datetime]):
    """A datetime column that only takes aware datetimes and always returns them in UTC.

    PostgreSQL stores ``TIMESTAMP WITH TIME ZONE``; SQLite and MariaDB/MySQL (``DATETIME(6)``, microseconds
    kept) store the UTC wall time, and values read back get ``tzinfo=UTC``. A naive datetime is an error:
    guessing its zone is how timestamps silently shift by hours.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            from sqlalchemy.dialects.mysql import DATETIME

            return dialect.type_descriptor(DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime.datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime.datetime):
            raise TypeError(f"DateTimeUTC column got {type(value).__name__} {value!r}; expected a datetime")
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise ValueError(
                f"DateTimeUTC column got the naive datetime {value.isoformat()}; give it a timezone "
                "(e.g. datetime.now(timezone.utc))"
            )
        moment: datetime.datetime = value.astimezone(datetime.timezone.utc)
        if dialect.name == "postgresql":
            return moment
        return moment.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime.datetime | None:
        if value is None:
            return None
        moment: datetime.datetime = datetime.datetime.fromisoformat(value) if isinstance(value, str) else value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=datetime.timezone.utc)
        return moment.astimezone(datetime.timezone.utc)

    @property
    def python_type(self) -> type[datetime.datetime]:
        return datetime.datetime

    def __repr__(self) -> str:
        return "DateTimeUTC()"  # what autogenerate writes into a revision (SQLAlchemy's shows "timezone=True")

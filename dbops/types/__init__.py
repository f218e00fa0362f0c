"""Portable column types: the same model works on SQLite, PostgreSQL and MariaDB/MySQL.

- ``GUID``: native ``UUID`` on PostgreSQL, ``BINARY(16)`` elsewhere (``CHAR(32)`` with ``binary=False``).
- ``DateTimeUTC``: always timezone-aware UTC on the way in and out; naive datetimes are rejected.
- ``JsonB``: ``JSONB`` on PostgreSQL, ``JSON`` elsewhere.
- ``EncryptedString`` / ``EncryptedText``: Fernet-encrypted text (needs ``dbops[encryption]``).
- ``uuid7()``: time-ordered UUIDs (RFC 9562), which Python 3.11's ``uuid`` module lacks.
"""

from __future__ import annotations

from dbops.types.datetime import DateTimeUTC, utcnow
from dbops.types.encrypted import EncryptedString, EncryptedText, FernetBackend
from dbops.types.guid import GUID
from dbops.types.json import JsonB
from dbops.types.uuid import uuid7

__all__ = [
    "GUID",
    "DateTimeUTC",
    "EncryptedString",
    "EncryptedText",
    "FernetBackend",
    "JsonB",
    "utcnow",
    "uuid7",
]

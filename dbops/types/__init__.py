"""Portable column types: the same model works on SQLite, PostgreSQL and MariaDB/MySQL.

- ``GUID``: native ``UUID`` on PostgreSQL, ``BINARY(16)`` elsewhere (``CHAR(32)`` with ``binary=False``).
- ``DateTimeUTC``: always timezone-aware UTC on the way in and out; naive datetimes are rejected.
- ``JsonB``: ``JSONB`` on PostgreSQL, ``JSON`` elsewhere.
- ``EncryptedString`` / ``EncryptedText``: Fernet-encrypted text (needs ``dbops[encryption]``).
- ``uuid7()``: time-ordered UUIDs (RFC 9562), which Python 3.11's ``uuid`` module lacks.
- ``FileObject`` / ``StoredObject`` / ``storages``: file storage (``dbops.storage``), resolved lazily so
  importing the column types does not load the storage machinery.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from dbops.types.datetime import DateTimeUTC, utcnow
from dbops.types.encrypted import EncryptedString, EncryptedText, FernetBackend
from dbops.types.guid import GUID
from dbops.types.json import JsonB
from dbops.types.uuid import uuid7

if TYPE_CHECKING:
    from dbops.storage.backends.base import StorageBackend
    from dbops.storage.data_type import FileObjectList, StoredObject
    from dbops.storage.file_object import FileObject
    from dbops.storage.registry import StorageRegistry, storages

__all__ = [
    "GUID",
    "DateTimeUTC",
    "EncryptedString",
    "EncryptedText",
    "FernetBackend",
    "FileObject",
    "FileObjectList",
    "JsonB",
    "StorageBackend",
    "StorageRegistry",
    "StoredObject",
    "storages",
    "utcnow",
    "uuid7",
]

_LAZY = {
    "FileObject": "dbops.storage.file_object",
    "FileObjectList": "dbops.storage.data_type",
    "StorageBackend": "dbops.storage.backends.base",
    "StoredObject": "dbops.storage.data_type",
    "StorageRegistry": "dbops.storage.registry",
    "storages": "dbops.storage.registry",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dbops.types' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)

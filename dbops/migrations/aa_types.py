"""Advanced Alchemy's column types as its revision files use them, creating the columns they created.

Every revision Advanced Alchemy's ``make-migrations`` wrote imports its types (``from advanced_alchemy.types
import Bool, EncryptedString, GUID, JsonB, ORA_JSONB, ...``, the hashers from ``.password_hash.*``) and registers
them on ``sa`` (``sa.GUID = GUID``) so its body's ``sa.GUID(length=16)`` resolves. ``dbops port`` points those
imports of revision files here. Each name makes the DDL Advanced Alchemy 1.12's type made on SQLite, PostgreSQL
and MariaDB/MySQL, from the arguments its revisions pass (``sa.EncryptedString(key=..., backend=FernetBackend,
length=64)``, ``sa.ORA_JSONB()``, ``sa.PasswordHash(backend=sa.Argon2Hasher(), length=255)``), so a database
built through the ported revisions is the one Advanced Alchemy built (``tests/migrations/aa_revisions`` holds
its own ``upgrade --sql`` output as the oracle).

They only make columns: nothing here encrypts, hashes or stores files, and a revision's data migration that
writes through them writes plain values. Models use ``dbops.types``, whose DDL differs in places (see the
README's "Porting from Advanced Alchemy"); ``check`` shows those differences on a database built this way.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB as PG_JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from dbops.types.guid import GUID

__all__ = [
    "GUID",
    "ORA_JSONB",
    "Argon2Hasher",
    "BigIntIdentity",
    "Bool",
    "DateTimeUTC",
    "EncryptedString",
    "EncryptedText",
    "FernetBackend",
    "JsonB",
    "OneTimeCode",
    "PGCryptoBackend",
    "PasslibHasher",
    "PasswordHash",
    "PwdlibHasher",
    "StoredObject",
    "TOTPSecret",
]

# GUID: dbops' GUID makes the same columns (UUID on PostgreSQL, BINARY(16), CHAR(32) with binary=False), and
# takes the ``length=16`` Advanced Alchemy's revisions pass.

JsonB = JSON().with_variant(PG_JSONB(), "postgresql")
BigIntIdentity = BigInteger().with_variant(Integer(), "sqlite")


class _Marker:
    """A backend or hasher class a revision names (``backend=FernetBackend``, ``sa.Argon2Hasher()``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass


class FernetBackend(_Marker):
    pass


class PGCryptoBackend(_Marker):
    pass


class Argon2Hasher(_Marker):
    pass


class PasslibHasher(_Marker):
    pass


class PwdlibHasher(_Marker):
    pass


class DateTimeUTC(TypeDecorator[Any]):
    """``TIMESTAMP WITH TIME ZONE`` on PostgreSQL, ``DATETIME`` (no fraction of a second) elsewhere."""

    impl = DateTime(timezone=True)
    cache_ok = True


class Bool(TypeDecorator[Any]):
    impl = Boolean
    cache_ok = True


class ORA_JSONB(TypeDecorator[Any]):
    """Only ever an Oracle variant (``.with_variant(sa.ORA_JSONB(), 'oracle')``); dbops has no Oracle."""

    impl = JSON
    cache_ok = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()


class EncryptedString(TypeDecorator[Any]):
    """``TEXT`` on MariaDB/MySQL, ``VARCHAR`` without a length elsewhere (``length`` was the plaintext's)."""

    impl = String
    cache_ok = True

    def __init__(self, key: Any = None, backend: Any = None, length: int | None = None, **kwargs: Any) -> None:
        super().__init__()
        self.length = length

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(Text() if dialect.name in ("mysql", "mariadb") else String())


class EncryptedText(EncryptedString):
    """``VARCHAR`` on PostgreSQL, ``TEXT`` elsewhere (as Advanced Alchemy 1.12's revisions made it)."""

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(String() if dialect.name == "postgresql" else Text())


class TOTPSecret(EncryptedString):
    """Stored as ``EncryptedString``."""

    def __init__(self, key: Any = None, backend: Any = None, *args: Any, length: int | None = None, **kw: Any) -> None:
        super().__init__(key, backend, length)


class PasswordHash(TypeDecorator[Any]):
    impl = String
    cache_ok = True

    def __init__(self, backend: Any = None, length: int = 255) -> None:
        super().__init__(length=length)


class _JsonDocument(TypeDecorator[Any]):
    """``JSONB`` on PostgreSQL, ``JSON`` elsewhere (Advanced Alchemy's ``JsonB`` as an impl)."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(PG_JSONB() if dialect.name == "postgresql" else JSON())


class StoredObject(_JsonDocument):
    def __init__(self, backend: Any = None, multiple: bool = False, *args: Any, **kwargs: Any) -> None:
        super().__init__()


class OneTimeCode(_JsonDocument):
    def __init__(self, backend: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__()

"""``GUID``: a UUID column stored natively on PostgreSQL and as 16 bytes (or 32 hex chars) elsewhere."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.types import BINARY, CHAR, TypeDecorator, TypeEngine

__all__ = ["GUID"]


class GUID(TypeDecorator[uuid.UUID]):
    """Platform-independent UUID: ``UUID`` on PostgreSQL, ``BINARY(16)`` elsewhere (``CHAR(32)`` if not binary).

    Python values are always ``uuid.UUID``; strings and 16-byte values are accepted on the way in.
    """

    impl = BINARY(16)
    cache_ok = True

    def __init__(self, *args: Any, binary: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.binary = binary

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import UUID as PG_UUID

            return dialect.type_descriptor(PG_UUID(as_uuid=True))
        return dialect.type_descriptor(BINARY(16) if self.binary else CHAR(32))

    @staticmethod
    def _to_uuid(value: Any) -> uuid.UUID:
        if isinstance(value, uuid.UUID):
            return value
        if isinstance(value, bytes) and len(value) == 16:
            return uuid.UUID(bytes=value)
        try:
            return uuid.UUID(str(value))
        except ValueError:
            raise ValueError(f"GUID column got {value!r}, which is not a UUID") from None

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = self._to_uuid(value)
        if dialect.name == "postgresql":
            return value
        return value.bytes if self.binary else value.hex

    def process_result_value(self, value: Any, dialect: Dialect) -> uuid.UUID | None:
        if value is None:
            return None
        return self._to_uuid(value)

    @property
    def python_type(self) -> type[uuid.UUID]:
        return uuid.UUID

    def __repr__(self) -> str:
        # What autogenerate writes into a revision: the type as the model declared it (SQLAlchemy's default
        # repr shows the BINARY(16) impl's arguments, "GUID(length=16)", which drops binary=False).
        return "GUID()" if self.binary else "GUID(binary=False)"

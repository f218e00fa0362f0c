"""The lossless row ⇄ JSON encoding of dumps, and the lenient decoding of fixture files.

Each column gets a ``ColumnCodec`` from its SQLAlchemy type. Encoding turns what the driver returns into
plain JSON values, the same way on every dialect, so two dumps of the same data are byte-identical:

========== ======================================================================================
kind       JSON form
========== ======================================================================================
int, bool  number / true, false
decimal    string in fixed-point notation (``"12.50"``): no float rounding
float      number; ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` for what JSON cannot hold
str, enum  string (an enum's database value, not the Python member)
bytes      base64 string
date       ``"2024-02-29"``
time       ``"12:34:56.000001"`` (ISO 8601; microseconds when not zero, as ``isoformat()`` and orjson write)
datetime   ``"2024-02-29T12:34:56.000001"``; aware values in UTC with ``+00:00``
interval   ``"P1DT3723.000005S"`` / ``"-P0DT0.000001S"`` (days, seconds, microseconds)
uuid       ``"0b7e…-…"`` (hyphenated, lower case)
json       the JSON value itself; SQL NULL is ``null``, JSON ``null`` is ``{"$json": null}`` (and an object
           whose only key is ``$json`` is wrapped the same way, so the form is unambiguous)
array      a JSON array of the element kind (PostgreSQL)
========== ======================================================================================

NULL is ``null`` for every kind. Decoding accepts these forms and also what hand-written fixtures hold
(numbers for decimals, ISO strings with ``Z`` for datetimes, numbers of seconds for intervals); a value of
the wrong type raises ``ValueError`` with a short reason, which the loader turns into a ``DataError`` naming
file, row and column.

TypeDecorators: a column's kind is its stored type's (looking through the decorator), except that one whose
Python values are ``uuid.UUID`` (dbops' ``GUID``, stored as ``BINARY(16)`` or ``CHAR(32)`` off PostgreSQL) is
``uuid``. Values go through the decorator's own processing, so ``DateTimeUTC`` values are aware instants and
naive timestamps are refused. dbops' ``EncryptedString``/``EncryptedText`` and ``StoredObject`` are dumped
and loaded in their *stored* form instead (``stored_type``): the ciphertext (a dump never holds a secret in
clear, and a model-less dump of the same table is identical) and the JSON metadata.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import enum
import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from sqlalchemy import Column
    from sqlalchemy.types import TypeEngine

__all__ = [
    "JSON_NULL",
    "NATIVE_KINDS",
    "ColumnCodec",
    "column_codec",
    "decode_interval",
    "encode_interval",
    "encode_json_text",
    "encode_json_value",
    "is_plain",
    "stored_column",
    "stored_type",
    "type_kind",
]


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


JSON_NULL: Any = _Marker("JSON_NULL")
"""What a json decoder returns for JSON ``null`` (``None`` means SQL NULL)."""

_UTC = dt.timezone.utc
_FLOAT_SPECIALS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_INTERVAL = re.compile(r"^(?P<sign>-?)P(?P<days>\d+)DT(?P<seconds>\d+)(?:\.(?P<micro>\d{1,6}))?S$")
_WRAP = "$json"

Encoder = Callable[[Any], Any]
Decoder = Callable[[Any], Any]


@dataclass(frozen=True)
class ColumnCodec:
    """How one column's values become JSON and back; ``encode``/``decode`` never see ``None``."""

    name: str
    kind: str
    encode: Encoder | None
    """``None`` when the driver's value is already its JSON form (ints, strings)."""
    decode: Decoder


# -- kinds -----------------------------------------------------------------------------------------------


def type_kind(type_: TypeEngine[Any]) -> str:
    """The codec kind of a SQLAlchemy type (looking through TypeDecorators to the stored type)."""
    from sqlalchemy import types
    from sqlalchemy.sql import sqltypes

    seen = 0
    while True:
        if isinstance(type_, sqltypes._AbstractInterval):
            return "interval"
        domain_type = _domain_type(type_)
        if domain_type is not None and seen < 10:  # a PostgreSQL domain holds values of its base type
            type_ = domain_type
            seen += 1
            continue
        if isinstance(type_, types.TypeDecorator) and seen < 10:
            if stored_type(type_) is None and _python_type(type_) is uuid.UUID:
                return "uuid"  # GUID: UUIDs in Python, whatever the bytes or text it stores
            type_ = type_.impl_instance
            seen += 1
            continue
        break
    checks: tuple[tuple[type[Any], str], ...] = (
        (types.ARRAY, "array"),
        (types.JSON, "json"),
        (types.Enum, "enum"),
        (types.Boolean, "bool"),
        (types.Integer, "int"),
        (types.Float, "float"),
        (types.Numeric, "decimal"),
        (types.Uuid, "uuid"),
        (types.String, "str"),
        (types._Binary, "bytes"),
        (types.DateTime, "datetime"),
        (types.Date, "date"),
        (types.Time, "time"),
    )
    for cls, kind in checks:
        if isinstance(type_, cls):
            return kind
    return "other"


NATIVE_KINDS = frozenset({"int", "bool", "str", "date", "datetime", "uuid"})
"""Kinds whose driver values orjson writes exactly as the encoders would (given UTC for aware datetimes).

Not ``time``: orjson 3.x drops a leading zero of the microseconds (``00:00:00.10000`` for 10000 µs).
"""


def _domain_type(type_: TypeEngine[Any]) -> TypeEngine[Any] | None:
    import sys

    postgresql = sys.modules.get("sqlalchemy.dialects.postgresql")
    domain = getattr(postgresql, "DOMAIN", None)
    if domain is not None and isinstance(type_, domain):
        data_type: TypeEngine[Any] = type_.data_type
        return data_type
    return None


def _python_type(type_: TypeEngine[Any]) -> Any:
    try:
        return type_.python_type
    except NotImplementedError:
        return None


def stored_type(type_: TypeEngine[Any]) -> TypeEngine[Any] | None:
    """The stored type of a column type dumped and loaded in its stored form, else None.

    dbops' encrypted strings (their ciphertext) and ``StoredObject`` (its JSON metadata). Looked up in
    ``sys.modules``: a type whose module was never imported can't be on any column.
    """
    import sys

    stored: list[type[Any]] = []
    encrypted = sys.modules.get("dbops.types.encrypted")
    if encrypted is not None:
        stored.append(encrypted.EncryptedString)
    storage = sys.modules.get("dbops.storage.data_type")
    if storage is not None:
        stored.append(storage.StoredObject)
    if stored and isinstance(type_, tuple(stored)):
        impl: TypeEngine[Any] = type_.impl_instance  # type: ignore[attr-defined]
        return impl
    return None


def stored_column(column: Any) -> Any:
    """``column`` to select in a dump: read as its stored type when it has one (no result processing)."""
    from sqlalchemy import type_coerce

    stored = stored_type(column.type)
    return column if stored is None else type_coerce(column, stored).label(column.key)


def is_plain(column: Column[Any]) -> bool:
    """True unless the column's type is a TypeDecorator (whose Python values may be anything).

    A type dumped in its stored form (``stored_type``) counts as plain: its values are the stored type's.
    """
    from sqlalchemy import types

    return not isinstance(column.type, types.TypeDecorator) or stored_type(column.type) is not None


def column_codec(
    column: Column[Any],
    *,
    dialect: str,
    source_kind: str | None = None,
    source_dialect: str | None = None,
    as_stored: bool = False,
) -> ColumnCodec:
    """The codec for ``column`` when loading into / dumping from ``dialect`` (``sqlite``, ``postgresql``...).

    ``source_kind``/``source_dialect``: what a dump's manifest recorded for the column, when loading one.
    Where the target column is looser than the dump's (a MariaDB ``TINYINT(1)`` for a boolean, a text column
    for JSON), values are decoded by the recorded kind: ``true`` → 1, an array → its JSON text. ``NaN`` and
    infinities go into a decimal column only from a PostgreSQL dump into PostgreSQL (where the column held
    them); from fixtures, and on databases that can't store them, they are refused.

    ``as_stored`` (``SQLITE_AS_STORED``): the column's values are kept as SQLite stores them.
    """
    kind = type_kind(column.type)
    if as_stored and kind in SQLITE_AS_STORED:
        return ColumnCodec(str(column.key), kind, _encode_sqlite_value, _decode_sqlite_value)
    encode, decode = _codec_for(column.type, kind, dialect)
    if kind == "decimal" and not (dialect == "postgresql" and source_dialect == "postgresql"):
        decode = _finite_decimal
    widen = _LOOSER.get((source_kind, kind)) if source_kind is not None else None
    if widen is not None:
        decode = widen(decode)
    return ColumnCodec(str(column.key), kind, encode, decode)  # not quoted_name: orjson keys must be str


def _codec_for(type_: TypeEngine[Any], kind: str, dialect: str) -> tuple[Encoder | None, Decoder]:
    if kind == "array":
        item_type = _unwrap(type_).item_type  # type: ignore[attr-defined]
        item_encode, item_decode = _codec_for(item_type, type_kind(item_type), dialect)
        return _array_encoder(item_encode), _array_decoder(item_decode)
    if kind == "datetime":
        return _encode_datetime, _datetime_decoder(type_, dialect)
    if kind == "enum":
        return _enum_encoder(_unwrap(type_)), _enum_decoder(_unwrap(type_))
    if kind == "uuid":
        return _encode_uuid, _uuid_decoder(bool(getattr(_unwrap(type_), "as_uuid", True)))
    return _SIMPLE[kind]


def _unwrap(type_: TypeEngine[Any]) -> TypeEngine[Any]:
    from sqlalchemy import types

    for _ in range(10):
        if isinstance(type_, types.TypeDecorator):
            type_ = type_.impl_instance
        elif (domain_type := _domain_type(type_)) is not None:
            type_ = domain_type
        else:
            break
    return type_


# -- encoders ---------------------------------------------------------------------------------------------


def _encode_decimal(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def _encode_float(value: float) -> Any:
    if math.isfinite(value):
        return float(value)
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def _encode_bytes(value: Any) -> str:
    return base64.b64encode(bytes(value)).decode("ascii")


def _encode_date(value: Any) -> str:
    if isinstance(value, dt.datetime):  # some drivers hand back datetimes for DATE columns
        value = value.date()
    return str(value.isoformat())


def _encode_time(value: Any) -> Any:
    if isinstance(value, dt.timedelta):  # MySQL drivers return TIME as a timedelta
        return encode_interval(value)
    return value.isoformat()


def _encode_datetime(value: dt.datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(_UTC)
    return value.isoformat()


def encode_interval(value: dt.timedelta) -> str:
    """``timedelta`` → ``[-]P<days>DT<seconds>.<micro>S`` with days, seconds and microseconds kept exact."""
    micro = value // dt.timedelta(microseconds=1)
    sign = "-" if micro < 0 else ""
    micro = abs(micro)
    days, micro = divmod(micro, 86_400_000_000)
    seconds, micro = divmod(micro, 1_000_000)
    return f"{sign}P{days}DT{seconds}.{micro:06d}S"


def _encode_uuid(value: Any) -> str:
    return str(value) if isinstance(value, uuid.UUID) else str(uuid.UUID(str(value)))


def encode_json_value(value: Any) -> Any:
    """A JSON value as a dump holds it: JSON ``null`` and a lone-``$json`` object wrapped in ``{"$json": ...}``."""
    if value is None or (isinstance(value, dict) and len(value) == 1 and _WRAP in value):
        return {_WRAP: value}
    return value


def encode_json_text(text: Any) -> Any:
    """``encode_json_value`` for a JSON column read as text (SQLite may hand back a number for a JSON scalar)."""
    return encode_json_value(orjson.loads(text) if isinstance(text, (str, bytes)) else text)


def _enum_encoder(type_: Any) -> Encoder:
    lookup: dict[Any, Any] = dict(getattr(type_, "_valid_lookup", {}))

    def encode(value: Any) -> Any:
        if isinstance(value, enum.Enum):
            return lookup.get(value, value.name)
        return value

    return encode


def _array_encoder(item: Encoder | None) -> Encoder:
    def encode(value: Any) -> Any:
        return [None if v is None else (encode(v) if isinstance(v, list) else (item(v) if item else v)) for v in value]

    return encode


def _encode_other(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool, list, dict)):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _encode_bytes(value)
    return str(value)


# -- decoders ---------------------------------------------------------------------------------------------


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _expect(what: str, value: Any) -> ValueError:
    return ValueError(f"expected {what}, got {_describe(value)}")


def _decode_int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _expect("an integer", value)


def _decode_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise _expect("true or false", value)


def _decode_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise _expect("a decimal number", value)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            pass
    raise _expect("a decimal number", value)


SQLITE_AS_STORED = frozenset({"date", "time", "datetime", "decimal"})
"""Kinds whose values a SQLite table without a model keeps exactly as stored: SQLite has no such types, so
an application's own text (``2024-01-01 12:00:00``, ``2024-01-01T12:00Z``), or numbers, sit in them, which
SQLAlchemy's types would rewrite (``.000000``) or round (a NUMERIC(12,2) holding 1.005). Text stays a JSON
string, integers and reals JSON numbers; a load into another database decodes them by its column types."""


def _encode_sqlite_value(value: Any) -> Any:
    if isinstance(value, float):
        return _encode_float(value)
    if isinstance(value, (str, int)):
        return value
    raise ValueError(f"a {type(value).__name__} value where dates, times and decimals are text or numbers")


def _decode_sqlite_value(value: Any) -> Any:
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return value
    raise _expect("text or a number", value)


def _finite_decimal(value: Any) -> Decimal:
    decoded = _decode_decimal(value)
    if not decoded.is_finite():
        raise ValueError(f"{_describe(value)} is not a number a decimal (numeric) column can hold")
    return decoded


def _bool_as_int(decode: Decoder) -> Decoder:
    def decoded(value: Any) -> Any:
        return int(value) if isinstance(value, bool) else decode(value)

    return decoded


def _json_as_text(decode: Decoder) -> Decoder:
    def decoded(value: Any) -> Any:
        held = _decode_json(value)
        return "null" if held is JSON_NULL else orjson.dumps(held).decode()

    return decoded


def _decimal_as_float(decode: Decoder) -> Decoder:
    def decoded(value: Any) -> Any:
        if isinstance(value, str) and value not in _FLOAT_SPECIALS:
            try:
                return float(Decimal(value))
            except InvalidOperation:
                pass
        return decode(value)

    return decoded


_LOOSER: dict[tuple[str | None, str], Callable[[Decoder], Decoder]] = {
    ("bool", "int"): _bool_as_int,
    ("json", "str"): _json_as_text,
    ("array", "str"): _json_as_text,
    ("decimal", "float"): _decimal_as_float,
}
"""(kind the dump recorded, kind of the target column) → how to widen the target's decoder."""


def _decode_float(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and value in _FLOAT_SPECIALS:
        return _FLOAT_SPECIALS[value]
    raise _expect("a number", value)


def _decode_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise _expect("a string", value)


def _decode_bytes(value: Any) -> bytes:
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            pass
    raise _expect("base64 bytes", value)


def _decode_date(value: Any) -> dt.date:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise _expect("an ISO date (YYYY-MM-DD)", value)


def _decode_time(value: Any) -> dt.time:
    if isinstance(value, str):
        try:
            return dt.time.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
        except ValueError:
            pass
    raise _expect("an ISO time (HH:MM:SS[.ffffff])", value)


def _parse_datetime(value: Any) -> dt.datetime:
    if isinstance(value, str):
        text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
        try:
            return dt.datetime.fromisoformat(text)
        except ValueError:
            pass
    raise _expect("an ISO timestamp", value)


def _datetime_decoder(type_: Any, dialect: str) -> Decoder:
    # PostgreSQL keeps instants for timestamptz; other databases store wall-clock times, so aware values go
    # in as UTC wall-clock times there, and naive values are taken as UTC for timestamptz. A TypeDecorator
    # over an aware DateTime (DateTimeUTC) converts for its dialect itself: it gets the aware instant, and
    # DateTimeUTC, which refuses naive datetimes, gets no naive value passed off as one.
    from sqlalchemy import types

    from dbops.types.datetime import DateTimeUTC

    decorated = isinstance(type_, types.TypeDecorator)
    aware_column = bool(getattr(_unwrap(type_), "timezone", False)) and (dialect == "postgresql" or decorated)
    needs_zone = isinstance(type_, DateTimeUTC)

    def decode(value: Any) -> dt.datetime:
        parsed = _parse_datetime(value)
        if needs_zone and parsed.tzinfo is None:
            raise _expect("a timestamp with a time zone (Z or +hh:mm) for this DateTimeUTC column", value)
        if aware_column:
            return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=_UTC)
        if parsed.tzinfo is not None:
            return parsed.astimezone(_UTC).replace(tzinfo=None)
        return parsed

    return decode


def decode_interval(value: Any) -> dt.timedelta:
    """The inverse of ``encode_interval``; also takes a number of seconds (fixtures)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return dt.timedelta(seconds=value)
    if isinstance(value, str):
        match = _INTERVAL.match(value)
        if match:
            micro = (
                int(match["days"]) * 86_400_000_000
                + int(match["seconds"]) * 1_000_000
                + int((match["micro"] or "0").ljust(6, "0"))
            )
            return dt.timedelta(microseconds=-micro if match["sign"] else micro)
    raise _expect("an interval like P1DT30.5S or a number of seconds", value)


def _decode_time_or_interval(value: Any) -> Any:
    if isinstance(value, str) and "P" in value:
        return decode_interval(value)
    return _decode_time(value)


def _uuid_decoder(as_uuid: bool) -> Decoder:
    def decode(value: Any) -> Any:
        if isinstance(value, str):
            try:
                parsed = uuid.UUID(value)
            except ValueError:
                pass
            else:
                return parsed if as_uuid else str(parsed)
        raise _expect("a UUID", value)

    return decode


def _decode_json(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1 and _WRAP in value:
        inner = value[_WRAP]
        return JSON_NULL if inner is None else inner
    return value


def _enum_decoder(type_: Any) -> Decoder:
    allowed = frozenset(getattr(type_, "enums", ()) or ())

    def decode(value: Any) -> Any:
        if isinstance(value, str) and (not allowed or value in allowed):
            return value
        choices = ", ".join(sorted(allowed))
        raise _expect(f"one of {choices}", value)

    return decode


def _array_decoder(item: Decoder) -> Decoder:
    def decode(value: Any) -> Any:
        if not isinstance(value, list):
            raise _expect("an array", value)
        return [None if v is None else (decode(v) if isinstance(v, list) else item(v)) for v in value]

    return decode


def _decode_other(value: Any) -> Any:
    return value


_SIMPLE: dict[str, tuple[Encoder | None, Decoder]] = {
    "int": (None, _decode_int),
    "bool": (None, _decode_bool),
    "decimal": (_encode_decimal, _decode_decimal),
    "float": (_encode_float, _decode_float),
    "str": (None, _decode_str),
    "bytes": (_encode_bytes, _decode_bytes),
    "date": (_encode_date, _decode_date),
    "time": (_encode_time, _decode_time_or_interval),
    "interval": (encode_interval, decode_interval),
    "json": (encode_json_value, _decode_json),
    "other": (_encode_other, _decode_other),
}

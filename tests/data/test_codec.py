"""The codec on its own: every kind encodes to JSON and decodes back to the same value."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from decimal import Decimal
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from dbops.data.codec import JSON_NULL, NATIVE_KINDS, column_codec, decode_interval, encode_interval

CASES: list[tuple[sa.types.TypeEngine[Any], Any, Any]] = [
    (sa.Numeric(30, 10), Decimal("-0.0000000001"), "-0.0000000001"),
    (sa.Numeric(), Decimal("1E+3"), "1000"),
    (sa.Double(), math.inf, "Infinity"),
    (sa.Double(), -math.inf, "-Infinity"),
    (sa.Double(), 5e-324, 5e-324),
    (sa.LargeBinary(), b"\x00\xff", "AP8="),
    (sa.Time(), dt.time(0, 0, 0, 10000), "00:00:00.010000"),
    (
        sa.DateTime(timezone=True),
        dt.datetime(2024, 1, 1, 5, 30, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
        "2024-01-01T00:00:00+00:00",
    ),
    (sa.Interval(), dt.timedelta(days=-1, microseconds=1), "-P0DT86399.999999S"),
    (sa.Uuid(), uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),
    (sa.JSON(), {"$json": 1}, {"$json": {"$json": 1}}),
    (postgresql.ARRAY(sa.LargeBinary), [b"a", None, [b"b"]], ["YQ==", None, ["Yg=="]]),
]


@pytest.mark.parametrize(("type_", "value", "encoded"), CASES, ids=[repr(case[1])[:30] for case in CASES])
def test_encode_decode(type_: sa.types.TypeEngine[Any], value: Any, encoded: Any) -> None:
    codec = column_codec(sa.Column("c", type_), dialect="postgresql")
    assert codec.encode is not None
    assert codec.encode(value) == encoded
    assert codec.decode(orjson.loads(orjson.dumps(encoded))) == value


def test_json_null_and_sql_null_differ() -> None:
    codec = column_codec(sa.Column("c", sa.JSON), dialect="sqlite")
    assert codec.encode is not None
    assert codec.encode(None) == {"$json": None}  # JSON null; SQL NULL never reaches the encoder
    assert codec.decode({"$json": None}) is JSON_NULL


def test_native_kinds_match_the_python_encoders() -> None:
    """orjson writes these kinds itself in dumps; it must write exactly what the encoders would."""
    samples: dict[str, list[Any]] = {
        "datetime": [
            dt.datetime(2020, 1, 1, 0, 0, 0, m, tzinfo=tz)
            for m in (0, 1, 10000, 999999)
            for tz in (None, dt.timezone.utc)
        ],
        "date": [dt.date(1, 1, 1), dt.date(9999, 12, 31)],
        "uuid": [uuid.UUID(int=0), uuid.uuid4()],
    }
    types: dict[str, sa.types.TypeEngine[Any]] = {"datetime": sa.DateTime(), "date": sa.Date(), "uuid": sa.Uuid()}
    assert set(samples) <= NATIVE_KINDS and "time" not in NATIVE_KINDS
    for kind, values in samples.items():
        codec = column_codec(sa.Column("c", types[kind]), dialect="sqlite")
        assert codec.encode is not None
        for value in values:
            assert orjson.loads(orjson.dumps(value)) == codec.encode(value)


@pytest.mark.parametrize(
    ("type_", "value", "reason"),
    [
        (sa.Integer(), "1", "expected an integer"),
        (sa.Integer(), True, "expected an integer"),
        (sa.Boolean(), "yes", "expected true or false"),
        (sa.Numeric(), "1,5", "expected a decimal number"),
        (sa.LargeBinary(), "not base64!", "expected base64 bytes"),
        (sa.Date(), "2024-13-01", "expected an ISO date"),
        (sa.Uuid(), "xyz", "expected a UUID"),
        (sa.Enum("a", "b", name="e"), "c", "expected one of a, b"),
        (sa.Interval(), "1 day", "expected an interval"),
    ],
)
def test_wrong_types_are_refused(type_: sa.types.TypeEngine[Any], value: Any, reason: str) -> None:
    codec = column_codec(sa.Column("c", type_), dialect="postgresql")
    with pytest.raises(ValueError, match=reason):
        codec.decode(value)


def test_fixture_forms_are_accepted() -> None:
    aware = column_codec(sa.Column("c", sa.DateTime(timezone=True)), dialect="postgresql")
    assert aware.decode("2024-05-01T10:00:00Z") == dt.datetime(2024, 5, 1, 10, tzinfo=dt.timezone.utc)
    assert aware.decode("2024-05-01T10:00:00") == dt.datetime(2024, 5, 1, 10, tzinfo=dt.timezone.utc)
    naive = column_codec(sa.Column("c", sa.DateTime()), dialect="mysql")
    assert naive.decode("2024-05-01T12:00:00+02:00") == dt.datetime(2024, 5, 1, 10)
    assert column_codec(sa.Column("c", sa.Numeric()), dialect="sqlite").decode(9.5) == Decimal("9.5")
    assert decode_interval(90) == dt.timedelta(seconds=90)
    assert decode_interval(encode_interval(dt.timedelta(days=3, microseconds=7))) == dt.timedelta(
        days=3, microseconds=7
    )

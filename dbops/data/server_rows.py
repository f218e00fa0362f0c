"""PostgreSQL writes the dump's rows itself: ``COPY (SELECT row_to_json(...)) TO STDOUT``.

The generic dump builds Python objects for every value (psycopg parses each timestamp into a ``datetime``)
and encodes them again; for a table whose columns PostgreSQL can render in exactly the codec's form, the
server formats each row as the finished JSON line and we only copy bytes to the file. Per column:

========== ===========================================================================================
kind       server expression (``c`` the column)
========== ===========================================================================================
int, bool  ``c`` (``to_json`` writes the same numbers and ``true``/``false`` as orjson)
str, enum  ``c`` (PostgreSQL's JSON string escaping is orjson's: tests compare both over control
           characters, quotes, non-ASCII and generated text)
uuid       ``c`` (lower-case, hyphenated)
decimal    ``c::text`` (fixed-point, ``NaN``/``Infinity``: the codec's strings)
date       ``to_char(c, 'YYYY-MM-DD')``
datetime   ``to_char`` in UTC with microseconds only when not zero, ``+00:00`` for ``timestamptz``
json       ``json_build_array(c)`` (so SQL NULL and JSON ``null`` stay apart); such rows are re-read and
           re-written by orjson here, which also makes the JSON value's formatting the generic path's
========== ===========================================================================================

Other kinds (float: ``to_json`` writes ``1e+16`` and ``-0``; bytes, time, interval, arrays, TypeDecorators)
keep the generic path for the whole table. A date or timestamp outside years 1-9999 (``infinity``, BC) is an
error here as it is there (Python can't hold it), raised by the server from a deliberately failing cast.

Rows are read in COPY's CSV format with delimiter ``\\x01`` and quote ``\\x02``: a JSON document never holds
those bytes unescaped, so a row is quoted only when a ``json`` (not ``jsonb``) value kept a raw line break
of its source text, and those rows go through orjson anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from dbops.data.codec import ColumnCodec, encode_json_value, is_plain
from dbops.errors import first_line

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Dialect

__all__ = ["ServerRows", "ServerRowsError", "out_of_range_value", "server_rows"]

_OUT_OF_RANGE = "dbops: outside the years 1-9999 a dump can hold: "
_ISO_SECONDS = "'YYYY-MM-DD\"T\"HH24:MI:SS'"


class ServerRows:
    """The COPY statement for one table and how to turn what it sends into dump lines."""

    def __init__(self, sql: str, json_keys: Sequence[str]) -> None:
        self.sql = sql
        self.json_keys = tuple(json_keys)

    def batches(self, driver: Any, batch_size: int) -> Iterator[tuple[bytes, int]]:
        """``(lines, count)``: ``count`` rows, each ending in ``\\n``, from the psycopg connection ``driver``.

        Read through libpq's own calls (``psycopg.pq``) rather than ``Cursor.copy``: psycopg's COPY reader
        runs a Python generator per row, a second of CPU per million rows that the server then waits on.
        A failed or abandoned read is cancelled and drained, so the connection stays usable.
        """
        from psycopg import pq

        pgconn = driver.pgconn
        pgconn.send_query(self.sql.encode(driver.info.encoding))
        while pgconn.flush():  # non-blocking connection: the statement is short, this rarely loops
            pass
        result = pgconn.get_result()
        if result is None or result.status != pq.ExecStatus.COPY_OUT:
            message = _message(result, pgconn)
            _drain(pgconn)
            raise ServerRowsError(message)
        rewrite = _json_rewriter(self.json_keys) if self.json_keys else None
        finished = False
        try:
            pending: list[Any] = []
            while True:
                size, data = pgconn.get_copy_data(0)
                if size < 0:
                    break
                pending.append(data if rewrite is None else rewrite(data))
                if len(pending) >= batch_size:
                    yield b"".join(pending), len(pending)
                    pending = []
            finished = True
            # the COPY's results now, before the last batch: a caller that stops at that batch (an error
            # writing it) must not leave them unread, or the connection refuses its ROLLBACK
            results = _drain(pgconn)
            if pending:
                yield b"".join(pending), len(pending)
        finally:
            if not finished:  # an error here or in the caller: stop the server sending the rest
                pgconn.get_cancel().cancel()
                while pgconn.get_copy_data(0)[0] >= 0:
                    pass
                _drain(pgconn)
        failed = [result for result in results if result.status != pq.ExecStatus.COMMAND_OK]
        if failed:
            raise ServerRowsError(_message(failed[0], pgconn))


class ServerRowsError(Exception):
    """The server refused or aborted the COPY (the message is PostgreSQL's)."""


def _drain(pgconn: Any) -> list[Any]:
    results = []
    while (result := pgconn.get_result()) is not None:
        results.append(result)
    return results


def _message(result: Any, pgconn: Any) -> str:
    raw = (result.error_message if result is not None else b"") or pgconn.error_message or b"no result"
    return first_line(bytes(raw).decode(errors="replace"))


def server_rows(
    table: Table,
    columns: Sequence[Any],
    codecs: Sequence[ColumnCodec],
    order: Sequence[Any],
    dialect: Dialect,
    *,
    only: bool = False,
) -> ServerRows | None:
    """The server-side form of the dump of ``table``'s ``columns`` in ``order``, or None when a column needs
    the generic path. ``only``: the table's own rows, not its inheritance children's."""
    preparer = dialect.identifier_preparer
    fields: list[str] = []
    json_keys: list[str] = []
    for column, codec in zip(columns, codecs, strict=True):
        if not is_plain(column):
            return None
        value = f"b.{preparer.quote(column.name)}"
        expression = _expression(value, codec.kind, column)
        if expression is None:
            return None
        if codec.kind == "json":
            json_keys.append(codec.name)
        fields.append(f"{expression} AS {_quoted(codec.name)}")
    sort = ", ".join(f"b.{preparer.quote(column.name)}" for column in order)
    query = (
        f"SELECT row_to_json(r) FROM {'ONLY ' if only else ''}{preparer.format_table(table)} AS b"
        f" CROSS JOIN LATERAL (SELECT {', '.join(fields)}) AS r" + (f" ORDER BY {sort}" if sort else "")
    )
    sql = f"COPY ({query}) TO STDOUT WITH (FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02')"
    return ServerRows(sql, json_keys)


def _quoted(name: str) -> str:
    # Always quoted: the alias is the JSON key, and an unquoted one would be folded to lower case.
    return '"' + name.replace('"', '""') + '"'


def _expression(value: str, kind: str, column: Any) -> str | None:
    if kind in ("int", "bool", "str", "enum", "uuid"):
        return value
    if kind == "decimal":
        return f"{value}::text" if getattr(column.type, "asdecimal", False) else None
    if kind == "date":
        return _in_range(value, "date", f"to_char({value}, 'YYYY-MM-DD')")
    if kind == "datetime":
        aware = bool(getattr(column.type, "timezone", False))
        utc = f"({value} AT TIME ZONE 'UTC')" if aware else value
        text = (
            f"to_char({utc}, {_ISO_SECONDS})"
            f" || CASE WHEN date_trunc('second', {utc}) = {utc} THEN '' ELSE to_char({utc}, '.US') END"
            + (" || '+00:00'" if aware else "")
        )
        return _in_range(utc, "timestamp", text)
    if kind == "json":
        build = "jsonb_build_array" if _is_jsonb(column) else "json_build_array"
        return f"CASE WHEN {value} IS NULL THEN NULL ELSE {build}({value}) END"
    return None


def _in_range(value: str, sql_type: str, text: str) -> str:
    """``text`` for years 1-9999; otherwise a cast that fails with a message naming the value."""
    return (
        f"CASE WHEN {value} IS NULL THEN NULL"
        f" WHEN {value} >= {sql_type} '0001-01-01' AND {value} < {sql_type} '10000-01-01' THEN {text}"
        f" ELSE ('{_OUT_OF_RANGE}' || {value}::text)::{sql_type}::text END"
    )


def out_of_range_value(message: str) -> str | None:
    """The value quoted in a server error raised by ``_in_range``'s failing cast, if it is one."""
    start = message.find(_OUT_OF_RANGE)
    if start < 0:
        return None
    return message[start + len(_OUT_OF_RANGE) :].split('"', 1)[0]


def _is_jsonb(column: Any) -> bool:
    from sqlalchemy.dialects.postgresql import JSONB

    return isinstance(column.type, JSONB)


def _json_rewriter(json_keys: tuple[str, ...]) -> Callable[[Any], bytes]:
    """A row from the server → the generic path's line: JSON values unwrapped, wrapped as the codec does."""

    def rewrite(data: Any) -> bytes:
        raw = bytes(data)
        if raw[:1] == b"\x02":  # CSV-quoted: a json value kept a raw line break
            raw = raw[1 : raw.rindex(b"\x02")].replace(b"\x02\x02", b"\x02")
        row = orjson.loads(raw)
        for key in json_keys:
            held = row[key]
            if held is not None:
                row[key] = encode_json_value(held[0])
        return orjson.dumps(row) + b"\n"

    return rewrite

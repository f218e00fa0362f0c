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

import re
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from dbops.data.codec import ColumnCodec, encode_json_value, is_plain
from dbops.errors import first_line

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Dialect

__all__ = ["MariadbRows", "ServerRows", "ServerRowsError", "mariadb_rows", "out_of_range_value", "server_rows"]

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


# -- MariaDB ------------------------------------------------------------------------------------------------

_UPPER_ESCAPE = re.compile(rb"\\u00[01][A-F]")
_SAFE_LITERAL = re.compile(r"[A-Za-z0-9 _{}\":,-]*")


class MariadbRows:
    """The dump lines of one MariaDB table, formatted by the server (``CONCAT`` of ``JSON_QUOTE`` pieces).

    Per column (``c`` the column; ``null`` for SQL NULL):

    ========== ======================================================================================
    kind       server expression
    ========== ======================================================================================
    int        ``c``
    bool       ``true`` / ``false`` (SQLAlchemy reads any non-zero TINYINT as true)
    str, enum  ``JSON_QUOTE(c)``: orjson's escaping except ``\\u000B``-style upper-case hex for some
               control characters, put right here (a byte search per batch finds them)
    decimal    ``c`` in quotes (MariaDB's DECIMAL text is ``format(Decimal, 'f')``)
    uuid       the 32 hex digits, lower case, hyphenated (the column may hold CHAR(32) or UUID)
    date       ``DATE_FORMAT(c, '%Y-%m-%d')``
    datetime   ``DATE_FORMAT(c, '%Y-%m-%dT%H:%i:%s')`` and ``.%f`` when the microseconds aren't zero
    json       ``[c]`` (the text as stored); such pages are read and the rows written again by orjson
               here, which gives the generic path's bytes (it reads each value with orjson too)
    ========== ======================================================================================

    Other kinds, TypeDecorators and MySQL's ``SET`` keep the generic path; so does MySQL (its JSON functions
    are another implementation, not tested here). Dates the generic path can't hold (zero dates, years
    outside 1-9999) and values that aren't UUIDs come back as a NUL-marked text, an error naming the value.

    A table with a one-column primary key is read in pages of ``batch_size`` rows, one ``GROUP_CONCAT`` each,
    by key (``WHERE pk > :last ORDER BY pk LIMIT n``, all in the dump's snapshot): the driver (pymysql is
    pure Python) then parses one row per page instead of one per table row, which was most of the cost.
    Other tables stream one line per row.
    """

    def __init__(
        self, table_sql: str, line: str, order: Sequence[str], json_keys: Sequence[str], *, keyed: bool
    ) -> None:
        # run through sqlalchemy.text(), which would read ":name" in a quoted column name as a parameter
        self.line = _escape_colons(line)
        self.table_sql = _escape_colons(table_sql)
        self.order = tuple(_escape_colons(name) for name in order)
        self.json_keys = tuple(json_keys)
        self.keyed = keyed

    page_bytes = 1 << 30
    """The longest page ``GROUP_CONCAT`` builds (also capped by ``max_allowed_packet``); a longer one is read
    again row by row."""

    def batches(self, connection: Any, batch_size: int) -> Iterator[tuple[bytes, int]]:
        """``(lines, count)``: ``count`` rows, each ending in ``\\n``, read on the SQLAlchemy ``connection``."""
        if not self.keyed:
            yield from self._streamed(connection, batch_size)
            return
        from sqlalchemy import text

        limit = int(connection.exec_driver_sql("SELECT @@SESSION.group_concat_max_len").scalar_one())
        packet = int(connection.exec_driver_sql("SELECT @@max_allowed_packet").scalar_one())
        connection.exec_driver_sql(f"SET SESSION group_concat_max_len = {min(packet, self.page_bytes)}")
        key = self.order[0]
        try:
            last: Any = None
            while True:
                # always a parameter: without one the driver gets the text with SQLAlchemy's doubled "%"
                where, params = (
                    ("", {"rows": batch_size})
                    if last is None
                    else (f"WHERE {key} > :last", {"last": last, "rows": batch_size})
                )
                page = f"SELECT {key} AS k, {self.line} AS l FROM {self.table_sql} {where} ORDER BY {key} LIMIT :rows"
                # JSON values are in the lines as the server keeps their text (raw line breaks included)
                separator = "," if self.json_keys else "\\n"
                grouped = (
                    f"SELECT GROUP_CONCAT(p.l ORDER BY p.k SEPARATOR '{separator}'), COUNT(*), MAX(p.k)"
                    f" FROM ({page}) AS p"
                )
                joined, count, last = connection.execute(text(grouped), params).one()
                if not count:
                    return
                finished = self._page(_as_bytes(joined), count) if joined is not None else None
                if finished is None:  # cut at group_concat_max_len: the page row by row
                    lines = connection.execute(text(f"SELECT p.l FROM ({page}) AS p"), params).scalars().all()
                    finished = self._finished([_as_bytes(line) for line in lines])
                yield finished, count
                if count < batch_size:
                    return
        finally:
            connection.exec_driver_sql(f"SET SESSION group_concat_max_len = {limit}")

    def _streamed(self, connection: Any, batch_size: int) -> Iterator[tuple[bytes, int]]:
        from sqlalchemy import text

        order = ", ".join(self.order)
        statement = text(
            f"SELECT {self.line} FROM {self.table_sql}" + (f" ORDER BY {order}" if order else "") + " LIMIT :rows"
        )
        streaming = connection.execution_options(stream_results=True, yield_per=batch_size)
        result = streaming.execute(statement, {"rows": _ALL_ROWS})
        for partition in result.partitions():
            yield self._finished([_as_bytes(row[0]) for row in partition]), len(partition)

    def _page(self, data: bytes, count: int) -> bytes | None:
        """A page's ``GROUP_CONCAT`` as dump lines; None if it was cut short (it isn't ``count`` rows)."""
        if b"\x00" in data:
            raise ServerRowsError(_refused(data))
        if self.json_keys:
            try:
                rows = orjson.loads(b"[" + data + b"]")
            except orjson.JSONDecodeError:
                return None
            return self._rewritten(rows) if len(rows) == count else None
        if data.count(b"\n") + 1 != count:
            return None
        return self._escapes_fixed(data + b"\n")

    def _finished(self, lines: list[bytes]) -> bytes:
        """The server's lines as the generic path writes them."""
        if any(b"\x00" in line for line in lines):
            raise ServerRowsError(_refused(b"".join(lines)))
        if self.json_keys:
            try:
                rows = [orjson.loads(line) for line in lines]
            except orjson.JSONDecodeError as error:
                raise ServerRowsError(f"a JSON column holds text that isn't JSON ({error})") from None
            return self._rewritten(rows)
        return self._escapes_fixed(b"".join(line + b"\n" for line in lines))

    def _rewritten(self, rows: list[Any]) -> bytes:
        """Rows with JSON values as ``[value]`` (SQL NULL as null) → lines with the codec's JSON forms."""
        keys = self.json_keys
        out = []
        for row in rows:
            for key in keys:
                held = row[key]
                if held is not None:
                    row[key] = encode_json_value(held[0])
            out.append(orjson.dumps(row))
        return b"\n".join(out) + b"\n"

    def _escapes_fixed(self, data: bytes) -> bytes:
        """``JSON_QUOTE``'s upper-case ``\\u001F`` escapes in orjson's lower case (the line re-encoded)."""
        if _UPPER_ESCAPE.search(data):
            return b"".join(
                orjson.dumps(orjson.loads(line)) + b"\n" if _UPPER_ESCAPE.search(line) else line + b"\n"
                for line in data[:-1].split(b"\n")
            )
        return data


def _refused(data: bytes) -> str:
    """What a NUL-marked value (``_bad``) says: ``<kind> <value>``."""
    marked = data.split(b"\x00", 2)[1].decode(errors="replace")
    kind, _, value = marked.partition(" ")
    if kind == "date":
        return f"a date or timestamp {value!r} is a zero date or outside the years 1-9999"
    return f"{value!r} is not a UUID"


_ALL_ROWS = 2**64 - 1
"""MariaDB's way to say "no limit" (a parameter, as in ``batches``)."""


def _escape_colons(sql: str) -> str:
    return re.sub(r":(?=[\w$])", r"\\:", sql)


def _as_bytes(value: Any) -> bytes:
    return value.encode() if isinstance(value, str) else bytes(value)


def mariadb_rows(
    table: Table,
    columns: Sequence[Any],
    codecs: Sequence[ColumnCodec],
    order: Sequence[Any],
    dialect: Dialect,
) -> MariadbRows | None:
    """The server-side form of the dump of ``table``'s ``columns`` in ``order`` on MariaDB, or None when a
    column (or the database) needs the generic path."""
    if not getattr(dialect, "is_mariadb", False):
        return None
    preparer = dialect.identifier_preparer
    pieces: list[str] = []
    json_keys: list[str] = []
    for index, (column, codec) in enumerate(zip(columns, codecs, strict=True)):
        if not is_plain(column) or _is_mysql_set(column):
            return None
        value = _unescaped(preparer, preparer.quote(column.name))
        expression = _mariadb_expression(value, codec.kind, column)
        if expression is None:
            return None
        if codec.kind == "json":
            json_keys.append(codec.name)
        key = ("{" if index == 0 else ",") + orjson.dumps(codec.name).decode() + ":"
        pieces += [_mariadb_literal(key), f"IFNULL({expression}, 'null')"]
    if not pieces:
        return None
    pieces.append("'}'")
    line = f"CONCAT({', '.join(pieces)})"
    sort = [_unescaped(preparer, preparer.quote(column.name)) for column in order]
    keyed = len(table.primary_key.columns) == 1 and list(order) == list(table.primary_key.columns)
    return MariadbRows(_unescaped(preparer, preparer.format_table(table)), line, sort, json_keys, keyed=keyed)


def _unescaped(preparer: Any, name: str) -> str:
    """A quoted name without the preparer's doubled ``%`` (for ``format`` drivers): ``text()`` doubles them."""
    return name.replace("%%", "%") if getattr(preparer, "_double_percents", False) else name


def _mariadb_literal(text: str) -> str:
    """A utf8mb4 string literal whatever the sql_mode (``NO_BACKSLASH_ESCAPES`` or not)."""
    if _SAFE_LITERAL.fullmatch(text):
        return f"'{text}'"
    return f"_utf8mb4 X'{text.encode().hex()}'"


def _bad(kind: str, value: str) -> str:
    """What the server writes instead of a value the dump can't hold: NUL-marked, since no JSON text holds a
    raw NUL, so a batch without one (``bytes.__contains__``, a memchr) needs no check per row."""
    nul = "CHAR(0 USING utf8mb4)"
    return f"CONCAT({nul}, '{kind} ', CONVERT({value}, CHAR), {nul})"


def _mariadb_expression(value: str, kind: str, column: Any) -> str | None:
    if kind == "int":
        return value
    if kind == "bool":
        return f"CASE WHEN {value} IS NULL THEN NULL WHEN {value} THEN 'true' ELSE 'false' END"
    if kind in ("str", "enum"):
        return f"JSON_QUOTE(CONVERT({value} USING utf8mb4))"
    if kind == "decimal":
        return f"CONCAT('\"', {value}, '\"')" if getattr(column.type, "asdecimal", False) else None
    if kind == "uuid":
        # what uuid.UUID() accepts: upper or lower case, with or without hyphens, braces, urn:uuid:
        digits = f"LOWER(REPLACE(REPLACE(REPLACE(REPLACE({value}, 'urn:uuid:', ''), '-', ''), '{{', ''), '}}', ''))"
        hyphenated = f"INSERT(INSERT(INSERT(INSERT({digits}, 21, 0, '-'), 17, 0, '-'), 13, 0, '-'), 9, 0, '-')"
        return f"IF({digits} REGEXP '^[0-9a-f]{{32}}$', CONCAT('\"', {hyphenated}, '\"'), {_bad('uuid', value)})"
    if kind in ("date", "datetime"):
        text = f"DATE_FORMAT({value}, '%Y-%m-%d')"
        if kind == "datetime":
            text = (
                f"DATE_FORMAT({value}, '%Y-%m-%dT%H:%i:%s'),"
                f" IF(MICROSECOND({value}) = 0, '', DATE_FORMAT({value}, '.%f'))"
            )
        return (
            f"IF(YEAR({value}) BETWEEN 1 AND 9999 AND MONTH({value}) > 0 AND DAYOFMONTH({value}) > 0,"
            f" CONCAT('\"', {text}, '\"'), {_bad('date', value)})"
        )
    if kind == "json":
        # the text itself, in brackets so that SQL NULL (null) and JSON null ([null]) stay apart; orjson reads
        # the whole page, as the generic path reads each value (``encode_json_text``), and writes it back
        return f"CONCAT('[', CONVERT({value} USING utf8mb4), ']')"
    return None


def _is_mysql_set(column: Any) -> bool:
    from sqlalchemy.dialects.mysql import SET

    return isinstance(column.type, SET)

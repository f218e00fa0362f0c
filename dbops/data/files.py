"""Data files: atomic, checksummed writing and streaming reading of ``.json``/``.jsonl`` (optionally gzipped).

A ``.json`` file dbops writes is a JSON array with one row object per line::

    [
    {"id":1,"name":"a"},
    {"id":2,"name":"b"}
    ]

so it is at once a valid JSON document (an Advanced Alchemy fixture) and streamable line by line. ``.jsonl``
is one object per line. Gzip output has no name or timestamp in its header, so it is deterministic too.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from dbops.errors import DataError

__all__ = [
    "AtomicWriter",
    "data_file_name",
    "file_digest",
    "is_data_file",
    "iter_rows",
    "table_name_of",
]

_SUFFIXES = (".json", ".jsonl", ".json.gz", ".jsonl.gz")


def data_file_name(table: str, file_format: str, *, compress: bool) -> str:
    return f"{table}.{file_format}" + (".gz" if compress else "")


def is_data_file(path: Path) -> bool:
    return path.name != "manifest.json" and path.name.endswith(_SUFFIXES) and not path.name.startswith(".")


def table_name_of(path: Path) -> str:
    """``books.json.gz`` → ``books``."""
    name = path.name
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


class _HashingFile:
    """A binary file wrapper that hashes and counts what goes through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.sha256 = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()


class AtomicWriter:
    """Write ``path`` through a temporary name in the same directory; rename into place only on ``commit``.

    A process killed mid-write leaves at most a ``.name.tmp-PID`` file, never a file under the final name.
    """

    def __init__(self, path: Path, *, compress: bool = False, buffer_size: int = 1 << 20) -> None:
        self.path = path
        self.temp_path = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        self._raw = self.temp_path.open("wb", buffering=buffer_size)
        self._hashing = _HashingFile(self._raw)
        self._gzip: gzip.GzipFile | None = None
        self._out: Any = self._hashing
        if compress:
            self._gzip = gzip.GzipFile(filename="", mode="wb", fileobj=self._hashing, mtime=0, compresslevel=6)
            self._out = self._gzip
        self.write = self._out.write

    @property
    def sha256(self) -> str:
        return self._hashing.sha256.hexdigest()

    def commit(self) -> None:
        if self._gzip is not None:
            self._gzip.close()
        self._raw.flush()
        os.fsync(self._raw.fileno())
        self._raw.close()
        Path(self.temp_path).replace(self.path)

    def discard(self) -> None:
        with contextlib.suppress(Exception):
            if self._gzip is not None:
                self._gzip.close()
        self._raw.close()
        self.temp_path.unlink(missing_ok=True)

    def __enter__(self) -> AtomicWriter:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


def _open(path: Path) -> IO[bytes]:
    try:
        if path.name.endswith(".gz"):
            return gzip.open(path, "rb")  # type: ignore[return-value]
        return path.open("rb")
    except OSError as error:
        raise DataError(f"{path}: cannot open: {error.strerror or error}") from error


def file_digest(path: Path) -> tuple[str, int]:
    """sha256 of the file's bytes, and the number of row lines in it (for a dbops-written file)."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as raw:
            for chunk in iter(lambda: raw.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as error:
        raise DataError(f"{path}: cannot read: {error.strerror or error}") from error
    lines = 0
    try:
        with _open(path) as stream:
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                lines += chunk.count(b"\n")
    except (OSError, EOFError) as error:
        raise DataError(f"{path}: cannot read: {error}") from error
    if not path.name.endswith((".jsonl", ".jsonl.gz")):
        lines -= 2  # the "[" and "]" lines
    return digest.hexdigest(), max(lines, 0)


def _malformed(path: Path, row: int, error: Exception) -> DataError:
    reason = str(error).split(":", 1)[0] if str(error) else "invalid JSON"
    return DataError(f"{path} row {row}: malformed JSON ({reason})")


def iter_rows(path: Path, *, strict: bool) -> Iterator[tuple[int, Any]]:
    """Yield ``(row_number, object)`` from a data file, 1-based, streaming.

    ``strict`` (a file listed in a dbops manifest) requires dbops' line layout. Otherwise a ``.json`` file
    that isn't laid out one row per line (a hand-written fixture) is parsed whole.
    """
    jsonl = path.name.endswith((".jsonl", ".jsonl.gz"))
    with _open(path) as stream:
        try:
            first = stream.readline()
        except (OSError, EOFError) as error:
            raise DataError(f"{path}: cannot read: {error}") from error
        if jsonl:
            yield from _iter_jsonl(path, first, stream)
            return
        if first.strip() != b"[":
            if strict:
                raise DataError(f"{path} row 1: malformed JSON (expected the file to start with '[')")
            yield from _whole_file(path)
            return
        row = 0
        fallback = False
        ended = False
        try:
            while not ended and not fallback:
                block = stream.readlines(1 << 20)
                if not block:
                    break
                for index, line in enumerate(block):
                    if line.rstrip(b"\r\n") == b"]":
                        block, ended = block[:index], True
                        break
                parsed = _parse_block(block)
                if parsed is not None:  # the common case: one orjson call for ~1 MB of rows
                    for value in parsed:
                        row += 1
                        yield row, value
                    continue
                for line in block:
                    row += 1
                    stripped = line.rstrip(b"\r\n")
                    text = stripped[:-1] if stripped.endswith(b",") else stripped
                    try:
                        value = orjson.loads(text)
                    except orjson.JSONDecodeError as error:
                        if not strict and row == 1:
                            fallback = True
                            break
                        raise _malformed(path, row, error) from error
                    if not isinstance(value, dict):
                        if not strict and row == 1:
                            fallback = True
                            break
                        raise DataError(f"{path} row {row}: expected a JSON object, got {type(value).__name__}")
                    yield row, value
            if strict and not ended:
                raise DataError(f"{path} row {row + 1}: malformed JSON (the file ends without ']')")
        except (OSError, EOFError) as error:
            raise DataError(f"{path}: cannot read: {error}") from error
    if fallback:
        yield from _whole_file(path)


def _parse_block(lines: list[bytes]) -> list[dict[str, Any]] | None:
    """Rows of a block of ``{...},`` lines in one parse, or None when the block isn't exactly one object a line."""
    if not lines:
        return []
    text = b"".join(lines).rstrip()
    if text.endswith(b","):
        text = text[:-1]
    try:
        values = orjson.loads(b"[" + text + b"]")
    except orjson.JSONDecodeError:
        return None
    if len(values) != len(lines) or not all(type(value) is dict for value in values):
        return None
    return values  # type: ignore[no-any-return]


def _iter_jsonl(path: Path, first: bytes, stream: IO[bytes]) -> Iterator[tuple[int, Any]]:
    row = 0

    def lines() -> Iterator[bytes]:
        yield first
        yield from stream

    try:
        for line in lines():
            if not line.strip():
                continue
            row += 1
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError as error:
                raise _malformed(path, row, error) from error
            if not isinstance(value, dict):
                raise DataError(f"{path} row {row}: expected a JSON object, got {type(value).__name__}")
            yield row, value
    except (OSError, EOFError) as error:
        raise DataError(f"{path}: cannot read: {error}") from error


def _whole_file(path: Path) -> Iterator[tuple[int, Any]]:
    with _open(path) as stream:
        data = stream.read()
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise DataError(f"{path} line {error.lineno}, column {error.colno}: malformed JSON") from error
    if not isinstance(value, list):
        raise DataError(f"{path}: expected a JSON list of objects, got {type(value).__name__}")
    for row, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            raise DataError(f"{path} row {row}: expected a JSON object, got {type(item).__name__}")
        yield row, item

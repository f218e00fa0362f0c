"""Data files: safe names, atomic and checksummed writing, a staged dump directory, bounded streaming reads.

A ``.json`` file dbops writes is a JSON array with one row object per line::

    [
    {"id":1,"name":"a"},
    {"id":2,"name":"b"}
    ]

so it is at once a valid JSON document (an Advanced Alchemy fixture) and streamable line by line. ``.jsonl``
is one object per line. Gzip output has no name or timestamp in its header, so it is deterministic too.

Dump directories are a closed world: file names are derived from table names by escaping (no separators, no
``..``, no NUL, length-limited, unique even on case-insensitive file systems), a manifest may only name plain
files inside its directory, and files of a dump are opened without following symbolic links. A dump is
written into a hidden sibling directory and swapped in whole when complete (``StagedDirectory``), so an
existing dump survives a dump that fails or is killed. A dump on object storage (``s3://...``) has no rename
and is committed by its manifest instead (``dbops.data.objects``); it plugs in here through ``dump_destination``
(the writing side) and ``StreamFile`` (the reading side: every reader below takes a local path or one). Reading
is bounded: a row (a line) may hold at most
``MAX_ROW_BYTES``, and a hand-formatted fixture parsed whole at most as much.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import gzip
import hashlib
import os
import re
import secrets
import shutil
import sys
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol, Union

import orjson

from dbops.errors import DataError

if TYPE_CHECKING:
    from dbops.data.manifest import Manifest
    from dbops.data.objects import ObjectDestination, ObjectFolder

__all__ = [
    "DATA_SUFFIXES",
    "MAX_ROW_BYTES",
    "AtomicWriter",
    "DataPath",
    "FileWriter",
    "StagedDirectory",
    "StreamFile",
    "check_file_name",
    "check_folder_name",
    "count_rows",
    "data_file_name",
    "dump_destination",
    "file_digest",
    "is_data_file",
    "is_object_url",
    "is_temporary_file",
    "iter_rows",
    "looks_like_dbops_file",
    "open_writer",
    "read_small_file",
    "table_name_of",
]

DATA_SUFFIXES = (".json", ".jsonl", ".json.gz", ".jsonl.gz")
MAX_ROW_BYTES = 64 << 20
"""The largest row (one line of a data file) a load reads, and the largest fixture parsed as one document."""
MAX_STEM = 100
"""Characters of a data file's name before its suffix: far below every file system's 255-byte limit."""
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{n}" for n in range(10)), *(f"LPT{n}" for n in range(10))}
_CHUNK = 1 << 20
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class StreamFile(Protocol):
    """A dump file that is no local path (an object in a bucket): what the readers here need of it."""

    @property
    def name(self) -> str: ...

    def open_raw(self) -> IO[bytes]:
        """The file's bytes as a stream; an OSError when they can't be read."""
        ...

    def is_symlink(self) -> bool: ...

    def is_file(self) -> bool: ...


DataPath = Union[Path, StreamFile]
"""Where a data file is: a local path, or a file on object storage."""


def is_object_url(location: object) -> bool:
    """Whether ``--dir`` names object storage (``s3://bucket/prefix``, ``gs://``, ``az://``, ``file://``)."""
    return isinstance(location, str) and bool(_URL.match(location))


# -- names ------------------------------------------------------------------------------------------------


def _escape(name: str) -> str:
    out = []
    for index, char in enumerate(name):
        if (char.isascii() and (char.isalnum() or char in "_-")) or (char == "." and index > 0):
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
    stem = "".join(out)
    if stem.split(".", 1)[0].upper() in _WINDOWS_RESERVED:
        stem = f"%{ord(stem[0]):02X}{stem[1:]}"
    return stem


def _digest(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:10]


def data_file_name(table: str, file_format: str, *, compress: bool, taken: set[str] | None = None) -> str:
    """The file name for ``table``'s rows: the name with anything but ``[A-Za-z0-9_-.]`` percent-escaped.

    Unique among ``taken`` (compared case-insensitively; the name is added to it): a name too long, or one
    colliding with another after escaping or case-folding, gets ``~`` and a digest of the real name.
    """
    suffix = f".{file_format}" + (".gz" if compress else "")
    stem = _escape(table)
    if len(stem) > MAX_STEM:
        stem = stem[: MAX_STEM - 11].rstrip("%0123456789ABCDEF") + "~" + _digest(table)
    seen = taken if taken is not None else set()
    name = stem + suffix
    if name.lower() in seen:
        name = stem[: MAX_STEM - 11] + "~" + _digest(table) + suffix
    counter = 1
    while name.lower() in seen:
        counter += 1
        name = f"{stem[: MAX_STEM - 11]}~{_digest(table)}-{counter}{suffix}"
    seen.add(name.lower())
    return name


def check_file_name(name: str) -> str | None:
    """Why ``name`` can't be a file of a dump directory (a manifest entry), or None when it can."""
    if not name.endswith(DATA_SUFFIXES):
        return "is not a data file name (*.json, *.jsonl, optionally .gz)"
    if any(char in name for char in "/\\\x00:") or name.startswith("."):
        return "is not a plain file name inside the dump directory"
    if len(name.encode("utf-8", "surrogatepass")) > 255:
        return "is too long for a file name"
    return None


def check_folder_name(name: str) -> str | None:
    """Why ``name`` can't be the folder a manifest keeps its table files in, or None when it can."""
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}", name):  # no separator, not "." or "..", not hidden
        return "is not a plain folder name inside the dump (letters, digits, '_', '-', '.')"
    return None


def is_data_file(path: Path) -> bool:
    return path.name != "manifest.json" and path.name.endswith(DATA_SUFFIXES) and not path.name.startswith(".")


def is_temporary_file(path: Path) -> bool:
    """A file ``AtomicWriter`` had not finished (``.name.tmp-PID``): the mark of an interrupted write."""
    return bool(_TEMP_FILE.match(path.name))


def table_name_of(path: Path) -> str:
    """``books.json.gz`` → ``books``."""
    name = path.name
    for suffix in sorted(DATA_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


# -- writing ----------------------------------------------------------------------------------------------


class _HashingFile:
    """A binary file wrapper that hashes and counts what goes through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()


class FileWriter:
    """Write a data file through ``write``, hashed (and gzipped with ``compress``); ``commit`` or ``discard`` it.

    As a context manager it commits when the block ends normally and discards on an error. Subclasses say where
    the bytes go: ``AtomicWriter`` (a local file) and ``objects.ObjectWriter`` (an object upload).
    """

    def __init__(self, raw: Any, *, compress: bool) -> None:
        self._raw = raw
        self._hashing = _HashingFile(raw)
        self._gzip: gzip.GzipFile | None = None
        self._out: Any = self._hashing
        if compress:
            self._gzip = gzip.GzipFile(filename="", mode="wb", fileobj=self._hashing, mtime=0, compresslevel=6)
            self._out = self._gzip
        self.write = self._out.write

    @property
    def sha256(self) -> str:
        return self._hashing.sha256.hexdigest()

    @property
    def size(self) -> int:
        """Bytes written (after compression)."""
        return self._hashing.size

    def _finish(self) -> None:
        if self._gzip is not None:
            self._gzip.close()

    def commit(self) -> None:
        raise NotImplementedError

    def discard(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> FileWriter:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


class AtomicWriter(FileWriter):
    """Write ``path`` through a temporary name in the same directory; rename into place only on ``commit``.

    A process killed mid-write leaves at most a ``.name.tmp-PID`` file, never a file under the final name.
    """

    def __init__(self, path: Path, *, compress: bool = False, buffer_size: int = 1 << 20) -> None:
        self.path = path
        self.temp_path = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        super().__init__(self.temp_path.open("wb", buffering=buffer_size), compress=compress)

    def commit(self) -> None:
        self._finish()
        self._raw.flush()
        os.fsync(self._raw.fileno())
        self._raw.close()
        Path(self.temp_path).replace(self.path)

    def discard(self) -> None:
        with contextlib.suppress(Exception):
            self._finish()
        self._raw.close()
        self.temp_path.unlink(missing_ok=True)

    def __enter__(self) -> AtomicWriter:
        return self


def open_writer(folder: Path | ObjectFolder, name: str, *, compress: bool = False) -> FileWriter:
    """A writer for the dump file ``name`` in ``folder`` (a staging directory, or a dump's folder in a bucket)."""
    if isinstance(folder, Path):
        return AtomicWriter(folder / name, compress=compress)
    return folder.open_writer(name, compress=compress)


def dump_destination(directory: Path | str) -> StagedDirectory | ObjectDestination:
    """Where a dump goes: a directory staged beside ``directory``, or object storage for a URL."""
    if is_object_url(directory):
        from dbops.data.objects import ObjectDestination

        return ObjectDestination(str(directory))
    return StagedDirectory(Path(directory))


_STAGING = re.compile(r"^\.(?P<name>.+)\.dbops-(?P<pid>\d+)-[0-9a-f]{8}\.(?P<kind>new|old)$")
_TEMP_FILE = re.compile(r"^\..+\.tmp-\d+$")


class StagedDirectory:
    """A dump written into ``.NAME.dbops-PID-RANDOM.new`` beside ``target``, swapped in by ``commit``.

    ``target`` is replaced whole, so it may only hold a dump: a ``manifest.json``, the files it lists and
    temporary files of earlier dbops runs (otherwise ``DataError``, before anything is written). The swap
    is one ``renameat2(RENAME_EXCHANGE)`` on Linux; elsewhere two renames, and a process killed between
    them leaves the previous dump as ``.NAME.dbops-PID-RANDOM.old``, which the next dump puts back first.
    Leftovers of dumps whose process is gone are removed when the next dump of ``target`` starts.
    """

    def __init__(self, target: Path) -> None:
        self.location = target
        """The target as given (what results report)."""
        self.target = target.resolve() if target.exists() else target.absolute()
        self.parent = self.target.parent
        self.path = self.parent / f".{self.target.name}.dbops-{os.getpid()}-{secrets.token_hex(4)}.new"

    def check_target(self) -> None:
        """Refuse a target that holds anything a dump didn't write (it would be lost in the swap)."""
        from dbops.data.manifest import MANIFEST_NAME, read_manifest

        if not self.target.exists():
            return
        if not self.target.is_dir():
            raise DataError(f"{self.target}: exists and is not a directory")
        entries = sorted(self.target.iterdir())
        listed: set[str] = set()
        manifest = self.target / MANIFEST_NAME
        if manifest.is_file() and not manifest.is_symlink():
            try:
                listed = {entry.file for entry in read_manifest(manifest).tables}
            except DataError:
                listed = set()
        foreign = [
            entry.name
            for entry in entries
            if not (
                (entry.name == MANIFEST_NAME and listed)
                or entry.name in listed
                or (is_temporary_file(entry) and entry.is_file())
            )
        ]
        if foreign:
            shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
            raise DataError(
                f"{self.target}: holds {shown}, which {'is' if len(foreign) == 1 else 'are'} not part of a dbops "
                "dump; a dump replaces its directory whole: dump into an empty or new directory"
            )

    def clean_leftovers(self) -> None:
        """Put back a previous dump a killed swap left aside, then remove dead dumps' staging directories."""
        try:
            siblings = list(self.parent.iterdir())
        except OSError:
            return
        mine = [(match, path) for path in siblings if (match := _STAGING.match(path.name))]
        mine = [(match, path) for match, path in mine if match["name"] == self.target.name]
        dead = [(match, path) for match, path in mine if not _alive(int(match["pid"]))]
        if not self.target.exists():
            for match, path in dead:
                if match["kind"] == "old" and (path / "manifest.json").is_file():
                    with contextlib.suppress(OSError):
                        path.rename(self.target)
                        break
        for _, path in dead:
            if path.exists():
                shutil.rmtree(path, ignore_errors=True)

    def __enter__(self) -> Path:
        try:
            self.parent.mkdir(parents=True, exist_ok=True)
            self.path.mkdir()
        except OSError as error:
            raise DataError(f"cannot create the dump beside {self.target}: {error.strerror or error}") from error
        return self.path

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is not None:
            shutil.rmtree(self.path, ignore_errors=True)

    def commit(self, manifest: Manifest) -> None:
        """Write ``manifest`` and make the staged directory ``target``; the previous dump is removed afterwards."""
        from dbops.data.manifest import MANIFEST_NAME

        with AtomicWriter(self.path / MANIFEST_NAME) as writer:
            writer.write(manifest.to_bytes())
        _fsync_directory(self.path)
        if not self.target.exists():
            self.path.rename(self.target)
        elif _exchange(self.path, self.target):
            shutil.rmtree(self.path, ignore_errors=True)  # it holds the previous dump now
        else:
            aside = self.path.with_name(self.path.name[: -len(".new")] + ".old")
            self.target.rename(aside)
            self.path.rename(self.target)
            shutil.rmtree(aside, ignore_errors=True)
        _fsync_directory(self.parent)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync_directory(path: Path) -> None:
    with contextlib.suppress(OSError):
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2``); False where the system can't."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):  # no renameat2, or a file system without exchange
        return False
    raise OSError(code, os.strerror(code), str(second))


# -- reading ----------------------------------------------------------------------------------------------


def _open(path: DataPath, *, follow_symlinks: bool = True) -> IO[bytes]:
    try:
        if not isinstance(path, Path):
            raw = path.open_raw()
        elif follow_symlinks:
            raw = path.open("rb")
        else:
            descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            raw = os.fdopen(descriptor, "rb")
    except OSError as error:
        if isinstance(path, Path) and (error.errno == errno.ELOOP or (not follow_symlinks and path.is_symlink())):
            raise DataError(f"{path}: is a symbolic link; a dump directory holds only its own files") from error
        raise DataError(f"{path}: cannot open: {error.strerror or error}") from error
    if path.name.endswith(".gz"):
        unzipped = gzip.GzipFile(fileobj=raw, mode="rb")
        unzipped.myfileobj = raw  # type: ignore[assignment]  # closed with it
        return unzipped  # type: ignore[return-value]
    return raw


def read_small_file(path: DataPath, limit: int) -> bytes:
    """A whole file (not through a symbolic link), refused past ``limit`` bytes."""
    try:
        with _open(path, follow_symlinks=False) as stream:
            data = stream.read(limit + 1)
    except (OSError, EOFError) as error:
        raise DataError(f"{path}: cannot read: {error}") from error
    if len(data) > limit:
        raise DataError(f"{path}: larger than {limit >> 20} MB")
    return data


def file_digest(path: DataPath, *, follow_symlinks: bool = True) -> tuple[str, int]:
    """sha256 of the file's bytes, and the number of lines that can hold rows (a hint: ``count_rows`` is exact)."""
    digest = hashlib.sha256()
    try:
        if isinstance(path, Path):
            descriptor = os.open(path, os.O_RDONLY | (0 if follow_symlinks else getattr(os, "O_NOFOLLOW", 0)))
            opened: IO[bytes] = os.fdopen(descriptor, "rb")
        else:
            opened = path.open_raw()
        with opened as raw:
            for chunk in iter(lambda: raw.read(_CHUNK), b""):
                digest.update(chunk)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise DataError(f"{path}: is a symbolic link; a dump directory holds only its own files") from error
        raise DataError(f"{path}: cannot read: {error.strerror or error}") from error
    lines = 0
    try:
        with _open(path, follow_symlinks=follow_symlinks) as stream:
            for chunk in iter(lambda: stream.read(_CHUNK), b""):
                lines += chunk.count(b"\n")
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise DataError(f"{path}: cannot read: {error}") from error
    if not path.name.endswith((".jsonl", ".jsonl.gz")):
        lines -= 2  # the "[" and "]" lines
    return digest.hexdigest(), max(lines, 0)


def count_rows(path: DataPath, *, follow_symlinks: bool = True, max_row_bytes: int = MAX_ROW_BYTES) -> int:
    """The number of rows in a data file, by parsing it."""
    return sum(1 for _ in iter_rows(path, follow_symlinks=follow_symlinks, max_row_bytes=max_row_bytes))


def looks_like_dbops_file(path: DataPath) -> bool:
    """Whether a data file has the exact layout dbops writes (a ``[`` line, then compact one-row lines)."""
    try:
        with _open(path) as stream:
            first = stream.readline(_CHUNK)
            if path.name.endswith((".jsonl", ".jsonl.gz")):
                row = first
            elif first != b"[\n":
                return False
            else:
                row = stream.readline(_CHUNK)
                if row == b"]\n":
                    return True
    except (OSError, EOFError, DataError, gzip.BadGzipFile):
        return False
    text = row.rstrip(b"\n")
    text = text[:-1] if text.endswith(b",") else text
    try:
        return bool(text) and orjson.dumps(orjson.loads(text)) == text
    except orjson.JSONDecodeError:
        return False


def _malformed(path: DataPath, row: int, error: Exception) -> DataError:
    reason = str(error).split(":", 1)[0] if str(error) else "invalid JSON"
    return DataError(f"{path} row {row}: malformed JSON ({reason})")


class _TooLong(Exception):
    pass


def _line_blocks(stream: IO[bytes], limit: int) -> Iterator[list[bytes]]:
    """The stream's lines (without ``\\n``) in blocks of about 1 MB; ``_TooLong`` for a line over ``limit``."""
    parts: list[bytes] = []
    pending = 0
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            if parts:
                yield [b"".join(parts)]
            return
        end = chunk.rfind(b"\n")
        if end < 0:
            parts.append(chunk)
            pending += len(chunk)
            if pending > limit:
                raise _TooLong
            continue
        head = chunk[: end + 1]
        if parts:
            head = b"".join(parts) + head
        lines = head.split(b"\n")
        lines.pop()  # the empty piece after the last newline
        too_long = next((index for index, line in enumerate(lines) if len(line) > limit), None)
        if too_long is not None:
            if too_long:
                yield lines[:too_long]  # so the error names the right row
            raise _TooLong
        tail = chunk[end + 1 :]
        parts = [tail] if tail else []
        pending = len(tail)
        yield lines


def iter_rows(
    path: DataPath, *, follow_symlinks: bool = True, max_row_bytes: int = MAX_ROW_BYTES
) -> Iterator[tuple[int, Any]]:
    """Yield ``(row_number, object)`` from a data file, 1-based, streaming, in bounded memory.

    A ``.json`` file in dbops' line layout is read line by line; one that isn't (a hand-formatted fixture)
    is parsed whole, if it is at most ``max_row_bytes``. A line longer than that is refused.
    """
    jsonl = path.name.endswith((".jsonl", ".jsonl.gz"))
    reader = _RowReader(path, max_row_bytes)
    with _open(path, follow_symlinks=follow_symlinks) as stream:
        try:
            if jsonl:
                yield from reader.jsonl(stream)
                return
            first = stream.readline(max_row_bytes + 1)
            if first.strip() == b"[":
                layout = yield from reader.lines(stream)
                if layout:
                    return
        except _TooLong:
            raise DataError(
                f"{path} row {reader.row + 1}: longer than {max_row_bytes >> 20} MB; "
                f"a row may hold at most that (--max-row-size)"
            ) from None
        except (OSError, EOFError, gzip.BadGzipFile) as error:
            raise DataError(f"{path}: cannot read: {error}") from error
    yield from _whole_file(path, follow_symlinks=follow_symlinks, limit=max_row_bytes)


class _RowReader:
    def __init__(self, path: DataPath, limit: int) -> None:
        self.path = path
        self.limit = limit
        self.row = 0

    def lines(self, stream: IO[bytes]) -> Generator[tuple[int, Any], None, bool]:
        """Rows of a file after its ``[`` line; returns False (nothing yielded) if row 1 is not one line."""
        path = self.path
        for block in _line_blocks(stream, self.limit):
            after: list[bytes] | None = None
            for index, line in enumerate(block):
                if line.rstrip(b"\r") == b"]":
                    block, after = block[:index], block[index + 1 :]
                    break
            parsed = _parse_block(block)
            if parsed is not None:  # the common case: one orjson call for ~1 MB of rows
                for value in parsed:
                    self.row += 1
                    yield self.row, value
            else:
                for line in block:
                    stripped = line.rstrip(b"\r")
                    text = stripped[:-1] if stripped.endswith(b",") else stripped
                    try:
                        value = orjson.loads(text)
                    except orjson.JSONDecodeError as error:
                        if self.row == 0:
                            return False
                        raise _malformed(path, self.row + 1, error) from error
                    if type(value) is not dict:
                        if self.row == 0:
                            return False
                        raise DataError(
                            f"{path} row {self.row + 1}: expected a JSON object, got {type(value).__name__}"
                        )
                    self.row += 1
                    yield self.row, value
            if after is not None:
                if b"".join(after).strip() or stream.read(_CHUNK).strip():
                    raise DataError(f"{path} row {self.row + 1}: malformed JSON (data after the closing ']')")
                return True
        if self.row == 0:
            return False
        raise DataError(f"{path} row {self.row + 1}: malformed JSON (the file ends without ']')")

    def jsonl(self, stream: IO[bytes]) -> Iterator[tuple[int, Any]]:
        for block in _line_blocks(stream, self.limit):
            for line in block:
                if not line.strip():
                    continue
                try:
                    value = orjson.loads(line)
                except orjson.JSONDecodeError as error:
                    raise _malformed(self.path, self.row + 1, error) from error
                if type(value) is not dict:
                    raise DataError(
                        f"{self.path} row {self.row + 1}: expected a JSON object, got {type(value).__name__}"
                    )
                self.row += 1
                yield self.row, value


def _parse_block(lines: list[bytes]) -> list[dict[str, Any]] | None:
    """Rows of a block of ``{...},`` lines in one parse, or None when the block isn't exactly one object a line."""
    if not lines:
        return []
    text = b"\n".join(lines).rstrip()
    if text.endswith(b","):
        text = text[:-1]
    try:
        values = orjson.loads(b"[" + text + b"]")
    except orjson.JSONDecodeError:
        return None
    if len(values) != len(lines) or not all(type(value) is dict for value in values):
        return None
    return values  # type: ignore[no-any-return]


def _whole_file(path: DataPath, *, follow_symlinks: bool, limit: int) -> Iterator[tuple[int, Any]]:
    try:
        with _open(path, follow_symlinks=follow_symlinks) as stream:
            data = stream.read(limit + 1)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise DataError(f"{path}: cannot read: {error}") from error
    if len(data) > limit:
        raise DataError(
            f"{path}: not one row per line and larger than {limit >> 20} MB, too large to parse as one document; "
            "write it as JSON lines (.jsonl)"
        )
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise DataError(f"{path} line {error.lineno}, column {error.colno}: malformed JSON") from error
    del data
    if not isinstance(value, list):
        raise DataError(f"{path}: expected a JSON list of objects, got {type(value).__name__}")
    for row, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            raise DataError(f"{path} row {row}: expected a JSON object, got {type(item).__name__}")
        yield row, item

"""``manifest.json``: what a dump holds, written last, read and verified first.

A manifest is input like any other: every field is type-checked when it is read, and a table's ``file`` must
be a plain file name inside the dump directory (``files.check_file_name``), so a crafted manifest can't make a
load read outside the directory. Version 1 manifests (no ``counters``) are still read.

A dump on object storage (``dbops.data.objects``) adds two fields a local dump leaves out (so local manifests
are as before): ``folder``, the one plain folder name its table files are under (each dump has its own: there
is no rename to swap a dump in), and each table's ``size`` in bytes, checked before a byte is downloaded.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from dbops.data.counters import Counter
from dbops.data.files import DataPath, check_file_name, check_folder_name, read_small_file
from dbops.errors import DataError

__all__ = ["MANIFEST_NAME", "ColumnInfo", "Manifest", "TableEntry", "read_manifest"]

MANIFEST_NAME = "manifest.json"
FORMAT = "dbops-dump"
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
MAX_MANIFEST_BYTES = 64 << 20


@dataclass
class ColumnInfo:
    name: str
    type: str
    kind: str
    nullable: bool


@dataclass
class TableEntry:
    name: str
    """The table's real name (``schema.name`` outside the default schema)."""
    file: str
    """Its file in the dump directory: derived from the name but escaped (``files.data_file_name``)."""
    rows: int
    sha256: str
    primary_key: list[str]
    depends_on: list[str]
    columns: list[ColumnInfo]
    size: int | None = None
    """Bytes of the file (object-storage dumps; omitted from local manifests)."""


@dataclass
class Manifest:
    """Tables are listed in foreign-key dependency order (parents first)."""

    dbops_version: str
    dialect: str
    created_at: str
    alembic_revision: str | None
    bind_key: str | None
    tables: list[TableEntry] = field(default_factory=list)
    counters: list[Counter] = field(default_factory=list)
    format: str = FORMAT
    format_version: int = FORMAT_VERSION
    folder: str | None = None
    """The folder, beside the manifest, holding the table files (object-storage dumps; else omitted)."""

    def to_bytes(self) -> bytes:
        data = asdict(self)
        if data["folder"] is None:
            del data["folder"]
        for table in data["tables"]:
            if table["size"] is None:
                del table["size"]
        return orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n"

    def kinds(self, table: str) -> dict[str, str]:
        """Column name → codec kind the dump recorded for ``table``."""
        entry = next((entry for entry in self.tables if entry.name == table), None)
        return {column.name: column.kind for column in entry.columns} if entry else {}


class _Malformed(Exception):
    pass


def _get(raw: dict[str, Any], key: str, kind: Any, where: str, *, optional: bool = False) -> Any:
    if key not in raw:
        if optional:
            return None
        raise _Malformed(f"{where}: no {key!r}")
    value = raw[key]
    if value is None and optional:
        return None
    if (kind is int and isinstance(value, bool)) or not isinstance(value, kind):
        raise _Malformed(f"{where}: {key!r} is {type(value).__name__}, not {getattr(kind, '__name__', kind)}")
    return value


def _strings(raw: dict[str, Any], key: str, where: str) -> list[str]:
    value = _get(raw, key, list, where)
    if not all(isinstance(item, str) for item in value):
        raise _Malformed(f"{where}: {key!r} must be a list of strings")
    return list(value)


def _column_pair(value: Any, where: str) -> list[str]:
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(item, str) for item in value)):
        raise _Malformed(f"{where}: a column must be [table, column]")
    return list(value)


def _table(raw: Any, index: int) -> TableEntry:
    where = f"table {index + 1}"
    if not isinstance(raw, dict):
        raise _Malformed(f"{where} is not an object")
    name = _get(raw, "name", str, where)
    where = f"table {name!r}"
    if not name or "\x00" in name:
        raise _Malformed(f"{where}: not a table name")
    file_name = _get(raw, "file", str, where)
    problem = check_file_name(file_name)
    if problem:
        raise _Malformed(f"{where}: file {file_name!r} {problem}")
    rows = _get(raw, "rows", int, where)
    if rows < 0:
        raise _Malformed(f"{where}: negative row count")
    size = _get(raw, "size", int, where, optional=True)
    if size is not None and size < 0:
        raise _Malformed(f"{where}: negative size")
    columns = []
    for position, column in enumerate(_get(raw, "columns", list, where)):
        at = f"{where} column {position + 1}"
        if not isinstance(column, dict):
            raise _Malformed(f"{at} is not an object")
        columns.append(
            ColumnInfo(
                _get(column, "name", str, at),
                _get(column, "type", str, at),
                _get(column, "kind", str, at),
                _get(column, "nullable", bool, at),
            )
        )
    return TableEntry(
        name=name,
        file=file_name,
        rows=rows,
        sha256=_get(raw, "sha256", str, where),
        primary_key=_strings(raw, "primary_key", where),
        depends_on=_strings(raw, "depends_on", where),
        columns=columns,
        size=size,
    )


def _counter(raw: Any, index: int) -> Counter:
    where = f"counter {index + 1}"
    if not isinstance(raw, dict):
        raise _Malformed(f"{where} is not an object")
    owned = raw.get("owned_by")
    return Counter(
        kind=_get(raw, "kind", str, where),
        name=_get(raw, "name", str, where),
        value=_get(raw, "value", int, where),
        is_called=bool(_get(raw, "is_called", bool, where, optional=True) in (True, None)),
        owned_by=None if owned is None else _column_pair(owned, where),
        used_by=[_column_pair(item, where) for item in (_get(raw, "used_by", list, where, optional=True) or [])],
    )


def read_manifest(path: DataPath) -> Manifest:
    """Parse and check ``manifest.json``; anything that isn't a well-formed dbops manifest is a one-line DataError."""
    try:
        raw: Any = orjson.loads(read_small_file(path, MAX_MANIFEST_BYTES))
    except orjson.JSONDecodeError as error:
        raise DataError(f"{path} line {error.lineno}, column {error.colno}: malformed JSON") from error
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise DataError(f'{path}: not a dbops manifest (no "format": "{FORMAT}")')
    version = raw.get("format_version")
    if isinstance(version, bool) or version not in READABLE_VERSIONS:
        raise DataError(f"{path}: unsupported manifest version {version!r}")
    try:
        tables = [_table(entry, index) for index, entry in enumerate(_get(raw, "tables", list, "manifest"))]
        counters = [_counter(entry, index) for index, entry in enumerate(raw.get("counters") or [])]
        manifest = Manifest(
            dbops_version=_get(raw, "dbops_version", str, "manifest"),
            dialect=_get(raw, "dialect", str, "manifest"),
            created_at=_get(raw, "created_at", str, "manifest"),
            alembic_revision=_get(raw, "alembic_revision", str, "manifest", optional=True),
            bind_key=_get(raw, "bind_key", str, "manifest", optional=True),
            tables=tables,
            counters=counters,
            format_version=version,
            folder=_get(raw, "folder", str, "manifest", optional=True),
        )
        problem = check_folder_name(manifest.folder) if manifest.folder is not None else None
        if problem:
            raise _Malformed(f"folder {manifest.folder!r} {problem}")
    except _Malformed as error:
        raise DataError(f"{path}: malformed manifest ({error})") from None
    names: dict[str, str] = {}
    files: dict[str, str] = {}
    for entry in tables:
        if entry.name in names:
            raise DataError(f"{path}: malformed manifest (table {entry.name!r} is listed twice)")
        if entry.file.lower() in files:
            raise DataError(
                f"{path}: malformed manifest (tables {files[entry.file.lower()]!r} and {entry.name!r} share a file)"
            )
        names[entry.name] = entry.file
        files[entry.file.lower()] = entry.name
    return manifest

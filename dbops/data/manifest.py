"""``manifest.json``: what a dump holds, written last, read and verified first."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from dbops.errors import DataError

__all__ = ["MANIFEST_NAME", "ColumnInfo", "Manifest", "TableEntry", "read_manifest"]

MANIFEST_NAME = "manifest.json"
FORMAT = "dbops-dump"
FORMAT_VERSION = 1


@dataclass
class ColumnInfo:
    name: str
    type: str
    kind: str
    nullable: bool


@dataclass
class TableEntry:
    name: str
    file: str
    rows: int
    sha256: str
    primary_key: list[str]
    depends_on: list[str]
    columns: list[ColumnInfo]


@dataclass
class Manifest:
    """Tables are listed in foreign-key dependency order (parents first)."""

    dbops_version: str
    dialect: str
    created_at: str
    alembic_revision: str | None
    bind_key: str | None
    tables: list[TableEntry] = field(default_factory=list)
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def to_bytes(self) -> bytes:
        return orjson.dumps(asdict(self), option=orjson.OPT_INDENT_2) + b"\n"


def read_manifest(path: Path) -> Manifest:
    """Parse ``manifest.json``; anything that isn't a dbops manifest is a one-line DataError."""
    try:
        raw: Any = orjson.loads(path.read_bytes())
    except OSError as error:
        raise DataError(f"{path}: cannot read: {error.strerror or error}") from error
    except orjson.JSONDecodeError as error:
        raise DataError(f"{path} line {error.lineno}, column {error.colno}: malformed JSON") from error
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise DataError(f'{path}: not a dbops manifest (no "format": "{FORMAT}")')
    if raw.get("format_version") != FORMAT_VERSION:
        raise DataError(f"{path}: unsupported manifest version {raw.get('format_version')!r}")
    try:
        tables = [
            TableEntry(**{**entry, "columns": [ColumnInfo(**column) for column in entry["columns"]]})
            for entry in raw["tables"]
        ]
        return Manifest(**{**raw, "tables": tables})
    except (KeyError, TypeError) as error:
        raise DataError(f"{path}: malformed manifest ({error})") from error

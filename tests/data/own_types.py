"""Models on every dbops base and mixin, with a column of every dbops column type, and rows of edge values.

``COVERED_TYPES`` / ``NOT_COLUMN_TYPES`` and ``COVERED_BASES`` / ``NOT_BASES`` classify every public name of
``dbops.types`` and ``dbops.base``; ``test_own_types`` checks the classification is complete and true, so a
new type or base can't be added without a round-trip test here.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from dbops import base
from dbops.sessions.model import SessionModelMixin
from dbops.storage.data_type import StoredObject
from dbops.types import GUID, DateTimeUTC, EncryptedString, EncryptedText, JsonB

KEY = "dt-test-key"


class DtEveryType(base.UUIDBase):
    """One column per dbops column type (and GUID's text form), all nullable so NULL round-trips too."""

    __tablename__ = "dt_every_type"

    guid: Mapped[Optional[uuid.UUID]] = mapped_column(GUID())
    guid_text: Mapped[Optional[uuid.UUID]] = mapped_column(GUID(binary=False))
    moment: Mapped[Optional[dt.datetime]] = mapped_column(DateTimeUTC())
    doc: Mapped[Optional[dict[str, Any]]] = mapped_column(JsonB)
    secret: Mapped[Optional[str]] = mapped_column(EncryptedString(key=KEY, length=40))
    essay: Mapped[Optional[str]] = mapped_column(EncryptedText(key=KEY))
    file: Mapped[Optional[Any]] = mapped_column(StoredObject("dt-local"))
    files: Mapped[Optional[Any]] = mapped_column(StoredObject("dt-local", multiple=True))


class DtUuidAudit(base.UUIDAuditBase):
    __tablename__ = "dt_uuid_audit"
    name: Mapped[str] = mapped_column(sa.String(50))


class DtUuid7(base.UUIDv7Base):
    __tablename__ = "dt_uuid7"
    parent_id: Mapped[Optional[uuid.UUID]] = mapped_column(sa.ForeignKey("dt_uuid_audit.id"))


class DtUuid7Audit(base.UUIDv7AuditBase):
    __tablename__ = "dt_uuid7_audit"
    name: Mapped[str] = mapped_column(sa.String(50))


class DtBigInt(base.BigIntBase):
    __tablename__ = "dt_bigint"
    name: Mapped[str] = mapped_column(sa.String(50))


class DtBigIntAudit(base.BigIntAuditBase):
    __tablename__ = "dt_bigint_audit"
    bigint_id: Mapped[int] = mapped_column(sa.ForeignKey("dt_bigint.id"))


class DtOwnKey(base.DefaultBase):
    """DefaultBase with the mixins composed by hand (the way a project with its own key type does)."""

    __tablename__ = "dt_own_key"
    code: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    seen: Mapped[dt.datetime] = mapped_column(DateTimeUTC())


class DtMixins(base.UUIDv7PrimaryKey, base.AuditColumns, base.DefaultBase):
    __tablename__ = "dt_mixins"


class DtIntMixins(base.BigIntPrimaryKey, base.DefaultBase):
    __tablename__ = "dt_int_mixins"


class DtRandomKey(base.UUIDPrimaryKey, base.DefaultBase):
    __tablename__ = "dt_random_key"


class DtSession(SessionModelMixin):
    __tablename__ = "dt_session"


MODELS: list[type[base.DefaultBase]] = [
    DtEveryType,
    DtUuidAudit,
    DtUuid7,
    DtUuid7Audit,
    DtBigInt,
    DtBigIntAudit,
    DtOwnKey,
    DtMixins,
    DtIntMixins,
    DtRandomKey,
    DtSession,
]

COVERED_TYPES = {"GUID", "DateTimeUTC", "EncryptedString", "EncryptedText", "JsonB", "StoredObject"}
NOT_COLUMN_TYPES = {
    "FernetBackend": "the encryption backend behind EncryptedString",
    "FileObject": "the Python value of a StoredObject column",
    "FileObjectList": "the Python value of a StoredObject(multiple=True) column",
    "StorageBackend": "the protocol of storage backends",
    "StorageRegistry": "the registry of storage backends",
    "storages": "the process-wide StorageRegistry",
    "utcnow": "a default function",
    "uuid7": "a default function",
}
COVERED_BASES = {
    "DefaultBase": DtOwnKey,
    "UUIDBase": DtEveryType,
    "UUIDAuditBase": DtUuidAudit,
    "UUIDv7Base": DtUuid7,
    "UUIDv7AuditBase": DtUuid7Audit,
    "BigIntBase": DtBigInt,
    "BigIntAuditBase": DtBigIntAudit,
    "UUIDPrimaryKey": DtRandomKey,
    "UUIDv7PrimaryKey": DtMixins,
    "BigIntPrimaryKey": DtIntMixins,
    "AuditColumns": DtMixins,
    "CommonTableAttributes": DtOwnKey,
}
NOT_BASES = {
    "ModelProtocol": "a typing protocol",
    "orm_registry": "the registry every base maps into",
    "table_name_for": "a function",
    "touch_updated_timestamp": "the before_flush listener",
    "TOUCH_UPDATED_TIMESTAMP_KEY": "a session.info key",
}


def metadata() -> sa.MetaData:
    """The test models' tables alone (the dbops bases share one MetaData with other tests' models)."""
    only = sa.MetaData()
    for model in MODELS:
        model.__table__.to_metadata(only)  # type: ignore[attr-defined]
    return only


def _file(name: str, size: int) -> dict[str, Any]:
    return {
        "backend": "dt-local",
        "filename": name,
        "path": f"uploads/{name}",
        "content_type": "text/plain",
        "size": size,
        "etag": None,
        "last_modified": "2024-02-29T12:00:00.000001+00:00",
        "checksum": "sha256:" + "0" * 64,
        "metadata": {"ünï": [1, None]},
    }


def rows() -> dict[str, list[dict[str, Any]]]:
    """Edge values for every column: offsets other than UTC, microseconds, the lowest and highest UUIDs."""
    offset = dt.timezone(dt.timedelta(hours=-9, minutes=-30))
    moments = [
        dt.datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=offset),
        dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc),
        dt.datetime(2000, 1, 1, 0, 0, 0, 1, tzinfo=dt.timezone(dt.timedelta(hours=14))),
    ]
    every = [
        {
            "id": uuid.UUID(int=index + 1),
            "guid": [uuid.UUID(int=0), uuid.UUID(int=2**128 - 1), uuid.uuid4()][index],
            "guid_text": [uuid.UUID(int=2**128 - 1), uuid.uuid4(), uuid.UUID(int=0)][index],
            "moment": moments[index],
            "doc": [{"a": [1, 2.5, None], "b": {"c": "ü"}}, [], {"$json": None}][index],
            "secret": ["", "p@ss wörd 🎉", "x" * 40][index],
            "essay": ["long " * 200, "", "line\nbreak\ttab"][index],
            "file": [_file("a.txt", 3), None, _file("b ü.txt", 0)][index],
            "files": [[_file("c.txt", 1), _file("d.txt", 2)], [], None][index],
        }
        for index in range(3)
    ]
    every.append({"id": uuid.UUID(int=99), **{key: None for key in every[0] if key != "id"}})
    audit = [{"id": uuid.UUID(int=10 + index), "name": f"n{index}", "created_at": moments[index]} for index in range(3)]
    return {
        "dt_every_type": every,
        "dt_uuid_audit": audit,
        "dt_uuid7": [{"parent_id": audit[0]["id"]}, {"parent_id": None}],
        "dt_uuid7_audit": [{"name": "x"}, {"name": "y", "updated_at": moments[2]}],
        "dt_bigint": [{"id": 0, "name": "zero"}, {"id": 7, "name": "seven"}, {"name": "next"}],
        "dt_bigint_audit": [{"bigint_id": 0}, {"bigint_id": 7}],
        "dt_own_key": [{"code": "k1", "seen": moments[0]}, {"code": "", "seen": moments[1]}],
        "dt_mixins": [{}, {}],
        "dt_int_mixins": [{}, {"id": 100}],
        "dt_random_key": [{}],
        "dt_session": [
            {"session_id": "s1", "data": b"\x00\xff", "expires_at": moments[0]},
            {"session_id": "CaseId", "data": b"", "expires_at": moments[2]},
        ],
    }

"""The models the hostile-input tests' configs use, defined once per process on a bind key of their own."""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from dbops.base import BigIntBase
from dbops.metadata import NAMING_CONVENTION
from dbops.sessions import SessionModelMixin
from dbops.types import FileObject
from dbops.types.file_object.data_type import StoredObject

BIND_KEY = "hostile_tests"


class HostileSession(SessionModelMixin):
    __tablename__ = "hostile_sessions"
    __bind_key__ = BIND_KEY


class HostileDocument(BigIntBase):
    __tablename__ = "hostile_document"
    __bind_key__ = BIND_KEY

    name: Mapped[str] = mapped_column(String(100))
    file: Mapped[FileObject | None] = mapped_column(StoredObject(backend="hostile_docs"), nullable=True)


# Tables made by SQL in the tests (a TEXT column holding StoredObject values, as a hand-made schema would):
# the metadata only describes them.
FILES_METADATA = MetaData(naming_convention=NAMING_CONVENTION)
FILES = Table(
    "hostile_files",
    FILES_METADATA,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("file", StoredObject(backend="hostile_src"), nullable=True),
)
AUTHORS = Table(
    "author",
    FILES_METADATA,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(100), nullable=False, unique=True),  # uq_author_name by the naming convention
)

"""Plain DeclarativeBase models with StoredObject columns, shared by the storage tests and their configs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dbops.types import FileObject
from dbops.types.file_object.data_type import StoredObject


class Base(DeclarativeBase):
    metadata = MetaData()


class Document(Base):
    __tablename__ = "storage_document"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    file: Mapped[FileObject | None] = mapped_column(StoredObject(backend="docs"), nullable=True)


class Gallery(Base):
    __tablename__ = "storage_gallery"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(100))
    images: Mapped[list[Any] | None] = mapped_column(StoredObject(backend="docs", multiple=True), nullable=True)

"""Models the repository/service tests use (distinct table names: other areas' tests share the metadata)."""

from __future__ import annotations

import datetime
from typing import Any, Optional
from uuid import UUID

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dbops import base
from dbops.types import EncryptedString, JsonB


class RtAuthorModel(base.UUIDAuditBase):
    __tablename__ = "rt_author"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    dob: Mapped[Optional[datetime.date]]
    bio: Mapped[Optional[str]] = mapped_column(String(200))
    books: Mapped[list[RtBookModel]] = relationship(back_populates="author", lazy="raise")


class RtBookModel(base.UUIDv7AuditBase):
    __tablename__ = "rt_book"
    __table_args__ = (CheckConstraint("pages >= 0", name="pages_positive"),)

    title: Mapped[str] = mapped_column(String(100))
    pages: Mapped[int] = mapped_column(default=0)
    author_id: Mapped[UUID] = mapped_column(ForeignKey("rt_author.id"))
    author: Mapped[RtAuthorModel] = relationship(back_populates="books", lazy="raise")


class RtCounterModel(base.BigIntAuditBase):
    __tablename__ = "rt_counter"
    __table_args__ = (UniqueConstraint("kind", "slot"),)

    kind: Mapped[str] = mapped_column(String(20))
    slot: Mapped[int]
    value: Mapped[int] = mapped_column(default=0)
    extra: Mapped[Optional[dict[str, Any]]] = mapped_column(JsonB)


class RtSecretModel(base.UUIDBase):
    __tablename__ = "rt_secret"

    label: Mapped[str] = mapped_column(String(50))
    token: Mapped[Optional[str]] = mapped_column(EncryptedString(key="s3cret", length=64))
    seen_at: Mapped[Optional[datetime.datetime]]


TABLES = [RtAuthorModel.__table__, RtBookModel.__table__, RtCounterModel.__table__, RtSecretModel.__table__]


class RtEnrollmentModel(base.DefaultBase, base.AuditColumns):
    """A composite primary key (student_id, course), as an association table of a real app has."""

    __tablename__ = "rt_enrollment"

    student_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    course: Mapped[str] = mapped_column(String(20), primary_key=True)
    grade: Mapped[Optional[str]] = mapped_column(String(2))
    seat: Mapped[Optional[int]] = mapped_column(unique=True)


COMPOSITE_TABLES = [RtEnrollmentModel.__table__]


class RtItemModel(base.BigIntAuditBase):
    """Rows for the filter tests: a nullable boolean, a nullable number, a nullable choice."""

    __tablename__ = "rt_item"

    name: Mapped[str] = mapped_column(String(30), unique=True)
    active: Mapped[Optional[bool]]
    score: Mapped[Optional[int]]
    kind: Mapped[Optional[str]] = mapped_column(String(5))
    tags: Mapped[list[RtTagModel]] = relationship(lazy="raise")


class RtTagModel(base.BigIntBase):
    __tablename__ = "rt_tag"

    item_id: Mapped[int] = mapped_column(ForeignKey("rt_item.id"))
    label: Mapped[str] = mapped_column(String(10))


FILTER_TABLES = [RtItemModel.__table__, RtTagModel.__table__]

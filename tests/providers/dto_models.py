"""Models for the SQLAlchemyDTO tests: plain DeclarativeBase ones and a MappedAsDataclass one (the seed's UserModel)."""

from __future__ import annotations

import datetime
import functools
import uuid
from typing import TYPE_CHECKING, Optional

from sqlalchemy import ColumnElement, DateTime, ForeignKey, String, func, select
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import DeclarativeBase, Mapped, MappedAsDataclass, column_property, mapped_column, relationship

if TYPE_CHECKING:
    from decimal import Decimal


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


class Base(DeclarativeBase):
    pass


class LabelMixin:
    """A mixin whose properties the DTO must find."""

    @property
    def shout(self) -> str:
        return str(getattr(self, "name", getattr(self, "title", ""))).upper()

    @property
    def _secret(self) -> str:
        return "hidden"


class AuthorModel(LabelMixin, Base):
    __tablename__ = "dto_author"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(100))
    dob: Mapped[Optional[datetime.date]]
    country: Mapped[str] = mapped_column(String(2), default="FR")
    books: Mapped[list[BookModel]] = relationship(back_populates="author", lazy="selectin", order_by="BookModel.title")

    @hybrid_property
    def name_length(self) -> int:
        return len(self.name)

    @hybrid_property
    def upper_name(self) -> str:
        return self.name.upper()

    @upper_name.inplace.setter
    def _upper_name_setter(self, value: str) -> None:
        self.name = value.lower()

    @upper_name.inplace.expression
    @classmethod
    def _upper_name_expression(cls) -> ColumnElement[str]:
        # SQL-safe at class level: the declarative constructor accepts only names the class has
        return func.upper(cls.name)

    @functools.cached_property
    def initials(self) -> str:
        return "".join(part[:1] for part in self.name.split())

    @property
    def nickname(self) -> str:
        return self.name.split()[0]

    @nickname.setter
    def nickname(self, value: str) -> None:
        self.name = value

    @property
    def untyped(self):  # type: ignore[no-untyped-def]
        return 1

    @property
    def price(self) -> Decimal:
        """Typed with a name only imported under TYPE_CHECKING: served as Any."""
        from decimal import Decimal

        return Decimal("1.5")


class TitleMixin:
    """Its ``title`` property is shadowed by BookModel's column: SQLAlchemy handles that name."""

    @property
    def title(self) -> int:
        return 0


class BookModel(TitleMixin, LabelMixin, Base):
    __tablename__ = "dto_book"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))  # type: ignore[assignment]  # shadows TitleMixin's, on purpose
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dto_author.id"))
    author: Mapped[AuthorModel] = relationship(back_populates="books", lazy="joined")
    author_name: Mapped[str] = column_property(
        select(AuthorModel.name).where(AuthorModel.id == author_id).correlate_except(AuthorModel).scalar_subquery()
    )
    author_view: Mapped[Optional[AuthorModel]] = relationship(viewonly=True)


class UserModel(MappedAsDataclass, Base, kw_only=True):
    """The seed's UserModel shape: dataclass fields, audit columns set on flush, two properties."""

    __tablename__ = "dto_user"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default_factory=uuid.uuid4, init=False)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default_factory=utcnow, init=False)
    updated_at: Mapped[datetime.datetime] = mapped_column(
        DateTime(timezone=True), default_factory=utcnow, init=False, onupdate=utcnow
    )
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    nickname: Mapped[Optional[str]] = mapped_column(String(100), default=None)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @functools.cached_property
    def name_length(self) -> int:
        return len(self.full_name)


__all__ = ["AuthorModel", "Base", "BookModel", "UserModel"]

"""Models of an app written against Advanced Alchemy's API, ported by changing its imports only.

``from advanced_alchemy.base import UUIDAuditBase`` became ``from dbops.base import UUIDAuditBase``; nothing
else differs from how the app would be written for Advanced Alchemy.
"""

from __future__ import annotations

import datetime
from typing import Optional
from uuid import UUID

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dbops.base import UUIDAuditBase


class PortAuthor(UUIDAuditBase):
    __tablename__ = "port_author"

    name: Mapped[str] = mapped_column(String(100))
    dob: Mapped[Optional[datetime.date]]
    books: Mapped[list[PortBook]] = relationship(
        back_populates="author", lazy="selectin", cascade="all, delete-orphan", order_by="PortBook.title"
    )


class PortBook(UUIDAuditBase):
    __tablename__ = "port_book"

    title: Mapped[str] = mapped_column(String(100))
    author_id: Mapped[UUID] = mapped_column(ForeignKey("port_author.id"))
    author: Mapped[PortAuthor] = relationship(back_populates="books", lazy="joined", innerjoin=True)


TABLES = [PortAuthor.__table__, PortBook.__table__]

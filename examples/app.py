"""The example app the README runs: a small library (authors and books) on an embedded SQLite file.

``dbops --config examples/app.py:db upgrade`` migrates it; it needs no server. The models use the config's
default metadata (``metadata_registry.get()``), so ``make-migrations`` sees them.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from dbops import AlembicAsyncConfig, SQLAlchemyAsyncConfig
from dbops.metadata import metadata_registry

HERE = Path(__file__).resolve().parent

db = SQLAlchemyAsyncConfig(
    connection_string=f"sqlite+aiosqlite:///{HERE / 'app.sqlite'}",
    alembic_config=AlembicAsyncConfig(script_location=str(HERE / "migrations")),
)


class Base(DeclarativeBase):
    metadata = metadata_registry.get()


class Author(Base):
    __tablename__ = "author"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    books: Mapped[list[Book]] = relationship(back_populates="author")


class Book(Base):
    __tablename__ = "book"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    author_id: Mapped[int] = mapped_column(ForeignKey("author.id"))
    author: Mapped[Author] = relationship(back_populates="books")

"""The shared MetaData objects dbops models register on, one per bind key.

A naming convention makes constraint and index names identical on every dialect, so autogenerate does not
churn when the same models meet SQLite, PostgreSQL and MariaDB.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import MetaData

__all__ = ["NAMING_CONVENTION", "MetaDataRegistry", "metadata_registry"]

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class MetaDataRegistry:
    """A MetaData per bind key (``None`` is the default bind), created on first use."""

    def __init__(self) -> None:
        self._registry: dict[str | None, MetaData] = {}

    def get(self, bind_key: str | None = None) -> MetaData:
        from sqlalchemy import MetaData

        if bind_key not in self._registry:
            self._registry[bind_key] = MetaData(naming_convention=NAMING_CONVENTION)
        return self._registry[bind_key]

    def set(self, bind_key: str | None, metadata: MetaData) -> None:
        self._registry[bind_key] = metadata

    def __contains__(self, bind_key: object) -> bool:
        return bind_key in self._registry


metadata_registry = MetaDataRegistry()

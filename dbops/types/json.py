"""``JsonB``: ``JSONB`` on PostgreSQL (indexable, compact), ``JSON`` on every other dialect."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import JSONB as PG_JSONB
from sqlalchemy.types import JSON

__all__ = ["JsonB"]

JsonB: JSON = JSON().with_variant(PG_JSONB(none_as_null=True), "postgresql")
"""Use as ``mapped_column(JsonB)``; ``Mapped[dict[str, Any]]`` columns on dbops bases get it by default."""

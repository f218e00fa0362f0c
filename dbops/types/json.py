"""``JsonB``: ``JSONB`` on PostgreSQL (indexable, compact), ``JSON`` on every other dialect.

Python ``None`` is SQL ``NULL`` on every dialect (``none_as_null``): a missing document, as an ``Optional``
column means, found by ``IS NULL`` and by filters for ``None``. SQLAlchemy's JSON would store JSON ``null``
elsewhere and SQL NULL on PostgreSQL only (JSONB here said so); to store JSON ``null`` itself, assign
``sqlalchemy.JSON.NULL``.
"""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import JSONB as PG_JSONB
from sqlalchemy.types import JSON

__all__ = ["JsonB"]

JsonB: JSON = JSON(none_as_null=True).with_variant(PG_JSONB(none_as_null=True), "postgresql")
"""Use as ``mapped_column(JsonB)``; ``Mapped[dict[str, Any]]`` columns on dbops bases get it by default."""

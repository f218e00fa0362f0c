"""The repository and service errors under the module name Advanced Alchemy apps import them from.

``from dbops.exceptions import NotFoundError`` is ``from dbops.errors import NotFoundError``: one set of
classes, two import paths. Advanced Alchemy's root ``AdvancedAlchemyError`` is ``DbopsError`` here (every dbops
error derives from it); ``detail=`` / ``.detail`` work as there.
"""

from __future__ import annotations

from dbops.errors import (
    ConfigError,
    DbopsError,
    DuplicateKeyError,
    FilterError,
    ForeignKeyError,
    ImproperConfigurationError,
    IntegrityError,
    MultipleResultsFoundError,
    NotFoundError,
    RepositoryError,
)
from dbops.repository._errors import wrap_sqlalchemy_exception

__all__ = [
    "ConfigError",
    "DbopsError",
    "DuplicateKeyError",
    "FilterError",
    "ForeignKeyError",
    "ImproperConfigurationError",
    "IntegrityError",
    "MultipleResultsFoundError",
    "NotFoundError",
    "RepositoryError",
    "wrap_sqlalchemy_exception",
]

"""How autogenerate writes dbops' column types into a revision: ``dbops.types.GUID()``, with the import.

Alembic renders a type it doesn't know as ``<user_module_prefix><repr(type)>``: with the usual ``sa.`` prefix
that was ``sa.GUID(length=16)``, which fails at ``upgrade`` (``module 'sqlalchemy' has no attribute 'GUID'``),
and ``JsonB`` came out as a variant naming ``Text()``, which the revision doesn't import. dbops' env.py passes
``render_item`` below: every type of ``dbops.types`` is written as ``dbops.types.<repr>`` (the reprs give the
arguments the model declared: ``GUID(binary=False)``, ``EncryptedString(length=64)`` without the key,
``StoredObject(backend='local', multiple=True)``), ``JsonB`` as ``dbops.types.JsonB``, and ``import
dbops.types`` is added to the revision's imports. Anything else is left to Alembic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

__all__ = ["chain_render_item", "render_item"]

IMPORT = "import dbops.types"

RenderItem = Callable[[str, Any, Any], "str | Literal[False]"]


def _is_jsonb(obj: Any) -> bool:
    from sqlalchemy import JSON
    from sqlalchemy.dialects.postgresql import JSONB

    from dbops.types import JsonB

    if obj is JsonB:
        return True
    variants = getattr(obj, "_variant_mapping", None) or {}
    postgres = variants.get("postgresql")
    return (
        type(obj) is JSON
        and obj.none_as_null
        and set(variants) == {"postgresql"}
        and type(postgres) is JSONB
        and postgres.none_as_null
    )


def _dbops_type_name(obj: Any) -> str | None:
    """The name ``dbops.types`` exports ``type(obj)`` as, if it is one of its types (not a subclass)."""
    cls = type(obj)
    if not cls.__module__.startswith("dbops."):
        return None
    import dbops.types

    try:
        exported = getattr(dbops.types, cls.__name__)
    except AttributeError:
        return None
    return cls.__name__ if exported is cls else None


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Alembic's ``render_item`` hook for dbops' column types (``False``: Alembic renders it)."""
    if type_ != "type":
        return False
    if _is_jsonb(obj):
        autogen_context.imports.add(IMPORT)
        return "dbops.types.JsonB"
    if _dbops_type_name(obj) is None:
        return False
    autogen_context.imports.add(IMPORT)
    return f"dbops.types.{obj!r}"


def chain_render_item(own: RenderItem | None) -> RenderItem:
    """An env.py's own ``render_item`` first, then dbops' for what it leaves to Alembic."""
    if own is None:
        return render_item

    def chained(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
        rendered = own(type_, obj, autogen_context)
        return rendered if rendered is not False else render_item(type_, obj, autogen_context)

    return chained

"""A migrations directory written in the style of a real project, for linting (offline: no server needed)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from dbops.config import AlembicAsyncConfig, AlembicSyncConfig, SQLAlchemyAsyncConfig, SQLAlchemySyncConfig

# Offline linting never connects: these URLs only choose the dialect.
OFFLINE_URLS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/lint_never_connected",
    "mysql": "mysql+pymysql://root@127.0.0.1:3306/lint_never_connected",
}

ENV_PY = "from dbops.migrations.environment import run_migrations\n\nrun_migrations()\n"

# The schema every rule case starts from: a library app's tables, as a first revision would create them.
BASE = """
op.create_table(
    "author",
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
)
op.create_table(
    "book",
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("title", sa.String(200)),
    sa.Column("author_id", sa.BigInteger),
    sa.Column("status", sa.Enum("draft", "published", "archived", name="book_status")),
    sa.Column("price", sa.Numeric(10, 2)),
)
op.create_index("ix_book_author_id", "book", ["author_id"])
"""


def write_revision(
    directory: Path, revision: str, down: str | tuple[str, ...] | None, body: str, message: str = ""
) -> Path:
    """A revision file whose upgrade() is ``body`` (any indentation; dedented)."""
    code = textwrap.indent(textwrap.dedent(body).strip() or "pass", "    ")
    path = directory / "versions" / f"{revision}.py"
    path.write_text(
        f'"""{message or revision}\n\nRevision ID: {revision}\n"""\n\n'
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        f"revision = {revision!r}\ndown_revision = {down!r}\nbranch_labels = None\ndepends_on = None\n\n\n"
        f"def upgrade() -> None:\n{code}\n\n\ndef downgrade() -> None:\n    pass\n"
    )
    return path


def make_project(
    folder: Path, url: str, revisions: list[tuple[str, Any, str]], *, is_async: bool = False, **alembic: Any
) -> Any:
    """``revisions``: ``(id, down_revision, body)`` in order. Returns a config for them on ``url`` (an async
    config with ``is_async``: then ``url`` must name an async driver)."""
    migrations = folder / "migrations"
    (migrations / "versions").mkdir(parents=True, exist_ok=True)
    (migrations / "env.py").write_text(ENV_PY)
    for revision, down, body in revisions:
        write_revision(migrations, revision, down, body)
    if is_async:
        return SQLAlchemyAsyncConfig(
            connection_string=url, alembic_config=AlembicAsyncConfig(script_location=str(migrations), **alembic)
        )
    return SQLAlchemySyncConfig(
        connection_string=url, alembic_config=AlembicSyncConfig(script_location=str(migrations), **alembic)
    )

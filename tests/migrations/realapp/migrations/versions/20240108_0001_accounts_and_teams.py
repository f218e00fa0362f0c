"""accounts and teams

Revision ID: 0001
Revises:
Create Date: 2024-01-08 10:12:31.402116

realapp migration (written from the app's own template)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organization",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column(
            "settings", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pkey_organization")),
        sa.UniqueConstraint("name", name=op.f("uniq_organization_name")),
        comment="A tenant: every other row belongs to one",
    )
    op.create_index(op.f("idx_organization_slug"), "organization", ["slug"], unique=True)
    op.create_table(
        "tag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pkey_tag")),
        sa.UniqueConstraint("name", name=op.f("uniq_tag_name")),
    )
    op.create_table(
        "team",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fkey_team_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pkey_team")),
        sa.UniqueConstraint("organization_id", "name", name=op.f("uniq_team_organization_id_name")),
    )
    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False, comment="Lower-cased on write"),
        sa.Column("display_name", sa.String(length=100), nullable=True),
        sa.Column("role", sa.Enum("owner", "admin", "member", name="user_role"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fkey_user_account_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pkey_user_account")),
        sa.UniqueConstraint("email", name=op.f("uniq_user_account_email")),
    )
    op.create_index(
        op.f("idx_user_account_organization_id_role"), "user_account", ["organization_id", "role"], unique=False
    )
    op.create_table(
        "team_member",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fkey_team_member_team_id_team"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fkey_team_member_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pkey_team_member")),
    )
    # Owned by the reporting service (env.py's include_object hides external_* tables from autogenerate).
    op.execute("CREATE TABLE external_metrics (id INTEGER PRIMARY KEY, name VARCHAR(50), value INTEGER)")
    op.create_index("ix_external_metrics_name", "external_metrics", ["name"])


def downgrade() -> None:
    op.drop_table("external_metrics")
    op.drop_table("team_member")
    op.drop_table("user_account")
    op.drop_table("team")
    op.drop_table("tag")
    op.drop_table("organization")
    sa.Enum(name="user_role").drop(op.get_bind(), checkfirst=True)

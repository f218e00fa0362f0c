"""projects, tasks and audit log

Revision ID: 0002
Revises: 0001
Create Date: 2024-02-15 16:40:02.118734

realapp migration (written from the app's own template)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "project",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=True, comment="Markdown"),
        sa.Column("status", sa.Enum("active", "archived", name="project_status"), nullable=False),
        sa.Column(
            "extra", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fkey_project_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pkey_project")),
        comment="Projects of an organization",
    )
    op.create_index(op.f("idx_project_organization_id"), "project", ["organization_id"], unique=False)
    op.create_table(
        "project_tag",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["project.id"], name=op.f("fkey_project_tag_project_id_project"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["tag_id"], ["tag.id"], name=op.f("fkey_project_tag_tag_id_tag"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("project_id", "tag_id", name=op.f("pkey_project_tag")),
    )
    op.create_table(
        "task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.Enum("todo", "doing", "done", name="task_status"), nullable=False),
        sa.Column("priority", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column(
            "payload", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.CheckConstraint("priority >= 0", name=op.f("chk_task_priority_positive")),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["user_account.id"], name=op.f("fkey_task_assignee_id_user_account"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["project.id"], name=op.f("fkey_task_project_id_project"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pkey_task")),
    )
    op.create_index(op.f("idx_task_project_id_status"), "task", ["project_id", "status"], unique=False)
    op.create_table(
        "task_comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user_account.id"], name=op.f("fkey_task_comment_author_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["task.id"], name=op.f("fkey_task_comment_task_id_task"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pkey_task_comment")),
    )
    op.create_index(op.f("idx_task_comment_task_id"), "task_comment", ["task_id"], unique=False)
    op.create_table(
        "attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"], ["task.id"], name=op.f("fkey_attachment_task_id_task"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pkey_attachment")),
        sa.UniqueConstraint("sha256", name=op.f("uniq_attachment_sha256")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column(
            "payload", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user_account.id"], name=op.f("fkey_audit_log_actor_id_user_account"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fkey_audit_log_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pkey_audit_log")),
    )
    op.create_index(op.f("idx_audit_log_action"), "audit_log", ["action"], unique=False)
    op.create_index(op.f("idx_audit_log_created_at"), "audit_log", ["created_at"], unique=False)
    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=8), nullable=False),
        sa.Column("hashed", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fkey_api_key_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pkey_api_key")),
        sa.UniqueConstraint("prefix", name=op.f("uniq_api_key_prefix")),
    )

    op.create_table(
        "web_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=255), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pkey_web_session")),
        sa.UniqueConstraint("session_id", name=op.f("uniq_web_session_session_id")),
    )
    op.create_index(op.f("idx_web_session_expires_at"), "web_session", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_table("web_session")
    op.drop_table("api_key")
    op.drop_table("audit_log")
    op.drop_table("attachment")
    op.drop_table("task_comment")
    op.drop_table("task")
    op.drop_table("project_tag")
    op.drop_table("project")
    sa.Enum(name="task_status").drop(op.get_bind(), checkfirst=True)
    sa.Enum(name="project_status").drop(op.get_bind(), checkfirst=True)

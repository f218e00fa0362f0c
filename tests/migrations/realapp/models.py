"""The app's models: thirteen tables with indexes, unique constraints, foreign keys, comments, enums and JSON."""

from __future__ import annotations

import datetime
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry

NAMING_CONVENTION = {
    "ix": "idx_%(table_name)s_%(column_0_N_name)s",
    "uq": "uniq_%(table_name)s_%(column_0_N_name)s",
    "ck": "chk_%(table_name)s_%(constraint_name)s",
    "fk": "fkey_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pkey_%(table_name)s",
}

JsonType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


class Base(DeclarativeBase):
    registry = registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={dict[str, Any]: JsonType, datetime.datetime: sa.DateTime(timezone=True)},
    )


class TaskStatus(enum.Enum):
    todo = "todo"
    doing = "doing"
    done = "done"


class Organization(Base):
    __tablename__ = "organization"
    __table_args__ = {"comment": "A tenant: every other row belongs to one"}

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    slug: Mapped[str] = mapped_column(sa.String(60), index=True, unique=True)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime.datetime] = mapped_column(server_default=sa.func.now())


class UserAccount(Base):
    __tablename__ = "user_account"
    __table_args__ = (sa.Index(None, "organization_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organization.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(sa.String(255), unique=True, comment="Lower-cased on write")
    display_name: Mapped[str | None] = mapped_column(sa.String(100))
    role: Mapped[str] = mapped_column(sa.Enum("owner", "admin", "member", name="user_role"))
    is_active: Mapped[bool] = mapped_column(server_default=sa.true())


class Team(Base):
    __tablename__ = "team"
    __table_args__ = (sa.UniqueConstraint("organization_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organization.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(100))


class TeamMember(Base):
    __tablename__ = "team_member"

    team_id: Mapped[int] = mapped_column(sa.ForeignKey("team.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    joined_at: Mapped[datetime.datetime] = mapped_column(server_default=sa.func.now())


class Tag(Base):
    __tablename__ = "tag"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50), unique=True)


class Project(Base):
    __tablename__ = "project"
    __table_args__ = {"comment": "Projects of an organization"}

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str | None] = mapped_column(sa.Text, comment="Markdown")
    status: Mapped[str] = mapped_column(sa.Enum("active", "archived", name="project_status"))
    extra: Mapped[dict[str, Any] | None]


project_tag = sa.Table(
    "project_tag",
    Base.metadata,
    sa.Column("project_id", sa.ForeignKey("project.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tag_id", sa.ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True),
)


class Task(Base):
    __tablename__ = "task"
    __table_args__ = (
        sa.Index(None, "project_id", "status"),
        sa.CheckConstraint("priority >= 0", name="priority_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("project.id", ondelete="CASCADE"))
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[TaskStatus] = mapped_column(sa.Enum(TaskStatus, name="task_status"))
    priority: Mapped[int] = mapped_column(sa.SmallInteger, server_default="0")
    due_date: Mapped[datetime.date | None]
    payload: Mapped[dict[str, Any] | None]


class TaskComment(Base):
    __tablename__ = "task_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("task.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime.datetime] = mapped_column(server_default=sa.func.now())


class Attachment(Base):
    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("task.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(sa.String(255))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)


class AuditLog(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organization.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(sa.String(50), index=True)
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime.datetime] = mapped_column(server_default=sa.func.now(), index=True)


class ApiKey(Base):
    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    prefix: Mapped[str] = mapped_column(sa.String(8), unique=True)
    hashed: Mapped[str] = mapped_column(sa.String(128))
    expires_at: Mapped[datetime.datetime | None]
    revoked: Mapped[bool] = mapped_column(server_default=sa.false())


class WebSession(Base):
    """Server-side sessions, in the app's own table (dbops' sessions commands find it by its shape)."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
    expires_at: Mapped[datetime.datetime] = mapped_column(index=True)

"""The small results the migration engine returns; the CLI renders them (text or JSON)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "CheckResult",
    "CurrentResult",
    "Difference",
    "InitResult",
    "MigrationRunResult",
    "RevisionInfo",
    "RevisionResult",
    "Step",
    "TemplateInfo",
]


def _revs(revisions: tuple[str, ...]) -> str:
    return ", ".join(revisions) if revisions else "<base>"


@dataclass(frozen=True)
class Step:
    """One migration (or stamp) step: ``upgrade a -> b, message``."""

    direction: str
    from_revisions: tuple[str, ...]
    to_revisions: tuple[str, ...]
    message: str = ""

    def __str__(self) -> str:
        text = f"{self.direction} {_revs(self.from_revisions)} -> {_revs(self.to_revisions)}"
        return f"{text}, {self.message}" if self.message else text


@dataclass
class MigrationRunResult:
    """What ``upgrade`` / ``downgrade`` / ``stamp`` did (or, with ``dry_run``, would do)."""

    command: str
    config: str
    steps: list[Step] = field(default_factory=list)
    sql: str | None = None
    dry_run: bool = False
    already_current: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RevisionInfo:
    """One revision script."""

    revision: str
    down_revisions: tuple[str, ...]
    message: str
    path: str
    is_head: bool = False
    is_branch_point: bool = False
    is_merge_point: bool = False
    branch_labels: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    long_doc: str = ""
    is_current: bool = False

    @property
    def tags(self) -> list[str]:
        return [
            tag
            for tag, on in (
                ("head", self.is_head),
                ("branchpoint", self.is_branch_point),
                ("mergepoint", self.is_merge_point),
                ("current", self.is_current),
            )
            if on
        ]

    def line(self) -> str:
        """``a1 -> b2 (head), message`` like Alembic's history lines."""
        tags = f" ({', '.join(self.tags)})" if self.tags else ""
        return f"{_revs(self.down_revisions)} -> {self.revision}{tags}, {self.message}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tags"] = self.tags
        return data


@dataclass
class RevisionResult:
    """A revision file ``make_migrations`` or ``merge`` wrote."""

    revision: str
    path: str
    message: str
    down_revisions: tuple[str, ...]
    operations: list[Difference] = field(default_factory=list)
    """What the revision's upgrade does, one ``Difference`` per autogenerate operation (``str()`` reads it)."""


@dataclass
class CurrentResult:
    """The revisions recorded in the database's version table, and the script heads."""

    config: str
    current: list[RevisionInfo]
    unknown: list[str]
    heads: list[str]

    @property
    def at_head(self) -> bool:
        return not self.unknown and sorted(r.revision for r in self.current) == sorted(self.heads)


@dataclass(frozen=True)
class Difference:
    """One difference between the models and the database, as autogenerate sees it."""

    kind: str
    table: str | None
    name: str | None
    detail: str

    def __str__(self) -> str:
        return self.detail


@dataclass
class CheckResult:
    """``check``: drift between models and database, and revisions not applied yet."""

    config: str
    current: list[str]
    heads: list[str]
    differences: list[Difference]
    unapplied: list[RevisionInfo]
    compared: bool = True
    """False when the database is not at head: the models were not compared (as Alembic refuses to)."""

    @property
    def ok(self) -> bool:
        return not self.differences and not self.unapplied

    def summary(self) -> str:
        """The one line ``check`` fails with, in Alembic's words where it has them."""
        if self.unapplied:
            return (
                f"the database of {self.config} is not up to date: {len(self.unapplied)} unapplied revision(s) "
                "(run `dbops upgrade` first; the models were not compared)"
            )
        return f"{len(self.differences)} difference(s) between the models and the database of {self.config}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "config": self.config,
            "current": self.current,
            "heads": self.heads,
            "compared": self.compared,
            "differences": [asdict(d) for d in self.differences],
            "unapplied": [r.to_dict() for r in self.unapplied],
        }


@dataclass
class InitResult:
    """The migrations directory ``init`` created."""

    config: str
    directory: str
    template: str
    files: list[str]
    matches_config: bool


@dataclass(frozen=True)
class TemplateInfo:
    name: str
    description: str
    directory: str

"""The migration engine: one plain function per command, ``(config, ...) -> small result``.

Alembic does the migrating; this module configures it in memory from the dbops config, takes the migration
lock, routes Alembic's "Running upgrade a -> b" log lines to the Reporter and turns Alembic's and the
driver's exceptions into one-line ``DbopsError``s. Nothing here prints or prompts.

Every function runs outside any event loop: when called from async code it moves to a worker thread, since
env.py files (Advanced Alchemy's among them) may call ``asyncio.run`` themselves.
"""

from __future__ import annotations

import contextlib
import functools
import io
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from dbops.errors import DbopsError, MigrationError, first_line, redact
from dbops.migrations.interrupt import StepTracker, interrupted_error
from dbops.migrations.ledger import LedgerRecorder, configure_hook, strip_ledger_operations
from dbops.migrations.results import (
    CheckResult,
    CurrentResult,
    Difference,
    InitResult,
    MigrationRunResult,
    RevisionInfo,
    RevisionResult,
    Step,
    TemplateInfo,
)
from dbops.progress import NullReporter, Reporter

if TYPE_CHECKING:
    from alembic.script import Script, ScriptDirectory
    from sqlalchemy import Connection

    from dbops.config import AnyConfig
    from dbops.migrations.alembic_config import DbopsAlembicConfig
    from dbops.migrations.lock import LockSettings

__all__ = [
    "branches",
    "check",
    "current",
    "downgrade",
    "edit",
    "ensure_version",
    "heads",
    "history",
    "init",
    "list_templates",
    "make_migrations",
    "merge",
    "show",
    "stamp",
    "upgrade",
]

P = ParamSpec("P")
T = TypeVar("T")

DEFAULT_TEMPLATE = "dbops"
_QUIET_LOG_PREFIXES = ("Context impl", "Will assume", "Generating static SQL")


def outside_event_loop(fn: Callable[P, T]) -> Callable[P, T]:
    """Run ``fn`` in this thread, or in a fresh one when this thread is running an event loop."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        asyncio = sys.modules.get("asyncio")  # not imported yet: no loop can be running
        if asyncio is None or not _loop_running(asyncio):
            return fn(*args, **kwargs)
        import threading

        outcome: dict[str, Any] = {}

        def target() -> None:
            try:
                outcome["value"] = fn(*args, **kwargs)
            except BaseException as error:
                outcome["error"] = error

        thread = threading.Thread(target=target, name=f"dbops-{fn.__name__}")
        thread.start()
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        value: T = outcome["value"]
        return value

    return wrapper


def _loop_running(asyncio: Any) -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


# -- plumbing ---------------------------------------------------------------------------------------------


def _alembic_config(
    config: AnyConfig, *, output_buffer: io.StringIO | None = None, attributes: dict[str, Any] | None = None
) -> DbopsAlembicConfig:
    from dbops.migrations.alembic_config import DbopsAlembicConfig

    return DbopsAlembicConfig(config, output_buffer=output_buffer, stdout=io.StringIO(), attributes=attributes)


# Alembic errors a user meets, each with the one thing to do about it.
_HINTS: tuple[tuple[str, str], ...] = (
    ("Target database is not up to date", "run `dbops upgrade` first"),
    ("Ambiguous walk", "there are several heads: name one, or join them with `dbops merge-migrations`"),
    ("Multiple head", "there are several heads: name one, or join them with `dbops merge-migrations`"),
    (
        "cannot proceed in --sql mode",
        "SQLite batch operations reflect the table from a live database: run without --sql, or pass "
        "copy_from=<Table> to batch_alter_table()",
    ),
    ("does not provide a MetaData", "set target_metadata in env.py to your models' MetaData"),
)
_RELATIVE = re.compile(r"Relative revision (?P<relative>[+-]?\d+) didn't produce (?P<count>\d+) migrations")


def _hint(config: AnyConfig, text: str) -> str:
    for fragment, hint in _HINTS:
        if fragment in text:
            return f" ({hint})"
    match = _RELATIVE.search(text)
    if match:
        direction = "below" if match["relative"].startswith("-") else "above"
        room = _relative_room(config, below=direction == "below")
        only = f"there are only {room} revision(s) {direction}" if room is not None else f"not that many {direction}"
        return f" ({only} the current one)"
    return ""


def _relative_room(config: AnyConfig, *, below: bool) -> int | None:
    """How many revisions lie below (or above) the database's current revision."""
    try:
        script = _script_directory(config, _alembic_config(config))
        current = _read_current(config)
        if below:
            return len([s for s in script.iterate_revisions(current or "base", "base") if s is not None])
        ahead = script.iterate_revisions("heads", current or "base")
        return len([s for s in ahead if s is not None and s.revision not in current])
    except Exception:  # only a hint: never let it replace the error it explains
        return None


@contextlib.contextmanager
def _translate_errors(config: AnyConfig, action: str) -> Iterator[None]:
    """Alembic's errors and database errors become one-line MigrationErrors naming the config (with a hint)."""
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from dbops.connect import translate_connect_errors

    try:
        with translate_connect_errors(config):
            yield
    except DbopsError:
        raise
    except (CommandError, RevisionError, SQLAlchemyError) as error:
        line = first_line(error)
        raise MigrationError(f"{action} failed for {config.describe()}: {line}{_hint(config, line)}") from error


@contextlib.contextmanager
def _alembic_logs_to(reporter: Reporter) -> Iterator[None]:
    """Send Alembic's log lines ("Running upgrade a -> b, msg") to the reporter, and only there."""
    import logging

    class ReporterHandler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            message = redact(record.getMessage())
            if record.levelno >= logging.WARNING:
                reporter.warn(message)
            elif not message.startswith(_QUIET_LOG_PREFIXES):
                reporter.info(message)

    logger = logging.getLogger("alembic")
    handler = ReporterHandler(logging.INFO)
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


def _missing_directory(config: AnyConfig) -> MigrationError:
    location = config.alembic_config.script_location
    return MigrationError(
        f"no migrations directory at {location} for config {config.describe()}: run `dbops init {location}` "
        "or set alembic_config.script_location"
    )


def _script_directory(config: AnyConfig, alembic_config: DbopsAlembicConfig) -> ScriptDirectory:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    location = Path(config.alembic_config.script_location)
    if location.is_dir() and not (location / "env.py").is_file():
        raise _missing_directory(config)
    try:
        return ScriptDirectory.from_config(alembic_config)
    except CommandError as error:
        if "doesn't exist" in str(error) or "not a directory" in str(error).lower():
            raise _missing_directory(config) from error
        raise MigrationError(f"cannot read the migrations of {config.describe()}: {first_line(error)}") from error


def _uses_dbops_env(script: ScriptDirectory) -> bool:
    env = Path(script.env_py_location)
    try:
        text = env.read_text(encoding="utf-8")
    except OSError:
        return False
    return "dbops.migrations.environment" in text and "run_migrations(" in text


def _info(script: Script, current: Sequence[str] = ()) -> RevisionInfo:
    down = script.down_revision
    return RevisionInfo(
        revision=script.revision,
        down_revisions=tuple(down) if isinstance(down, (tuple, list)) else ((down,) if down else ()),
        message=(script.doc or "").strip(),
        path=str(script.path),
        is_head=script.is_head,
        is_branch_point=script.is_branch_point,
        is_merge_point=script.is_merge_point,
        branch_labels=tuple(sorted(script.branch_labels)),
        depends_on=tuple(script.dependencies or ())
        if not isinstance(script.dependencies, str)
        else (script.dependencies,),
        long_doc=(script.longdoc or "").strip(),
        is_current=script.revision in current,
    )


def _version_options(config: AnyConfig) -> dict[str, Any]:
    from dbops.migrations.environment import options_for

    return options_for(config)


def _read_current(config: AnyConfig) -> tuple[str, ...]:
    """The revisions in the version table (empty when there is none), through Alembic's own reader."""
    from alembic.runtime.migration import MigrationContext

    from dbops.connect import run_sync

    def read(connection: Connection) -> tuple[str, ...]:
        context = MigrationContext.configure(connection, opts=_version_options(config))
        heads = context.get_current_heads()
        connection.rollback()
        return tuple(heads)

    with _alembic_logs_to(NullReporter()):  # "Context impl ..." is no news, wherever the root logger prints
        return run_sync(config, read)


# -- init / templates ---------------------------------------------------------------------------------------


def list_templates(config: AnyConfig) -> list[TemplateInfo]:
    """The templates ``init`` can write (``alembic_config.template_path`` or dbops' own)."""
    from dbops.migrations.alembic_config import TEMPLATES_DIR

    root = Path(config.alembic_config.template_path or TEMPLATES_DIR)
    if not root.is_dir():
        raise MigrationError(f"template_path {root} of {config.describe()} is not a directory")
    found = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))):
        readme = folder / "README"
        description = readme.read_text(encoding="utf-8").strip().splitlines()[0] if readme.is_file() else ""
        found.append(TemplateInfo(folder.name, description, str(folder)))
    return found


def init(
    config: AnyConfig,
    directory: str | Path | None = None,
    *,
    template: str = DEFAULT_TEMPLATE,
    package: bool = False,
    reporter: Reporter | None = None,
) -> InitResult:
    """Create a migrations directory (env.py, script.py.mako, versions/) from a template.

    ``directory`` defaults to the config's ``script_location``. No alembic.ini is written: dbops configures
    Alembic from the config; a template's ``alembic.ini.mako`` is skipped.
    """
    reporter = reporter or NullReporter()
    target = Path(directory if directory is not None else config.alembic_config.script_location)
    templates = {info.name: info for info in list_templates(config)}
    if template not in templates:
        raise MigrationError(f"no template {template!r}; available: {', '.join(sorted(templates)) or 'none'}")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise MigrationError(f"{target} already exists and is not empty: choose another directory")
    import shutil

    source = Path(templates[template].directory)
    written: list[str] = []
    target.mkdir(parents=True, exist_ok=True)
    (target / "versions").mkdir(exist_ok=True)
    for path in sorted(source.iterdir()):
        if path.is_file() and path.name not in ("alembic.ini.mako", "pyproject.toml.mako"):
            shutil.copyfile(path, target / path.name)
            written.append(str(target / path.name))
    if package:
        for init_file in (target / "__init__.py", target / "versions" / "__init__.py"):
            init_file.touch()
            written.append(str(init_file))
    matches = _same_path(target, Path(config.alembic_config.script_location))
    if not matches:
        reporter.warn(
            f"{target} is not the config's script_location ({config.alembic_config.script_location}): set "
            f'alembic_config=AlembicAsyncConfig(script_location="{target}") (or AlembicSyncConfig) in your config'
        )
    return InitResult(config.describe(), str(target), template, written, matches)


def _same_path(a: Path, b: Path) -> bool:
    return a.expanduser().resolve() == b.expanduser().resolve()


def init_all(
    configs: Sequence[AnyConfig],
    *,
    template: str = DEFAULT_TEMPLATE,
    package: bool = False,
    reporter: Reporter | None = None,
) -> list[InitResult]:
    """``init --multidb``: a migrations directory for every config, each at its own ``script_location``."""
    locations: dict[Path, AnyConfig] = {}
    for config in configs:
        location = Path(config.alembic_config.script_location).expanduser().resolve()
        if location in locations:
            raise MigrationError(
                f"configs {locations[location].bind_label} and {config.bind_label} share the script_location "
                f"{config.alembic_config.script_location}: give each bind its own migrations directory"
            )
        locations[location] = config
    return [init(config, template=template, package=package, reporter=reporter) for config in configs]


# -- upgrade / downgrade / stamp ----------------------------------------------------------------------------


def _step(step: Any, direction: str) -> Step:
    return Step(
        direction=direction,
        from_revisions=tuple(step.from_revisions),
        to_revisions=tuple(step.to_revisions),
        message=(step.doc or "").strip() if direction != "stamp" else "",
    )


def _run_environment(
    config: AnyConfig,
    command: str,
    plan: Callable[[ScriptDirectory, Any], list[Any]],
    *,
    sql: bool,
    starting_rev: str | None,
    destination_rev: str | None,
    lock_timeout: float | None,
    reporter: Reporter,
    purge: bool = False,
) -> MigrationRunResult:
    """Run env.py with ``plan(script, current_heads) -> steps`` under the migration lock (online)."""
    from alembic.runtime.environment import EnvironmentContext

    from dbops.connect import dialect_name
    from dbops.migrations.lock import LockSettings, server_lock

    result = MigrationRunResult(command=command, config=config.describe())
    buffer = io.StringIO() if sql else None
    lock = LockSettings(timeout=lock_timeout, description=config.describe())
    alembic_config = _alembic_config(config, output_buffer=buffer, attributes={} if sql else {"dbops_lock": lock})
    script = _script_directory(config, alembic_config)

    tracker = StepTracker(lambda step: _step(step, command))
    recorder = LedgerRecorder(config) if config.alembic_config.migration_log and not sql else None

    def fn(rev: Any, context: Any) -> Iterator[Any]:
        steps = plan(script, rev)
        result.steps = [_step(step, command) for step in steps]
        if steps and not rev and not sql and not purge:
            # Alembic would have created the version table before planning (``dont_mutate`` below stops it):
            # only now that the target resolved, so a bad revision changes nothing, even where DDL can't be
            # rolled back (MariaDB/MySQL).
            context._ensure_version_table()
        tracked = tracker.track(tuple(rev), steps)
        if recorder is None:
            return tracked
        if steps:
            recorder.ensure_table(context.connection)
        return recorder.track(tracked)

    if purge and not sql:
        with _translate_errors(config, command):
            plan(script, ())  # --purge empties the version table first: resolve the target before that

    dialect = dialect_name(config)
    holder: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
    if not sql and dialect != "sqlite":
        holder = server_lock(config, dialect, lock, reporter)
    elif not sql and not _uses_dbops_env(script):
        holder = _sqlite_file_lock(config, script, lock, reporter)
    environment = EnvironmentContext(
        alembic_config,
        script,
        fn=fn,
        as_sql=sql,
        starting_rev=starting_rev,
        destination_rev=destination_rev,
        purge=purge,
        dont_mutate=not sql,
    )
    if recorder is not None:
        # Whatever env.py passes to context.configure (dbops', Advanced Alchemy's, the app's own), the ledger's
        # hook is added to it: every environment records.
        configure = environment.configure
        environment.configure = lambda *args, **kwargs: configure(*args, **configure_hook(kwargs, recorder))  # type: ignore[method-assign]
    with (
        _translate_errors(config, command),
        holder,
        _alembic_logs_to(reporter),
        environment,
        _report_interrupt(config, tracker, dialect=dialect, command=command, sql=sql),
    ):
        try:
            script.run_env()
        except BaseException as error:
            if recorder is not None:
                recorder.record_failure(error, reporter)
            raise
    if buffer is not None:
        result.sql = buffer.getvalue()
    return result


@contextlib.contextmanager
def _report_interrupt(
    config: AnyConfig, tracker: StepTracker, *, dialect: str, command: str, sql: bool
) -> Iterator[None]:
    """Ctrl-C (or an async run's cancellation) becomes one line saying what stayed and what was rolled back."""
    import asyncio

    try:
        yield
    except (KeyboardInterrupt, asyncio.CancelledError) as error:
        if sql:
            raise
        from dbops.migrations.fast import current_revisions

        try:
            after = current_revisions(config) or frozenset()  # None: no version table (any more)
        except BaseException:  # a second Ctrl-C, or the server went away: say what is known
            after = None
        raise interrupted_error(tracker, after, dialect=dialect, command=command) from error


def _sqlite_file_lock(
    config: AnyConfig, script: ScriptDirectory, lock: LockSettings, reporter: Reporter
) -> contextlib.AbstractContextManager[None]:
    """The SQLite lock for an env.py that opens its own connections: a file lock beside the database."""
    from dbops.migrations.lock import file_lock
    from dbops.urls import parse_url

    database = parse_url(str(config.connection_string)).database
    if not database or database == ":memory:" or sys.platform == "win32":
        reporter.warn(f"{script.env_py_location} is not dbops' env.py: this run holds no migration lock")
        return contextlib.nullcontext()
    return file_lock(Path(f"{Path(database).resolve()}.dbops-lock"), lock, reporter)


def _split_range(revision: str, *, sql: bool) -> tuple[str | None, str]:
    if ":" not in revision:
        return None, revision
    if not sql:
        raise MigrationError(f"a revision range ({revision}) is only allowed with --sql")
    start, _, end = revision.partition(":")
    return start or None, end


def _with_ddl_timeout(
    config: AnyConfig,
    run: Callable[[Reporter], MigrationRunResult],
    reporter: Reporter,
    *,
    sql: bool,
    ddl_lock_timeout: float | str | None,
    retries: int | None,
) -> MigrationRunResult:
    """``run``, under ``--ddl-lock-timeout`` with ``--retries`` when set (``dbops.migrations.ddl_timeout``)."""
    from dbops.connect import dialect_name
    from dbops.migrations.ddl_timeout import DdlTimeout, run_with_retries

    timeout = None if sql else DdlTimeout.resolve(config, ddl_lock_timeout, retries)
    dialect = dialect_name(config)
    if timeout is None or dialect == "sqlite":
        return run(reporter)
    return run_with_retries(config, dialect, timeout, run, reporter)


@outside_event_loop
def upgrade(
    config: AnyConfig,
    revision: str = "head",
    *,
    sql: bool = False,
    lock_timeout: float | None = None,
    ddl_lock_timeout: float | str | None = None,
    retries: int | None = None,
    reporter: Reporter | None = None,
) -> MigrationRunResult:
    """Apply migrations up to ``revision`` (``head``, a revision id, ``+1``, ``branch@head``, ...).

    With ``sql=True`` nothing touches the database: the SQL is returned in ``result.sql`` (``start:end``
    ranges allowed). Holds the migration lock for the whole run. ``ddl_lock_timeout`` (seconds or ``"500ms"``;
    default ``alembic_config.ddl_lock_timeout``) bounds each statement's wait for its lock; a revision that
    times out is rolled back and retried ``retries`` times, then ``DdlLockTimeoutError`` (exit 4).
    """
    reporter = reporter or NullReporter()
    if not sql and revision in ("head", "heads") and _already_at_heads(config, single=revision == "head"):
        return MigrationRunResult(command="upgrade", config=config.describe(), already_current=True)
    starting_rev, destination = _split_range(revision, sql=sql)
    result = _with_ddl_timeout(
        config,
        lambda run_reporter: _run_environment(
            config,
            "upgrade",
            lambda script, rev: script._upgrade_revs(destination, rev),
            sql=sql,
            starting_rev=starting_rev,
            destination_rev=destination,
            lock_timeout=lock_timeout,
            reporter=run_reporter,
        ),
        reporter,
        sql=sql,
        ddl_lock_timeout=ddl_lock_timeout,
        retries=retries,
    )
    result.already_current = not sql and not result.steps
    return result


def _already_at_heads(config: AnyConfig, *, single: bool) -> bool:
    """The no-op fast path: the version table already holds exactly the script heads (no Alembic import).

    Read under the migration lock (taken for an instant, without waiting): while another dbops process is
    migrating, the answer is the slow path's, which waits for that run to end.
    """
    from dbops.migrations.fast import LockBusy, current_revisions, current_revisions_direct, script_heads

    heads = script_heads(config)
    if heads is None or (single and len(heads) != 1):
        return False
    try:
        direct = current_revisions_direct(config, under_lock=True)
        if direct is not None:
            return direct == heads
        # The bare driver could not say: ask through SQLAlchemy, which knows every driver and engine option.
        return current_revisions(config, under_lock=True) == heads
    except LockBusy:
        return False


@outside_event_loop
def downgrade(
    config: AnyConfig,
    revision: str,
    *,
    sql: bool = False,
    dry_run: bool = False,
    lock_timeout: float | None = None,
    ddl_lock_timeout: float | str | None = None,
    retries: int | None = None,
    reporter: Reporter | None = None,
) -> MigrationRunResult:
    """Revert migrations down to ``revision`` (``-1``, ``base``, a revision id, ...); ``sql`` needs ``a:b``.

    ``ddl_lock_timeout`` / ``retries`` work as for ``upgrade``.
    """
    reporter = reporter or NullReporter()
    starting_rev, destination = _split_range(revision, sql=sql)
    if sql and starting_rev is None:
        raise MigrationError("downgrade --sql needs a range: FROM:TO (e.g. head:base)")

    def plan(script: ScriptDirectory, rev: Any) -> list[Any]:
        return list(script._downgrade_revs(destination, rev))

    if dry_run:
        return _plan(config, "downgrade", plan)
    return _with_ddl_timeout(
        config,
        lambda run_reporter: _run_environment(
            config,
            "downgrade",
            plan,
            sql=sql,
            starting_rev=starting_rev,
            destination_rev=destination,
            lock_timeout=lock_timeout,
            reporter=run_reporter,
        ),
        reporter,
        sql=sql,
        ddl_lock_timeout=ddl_lock_timeout,
        retries=retries,
    )


@outside_event_loop
def stamp(
    config: AnyConfig,
    revision: str | Sequence[str],
    *,
    sql: bool = False,
    purge: bool = False,
    dry_run: bool = False,
    lock_timeout: float | None = None,
    reporter: Reporter | None = None,
) -> MigrationRunResult:
    """Record ``revision`` in the version table without running any migration."""
    reporter = reporter or NullReporter()
    destinations = (revision,) if isinstance(revision, str) else tuple(revision)
    starting_rev: str | None = None
    targets: list[str] = []
    for destination in destinations:
        start, target = _split_range(destination, sql=sql)
        starting_rev = start or starting_rev
        targets.append(target)

    def plan(script: ScriptDirectory, rev: Any) -> list[Any]:
        return list(script._stamp_revs(tuple(targets), rev))

    if dry_run:
        return _plan(config, "stamp", plan)
    return _run_environment(
        config,
        "stamp",
        plan,
        sql=sql,
        starting_rev=starting_rev,
        destination_rev=None,
        lock_timeout=lock_timeout,
        reporter=reporter,
        purge=purge,
    )


def _plan(config: AnyConfig, command: str, plan: Callable[[ScriptDirectory, Any], list[Any]]) -> MigrationRunResult:
    alembic_config = _alembic_config(config)
    script = _script_directory(config, alembic_config)
    with _translate_errors(config, command):
        heads = _read_current(config)
        steps = plan(script, heads)
    return MigrationRunResult(
        command=command, config=config.describe(), steps=[_step(s, command) for s in steps], dry_run=True
    )


# -- revisions ----------------------------------------------------------------------------------------------


@outside_event_loop
def make_migrations(
    config: AnyConfig,
    message: str,
    *,
    autogenerate: bool = True,
    empty: bool = False,
    head: str = "head",
    splice: bool = False,
    branch_label: str | None = None,
    version_path: str | None = None,
    rev_id: str | None = None,
    depends_on: str | None = None,
    reporter: Reporter | None = None,
) -> RevisionResult:
    """Write a new revision; with ``autogenerate`` its operations are the models' differences from the DB.

    A revision without operations is refused (``MigrationError``) unless ``empty=True``; ``empty=True`` alone
    skips autogenerate and writes a revision to fill in by hand.
    """
    from alembic import command

    from dbops.migrations import pg_enums
    from dbops.migrations.diffs import differences_of

    pg_enums.register()
    reporter = reporter or NullReporter()
    if empty:
        autogenerate = False
    elif not autogenerate:
        raise MigrationError(
            "a revision written without --autogenerate has no operations: pass --empty to write one to fill in"
        )
    alembic_config = _alembic_config(config, attributes={"dbops_read_only": True})
    _script_directory(config, alembic_config)  # a clear error when there is no migrations directory
    operations: list[Difference] = []

    def directives_hook(context: Any, revision: Any, directives: list[Any]) -> None:
        if not autogenerate:
            return
        _refuse_without_models(config, context)
        # Alembic calls env.py's own process_revision_directives after this one: wrap it, so what is recorded
        # (and refused when empty) is the revision as that hook leaves it.
        app_hook = context.opts.get("process_revision_directives")

        def finish(context: Any, revision: Any, directives: list[Any]) -> None:
            if app_hook is not None:
                app_hook(context, revision, directives)
            strip_ledger_operations(config, directives)
            for script in directives:
                operations.extend(differences_of(script.upgrade_ops_list))
            if all(ops.is_empty() for script in directives for ops in script.upgrade_ops_list):
                directives[:] = []

        context.opts["process_revision_directives"] = finish

    with _translate_errors(config, "make-migrations"), _alembic_logs_to(_Silent(reporter)):
        written = command.revision(
            alembic_config,
            message=message,
            autogenerate=autogenerate,
            head=head,
            splice=splice,
            branch_label=branch_label,
            version_path=version_path,
            rev_id=rev_id,
            depends_on=depends_on,
            process_revision_directives=directives_hook,
        )
    if not written:
        raise MigrationError(
            f"no differences between the models and the database of {config.describe()}: nothing to write "
            "(pass --empty to write an empty revision)"
        )
    script = written[0] if isinstance(written, list) else written
    assert script is not None
    info = _info(script)
    return RevisionResult(info.revision, info.path, message, info.down_revisions, operations)


def _refuse_without_models(config: AnyConfig, context: Any) -> None:
    """A revision from zero model tables would drop every table: refuse it, saying why."""
    from sqlalchemy import inspect

    from dbops.migrations.compare import metadata_tables
    from dbops.models import no_models_message

    if metadata_tables(context.opts.get("target_metadata")) or context.connection is None:
        return
    ours = {context.opts.get("version_table") or "alembic_version", config.alembic_config.migration_log_table}
    present = sorted(name for name in inspect(context.connection).get_table_names() if name not in ours)
    if present:
        raise MigrationError(no_models_message(config, present) + " (make-migrations would drop them all)")


class _Silent:
    """Keeps Alembic's autogenerate chatter ("Detected added table ...") out of the output; warnings pass."""

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter

    def info(self, message: str) -> None:
        return None

    def warn(self, message: str) -> None:
        self.reporter.warn(message)

    def progress(self, description: str, total: int | None) -> Any:
        return self.reporter.progress(description, total)


def merge(
    config: AnyConfig,
    revisions: Sequence[str] = ("heads",),
    *,
    message: str | None = None,
    branch_label: str | None = None,
    rev_id: str | None = None,
) -> RevisionResult:
    """Write a revision that merges ``revisions`` (default: all heads) into one."""
    from alembic import command

    alembic_config = _alembic_config(config)
    script_directory = _script_directory(config, alembic_config)
    if tuple(revisions) == ("heads",) and len(script_directory.get_heads()) < 2:
        heads = ", ".join(script_directory.get_heads()) or "none"
        raise MigrationError(f"nothing to merge: there is only one head ({heads})")
    with _translate_errors(config, "merge-migrations"):
        written = command.merge(
            alembic_config, list(revisions), message=message, branch_label=branch_label, rev_id=rev_id
        )
    if written is None:
        raise MigrationError("merge-migrations wrote nothing")
    info = _info(written)
    return RevisionResult(info.revision, info.path, message or "", info.down_revisions)


# -- inspection ---------------------------------------------------------------------------------------------


def history(config: AnyConfig, rev_range: str | None = None) -> list[RevisionInfo]:
    """Every revision (or those in ``rev_range`` ``a:b``), newest first."""
    if rev_range is None:
        from dbops.migrations.fast import linear_history

        fast = linear_history(config)
        if fast is not None:
            return fast
    alembic_config = _alembic_config(config)
    script = _script_directory(config, alembic_config)
    base, head = "base", "heads"
    if rev_range:
        if ":" not in rev_range:
            raise MigrationError(f"history range must be FROM:TO (got {rev_range!r})")
        base, _, head = rev_range.partition(":")
        base, head = base or "base", head or "heads"
    with _translate_errors(config, "history"):
        return [_info(s) for s in script.walk_revisions(base=base, head=head)]


def heads(config: AnyConfig) -> list[RevisionInfo]:
    """The head revisions of the migrations directory."""
    from dbops.migrations.fast import linear_history

    fast = linear_history(config)
    if fast is not None:
        return fast[:1]
    alembic_config = _alembic_config(config)
    script = _script_directory(config, alembic_config)
    with _translate_errors(config, "heads"):
        return [_info(script.get_revision(head)) for head in script.get_heads()]


def branches(config: AnyConfig) -> list[RevisionInfo]:
    """The revisions where history branches (more than one revision revises them)."""
    alembic_config = _alembic_config(config)
    script = _script_directory(config, alembic_config)
    with _translate_errors(config, "branches"):
        return [_info(s) for s in script.walk_revisions() if s.is_branch_point]


def show(config: AnyConfig, revision: str) -> list[RevisionInfo]:
    """The revision(s) ``revision`` names (an id, a prefix, ``head``, ``heads``, ``branch@head``)."""
    alembic_config = _alembic_config(config)
    script = _script_directory(config, alembic_config)
    with _translate_errors(config, "show"):
        found = script.get_revisions(revision)
        if not found:
            raise MigrationError(f"no revision {revision!r} in {config.alembic_config.script_location}")
        return [_info(s) for s in found if s is not None]


def edit(config: AnyConfig, revision: str) -> Path:
    """Open the revision file in ``$EDITOR`` / ``$VISUAL``; returns its path."""
    from alembic.util import open_in_editor

    found = show(config, revision)
    if len(found) != 1:
        raise MigrationError(f"{revision!r} names {len(found)} revisions: give one")
    path = Path(found[0].path)
    with _translate_errors(config, "edit"):
        open_in_editor(str(path))
    return path


@outside_event_loop
def current(config: AnyConfig) -> CurrentResult:
    """The revisions the database is at (from its version table), and the script heads."""
    fast = _fast_state(config)
    if fast is not None:
        history = fast[0]
        known = [info for info in history if info.is_current]
        return CurrentResult(config.describe(), known, [], [history[0].revision])
    alembic_config = _alembic_config(config)
    script = _script_directory(config, alembic_config)
    with _translate_errors(config, "current"):
        revisions = _read_current(config)
        known = [_info(s, revisions) for s in (_safe_get(script, r) for r in revisions) if s is not None]
        unknown = [r for r in revisions if r not in {k.revision for k in known}]
        return CurrentResult(config.describe(), known, unknown, list(script.get_heads()))


def _safe_get(script: ScriptDirectory, revision: str) -> Script | None:
    from alembic.util import CommandError

    try:
        return script.get_revision(revision)
    except CommandError:
        return None


@outside_event_loop
def ensure_version(config: AnyConfig, *, sql: bool = False) -> str | None:
    """Create the version table if it doesn't exist; with ``sql`` return the DDL instead."""
    from alembic import command

    buffer = io.StringIO() if sql else None
    alembic_config = _alembic_config(config, output_buffer=buffer)
    _script_directory(config, alembic_config)
    with _translate_errors(config, "ensure-version"):
        command.ensure_version(alembic_config, sql=sql)
    return buffer.getvalue() if buffer is not None else None


@outside_event_loop
def check(config: AnyConfig, *, reporter: Reporter | None = None) -> CheckResult:
    """Compare the models with the database and list unapplied revisions (``result.ok`` when neither).

    The comparison is the app's own env.py run the way ``make-migrations`` runs it (its target metadata, its
    ``include_object``, ``compare_type``, hooks), as Alembic's ``check`` does. A database that is not at head
    is not compared (its unapplied revisions would all show as differences): ``result.compared`` is False.
    Anything unexpected is a ``MigrationError`` (exit 2, "could not check"), never a "drift" answer.
    """
    reporter = reporter or NullReporter()
    try:
        return _check(config, reporter)
    except DbopsError:
        raise
    except Exception as error:
        raise MigrationError(
            f"could not check {config.describe()}: {type(error).__name__}: {first_line(error)}"
        ) from error


def _fast_state(config: AnyConfig) -> tuple[list[RevisionInfo], frozenset[str]] | None:
    """(linear history with ``is_current`` set, the version table's one revision or none), without Alembic.

    ``None`` whenever Alembic must answer: branched history, an unreadable or missing version table, several
    rows in it, or a revision that is not in the migrations directory (the full path reports that).
    """
    from dbops.migrations.fast import current_revisions_direct, linear_history

    history = linear_history(config)
    if history is None:
        return None
    revisions = current_revisions_direct(config)
    if revisions is None or len(revisions) > 1 or not revisions <= {info.revision for info in history}:
        return None
    return [replace(info, is_current=info.revision in revisions) for info in history], revisions


def _check(config: AnyConfig, reporter: Reporter) -> CheckResult:
    fast = _fast_state(config)
    if fast is not None and not fast[0][0].is_current:
        # Not at head: the answer is the unapplied revisions, read from the files (nothing to compare).
        history, at = fast
        current_index = next((i for i, info in enumerate(history) if info.is_current), len(history))
        unapplied = [replace(info, is_current=False) for info in reversed(history[:current_index])]
        return CheckResult(config.describe(), sorted(at), [history[0].revision], [], unapplied, compared=False)
    from dbops.migrations.compare import compare_models
    from dbops.models import no_models_message

    alembic_config = _alembic_config(config, attributes={"dbops_read_only": True})
    script = _script_directory(config, alembic_config)
    with _translate_errors(config, "check"), _alembic_logs_to(_Silent(reporter)):
        comparison = compare_models(alembic_config, script)
        revisions = comparison.current
        for revision in revisions:
            if _safe_get(script, revision) is None:
                raise MigrationError(
                    f"the database of {config.describe()} is at revision {revision}, which is not in "
                    f"{config.alembic_config.script_location}"
                )
        heads = list(script.get_heads())
        unapplied = [
            _info(s)
            for s in script.iterate_revisions("heads", revisions or "base")
            if s is not None and s.revision not in revisions
        ]
    if comparison.up_to_date and comparison.model_tables == 0 and comparison.database_tables:
        reporter.warn(no_models_message(config, comparison.database_tables))
    return CheckResult(
        config=config.describe(),
        current=list(revisions),
        heads=heads,
        differences=comparison.differences,
        unapplied=list(reversed(unapplied)),
        compared=comparison.up_to_date,
    )

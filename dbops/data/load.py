"""``load_data``: load a dbops dump or Advanced Alchemy fixture files in foreign-key order, in one transaction.

Before anything is written, a dump's files are checked against its manifest (sha256 and row counts), and its
recorded Alembic revision against the database's. Rows are decoded by column type (``dbops.data.codec``,
widened by the kinds the manifest recorded) and written in batches: COPY on PostgreSQL with psycopg 3 when a
file holds every column, batched ``executemany`` elsewhere (asyncpg and async psycopg included); statements
come from ``dbops.data.statements``. Each batch runs in a savepoint; when one fails, its rows are retried one
by one to name the row and column, and the whole load rolls back: the database is exactly as before (unless
``batch_commit`` was asked for). Sequences and counters are restored last (``dbops.data.counters``).

The Alembic version table is never loaded, emptied or upserted: the manifest's revision is compared instead.
"""

from __future__ import annotations

import contextlib
import copy
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from dbops.data.codec import JSON_NULL, SQLITE_AS_STORED, ColumnCodec, column_codec, is_plain, stored_type
from dbops.data.files import (
    MAX_ROW_BYTES,
    DataPath,
    count_rows,
    file_digest,
    is_data_file,
    is_object_url,
    is_temporary_file,
    iter_rows,
    looks_like_dbops_file,
    table_name_of,
)
from dbops.data.manifest import MANIFEST_NAME, Manifest, read_manifest
from dbops.data.tables import (
    alembic_revision,
    dependency_waves,
    ledger_table_name,
    psycopg_connection,
    restart_transaction,
    table_label,
    version_table_name,
    write_transaction,
)
from dbops.errors import DataError, first_line
from dbops.progress import NullReporter, Reporter

if TYPE_CHECKING:
    from sqlalchemy import Connection, Table
    from sqlalchemy.exc import DBAPIError, StatementError

    from dbops.config import AnyConfig
    from dbops.data.catalog import Catalog, ColumnFacts
    from dbops.data.counters import Counter

__all__ = ["MODES", "LoadResult", "LoadedTable", "load_data"]

MODES = ("insert", "truncate", "upsert")


@dataclass
class LoadedTable:
    name: str
    file: DataPath
    rows: int


@dataclass
class LoadResult:
    mode: str
    from_manifest: bool
    tables: list[LoadedTable] = field(default_factory=list)
    copy_used: bool = False

    @property
    def rows(self) -> int:
        return sum(table.rows for table in self.tables)


@dataclass
class _Source:
    table: str
    path: DataPath
    rows: int | None = None
    sha256: str | None = None
    in_dump: bool = False
    """Listed in a manifest: checked against it, and never read through a symbolic link."""
    kinds: dict[str, str] = field(default_factory=dict)
    """Column → codec kind the dump recorded."""


@dataclass
class _Inputs:
    sources: list[_Source]
    manifest: Manifest | None = None


def load_data(
    config: AnyConfig,
    *,
    directory: Path | str | None = None,
    files: Sequence[Path | str] = (),
    tables: Sequence[str] = (),
    mode: str = "insert",
    batch_size: int = 5000,
    batch_commit: bool = False,
    use_copy: bool = True,
    disable_triggers: bool = False,
    require_same_revision: bool = False,
    max_row_bytes: int = MAX_ROW_BYTES,
    jobs: int = 1,
    reporter: Reporter | None = None,
) -> LoadResult:
    """Load ``directory`` (a dump with ``manifest.json``, or fixture files) or ``files`` into the database.

    ``directory`` may be a URL (``s3://bucket/prefix``, ``gs://``, ``az://``, ``file://``): a dump on object
    storage (``dbops.data.objects``), read streaming.

    ``disable_triggers``: PostgreSQL only, for superusers (``session_replication_role = replica``); foreign
    keys are not checked either then. ``require_same_revision``: refuse a dump taken at another Alembic
    revision than the database's (otherwise a warning). ``max_row_bytes``: the largest row a file may hold.

    ``jobs`` > 1 (PostgreSQL, MariaDB/MySQL; SQLite has one writer whatever ``jobs``): the tables of each
    foreign-key wave load side by side, one transaction per table, so the load is no longer one transaction.
    It then loads into empty tables only (checked first), and a failure empties every table it loaded again:
    see ``_load_in_parallel``.
    """
    from dbops.connect import dialect_name, run_sync

    if mode not in MODES:
        raise DataError(f"unknown mode {mode!r} (use insert, truncate or upsert)")
    if batch_size < 1:
        raise DataError("--batch-size must be at least 1")
    if max_row_bytes < 1:
        raise DataError("--max-row-size must be at least 1 MB")
    if jobs < 1:
        raise DataError("--jobs must be at least 1")
    dialect = dialect_name(config)
    if disable_triggers and dialect != "postgresql":
        raise DataError(f"--disable-triggers works on PostgreSQL only ({dialect} can't switch triggers off)")
    reporter = reporter or NullReporter()
    inputs = _collect_sources(directory, files)
    if require_same_revision and inputs.manifest is None:
        raise DataError("--require-same-revision needs a dump (a directory with manifest.json), not fixture files")
    version_table = version_table_name(config)
    never_loaded = {
        version_table: "the Alembic version table",
        ledger_table_name(config): "dbops' migration ledger",
    }
    for name in tables:
        if name in never_loaded:
            raise DataError(f"{name!r} is {never_loaded[name]}, which load-data never writes")
    sources = []
    for source in inputs.sources:
        if source.table in never_loaded:
            reporter.warn(f"{source.path}: {never_loaded[source.table]} is never loaded; skipped")
        else:
            sources.append(source)
    if tables:
        known = {source.table for source in sources}
        for name in tables:
            if name not in known:
                raise DataError(f"no data file for table {name!r} (have: {', '.join(sorted(known)) or 'none'})")
        sources = [source for source in sources if source.table in set(tables)]
    for source in sources:
        _verify(source, max_row_bytes)
    from dbops.models import model_metadata, no_models_message, tables_without_models

    metadata = model_metadata(config)
    result = LoadResult(mode=mode, from_manifest=inputs.manifest is not None)

    def work(connection: Connection) -> LoadResult:
        from sqlalchemy import MetaData, Table, inspect

        from dbops.data.catalog import read_catalog
        from dbops.data.counters import advance_past_loaded, restore_after_commit, restore_counters

        catalog = read_catalog(connection, dialect)
        models = {table_label(table): table for table in metadata.sorted_tables}
        inspector = inspect(connection)
        present = set(inspector.get_table_names())
        unmodelled = tables_without_models(config, metadata, present)
        if unmodelled:
            # Loading still works, into the tables as the database describes them; but a config whose models
            # weren't imported is usually a mistake the user wants to hear about (drop-all and dump-data refuse).
            reporter.warn(no_models_message(config, unmodelled) + " (loading into the tables as reflected)")
        if inputs.manifest is not None:
            _compare_revisions(
                inputs.manifest.alembic_revision,
                alembic_revision(connection, version_table if version_table in present else None),
                refuse=require_same_revision,
                warn=reporter.warn,
            )
        reflected = MetaData()
        targets: dict[str, tuple[Table, _Source]] = {}
        for source in sources:
            table = models.get(source.table)
            if table is None and source.table in present:
                table = Table(source.table, reflected, autoload_with=connection)
            if table is None or (table.schema is None and table.name not in present):
                raise DataError(f"{source.path}: no table {source.table!r} in {config.describe()}")
            targets[table_label(table)] = (table, source)
        waves = dependency_waves((table for table, _ in targets.values()), catalog)
        ordered = [table for wave in waves for table in wave]
        facts = {table_label(table): catalog.column_facts(connection, table) for table in ordered}
        source_dialect = inputs.manifest.dialect if inputs.manifest is not None else None

        def restore(connection: Connection) -> list[Counter]:
            """Sequences and counters, in the transaction that wrote the rows (or the one after the tables')."""
            if inputs.manifest is not None:
                return restore_counters(
                    connection,
                    dialect,
                    inputs.manifest.counters,
                    ordered,
                    loaded={table.name: table.rows for table in result.tables},
                    whole_dump=not tables,
                    warn=reporter.warn,
                )
            if dialect == "postgresql":
                advance_past_loaded(connection, ordered)
            return []

        def load_table(loader: _TableLoader, table: Table) -> LoadedTable:
            label = table_label(table)
            source = targets[label][1]
            rows = loader.load(table, source, facts[label], model_less=table.metadata is reflected)
            if source.in_dump and rows != source.rows:
                raise DataError(f"{source.path}: {rows} rows, but the manifest says {source.rows}")
            return LoadedTable(label, source.path, rows)

        def new_loader(connection: Connection, reporter: Reporter) -> _TableLoader:
            return _TableLoader(
                connection, dialect, mode, batch_size, batch_commit, use_copy, max_row_bytes, source_dialect, reporter
            )

        if jobs > 1 and dialect != "sqlite":  # SQLite takes one writer at a time
            after_commit = _load_in_parallel(
                config,
                connection,
                waves,
                jobs=jobs,
                catalog=catalog,
                load_table=load_table,
                new_loader=new_loader,
                restore=restore,
                disable_triggers=disable_triggers,
                result=result,
                reporter=reporter,
            )
            if after_commit:
                restore_after_commit(connection, after_commit)
            return result
        after_commit = []
        with _load_session(connection, dialect), write_transaction(connection, dialect):
            if disable_triggers:
                _disable_triggers(connection)
            if mode == "truncate":
                for table in reversed(ordered):
                    _empty(connection, table, dialect, catalog)
            loader = new_loader(connection, reporter)
            for table in ordered:
                result.tables.append(load_table(loader, table))
            after_commit = restore(connection)
            result.copy_used = loader.copy_used
        if after_commit:
            restore_after_commit(connection, after_commit)
        return result

    return run_sync(config, work)


def _load_in_parallel(
    config: AnyConfig,
    connection: Connection,
    waves: list[list[Table]],
    *,
    jobs: int,
    catalog: Catalog,
    load_table: Callable[[_TableLoader, Table], LoadedTable],
    new_loader: Callable[[Connection, Reporter], _TableLoader],
    restore: Callable[[Connection], list[Counter]],
    disable_triggers: bool,
    result: LoadResult,
    reporter: Reporter,
) -> list[Counter]:
    """Load each wave's tables side by side in ``jobs`` connections, a transaction per table.

    A table's rows can only be checked against parents another transaction has committed, so a wave starts
    once the one before it has committed, and the load as a whole can't be one transaction. What it promises
    instead: it writes only into empty tables (any table with a row refuses the load before anything is
    written), and when any table fails, every table it loaded is emptied again (one transaction, children
    first), so the database is as it was: empty tables. Only a killed process (or a lost connection during
    that clean-up, which the error then says) leaves loaded tables behind, and only ones that were empty.
    Nobody else should write to the tables meanwhile: their rows would be emptied too.
    """
    from sqlalchemy import select

    from dbops.data.parallel import WorkerPool

    dialect = connection.dialect.name
    ordered = [table for wave in waves for table in wave]
    for table in ordered:
        query = select(1).select_from(table).limit(1)
        if catalog.only(table_label(table)):
            query = query.with_hint(table, "ONLY", "postgresql")
        if connection.execute(query).first() is not None:
            connection.rollback()
            raise DataError(
                f"--jobs {jobs} loads into empty tables only, and {table_label(table)} has rows; nothing was "
                "loaded (empty the tables first, or load with --jobs 1: one transaction, any mode)"
            )
    connection.rollback()
    started: list[Table] = []

    def task(table: Table, table_reporter: Reporter) -> Callable[[Connection], tuple[LoadedTable, bool]]:
        def load_one(writer: Connection) -> tuple[LoadedTable, bool]:
            with write_transaction(writer, dialect):
                if disable_triggers:
                    _disable_triggers(writer)
                loader = new_loader(writer, table_reporter)
                loaded = load_table(loader, table)
            return loaded, loader.copy_used

        return load_one

    try:
        writers = min(jobs, max(len(wave) for wave in waves))
        with WorkerPool(config, writers, session=lambda writer: _load_session(writer, dialect), name="load") as pool:
            table_reporter = pool.reporter(reporter)
            for wave in waves:
                started.extend(wave)
                for loaded, copied in pool.run([task(table, table_reporter) for table in wave]):
                    result.tables.append(loaded)
                    result.copy_used = result.copy_used or copied
        with write_transaction(connection, dialect):
            return restore(connection)
    except BaseException as error:
        _empty_again(connection, dialect, started, catalog, error, disable_triggers=disable_triggers)
        raise


def _empty_again(
    connection: Connection,
    dialect: str,
    tables: list[Table],
    catalog: Catalog,
    error: BaseException,
    *,
    disable_triggers: bool,
) -> None:
    """After a failed parallel load: delete the rows of every table it started (they were empty before)."""
    if not tables:
        return
    try:
        with write_transaction(connection, dialect):
            if disable_triggers:
                _disable_triggers(connection)
            for table in reversed(tables):
                _empty(connection, table, dialect, catalog)
    except Exception as cleanup:
        names = ", ".join(table_label(table) for table in tables)
        raise DataError(
            f"{first_line(error) or type(error).__name__}; and emptying the tables loaded so far failed "
            f"({first_line(cleanup) or type(cleanup).__name__}): {names} may hold part of the load"
        ) from error


def _compare_revisions(dumped: str | None, current: str | None, *, refuse: bool, warn: Callable[[str], None]) -> None:
    if dumped == current:
        return
    message = f"the dump was taken at Alembic revision {dumped or '(none)'}, the database is at {current or '(none)'}"
    if refuse:
        raise DataError(f"{message}; nothing was loaded (--require-same-revision)")
    warn(f"{message}; loading anyway (--require-same-revision refuses)")


# -- inputs ---------------------------------------------------------------------------------------------------


def _collect_sources(directory: Path | str | None, files: Sequence[Path | str]) -> _Inputs:
    urls = [item for item in files if is_object_url(item)]
    if urls:
        if len(files) > 1 or not str(urls[0]).endswith("/" + MANIFEST_NAME) or directory is not None:
            raise DataError(f"{urls[0]}: a dump on object storage loads whole: --dir s3://bucket/prefix")
        directory, files = str(urls[0])[: -len(MANIFEST_NAME) - 1], ()
    if is_object_url(directory):
        from dbops.data.objects import read_object_dump

        manifest, objects = read_object_dump(str(directory))
        return _Inputs(_dump_sources(manifest, lambda name: objects[name]), manifest)
    paths = [Path(item) for item in files]
    if len(paths) == 1 and paths[0].name == MANIFEST_NAME:
        directory, paths = paths[0].parent, []
    if paths:
        if directory is not None:
            raise DataError("give either --dir or files, not both")
        for path in paths:
            if not path.is_file():
                raise DataError(f"{path}: no such file")
        return _Inputs(_unique([_Source(table_name_of(path), path) for path in paths]))
    folder = Path(directory if directory is not None else "fixtures")
    if not folder.is_dir():
        raise DataError(f"{folder}: no such directory")
    manifest_path = folder / MANIFEST_NAME
    if manifest_path.is_symlink():
        raise DataError(f"{manifest_path}: is a symbolic link; a dump directory holds only its own files")
    entries = sorted(folder.iterdir())
    if manifest_path.exists():
        manifest = read_manifest(manifest_path)
        listed = {entry.file for entry in manifest.tables}
        # a dump copied down from object storage keeps its table files in the folder its manifest names
        files_folder = folder / manifest.folder if manifest.folder else folder
        if files_folder.is_symlink():
            raise DataError(f"{files_folder}: is a symbolic link; a dump directory holds only its own files")
        for path in sorted(files_folder.iterdir()) if files_folder.is_dir() else []:
            if is_data_file(path) and path.name not in listed:
                raise DataError(
                    f"{path}: not listed in {MANIFEST_NAME}; the directory changed after the dump (or mixes two)"
                )
        return _Inputs(_dump_sources(manifest, lambda name: files_folder / name), manifest)
    found = [path for path in entries if is_data_file(path)]
    for path in found:
        if path.is_symlink():
            raise DataError(f"{path}: is a symbolic link; name linked files explicitly to load them")
    if any(is_temporary_file(path) for path in entries) or any(looks_like_dbops_file(path) for path in found):
        raise DataError(
            f"{folder}: incomplete dump: no {MANIFEST_NAME}; was the dump interrupted? "
            f"(to load its files as fixtures anyway, name them: dbops load-data {folder}/*.json)"
        )
    found = [path for path in found if path.is_file()]
    if not found:
        raise DataError(f"{folder}: no manifest.json and no data files (*.json, *.json.gz, *.jsonl, *.jsonl.gz)")
    return _Inputs(_unique([_Source(table_name_of(path), path) for path in found]))


def _dump_sources(manifest: Manifest, locate: Callable[[str], DataPath]) -> list[_Source]:
    """The manifest's tables, each from the file ``locate`` finds for its ``file`` name."""
    return [
        _Source(
            entry.name,
            locate(entry.file),
            entry.rows,
            entry.sha256,
            in_dump=True,
            kinds={column.name: column.kind for column in entry.columns},
        )
        for entry in manifest.tables
    ]


def _unique(sources: list[_Source]) -> list[_Source]:
    seen: dict[str, DataPath] = {}
    for source in sources:
        if source.table in seen:
            raise DataError(f"{source.path}: table {source.table!r} also comes from {seen[source.table]}")
        seen[source.table] = source.path
    return sources


def _verify(source: _Source, max_row_bytes: int) -> None:
    if not source.in_dump:
        return
    if source.path.is_symlink():
        raise DataError(f"{source.path}: is a symbolic link; a dump directory holds only its own files")
    if not source.path.is_file():
        raise DataError(f"{source.path}: listed in the manifest but missing")
    digest, lines = file_digest(source.path, follow_symlinks=False)
    if digest != source.sha256:
        raise DataError(
            f"{source.path}: checksum mismatch (manifest sha256 {str(source.sha256)[:12]}…, file {digest[:12]}…); "
            "the file changed after the dump"
        )
    if lines != source.rows:  # not dbops' one-row-a-line layout, or rows missing: count them exactly
        rows = count_rows(source.path, follow_symlinks=False, max_row_bytes=max_row_bytes)
        if rows != source.rows:
            raise DataError(f"{source.path}: {rows} rows, but the manifest says {source.rows}")


# -- writing ---------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _load_session(connection: Connection, dialect: str) -> Iterator[None]:
    """Session settings for the load, put back afterwards (a sync config's connection returns to its pool).

    SQLite: foreign-key checks on (they are off by default); ``synchronous = OFF`` (the load is one transaction,
    whose rollback journal still protects the database if the process dies; only an OS crash or power loss
    during the load could lose it) and a 32 MB page cache (random primary keys touch pages all over the
    table's B-tree), both put back afterwards. MariaDB/MySQL: ``NO_AUTO_VALUE_ON_ZERO``, so an id 0 is stored
    as 0 and not replaced by the next AUTO_INCREMENT value (as mysqldump does).
    """
    if connection.in_transaction():
        connection.rollback()
    settings: list[tuple[str, str]] = []
    if dialect == "sqlite":
        for pragma, wanted in (("foreign_keys", "ON"), ("synchronous", "OFF"), ("cache_size", "-32768")):
            number = int(connection.exec_driver_sql(f"PRAGMA {pragma}").scalar_one())
            settings.append((f"PRAGMA {pragma} = {number}", f"PRAGMA {pragma} = {wanted}"))
    elif dialect in ("mysql", "mariadb"):
        value = str(connection.exec_driver_sql("SELECT @@SESSION.sql_mode").scalar_one())
        settings.append(
            (
                f"SET SESSION sql_mode = {_sql_literal(value)}",
                "SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_AUTO_VALUE_ON_ZERO')",
            )
        )
    else:
        yield
        return
    for _, change in settings:
        connection.exec_driver_sql(change)
    connection.rollback()

    def restore() -> None:
        if connection.in_transaction():
            connection.rollback()
        for put_back, _ in settings:
            connection.exec_driver_sql(put_back)
        connection.commit()

    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):  # a dead connection: the load's own error says more
            restore()
        raise
    restore()


def _sql_literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _disable_triggers(connection: Connection) -> None:
    """``session_replication_role = replica`` for this transaction (superusers; PostgreSQL 15 can GRANT it)."""
    from sqlalchemy.exc import DBAPIError

    savepoint = connection.begin_nested()
    try:
        connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
    except DBAPIError as error:
        savepoint.rollback()
        raise DataError(
            f"--disable-triggers: {_db_message(error)} (it needs a superuser, or SET on session_replication_role)"
        ) from error
    savepoint.commit()


def _empty(connection: Connection, table: Table, dialect: str, catalog: Catalog) -> None:
    """DELETE every row (in the load's transaction, unlike TRUNCATE on MariaDB); an INHERITS parent's own."""
    what = f"cannot empty {table_label(table)}"
    self_references = {fk.parent for fk in table.foreign_keys if fk.column.table is table and fk.parent.nullable}
    if self_references and dialect in ("mysql", "mariadb"):
        # InnoDB checks foreign keys row by row, so a parent row can't go before its children in one DELETE.
        _run(connection, table.update().values({column.key: None for column in self_references}), what)
    statement = table.delete()
    if catalog.only(table_label(table)):
        statement = statement.with_hint("ONLY", dialect_name="postgresql")
    _run(connection, statement, what)


def _run(connection: Connection, statement: Any, what: str) -> None:
    from sqlalchemy.exc import DBAPIError

    try:
        connection.execute(statement)
    except DBAPIError as error:
        raise DataError(f"{what}: {_db_message(error)}") from error


def _db_message(error: DBAPIError) -> str:
    from dbops.violations import driver_message

    # MySQL drivers' (errno, message) read as the message, then dbops' one-line rule (passwords masked)
    return first_line(driver_message(error.orig if error.orig is not None else error)) or type(error).__name__


def _bind_table(table: Table, as_stored: frozenset[str] = frozenset()) -> Table:
    """``table`` itself, or a copy whose JSON columns bind ``None`` as SQL NULL (JSON null is ``JSON.NULL``)
    and whose columns loaded in their stored form (``codec.stored_type``) bind as that type; the columns in
    ``as_stored`` (``codec.SQLITE_AS_STORED``) bind their values untouched."""
    from sqlalchemy import JSON, MetaData
    from sqlalchemy.types import NullType

    stored = {column.key: type_ for column in table.columns if (type_ := stored_type(column.type)) is not None}
    stored.update({key: NullType() for key in as_stored})
    if stored:
        table = table.to_metadata(MetaData())
        for key, type_ in stored.items():
            table.c[key].type = type_
    json_columns = [column for column in table.columns if isinstance(column.type, JSON)]
    if not json_columns:
        return table
    bound = table if stored else table.to_metadata(MetaData())
    for column in json_columns:
        patched: Any = copy.copy(column.type)
        patched.none_as_null = True
        bound.c[column.key].type = patched
    return bound


_Row = tuple[int, dict[str, Any], Any]
"""(row number, the row as read, the row prepared: a tuple in column order for COPY, else a dict for SQLAlchemy)."""

_UUID_TEXT = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class _TableLoader:
    def __init__(
        self,
        connection: Connection,
        dialect: str,
        mode: str,
        batch_size: int,
        batch_commit: bool,
        use_copy: bool,
        max_row_bytes: int,
        source_dialect: str | None,
        reporter: Reporter,
    ) -> None:
        self.connection = connection
        self.dialect = dialect
        self.mode = mode
        self.batch_size = batch_size
        self.batch_commit = batch_commit
        self.max_row_bytes = max_row_bytes
        self.source_dialect = source_dialect
        self.reporter = reporter
        self.psycopg = psycopg_connection(connection) if use_copy and mode != "upsert" else None
        self.asyncpg: Any = _asyncpg_connection(connection) if use_copy and mode != "upsert" else None
        self.copy_used = False
        self.max_packet: int | None = None
        if dialect in ("mysql", "mariadb"):
            self.max_packet = int(connection.exec_driver_sql("SELECT @@max_allowed_packet").scalar_one())

    def rows(self, source: _Source) -> Iterator[tuple[int, Any]]:
        return iter_rows(source.path, follow_symlinks=not source.in_dump, max_row_bytes=self.max_row_bytes)

    def load(self, table: Table, source: _Source, facts: ColumnFacts, *, model_less: bool) -> int:
        from sqlalchemy import JSON

        label = table_label(table)
        columns = [column for column in table.columns if column.key not in facts.generated]
        # a SQLite dump into a model-less SQLite table: values as stored; from elsewhere they are canonical
        keep = self.dialect == "sqlite" and model_less and self.source_dialect == "sqlite"
        codecs = {
            column.key: column_codec(
                column,
                dialect=self.dialect,
                source_kind=source.kinds.get(column.key),
                source_dialect=self.source_dialect,
                as_stored=keep,
            )
            for column in columns
        }
        if self.mode == "upsert" and not table.primary_key.columns:
            raise DataError(f"{source.path}: table {label} has no primary key, which --mode upsert needs")
        decoders: dict[str, Callable[[Any], Any]] = {
            key: _json_decoder(codec.decode, JSON.NULL) if codec.kind == "json" else codec.decode
            for key, codec in codecs.items()
        }
        keys = tuple(codecs)
        copyable = self.psycopg is not None and _copyable(columns, codecs)
        binary_copy = self.asyncpg is not None and _copyable(columns, codecs)  # asyncpg: COPY of Python values
        text_fields = [_copy_text_field(codecs[key], table.c[key]) for key in keys] if copyable else []
        if copyable and all(field is not None for field in text_fields):
            fast = _generated_copy_line(keys, text_fields)  # type: ignore[arg-type]
        elif copyable or binary_copy:
            copy_decoders = {key: _copy_decoder(codec) for key, codec in codecs.items()}
            fast = _generated_converter(keys, [copy_decoders[key] for key in keys], as_tuple=True)
        else:
            fast = _generated_converter(keys, [decoders[key] for key in keys], as_tuple=False)
        as_stored = frozenset(key for key, codec in codecs.items() if keep and codec.kind in SQLITE_AS_STORED)
        writer = _BatchWriter(self, table, source, decoders, keys, facts, as_stored)
        try:
            width = len(keys)
            if copyable and not self.batch_commit and all(field is not None for field in text_fields):
                streamed = self._stream_copy(writer, fast, width)
                if streamed is not None:
                    return streamed
            rows = 0
            batch: list[_Row] = []
            with self.reporter.progress(f"load {label}", source.rows) as task:
                for row_number, raw in self.rows(source):
                    prepared: Any = None
                    if len(raw) == width:
                        try:
                            prepared = fast(raw)
                        except Exception:  # a missing key or a bad value: the slow path says exactly what
                            prepared = None
                    if prepared is None:
                        prepared = writer.decode(row_number, raw)
                    batch.append((row_number, raw, prepared))
                    if len(batch) >= self.batch_size:
                        writer.write(batch)
                        rows += len(batch)
                        task.advance(len(batch))
                        batch = []
                        if self.batch_commit:
                            restart_transaction(self.connection, self.dialect)
                if batch:
                    writer.write(batch)
                    rows += len(batch)
                    task.advance(len(batch))
            self.copy_used = self.copy_used or writer.copied
            return rows
        finally:
            writer.close()

    def _stream_copy(self, writer: _BatchWriter, copy_line: Callable[[dict[str, Any]], str], width: int) -> int | None:
        """The whole table through one COPY, fed batch by batch while PostgreSQL works on what it has.

        A COPY per batch would wait at every batch's end for the server to catch up, leaving one side idle
        at a time. Any row or database error rolls the table back and returns None: the batched path then
        loads the file again, and finds and names the offending row exactly as it always does.
        """
        source = writer.source
        savepoint = self.connection.begin_nested()
        rows = 0
        try:
            with self.reporter.progress(f"load {writer.label}", source.rows) as task:
                driver: Any = self.psycopg
                cursor = driver.cursor()
                try:
                    with cursor.copy(writer.copy_sql) as copy_:
                        pending: list[str] = []
                        for _, raw in self.rows(source):
                            if len(raw) != width:
                                raise _NotStreamable
                            pending.append(copy_line(raw))  # raises on a value the batched path must explain
                            if len(pending) >= self.batch_size:
                                copy_.write("".join(pending))
                                rows += len(pending)
                                task.advance(len(pending))
                                pending = []
                        if pending:
                            copy_.write("".join(pending))
                            rows += len(pending)
                            task.advance(len(pending))
                finally:
                    cursor.close()
        except DataError:  # the file itself is unreadable: the batched path would say the same
            savepoint.rollback()
            raise
        except Exception:  # a row or database error: the batched path finds and names it
            savepoint.rollback()
            return None
        savepoint.commit()
        self.copy_used = True
        return rows


class _NotStreamable(Exception):
    """A row the single COPY can't take as it is (missing or extra keys)."""


def _generated_converter(
    keys: tuple[str, ...], decoders: list[Callable[[Any], Any]], *, as_tuple: bool
) -> Callable[[dict[str, Any]], Any]:
    """``raw row → decoded row`` unrolled for the table's columns (raises on a missing key or bad value).

    Generated because it runs once per loaded row: unrolled, decoding costs about half as much.
    """
    parts = [f"None if (v{index} := raw[{key!r}]) is None else d{index}(v{index})" for index, key in enumerate(keys)]
    if as_tuple:
        body = "(" + "".join(f"{part}, " for part in parts) + ")"
    else:
        body = "{" + ", ".join(f"{key!r}: {part}" for key, part in zip(keys, parts, strict=True)) + "}"
    source = f"def convert(raw):\n    return {body}\n"
    namespace: dict[str, Any] = {f"d{index}": decoder for index, decoder in enumerate(decoders)}
    exec(compile(source, "<dbops row decoder>", "exec"), namespace)
    convert: Callable[[dict[str, Any]], Any] = namespace["convert"]
    return convert


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})
_NEEDS_ESCAPE = re.compile(r"[\\\n\r\t]")


def _generated_copy_line(keys: tuple[str, ...], fields: list[Callable[[Any], str]]) -> Callable[[dict[str, Any]], str]:
    """``raw row → one line of COPY text format`` (``\\N`` for NULL), unrolled for the table's columns."""
    parts = [f"'\\\\N' if (v{index} := raw[{key!r}]) is None else f{index}(v{index})" for index, key in enumerate(keys)]
    source = "def convert(raw):\n    return '\\t'.join((" + "".join(f"{part}, " for part in parts) + ")) + '\\n'\n"
    namespace: dict[str, Any] = {f"f{index}": field for index, field in enumerate(fields)}
    exec(compile(source, "<dbops copy line>", "exec"), namespace)
    convert: Callable[[dict[str, Any]], str] = namespace["convert"]
    return convert


def _escape(text: str) -> str:
    return text.translate(_COPY_ESCAPES) if _NEEDS_ESCAPE.search(text) else text


def _copy_text_field(codec: ColumnCodec, column: Any) -> Callable[[Any], str] | None:
    """A JSON value → its COPY text field, validated as strictly as ``codec.decode`` (raises otherwise).

    Values go to PostgreSQL as text, skipping Python objects and psycopg's adaptation; a value already in
    the form PostgreSQL reads is passed on as it is. A value that doesn't fit raises, and the row takes the
    slow path, whose error names row and column. None: no text form for this kind here.
    """
    decode, kind = codec.decode, codec.kind
    if kind == "int":

        def int_field(value: Any) -> str:
            if type(value) is int:
                return str(value)
            raise ValueError(value)

        return int_field
    if kind == "bool":
        return lambda value: "t" if decode(value) else "f"
    if kind == "str":

        def str_field(value: Any) -> str:
            if type(value) is str:
                return _escape(value)
            raise ValueError(value)

        return str_field
    if kind == "uuid":
        return lambda value: value if type(value) is str and _UUID_TEXT.fullmatch(value) else str(decode(value))
    if kind == "decimal":

        def decimal_field(value: Any) -> str:
            decoded = decode(value)  # validates
            return _escape(value) if type(value) is str else str(decoded)

        return decimal_field
    if kind == "enum":
        return lambda value: _escape(decode(value))
    if kind == "float":
        return lambda value: repr(decode(value)).replace("inf", "Infinity").replace("nan", "NaN")
    if kind == "datetime":
        aware = bool(getattr(column.type, "timezone", False))

        def datetime_field(value: Any) -> str:
            parsed = decode(value)  # validates, and applies the time-zone rules
            if aware == (parsed.tzinfo is not None) and type(value) is str and aware == _has_offset(value):
                return _escape(value)
            return str(parsed.isoformat())

        return datetime_field
    if kind in ("date", "time"):
        return lambda value: str(decode(value).isoformat())
    if kind == "bytes":
        return lambda value: "\\\\x" + decode(value).hex()
    if kind == "json":

        def json_field(value: Any) -> str:
            decoded = decode(value)
            return "null" if decoded is JSON_NULL else _escape(orjson.dumps(decoded).decode())

        return json_field
    return None


def _has_offset(text: str) -> bool:
    """Whether an ISO timestamp string carries a zone (``Z`` or ``±hh:mm`` after the time)."""
    tail = text[-6:]
    return text.endswith(("Z", "z")) or (len(tail) == 6 and tail[0] in "+-" and tail[3] == ":")


def _json_decoder(decode: Callable[[Any], Any], json_null: Any) -> Callable[[Any], Any]:
    def wrapped(value: Any) -> Any:
        decoded = decode(value)
        return json_null if decoded is JSON_NULL else decoded

    return wrapped


def _copy_decoder(codec: ColumnCodec) -> Callable[[Any], Any]:
    """Decoders for COPY, where PostgreSQL parses text itself: JSON goes as its text, UUIDs as validated text."""
    decode = codec.decode
    if codec.kind == "json":

        def json_text(value: Any) -> Any:
            decoded = decode(value)
            return "null" if decoded is JSON_NULL else orjson.dumps(decoded).decode()

        return json_text
    if codec.kind == "uuid":

        def uuid_text(value: Any) -> Any:
            if isinstance(value, str) and _UUID_TEXT.fullmatch(value):
                return value
            return str(decode(value))

        return uuid_text
    return decode


def _copyable(columns: list[Any], codecs: dict[str, ColumnCodec]) -> bool:
    """COPY bypasses SQLAlchemy's bind processing: only for columns whose decoded values psycopg takes as-is."""
    return not any(not is_plain(column) or codecs[column.key].kind == "other" for column in columns)


class _BatchWriter:
    def __init__(
        self,
        loader: _TableLoader,
        table: Table,
        source: _Source,
        decoders: dict[str, Any],
        keys: tuple[str, ...],
        facts: ColumnFacts,
        as_stored: frozenset[str],
    ) -> None:
        from dbops.data.statements import MysqlUpsert, insert_statement

        self.loader = loader
        self.connection = loader.connection
        self.table = table
        self.label = table_label(table)
        self.bind_table = _bind_table(table, as_stored)
        self.source = source
        self.decoders = decoders
        self.keys = keys
        self.generated = facts.generated
        self.insert = insert_statement(
            self.bind_table, loader.dialect, mode=loader.mode, keys=keys, identity_always=facts.identity_always
        )
        self.upsert = MysqlUpsert(self.connection, self.bind_table, keys) if self.insert is None else None
        self.copied = False
        self.prepared = _prepared_insert(self.connection, self.insert, keys) if loader.dialect == "sqlite" else None

    def close(self) -> None:
        if self.upsert is not None and not self.connection.invalidated:
            self.upsert.close()

    def decode(self, row_number: int, raw: dict[str, Any]) -> dict[str, Any]:
        """The row decoded for SQLAlchemy, or a DataError naming file, row and column.

        Values for generated columns are left out: the database computes them.
        """
        decoded: dict[str, Any] = {}
        for key, value in raw.items():
            decode = self.decoders.get(key)
            if decode is None:
                if key in self.generated:
                    continue
                raise DataError(f"{self.source.path} row {row_number}, column {key!r}: no such column in {self.label}")
            if value is None:
                decoded[key] = None
                continue
            try:
                decoded[key] = decode(value)
            except (ValueError, TypeError, OverflowError) as error:
                raise DataError(f"{self.source.path} row {row_number}, column {key!r}: {error}") from error
        return decoded

    def write(self, batch: list[_Row]) -> None:
        from sqlalchemy.exc import StatementError

        if self.loader.max_packet is not None:
            self._check_packet(batch, self.loader.max_packet)
        savepoint = self.connection.begin_nested()
        try:
            self._write(batch)
        except StatementError as error:
            if self.connection.invalidated:  # the server hung up: nothing to retry on
                first, last = batch[0][0], batch[-1][0]
                rows = f"row {first}" if first == last else f"rows {first}-{last}"
                raise DataError(
                    f"{self.source.path} {rows}: the database closed the connection ({_statement_message(error)})"
                ) from error
            savepoint.rollback()
            raise self._locate(batch, error) from error
        savepoint.commit()

    def _check_packet(self, batch: list[_Row], limit: int) -> None:
        """MariaDB/MySQL hang up on a statement larger than ``max_allowed_packet``: name the row first."""
        for row_number, _, prepared in batch:
            if not isinstance(prepared, dict):
                continue
            sizes = {
                key: len(value.encode()) if isinstance(value, str) and 4 * len(value) > limit // 8 else len(value)
                for key, value in prepared.items()
                if isinstance(value, (str, bytes))
            }
            if sizes and sum(sizes.values()) > limit - 1024:
                key = max(sizes, key=lambda name: sizes[name])
                raise DataError(
                    f"{self.source.path} row {row_number}, column {key!r}: {sizes[key] / 1e6:.1f} MB, larger than "
                    f"the server's max_allowed_packet ({limit / 1e6:.1f} MB) allows for a row"
                )

    def _write(self, batch: list[_Row]) -> None:
        """COPY runs of prepared lines or tuples; executemany runs of dicts with the same keys; in file order."""
        groups: list[tuple[Any, list[Any]]] = []
        for _, _, prepared in batch:
            key = None if isinstance(prepared, (tuple, str)) else tuple(prepared)
            if groups and groups[-1][0] == key:
                groups[-1][1].append(prepared)
            else:
                groups.append((key, [prepared]))
        for key, rows in groups:
            if key is None:
                self._copy(rows)
            else:
                self._execute(rows)

    def _execute(self, rows: list[dict[str, Any]]) -> None:
        if self.upsert is not None:
            self.upsert.write(rows)
            return
        if self.prepared is not None and tuple(rows[0]) == self.keys:
            sql, bind = self.prepared
            try:
                values = [bind(row) for row in rows]
            except Exception:  # a bind processor refused a value: SQLAlchemy's own call raises the error we explain
                values = None
            if values is not None:
                self.connection.exec_driver_sql(sql, values)
                return
        self.connection.execute(self.insert, rows)

    @property
    def copy_sql(self) -> str:
        preparer = self.connection.dialect.identifier_preparer
        columns = ", ".join(preparer.format_column(self.table.c[key]) for key in self.keys)
        return f"COPY {preparer.format_table(self.table)} ({columns}) FROM STDIN"

    def _copy(self, rows: list[Any]) -> None:
        from sqlalchemy.exc import DBAPIError

        sql = self.copy_sql
        if self.loader.asyncpg is not None:
            self._copy_records(rows)
            return
        psycopg_connection: Any = self.loader.psycopg
        cursor = psycopg_connection.cursor()
        try:
            with cursor.copy(sql) as copy_:
                if isinstance(rows[0], str):  # COPY text lines, made by _generated_copy_line
                    copy_.write("".join(rows))
                else:
                    write_row = copy_.write_row
                    for row in rows:
                        write_row(row)
        except Exception as error:
            raise DBAPIError(sql, None, error) from error
        finally:
            cursor.close()
        self.copied = True

    def _copy_records(self, rows: list[tuple[Any, ...]]) -> None:
        """asyncpg's binary COPY (``copy_records_to_table``), awaited from the sync code ``run_sync`` runs."""
        from sqlalchemy.exc import DBAPIError
        from sqlalchemy.util import await_only

        columns = [self.table.c[key].name for key in self.keys]
        try:
            await_only(
                self.loader.asyncpg.copy_records_to_table(
                    self.table.name, records=rows, columns=columns, schema_name=self.table.schema
                )
            )
        except Exception as error:
            raise DBAPIError(self.copy_sql, None, error) from error
        self.copied = True

    def _locate(self, batch: list[_Row], error: StatementError) -> DataError:
        """Retry ``batch`` row by row (each in a savepoint) to find the row the database refuses, and say why."""
        from sqlalchemy.exc import StatementError

        for row_number, raw, prepared in batch:
            values = prepared if isinstance(prepared, dict) else self.decode(row_number, raw)
            savepoint = self.connection.begin_nested()
            try:
                self._execute([values])
            except StatementError as row_error:
                if self.connection.invalidated:
                    raise DataError(
                        f"{self.source.path} row {row_number}: the database closed the connection "
                        f"({_statement_message(row_error)})"
                    ) from row_error
                savepoint.rollback()
                return self._explain(row_number, values, row_error)
            savepoint.commit()
        first, last = batch[0][0], batch[-1][0]
        return DataError(f"{self.source.path} rows {first}-{last}: {_statement_message(error)}")

    def _explain(self, row_number: int, values: dict[str, Any], error: StatementError) -> DataError:
        from sqlalchemy import and_, select
        from sqlalchemy.exc import DBAPIError

        where = f"{self.source.path} row {row_number}"
        message = _statement_message(error)
        if not isinstance(error, DBAPIError):  # a TypeDecorator refused the value before it was sent
            column = self._bind_failure(values)
            return DataError(f"{where}" + (f", column {column!r}" if column else "") + f": {message}")
        for constraint in self.table.foreign_key_constraints:
            elements = list(constraint.elements)
            local = [element.parent.key for element in elements]
            if any(values.get(key) is None for key in local):
                continue
            try:
                parent = constraint.referred_table
                condition = and_(*[element.column == values[element.parent.key] for element in elements])
                exists = self.connection.execute(select(1).select_from(parent).where(condition).limit(1)).first()
            except Exception:  # an unresolvable reference: let the database's message speak
                continue
            if exists is None:
                shown = ", ".join(f"{element.column.name}={values[element.parent.key]!r}" for element in elements)
                return DataError(
                    f"{where}, column {', '.join(repr(key) for key in local)}: missing foreign-key parent "
                    f"(no {table_label(parent)} row with {shown})"
                )
        columns = _unique_violation_columns(self.connection, self.table, error, message)
        if columns is None:
            column = next((key for key in values if f"'{key}'" in message or f'"{key}"' in message), None)
            sqlite = _SQLITE_NOT_NULL.search(message)
            if column is None and sqlite:
                column = {c.name: c.key for c in self.table.columns}.get(sqlite["column"], sqlite["column"])
            column = column or _pg_column(error) or self._probe_column(values)
            columns = [column] if column else []
        shown = ", ".join(repr(key) for key in columns)
        return DataError(f"{where}" + (f", column {shown}" if shown else "") + f": {message}")

    def _bind_failure(self, values: dict[str, Any]) -> str | None:
        """The column whose type's bind processing raises on its value."""
        dialect = self.connection.dialect
        for key, value in values.items():
            processor = self.bind_table.c[key].type.dialect_impl(dialect).bind_processor(dialect)
            if processor is None or value is None:
                continue
            try:
                processor(value)
            except Exception:
                return key
        return None

    def _probe_column(self, values: dict[str, Any]) -> str | None:
        """PostgreSQL names no column for a value that doesn't fit its type (numeric overflow, too long):
        insert each value alone into an empty copy of the table's columns (constraints left out) to find it."""
        if self.loader.dialect != "postgresql":
            return None
        import secrets

        from sqlalchemy import Column, MetaData, Table, insert
        from sqlalchemy.exc import StatementError

        preparer = self.connection.dialect.identifier_preparer
        name = f"dbops_probe_{secrets.token_hex(4)}"
        keys = [key for key in values if key in self.bind_table.c]
        selected = ", ".join(preparer.format_column(self.table.c[key]) for key in keys)
        probe = Table(name, MetaData(), *[Column(self.table.c[k].name, self.bind_table.c[k].type, key=k) for k in keys])
        savepoint = self.connection.begin_nested()
        try:
            self.connection.exec_driver_sql(
                f"CREATE TEMPORARY TABLE {preparer.quote(name)} AS SELECT {selected} "
                f"FROM {preparer.format_table(self.table)} WITH NO DATA"
            )
            for key in keys:
                if values[key] is None:
                    continue
                inner = self.connection.begin_nested()
                try:
                    self.connection.execute(insert(probe).values({key: values[key]}))
                except StatementError:
                    inner.rollback()
                    return key
                inner.rollback()
        except StatementError:
            return None
        finally:
            savepoint.rollback()
        return None


def _asyncpg_connection(connection: Connection) -> Any:
    """The asyncpg connection under an async config's connection (run through ``run_sync``), else None."""
    if connection.dialect.driver != "asyncpg":
        return None
    return getattr(connection.connection.dbapi_connection, "driver_connection", None)


def _prepared_insert(
    connection: Connection, insert: Any, keys: tuple[str, ...]
) -> tuple[str, Callable[[dict[str, Any]], tuple[Any, ...]]] | None:
    """SQLite: ``insert`` compiled once, and a function binding a row of ``keys`` to its parameters.

    The values go through the columns' own bind processors (so the stored form is SQLAlchemy's), straight to
    the driver's ``executemany``: SQLAlchemy's per-row parameter handling cost more than the insert itself.
    None when the statement has parameters other than the row's (a default or an expression).
    """
    compiled = insert.compile(dialect=connection.dialect, column_keys=list(keys))
    order = list(compiled.positiontup or [])
    by_key = {bind.key: bind for bind in compiled.binds.values()}
    if sorted(order) != sorted(keys) or compiled.positional is False:
        return None
    dialect = connection.dialect
    processors = [by_key[name].type._cached_bind_processor(dialect) for name in order]
    # processors see None too, as in SQLAlchemy's own execution (a TypeDecorator may bind None as something)
    parts = [
        f"p{index}(row[{name!r}])" if processor is not None else f"row[{name!r}]"
        for index, (name, processor) in enumerate(zip(order, processors, strict=True))
    ]
    source = "def bind(row):\n    return (" + "".join(f"{part}, " for part in parts) + ")\n"
    namespace: dict[str, Any] = {f"p{index}": processor for index, processor in enumerate(processors)}
    exec(compile(source, "<dbops sqlite binds>", "exec"), namespace)
    return str(compiled), namespace["bind"]


def _statement_message(error: StatementError) -> str:
    from sqlalchemy.exc import DBAPIError

    if isinstance(error, DBAPIError):
        return _db_message(error)
    text = str(error.orig if error.orig is not None else error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _pg_column(error: StatementError) -> str | None:
    """The column PostgreSQL's structured error fields name (not-null and check violations), if any."""
    from dbops.violations import pg_details

    return pg_details(getattr(error, "orig", None))[1]


_SQLITE_NOT_NULL = re.compile(r"NOT NULL constraint failed: (?:.+\.)?(?P<column>[^.]+)$")


def _unique_violation_columns(
    connection: Connection, table: Table, error: StatementError, message: str
) -> list[str] | None:
    """The columns (keys) of the unique constraint or primary key a row broke; None if it isn't a unique violation.

    The constraint the error names, looked up in the table's metadata (``dbops.violations``, shared with the
    repository), else in the database, whose names may differ from the models'.
    """
    from sqlalchemy import inspect

    from dbops.violations import named_constraint, pg_details, unique_columns

    lowered = message.lower()
    if "duplicate" not in lowered and "unique" not in lowered:
        return None
    keys = {column.name: column.key for column in table.columns}
    orig = getattr(error, "orig", None)
    names = unique_columns(orig, table)
    if not names:
        constraint, _, detail = pg_details(orig)
        constraint = named_constraint(message + (f"\n{detail}" if detail else ""), None, constraint)[0]
        names = _database_constraint_columns(inspect(connection), table, constraint) if constraint else []
    return [keys.get(name, name) for name in names]


def _database_constraint_columns(inspector: Any, table: Table, constraint: str) -> list[str]:
    try:
        primary = inspector.get_pk_constraint(table.name, schema=table.schema)
        if constraint in ("PRIMARY", primary.get("name")):
            return list(primary["constrained_columns"])
        for item in inspector.get_unique_constraints(table.name, schema=table.schema):
            if item["name"] == constraint:
                return list(item["column_names"])
        for index in inspector.get_indexes(table.name, schema=table.schema):
            if index["name"] == constraint:
                return [str(column) for column in index["column_names"]]
    except Exception:  # the error path: a failed lookup must not hide the database's message
        return []
    return []

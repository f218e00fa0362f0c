"""MySQL/MariaDB and SQLite rules, on a tokenizer that knows these dialects' quoting and comments.

The statements checked are the DDL Alembic renders (and what revisions pass to ``op.execute``): ``CREATE
TABLE``, ``ALTER TABLE`` with its comma-separated actions, ``CREATE/DROP INDEX``, ``DROP TABLE``, ``RENAME
TABLE``, ``SET``. Anything else passes unchecked. The MySQL rules follow the online-DDL tables of the MySQL 8
and MariaDB 10.6+ manuals: operations that cannot run with ``ALGORITHM=INPLACE``/``INSTANT`` and ``LOCK=NONE``.
An ``ALTER TABLE`` that itself says ``ALGORITHM=INSTANT``, or ``ALGORITHM=INPLACE, LOCK=NONE``, is safe by
construction (the server refuses rather than copy or lock), so those rules skip it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from dbops.migrations.lint.state import Column, Hit, RevisionState

__all__ = ["Token", "check", "statements", "tokenize"]

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>--[^\n]*|\#[^\n]*|/\*.*?\*/)
  | (?P<string>'(?:[^'\\]|\\.|'')*')
  | (?P<quoted>`(?:[^`]|``)*`|"(?:[^"]|"")*"|\[[^\]]*\])
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<word>[A-Za-z_$@][\w$@.]*)
  | (?P<punct>.)
    """,
    re.S | re.X,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int
    end: int

    @property
    def word(self) -> str:
        """The upper-cased keyword, or '' for anything but a bare word."""
        return self.text.upper() if self.kind == "word" else ""

    @property
    def name(self) -> str:
        """An identifier's name: unquoted, lower-cased when it was not quoted."""
        if self.kind == "quoted":
            return self.text[1:-1]
        return self.text.lower()

    @property
    def value(self) -> str:
        """A string literal's value."""
        return self.text[1:-1].replace("''", "'").replace("\\'", "'")


def tokenize(sql: str) -> list[Token]:
    return [
        Token(match.lastgroup or "", match.group(), match.start(), match.end())
        for match in _TOKEN.finditer(sql)
        if match.lastgroup not in ("ws", "comment")
    ]


def statements(sql: str) -> list[tuple[str, list[Token]]]:
    """``(text, tokens)`` for each ``;``-separated statement in ``sql``."""
    found: list[tuple[str, list[Token]]] = []
    current: list[Token] = []
    for token in [*tokenize(sql), None]:
        if token is None or (token.kind == "punct" and token.text == ";"):
            if current:
                found.append((sql[current[0].start : current[-1].end], current))
            current = []
        else:
            current.append(token)
    return found


class _Cursor:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0

    def peek(self, offset: int = 0) -> Token | None:
        position = self.index + offset
        return self.tokens[position] if position < len(self.tokens) else None

    def word(self, offset: int = 0) -> str:
        token = self.peek(offset)
        return token.word if token is not None else ""

    def next(self) -> Token | None:
        token = self.peek()
        self.index += 1
        return token

    def accept(self, *words: str) -> bool:
        if self.word() in words:
            self.index += 1
            return True
        return False

    def accept_all(self, *words: str) -> bool:
        if all(self.word(i) == word for i, word in enumerate(words)):
            self.index += len(words)
            return True
        return False

    def name(self) -> str:
        """A possibly qualified name (``db.table``, ```db`.`table```): its last part."""
        token = self.next()
        if token is None:
            return ""
        name = token.name
        while self.peek() is not None and self.peek().text == ".":  # type: ignore[union-attr]
            self.index += 1
            following = self.next()
            name = following.name if following is not None else name
        return name.rsplit(".", 1)[-1] if token.kind == "word" else name

    def items(self) -> list[list[Token]]:
        """Top-level comma-separated items from here to the end (parentheses nest)."""
        items: list[list[Token]] = [[]]
        depth = 0
        while (token := self.next()) is not None:
            if token.text == "(":
                depth += 1
            elif token.text == ")":
                depth -= 1
            if token.text == "," and depth == 0:
                items.append([])
            else:
                items[-1].append(token)
        return [item for item in items if item]

    def group(self) -> list[Token]:
        """The tokens inside the parenthesised group starting here (the cursor moves past it)."""
        if self.peek() is None or self.peek().text != "(":  # type: ignore[union-attr]
            return []
        depth = 0
        inside: list[Token] = []
        while (token := self.next()) is not None:
            if token.text == "(":
                depth += 1
                if depth == 1:
                    continue
            elif token.text == ")":
                depth -= 1
                if depth == 0:
                    break
            inside.append(token)
        return inside


_MODIFIERS = frozenset(
    {
        "NULL",
        "NOT",
        "DEFAULT",
        "COMMENT",
        "AUTO_INCREMENT",
        "AUTOINCREMENT",
        "PRIMARY",
        "UNIQUE",
        "KEY",
        "COLLATE",
        "CHARACTER",
        "CHARSET",
        "GENERATED",
        "AS",
        "ON",
        "FIRST",
        "AFTER",
        "CHECK",
        "REFERENCES",
        "INVISIBLE",
        "VISIBLE",
        "CONSTRAINT",
        "UNSIGNED",
        "SIGNED",
        "ZEROFILL",
        "STORED",
        "VIRTUAL",
    }
)
_TYPE_SYNONYMS = {"integer": "int", "bool": "tinyint", "boolean": "tinyint", "numeric": "decimal", "dec": "decimal"}
_INTEGERS = frozenset({"tinyint", "smallint", "mediumint", "int", "bigint"})
_TABLE_CONSTRAINTS = frozenset(
    {"CONSTRAINT", "PRIMARY", "UNIQUE", "KEY", "INDEX", "FOREIGN", "CHECK", "FULLTEXT", "SPATIAL"}
)


@dataclass
class _ColumnDef:
    name: str
    column: Column
    not_null: bool = False
    default: bool = False
    auto_increment: bool = False
    primary_key: bool = False
    stored_generated: bool = False


def _column_def(tokens: list[Token]) -> _ColumnDef | None:
    cursor = _Cursor(tokens)
    name_token = cursor.next()
    if name_token is None or cursor.peek() is None:
        return None
    words: list[str] = []
    while (token := cursor.peek()) is not None and token.kind == "word" and token.word not in _MODIFIERS:
        words.append(token.text.lower())
        cursor.index += 1
    base = _TYPE_SYNONYMS.get(words[0], words[0]) if words else "unknown"
    inner = cursor.group()
    args: tuple[object, ...] = ()
    if base not in _INTEGERS:
        args = tuple(
            int(t.text) if t.kind == "number" and "." not in t.text else t.value
            for t in inner
            if t.kind in ("number", "string")
        )
    rest = [token.word for token in tokens[cursor.index :]]
    definition = _ColumnDef(name_token.name, Column(base, args))
    for index, word in enumerate(rest):
        if word == "NULL" and index > 0 and rest[index - 1] == "NOT":
            definition.not_null = True
        elif word == "DEFAULT":
            definition.default = True
        elif word in ("AUTO_INCREMENT", "AUTOINCREMENT"):
            definition.auto_increment = True
        elif word == "PRIMARY":
            definition.primary_key = True
        elif word == "STORED" or (word == "PERSISTENT"):
            definition.stored_generated = True
    return definition


def _guarded(tokens: list[Token]) -> bool:
    """``ALGORITHM=INSTANT``, or ``ALGORITHM=INPLACE`` with ``LOCK=NONE``: the server refuses to copy or lock."""
    options: dict[str, str] = {}
    for index, token in enumerate(tokens[:-2]):
        if token.word in ("ALGORITHM", "LOCK") and tokens[index + 1].text == "=":
            options[token.word] = tokens[index + 2].word
    algorithm = options.get("ALGORITHM", "")
    return algorithm == "INSTANT" or (algorithm == "INPLACE" and options.get("LOCK") == "NONE")


_TMP_PREFIX = "_alembic_tmp_"


class _Checker:
    def __init__(self, dialect: str, state: RevisionState) -> None:
        self.mysql = dialect == "mysql"
        self.state = state

    def lock_timeout(self, what: str) -> Iterator[Hit]:
        if self.mysql and not self.state.lock_timeout:
            yield Hit("lock-timeout-missing", f"{what} without a lock_wait_timeout in force")

    # -- statements -------------------------------------------------------------------------------------

    def run(self, tokens: list[Token]) -> Iterator[Hit]:
        cursor = _Cursor(tokens)
        first = cursor.word()
        if first == "CREATE":
            cursor.next()
            cursor.accept("OR")
            cursor.accept("REPLACE")
            cursor.accept("TEMPORARY", "TEMP")
            if cursor.accept("TABLE"):
                cursor.accept_all("IF", "NOT", "EXISTS")
                yield from self.create_table(cursor)
            else:
                kind = cursor.word() if cursor.word() in ("UNIQUE", "FULLTEXT", "SPATIAL") else ""
                cursor.accept("UNIQUE", "FULLTEXT", "SPATIAL")
                if cursor.accept("INDEX"):
                    yield from self.create_index(cursor, kind)
        elif first == "ALTER" and cursor.word(1) == "TABLE":
            cursor.index += 2
            cursor.accept("ONLY", "IGNORE")
            yield from self.alter_table(cursor, tokens)
        elif first == "DROP" and cursor.word(1) == "TABLE":
            cursor.index += 2
            cursor.accept_all("IF", "EXISTS")
            for item in cursor.items():
                yield from self.drop_table(_Cursor(item).name())
        elif first == "DROP" and cursor.word(1) == "INDEX":
            cursor.index += 2
            cursor.accept_all("IF", "EXISTS")
            index = cursor.name()
            table = cursor.name() if cursor.accept("ON") else self.state.catalog.indexes.get(index, "")
            self.state.catalog.indexes.pop(index, None)
            if table and self.state.existing(table) and index not in self.state.created_indexes:
                yield from self.lock_timeout(f"DROP INDEX {index}")
        elif first == "RENAME" and cursor.word(1) == "TABLE":
            cursor.index += 2
            for item in cursor.items():
                pair = _Cursor(item)
                old = pair.name()
                pair.accept("TO")
                yield from self.rename_table(old, pair.name())
        elif first == "SET":
            self.set(tokens[1:])

    def create_table(self, cursor: _Cursor) -> Iterator[Hit]:
        table = cursor.name()
        columns: dict[str, Column] = {}
        primary: list[str] = []
        definitions: list[_ColumnDef] = []
        for item in _Cursor(cursor.group()).items():
            if item[0].word in _TABLE_CONSTRAINTS:
                words = [token.word for token in item]
                if "PRIMARY" in words:
                    inner = _Cursor(item[words.index("PRIMARY") + 2 :]).group()
                    primary.extend(token.name for token in inner if token.kind in ("word", "quoted"))
                continue
            definition = _column_def(item)
            if definition is not None:
                columns[definition.name] = definition.column
                definitions.append(definition)
                if definition.primary_key:
                    primary.append(definition.name)
        self.state.created.add(table)
        if table.startswith(_TMP_PREFIX):
            yield from self.rebuild(table[len(_TMP_PREFIX) :], columns)
        self.state.catalog.tables[table] = columns
        if self.mysql:
            for name in primary:
                column = columns.get(name)
                if column is not None and column.type in _INTEGERS and column.type != "bigint":
                    yield Hit("int-primary-key", f"{table}.{name} is an {column.type} primary key")

    def rebuild(self, table: str, columns: dict[str, Column]) -> Iterator[Hit]:
        """SQLite batch mode: ``CREATE TABLE _alembic_tmp_x``, copy, ``DROP TABLE x``, rename back."""
        if not self.state.existing(table):
            return
        self.state.rebuilt.add(table)
        yield Hit("sqlite-table-rebuild", f"batch mode recreates table {table}")
        for name in self.state.catalog.tables.get(table, {}):
            if name not in columns:
                yield Hit("drop-column", f"DROP COLUMN {table}.{name} (by recreating the table)")

    def create_index(self, cursor: _Cursor, kind: str) -> Iterator[Hit]:
        cursor.accept_all("IF", "NOT", "EXISTS")
        index = cursor.name()
        cursor.accept("ON")
        table = cursor.name()
        self.state.catalog.indexes[index] = table
        self.state.created_indexes.add(index)
        if not self.state.existing(table):
            return
        if self.mysql and kind in ("FULLTEXT", "SPATIAL"):
            yield Hit("mysql-fulltext-spatial-index", f"CREATE {kind} INDEX {index} ON {table}")
        yield from self.lock_timeout(f"CREATE INDEX {index} ON {table}")

    def drop_table(self, table: str) -> Iterator[Hit]:
        self.state.catalog.tables.pop(table, None)
        if table in self.state.rebuilt or not self.state.existing(table):
            return
        yield Hit("drop-table", f"DROP TABLE {table}")
        yield from self.lock_timeout(f"DROP TABLE {table}")

    def rename_table(self, old: str, new: str) -> Iterator[Hit]:
        tables = self.state.catalog.tables
        if old in tables:
            tables[new] = tables.pop(old)
        if old.startswith(_TMP_PREFIX) and new in self.state.rebuilt:
            return
        if not self.state.existing(old):
            self.state.created.add(new)
            return
        yield Hit("rename-table", f"RENAME TABLE {old} TO {new}")

    def set(self, tokens: list[Token]) -> None:
        """``SET [SESSION] lock_wait_timeout = 5``, ``SET foreign_key_checks = 0`` (``@@session.x`` too)."""
        for item in _Cursor(tokens).items():
            equals = next((i for i, token in enumerate(item) if token.text in ("=", ":=")), 0)
            if equals < 1:
                continue
            name = item[equals - 1].text.lower().rsplit(".", 1)[-1]
            value = " ".join(token.text for token in item[equals + 1 :]).strip("'\"").upper()
            if name == "lock_wait_timeout":
                self.state.lock_timeout = value not in ("0", "DEFAULT")
            elif name == "foreign_key_checks":
                self.state.foreign_key_checks = value not in ("0", "OFF", "FALSE")

    # -- ALTER TABLE ------------------------------------------------------------------------------------

    def alter_table(self, cursor: _Cursor, tokens: list[Token]) -> Iterator[Hit]:
        table = cursor.name()
        existing = self.state.existing(table)
        guarded = _guarded(tokens)
        columns = self.state.catalog.tables.setdefault(table, {})
        adds_primary = drops_primary = False
        online: list[Hit] = []  # the rules an explicit ALGORITHM/LOCK clause makes safe
        compat: list[Hit] = []
        for item in cursor.items():
            action = _Cursor(item)
            verb = action.word()
            action.next()
            if verb == "ADD":
                action.accept("COLUMN")
                word = action.word()
                if word == "CONSTRAINT":
                    action.next()
                    if action.word() not in ("PRIMARY", "FOREIGN", "UNIQUE", "CHECK"):
                        action.next()  # the constraint's name
                    word = action.word()
                if word == "PRIMARY":
                    adds_primary = True
                elif word == "FOREIGN":
                    if existing and self.mysql and self.state.foreign_key_checks:
                        online.append(Hit("mysql-foreign-key-copy", f"ADD FOREIGN KEY on {table}"))
                elif word in ("FULLTEXT", "SPATIAL"):
                    if existing and self.mysql:
                        online.append(Hit("mysql-fulltext-spatial-index", f"ADD {word} INDEX on {table}"))
                elif word not in _TABLE_CONSTRAINTS:
                    group = action.group() if action.peek() is not None and action.peek().text == "(" else None  # type: ignore[union-attr]
                    parts = _Cursor(group).items() if group is not None else [item[action.index :]]
                    for part in parts:
                        definition = _column_def(part)
                        if definition is not None:
                            columns[definition.name] = definition.column
                            if existing:
                                online.extend(self.added_column(table, definition))
            elif verb == "DROP":
                word = action.word()
                if word == "PRIMARY":
                    drops_primary = True
                elif word not in ("INDEX", "KEY", "FOREIGN", "CONSTRAINT", "CHECK", "DEFAULT"):
                    action.accept("COLUMN")
                    action.accept_all("IF", "EXISTS")
                    name = action.name()
                    columns.pop(name, None)
                    if existing and table not in self.state.rebuilt:
                        compat.append(Hit("drop-column", f"DROP COLUMN {table}.{name}"))
            elif verb in ("MODIFY", "CHANGE"):
                action.accept("COLUMN")
                old_name = action.name() if verb == "CHANGE" else ""
                definition = _column_def(item[action.index :])
                if definition is None:
                    continue
                old_name = old_name or definition.name
                before = columns.pop(old_name, None)
                columns[definition.name] = definition.column
                if existing and old_name != definition.name:
                    compat.append(Hit("rename-column", f"RENAME COLUMN {table}.{old_name} TO {definition.name}"))
                if existing and self.mysql:
                    online.extend(_type_change(table, definition.name, before, definition.column))
            elif verb == "RENAME":
                if action.accept("COLUMN"):
                    old = action.name()
                    action.accept("TO")
                    new = action.name()
                    if old in columns:
                        columns[new] = columns.pop(old)
                    if existing:
                        compat.append(Hit("rename-column", f"RENAME COLUMN {table}.{old} TO {new}"))
                elif action.word() not in ("INDEX", "KEY"):
                    action.accept("TO", "AS")
                    compat.extend(self.rename_table(table, action.name()))
            elif verb == "CONVERT" and existing and self.mysql:
                online.append(Hit("mysql-convert-charset", f"CONVERT {table} TO another character set"))
        if drops_primary and not adds_primary and existing and self.mysql:
            online.append(Hit("mysql-drop-primary-key", f"DROP PRIMARY KEY on {table}"))
        yield from compat
        if not guarded:
            yield from online
        if existing:
            yield from self.lock_timeout(f"ALTER TABLE {table}")

    def added_column(self, table: str, definition: _ColumnDef) -> Iterator[Hit]:
        label = f"ADD COLUMN {table}.{definition.name}"
        if self.mysql:
            if definition.auto_increment:
                yield Hit("mysql-auto-increment-column", f"{label} AUTO_INCREMENT")
            if definition.stored_generated:
                yield Hit("mysql-stored-generated-column", f"{label} as a STORED generated column")
        elif definition.not_null and not definition.default:
            yield Hit("add-column-required", f"{label} NOT NULL without a default")


def _type_change(table: str, name: str, before: Column | None, after: Column) -> Iterator[Hit]:
    label = f"{table}.{name}"
    if before is None:
        yield Hit("column-type-rewrite", f"MODIFY {label} {after.type} (previous type unknown)")
        return
    if before == after:
        return  # only NULL / DEFAULT / COMMENT changed: in place
    if before.type == after.type == "varchar" and before.args and after.args:
        old, new = int(str(before.args[0])), int(str(after.args[0]))
        if new < old:
            yield Hit("varchar-length-reduction", f"{label} varchar({old}) -> varchar({new})")
        elif (old * 4 <= 255) != (new * 4 <= 255):
            # The length prefix grows from 1 to 2 bytes (utf8mb4: 4 bytes a character): ALGORITHM=COPY.
            yield Hit("column-type-rewrite", f"{label} varchar({old}) -> varchar({new}) changes the length prefix")
        return
    if before.type == after.type == "enum":
        lost = [value for value in before.args if value not in after.args]
        if lost:
            yield Hit("enum-value-removal", f"enum {label} loses {', '.join(map(repr, lost))}")
        elif after.args[: len(before.args)] != before.args:
            yield Hit("column-type-rewrite", f"enum {label} values reordered (only appending is instant)")
        return
    yield Hit("column-type-rewrite", f"MODIFY {label} {_show(before)} -> {_show(after)}")


def _show(column: Column) -> str:
    return f"{column.type}({', '.join(map(str, column.args))})" if column.args else column.type


def check(tokens: list[Token], state: RevisionState, dialect: str) -> list[Hit]:
    """The rules a MySQL/MariaDB or SQLite statement trips, updating ``state``."""
    return list(_Checker(dialect, state).run(tokens))

"""One revision that trips each rule and one, as close to it as possible, that doesn't.

Each case runs after ``helpers.BASE`` (author, book with an enum, an index). The bodies are what a project's
own revisions contain: Alembic operations as autogenerate or a developer writes them, and raw SQL.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    rule: str
    dialect: str
    trips: str
    clean: str

    @property
    def id(self) -> str:
        return f"{self.rule}-{self.dialect}"


_CONCURRENT_INDEX = """
with op.get_context().autocommit_block():
    op.create_index("ix_book_title", "book", ["title"], postgresql_concurrently=True)
"""

CASES = [
    # -- PostgreSQL --------------------------------------------------------------------------------------
    Case(
        "create-index-non-concurrently",
        "postgresql",
        'op.create_index("ix_book_title", "book", ["title"])',
        _CONCURRENT_INDEX,
    ),
    Case(
        "drop-index-non-concurrently",
        "postgresql",
        'op.drop_index("ix_book_author_id", table_name="book")',
        """
        with op.get_context().autocommit_block():
            op.drop_index("ix_book_author_id", table_name="book", postgresql_concurrently=True)
        """,
    ),
    Case(
        "concurrently-in-transaction",
        "postgresql",
        'op.create_index("ix_book_title", "book", ["title"], postgresql_concurrently=True)',
        _CONCURRENT_INDEX,
    ),
    Case(
        "foreign-key-not-valid",
        "postgresql",
        'op.create_foreign_key("fk_book_author", "book", "author", ["author_id"], ["id"])',
        'op.create_foreign_key("fk_book_author", "book", "author", ["author_id"], ["id"], postgresql_not_valid=True)',
    ),
    Case(
        "check-constraint-not-valid",
        "postgresql",
        'op.create_check_constraint("price_positive", "book", "price >= 0")',
        """
        op.create_check_constraint("price_positive", "book", "price >= 0", postgresql_not_valid=True)
        """,
    ),
    Case(
        "unique-constraint",
        "postgresql",
        'op.create_unique_constraint("uq_book_title", "book", ["title"])',
        """
        with op.get_context().autocommit_block():
            op.create_index("uq_book_title_idx", "book", ["title"], unique=True, postgresql_concurrently=True)
        op.execute("ALTER TABLE book ADD CONSTRAINT uq_book_title UNIQUE USING INDEX uq_book_title_idx")
        """,
    ),
    Case(
        "column-type-rewrite",
        "postgresql",
        'op.alter_column("book", "price", type_=sa.Float, existing_type=sa.Numeric(10, 2))',
        'op.alter_column("book", "price", type_=sa.Numeric(12, 2), existing_type=sa.Numeric(10, 2))',
    ),
    Case(
        "varchar-length-reduction",
        "postgresql",
        'op.alter_column("book", "title", type_=sa.String(50), existing_type=sa.String(200))',
        'op.alter_column("book", "title", type_=sa.String(300), existing_type=sa.String(200))',
    ),
    Case(
        "set-not-null",
        "postgresql",
        'op.alter_column("book", "title", nullable=False, existing_type=sa.String(200))',
        """
        op.execute("ALTER TABLE book ADD CONSTRAINT title_not_null CHECK (title IS NOT NULL) NOT VALID")
        op.execute("ALTER TABLE book VALIDATE CONSTRAINT title_not_null")
        op.alter_column("book", "title", nullable=False, existing_type=sa.String(200))
        """,
    ),
    Case(
        "add-column-volatile-default",
        "postgresql",
        'op.add_column("book", sa.Column("token", sa.Uuid, server_default=sa.text("gen_random_uuid()")))',
        'op.add_column("book", sa.Column("added_at", sa.DateTime(timezone=True), server_default=sa.text("now()")))',
    ),
    Case(
        "add-column-required",
        "postgresql",
        'op.add_column("book", sa.Column("pages", sa.Integer, nullable=False))',
        'op.add_column("book", sa.Column("pages", sa.Integer, nullable=False, server_default="0"))',
    ),
    Case(
        "lock-timeout-missing",
        "postgresql",
        'op.add_column("book", sa.Column("note", sa.Text))',
        """
        op.execute("SET LOCAL lock_timeout = '500ms'")
        op.add_column("book", sa.Column("note", sa.Text))
        """,
    ),
    Case(
        "vacuum-full-cluster",
        "postgresql",
        """
        with op.get_context().autocommit_block():
            op.execute("VACUUM FULL book")
        """,
        """
        with op.get_context().autocommit_block():
            op.execute("VACUUM (ANALYZE) book")
        """,
    ),
    Case(
        "int-primary-key",
        "postgresql",
        'op.create_table("tag", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.Text))',
        'op.create_table("tag", sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True))',
    ),
    Case(
        "enum-value-removal",
        "postgresql",
        """
        op.execute("ALTER TYPE book_status RENAME TO book_status_old")
        op.execute("CREATE TYPE book_status AS ENUM ('draft', 'published')")
        op.execute("ALTER TABLE book ALTER COLUMN status TYPE book_status USING status::text::book_status")
        op.execute("DROP TYPE book_status_old")
        """,
        """
        op.execute("ALTER TYPE book_status ADD VALUE 'retired'")
        """,
    ),
    # -- MySQL / MariaDB ---------------------------------------------------------------------------------
    Case(
        "column-type-rewrite",
        "mysql",
        'op.alter_column("book", "price", type_=sa.Float, existing_type=sa.Numeric(10, 2))',
        'op.alter_column("book", "title", type_=sa.String(250), existing_type=sa.String(200))',
    ),
    Case(
        "varchar-length-reduction",
        "mysql",
        'op.alter_column("book", "title", type_=sa.String(50), existing_type=sa.String(200))',
        'op.alter_column("book", "title", nullable=False, existing_type=sa.String(200))',
    ),
    Case(
        "enum-value-removal",
        "mysql",
        """
        op.alter_column(
            "book",
            "status",
            type_=sa.Enum("draft", "published", name="book_status"),
            existing_type=sa.Enum("draft", "published", "archived", name="book_status"),
        )
        """,
        """
        op.alter_column(
            "book",
            "status",
            type_=sa.Enum("draft", "published", "archived", "retired", name="book_status"),
            existing_type=sa.Enum("draft", "published", "archived", name="book_status"),
        )
        """,
    ),
    Case(
        "lock-timeout-missing",
        "mysql",
        'op.add_column("book", sa.Column("note", sa.Text))',
        """
        op.execute("SET SESSION lock_wait_timeout = 5")
        op.add_column("book", sa.Column("note", sa.Text))
        """,
    ),
    Case(
        "int-primary-key",
        "mysql",
        'op.create_table("tag", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.Text))',
        'op.create_table("tag", sa.Column("id", sa.BigInteger, primary_key=True), sa.Column("name", sa.Text))',
    ),
    Case(
        "mysql-foreign-key-copy",
        "mysql",
        'op.create_foreign_key("fk_book_author", "book", "author", ["author_id"], ["id"])',
        """
        op.execute("SET foreign_key_checks = 0")
        op.create_foreign_key("fk_book_author", "book", "author", ["author_id"], ["id"])
        op.execute("SET foreign_key_checks = 1")
        """,
    ),
    Case(
        "mysql-drop-primary-key",
        "mysql",
        'op.execute("ALTER TABLE book DROP PRIMARY KEY")',
        'op.execute("ALTER TABLE book DROP PRIMARY KEY, ADD PRIMARY KEY (id, author_id)")',
    ),
    Case(
        "mysql-convert-charset",
        "mysql",
        'op.execute("ALTER TABLE book CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")',
        'op.execute("ALTER TABLE book DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")',
    ),
    Case(
        "mysql-fulltext-spatial-index",
        "mysql",
        'op.create_index("ft_book_title", "book", ["title"], mysql_prefix="FULLTEXT")',
        'op.create_index("ix_book_title", "book", ["title"])',
    ),
    Case(
        "mysql-auto-increment-column",
        "mysql",
        'op.execute("ALTER TABLE author ADD COLUMN seq BIGINT NOT NULL AUTO_INCREMENT UNIQUE")',
        'op.add_column("author", sa.Column("seq", sa.BigInteger))',
    ),
    Case(
        "mysql-stored-generated-column",
        "mysql",
        'op.add_column("book", sa.Column("title_upper", sa.String(200), sa.Computed("upper(title)", persisted=True)))',
        'op.add_column("book", sa.Column("title_upper", sa.String(200), sa.Computed("upper(title)", persisted=False)))',
    ),
    # -- SQLite ------------------------------------------------------------------------------------------
    Case(
        "sqlite-table-rebuild",
        "sqlite",
        """
        with op.batch_alter_table("book") as batch:
            batch.alter_column("title", type_=sa.Text, existing_type=sa.String(200))
        """,
        'op.add_column("book", sa.Column("note", sa.Text))',
    ),
    Case(
        "add-column-required",
        "sqlite",
        'op.add_column("book", sa.Column("pages", sa.Integer, nullable=False))',
        'op.add_column("book", sa.Column("pages", sa.Integer, nullable=False, server_default="0"))',
    ),
]

# The rules about the running release (it still uses what a revision drops or renames), on every dialect:
# the near miss is the same operation on a table created in the same revision, which nothing uses yet.
_SCRATCH = 'op.create_table("scratch", sa.Column("id", sa.BigInteger, primary_key=True), sa.Column("x", sa.Text))'
for _dialect in ("postgresql", "mysql", "sqlite"):
    CASES += [
        Case("drop-column", _dialect, 'op.drop_column("book", "price")', f'{_SCRATCH}\nop.drop_column("scratch", "x")'),
        Case("drop-table", _dialect, 'op.drop_table("author")', f'{_SCRATCH}\nop.drop_table("scratch")'),
        Case(
            "rename-column",
            _dialect,
            'op.alter_column("book", "title", new_column_name="name", existing_type=sa.String(200))',
            f'{_SCRATCH}\nop.alter_column("scratch", "x", new_column_name="y", existing_type=sa.Text)',
        ),
        Case(
            "rename-table",
            _dialect,
            'op.rename_table("author", "writer")',
            f'{_SCRATCH}\nop.rename_table("scratch", "s2")',
        ),
        Case(
            "invalid-suppression",
            _dialect,
            'op.drop_column("book", "price")  # dbops-lint: allow drop-column',
            'op.drop_column("book", "price")  # dbops-lint: allow drop-column -- unused since release 4.2',
        ),
    ]

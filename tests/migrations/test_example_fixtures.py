"""The README's "Loading fixtures" commands, as printed, on the example app (examples/fixtures)."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import sqlalchemy as sa

from tests.cli_runner import invoke_process
from tests.conftest import REPO_ROOT


def readme_fixture_commands() -> list[list[str]]:
    text = (REPO_ROOT / "README.md").read_text()
    start = text.index("**Loading fixtures**")
    block = re.search(r"```bash\n(.*?)```", text[start:], flags=re.DOTALL)
    assert block is not None
    return [shlex.split(line.split("#")[0]) for line in block.group(1).splitlines() if line.startswith("dbops ")]


def test_the_readme_fixture_commands_load_the_example_app(tmp_path: Path) -> None:
    commands = readme_fixture_commands()
    assert len(commands) == 2
    shutil.copytree(
        REPO_ROOT / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns("*.sqlite", "__pycache__")
    )
    assert invoke_process(["--config", "examples/app.py:db", "upgrade"], cwd=tmp_path).exit_code == 0
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'examples' / 'app.sqlite'}")
    seed, one_file = commands
    for _ in range(2):  # the seed is re-runnable
        result = invoke_process(seed[1:], cwd=tmp_path)
        assert result.exit_code == 0, result.stderr
        assert "Loaded 5 rows into 2 tables (upsert)" in result.stderr
    with engine.connect() as connection:
        books = connection.execute(
            sa.text("SELECT a.name, b.title FROM book b JOIN author a ON a.id = b.author_id ORDER BY b.id")
        ).all()
        assert [tuple(row) for row in books] == [
            ("Ursula K. Le Guin", "The Dispossessed"),
            ("Ursula K. Le Guin", "The Left Hand of Darkness"),
            ("Octavia E. Butler", "Kindred"),
        ]
        connection.execute(sa.text("DELETE FROM book"))
        connection.execute(sa.text("DELETE FROM author"))
        connection.commit()
    result = invoke_process(one_file[1:], cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "Loaded 2 rows into 1 table (insert)" in result.stderr  # "1 table", not "1 tables"
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM author")).scalar_one() == 2
        assert connection.execute(sa.text("SELECT count(*) FROM book")).scalar_one() == 0
    engine.dispose()

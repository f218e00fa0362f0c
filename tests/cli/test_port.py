"""``dbops port``: the engine on Advanced Alchemy-style sources, the command's argv → exit code → output, and
an app written for Advanced Alchemy that runs with the same responses once ported."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from litestar.testing import TestClient

from dbops.porting import IMPORT_MAP, port_path, port_source
from tests.cli_runner import invoke
from tests.databases import TestDatabase

FIXTURE = Path(__file__).parent / "port_fixtures" / "aa_authors_app.py.txt"


def test_imports_are_rewritten_and_nothing_else() -> None:
    source = (
        "import advanced_alchemy.filters\n"
        "from advanced_alchemy import filters, repository as repo\n"
        "from advanced_alchemy.exceptions import AdvancedAlchemyError, NotFoundError as Missing\n"
        "from advanced_alchemy.extensions.litestar import (\n"
        "    SQLAlchemyPlugin,\n"
        "    providers,\n"
        ")\n"
        "from litestar.plugins.sqlalchemy import SQLAlchemyDTO\n"
        "from advanced_alchemy.mixins import AuditColumns\n"
        "import litestar\n"
        "\n"
        "def f():\n"
        "    from advanced_alchemy.types.file_object import StorageBackend  # nested\n"
        "    return advanced_alchemy.filters.LimitOffset(1, 0), 'advanced_alchemy.filters stays in strings'\n"
    )
    ported, unresolved = port_source(source)
    assert ported == (
        "import dbops.filters\n"
        "from dbops import filters, repository as repo\n"
        "from dbops.exceptions import DbopsError as AdvancedAlchemyError, NotFoundError as Missing\n"
        "from litestar_dbops import (\n"
        "    SQLAlchemyPlugin,\n"
        "    providers,\n"
        ")\n"
        "from litestar_dbops import SQLAlchemyDTO\n"
        "from dbops.base import AuditColumns\n"
        "import litestar\n"
        "\n"
        "def f():\n"
        "    from dbops.types.file_object import StorageBackend  # nested\n"
        "    return dbops.filters.LimitOffset(1, 0), 'advanced_alchemy.filters stays in strings'\n"
    )
    assert unresolved == []
    assert port_source(ported) == (ported, [])  # porting twice changes nothing


def test_names_without_a_counterpart_are_reported() -> None:
    ported, unresolved = port_source(
        "from advanced_alchemy.repository import SQLAlchemyAsyncRepository, SQLAlchemyAsyncSlugRepository\n"
        "import advanced_alchemy\n"
    )
    assert ported.splitlines()[0] == (
        "from dbops.repository import SQLAlchemyAsyncRepository, SQLAlchemyAsyncSlugRepository"
    )
    assert unresolved == ["1: advanced_alchemy.repository.SQLAlchemyAsyncSlugRepository", "2: import advanced_alchemy"]


def test_every_mapped_module_exists() -> None:
    for target in set(IMPORT_MAP.values()):
        assert importlib.util.find_spec(target) is not None, target


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def ported_app(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """The fixture app, ported by the command and imported once (its models register on the shared metadata)."""
    folder = tmp_path_factory.mktemp("aa_app")
    app_file = folder / "aa_authors_app.py"
    app_file.write_text(FIXTURE.read_text())
    result = invoke(["port", str(folder), "--write", "--yes"])
    assert result.exit_code == 0, result.output
    assert "rewrote 1 of 1 file(s); 0 import(s) left" in result.stderr
    assert "advanced_alchemy" not in app_file.read_text().split('"""', 2)[2]
    return _load(app_file, "ported_aa_authors_app")


# The app is written as Advanced Alchemy's users write them, undeclared injection included (Litestar 2.24+
# warns about that style; porting changes imports only, so the warnings stay and are expected here).
@pytest.mark.filterwarnings("ignore::litestar.exceptions.LitestarDeprecationWarning")
def test_an_advanced_alchemy_app_runs_once_ported(db: TestDatabase, ported_app: ModuleType) -> None:
    with TestClient(ported_app.create_app(db.async_url)) as client:
        created = client.post("/authors", json={"name": "Ursula Le Guin", "dob": "1929-10-21"})
        assert created.status_code == 201, created.text
        author_id = created.json()["id"]
        assert created.json() == {"id": author_id, "name": "Ursula Le Guin", "dob": "1929-10-21"}
        assert client.post("/authors", json={"name": "bell hooks", "dob": None}).status_code == 201
        patched = client.patch(f"/authors/{author_id}", json={"name": "Ursula K. Le Guin"})
        assert patched.json() == {"id": author_id, "name": "Ursula K. Le Guin", "dob": "1929-10-21"}
        assert client.get("/authors").json() == {"names": ["bell hooks", "Ursula K. Le Guin"], "total": 2}
        assert client.get("/authors?searchString=LE%20GUIN&pageSize=1").json() == {
            "names": ["Ursula K. Le Guin"],
            "total": 1,
        }
        assert client.get("/authors/undated").json() == ["bell hooks"]
        assert client.get(f"/authors/{author_id}/check").text == "present"
        assert client.get("/authors/00000000-0000-0000-0000-000000000000/check").text == "missing"
        missing = client.patch("/authors/00000000-0000-0000-0000-000000000000", json={"name": "x"})
        assert missing.status_code == 404


def test_diff_only_by_default(tmp_path: Path) -> None:
    app_file = tmp_path / "app.py"
    app_file.write_text("from advanced_alchemy.filters import LimitOffset\n")
    result = invoke(["port", str(app_file)])
    assert result.exit_code == 0, result.output
    assert (
        "-from advanced_alchemy.filters import LimitOffset\n+from dbops.filters import LimitOffset\n" in result.stdout
    )
    assert "would rewrite 1 of 1 file(s)" in result.stderr
    assert app_file.read_text() == "from advanced_alchemy.filters import LimitOffset\n"  # untouched


def test_write_needs_yes_without_a_terminal(tmp_path: Path) -> None:
    app_file = tmp_path / "app.py"
    app_file.write_text("from advanced_alchemy.filters import LimitOffset\n")
    result = invoke(["port", str(tmp_path), "--write"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: port --write rewrites 1 file(s): pass --yes to confirm (stdin is not a terminal); nothing was changed"
    )
    assert app_file.read_text() == "from advanced_alchemy.filters import LimitOffset\n"


def test_unresolved_names_exit_1_after_writing_the_rest(tmp_path: Path) -> None:
    app_file = tmp_path / "app.py"
    app_file.write_text("from advanced_alchemy.base import UUIDBase, NanoIDBase\n")
    result = invoke(["port", str(tmp_path), "--write", "--yes"])
    assert result.exit_code == 1
    assert (
        f"warning: {app_file.as_posix()}:1: advanced_alchemy.base.NanoIDBase has no dbops counterpart" in result.stderr
    )
    assert app_file.read_text() == "from dbops.base import UUIDBase, NanoIDBase\n"


@pytest.mark.parametrize(
    ("content", "argv_path", "message"),
    [
        (None, "missing.py", "missing.py: no such file or directory"),
        ("def broken(:\n", "bad.py", "bad.py:1: cannot parse: "),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, content: str | None, argv_path: str, message: str) -> None:
    target = tmp_path / argv_path
    if content is not None:
        target.write_text(content)
    result = invoke(["port", str(target), "--write", "--yes"])
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: ") and message in line
    assert "Traceback" not in result.output
    if content is not None:
        assert target.read_text() == content


def test_directories_skip_virtualenvs_and_hidden_folders(tmp_path: Path) -> None:
    for relative in ("app/models.py", ".venv/lib/aa.py", "app/.cache/x.py", "app/__pycache__/y.py"):
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("from advanced_alchemy.base import UUIDBase\n")
    result = port_path(tmp_path)
    assert [item.path.relative_to(tmp_path).as_posix() for item in result.changed] == ["app/models.py"]

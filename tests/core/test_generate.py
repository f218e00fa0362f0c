"""tools/generate.py: the twins are made on the syntax tree, and --check fails on any difference."""

from __future__ import annotations

import ast
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

_spec = importlib.util.spec_from_file_location("dbops_tools_generate", REPO_ROOT / "tools" / "generate.py")
assert _spec is not None and _spec.loader is not None
generate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(generate)

SYNC_REPOSITORY = '''
class SQLAlchemySyncRepository:
    def get(self, item_id: Any, *, load: Any = None) -> Model:
        """Get one."""
        return self._get(item_id)

    def undocumented(self, a: int, b: int = 2) -> int:
        return a + b

    def spread(
        self,
        first: str,
        *filters: Any,
        flag: bool = False,  # a comment inside the signature
        **kwargs: Any,
    ) -> list[str]:
        """Many kinds of parameters."""
        return []

    def _private(self) -> None:
        """Not part of the async surface."""
'''


def test_a_method_without_a_docstring_is_one_method_like_the_others() -> None:
    """The regex generator folded ``undocumented`` into the next method and emitted invalid code."""
    text = generate.async_repository(SYNC_REPOSITORY)
    tree = ast.parse(text)
    [repository] = [node for node in tree.body if isinstance(node, ast.ClassDef)]
    methods = {node.name: node for node in repository.body if isinstance(node, ast.AsyncFunctionDef)}
    assert set(methods) == {"_call", "get", "undocumented", "spread"}
    calls = {
        name: ast.unparse(node.body[-2].value)  # type: ignore[attr-defined]
        for name, node in methods.items()
        if name != "_call"
    }
    assert calls == {
        "get": "await self._call('get', item_id, load=load)",
        "undocumented": "await self._call('undocumented', a, b)",
        "spread": "await self._call('spread', first, *filters, flag=flag, **kwargs)",
    }
    assert ast.get_docstring(methods["get"]) == "Get one." and ast.get_docstring(methods["undocumented"]) is None
    assert "GENERATED from dbops/repository/_sync.py" in (ast.get_docstring(tree) or "")


def test_a_decorated_public_method_stops_the_generator() -> None:
    source = "class SQLAlchemySyncRepository:\n    @property\n    def size(self) -> int:\n        return 1\n"
    with pytest.raises(generate.GenerateError, match="decorated public methods"):
        generate.async_repository(source)


ASYNC_SERVICE = '''"""The async source; this line is replaced by the banner.

Use ``SQLAlchemyAsyncRepositoryService`` with an ``AsyncSession``: ``await service.get(1)``.
"""

import contextlib
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession


class SQLAlchemyAsyncRepositoryService:
    @contextlib.asynccontextmanager
    async def new(self, session: AsyncSession) -> AsyncIterator[SQLAlchemyAsyncRepositoryService]:
        async with session.begin():  # an AsyncSession transaction
            yield self

    async def names(self) -> list[str]:
        rows = [row async for row in await self.stream()]
        async for row in self.more():
            rows.append(row)
        return [(await self.name(row)).upper() for row in rows]
'''

SYNC_SERVICE = '''"""{banner}

Use ``SQLAlchemySyncRepositoryService`` with an ``Session``: ``service.get(1)``.
"""

import contextlib
from collections.abc import Iterator

from sqlalchemy.orm import Session


class SQLAlchemySyncRepositoryService:
    @contextlib.contextmanager
    def new(self, session: Session) -> Iterator[SQLAlchemySyncRepositoryService]:
        with session.begin():  # an Session transaction
            yield self

    def names(self) -> list[str]:
        rows = [row for row in self.stream()]
        for row in self.more():
            rows.append(row)
        return [(self.name(row)).upper() for row in rows]
'''.format(banner=generate.banner("dbops/service/_async.py"))


def test_unasync_removes_async_and_await_everywhere_and_swaps_the_names() -> None:
    assert generate.sync_service(ASYNC_SERVICE) == SYNC_SERVICE


def test_check_fails_on_any_difference_in_a_generated_file_banner_included(tmp_path: Path) -> None:
    """A copy of the generator and its inputs: editing only the banner (or any line) of an output is stale."""
    for relative in (
        "pyproject.toml",
        "tools/generate.py",
        "dbops/__init__.py",  # the packages, so ruff sorts dbops' imports as first-party there too
        "dbops/repository/__init__.py",
        "dbops/service/__init__.py",
        "dbops/repository/_sync.py",
        "dbops/repository/_async.py",
        "dbops/service/_async.py",
        "dbops/service/_sync.py",
    ):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO_ROOT / relative, tmp_path / relative)

    def check() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "tools/generate.py", "--check"], cwd=tmp_path, capture_output=True, text=True
        )

    assert check().returncode == 0, check().stderr
    generated = tmp_path / "dbops" / "service" / "_sync.py"
    original = generated.read_text()
    generated.write_text(original.replace("GENERATED from", "Written from", 1))
    result = check()
    assert result.returncode == 1 and "stale: dbops/service/_sync.py" in result.stderr
    assert '-"""Written from' in result.stderr  # the diff shows the edited banner
    generated.write_text(original + "\n# a hand edit\n")
    assert check().returncode == 1
    generated.write_text(original)
    assert check().returncode == 0

"""The README's "Litestar plugin" example, run as written, and without a deprecation warning from our side."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest
from litestar.testing import TestClient

from tests.conftest import REPO_ROOT
from tests.plugin.helpers import load_module


def readme_python_blocks(section: str) -> list[str]:
    """The ```python blocks of one ``## section`` of README.md."""
    text = (REPO_ROOT / "README.md").read_text()
    start = text.index(f"\n## {section}\n")
    end = text.find("\n## ", start + 1)
    return re.findall(r"```python\n(.*?)```", text[start : end if end != -1 else None], flags=re.DOTALL)


def test_the_plugin_example_runs_without_warnings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the example's SQLite file is relative
    source = readme_python_blocks("Litestar plugin")[0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = load_module(tmp_path, source)
        with TestClient(module.app) as client:
            response = client.get("/ping")
    assert (response.status_code, response.json()) == (200, 1)
    assert (tmp_path / "app.sqlite").exists()
    assert [str(w.message) for w in caught] == []


def test_the_example_app_builds_without_warnings() -> None:
    """examples/app.py is our own code (not a seed snippet): it uses Litestar's explicit parameter markers."""
    import importlib
    import sys

    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    example = importlib.import_module("examples.app")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        app = example.create_app(example.SQLAlchemyAsyncConfig(connection_string="sqlite+aiosqlite://"))
    assert app.route_handler_method_map
    assert [str(w.message) for w in caught] == []

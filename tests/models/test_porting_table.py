"""The README's "Porting from Advanced Alchemy" section is true: every name its tables place in dbops imports from
there, every "—" row says why, the import map is the one ``dbops port`` uses, and ``dbops port`` agrees with the
tables on every name (it resolves the names they place, to the same object, and reports the others)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest

from dbops.porting import IMPORT_MAP, port_source

README = Path(__file__).resolve().parents[2] / "README.md"


def _section(title: str, end: str) -> str:
    text = README.read_text()
    start = text.index(title)
    return text[start : text.index(end, start)]


def _rows() -> list[tuple[str, str, str | None, str]]:
    """``(Advanced Alchemy module, name, dbops location or None, note)`` for every row of the name tables."""
    rows = []
    module = None
    for line in _section("### Every public name", "### Differences kept on purpose").splitlines():
        header = re.fullmatch(r"\*\*`([\w.]+)`\*\* → `([\w.]+)`", line.strip())
        if header:
            module = header.group(1)
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        assert module is not None, line
        target = None if cells[1] == "—" else cells[1].strip("`")
        rows.append((module, cells[0].strip("`"), target, cells[2]))
    return rows


ROWS = _rows()


def _resolve(location: str) -> Any:
    """``pkg.mod.Name`` → the object (``Name`` an attribute or a submodule); ``pkg.mod`` → the module."""
    try:
        return importlib.import_module(location)
    except ImportError:
        module, _, name = location.rpartition(".")
        return getattr(importlib.import_module(module), name)


def test_the_tables_cover_the_modules_the_issue_names() -> None:
    modules = {module for module, _, _, _ in ROWS}
    for expected in (
        "advanced_alchemy.repository",
        "advanced_alchemy.service",
        "advanced_alchemy.filters",
        "advanced_alchemy.exceptions",
        "advanced_alchemy.base",
        "advanced_alchemy.types",
        "advanced_alchemy.mixins",
        "advanced_alchemy.config",
        "advanced_alchemy.extensions.litestar",
        "advanced_alchemy.extensions.litestar.providers",
        "advanced_alchemy.extensions.litestar.dto",
        "advanced_alchemy.extensions.litestar.plugins",
    ):
        assert expected in modules, expected
    assert len(ROWS) > 250
    keys = [(module, name) for module, name, _, _ in ROWS]
    assert len(keys) == len(set(keys)), "a name is listed twice"


@pytest.mark.parametrize(("module", "name", "location", "note"), ROWS, ids=[f"{m}.{n}" for m, n, _, _ in ROWS])
def test_every_row(module: str, name: str, location: str | None, note: str) -> None:
    ported, unresolved = port_source(f"from {module} import {name}\n")
    if location is None:
        assert note, f"{module}.{name}: a name dbops doesn't have needs a note saying what to use instead"
        assert unresolved, f"dbops port resolved {module}.{name}, which the README says dbops doesn't have"
        return
    found = _resolve(location)
    assert unresolved == [], f"dbops port can't resolve {module}.{name} ({location} in the README)"
    namespace: dict[str, Any] = {}
    exec(ported, namespace)
    assert namespace[name] is found, f"dbops port imports {module}.{name} as something else than {location}"


def test_the_import_map_is_the_one_dbops_port_uses() -> None:
    text = _section("### Import map", "### `dbops port`")
    pairs = dict(re.findall(r"^\| `([\w.]+)` \| `([\w.]+)` \|$", text, re.M))
    assert pairs == IMPORT_MAP

"""Config discovery: every source, every bad reference → one-line ConfigError."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbops.config import SQLAlchemyAsyncConfig, SQLAlchemySyncConfig
from dbops.discovery import find_configs, select_config
from dbops.errors import ConfigError

CONFIG_MODULE = """
from dbops import SQLAlchemySyncConfig, SQLAlchemyAsyncConfig
db = SQLAlchemySyncConfig(connection_string="sqlite:///x.sqlite")
other = SQLAlchemyAsyncConfig(connection_string="postgresql+asyncpg://u:s3cret@localhost/x", bind_key="other")
both = [db, other]
def make():
    return both
not_a_config = 42
class _Plugin:
    def dbops_configs(self):
        return [other]
class _App:  # the shape dbops reads from a Litestar app: plugins carrying configs
    plugins = [_Plugin()]
app = _App()
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    module = f"cfg_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{module}.py").write_text(CONFIG_MODULE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path / f"{module}.py"


def test_module_colon_attr(project: Path) -> None:
    configs, source = find_configs(config_ref=f"{project.stem}:db", environ={})
    assert [c.connection_string for c in configs] == ["sqlite:///x.sqlite"]
    assert source.kind == "--config"


def test_dotted_reference_is_accepted_for_compatibility(project: Path) -> None:
    configs, _ = find_configs(config_ref=f"{project.stem}.both", environ={})
    assert len(configs) == 2


def test_file_path_reference(project: Path) -> None:
    configs, _ = find_configs(config_ref=f"{project.name}:other", environ={})
    assert isinstance(configs[0], SQLAlchemyAsyncConfig)


def test_callable_returning_list(project: Path) -> None:
    configs, _ = find_configs(config_ref=f"{project.stem}:make", environ={})
    assert [c.bind_key for c in configs] == [None, "other"]


def test_env_var_then_pyproject(project: Path) -> None:
    configs, source = find_configs(environ={"DBOPS_CONFIG": f"{project.stem}:db"})
    assert source.kind == "DBOPS_CONFIG" and len(configs) == 1
    (project.parent / "pyproject.toml").write_text(f'[tool.dbops]\nconfig = "{project.stem}:both"\n')
    sub = project.parent / "sub"
    sub.mkdir()
    configs, source = find_configs(cwd=sub, environ={})
    assert len(configs) == 2 and "[tool.dbops]" in source.kind


def test_app_flag_beats_env_and_pyproject_app_setting(project: Path) -> None:
    env = {"DBOPS_CONFIG": f"{project.stem}:both"}
    configs, source = find_configs(app_ref=f"{project.stem}:app", environ=env)
    assert source.kind == "--app" and [c.bind_key for c in configs] == ["other"]
    (project.parent / "pyproject.toml").write_text(f'[tool.dbops]\napp = "{project.stem}:app"\n')
    configs, source = find_configs(cwd=project.parent, environ={})
    assert "[tool.dbops] app" in source.kind and [c.bind_key for c in configs] == ["other"]
    with pytest.raises(ConfigError, match="either --config or --app"):
        find_configs(config_ref=f"{project.stem}:db", app_ref=f"{project.stem}:app", environ={})


def test_explicit_flag_beats_env(project: Path) -> None:
    configs, _ = find_configs(config_ref=f"{project.stem}:db", environ={"DBOPS_CONFIG": f"{project.stem}:both"})
    assert len(configs) == 1


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("no_such_module_xyz:db", "no module named 'no_such_module_xyz'"),
        ("{stem}:missing", "has no attribute 'missing'"),
        ("{stem}:not_a_config", "got int"),
        ("nowhere/file.py:db", "not found"),
        ("justaword", "must look like module:attr"),
    ],
)
def test_bad_references(project: Path, reference: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        find_configs(config_ref=reference.format(stem=project.stem), environ={})
    assert expected in str(info.value)
    assert "\n" not in str(info.value)
    assert info.value.exit_code == 2


def test_nothing_configured(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no database config found"):
        find_configs(cwd=tmp_path, environ={})


def test_select_config_rules() -> None:
    default = SQLAlchemySyncConfig(connection_string="sqlite://")
    other = SQLAlchemySyncConfig(connection_string="sqlite://", bind_key="other")
    third = SQLAlchemySyncConfig(connection_string="sqlite://", bind_key="third")
    assert select_config([other], None) is other
    assert select_config([default, other], None) is default
    assert select_config([default, other], "other") is other
    assert select_config([default, other], "default") is default
    with pytest.raises(ConfigError, match="choose one with --bind-key"):
        select_config([other, third], None)
    with pytest.raises(ConfigError, match="no config with bind key 'nope'"):
        select_config([other, third], "nope")


def test_password_is_masked_in_descriptions() -> None:
    config = SQLAlchemyAsyncConfig(connection_string="postgresql+asyncpg://user:hunter2@db/x")
    assert "hunter2" not in config.describe()
    assert "user:***@db" in config.url

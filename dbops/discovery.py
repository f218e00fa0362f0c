"""Find the app's database configs.

Resolution order (first that applies wins):

1. ``--config module:attr`` / ``--config path/to/file.py:attr`` or ``--app module:app`` (explicit flags;
   giving both is an error);
2. the ``DBOPS_CONFIG`` environment variable (same forms as ``--config``);
3. ``[tool.dbops]`` in the nearest ``pyproject.toml`` (``config = "..."`` or ``app = "..."``).

``attr`` may be one config, a list/tuple of configs, a zero-argument callable returning either, or a Litestar
app whose plugins carry configs (anything with a ``dbops_configs()`` method).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomllib

from dbops.config import DatabaseConfig, SQLAlchemyAsyncConfig, SQLAlchemySyncConfig
from dbops.errors import ConfigError

__all__ = ["ConfigSource", "find_configs", "load_reference", "select_config"]

AnyConfig = SQLAlchemySyncConfig | SQLAlchemyAsyncConfig
ENV_VAR = "DBOPS_CONFIG"


@dataclass(frozen=True)
class ConfigSource:
    """Where the configs came from, for messages (``--config app:db``, ``DBOPS_CONFIG=...``)."""

    kind: str
    reference: str

    def __str__(self) -> str:
        return f"{self.kind} {self.reference}" if self.kind.startswith("--") else f"{self.kind}={self.reference}"


def find_configs(
    *,
    config_ref: str | None = None,
    app_ref: str | None = None,
    cwd: Path | None = None,
    environ: dict[str, str] | None = None,
) -> tuple[list[AnyConfig], ConfigSource]:
    """Resolve the configs in the documented order; raise ``ConfigError`` when none can be found."""
    cwd = cwd or Path.cwd()
    environ = dict(os.environ) if environ is None else environ
    if config_ref and app_ref:
        raise ConfigError("give either --config or --app, not both")
    if config_ref:
        source = ConfigSource("--config", config_ref)
    elif app_ref:
        source = ConfigSource("--app", app_ref)
    elif environ.get(ENV_VAR):
        source = ConfigSource(ENV_VAR, environ[ENV_VAR])
    else:
        pyproject = _nearest_pyproject(cwd)
        settings = _tool_settings(pyproject) if pyproject else {}
        if "config" in settings:
            source = ConfigSource(f"[tool.dbops] config in {pyproject}", str(settings["config"]))
        elif "app" in settings:
            source = ConfigSource(f"[tool.dbops] app in {pyproject}", str(settings["app"]))
        else:
            raise ConfigError(
                "no database config found: pass --config module:attr, set DBOPS_CONFIG, "
                'or add [tool.dbops] config = "module:attr" to pyproject.toml'
            )
        if pyproject is not None:
            cwd = pyproject.parent
    configs = configs_from_object(load_reference(source.reference, cwd=cwd), source.reference)
    return configs, source


def _nearest_pyproject(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def _tool_settings(pyproject: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {pyproject}: {exc}") from exc
    settings = data.get("tool", {}).get("dbops", {})
    return settings if isinstance(settings, dict) else {}


def _split_reference(reference: str) -> tuple[str, str]:
    if ":" in reference and not (len(reference) > 1 and reference[1] == ":" and reference.count(":") == 1):
        target, _, attr = reference.rpartition(":")
    elif "." in reference and not reference.endswith(".py"):
        # Advanced Alchemy's dotted form, ``package.module.attr``.
        target, _, attr = reference.rpartition(".")
    else:
        raise ConfigError(f"config reference {reference!r} must look like module:attr or path/to/file.py:attr")
    if not target or not attr:
        raise ConfigError(f"config reference {reference!r} must look like module:attr or path/to/file.py:attr")
    return target, attr


def load_reference(reference: str, *, cwd: Path) -> Any:
    """Import ``module:attr`` or ``file.py:attr`` (relative to ``cwd``) and return the attribute."""
    target, attr = _split_reference(reference)
    if str(cwd) not in sys.path:
        sys.path.insert(0, str(cwd))
    if target.endswith(".py") or "/" in target or os.sep in target:
        module = _import_file(Path(target) if Path(target).is_absolute() else cwd / target, reference)
        where = target  # the file as the user typed it, not the name it was imported under
    else:
        module = _import_module(target, reference)
        where = f"module {target!r}"
    obj: Any = module
    parts = attr.split(".")
    for index, part in enumerate(parts):
        if not hasattr(obj, part):
            owner = where if index == 0 else repr(".".join(parts[:index]))
            raise ConfigError(f"{reference}: {owner} has no attribute {part!r}{_configs_hint(module, index)}")
        obj = getattr(obj, part)
    return obj


def _configs_hint(module: Any, depth: int) -> str:
    """``; configs there: db, other`` when the module defines configs (a typo is the usual cause)."""
    if depth:
        return ""
    names = sorted(
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (
            isinstance(value, DatabaseConfig)
            or (isinstance(value, list | tuple) and value and all(isinstance(v, DatabaseConfig) for v in value))
        )
    )
    return f" (configs there: {', '.join(names)})" if names else ""


def _import_module(name: str, reference: str) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
            raise ConfigError(f"{reference}: no module named {name!r} (looked in {Path.cwd()})") from exc
        raise ConfigError(f"{reference}: importing {name!r} failed: {exc}") from exc
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(f"{reference}: importing {name!r} failed: {type(exc).__name__}: {exc}") from exc


def _import_file(path: Path, reference: str) -> Any:
    if not path.is_file():
        raise ConfigError(f"{reference}: file {path} not found")
    module_name = path.stem if path.parent == Path.cwd() else f"_dbops_config_{path.stem}"
    if path.stem in sys.modules and getattr(sys.modules[path.stem], "__file__", None) == str(path):
        return sys.modules[path.stem]
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"{reference}: cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    except ConfigError:
        raise
    except Exception as exc:
        sys.modules.pop(module_name, None)
        raise ConfigError(f"{reference}: importing {path} failed: {type(exc).__name__}: {exc}") from exc
    return module


def configs_from_object(obj: Any, reference: str) -> list[AnyConfig]:
    """Turn what a reference points at into a list of configs, or say what it was instead."""
    if isinstance(obj, DatabaseConfig):
        return [obj]  # type: ignore[list-item]
    if isinstance(obj, list | tuple):
        configs: list[AnyConfig] = [item for item in obj if isinstance(item, DatabaseConfig)]  # type: ignore[misc]
        if not obj or len(configs) != len(obj):
            bad = next((item for item in obj if not isinstance(item, DatabaseConfig)), None)
            what = "an empty list" if not obj else f"a list holding {type(bad).__name__}"
            raise ConfigError(f"{reference}: expected database configs, got {what}")
        return configs
    plugins = getattr(obj, "plugins", None)
    if plugins is not None and not isinstance(obj, type):
        configs = []
        for plugin in plugins:
            getter = getattr(plugin, "dbops_configs", None)
            if callable(getter):
                configs.extend(getter())
        if not configs:
            raise ConfigError(f"{reference}: the app has no dbops SQLAlchemyPlugin with a database config")
        return configs
    if callable(obj) and not isinstance(obj, type):
        try:
            produced = obj()
        except TypeError as exc:
            raise ConfigError(f"{reference}: calling it failed: {exc}") from exc
        return configs_from_object(produced, reference)
    raise ConfigError(
        f"{reference}: expected a SQLAlchemyAsyncConfig/SQLAlchemySyncConfig, a list of them, a callable "
        f"returning them or a Litestar app, got {type(obj).__name__}"
    )


def select_config(configs: Sequence[AnyConfig], bind_key: str | None) -> AnyConfig:
    """Pick the config a command acts on.

    With ``--bind-key`` that config; with one config that one; with several, the default bind (bind_key
    None) when there is exactly one; otherwise ``ConfigError`` listing the bind keys to choose from.
    """
    if bind_key is not None:
        wanted = None if bind_key == "default" else bind_key
        for config in configs:
            if config.bind_key == wanted or (config.bind_key == bind_key):
                return config
        raise ConfigError(f"no config with bind key {bind_key!r}; known: {_bind_keys(configs)}")
    if len(configs) == 1:
        return configs[0]
    defaults = [config for config in configs if config.bind_key is None]
    if len(defaults) == 1:
        return defaults[0]
    raise ConfigError(f"{len(configs)} database configs ({_bind_keys(configs)}): choose one with --bind-key")


def _bind_keys(configs: Sequence[AnyConfig]) -> str:
    return ", ".join(config.bind_label for config in configs)

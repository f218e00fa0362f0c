"""Generate the twin halves of the repository and service layers, so each has one implementation.

- dbops/repository/_async.py from dbops/repository/_sync.py: the async repository runs the sync repository's
  methods inside ``AsyncSession.run_sync``; only the signatures (for type checkers and help) are repeated, one
  ``async def`` per public method of the sync class.
- dbops/service/_sync.py from dbops/service/_async.py: the sync service is the async one with ``async``/``await``
  removed and the async names swapped for their sync twins (the "unasync" approach).

Both work on the syntax tree (libcst, which keeps comments and layout), not on the text: a method without a
docstring, a multi-line signature or an ``await`` inside an expression transform like any other. Each output
starts with a GENERATED banner, and ``--check`` compares whole files, banner included.

    uv run --all-extras python tools/generate.py            # write
    uv run --all-extras python tools/generate.py --check    # exit 1 (and show the diff) if an output is stale
"""

from __future__ import annotations

import difflib
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import libcst as cst

ROOT = Path(__file__).resolve().parent.parent
SYNC_REPOSITORY = ROOT / "dbops" / "repository" / "_sync.py"
ASYNC_REPOSITORY = ROOT / "dbops" / "repository" / "_async.py"
ASYNC_SERVICE = ROOT / "dbops" / "service" / "_async.py"
SYNC_SERVICE = ROOT / "dbops" / "service" / "_sync.py"
RUN = "uv run --all-extras python tools/generate.py"


class GenerateError(Exception):
    """The source has a shape the generator does not handle; it stops rather than emit something wrong."""


def banner(source: str) -> str:
    return f"GENERATED from {source} by tools/generate.py; do not edit (edit the source and run it again)."


# -- the async repository: signatures of the sync repository's public methods ----------------------------

ASYNC_REPOSITORY_HEAD = '''"""{banner}

``SQLAlchemyAsyncRepository`` runs ``SQLAlchemySyncRepository``'s methods inside ``AsyncSession.run_sync``
(SQLAlchemy's greenlet bridge): one implementation, identical behaviour, the async driver underneath.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from dbops.repository._statements import FilterArg, LoadSpec, OrderingPair
from dbops.repository._sync import SQLAlchemySyncRepository

if TYPE_CHECKING:
    from sqlalchemy import Select
    from sqlalchemy.ext.asyncio import AsyncSession, async_scoped_session
    from sqlalchemy.orm import Session

__all__ = ["SQLAlchemyAsyncRepository"]

ModelT = TypeVar("ModelT")


class SQLAlchemyAsyncRepository(Generic[ModelT]):
    """CRUD for one model on an ``AsyncSession``.

    ``class AuthorRepo(SQLAlchemyAsyncRepository[Author]): model_type = Author``, then
    ``await AuthorRepo(session=session).list(...)``.

    The same methods, options and errors as ``SQLAlchemySyncRepository``, awaited.
    """

    model_type: ClassVar[type[Any]]
    id_attribute: ClassVar[str] = "id"
    match_fields: ClassVar[builtins.list[str] | str | None] = None
    count_with_window_function: ClassVar[bool | None] = None

    def __init__(
        self,
        *,
        session: AsyncSession | async_scoped_session[AsyncSession],
        statement: Select[Any] | None = None,
        auto_expunge: bool = False,
        auto_refresh: bool = True,
        auto_commit: bool = False,
        order_by: OrderingPair | builtins.list[OrderingPair] | None = None,
        load: LoadSpec = None,
        execution_options: dict[str, Any] | None = None,
        wrap_exceptions: bool = True,
        count_with_window_function: bool | None = None,
        model_type: type[ModelT] | None = None,
    ) -> None:
        self.session = session
        self.statement = statement
        self.auto_expunge = auto_expunge
        self.auto_refresh = auto_refresh
        self.auto_commit = auto_commit
        self.order_by = order_by
        self.load = load
        self.execution_options = dict(execution_options or {{}})
        self.wrap_exceptions = wrap_exceptions
        if model_type is not None:
            self.model_type = model_type  # type: ignore[misc]
        if count_with_window_function is not None:
            self.count_with_window_function = count_with_window_function  # type: ignore[misc]
        self._delegate: SQLAlchemySyncRepository[ModelT] | None = None
        self._delegate_for(None)  # validates model_type and load now, not on first use

    def _delegate_for(self, sync_session: Session | None) -> SQLAlchemySyncRepository[ModelT]:
        delegate = self._delegate
        if delegate is None or (sync_session is not None and delegate.session is not sync_session):
            delegate = SQLAlchemySyncRepository[ModelT](
                session=sync_session,  # type: ignore[arg-type]
                statement=self.statement,
                auto_expunge=self.auto_expunge,
                auto_refresh=self.auto_refresh,
                auto_commit=self.auto_commit,
                order_by=self.order_by,
                load=self.load,
                execution_options=self.execution_options,
                wrap_exceptions=self.wrap_exceptions,
                count_with_window_function=self.count_with_window_function,
                model_type=getattr(self, "model_type", None),
            )
            delegate.id_attribute = self.id_attribute  # type: ignore[misc]
            delegate.match_fields = self.match_fields  # type: ignore[misc]
            if sync_session is not None:
                self._delegate = delegate
        return delegate

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        def work(sync_session: Session) -> Any:
            return getattr(self._delegate_for(sync_session), method)(*args, **kwargs)

        session: Any = self.session
        if not hasattr(session, "run_sync"):  # an async_scoped_session: the session of the current scope
            session = session()
        return await session.run_sync(work)
'''


def _public_methods(module: cst.Module, class_name: str) -> list[cst.FunctionDef]:
    for statement in module.body:
        if isinstance(statement, cst.ClassDef) and statement.name.value == class_name:
            methods = [
                node
                for node in statement.body.body
                if isinstance(node, cst.FunctionDef) and not node.name.value.startswith("_")
            ]
            for method in methods:
                if method.decorators:
                    raise GenerateError(f"{class_name}.{method.name.value}: decorated public methods are not handled")
                if method.asynchronous is not None:
                    raise GenerateError(f"{class_name}.{method.name.value} is async in the sync repository")
            return methods
    raise GenerateError(f"no class {class_name}")


def _call_arguments(params: cst.Parameters, module: cst.Module) -> list[str]:
    """How the async method passes its parameters on: positionally as declared, keyword-only by name."""
    arguments = [param.name.value for param in (*params.posonly_params, *params.params)]
    if arguments[:1] != ["self"]:
        raise GenerateError(f"a public method without self: ({module.code_for_node(params)})")
    arguments = arguments[1:]
    if isinstance(params.star_arg, cst.Param):
        arguments.append(f"*{params.star_arg.name.value}")
    arguments += [f"{param.name.value}={param.name.value}" for param in params.kwonly_params]
    if params.star_kwarg is not None:
        arguments.append(f"**{params.star_kwarg.name.value}")
    return arguments


def _docstring(method: cst.FunctionDef, module: cst.Module) -> str | None:
    body = method.body.body
    first = body[0] if body else None
    if isinstance(first, cst.SimpleStatementLine) and isinstance(first.body[0], cst.Expr):
        value = first.body[0].value
        if isinstance(value, (cst.SimpleString, cst.ConcatenatedString)):
            return module.code_for_node(value)
    return None


def async_repository(sync_source: str) -> str:
    """The async repository module for the sync repository module ``sync_source`` (before formatting)."""
    module = cst.parse_module(sync_source)
    parts = [ASYNC_REPOSITORY_HEAD.format(banner=banner("dbops/repository/_sync.py"))]
    for method in _public_methods(module, "SQLAlchemySyncRepository"):
        name = method.name.value
        params = module.code_for_node(method.params)
        if method.returns is None:
            raise GenerateError(f"SQLAlchemySyncRepository.{name} has no return annotation")
        returns = module.code_for_node(method.returns.annotation)
        call = ", ".join([repr(name), *_call_arguments(method.params, module)])
        doc = _docstring(method, module)
        parts.append(
            f"\n    async def {name}({params}) -> {returns}:\n"
            + (f"        {doc}\n" if doc else "")
            + f"        result: {returns} = await self._call({call})\n"
            "        return result\n"
        )
    return "".join(parts)


# -- the sync service: the async service, unasynced -----------------------------------------------------

# Async names and their sync twins (identifiers, import modules, and words in docstrings and comments).
UNASYNC_NAMES = {
    "SQLAlchemyAsyncRepositoryService": "SQLAlchemySyncRepositoryService",
    "SQLAlchemyAsyncRepository": "SQLAlchemySyncRepository",
    "SQLAlchemyAsyncConfig": "SQLAlchemySyncConfig",
    "AsyncSession": "Session",
    "async_scoped_session": "scoped_session",
    "AsyncIterator": "Iterator",
    "asynccontextmanager": "contextmanager",
}
UNASYNC_MODULES = {"sqlalchemy.ext.asyncio": "sqlalchemy.orm"}
_WORDS = re.compile(r"\b(" + "|".join(sorted(map(re.escape, UNASYNC_NAMES), key=len, reverse=True)) + r")\b")
_KEYWORDS = re.compile(r"\b(?:async (?=def |with |for )|await )")


def _unasync_text(text: str) -> str:
    return _KEYWORDS.sub("", _WORDS.sub(lambda match: UNASYNC_NAMES[match.group(1)], text))


class _Unasync(cst.CSTTransformer):
    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        return updated.with_changes(asynchronous=None)

    def leave_With(self, original: cst.With, updated: cst.With) -> cst.With:
        return updated.with_changes(asynchronous=None)

    def leave_For(self, original: cst.For, updated: cst.For) -> cst.For:
        return updated.with_changes(asynchronous=None)

    def leave_CompFor(self, original: cst.CompFor, updated: cst.CompFor) -> cst.CompFor:
        return updated.with_changes(asynchronous=None)

    def leave_Await(self, original: cst.Await, updated: cst.Await) -> cst.BaseExpression:
        # Keep the await's own parentheses on what it awaited: `(await x).y` becomes `(x).y`.
        return updated.expression.with_changes(
            lpar=[*updated.lpar, *updated.expression.lpar], rpar=[*updated.expression.rpar, *updated.rpar]
        )

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        return updated.with_changes(value=UNASYNC_NAMES.get(updated.value, updated.value))

    def leave_ImportFrom(self, original: cst.ImportFrom, updated: cst.ImportFrom) -> cst.ImportFrom:
        if updated.module is None:
            return updated
        dotted = cst.Module(body=[]).code_for_node(updated.module)
        if dotted not in UNASYNC_MODULES:
            return updated
        return updated.with_changes(module=cst.parse_expression(UNASYNC_MODULES[dotted]))

    def leave_SimpleString(self, original: cst.SimpleString, updated: cst.SimpleString) -> cst.SimpleString:
        return updated.with_changes(value=_unasync_text(updated.value))

    def leave_Comment(self, original: cst.Comment, updated: cst.Comment) -> cst.Comment:
        return updated.with_changes(value=_unasync_text(updated.value))


def sync_service(async_source: str) -> str:
    """The sync service module for the async service module ``async_source`` (before formatting).

    The source's docstring starts with one line saying it is the source; the output's starts with the banner.
    """
    module = cst.parse_module(async_source)
    doc = module.body[0] if module.body else None
    if not (
        isinstance(doc, cst.SimpleStatementLine)
        and isinstance(doc.body[0], cst.Expr)
        and isinstance(doc.body[0].value, cst.SimpleString)
    ):
        raise GenerateError("the async service has no module docstring")
    text = doc.body[0].value.value
    quote = text[:3]
    lines = text[3:].splitlines(keepends=True)
    rest = "".join(lines[1:])
    # Rebuilt with the first line replaced, then transformed with the rest (the banner is not unasynced).
    generated = module.visit(_Unasync())
    head = generated.body[0]
    assert isinstance(head, cst.SimpleStatementLine) and isinstance(head.body[0], cst.Expr)
    new_doc = quote + banner("dbops/service/_async.py") + "\n" + _unasync_text(rest)
    head = head.with_changes(body=[head.body[0].with_changes(value=cst.SimpleString(new_doc))])
    return generated.with_changes(body=[head, *generated.body[1:]]).code


# -- formatting, checking, writing ----------------------------------------------------------------------


def _ruff(text: str, path: Path) -> str:
    """``text`` as ``ruff check --fix`` (import order) and ``ruff format`` would leave it."""
    for args in (["check", "--select", "I", "--fix", "--quiet"], ["format", "--quiet"]):
        text = subprocess.run(
            [sys.executable, "-m", "ruff", *args, "--stdin-filename", str(path), "-"],
            input=text,
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout
    return text


def outputs() -> dict[Path, str]:
    return {
        ASYNC_REPOSITORY: _ruff(async_repository(SYNC_REPOSITORY.read_text()), ASYNC_REPOSITORY),
        SYNC_SERVICE: _ruff(sync_service(ASYNC_SERVICE.read_text()), SYNC_SERVICE),
    }


def stale(generated: dict[Path, str]) -> dict[Path, str]:
    """A unified diff for each output whose file differs from what the generator writes (banner included)."""
    diffs: dict[Path, str] = {}
    for path, text in generated.items():
        current = path.read_text() if path.exists() else ""
        if current != text:
            name = str(path.relative_to(ROOT))
            diffs[path] = "".join(
                difflib.unified_diff(
                    current.splitlines(keepends=True), text.splitlines(keepends=True), name, f"{name} (generated)"
                )
            )
    return diffs


def main(argv: Sequence[str]) -> int:
    try:
        generated = outputs()
    except (GenerateError, cst.ParserSyntaxError) as error:
        print(f"tools/generate.py: {error}", file=sys.stderr)
        return 2
    if "--check" in argv:
        diffs = stale(generated)
        for path, diff in diffs.items():
            print(f"stale: {path.relative_to(ROOT)} (run: {RUN})\n{diff}", file=sys.stderr)
        return 1 if diffs else 0
    for path, text in generated.items():
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

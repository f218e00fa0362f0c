"""Before-send handlers: end the request's session when the response starts.

The session a request used lives in the ASGI scope under its config's ``session_scope_key``. When the
response starts, the handler commits (autocommit, on the statuses it was told to) or rolls back, then closes
the session, so its connection goes back to the pool before the body is sent.

A commit that fails can no longer raise: Litestar has already built the response, and an exception raised
while sending is "caught after response started". Instead the handler rewrites the response it is about to
send into an error (409 for an integrity error such as a unique violation, 500 otherwise) and logs the
failure, so a client never gets a 2xx for data that was not saved.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any, cast

import orjson

from dbops.errors import ConfigError, first_line

if TYPE_CHECKING:
    from litestar.types import Message, Scope

__all__ = [
    "AutocommitHandler",
    "SessionHandler",
    "async_autocommit_before_send_handler",
    "async_autocommit_handler_maker",
    "async_default_before_send_handler",
    "async_default_handler_maker",
    "autocommit_before_send_handler",
    "autocommit_handler_maker",
    "default_before_send_handler",
    "default_handler_maker",
    "get_scope_session",
    "sync_autocommit_before_send_handler",
    "sync_autocommit_handler_maker",
    "sync_default_before_send_handler",
    "sync_default_handler_maker",
]

logger = logging.getLogger("litestar_dbops")

SESSION_TERMINUS_EVENTS = frozenset({"http.response.start", "websocket.close", "websocket.http.response.start"})
_REWRITTEN_HEADERS = frozenset({b"content-length", b"content-type", b"content-encoding", b"transfer-encoding", b"etag"})


def _scope_dict(scope: Scope) -> dict[str, Any]:
    return cast("dict[str, Any]", scope)


def get_scope_session(scope: Scope, session_scope_key: str) -> Any:
    """The session a request opened under ``session_scope_key``, or None when it opened none."""
    return _scope_dict(scope).get(session_scope_key)


async def _session_call(session: Any, method: str) -> None:
    """Call ``commit``/``rollback``/``close`` on an async session, or on a sync one in a worker thread."""
    from sqlalchemy.ext.asyncio import AsyncSession

    if isinstance(session, AsyncSession):
        await getattr(session, method)()
        return
    import anyio.to_thread

    await anyio.to_thread.run_sync(getattr(session, method))


async def end_scope_session(scope: Scope, session_scope_key: str) -> None:
    """Roll back and close the session a connection opened under ``session_scope_key``, if it is still open."""
    session = _scope_dict(scope).pop(session_scope_key, None)
    if session is None:
        return
    try:
        await _session_call(session, "rollback")
    finally:
        await _session_call(session, "close")


class SessionHandler:
    """Close the request's session when the response starts, committing nothing (``before_send_handler=None``).

    Subclasses decide what to commit through ``should_commit``. An instance made without a
    ``session_scope_key`` is bound to its config's key when the config is created.
    """

    def __init__(self, *, session_scope_key: str | None = None) -> None:
        self.session_scope_key = session_scope_key

    def bind(self, session_scope_key: str) -> SessionHandler:
        """This handler for a config's session key (a copy when it was made for another key)."""
        if self.session_scope_key == session_scope_key:
            return self
        bound = copy.copy(self)
        bound.session_scope_key = session_scope_key
        return bound

    def should_commit(self, status: int) -> bool:
        return False

    @property
    def _failure_key(self) -> str:
        return f"{self.session_scope_key}:commit_failure_body"

    async def __call__(self, message: Message, scope: Scope) -> None:
        if self.session_scope_key is None:
            raise ConfigError(f"{type(self).__name__} is not bound to a config; pass it as before_send_handler")
        state = _scope_dict(scope)
        if message["type"] == "http.response.body" and self._failure_key in state:
            # The response was turned into an error at its start: send the error body instead of the original.
            message["body"] = state[self._failure_key]
            state[self._failure_key] = b""
            return
        if message["type"] not in SESSION_TERMINUS_EVENTS:
            return
        session = state.pop(self.session_scope_key, None)
        if session is None:
            return
        try:
            if message["type"] == "http.response.start" and self.should_commit(int(message["status"])):
                try:
                    await _session_call(session, "commit")
                except Exception as error:
                    await self._on_commit_failure(session, message, scope, error)
            else:
                await _session_call(session, "rollback")
        finally:
            await _session_call(session, "close")

    async def _on_commit_failure(self, session: Any, message: Message, scope: Scope, error: Exception) -> None:
        from sqlalchemy.exc import IntegrityError

        try:
            await _session_call(session, "rollback")
        except Exception:  # the connection may be gone; close() still releases it
            logger.warning("rollback after a failed commit also failed", exc_info=True)
        status = 409 if isinstance(error, IntegrityError) else 500
        detail = (
            "Conflict: the changes violate a database constraint and were not saved"
            if status == 409
            else "Internal Server Error: the changes could not be saved"
        )
        logger.error(
            "commit failed for %s %s; answering %s instead of %s: %s",
            scope.get("method", ""),
            scope.get("path", ""),
            status,
            message.get("status"),
            first_line(str(error)) or type(error).__name__,
            exc_info=error,
        )
        body = orjson.dumps({"status_code": status, "detail": detail})
        original: list[tuple[bytes, bytes]] = list(cast("Any", message).get("headers") or [])
        headers = [(name, value) for name, value in original if bytes(name).lower() not in _REWRITTEN_HEADERS]
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        message["status"] = status  # type: ignore[typeddict-unknown-key]
        message["headers"] = headers  # type: ignore[typeddict-unknown-key]
        _scope_dict(scope)[self._failure_key] = body


class AutocommitHandler(SessionHandler):
    """Commit the request's session when the response status says the request succeeded, else roll back.

    By default 2xx commits (and 3xx too with ``commit_on_redirect``); ``commit_on_status`` replaces that rule
    with your own; ``extra_commit_statuses`` / ``extra_rollback_statuses`` add exceptions to whichever rule.
    """

    def __init__(
        self,
        *,
        commit_on_redirect: bool = False,
        commit_on_status: Callable[[int], bool] | None = None,
        extra_commit_statuses: Collection[int] | None = None,
        extra_rollback_statuses: Collection[int] | None = None,
        session_scope_key: str | None = None,
    ) -> None:
        super().__init__(session_scope_key=session_scope_key)
        self.commit_on_redirect = commit_on_redirect
        self.commit_on_status = commit_on_status
        self.extra_commit_statuses = frozenset(extra_commit_statuses or ())
        self.extra_rollback_statuses = frozenset(extra_rollback_statuses or ())
        both = self.extra_commit_statuses & self.extra_rollback_statuses
        if both:
            raise ConfigError(f"statuses {sorted(both)} are in both extra_commit_statuses and extra_rollback_statuses")

    def should_commit(self, status: int) -> bool:
        if status in self.extra_rollback_statuses:
            return False
        if status in self.extra_commit_statuses:
            return True
        if self.commit_on_status is not None:
            return bool(self.commit_on_status(status))
        return 200 <= status < (400 if self.commit_on_redirect else 300)


def autocommit_before_send_handler(
    *,
    commit_on_redirect: bool = False,
    commit_on_status: Callable[[int], bool] | None = None,
    extra_commit_statuses: Collection[int] | None = None,
    extra_rollback_statuses: Collection[int] | None = None,
    session_scope_key: str | None = None,
) -> AutocommitHandler:
    """A before-send handler that commits on the statuses you choose; pass it as ``before_send_handler``.

    Example: ``autocommit_before_send_handler(extra_commit_statuses={404})`` also commits on 404.
    """
    return AutocommitHandler(
        commit_on_redirect=commit_on_redirect,
        commit_on_status=commit_on_status,
        extra_commit_statuses=extra_commit_statuses,
        extra_rollback_statuses=extra_rollback_statuses,
        session_scope_key=session_scope_key,
    )


autocommit_handler_maker = autocommit_before_send_handler
"""Advanced Alchemy's name for the factory (its ``async_``/``sync_`` variants are the same here)."""

default_before_send_handler = SessionHandler()
"""Close the session without committing (what ``before_send_handler=None`` does)."""

async_autocommit_handler_maker = autocommit_before_send_handler
sync_autocommit_handler_maker = autocommit_before_send_handler


def default_handler_maker(*, session_scope_key: str | None = None) -> SessionHandler:
    """A before-send handler that closes the session without committing (Advanced Alchemy's factory name)."""
    return SessionHandler(session_scope_key=session_scope_key)


# Advanced Alchemy's names: one handler class serves sync and async sessions here, so each pair is one object.
async_default_handler_maker = sync_default_handler_maker = default_handler_maker
async_default_before_send_handler = sync_default_before_send_handler = default_before_send_handler
async_autocommit_before_send_handler = sync_autocommit_before_send_handler = AutocommitHandler()
"""Commit on 2xx, else roll back: the handler itself (``before_send_handler=...``), not a factory."""

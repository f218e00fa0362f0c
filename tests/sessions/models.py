"""The session models the tests use, defined once per process (they live on dbops' shared metadata)."""

from __future__ import annotations

from dbops.sessions import SessionModelMixin


class UserSession(SessionModelMixin):
    __tablename__ = "user_sessions"

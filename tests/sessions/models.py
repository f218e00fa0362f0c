"""The session models the tests use, defined once per process.

They carry a bind key of their own, so their tables stay off the default metadata other areas' tests create.
"""

from __future__ import annotations

from dbops.sessions import SessionModelMixin

BIND_KEY = "sessions_tests"


class UserSession(SessionModelMixin):
    __tablename__ = "user_sessions"
    __bind_key__ = BIND_KEY

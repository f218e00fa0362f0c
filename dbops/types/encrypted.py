"""``EncryptedString`` / ``EncryptedText``: values encrypted in Python before they reach the database.

The key is a string/bytes or a zero-argument callable returning one (so it can come from a secret store at
run time); it is stretched with SHA-256 into a Fernet key. Needs the ``encryption`` extra (``cryptography``).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.types import String, Text, TypeDecorator

from dbops.errors import ConfigError

__all__ = ["EncryptedString", "EncryptedText", "FernetBackend"]

KeyType = str | bytes | Callable[[], str | bytes]


class FernetBackend:
    """Symmetric encryption with ``cryptography``'s Fernet (AES-128-CBC + HMAC-SHA256)."""

    def __init__(self, key: KeyType) -> None:
        self._key = key
        self._fernet: Any = None

    def _get(self) -> Any:
        if self._fernet is None:
            try:
                from cryptography.fernet import Fernet
            except ImportError as exc:  # pragma: no cover - depends on the install
                raise ConfigError("encrypted columns need cryptography: pip install 'dbops[encryption]'") from exc
            raw = self._key() if callable(self._key) else self._key
            if isinstance(raw, str):
                raw = raw.encode()
            if not raw:
                raise ConfigError("the encryption key of an encrypted column is empty")
            self._fernet = Fernet(base64.urlsafe_b64encode(hashlib.sha256(raw).digest()))
        return self._fernet

    def encrypt(self, value: str) -> str:
        return str(self._get().encrypt(value.encode()).decode())

    def decrypt(self, value: str) -> str:
        from cryptography.fernet import InvalidToken

        try:
            return str(self._get().decrypt(value.encode()).decode())
        except InvalidToken:
            raise ValueError("an encrypted column could not be decrypted: wrong key or corrupt value") from None


class EncryptedString(TypeDecorator[str]):
    """A string encrypted with ``key`` (str, bytes or a callable returning one) before it is stored.

    ``length`` is the length of the plaintext you expect; the column is sized for its ciphertext.
    Encrypted values can't be searched or compared in SQL.
    """

    impl = String
    cache_ok = True

    def __init__(self, key: KeyType, length: int | None = None, **kwargs: Any) -> None:
        # Fernet output: base64 of (version + timestamp + IV + padded ciphertext + HMAC).
        stored = None if length is None else ((57 + 16 * (length // 16 + 1)) * 4 // 3 + 4)
        super().__init__(length=stored if stored is not None else 1024, **kwargs)
        self.key = key
        self.backend = FernetBackend(key)

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return self.backend.encrypt(value if isinstance(value, str) else str(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return self.backend.decrypt(value)

    @property
    def python_type(self) -> type[str]:
        return str


class EncryptedText(EncryptedString):
    """Like ``EncryptedString``, for long values (a ``TEXT`` column)."""

    impl = Text

    def __init__(self, key: KeyType, **kwargs: Any) -> None:
        TypeDecorator.__init__(self, **kwargs)
        self.key = key
        self.backend = FernetBackend(key)

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

__all__ = ["EncryptedString", "EncryptedText", "FernetBackend", "ciphertext_length"]

KeyType = str | bytes | Callable[[], str | bytes]


class FernetBackend:
    """Symmetric encryption with ``cryptography``'s Fernet (AES-128-CBC + HMAC-SHA256)."""

    def __init__(self, key: KeyType | None) -> None:
        self._key = key
        self._fernet: Any = None

    def _get(self) -> Any:
        if self._fernet is None:
            try:
                from cryptography.fernet import Fernet
            except ImportError as exc:  # pragma: no cover - depends on the install
                raise ConfigError("encrypted columns need cryptography: pip install 'dbops[encryption]'") from exc
            if self._key is None:
                raise ConfigError(
                    "an encrypted column without a key can't encrypt or decrypt: give the model's "
                    "EncryptedString/EncryptedText a key (a type without one is for migrations)"
                )
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


def _only_fernet(backend: object) -> None:
    if backend is not FernetBackend:
        raise ConfigError(f"encrypted columns use FernetBackend, not {getattr(backend, '__name__', backend)!r}")


def ciphertext_length(length: int) -> int:
    """The longest Fernet token for a plaintext of ``length`` characters (each up to 4 bytes in UTF-8).

    A token is the URL-safe base64 (with padding) of version (1 byte) + timestamp (8) + IV (16) + the
    AES-CBC ciphertext, PKCS7-padded to the next full 16-byte block (a whole block when already aligned),
    + HMAC-SHA256 (32).
    """
    plaintext = 4 * length
    token = 1 + 8 + 16 + 16 * (plaintext // 16 + 1) + 32
    return 4 * ((token + 2) // 3)


class EncryptedString(TypeDecorator[str]):
    """A string encrypted with ``key`` (str, bytes or a callable returning one) before it is stored.

    ``length`` is the length of the plaintext you expect, in characters as for ``String(length)``; the column
    is sized for the ciphertext of any such value (``ciphertext_length``), non-ASCII characters included.
    Without it the column is ``VARCHAR(1024)``. Encrypted values can't be searched or compared in SQL.
    """

    impl = String
    cache_ok = True

    def __init__(
        self,
        key: KeyType | None = None,
        length: int | None = None,
        *,
        backend: type[FernetBackend] = FernetBackend,
        **kwargs: Any,
    ) -> None:
        # key=None: a column type that can create the column (a migration) but not encrypt, so a revision never
        # holds the key. backend=: Advanced Alchemy's spelling; Fernet is the one backend.
        _only_fernet(backend)
        super().__init__(length=1024 if length is None else ciphertext_length(length), **kwargs)
        self.key = key
        self.plaintext_length = length  # ``length`` (through the impl) is the column's: the ciphertext's
        self.backend = FernetBackend(key)

    def __repr__(self) -> str:
        # What autogenerate writes into a revision: the length the model declared, never the key.
        length = self.plaintext_length
        return f"{type(self).__name__}()" if length is None else f"{type(self).__name__}(length={length})"

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
    cache_ok = True

    def __init__(
        self, key: KeyType | None = None, *, backend: type[FernetBackend] = FernetBackend, **kwargs: Any
    ) -> None:
        _only_fernet(backend)
        TypeDecorator.__init__(self, **kwargs)
        self.key = key
        self.plaintext_length = None
        self.backend = FernetBackend(key)

"""Dumps on object storage: ``--dir s3://bucket/prefix`` (and ``gs://``, ``az://``, ``file://``), through obstore.

A dump at ``s3://bucket/prefix`` is laid out as::

    prefix/manifest.json                                  written last, in one PUT: the commit point
    prefix/dump-20261208T031500Z-1a2b3c4d/books.json      the table files of that dump, in a folder of its own

An object store has no rename, so a dump can't be staged beside its target and swapped in like a directory
(``files.StagedDirectory``). Instead each dump streams its table files (multipart uploads, memory a few parts
whatever the table size) into a folder no other dump uses, then writes the manifest, which names that folder
and each file's sha256 and size. A PUT replaces an object whole, so a reader sees the previous manifest or the
new one, never a mix; only once the new one is in place are the previous dump's files, and folders of dumps
that were killed, deleted. A dump killed or failing before its manifest leaves the previous manifest naming
its own untouched files, and no manifest naming the partial dump's: it can't be loaded. A load reads the
manifest first, refuses a prefix without one, and checks every file's size (listing) and sha256 (a streamed
read) before a row is written. Keys are a closed world as directories are: the manifest's folder and file
names are plain names (``files.check_folder_name``, ``check_file_name``) under the prefix.

Credentials and endpoints come from the environment, as obstore reads it (``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, ``AWS_REGION``, ``AWS_ENDPOINT_URL``, ``AWS_ALLOW_HTTP``;
``GOOGLE_SERVICE_ACCOUNT``...; ``AZURE_STORAGE_ACCOUNT_NAME``, ``AZURE_STORAGE_ACCOUNT_KEY``...). One dump at a
time per prefix: a dump deletes, after its commit, the dump folders it found when it started.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import re
import secrets
from typing import IO, Any

from dbops.data.files import FileWriter, check_file_name, is_object_url
from dbops.data.manifest import MANIFEST_NAME, MAX_MANIFEST_BYTES, Manifest, read_manifest
from dbops.errors import DataError, StorageError, first_line

__all__ = ["DumpLocation", "ObjectDestination", "ObjectFile", "ObjectFolder", "ObjectWriter", "read_object_dump"]

PART_SIZE = 8 << 20
"""Bytes of a multipart upload's part (S3 wants at least 5 MB), and of a ranged read on load."""
UPLOAD_CONCURRENCY = 2
"""Parts uploaded at once: memory is about (1 + this) parts per file being written."""
_FOLDER = re.compile(r"^dump-(?P<stamp>\d{8}T\d{6}Z)-[0-9a-f]{8}$")
_S3_ENDPOINTS = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT")


# -- the store ------------------------------------------------------------------------------------------------


class ObjectPlace:
    """An object store opened at a URL's prefix, with every failure turned into a one-line DataError."""

    def __init__(self, url: str, *, create: bool = False) -> None:
        from dbops.storage.backends.obstore import ObstoreBackend

        if not is_object_url(url):
            raise DataError(f"{url}: not an object-storage URL (s3://bucket/prefix, gs://, az://, file:///path)")
        self.url = url.rstrip("/")
        self.scheme = url.split("://", 1)[0].lower()
        options = _store_options(self.scheme, create=create)
        try:
            self.store: Any = ObstoreBackend(self.url, fs=self.url + "/", **options).store
        except StorageError as error:
            cause = error.__cause__
            reason = str(error) if cause is None or isinstance(cause, ImportError) else _reason(cause, self.scheme)
            raise DataError(f"{self.url}: cannot open: {reason}") from None

    def url_of(self, key: str) -> str:
        return f"{self.url}/{key}" if key else self.url

    def error(self, action: str, key: str, error: BaseException) -> DataError:
        return DataError(f"{self.url_of(key)}: cannot {action}: {_reason(error, self.scheme)}")

    def keys(self) -> dict[str, int]:
        """Every key under the prefix (relative to it) and its size; also proves the bucket and credentials."""
        import obstore

        try:
            return {meta["path"]: int(meta["size"]) for batch in obstore.list(self.store) for meta in batch}
        except FileNotFoundError:  # a file:// prefix that doesn't exist yet
            return {}
        except Exception as error:
            raise self.error("list", "", error) from None

    def put(self, key: str, data: bytes) -> None:
        import obstore

        try:
            obstore.put(self.store, key, data)
        except Exception as error:
            raise self.error("write", key, error) from None

    def delete(self, keys: list[str]) -> None:
        import obstore

        for start in range(0, len(keys), 1000):  # S3's bulk delete takes 1000 keys at most
            try:
                obstore.delete(self.store, keys[start : start + 1000])
            except FileNotFoundError:
                continue
            except Exception as error:
                raise self.error("delete", keys[start], error) from None

    def open_writer(self, key: str) -> Any:
        import obstore

        try:
            return obstore.open_writer(self.store, key, buffer_size=PART_SIZE, max_concurrency=UPLOAD_CONCURRENCY)
        except Exception as error:
            raise self.error("write", key, error) from None

    def open_reader(self, key: str, size: int | None) -> IO[bytes]:
        import obstore

        try:
            reader = obstore.open_reader(self.store, key, buffer_size=PART_SIZE, size=size)
        except Exception as error:
            raise OSError(_reason(error, self.scheme)) from None
        return io.BufferedReader(_Reader(reader, self.scheme), buffer_size=1 << 20)


def _store_options(scheme: str, *, create: bool) -> dict[str, Any]:
    """What obstore doesn't work out from the environment by itself."""
    options: dict[str, Any] = {}
    if scheme in ("s3", "s3a"):
        # ObstoreBackend defaults to us-east-1 when no region is passed; the environment's region comes first
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if region:
            options["aws_region"] = region
        endpoint = next((os.environ[name] for name in _S3_ENDPOINTS if os.environ.get(name)), "")
        if endpoint.startswith("http://") and "AWS_ALLOW_HTTP" not in os.environ:
            options["client_options"] = {"allow_http": True}  # a local MinIO / moto: plain HTTP is what was asked
    elif scheme == "file":
        options["automatic_cleanup"] = True  # a deleted dump's folder goes too, as in a bucket
        if create:
            options["mkdir"] = True
    return options


_XML_CODE = re.compile(r"<Code>(?P<code>[^<]+)</Code>(?:\s*<Message>(?P<message>[^<]*)</Message>)?")


def _reason(error: BaseException, scheme: str) -> str:
    """One line saying why a request failed, without obstore's request dump and debug trace."""
    text = str(error)
    found = _XML_CODE.search(text)
    if found:
        code, message = found["code"], (found["message"] or "").strip()
        if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied"):
            hint = " (check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)" if scheme.startswith("s3") else ""
            return f"{code}: {message or 'access denied'}{hint}"
        return f"{code}: {message}" if message else code
    if "169.254.169.254" in text or "169.254.170.2" in text:
        return "no credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where a role provides them)"
    if "error sending request" in text or "Connection refused" in text or "dns error" in text:
        endpoint = re.search(r"(https?://[^/\s]+)", text)
        return f"cannot reach {endpoint[1] if endpoint else 'the endpoint'} (check AWS_ENDPOINT_URL and the network)"
    line = first_line(error)
    return line if len(line) <= 300 else line[:297] + "..."


class _Reader(io.RawIOBase):
    """obstore's ranged-read file as a raw stream; a failed read is an OSError (the readers name the file)."""

    def __init__(self, reader: Any, scheme: str) -> None:
        self._reader = reader
        self._scheme = scheme

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = memoryview(self._reader.read(len(buffer)))
        except Exception as error:
            raise OSError(_reason(error, self._scheme)) from None
        count = len(data)
        memoryview(buffer).cast("B")[:count] = data
        return count

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._reader.close()
        super().close()


# -- reading --------------------------------------------------------------------------------------------------


class ObjectFile:
    """A file of a dump on object storage, as ``files``' readers take it (``files.StreamFile``)."""

    def __init__(self, place: ObjectPlace, key: str, size: int | None = None) -> None:
        self.place = place
        self.key = key
        self.size = size
        self.name = key.rsplit("/", 1)[-1]

    def __str__(self) -> str:
        return self.place.url_of(self.key)

    def __repr__(self) -> str:
        return f"ObjectFile({str(self)!r})"

    def open_raw(self) -> IO[bytes]:
        return self.place.open_reader(self.key, self.size)

    def is_symlink(self) -> bool:
        return False

    def is_file(self) -> bool:
        return self.size is not None  # known from the listing that found it


def read_object_dump(url: str) -> tuple[Manifest, dict[str, ObjectFile]]:
    """The manifest of the dump at ``url`` and its table files by manifest ``file``, sizes checked by a listing.

    Refuses a prefix without a manifest (no dump, or only an interrupted first one), a file the manifest
    names that is missing or of another size, and a data file in the dump's folder the manifest doesn't list.
    """
    place = ObjectPlace(url)
    keys = place.keys()
    if MANIFEST_NAME not in keys:
        partial = any(_FOLDER.match(key.split("/", 1)[0]) for key in keys)
        raise DataError(
            f"{place.url}: no {MANIFEST_NAME}; "
            + ("an interrupted dump left files, but no dump completed here" if partial else "not a dbops dump")
        )
    if keys[MANIFEST_NAME] > MAX_MANIFEST_BYTES:
        raise DataError(f"{place.url_of(MANIFEST_NAME)}: larger than {MAX_MANIFEST_BYTES >> 20} MB")
    manifest = read_manifest(ObjectFile(place, MANIFEST_NAME, keys[MANIFEST_NAME]))
    base = f"{manifest.folder}/" if manifest.folder else ""
    found: dict[str, ObjectFile] = {}
    for entry in manifest.tables:
        key = base + entry.file
        size = keys.get(key)
        if size is None:
            raise DataError(f"{place.url_of(key)}: listed in the manifest but missing")
        if entry.size is not None and size != entry.size:
            raise DataError(
                f"{place.url_of(key)}: {size} bytes, but the manifest says {entry.size}; "
                "the file changed after the dump"
            )
        found[entry.file] = ObjectFile(place, key, size)
    listed = {base + entry.file for entry in manifest.tables}
    for key in sorted(keys):
        name = key[len(base) :]
        unlisted = key.startswith(base) and "/" not in name and key not in listed and name != MANIFEST_NAME
        if unlisted and check_file_name(name) is None:
            raise DataError(
                f"{place.url_of(key)}: not listed in {MANIFEST_NAME}; the dump changed after it was written"
            )
    return manifest, found


# -- writing --------------------------------------------------------------------------------------------------


class _CheckedUpload:
    """obstore's writable file, with a failed write as a DataError naming the object."""

    def __init__(self, place: ObjectPlace, key: str) -> None:
        self.place = place
        self.key = key
        self.upload = place.open_writer(key)

    def write(self, data: bytes) -> int:
        try:
            return int(self.upload.write(data))
        except Exception as error:
            raise self.place.error("write", self.key, error) from None

    def flush(self) -> None:
        pass  # obstore uploads whole parts by itself; a flush would send a short one

    def close(self) -> None:
        try:
            self.upload.close()
        except Exception as error:
            raise self.place.error("write", self.key, error) from None


class ObjectWriter(FileWriter):
    """A table file streamed to object storage; the object appears, whole, only on ``commit``.

    An upload that is discarded (or whose process dies) is never completed: no object appears under its key.
    A large one leaves uploaded parts of an unfinished multipart upload, which the store's lifecycle rule for
    incomplete uploads removes (S3: ``AbortIncompleteMultipartUpload``).
    """

    def __init__(self, folder: ObjectFolder, name: str, *, compress: bool) -> None:
        self.folder = folder
        self.name = name
        self.key = f"{folder.run}/{name}"
        super().__init__(_CheckedUpload(folder.place, self.key), compress=compress)

    def commit(self) -> None:
        self._finish()
        self._raw.close()
        self.folder.written[self.name] = self.size

    def discard(self) -> None:
        with contextlib.suppress(Exception):
            self._finish()
        # Not closed: closing would complete the upload. Dropped, obstore never completes it.
        self._raw = None
        self._hashing.raw = None  # type: ignore[assignment]

    def __enter__(self) -> ObjectWriter:
        return self


class ObjectFolder:
    """The folder of one dump in progress: ``open_writer`` streams a table file into it."""

    def __init__(self, place: ObjectPlace, run: str) -> None:
        self.place = place
        self.run = run
        self.written: dict[str, int] = {}
        """File name → bytes, for every file committed."""

    def open_writer(self, name: str, *, compress: bool = False) -> ObjectWriter:
        return ObjectWriter(self, name, compress=compress)


class DumpLocation:
    """Where a dump on object storage is, for results: ``str()`` is its URL, ``/ name`` the URL of a file of it."""

    def __init__(self, place: ObjectPlace, run: str) -> None:
        self.place = place
        self.run = run

    def __str__(self) -> str:
        return self.place.url

    def __repr__(self) -> str:
        return f"DumpLocation({self.place.url!r})"

    def __truediv__(self, name: str) -> ObjectFile:
        return ObjectFile(self.place, name if name == MANIFEST_NAME else f"{self.run}/{name}")


class ObjectDestination:
    """A dump to object storage, committed by writing its manifest last (see the module's docstring).

    The same shape as ``files.StagedDirectory``: ``clean_leftovers``, ``check_target``, ``with ... as folder``
    (files go into ``folder``), ``commit(manifest)``.
    """

    def __init__(self, url: str) -> None:
        self.place = ObjectPlace(url, create=True)
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        self.run = f"dump-{stamp}-{secrets.token_hex(4)}"
        self.location = DumpLocation(self.place, self.run)
        self.folder = ObjectFolder(self.place, self.run)
        self.existing: dict[str, int] = {}
        self.previous: Manifest | None = None
        self._committing = False

    def clean_leftovers(self) -> None:
        """Nothing to put back (nothing is ever moved aside); dead dumps' folders go after the next commit."""

    def check_target(self) -> None:
        """List the prefix (which proves the bucket and credentials before a row is read) and read the manifest
        there; refuse a ``manifest.json`` that isn't a dbops one (the dump would overwrite it)."""
        self.existing = self.place.keys()
        if MANIFEST_NAME in self.existing:
            try:
                self.previous = read_manifest(ObjectFile(self.place, MANIFEST_NAME, self.existing[MANIFEST_NAME]))
            except DataError as error:
                raise DataError(
                    f"{self.place.url}: holds a {MANIFEST_NAME} that is not a readable dbops manifest, which a dump "
                    f"would overwrite; dump to another prefix ({error})"
                ) from None

    def __enter__(self) -> ObjectFolder:
        return self.folder

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is not None and not self._committing:
            # Best effort: what is left is in a folder no manifest names, removed by the next dump's commit.
            with contextlib.suppress(DataError):
                self.place.delete([f"{self.run}/{name}" for name in self.folder.written])

    def commit(self, manifest: Manifest) -> None:
        """Write ``manifest`` (naming this dump's folder and each file's size), then delete what it replaces."""
        manifest.folder = self.run
        written = self.folder.written
        if any(entry.file not in written for entry in manifest.tables):  # written by another process: ask the store
            listed = self.place.keys()
            written = {name[len(self.run) + 1 :]: size for name, size in listed.items() if name.startswith(self.run)}
        for entry in manifest.tables:
            if entry.file not in written:
                raise DataError(f"{self.place.url_of(self.run + '/' + entry.file)}: missing from the dump's folder")
            entry.size = written[entry.file]
        # From here a failure may still have written the manifest (a lost reply): keep the files it names.
        self._committing = True
        self.place.put(MANIFEST_NAME, manifest.to_bytes())
        with contextlib.suppress(DataError):  # the dump is complete; what stays is removed by the next commit
            self.place.delete(self._replaced())

    def _replaced(self) -> list[str]:
        """Keys the new manifest made garbage: the previous dump's files, and folders of dumps found at the start."""
        previous = self.previous
        named: set[str] = set()
        if previous is not None:
            base = f"{previous.folder}/" if previous.folder else ""
            named = {base + entry.file for entry in previous.tables}
        return sorted(
            key
            for key in self.existing
            if key in named or (_FOLDER.match(key.split("/", 1)[0]) and key.split("/", 1)[0] != self.run)
        )

"""The signed-URL route for local backends (litestar_dbops.storage) and the upload helper."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from litestar import Litestar, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.testing import TestClient
from litestar_dbops.storage import create_storage_router, file_object_from_upload

from dbops.storage import LocalBackend, MemoryBackend, storages


def make_client(tmp_path: Path, **options: Any) -> tuple[TestClient[Litestar], LocalBackend]:
    backend = LocalBackend("files", tmp_path / "files", secret="route-secret")
    storages.register_backend(backend)

    @post("/upload")
    async def upload(
        data: Annotated[dict[str, UploadFile], Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> dict[str, Any]:
        file = await file_object_from_upload(data["file"], backend="files")
        file.save()
        return file.to_dict()

    app = Litestar(route_handlers=[create_storage_router(**options), upload])
    return TestClient(app), backend


def test_signed_download(tmp_path: Path) -> None:
    client, backend = make_client(tmp_path)
    backend.put("a/report.txt", b"secret report")
    with client:
        url = backend.sign("a/report.txt", expires_in=60)
        response = client.get(url)
        assert response.status_code == 200
        assert response.content == b"secret report"
        assert response.headers["content-type"].startswith("text/plain")
        assert client.get(url.replace("signature=", "signature=0")).status_code == 401
        assert client.get("/_storage/files/a/report.txt").status_code == 401
        assert client.get(backend.sign("a/report.txt", expires_in=-1)).status_code == 401
        assert client.get(url.replace("report.txt", "other.txt")).status_code == 401
        assert client.get(backend.sign("a/missing.txt")).status_code == 404
        assert client.get(url.replace("/files/", "/nope/")).status_code == 404


def test_only_local_backends_are_served(tmp_path: Path) -> None:
    client, _ = make_client(tmp_path)
    storages.register_backend(MemoryBackend("mem"))
    with client:
        assert client.get("/_storage/mem/x?expires=1&signature=x").status_code == 404


def test_traversal_is_not_served(tmp_path: Path) -> None:
    client, _ = make_client(tmp_path)
    (tmp_path / "outside.txt").write_text("outside")
    with client:
        response = client.get("/_storage/files/../outside.txt?expires=99999999999&signature=x")
        assert response.status_code in (401, 404)
        response = client.get("/_storage/files/%2E%2E/outside.txt?expires=99999999999&signature=x")
        assert response.status_code in (401, 404)
        assert "outside" not in response.text


def test_signed_upload(tmp_path: Path) -> None:
    client, backend = make_client(tmp_path, max_upload_size=10)
    with client:
        url = backend.sign("up/new.bin", for_upload=True)
        assert client.put(url, content=b"0123456789").status_code == 200
        assert backend.get_content("up/new.bin") == b"0123456789"
        assert client.put(url, content=b"01234567890").status_code == 413
        assert backend.get_content("up/new.bin") == b"0123456789"
        download_only = backend.sign("up/other.bin")
        assert client.put(download_only, content=b"x").status_code == 401
        assert not backend.exists("up/other.bin")


def test_upload_helper(tmp_path: Path) -> None:
    client, backend = make_client(tmp_path)
    with client:
        response = client.post("/upload", files={"file": ("photo.png", b"PNGDATA", "image/png")})
        assert response.status_code == 201, response.text
        stored = response.json()
        assert stored["filename"] == "photo.png" and stored["content_type"] == "image/png" and stored["size"] == 7
        assert backend.get_content(stored["path"]) == b"PNGDATA"


def test_signed_upload_of_a_large_file(tmp_path: Path) -> None:
    import os

    client, backend = make_client(tmp_path)
    data = os.urandom(3 * 1024 * 1024 + 11)  # past the 1 MB the route keeps in memory
    with client:
        response = client.put(backend.sign("up/large.bin", for_upload=True), content=data)
        assert response.status_code == 200, response.text
        assert response.json()["size"] == len(data)
        assert backend.get_content("up/large.bin") == data
        assert client.get(backend.sign("up/large.bin")).content == data

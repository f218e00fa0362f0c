"""Drive the seed's example app (module named in argv[1], importable from the cwd) like a client would.

Run in a fresh interpreter by ``test_seed_example.py``: the example defines its model on dbops' shared
metadata and registers its backend at import, exactly as a user's app module does, so it gets a process of
its own. Prints one JSON object: for every step the HTTP status, the response body, the content behind the
returned signed URL, and the bucket's keys afterwards. The test makes the assertions.
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any

import httpx
from litestar.testing import TestClient


def main() -> None:
    example = importlib.import_module(sys.argv[1])
    steps: dict[str, dict[str, Any]] = {}

    def record(name: str, response: httpx.Response) -> Any:
        body = response.json() if response.content else None
        url = body.get("file_url") if isinstance(body, dict) else None
        steps[name] = {
            "status": response.status_code,
            "body": body,
            "content": httpx.get(url).text if isinstance(url, str) else None,
            "stored": sorted(info.path for info in example.s3_backend.list()),
        }
        return body

    with TestClient(example.app) as client:
        created = record(
            "create",
            client.post("/documents/", data={"name": "report"}, files={"file": ("report.txt", b"v1", "text/plain")}),
        )
        document = f"/documents/{created['id']}"
        record(
            "patch",
            client.patch(document, data={"name": "report2"}, files={"file": ("r2.txt", b"v2", "text/plain")}),
        )
        record("get", client.get(document))
        record("list", client.get("/documents/"))
        record("search", client.get("/documents/", params={"searchString": "REPORT2"}))
        record("search-nothing", client.get("/documents/", params={"searchString": "nothing"}))
        # The seed's column is NOT NULL (Mapped[FileObject]): a document without a file is refused.
        record("create-without-file", client.post("/documents/", files={"name": (None, "empty")}))
        record("list-after-refusal", client.get("/documents/"))
        record("delete", client.delete(document))
        record("list-after-delete", client.get("/documents/"))
    print(json.dumps(steps))


if __name__ == "__main__":
    main()

"""The seed's "Using Properties with DTOs" snippet, with dbops' names, through Litestar's TestClient.

The snippet maps ``UserModel`` (table ``user``) on dbops' shared registry as a user's app would, so it runs in
a process of its own and prints what it saw; the test asserts on that.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

SNIPPET = """
import json
from functools import cached_property

from litestar import Litestar, post
from litestar.testing import TestClient
from sqlalchemy.orm import Mapped, MappedAsDataclass

from litestar_dbops import SQLAlchemyDTO, base


class UserModel(base.UUIDAuditBase, MappedAsDataclass):
    __tablename__ = "user"

    first_name: Mapped[str]
    last_name: Mapped[str]

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @cached_property
    def name_length(self) -> int:
        return len(self.full_name)


# DTO includes: id, created_at, updated_at, first_name, last_name,
# full_name (read-only), name_length (read-only)
UserDTO = SQLAlchemyDTO[UserModel]


@post("/users", dto=UserDTO, sync_to_thread=False, signature_namespace={"UserModel": UserModel})
def create_user(data: UserModel) -> UserModel:
    return data


with TestClient(Litestar([create_user])) as client:
    created = client.post("/users", json={"first_name": "Ada", "last_name": "Lovelace", "full_name": "nope"})
    schemas = client.get("/schema/openapi.json").json()["components"]["schemas"]
print(json.dumps({
    "status": created.status_code,
    "body": created.json(),
    "request": sorted(next(s for n, s in schemas.items() if n.endswith("RequestBody"))["properties"]),
    "response": sorted(next(s for n, s in schemas.items() if n.endswith("ResponseBody"))["properties"]),
}))
"""


def test_seed_user_model_dto_has_read_only_properties() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SNIPPET], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout)
    assert seen["status"] == 201
    assert seen["response"] == sorted(
        ["id", "created_at", "updated_at", "first_name", "last_name", "full_name", "name_length"]
    )
    # properties are read-only: not in the request body, and a value sent for one is ignored
    assert "full_name" not in seen["request"] and "name_length" not in seen["request"]
    assert {"first_name", "last_name"} <= set(seen["request"])
    assert seen["body"]["full_name"] == "Ada Lovelace"
    assert seen["body"]["name_length"] == 12

"""200 concurrent requests, half of them failing in different ways: no lost rows, no stray rows, no leaks."""

from __future__ import annotations

import asyncio
from collections import Counter

import sqlalchemy as sa
from litestar.testing import AsyncTestClient
from sqlalchemy import create_engine

from tests.databases import TestDatabase
from tests.plugin.apps import Base, Item, app_for, checked_out, item_names, make_config

REQUESTS = 200


def _plan() -> dict[str, tuple[str, int]]:
    """name → (query, expected status): even requests succeed; odd ones raise, answer 400 or hit a unique key."""
    plan: dict[str, tuple[str, int]] = {}
    for index in range(REQUESTS):
        if index % 2 == 0:
            plan[f"ok-{index}"] = ("status=201", 201)
        elif index % 6 == 1:
            plan[f"raise-{index}"] = ("fail=raise", 500)
        elif index % 6 == 3:
            plan[f"bad-{index}"] = ("status=400", 400)
        else:
            plan[f"seed-{index}"] = ("status=201", 409)  # the row exists already: unique violation at commit
    return plan


def test_concurrent_requests_commit_exactly_the_successful_half(db: TestDatabase, is_async: bool) -> None:
    plan = _plan()
    seeds = sorted(name for name in plan if name.startswith("seed-"))
    engine = create_engine(db.sync_url)
    Base.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(sa.insert(Item), [{"name": name} for name in seeds])
    engine.dispose()

    config = make_config(db.url(is_async=is_async), is_async=is_async, before_send_handler="autocommit")

    async def run() -> tuple[dict[str, int], int]:
        async with AsyncTestClient(app_for(config)) as client:
            responses = await asyncio.gather(
                *(client.post(f"/items/{name}?{query}") for name, (query, _) in plan.items())
            )
            return {name: response.status_code for name, response in zip(plan, responses, strict=True)}, checked_out(
                config
            )

    statuses, leaked = asyncio.run(run())
    assert statuses == {name: status for name, (_, status) in plan.items()}, Counter(statuses.values())
    assert Counter(statuses.values())[201] == REQUESTS // 2
    assert leaked == 0
    assert item_names(db.sync_url) == sorted([*seeds, *(name for name in plan if name.startswith("ok-"))])

"""Migrations on the real Postgres: the outbox table comes from services/common/migrations before a
publishing service's own files, on a new database and on one whose service created the table in
its own history (the first wave's `0002_outbox`)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
import pytest

from services.common import outbox
from services.common.db import migrate
from services.devstack.stack import Platform

pytestmark = pytest.mark.integration

BOOKINGS = Path(__file__).resolve().parents[2] / "services" / "bookings" / "migrations"


@pytest.fixture
def database_url(platform: Platform) -> str:
    return platform.infra.env()["DATABASE_URL"]


async def run_migrations(database_url: str, schema: str) -> list[str]:
    return await asyncio.to_thread(migrate, database_url, schema, (outbox.MIGRATIONS, BOOKINGS))


async def test_a_new_schema_gets_the_outbox_first_and_nothing_twice(database_url: str) -> None:
    schema = f"m_{uuid.uuid4().hex[:12]}"
    applied = await run_migrations(database_url, schema)
    assert applied[0] == "0000_outbox" and "0001_catalog" in applied and "0000_outbox" not in applied[1:]
    assert await run_migrations(database_url, schema) == []
    conn = await asyncpg.connect(database_url, server_settings={"search_path": schema})
    try:
        indexes = {r["indexname"] for r in await conn.fetch("SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'outbox'", schema)}
        assert {"outbox_unpublished", "outbox_created_at"} <= indexes
    finally:
        await conn.close()


async def test_a_schema_that_already_has_the_outbox_keeps_it_and_its_rows(database_url: str) -> None:
    schema = f"m_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"; SET search_path = "{schema}"')
        await conn.execute((outbox.MIGRATIONS / "0000_outbox.sql").read_text())  # as a first-wave 0002_outbox left it
        await conn.execute(
            "INSERT INTO outbox (tenant_id, topic, key, ce_type, ce_id, ce_subject, ce_time, payload) "
            "VALUES ('t', 'topic', 'k', 'type', gen_random_uuid(), 's', now(), '\\x00')"
        )
        applied = await run_migrations(database_url, schema)
        assert applied[0] == "0000_outbox"
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 1
    finally:
        await conn.close()

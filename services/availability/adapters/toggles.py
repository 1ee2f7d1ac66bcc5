"""Feature toggles per tenant with a stable percentage rollout, stored in Redis and re-read
every `refresh` seconds, so a change made with the CLI takes effect within a second, without a
restart.

One Redis hash `feature_toggles` holds one JSON document per toggle:
    {"percentage": 10, "allow": ["tenant-a"], "deny": ["tenant-b"]}
Which toggles exist and how a rule decides for a tenant: domain/toggles.py.
"""

from __future__ import annotations

import asyncio
import contextlib

import redis.asyncio as redis
import structlog

from services.availability.domain.toggles import ToggleRule

HASH_KEY = "feature_toggles"
log = structlog.get_logger("toggles")


class FeatureToggles:
    """Reads all toggles in one HGETALL every `refresh` seconds; lookups are in memory."""

    def __init__(self, client: redis.Redis, refresh: float):
        self._client = client
        self._refresh = refresh
        self._rules: dict[str, ToggleRule] = {}
        self._task: asyncio.Task[None] | None = None

    def enabled(self, toggle: str, tenant_id: str) -> bool:
        rule = self._rules.get(toggle)
        return rule is not None and rule.enabled_for(toggle, tenant_id)

    async def load(self) -> None:
        raw = await self._client.hgetall(HASH_KEY)
        rules = {}
        for name, value in raw.items():
            key = name.decode() if isinstance(name, bytes) else name
            try:
                rules[key] = ToggleRule.parse(value)
            except (ValueError, TypeError) as exc:  # a bad document switches only that toggle off
                log.error("ignoring malformed feature toggle", toggle=key, error=str(exc))
        self._rules = rules

    async def start(self) -> None:
        await self.load()
        self._task = asyncio.create_task(self._poll(), name="feature-toggles")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self._refresh)
            try:
                await self.load()
            except (redis.RedisError, OSError) as exc:  # keep the last known rules while Redis is away
                log.warning("feature toggles not refreshed", error=str(exc))


async def set_rule(client: redis.Redis, toggle: str, rule: ToggleRule) -> None:
    await client.hset(HASH_KEY, toggle, rule.dump())


async def get_rules(client: redis.Redis) -> dict[str, ToggleRule]:
    raw = await client.hgetall(HASH_KEY)
    return {(k.decode() if isinstance(k, bytes) else k): ToggleRule.parse(v) for k, v in raw.items()}

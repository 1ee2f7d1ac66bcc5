"""Feature toggles per tenant with a stable percentage rollout, stored in Redis and re-read
every `refresh` seconds, so a change made with the CLI takes effect within a second, without a
restart.

One Redis hash `feature_toggles` holds one JSON document per toggle:
    {"percentage": 10, "allow": ["tenant-a"], "deny": ["tenant-b"]}
A tenant is on when it is allowed, or not denied and its stable bucket (sha256 of toggle and
tenant, 0..99) is below the percentage: raising 1 → 10 → 50 → 100 only ever adds tenants.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from dataclasses import dataclass, field

import redis.asyncio as redis
import structlog

HASH_KEY = "feature_toggles"
COURSE_AVAILABILITY_ENABLED = "course_availability_enabled"
PROXY_COURSE_TO_NEW_ENDPOINT = "proxy_course_to_new_endpoint"
KNOWN_TOGGLES = (COURSE_AVAILABILITY_ENABLED, PROXY_COURSE_TO_NEW_ENDPOINT)

log = structlog.get_logger("toggles")


def bucket(toggle: str, tenant_id: str) -> int:
    """0..99, the same for a tenant and toggle on every machine and run."""
    digest = hashlib.sha256(f"{toggle}:{tenant_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100


@dataclass(frozen=True)
class ToggleRule:
    percentage: int = 0
    allow: frozenset[str] = field(default_factory=frozenset)
    deny: frozenset[str] = field(default_factory=frozenset)

    def enabled_for(self, toggle: str, tenant_id: str) -> bool:
        if tenant_id in self.allow:
            return True
        if tenant_id in self.deny:
            return False
        return bucket(toggle, tenant_id) < self.percentage

    @classmethod
    def parse(cls, raw: str | bytes) -> ToggleRule:
        data = json.loads(raw)
        percentage = int(data.get("percentage", 0))
        if not 0 <= percentage <= 100:
            raise ValueError(f"percentage {percentage} is not within 0..100")
        return cls(percentage, frozenset(data.get("allow", ())), frozenset(data.get("deny", ())))

    def dump(self) -> str:
        return json.dumps({"percentage": self.percentage, "allow": sorted(self.allow), "deny": sorted(self.deny)})


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

"""Feature toggles per tenant with a stable percentage rollout: which toggles exist and the rule
that decides whether a tenant has one (the rules are stored in Redis, adapters/toggles.py).

A tenant is on when it is allowed, or not denied and its stable bucket (sha256 of toggle and
tenant, 0..99) is below the percentage: raising 1 → 10 → 50 → 100 only ever adds tenants.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

COURSE_AVAILABILITY_ENABLED = "course_availability_enabled"
PROXY_COURSE_TO_NEW_ENDPOINT = "proxy_course_to_new_endpoint"
KNOWN_TOGGLES = (COURSE_AVAILABILITY_ENABLED, PROXY_COURSE_TO_NEW_ENDPOINT)


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

"""Feature toggles for operators: read, change and explain the rules the services read from the
Redis hash `feature_toggles` (services/availability/domain/toggles.py owns the format, the
bucket and the decision; this module reuses them and never re-implements them).

The services re-read the hash every `feature_toggle_refresh_seconds` (0.5 s by default), so a
change takes effect within a second, without a restart.

`edit`, `changes` and `explain` are pure; `ToggleStore` is the synchronous Redis client.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import redis

from services.availability.adapters.toggles import HASH_KEY
from services.availability.domain.toggles import KNOWN_TOGGLES, ToggleRule, bucket

DEFAULT_REDIS_URL = "redis://127.0.0.1:56379/0"  # the Redis of `make run`
TAKES_EFFECT = "takes effect within a second, no restart"


class ToggleError(Exception):
    """A toggle name, a stored rule or Redis itself that cannot be used; the message says why."""


def check_name(name: str) -> str:
    if name not in KNOWN_TOGGLES:
        raise ToggleError(f"unknown toggle {name!r}; known toggles: {', '.join(KNOWN_TOGGLES)}")
    return name


@dataclass(frozen=True)
class Edit:
    """What `bookings toggles set` was asked to do. Clearing happens before adding, so
    `--clear-allow --allow a` replaces the allow list with `a`. Allowing a tenant takes it off
    the deny list and denying takes it off the allow list (a tenant is in one list at most);
    `remove` takes tenants off both, so they follow the percentage again."""

    percentage: int | None = None
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    clear_allow: bool = False
    clear_deny: bool = False

    def is_empty(self) -> bool:
        return self.percentage is None and not (self.allow or self.deny or self.remove or self.clear_allow or self.clear_deny)

    def validate(self) -> None:
        if self.is_empty():
            raise ToggleError("nothing to change: give --percentage, --allow, --deny, --remove, --clear-allow or --clear-deny")
        if self.percentage is not None and not 0 <= self.percentage <= 100:
            raise ToggleError(f"--percentage: {self.percentage} is not within 0..100")
        for option, tenants in (("--allow", self.allow), ("--deny", self.deny), ("--remove", self.remove)):
            if any(not t.strip() for t in tenants):
                raise ToggleError(f"{option}: a tenant id cannot be empty")
        for first, second, a, b in (
            ("--allow", "--deny", self.allow, self.deny),
            ("--allow", "--remove", self.allow, self.remove),
            ("--deny", "--remove", self.deny, self.remove),
        ):
            both = sorted(set(a) & set(b))
            if both:
                raise ToggleError(f"{', '.join(both)} given to both {first} and {second}")


def edit(rule: ToggleRule, change: Edit) -> ToggleRule:
    allow = set() if change.clear_allow else set(rule.allow)
    deny = set() if change.clear_deny else set(rule.deny)
    allow = (allow | set(change.allow)) - set(change.deny) - set(change.remove)
    deny = (deny | set(change.deny)) - set(change.allow) - set(change.remove)
    percentage = rule.percentage if change.percentage is None else change.percentage
    return ToggleRule(percentage, frozenset(allow), frozenset(deny))


def tenants_text(tenants: Iterable[str]) -> str:
    names = sorted(tenants)
    return ", ".join(names) if names else "(none)"


@dataclass(frozen=True)
class Change:
    field: str
    old: str
    new: str
    note: str = ""  # `+a -b` for lists

    def __str__(self) -> str:
        return f"{self.field}: {self.old} → {self.new}" + (f"  ({self.note})" if self.note else "")


def changes(old: ToggleRule | None, new: ToggleRule) -> list[Change]:
    """What differs between the stored rule (None: not set, which is off) and the new one."""
    before = old or ToggleRule()
    out = []
    if old is None or before.percentage != new.percentage:
        out.append(Change("percentage", "(not set)" if old is None else str(before.percentage), str(new.percentage)))
    for name in ("allow", "deny"):
        a, b = getattr(before, name), getattr(new, name)
        if a != b:
            note = " ".join([*(f"+{t}" for t in sorted(b - a)), *(f"-{t}" for t in sorted(a - b))])
            out.append(Change(name, tenants_text(a), tenants_text(b), note))
    return out


@dataclass(frozen=True)
class Decision:
    toggle: str
    tenant: str
    enabled: bool
    bucket: int
    rule: ToggleRule | None
    why: str


def explain(toggle: str, tenant: str, rule: ToggleRule | None) -> Decision:
    """Whether `toggle` is on for `tenant` under `rule` (None: not set), and why; the decision is
    `ToggleRule.enabled_for`, the services' own."""
    b = bucket(toggle, tenant)
    if rule is None:
        return Decision(toggle, tenant, False, b, None, "the toggle is not set (off for every tenant)")
    enabled = rule.enabled_for(toggle, tenant)
    if tenant in rule.allow:
        why = "the tenant is on the allow list"
    elif tenant in rule.deny:
        why = "the tenant is on the deny list"
    elif enabled:
        why = f"bucket {b} is below the percentage {rule.percentage}"
    else:
        why = f"bucket {b} is not below the percentage {rule.percentage}"
    return Decision(toggle, tenant, enabled, b, rule, why)


def rule_dict(rule: ToggleRule | None) -> dict[str, object] | None:
    return None if rule is None else json.loads(rule.dump())  # type: ignore[no-any-return]


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


@dataclass(frozen=True)
class Stored:
    """One field of the hash: the parsed rule, or the raw text and why it could not be parsed
    (the services then treat that toggle as off)."""

    name: str
    rule: ToggleRule | None
    raw: str | None = None
    problem: str = ""


def _parse(name: str, raw: str | None) -> Stored:
    if raw is None:
        return Stored(name, None)
    try:
        return Stored(name, ToggleRule.parse(raw), raw)
    except (ValueError, TypeError, AttributeError) as exc:
        return Stored(name, None, raw, f"malformed, the services treat it as off: {exc}")


class ToggleStore:
    """The `feature_toggles` hash through a synchronous Redis client."""

    def __init__(self, url: str, timeout: float):
        self.url = url
        try:
            self._client = redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=timeout, socket_timeout=timeout)
        except ValueError as exc:
            raise ToggleError(f"--redis-url: {exc}") from None

    def close(self) -> None:
        self._client.close()

    def _failed(self, exc: redis.RedisError) -> ToggleError:
        return ToggleError(
            f"Redis at {redact(self.url)}: {str(exc).rstrip('.')}; is the platform running (`make run`)? "
            "Pass --redis-url or set REDIS_URL to the Redis the services use"
        )

    def all(self) -> dict[str, Stored]:
        try:
            raw: dict[str, str] = self._client.hgetall(HASH_KEY)  # type: ignore[assignment]
        except redis.RedisError as exc:
            raise self._failed(exc) from None
        return {name: _parse(name, value) for name, value in raw.items()}

    def get(self, name: str) -> Stored:
        try:
            raw: str | None = self._client.hget(HASH_KEY, name)  # type: ignore[assignment]
        except redis.RedisError as exc:
            raise self._failed(exc) from None
        return _parse(name, raw)

    def update(self, name: str, change: Callable[[ToggleRule], ToggleRule]) -> tuple[Stored, ToggleRule, bool]:
        """Reads the rule, applies `change` and writes the result when it differs, atomically
        (WATCH/MULTI: a concurrent change makes it read again). A malformed stored rule is
        replaced, starting from off. Returns (stored before, after, written)."""
        result: list[tuple[Stored, ToggleRule, bool]] = []

        def transaction(pipe: redis.client.Pipeline) -> None:
            result.clear()
            before = _parse(name, pipe.hget(HASH_KEY, name))  # type: ignore[arg-type]
            after = change(before.rule or ToggleRule())
            write = before.rule != after
            pipe.multi()
            if write:
                pipe.hset(HASH_KEY, name, after.dump())
            result.append((before, after, write))

        try:
            self._client.transaction(transaction, HASH_KEY)
        except redis.RedisError as exc:
            raise self._failed(exc) from None
        return result[0]

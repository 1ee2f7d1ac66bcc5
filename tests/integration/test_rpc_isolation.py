"""Authentication, scopes and tenant isolation over every RPC of the platform (docs/platform.md
"Tenancy", "Authentication and scopes"),
driven by gRPC server reflection like the fuzz (tests/integration/rpc_fuzz_support.py): an RPC
added later is covered without touching this file.

- Every RPC refuses a call without a valid token (none, malformed, expired, badly signed,
  unsigned, without a usable tenant: empty, over 100 characters, a control, format or NUL
  character, blank or padded) with UNAUTHENTICATED, whatever the body, even one that
  does not decode: authentication comes before the request is looked at.
- Every RPC is allowed by exactly one scope, or only by `internal`, found black-box; `internal`
  alone is always enough (it satisfies every scope); every other single scope, and a token
  without scopes, gets PERMISSION_DENIED, whatever the body.
- A token whose tenant is odd but valid (unicode, 100 characters...) is served precisely.
- Tenant B calls every RPC with requests built from tenant A's real data (A's ids, A's messages,
  A's cursors). Each request is also sent, as B's twin tenant, with every id of A replaced by
  one nobody owns: B's answer must be the twin's (same status, nothing of A in it: none of A's
  names, and A's ids only where the twin's answer echoes the unknown ones), one of OK,
  NOT_FOUND, INVALID_ARGUMENT or FAILED_PRECONDITION; and A's rows in Postgres are exactly as
  they were after all of B's calls.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import grpc
import pytest
from hypothesis import HealthCheck, Phase, given, settings

from services.common.auth import ALL_SCOPES, INTERNAL_SCOPE
from services.devstack.stack import Platform
from tests.integration.rpc_fuzz_support import (
    AUTH_CODES,
    NON_INTERNAL_SCOPES,
    Caller,
    Mutations,
    Outcome,
    PropertyViolation,
    Request,
    RequestStrategies,
    Rpc,
    Seeded,
    Tally,
    TenantState,
    allow_course_availability,
    bearer,
    budget,
    check_precise,
    claims_bearer,
    describe_change,
    describe_failure,
    discover_rpcs,
    leaked_internals,
    long_mode,
    no_scope_bearer,
    seed_tenants,
    violation,
)
from tests.support import JWT_SECRET

EXAMPLES_VARIABLE = "RPC_ISOLATION_EXAMPLES"
DEFAULT_TOTAL = 512  # requests of tenant B across all RPCs (each also sent by B's twin)
TOTAL = budget(EXAMPLES_VARIABLE, DEFAULT_TOTAL)
ISOLATED_CODES = frozenset({grpc.StatusCode.OK, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION})

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600 + TOTAL // 4)]


@dataclass
class World:
    rpcs: list[Rpc]
    caller: Caller
    state: TenantState
    a: Seeded  # the tenant whose data the others must never reach
    tally: Tally = field(default_factory=Tally)

    def probe_request(self, rpc: Rpc) -> Request:
        """A plausible request of A's data (what a wrong scope must not get to see)."""
        return next(Mutations(self.a, self.a).requests(rpc))


@pytest.fixture(scope="module")
def world(platform: Platform) -> Iterator[World]:
    rpcs = discover_rpcs(platform)
    caller, state = Caller(platform), TenantState(platform)
    a = f"tenant-iso-a-{uuid.uuid4()}"
    seeded = seed_tenants(platform, [a], caller, rpcs, state)
    try:
        yield World(rpcs, caller, state, seeded[a])
    finally:
        allow_course_availability(platform, [a], allow=False)
        caller.close()
        state.close()


# --- authentication ---------------------------------------------------------------------------------

UNDECODABLE = b"\xff\xff\xff"


def _unauthenticated_cases(tenant: str) -> dict[str, list[tuple[str, str]]]:
    now = int(time.time())
    scope = " ".join(ALL_SCOPES)
    return {
        "no token": [],
        "empty bearer": [("authorization", "Bearer ")],
        "not bearer": [("authorization", "Basic dXNlcjpwYXNz")],
        "malformed token": [("authorization", "Bearer not.a.jwt")],
        "garbage token": [("authorization", "Bearer ~~~.~~~.~~~")],
        "expired": bearer(tenant, ttl_seconds=-3600),
        "wrong signature": claims_bearer({"tenant_id": tenant, "scope": scope, "exp": now + 600}, secret="another-secret-" + "x" * 32),
        "unsigned (alg none)": claims_bearer({"tenant_id": tenant, "scope": scope, "exp": now + 600}, secret="", algorithm="none"),
        "no expiry": claims_bearer({"tenant_id": tenant, "scope": scope}),
        "no tenant": claims_bearer({"scope": scope, "exp": now + 600}),
        "empty tenant": claims_bearer({"tenant_id": "", "scope": scope, "exp": now + 600}),
        "tenant not a string": claims_bearer({"tenant_id": 42, "scope": scope, "exp": now + 600}),
        "tenant of 101 characters": claims_bearer({"tenant_id": "t" * 101, "scope": scope, "exp": now + 600}),
        "tenant with NUL": claims_bearer({"tenant_id": "tenant\x00evil", "scope": scope, "exp": now + 600}),
        "tenant only NUL": claims_bearer({"tenant_id": "\x00", "scope": scope, "exp": now + 600}),
        "tenant with a control character": claims_bearer({"tenant_id": "tenant\x01control", "scope": scope, "exp": now + 600}),
        "tenant with a newline": claims_bearer({"tenant_id": "tenant\nnewline", "scope": scope, "exp": now + 600}),
        "tenant with a bidi override": claims_bearer({"tenant_id": "tenant\u202eevil", "scope": scope, "exp": now + 600}),
        "blank tenant": claims_bearer({"tenant_id": "  ", "scope": scope, "exp": now + 600}),
        "tenant with a leading space": claims_bearer({"tenant_id": " tenant", "scope": scope, "exp": now + 600}),
        "scope not a string": claims_bearer({"tenant_id": tenant, "scope": ["internal"], "exp": now + 600}),
    }


class Problems:
    """Unexpected answers, grouped by what was sent and answered, with the RPCs that gave them."""

    def __init__(self) -> None:
        self.by_kind: dict[str, list[str]] = {}

    def add(self, rpc: Rpc, case: str, outcome: Outcome | str) -> None:
        shown = outcome if isinstance(outcome, str) else f"{outcome.code.name}: {outcome.message[:160]!r}"
        self.by_kind.setdefault(f"[{case}] -> {shown}", []).append(rpc.name.split(".")[-1])

    def __bool__(self) -> bool:
        return bool(self.by_kind)

    def __str__(self) -> str:
        lines = [f"{len(self.by_kind)} kinds of unexpected answer:"]
        for kind, rpcs in sorted(self.by_kind.items()):
            lines.append(f"  {kind}\n      from {len(rpcs)} RPCs: {', '.join(rpcs[:6])}{' ...' if len(rpcs) > 6 else ''}")
        return "\n".join(lines)


def test_every_rpc_refuses_a_call_without_a_valid_token_before_reading_the_request(world: World) -> None:
    """Each RPC, with an empty body, a plausible request of real data, and a body that does not
    decode, answers UNAUTHENTICATED (no internal text) to every token that is missing,
    malformed, expired, badly signed, unsigned, without expiry, or without a tenant a tenant
    can have (empty, not a string, more than 100 characters, a NUL, control or format character,
    blank or padded)."""
    problems = Problems()
    tenant = f"tenant-iso-auth-{uuid.uuid4()}"
    for rpc in world.rpcs:
        bodies = {"empty": b"", "plausible": world.probe_request(rpc).body, "undecodable": UNDECODABLE}
        for case, metadata in _unauthenticated_cases(tenant).items():
            for body_name, body in bodies.items():
                outcome = world.caller.call(rpc, body, metadata)
                world.tally.add(rpc, outcome.code)
                if outcome.code != grpc.StatusCode.UNAUTHENTICATED or leaked_internals(outcome, rpc):
                    problems.add(rpc, f"{case}, {body_name} body", outcome)
    assert not problems, f"calls without a valid token not refused with UNAUTHENTICATED: {problems}"


def test_every_rpc_is_allowed_by_exactly_one_scope_or_only_internal(world: World) -> None:
    """For each RPC, found black-box: a token with `internal` alone is accepted; at most one
    other single scope is accepted; every other single scope, and a token without scopes, gets
    PERMISSION_DENIED for an empty body, a plausible request and a body that does not decode
    (the scope is checked before the request is looked at)."""
    tenant = f"tenant-iso-scope-{uuid.uuid4()}"
    problems, table = Problems(), []
    for rpc in world.rpcs:
        bodies = {"empty": b"", "plausible": world.probe_request(rpc).body, "undecodable": UNDECODABLE}
        accepted = []
        for scope in ALL_SCOPES:
            outcome = world.caller.call(rpc, b"", bearer(tenant, scope))
            world.tally.add(rpc, outcome.code)
            if outcome.code not in AUTH_CODES:
                accepted.append(scope)
                try:
                    check_precise(rpc, Request(rpc.name, b"", rpc.request_class(), "empty"), outcome)
                except PropertyViolation as exc:
                    problems.add(rpc, f"only {scope}, empty body", str(exc).splitlines()[0])
            elif outcome.code != grpc.StatusCode.PERMISSION_DENIED:
                problems.add(rpc, f"only {scope}, empty body (a valid token without the scope is PERMISSION_DENIED)", outcome)
        table.append(f"{rpc.name}: {' '.join(accepted) or 'nothing'}")
        if INTERNAL_SCOPE not in accepted:
            problems.add(rpc, "only internal", "refused, but internal satisfies every scope")
        allowed_by = [s for s in accepted if s != INTERNAL_SCOPE]
        if len(allowed_by) > 1:
            problems.add(rpc, "each scope alone", f"allowed by several scopes {allowed_by}")
        refused_with = [[s] for s in NON_INTERNAL_SCOPES if s not in allowed_by] + [[]]
        for scopes in refused_with:
            metadata = bearer(tenant, *scopes) if scopes else no_scope_bearer(tenant)
            for body_name, body in bodies.items():
                outcome = world.caller.call(rpc, body, metadata)
                world.tally.add(rpc, outcome.code)
                if outcome.code != grpc.StatusCode.PERMISSION_DENIED or leaked_internals(outcome, rpc):
                    problems.add(rpc, f"{'a scope it does not need' if scopes else 'no scope'}, {body_name} body", outcome)
    assert not problems, f"scopes not enforced as declared: {problems}\n\nscopes accepted per RPC:\n" + "\n".join(table)


ODD_BUT_VALID_TENANTS = ("t" * 100, "租户-😀", "tenant with spaces", "Studio Zürich")


def test_a_token_of_an_odd_tenant_is_served_precisely(world: World) -> None:
    """A tenant id that is odd but a tenant can have (100 characters, unicode, spaces inside) is
    served like any other: each RPC answers an empty request precisely and not as an
    authentication failure (never UNKNOWN/INTERNAL/UNAVAILABLE/DEADLINE_EXCEEDED, no internal
    text)."""
    problems = Problems()
    for tenant in ODD_BUT_VALID_TENANTS:
        for rpc in world.rpcs:
            outcome = world.caller.call(rpc, b"", bearer(tenant))
            world.tally.add(rpc, outcome.code)
            try:
                check_precise(rpc, Request(rpc.name, b"", rpc.request_class(), "empty"), outcome)
            except PropertyViolation:
                problems.add(rpc, f"tenant {tenant!r}, empty body", outcome)
            if outcome.code == grpc.StatusCode.UNAUTHENTICATED:
                problems.add(rpc, f"tenant {tenant!r}, empty body", outcome)
    assert not problems, f"imprecise answers to odd tenants: {problems}"


# --- tenant isolation ---------------------------------------------------------------------------------


@dataclass
class Twins:
    """Tenant B, and its twin that receives the same requests with A's ids replaced."""

    world: World
    b: str = field(default_factory=lambda: f"tenant-iso-b-{uuid.uuid4()}")
    twin: str = field(default_factory=lambda: f"tenant-iso-t-{uuid.uuid4()}")

    def __post_init__(self) -> None:
        a = self.world.a
        # Each of A's ids, and A's marker, maps to a stand-in of the same length nobody owns.
        self.stand_ins = {i.encode(): str(uuid.uuid5(uuid.NAMESPACE_URL, i)).encode() for i in a.ids}
        self.stand_ins[a.marker.encode()] = ("twin" + uuid.uuid4().hex)[: len(a.marker)].encode()

    def replace(self, body: bytes) -> bytes:
        for original, stand_in in self.stand_ins.items():
            body = body.replace(original, stand_in)
        return body

    def check(self, rpc: Rpc, request: Request) -> None:
        """B's answer to a request of A's data is the answer to the same request of data nobody
        owns, and is one of the isolated codes, and carries nothing of A."""
        mine = self.world.caller.call(rpc, request.body, bearer(self.b))
        twin = self.world.caller.call(rpc, self.replace(request.body), bearer(self.twin))
        self.world.tally.add(rpc, mine.code)
        where = f"{rpc.name} {request.text()}\n  -> B: {mine.describe()}\n  -> twin (A's ids replaced): {twin.describe()}"
        check_precise(rpc, request, mine)
        check_precise(rpc, Request.of(rpc, self.replace(request.body), "twin"), twin)
        if mine.code not in ISOLATED_CODES:
            raise violation(f"NotIsolated_{mine.code.name}", f"tenant B got {mine.code.name} for a request of tenant A's data:\n  {where}")
        if mine.code != twin.code:
            raise violation("DependsOnA", f"tenant B's answer depends on tenant A's data:\n  {where}")
        leaks = self.leaks(mine, twin)
        if leaks:
            raise violation("LeaksA", f"tenant B's answer carries tenant A's data {leaks}:\n  {where}")

    def leaks(self, mine: Outcome, twin: Outcome) -> list[str]:
        """A's ids and name marker in B's answer beyond those the twin's answer has stand-ins for
        (an answer may echo the request, and B may have stored A's ids in its own rows: the twin
        then holds stand-ins in the same places)."""
        mine_text = (mine.response or b"") + mine.message.encode() + mine.raw_details
        twin_text = (twin.response or b"") + twin.message.encode() + twin.raw_details
        return [original.decode() for original, stand_in in self.stand_ins.items() if mine_text.count(original) > twin_text.count(stand_in)]


def isolate_with_hypothesis(twins: Twins, rpc: Rpc, max_examples: int) -> None:
    a = twins.world.a
    strategies = RequestStrategies(a.ids_by_kind, a.ids, a.cursors, a.templates)

    @settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much, HealthCheck.large_base_example],
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        print_blob=False,
    )
    @given(request=strategies.well_formed(rpc))
    def one_request(request: Request) -> None:
        twins.check(rpc, request)

    one_request()


def test_another_tenant_never_reaches_a_tenants_data(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """Tenant B calls every RPC with requests built from tenant A's real data: plausible requests
    of A's messages and ids with one field at a time changed, and hypothesis' plausible and
    random requests drawing ids from A's. Each answer equals that of B's twin to the same
    request with A's ids replaced by unknown ones, is OK, NOT_FOUND, INVALID_ARGUMENT or
    FAILED_PRECONDITION, and carries nothing of A; and after all of them, A's rows in every
    Postgres table are exactly as they were."""
    twins = Twins(world)
    a = world.a
    before = world.state.snapshot(a.tenant)
    per_rpc = max(2, TOTAL // len(world.rpcs))
    failures: list[str] = []
    started = time.monotonic()
    for rpc in world.rpcs:
        systematic = per_rpc // 2
        for n, request in enumerate(Mutations(a, a).requests(rpc)):
            if n >= systematic:
                break
            try:
                twins.check(rpc, request)
            except PropertyViolation as exc:
                failures.append(f"=== {rpc.name} (systematic: {request.how})\n{exc}")
                break
        try:
            isolate_with_hypothesis(twins, rpc, max(1, per_rpc - systematic))
        except Exception as exc:
            failures.append(f"=== {rpc.name} (hypothesis)\n{describe_failure(exc)}")

    (after,) = world.state.settle(a.tenant)
    if after != before:
        failures.append(f"=== tenant A's rows changed during tenant B's calls:\n{describe_change(before, after)}")
    report = world.tally.report(f"RPC isolation ({per_rpc} requests of B per RPC, {time.monotonic() - started:.0f} s)")
    if long_mode(EXAMPLES_VARIABLE):
        with capsys.disabled():
            print("\n" + report)
    assert not failures, f"{len(failures)} failures of docs/platform.md 'Tenancy':\n\n" + "\n\n".join(failures) + "\n\n" + report


def test_the_tokens_secret_is_the_platforms(world: World) -> None:
    """The cases above mean something only if a well-formed token is accepted: one with every
    scope reaches every RPC's handler (no UNAUTHENTICATED/PERMISSION_DENIED)."""
    assert JWT_SECRET
    refused = []
    for rpc in world.rpcs:
        outcome = world.caller.call(rpc, b"", bearer(f"tenant-iso-ok-{uuid.uuid4()}"))
        if outcome.code in AUTH_CODES:
            refused.append(f"{rpc.name} -> {outcome.describe()}")
    assert not refused, "\n".join(refused)

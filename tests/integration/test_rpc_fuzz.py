"""Fuzzing every RPC of the platform (docs/errors.md): bad input gets a precise status and
changes nothing.

The RPCs are found by gRPC server reflection on the four running services (none is listed
here); requests are derived from their message descriptors (tests/integration/rpc_fuzz_support.py).
Each RPC gets its own tenant, seeded with real data through the public RPCs, and is fuzzed in
two ways:

1. systematically: a plausible request composed from the tenant's real messages, rebuilt around
   now and the edges of the calendar, then with one field at a time set to each edge value of its
   type (every own id of the field's kind and another tenant's, NUL in text, 0001-01-01 and
   9999-12-31, integer extremes, unknown enum numbers, each field mask path, long lists...);
2. by hypothesis: plausible and random messages, and bodies corrupted on the wire, every
   failure shrunk to a minimal request.

Every call carries a token of the RPC's tenant with every scope (`internal` included), so the
handlers run, and every answer must:

- never be UNKNOWN, INTERNAL, UNAVAILABLE or DEADLINE_EXCEEDED (the platform is healthy);
- reach a client with gRPC's default limits (its trailers fit in 8 KiB of metadata);
- carry no internal exception text;
- when INVALID_ARGUMENT, carry a google.rpc.BadRequest whose every field violation names a field
  of the request type (a body that does not decode has no fields to name: it needs none), and
  name every bad field at once: the same request with the named fields repaired is not refused for a
  field that was there, unchanged, the first time;
- when not OK, leave the tenant's rows in every Postgres table untouched.

Seeded and bounded: `make test` sends about DEFAULT_TOTAL requests, the same ones every run
(derandomized, no example database). `RPC_FUZZ_EXAMPLES=10000 .venv/bin/python -m pytest
tests/integration/test_rpc_fuzz.py` spends that many across all RPCs instead and prints the
requests sent and the status codes answered per RPC.
"""

from __future__ import annotations

import re
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import grpc
import pytest
from google.protobuf.message import Message
from hypothesis import HealthCheck, Phase, given, settings

from services.devstack.stack import Platform
from tests.integration.rpc_fuzz_support import (
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
    describe_change,
    describe_failure,
    discover_rpcs,
    hidden_violations,
    long_mode,
    present_paths,
    repaired,
    seed_tenants,
    violation,
    without_fields,
)

EXAMPLES_VARIABLE = "RPC_FUZZ_EXAMPLES"
DEFAULT_TOTAL = 1280  # requests across all RPCs in the default mode (40 per RPC, follow-ups not counted)
TOTAL = budget(EXAMPLES_VARIABLE, DEFAULT_TOTAL)
SYSTEMATIC_SHARE = 0.6  # of each RPC's budget; hypothesis gets the rest (3/4 messages, 1/4 corrupted bodies)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900 + TOTAL // 4)]


@dataclass
class Fuzz:
    """The session's RPCs, a seeded tenant per RPC, and what was sent."""

    rpcs: list[Rpc]
    caller: Caller
    state: TenantState
    tenants: dict[str, Seeded]  # rpc name -> its tenant
    foreign: Seeded  # another tenant, whose ids and cursors are in every pool
    tally: Tally = field(default_factory=Tally)
    empty_tenant: str = field(default_factory=lambda: f"tenant-fuzz-empty-{uuid.uuid4()}")
    # tenant -> (its rows right after a call that announced something through an outbox, the topics)
    announced: dict[str, tuple[dict[str, tuple[str, ...]], set[str]]] = field(default_factory=dict)
    quiet_topics: Counter[str] = field(default_factory=Counter)  # topic -> settles that saw no consumer write
    plausible: dict[str, Message] = field(default_factory=dict)  # rpc name -> its plausible request

    def strategies(self, rpc: Rpc) -> RequestStrategies:
        own = self.tenants[rpc.name]
        return RequestStrategies(own.ids_by_kind, self.foreign.ids, own.cursors + self.foreign.cursors, own.templates)

    def mutations(self, rpc: Rpc) -> Mutations:
        return Mutations(self.tenants[rpc.name], self.foreign)

    def exercise(self, rpc: Rpc, request: Request) -> None:
        """Send one request as the RPC's tenant and assert every property of the answer. An
        INVALID_ARGUMENT is followed by the same request with the fields it named repaired (set as
        in the RPC's plausible request, or cleared): a field refused then that was already there,
        unchanged, is one the first answer hid, unless
        its refusal depends on the tenant's stored data (checks against stored rows may come
        after the checks of the request itself): so the follow-up is sent again as a tenant
        without any data, and only what that refuses too counts."""
        outcome = self.send(rpc, request)
        if outcome.code != grpc.StatusCode.INVALID_ARGUMENT or request.message is None or not outcome.violations:
            return
        if rpc.name not in self.plausible:
            self.plausible[rpc.name] = self.mutations(rpc).plausible(rpc)
        retried = repaired(request.message, [v.field for v in outcome.violations], self.plausible[rpc.name])
        follow_up = Request(rpc.name, retried.SerializeToString(), retried, "with the fields named repaired")
        if not hidden_violations(outcome, self.send(rpc, follow_up), request.message, retried):
            return
        hidden = hidden_violations(outcome, self.send(rpc, follow_up, self.empty_tenant), request.message, retried)
        if hidden:
            field_name = re.sub(r"\[.*?\]", "", hidden[0].split(":")[0]).split(".")[-1]
            raise violation(
                f"Hidden_{field_name}",
                f"INVALID_ARGUMENT did not name every bad field at once: {hidden} came only after the named ones were repaired\n"
                f"  {rpc.name} {request.text()}\n  -> {outcome.describe()}",
            )

    def send(self, rpc: Rpc, request: Request, tenant: str | None = None) -> Outcome:
        """One call as the RPC's tenant (or `tenant`): a precise answer, and no change when it is not OK."""
        tenant = tenant or self.tenants[rpc.name].tenant
        self.quiesce(tenant)
        before = self.state.snapshot(tenant)
        outcome = self.caller.call(rpc, request.body, bearer(tenant))
        self.tally.add(rpc, outcome.code)
        after = self.state.snapshot(tenant)
        announced = self.state.new_topics(before, after)
        if announced:  # settled before this tenant's next call (see `quiesce`)
            self.announced[tenant] = (after, announced)
        check_precise(rpc, request, outcome)
        if not outcome.ok and after != before:
            change = describe_change(before, after)
            raise violation(
                f"Changed_{outcome.code.name}",
                f"a rejected call changed the tenant's rows:\n  {rpc.name} {request.text()}\n  -> {outcome.describe()}\n{change}",
            )
        return outcome

    def quiesce(self, tenant: str) -> None:
        """After a call that announced something through an outbox, wait for what that starts
        to finish before the next snapshot. A topic whose messages were seen twice to change no
        Postgres row (their consumers keep caches) only needs its rows published."""
        if tenant not in self.announced:
            return
        announced_at, topics = self.announced.pop(tenant)
        if all(self.quiet_topics[t] >= 2 for t in topics):
            self.state.drain(tenant)
            return
        (settled,) = self.state.settle(tenant)
        wrote = self.state.without_outboxes(settled) != self.state.without_outboxes(announced_at)
        for t in topics:
            self.quiet_topics[t] = -(10**9) if wrote else self.quiet_topics[t] + 1

    def failure_of(self, rpc: Rpc, request: Request) -> PropertyViolation | None:
        try:
            self.exercise(rpc, request)
        except PropertyViolation as exc:
            return exc
        return None


@pytest.fixture(scope="module")
def fuzz(platform: Platform) -> Iterator[Fuzz]:
    rpcs = discover_rpcs(platform)
    caller, state = Caller(platform), TenantState(platform)
    names = [r.name for r in rpcs]
    tenants = {name: f"tenant-fuzz-{uuid.uuid4()}" for name in [*names, "foreign"]}
    seeded = seed_tenants(platform, list(tenants.values()), caller, rpcs, state)
    try:
        yield Fuzz(rpcs, caller, state, {name: seeded[tenants[name]] for name in names}, seeded[tenants["foreign"]])
    finally:
        allow_course_availability(platform, tenants.values(), allow=False)
        caller.close()
        state.close()


def fuzz_settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        derandomize=True,  # the same requests on every run
        database=None,  # no .hypothesis directory
        deadline=None,  # a call's duration is the platform's business, not a property here
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much, HealthCheck.large_base_example],
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        print_blob=False,
    )


def shrink(fuzz: Fuzz, rpc: Rpc, request: Request, kind: str, max_calls: int = 60) -> PropertyViolation | None:
    """Clear the fields of a failing request one at a time (outermost first), keeping every
    clearing after which it still fails the same way; the last failure of the smallest request."""
    assert request.message is not None
    current, last = request.message, None
    calls = 0
    for path in present_paths(current):
        if calls >= max_calls:
            break
        candidate = without_fields(current, [path])
        if candidate == current:
            continue
        calls += 1
        exc = fuzz.failure_of(rpc, Request(rpc.name, candidate.SerializeToString(), candidate, request.how))
        if exc is not None and type(exc).__name__ == kind:
            current, last = candidate, exc
    return last


def fuzz_systematically(fuzz: Fuzz, rpc: Rpc, limit: int) -> tuple[list[str], int]:
    """The systematic requests of one RPC (at most `limit`); per kind of failure, the first
    one shrunk, and how many requests failed that way; and how many requests were sent (an RPC
    with few fields has fewer systematic requests than its share)."""
    first: dict[str, tuple[Request, PropertyViolation]] = {}
    counts: dict[str, int] = {}
    sent = 0
    for request in fuzz.mutations(rpc).requests(rpc):
        if sent >= limit:
            break
        sent += 1
        exc = fuzz.failure_of(rpc, request)
        if exc is not None:
            kind = type(exc).__name__
            counts[kind] = counts.get(kind, 0) + 1
            first.setdefault(kind, (request, exc))
    failures = []
    for kind, (request, exc) in first.items():
        smaller = shrink(fuzz, rpc, request, kind) or exc
        failures.append(f"=== {rpc.name} (systematic: {request.how}; {counts[kind]} requests failed this way)\n{smaller}")
    return failures, sent


def fuzz_with_hypothesis(fuzz: Fuzz, rpc: Rpc, max_examples: int) -> list[str]:
    """Hypothesis on one RPC, separately for well-formed messages and for corrupted bodies (so
    that a failure of the one does not hide those of the other); each failure shrunk."""
    strategies = fuzz.strategies(rpc)
    failures = []
    for kind, strategy, share in (("messages", strategies.well_formed(rpc), 0.75), ("corrupted bodies", strategies.corrupted(rpc), 0.25)):

        @fuzz_settings(max(1, round(max_examples * share)))
        @given(request=strategy)
        def one_request(request: Request) -> None:
            fuzz.exercise(rpc, request)

        try:
            one_request()
        except Exception as exc:
            failures.append(f"=== {rpc.name} (hypothesis, {kind})\n{describe_failure(exc)}")
    return failures


def test_reflection_finds_every_service_and_only_unary_rpcs(fuzz: Fuzz) -> None:
    """Every service process announces at least one application service through reflection,
    and every RPC found is unary (the generic caller of the fuzz sends unary calls; a streaming
    RPC added later must fail here rather than go unfuzzed)."""
    processes = {rpc.process for rpc in fuzz.rpcs}
    assert processes == {"availability", "bookings", "participations", "timeframes"}
    assert [r.name for r in fuzz.rpcs if not r.unary] == []
    assert len({r.name for r in fuzz.rpcs}) == len(fuzz.rpcs)


def test_every_rpc_answers_any_request_precisely_and_a_rejected_one_changes_nothing(fuzz: Fuzz, capsys: pytest.CaptureFixture[str]) -> None:
    """For every RPC found by reflection, every request sent (systematic single-field edge values
    of a plausible request, hypothesis' plausible and random messages, corrupted bodies) gets a
    precise status: never UNKNOWN/INTERNAL/UNAVAILABLE/DEADLINE_EXCEEDED, trailers a default
    client can read, no internal exception text, INVALID_ARGUMENT with a BadRequest naming every
    bad field at once by a path that exists in the request type; and a request that is not
    answered OK leaves the tenant's Postgres rows exactly as they were. Every RPC is fuzzed even
    when an earlier one failed; the failures of all of them are reported together, each with a
    minimal request."""
    per_rpc = max(2, TOTAL // len(fuzz.rpcs))
    systematic = max(1, round(per_rpc * SYSTEMATIC_SHARE))
    failures: list[str] = []
    started = time.monotonic()
    for rpc in fuzz.rpcs:
        found, sent = fuzz_systematically(fuzz, rpc, systematic)
        failures += found
        failures += fuzz_with_hypothesis(fuzz, rpc, per_rpc - sent)  # the systematic share left over goes to hypothesis

    report = fuzz.tally.report(f"RPC fuzz ({per_rpc} requests per RPC and their follow-ups, {time.monotonic() - started:.0f} s)")
    if long_mode(EXAMPLES_VARIABLE):
        with capsys.disabled():
            print("\n" + report)
    else:
        print(report)
    assert not failures, f"{len(failures)} failures of docs/errors.md:\n\n" + "\n\n".join(failures) + "\n\n" + report

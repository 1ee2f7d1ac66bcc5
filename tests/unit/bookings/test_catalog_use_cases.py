"""The catalog use cases against in-memory fakes of the repository and timeframes: the order of
validation, schedule creation and storage, and what a rejected or failed request leaves behind."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from services.bookings.application.catalog import Catalog, PolicyProvider
from services.bookings.domain.ports import ServiceFilter, SortKey
from services.bookings.domain.services import Service, ServiceDraft, ServiceType, UpdateServiceCommand
from services.common.auth import Principal, bind_principal, current_tenant, reset_principal
from services.common.errors import DependencyUnavailable, InvalidArgument, NotFound, RevisionMismatch
from services.common.paging import CursorCodec

TENANT, OTHER = "tenant-a", "tenant-b"


@contextlib.contextmanager
def as_tenant(tenant: str) -> Iterator[None]:
    token = bind_principal(Principal(tenant_id=tenant, subject="test", scopes=frozenset({"internal"}), token=""))
    try:
        yield
    finally:
        reset_principal(token)


@dataclass
class FakeRepository:
    """Tenant-scoped like the real one: rows are keyed by (tenant, id)."""

    rows: dict[tuple[str, str], Service] = field(default_factory=dict)
    clock: Iterator[int] = field(default_factory=itertools.count)

    @staticmethod
    def _tenant() -> str:
        return current_tenant()

    async def get(self, service_id: str) -> Service | None:
        return self.rows.get((self._tenant(), service_id))

    async def get_many(self, service_ids: Sequence[str]) -> dict[str, Service]:
        return {i: self.rows[(self._tenant(), i)] for i in service_ids if (self._tenant(), i) in self.rows}

    async def query(self, where: ServiceFilter, after: SortKey | None, limit: int) -> list[Service]:
        found = [s for (t, _), s in self.rows.items() if t == self._tenant()]
        found = [s for s in found if (not where.service_ids or s.id in where.service_ids) and (not where.types or s.type in where.types)]
        found.sort(key=lambda s: (s.created_at, s.id))
        if after:
            found = [s for s in found if (s.created_at, s.id) > (after.created_at, after.id)]
        return found[:limit]

    async def create(self, service: Service) -> Service:
        now = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=next(self.clock))
        stored = replace(service, created_at=now, updated_at=now)
        self.rows[(self._tenant(), service.id)] = stored
        return stored

    async def update(self, service: Service, expected_revision: int) -> Service:
        current = await self.get(service.id)
        if current is None:
            raise NotFound("service", service.id)
        if current.revision != expected_revision:
            raise RevisionMismatch("service", service.id, expected_revision, current.revision)
        stored = replace(service, revision=expected_revision + 1)
        self.rows[(self._tenant(), service.id)] = stored
        return stored

    async def delete(self, service_id: str, expected_revision: int | None) -> Service:
        current = await self.get(service_id)
        if current is None:
            raise NotFound("service", service_id)
        if expected_revision is not None and current.revision != expected_revision:
            raise RevisionMismatch("service", service_id, expected_revision, current.revision)
        return self.rows.pop((self._tenant(), service_id))


@dataclass
class FakeSchedules:
    calls: list[dict[str, object]] = field(default_factory=list)
    fail: bool = False

    async def create_schedule(self, *, external_id: str, name: str, time_zone: str, default_capacity: int) -> str:
        self.calls.append({"external_id": external_id, "name": name, "time_zone": time_zone, "default_capacity": default_capacity})
        if self.fail:
            raise DependencyUnavailable("timeframes", "UNAVAILABLE: connection refused")
        return f"schedule-of-{external_id}"


@pytest.fixture
def repository() -> FakeRepository:
    return FakeRepository()


@pytest.fixture
def schedules() -> FakeSchedules:
    return FakeSchedules()


@pytest.fixture
def catalog(repository: FakeRepository, schedules: FakeSchedules) -> Catalog:
    return Catalog(repository, schedules, CursorCodec(b"unit-test-cursor-key"))


def course(**changes: object) -> ServiceDraft:
    return replace(ServiceDraft(type=ServiceType.COURSE, name="Pottery", default_capacity=8, time_zone="Europe/Vienna"), **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize("service_type", [ServiceType.CLASS, ServiceType.COURSE], ids=["class", "course"])
async def test_creating_a_class_or_course_creates_its_schedule_keyed_by_the_new_service_id(
    catalog: Catalog, schedules: FakeSchedules, service_type: ServiceType
) -> None:
    with as_tenant(TENANT):
        service = await catalog.create(course(type=service_type))
    assert schedules.calls == [{"external_id": service.id, "name": "Pottery", "time_zone": "Europe/Vienna", "default_capacity": 8}]
    assert service.schedule_id == f"schedule-of-{service.id}"
    assert service.revision == 1


async def test_creating_an_appointment_creates_no_schedule(catalog: Catalog, schedules: FakeSchedules) -> None:
    with as_tenant(TENANT):
        service = await catalog.create(course(type=ServiceType.APPOINTMENT, default_capacity=0))
    assert schedules.calls == []
    assert service.schedule_id is None


async def test_a_rejected_create_calls_timeframes_not_at_all_and_stores_nothing(catalog: Catalog, schedules: FakeSchedules, repository: FakeRepository) -> None:
    with as_tenant(TENANT), pytest.raises(InvalidArgument):
        await catalog.create(course(name=""))
    assert schedules.calls == []
    assert repository.rows == {}


async def test_when_timeframes_is_unavailable_the_create_fails_and_nothing_is_stored(
    catalog: Catalog, schedules: FakeSchedules, repository: FakeRepository
) -> None:
    schedules.fail = True
    with as_tenant(TENANT), pytest.raises(DependencyUnavailable):
        await catalog.create(course())
    assert repository.rows == {}


async def test_each_create_request_gets_a_fresh_service_id(catalog: Catalog, schedules: FakeSchedules) -> None:
    with as_tenant(TENANT):
        first = await catalog.create(course())
        second = await catalog.create(course())
    assert first.id != second.id
    assert [c["external_id"] for c in schedules.calls] == [first.id, second.id]


async def test_another_tenants_service_is_not_found(catalog: Catalog) -> None:
    with as_tenant(TENANT):
        service = await catalog.create(course())
    with as_tenant(OTHER), pytest.raises(NotFound):
        await catalog.get(service.id)


async def test_a_malformed_id_is_invalid_before_any_lookup(catalog: Catalog) -> None:
    with as_tenant(TENANT), pytest.raises(InvalidArgument) as info:
        await catalog.get("not-a-uuid")
    assert info.value.violations[0].field == "service_id"


async def test_an_update_at_a_stale_revision_is_a_mismatch_even_if_the_change_is_invalid(catalog: Catalog) -> None:
    with as_tenant(TENANT):
        service = await catalog.create(course())
        await catalog.update(UpdateServiceCommand(service.id, 1, ["name"], ServiceDraft(name="Renamed")))
        with pytest.raises(RevisionMismatch) as info:
            await catalog.update(UpdateServiceCommand(service.id, 1, ["name"], ServiceDraft(name="")))
    assert (info.value.expected, info.value.actual) == (1, 2)


async def test_an_update_that_changes_nothing_keeps_the_revision(catalog: Catalog) -> None:
    with as_tenant(TENANT):
        service = await catalog.create(course())
        same = await catalog.update(UpdateServiceCommand(service.id, 1, ["name"], ServiceDraft(name="Pottery")))
    assert same.revision == 1


async def test_each_change_adds_one_to_the_revision(catalog: Catalog) -> None:
    with as_tenant(TENANT):
        service = await catalog.create(course())
        for revision, name in enumerate(["a", "b", "c"], start=1):
            service = await catalog.update(UpdateServiceCommand(service.id, revision, ["name"], ServiceDraft(name=name)))
    assert service.revision == 4


async def test_delete_with_a_negative_revision_is_invalid(catalog: Catalog) -> None:
    with as_tenant(TENANT), pytest.raises(InvalidArgument) as info:
        await catalog.delete("3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b", -1)
    assert info.value.violations[0].field == "revision"


async def test_paging_returns_every_service_once_in_creation_order(catalog: Catalog) -> None:
    with as_tenant(TENANT):
        created = [await catalog.create(course(name=f"s{i}")) for i in range(7)]
        seen, cursor = [], ""
        while True:
            page = await catalog.query([], [], 3, cursor)
            seen += page.services
            if not page.has_next:
                break
            cursor = page.next_cursor
    assert [s.id for s in seen] == [s.id for s in created]


async def test_a_cursor_is_bound_to_its_tenant_and_filters(catalog: Catalog) -> None:
    with as_tenant(TENANT):
        for i in range(3):
            await catalog.create(course(name=f"s{i}"))
        cursor = (await catalog.query([], [], 1, "")).next_cursor
        with pytest.raises(InvalidArgument) as info:
            await catalog.query([], [int(ServiceType.COURSE)], 1, cursor)
    assert info.value.violations[0].field == "cursor_paging.cursor"
    with as_tenant(OTHER), pytest.raises(InvalidArgument):
        await catalog.query([], [], 1, cursor)


async def test_query_filters_are_validated_together(catalog: Catalog) -> None:
    with as_tenant(TENANT), pytest.raises(InvalidArgument) as info:
        await catalog.query(["nope"], [0, 9], 1001, "")
    assert {v.field for v in info.value.violations} == {"service_ids[0]", "types[0]", "types[1]", "cursor_paging.limit"}


async def test_policies_come_back_in_request_order(catalog: Catalog, repository: FakeRepository) -> None:
    provider = PolicyProvider(repository)
    with as_tenant(TENANT):
        a, b, c = [await catalog.create(course(name=n)) for n in "abc"]
        listed = await provider.list([c.id, a.id, b.id])
    assert [s.id for s in listed] == [c.id, a.id, b.id]


async def test_one_unknown_id_makes_the_policy_list_not_found(catalog: Catalog, repository: FakeRepository) -> None:
    provider = PolicyProvider(repository)
    with as_tenant(TENANT):
        a = await catalog.create(course())
    with as_tenant(OTHER), pytest.raises(NotFound):
        await provider.list([a.id])


@pytest.mark.parametrize(
    "ids, field",
    [
        pytest.param([], "service_ids", id="at-least-one-id"),
        pytest.param(["3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"] * 2, "service_ids", id="no-repeated-id"),
        pytest.param(["x"], "service_ids[0]", id="ids-are-uuids"),
        pytest.param([f"00000000-0000-4000-8000-{i:012d}" for i in range(101)], "service_ids", id="at-most-100-ids"),
    ],
)
async def test_policy_list_ids_are_validated(repository: FakeRepository, ids: list[str], field: str) -> None:
    with as_tenant(TENANT), pytest.raises(InvalidArgument) as info:
        await PolicyProvider(repository).list(ids)
    assert field in {v.field for v in info.value.violations}

"""The catalog use cases against in-memory fakes of the store (tests/unit/bookings/fakes.py) and timeframes: the order of
validation, schedule creation and storage, and what a rejected or failed request leaves behind."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest

from services.bookings.application.catalog import Catalog, PolicyProvider
from services.bookings.domain.services import AppointmentSettings, ServiceDraft, ServiceType, UpdateServiceCommand
from services.common.errors import DependencyUnavailable, InvalidArgument, NotFound, RevisionMismatch
from services.common.paging import CursorCodec
from tests.unit.bookings.fakes import FakeStore

TENANT, OTHER = "tenant-a", "tenant-b"


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
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def schedules() -> FakeSchedules:
    return FakeSchedules()


@pytest.fixture
def catalog(store: FakeStore, schedules: FakeSchedules) -> Catalog:
    return Catalog(store, schedules, CursorCodec(b"unit-test-cursor-key"))


def course(**changes: object) -> ServiceDraft:
    return replace(ServiceDraft(type=ServiceType.COURSE, name="Pottery", default_capacity=8, time_zone="Europe/Vienna"), **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize("service_type", [ServiceType.CLASS, ServiceType.COURSE], ids=["class", "course"])
async def test_creating_a_class_or_course_creates_its_schedule_keyed_by_the_new_service_id(
    catalog: Catalog, schedules: FakeSchedules, service_type: ServiceType
) -> None:
    service = await catalog.create(TENANT, course(type=service_type))
    assert schedules.calls == [{"external_id": service.id, "name": "Pottery", "time_zone": "Europe/Vienna", "default_capacity": 8}]
    assert service.schedule_id == f"schedule-of-{service.id}"
    assert service.revision == 1


async def test_creating_an_appointment_creates_no_schedule(catalog: Catalog, schedules: FakeSchedules) -> None:
    service = await catalog.create(TENANT, course(type=ServiceType.APPOINTMENT, default_capacity=0, appointment=AppointmentSettings(30)))
    assert schedules.calls == []
    assert service.schedule_id is None


async def test_a_rejected_create_calls_timeframes_not_at_all_and_stores_nothing(catalog: Catalog, schedules: FakeSchedules, store: FakeStore) -> None:
    with pytest.raises(InvalidArgument):
        await catalog.create(TENANT, course(name=""))
    assert schedules.calls == []
    assert store.services == {} and store.announced == []


async def test_when_timeframes_is_unavailable_the_create_fails_and_nothing_is_stored(catalog: Catalog, schedules: FakeSchedules, store: FakeStore) -> None:
    schedules.fail = True
    with pytest.raises(DependencyUnavailable):
        await catalog.create(TENANT, course())
    assert store.services == {} and store.announced == []


async def test_each_create_request_gets_a_fresh_service_id(catalog: Catalog, schedules: FakeSchedules) -> None:
    first = await catalog.create(TENANT, course())
    second = await catalog.create(TENANT, course())
    assert first.id != second.id
    assert [c["external_id"] for c in schedules.calls] == [first.id, second.id]


async def test_another_tenants_service_is_not_found(catalog: Catalog) -> None:
    service = await catalog.create(TENANT, course())
    with pytest.raises(NotFound):
        await catalog.get(OTHER, service.id)


async def test_a_malformed_id_is_invalid_before_any_lookup(catalog: Catalog) -> None:
    with pytest.raises(InvalidArgument) as info:
        await catalog.get(TENANT, "not-a-uuid")
    assert info.value.violations[0].field == "service_id"


async def test_an_update_at_a_stale_revision_is_a_mismatch_even_if_the_change_is_invalid(catalog: Catalog) -> None:
    service = await catalog.create(TENANT, course())
    await catalog.update(TENANT, UpdateServiceCommand(service.id, 1, ["name"], ServiceDraft(name="Renamed")))
    with pytest.raises(RevisionMismatch) as info:
        await catalog.update(TENANT, UpdateServiceCommand(service.id, 1, ["name"], ServiceDraft(name="")))
    assert (info.value.expected, info.value.actual) == (1, 2)


async def test_an_update_that_changes_nothing_keeps_the_revision(catalog: Catalog) -> None:
    service = await catalog.create(TENANT, course())
    same = await catalog.update(TENANT, UpdateServiceCommand(service.id, 1, ["name"], ServiceDraft(name="Pottery")))
    assert same.revision == 1


async def test_each_change_adds_one_to_the_revision(catalog: Catalog) -> None:
    service = await catalog.create(TENANT, course())
    for revision, name in enumerate(["a", "b", "c"], start=1):
        service = await catalog.update(TENANT, UpdateServiceCommand(service.id, revision, ["name"], ServiceDraft(name=name)))
    assert service.revision == 4


async def test_delete_with_a_negative_revision_is_invalid(catalog: Catalog) -> None:
    with pytest.raises(InvalidArgument) as info:
        await catalog.delete(TENANT, "3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b", -1)
    assert info.value.violations[0].field == "revision"


async def test_paging_returns_every_service_once_in_creation_order(catalog: Catalog) -> None:
    created = [await catalog.create(TENANT, course(name=f"s{i}")) for i in range(7)]
    seen, cursor = [], ""
    while True:
        page = await catalog.query(TENANT, [], [], 3, cursor)
        seen += page.services
        if not page.has_next:
            break
        cursor = page.next_cursor
    assert [s.id for s in seen] == [s.id for s in created]


async def test_a_cursor_is_bound_to_its_tenant_and_filters(catalog: Catalog) -> None:
    for i in range(3):
        await catalog.create(TENANT, course(name=f"s{i}"))
    cursor = (await catalog.query(TENANT, [], [], 1, "")).next_cursor
    with pytest.raises(InvalidArgument) as info:
        await catalog.query(TENANT, [], [int(ServiceType.COURSE)], 1, cursor)
    assert info.value.violations[0].field == "cursor_paging.cursor"
    with pytest.raises(InvalidArgument):
        await catalog.query(OTHER, [], [], 1, cursor)


async def test_query_filters_are_validated_together(catalog: Catalog) -> None:
    with pytest.raises(InvalidArgument) as info:
        await catalog.query(TENANT, ["nope"], [0, 9], 1001, "")
    assert {v.field for v in info.value.violations} == {"service_ids[0]", "types[0]", "types[1]", "cursor_paging.limit"}


async def test_policies_come_back_in_request_order(catalog: Catalog, store: FakeStore) -> None:
    provider = PolicyProvider(store)
    a, b, c = [await catalog.create(TENANT, course(name=n)) for n in "abc"]
    listed = await provider.list(TENANT, [c.id, a.id, b.id])
    assert [s.id for s in listed] == [c.id, a.id, b.id]


async def test_one_unknown_id_makes_the_policy_list_not_found(catalog: Catalog, store: FakeStore) -> None:
    provider = PolicyProvider(store)
    a = await catalog.create(TENANT, course())
    with pytest.raises(NotFound):
        await provider.list(OTHER, [a.id])


@pytest.mark.parametrize(
    "ids, field",
    [
        pytest.param([], "service_ids", id="at-least-one-id"),
        pytest.param(["3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"] * 2, "service_ids", id="no-repeated-id"),
        pytest.param(["x"], "service_ids[0]", id="ids-are-uuids"),
        pytest.param([f"00000000-0000-4000-8000-{i:012d}" for i in range(101)], "service_ids", id="at-most-100-ids"),
    ],
)
async def test_policy_list_ids_are_validated(store: FakeStore, ids: list[str], field: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        await PolicyProvider(store).list(TENANT, ids)
    assert field in {v.field for v in info.value.violations}
